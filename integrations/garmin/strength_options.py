"""The Hevy → Garmin Connect route's options page: what to do when a watch recorded the same session."""

from django import forms

from .strength_destination import StrengthOptions


class StrengthOptionsForm(forms.Form):
    # More of the route's choices, on pages of their own: (URL name, link text, what it is for).
    see_also = (
        (
            "garmin:exercises",
            "Exercises in Garmin Connect",
            "Which Garmin exercise each of your Hevy exercises becomes, and your own choice where it is wrong.",
        ),
    )

    watch = forms.ChoiceField(
        label="When your watch recorded the same workout",
        choices=[
            ("skip", "Skip it: keep the watch's activity, upload nothing"),
            ("alongside", "Upload alongside: both activities stay (the session counts twice)"),
            ("merge", "Merge: Hevy's sets with the watch's heart rate and calories, replacing the watch's activity"),
        ],
        initial=StrengthOptions.watch,
        widget=forms.RadioSelect,
        help_text="A strength activity at Garmin that overlaps the workout and that fitsync did not make.",
    )
    grace_minutes = forms.IntegerField(
        label="Wait for the watch (minutes after the workout ends)",
        min_value=0,
        max_value=24 * 60,
        initial=StrengthOptions.grace_minutes,
        help_text="Time for the watch's recording to reach Garmin before fitsync looks for it.",
    )
