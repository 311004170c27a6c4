"""The exercise page: each of the user's Hevy exercises, the Garmin exercise fitsync writes for it and why,
and the user's own choice in its place (`exercise_overrides`), for the Hevy → Garmin Connect route.

The list comes from Hevy (`integrations.hevy.template_list`, kept a few minutes); when Hevy is not
connected or fails, the page says so and what to do.
"""

from dataclasses import dataclass
from math import ceil

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fitsync.errors import AuthExpired, RateLimited, TransientError, UpstreamError
from fitsync.models import ConnectedAccount, Provider
from integrations.hevy import template_list
from integrations.hevy.client import ExerciseTemplate

from .exercise_forms import MATCHED_BY, ExerciseChoiceForm, ExerciseFilterForm, exercise_label
from .exercise_overrides import choose, forget, overrides_of, strength_route
from .exercises import FitExercise, exercise_for
from .fit_profile import categories

PAGE_SIZE = 50
LIST_KEYS = ("q", "how", "page")  # what the way back to the list keeps of its address


@dataclass(frozen=True)
class Row:
    template: ExerciseTemplate
    exercise: FitExercise

    @property
    def label(self) -> str:
        return exercise_label(self.exercise)

    @property
    def how(self) -> str:
        return MATCHED_BY[self.exercise.matched_by]


@require_GET
def exercise_list(request):
    hevy, problem = _templates(request.user)
    if problem:
        return _problem_page(request, problem)
    form = ExerciseFilterForm(request.GET or None)
    overrides = overrides_of(request.user.pk)
    rows = form.apply([Row(t, exercise_for(t.id, t.title, overrides)) for t in hevy])
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "back": request.GET.urlencode(),
        "total": len(hevy),
        "chosen": len(overrides),
        "route": strength_route().name,
    }
    return render(request, "garmin/exercises.html", context, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def exercise_edit(request, template_id: str):
    hevy, problem = _templates(request.user)
    if problem:
        return _problem_page(request, problem)
    template = next((t for t in hevy if t.id == template_id), None)
    if template is None:
        raise Http404("No such exercise in your Hevy account")
    current = exercise_for(template.id, template.title, overrides_of(request.user.pk))
    posted, showing = request.POST.get("category"), "show" in request.POST
    form = ExerciseChoiceForm(
        {"category": posted or ""} if showing else request.POST or None,  # showing names judges the category only
        shown=posted if posted in categories() else current.category,
        initial={"category": current.category, "name": current.name or ""},
    )
    back = request.POST.get("back", request.GET.get("back", ""))
    if request.method == "POST" and not showing and form.is_valid():
        chosen = form.cleaned_data
        choose(request.user, template.id, chosen["category"], chosen["name"])
        picked = exercise_label(FitExercise(chosen["category"], chosen["name"]))
        messages.success(request, f"{template.title} now becomes {picked} in Garmin Connect.")
        return redirect(_list_url(back))
    context = {
        "template": template,
        "current": Row(template, current),
        "automatic": Row(template, exercise_for(template.id, template.title)),
        "form": form,
        "back": back,
        "list_url": _list_url(back),
    }
    refused = request.method == "POST" and bool(form.errors)
    return render(request, "garmin/exercise_edit.html", context, status=400 if refused else 200)


@require_POST
def exercise_automatic(request, template_id: str):
    """Forget the user's choice: the automatic one applies again."""
    if template_id in overrides_of(request.user.pk):
        forget(request.user, template_id)
        title = request.POST.get("title", "") or "The exercise"
        messages.success(request, f"{title} is back to fitsync's automatic choice.")
    return redirect(_list_url(request.POST.get("back", "")))


@require_POST
def exercise_reload(request):
    hevy = _hevy_account(request.user)
    if hevy is not None:
        template_list.forget(hevy)
    return redirect(_list_url(request.POST.get("back", "")))


def _problem_page(request, problem: dict):
    """Hevy not connected or failing: said on the page (a 200, as the options page says a destination's
    failure), with what to do."""
    return render(request, "garmin/exercises.html", {"problem": problem, "route": strength_route().name})


# --- Hevy ---------------------------------------------------------------------------------------------
def _hevy_account(user) -> ConnectedAccount | None:
    return ConnectedAccount.objects.filter(owner=user, provider=Provider.HEVY).first()


def _templates(user) -> tuple[list[ExerciseTemplate], dict | None]:
    """The user's Hevy templates, or what stands in the way ({"text", "connect": link to Hevy's page,
    "failed": Hevy answered with an error})."""
    account = _hevy_account(user)
    if account is None or not account.is_connected:
        text = "Connect Hevy first: this page lists the exercises of your Hevy account."
        if account is not None:
            text = "Hevy needs reconnecting before this page can list your exercises."
        return [], {"text": text, "connect": True, "failed": False}
    try:
        return template_list.templates_of(account), None
    except UpstreamError as exc:
        return [], {"text": _hevy_failed(exc), "connect": isinstance(exc, AuthExpired), "failed": True}


def _hevy_failed(exc: UpstreamError) -> str:
    if isinstance(exc, RateLimited):
        wait = f"in {ceil(exc.retry_after)} seconds" if exc.retry_after else "in a minute"
        return f"Hevy is asking fitsync to slow down, so your exercises could not be listed. Try again {wait}."
    if isinstance(exc, AuthExpired):
        return f"Hevy refused fitsync's API key ({exc}). Connect Hevy again to list your exercises."
    if isinstance(exc, TransientError):
        return f"Hevy did not list your exercises ({exc}). Try again in a minute."
    return f"Hevy refused to list your exercises ({exc})."


def _list_url(back: str) -> str:
    """The list, at the filter and page it was left at (only its own keys: never another address)."""
    kept = QueryDict(mutable=True)
    given = QueryDict(back)
    for key in LIST_KEYS:
        if given.get(key):
            kept[key] = given[key]
    url = reverse("garmin:exercises")
    return f"{url}?{kept.urlencode()}" if kept else url
