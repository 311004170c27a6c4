app_name = "intervals"
urlpatterns: list = []
