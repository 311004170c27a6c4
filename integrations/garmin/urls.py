app_name = "garmin"
urlpatterns: list = []
