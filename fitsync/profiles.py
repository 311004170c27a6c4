"""Each person's time zone and weight unit: chosen once, then applied to every page and message.

The zone is settled at the first login: the zone a connected service reported (the first service, in
the order `fitsync.providers` declares them, whose typed meta has a `timezone`), else the browser's
(static/fitsync/zone.js keeps it in a cookie, set on the login page), else the server's TIME_ZONE. A
session older than profiles uses the same guess without saving it (a GET changes nothing). Afterwards
only the settings page changes it.
"""

from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from . import account_meta
from .models import ConnectedAccount, Profile, Provider, WeightUnit
from .units import from_kg
from .zones import is_time_zone, zone_or_none

BROWSER_ZONE_COOKIE = "fitsync_zone"


def profile_of(user) -> Profile:
    """The stored profile, or an unsaved one with the defaults (saved by login or the settings page)."""
    return Profile.objects.filter(user=user).first() or Profile(user=user)


def zone_of(user) -> ZoneInfo:  # a user or a user id
    """The user's zone for messages built outside a request (jobs); the server's until one is chosen."""
    profile = Profile.objects.filter(user=user).only("time_zone").first()
    return zone_or_none(profile and profile.time_zone) or ZoneInfo(settings.TIME_ZONE)


def reported_zone(user) -> str:
    """The first zone a connected service keeps in its meta (a `timezone` field) for this user, or ""."""
    accounts = {account.provider: account for account in ConnectedAccount.objects.filter(owner=user)}
    for provider in (
        Provider.values
    ):  # in the order services are declared: the training log's athlete zone comes before the watch's
        name = getattr(account_meta.read_service(accounts.get(provider)), "timezone", "") or ""
        if is_time_zone(name):
            return name
    return ""


def browser_zone(request: HttpRequest) -> str:
    name = request.COOKIES.get(BROWSER_ZONE_COOKIE, "")
    return name if is_time_zone(name) else ""


def guessed_zone(user, request: HttpRequest) -> str:
    return reported_zone(user) or browser_zone(request)


@receiver(user_logged_in)
def settle_zone(sender, request: HttpRequest | None, user, **kwargs) -> None:
    """At login, a profile without a zone gets the first one known, else the server's."""
    profile, _ = Profile.objects.get_or_create(user=user)
    if not profile.time_zone:
        name = (guessed_zone(user, request) if request is not None else "") or settings.TIME_ZONE
        Profile.objects.filter(pk=profile.pk, time_zone="").update(time_zone=name)


def unit_of(user) -> str:  # a user or a user id
    unit = Profile.objects.filter(user=user).values_list("weight_unit", flat=True).first()
    return unit or WeightUnit.KG


def weight_text(kilograms, unit: str, places: int = 1) -> str:
    """ "80.5 kg" or "177.5 lb"; an en dash when unknown."""
    if kilograms is None:
        return "–"
    return f"{float(from_kg(kilograms, unit)):,.{places}f} {unit}"


class TimeZoneMiddleware:
    """Renders every page in the reader's zone: the profile's once signed in, the browser's before
    (the lockout page says when logins reopen). Sets request.profile for the templates."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        request.profile = None
        if request.user.is_authenticated:
            request.profile = profile_of(request.user)
            zone = request.profile.time_zone or guessed_zone(request.user, request)
        else:
            zone = browser_zone(request)
        with timezone.override(zone_or_none(zone)):
            return self.get_response(request)


def preferences(request: HttpRequest) -> dict:
    """Template context: the weight unit and the zone every page uses."""
    profile = getattr(request, "profile", None)
    return {
        "weight_unit": profile.weight_unit if profile else WeightUnit.KG,
        "time_zone_name": timezone.get_current_timezone_name(),
    }
