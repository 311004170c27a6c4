from django.urls import path

from . import views

app_name = "intervals"
urlpatterns = [
    path("intervals/", views.connect, name="connect"),
]
