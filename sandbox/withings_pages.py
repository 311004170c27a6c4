"""HTML of the fake Withings account pages: the authorize (consent) page and its error page."""

from html import escape

from .core import Response, text_response

SCOPE_DESCRIPTIONS = {
    "user.info": "Your profile: name, height, birth date",
    "user.metrics": "Your body measurements: weight and body composition",
    "user.activity": "Your activity: steps, workouts, heart rate",
    "user.sleepevents": "Your sleep data",
}

FORWARDED_FIELDS = ("response_type", "client_id", "state", "scope", "redirect_uri")

STYLE = """
body { font-family: system-ui, sans-serif; background: #f4f6f8; color: #1d2731; margin: 0; }
main { max-width: 28rem; margin: 3rem auto; background: #fff; padding: 1.5rem 2rem;
       border-radius: 8px; box-shadow: 0 1px 4px rgba(0, 0, 0, .12); }
h1 { font-size: 1.35rem; }
.sandbox { background: #fff6d6; padding: .5rem .75rem; border-radius: 4px; font-size: .9rem; }
label, select { display: block; margin: .25rem 0 1rem; font-size: 1rem; }
.actions { display: flex; gap: .75rem; }
button { font-size: 1rem; padding: .55rem 1.1rem; border-radius: 4px; border: 1px solid #0a5fb4;
         cursor: pointer; }
button[value=allow] { background: #0a5fb4; color: #fff; }
button[value=deny] { background: #fff; color: #0a5fb4; }
button:focus-visible { outline: 3px solid #ffb000; outline-offset: 2px; }
"""


def _page(title: str, content: str) -> str:
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
        f"<body>\n<main>\n{content}\n</main>\n</body>\n</html>\n"
    )


def _hidden_fields(params: dict[str, str]) -> str:
    return "\n".join(
        f'<input type="hidden" name="{name}" value="{escape(params.get(name, ""))}">' for name in FORWARDED_FIELDS
    )


def _user_chooser(users: list[tuple[int, str]]) -> str:
    if len(users) == 1:
        userid, email = users[0]
        return (
            f"<p>Signed in as <strong>{escape(email)}</strong>.</p>\n"
            f'<input type="hidden" name="userid" value="{userid}">'
        )
    options = "\n".join(f'<option value="{uid}">{escape(email)}</option>' for uid, email in users)
    return f'<label for="userid">Withings account</label>\n<select id="userid" name="userid">\n{options}\n</select>'


def authorize_page(params: dict[str, str], scopes: list[str], users: list[tuple[int, str]]) -> Response:
    """The consent page; its form posts back to the same path with every parameter kept."""
    client_id = params["client_id"]
    items = "\n".join(f"<li>{escape(SCOPE_DESCRIPTIONS[s])} <small>({escape(s)})</small></li>" for s in scopes)
    content = (
        f"<h1>Allow {escape(client_id)} to access your Withings data?</h1>\n"
        '<p class="sandbox">Sandbox: fitsync\'s fake Withings, no real account is used.</p>\n'
        f"<p>The app <strong>{escape(client_id)}</strong> asks for:</p>\n<ul>\n{items}\n</ul>\n"
        '<form method="post" action="authorize2">\n'
        f"{_hidden_fields(params)}\n{_user_chooser(users)}\n"
        '<div class="actions">\n'
        '<button type="submit" name="decision" value="allow">Allow this app</button>\n'
        '<button type="submit" name="decision" value="deny">Deny</button>\n'
        "</div>\n</form>"
    )
    return text_response(_page("Withings - authorize an app", content), 200, "text/html")


def error_page(message: str, status: int = 400) -> Response:
    """Shown instead of a redirect when the request cannot be trusted (unknown redirect_uri...)."""
    content = (
        "<h1>This authorization request is not valid</h1>\n"
        f'<p role="alert">{escape(message)}</p>\n'
        "<p>Go back to the app and start the connection again.</p>"
    )
    return text_response(_page("Withings - authorization error", content), status, "text/html")
