"""What an upload of a strength workout keeps in `item.sent` about its exercises, and the item page's words
for all of `item.sent` (as `strength_destination` writes it): the activity, its calories and where they came
from, what became of the watch's recording, and each Hevy exercise as Garmin Connect shows it."""

from fitsync.roles import SentSummary

from .exercises import FitExercise
from .strength_activity import StrengthActivity

WATCH_CHOICES = {"alongside": "upload alongside", "merge": "merge", "skip": "skip"}


def exercises_sent(activity: StrengthActivity) -> list[list]:
    """[Hevy's title, Garmin's exercise, sets] per exercise, in the order of the file's laps."""
    return [
        [lap.title, garmin_exercise(lap.exercise), sum(not one_set.rest for one_set in lap.sets)]
        for lap in activity.laps
    ]


def garmin_exercise(exercise: FitExercise) -> str:
    """The FIT exercise in words: its name ("Barbell bench press"), or its category where it has no name."""
    if exercise.name:
        return words(exercise.name)
    return f"{words(exercise.category)} (category only)"


def words(fit_name: str) -> str:
    return fit_name.replace("_", " ").strip().capitalize()


def strength_summary(sent: dict) -> SentSummary:
    watch = sent.get("watch") if isinstance(sent.get("watch"), dict) else None
    if watch and watch.get("mode") == "skip":
        return SentSummary({"Uploaded": "Nothing", "Your watch": watch_text(watch)})
    facts = {"Name": str(sent.get("title") or "–"), "Start": str(sent.get("start") or "–")}
    facts["Calories"] = calories_text(sent.get("calories"))
    if "watch" in sent:
        facts["Your watch"] = watch_text(watch)
    if sent.get("replaced"):
        facts["Replaced"] = f"Activity {sent['replaced']}, the version before"
    if sent.get("deleted"):
        facts["Deleted"] = "The workout was deleted in Hevy: fitsync deleted this activity at Garmin Connect"
    rows = [(str(title), str(garmin), str(sets)) for title, garmin, sets in sent.get("exercises") or []]
    return SentSummary(facts, "Exercises as Garmin Connect shows them", ("In Hevy", "At Garmin Connect", "Sets"), rows)


def calories_text(calories) -> str:
    calories = calories if isinstance(calories, dict) else {}
    kcal, source = calories.get("kcal"), calories.get("source")
    if kcal is None:
        return "None: fitsync estimates them from your latest Withings weight, and had none"
    if source == "watch":
        return f"{kcal} kcal, measured by your watch"
    return f"{kcal} kcal, estimated from the workout's length and your latest Withings weight"


def watch_text(watch: dict | None) -> str:
    if not watch:
        return "No recording of it was found at Garmin Connect"
    mode = watch.get("mode", "")
    named = f"activity {watch.get('activity_id')} (“{watch.get('name') or 'Strength'}”)"
    if mode == "skip":
        return f"Its {named} has this workout, so fitsync uploaded no second one (watch option: skip)"
    if mode == "merge":
        samples = watch.get("heart_rate_samples")
        rate = f"heart rate ({samples} samples)" if samples else "heart rate"
        gone = "was deleted" if watch.get("deleted") else "is deleted once this one is in place"
        return f"Merged with its {named}: its {rate} and calories are in this activity, and that one {gone}"
    return f"Its {named} stays beside this one (watch option: {WATCH_CHOICES.get(mode, mode)})"
