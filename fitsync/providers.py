"""The services fitsync talks to, by the names stored in the database (a module of its own so the error
types can name a service without importing the models)."""

from django.db import models


class Provider(models.TextChoices):
    HEVY = "hevy", "Hevy"
    INTERVALS = "intervals", "Intervals.icu"
    WITHINGS = "withings", "Withings"
    GARMIN = "garmin", "Garmin Connect"
