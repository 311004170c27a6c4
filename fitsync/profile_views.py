"""The settings page: the time zone every page and message uses, and kg or lb."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from .models import Profile
from .profiles import profile_of
from .zones import zone_names


class ProfileForm(forms.ModelForm):
    time_zone = forms.ChoiceField(
        label="Time zone",
        choices=lambda: [(name, name.replace("_", " ")) for name in zone_names()],
        help_text="Every time fitsync shows or writes in a message is in this zone.",
    )

    class Meta:
        model = Profile
        fields = ["time_zone", "weight_unit"]
        labels = {"weight_unit": "Weights in"}
        widgets = {"weight_unit": forms.RadioSelect}


@require_http_methods(["GET", "POST"])
def profile_edit(request):
    profile = profile_of(request.user)
    # Not chosen yet: offer the zone the pages already use (a guess from a service or the browser).
    initial = {} if profile.time_zone else {"time_zone": timezone.get_current_timezone_name()}
    form = ProfileForm(request.POST or None, instance=profile, initial=initial)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Settings saved.")
        return redirect("profile")
    return render(request, "fitsync/profile_edit.html", {"form": form}, status=400 if form.errors else 200)
