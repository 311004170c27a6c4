app_name = "hevy"
urlpatterns: list = []
