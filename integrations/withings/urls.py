app_name = "withings"
urlpatterns: list = []
