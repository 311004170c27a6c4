"""A confirmation step for actions that cannot be undone: the first POST asks, the second one acts.

The question is a page of its own (no JavaScript: the content security policy allows no inline script),
whose form posts the same fields again with `confirm=yes`. A POST without it changes nothing.
"""

from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

CONFIRM_FIELD = "confirm"


@dataclass
class Question:
    heading: str  # "Disconnect the service?"
    consequence: str  # what breaks, in plain words
    button: str  # the words on the button that acts: "Disconnect"
    cancel_url: str


def is_confirmed(request: HttpRequest) -> bool:
    return request.POST.get(CONFIRM_FIELD) == "yes"


def ask(request: HttpRequest, question: Question) -> HttpResponse:
    """The page that asks; its form posts back to the same URL with the same fields, confirmed."""
    fields = [
        (name, value) for name, value in request.POST.items() if name not in ("csrfmiddlewaretoken", CONFIRM_FIELD)
    ]
    context = {"question": question, "action": request.path, "fields": fields}
    return render(request, "fitsync/confirm.html", context)
