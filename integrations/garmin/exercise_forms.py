"""The exercise page's forms: a filter over the user's Hevy exercises, and the choice of a FIT exercise.

Without JavaScript a name list cannot follow the category select, so the choice form shows the names of
one category (`shown`); its "Show names" button re-renders it with the category picked, and a name from
another category is refused with the right list on screen.
"""

from django import forms

from .exercises import FitExercise
from .fit_profile import categories, exercise_names

MATCHED_BY = {
    "override": "Your choice",
    "template": "Hevy's exercise list",
    "title": "Same title as a Hevy exercise",
    "keyword": "A word in the title",
    "generic": "No match: generic",
}


def label(code: str) -> str:
    """A profile name for people: `barbell_bench_press` -> "Barbell bench press"."""
    return code.replace("_", " ").capitalize()


def exercise_label(exercise: FitExercise) -> str:
    if exercise.name is None:
        return f"{label(exercise.category)} (category only)"
    return f"{label(exercise.category)}: {label(exercise.name)}"


class ExerciseFilterForm(forms.Form):
    q = forms.CharField(
        label="Title contains", max_length=100, required=False, widget=forms.TextInput(attrs={"type": "search"})
    )
    how = forms.ChoiceField(label="Matched by", required=False, choices=[("", "Any")] + list(MATCHED_BY.items()))

    def apply(self, rows: list) -> list:
        """The rows (with `.template` and `.exercise`) that match; all of them while the filter does not parse."""
        if not self.is_valid():
            return rows
        words = self.cleaned_data["q"].casefold().split()
        how = self.cleaned_data["how"]
        return [
            row
            for row in rows
            if all(word in row.template.title.casefold() for word in words)
            and (not how or row.exercise.matched_by == how)
        ]


class ExerciseChoiceForm(forms.Form):
    category = forms.ChoiceField(label="Category", choices=[(c, label(c)) for c in categories()])
    name = forms.CharField(label="Exercise", required=False, max_length=100)

    def __init__(self, *args, shown: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.shown = shown
        choices = [("", f"None: {label(shown)} alone")] + [(n, label(n)) for n in exercise_names(shown)]
        self.fields["name"].widget = forms.Select(choices=choices, attrs={"aria-describedby": "name-help"})
        self.fields["name"].label = f"Exercise in {label(shown)}"
        self.fields["name"].help_text = "None: Garmin Connect shows the category's name."

    def clean(self):
        cleaned = super().clean()
        category, name = cleaned.get("category"), cleaned.get("name") or None
        if category and name and name not in exercise_names(category):
            self.add_error(
                "name", f"“{label(name)}” is not an exercise in {label(category)}: choose one from its list."
            )
        cleaned["name"] = name
        return cleaned
