"""HTML of the sandbox control page: plain forms and tables, no scripts, no external assets."""

from datetime import UTC, datetime
from html import escape

from . import control_actions as actions
from .hevy import parse_time
from .registry import DEMO_EMAIL, DEMO_HEVY_API_KEY, DEMO_WITHINGS_USERID, SERVICES, Sandbox

LEDGER_ROWS = 15
WRITTEN_ROWS = 20

STYLE = """
body { font-family: system-ui, sans-serif; color: #1d2731; margin: 0 auto; max-width: 64rem; padding: 1rem; }
h1 { margin-bottom: .25rem; } h2 { margin-top: 2rem; border-bottom: 1px solid #ccd3da; }
.note { color: #4a5560; } code, .secret { font-family: ui-monospace, monospace; }
[role=status] { background: #e7f6ea; padding: .5rem .75rem; border-radius: 4px; }
[role=alert] { background: #fde8e8; padding: .5rem .75rem; border-radius: 4px; }
.mfa { font-size: 2rem; letter-spacing: .3rem; font-family: ui-monospace, monospace; }
form { margin: .75rem 0; padding: .5rem .75rem; background: #f4f6f8; border-radius: 6px;
       display: flex; flex-wrap: wrap; gap: .4rem .75rem; align-items: center; }
input[type=text], input[type=url], select { font-size: 1rem; padding: .2rem; max-width: 100%; }
input[type=url], input.wide { width: 28rem; }
button { font-size: 1rem; padding: .35rem .9rem; border-radius: 4px; border: 1px solid #0a5fb4;
         background: #0a5fb4; color: #fff; cursor: pointer; }
button:focus-visible, input:focus-visible, select:focus-visible { outline: 3px solid #ffb000; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .9rem; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
th, td { border: 1px solid #ccd3da; padding: .2rem .5rem; text-align: left; vertical-align: top; }
"""


def render_page(sandbox: Sandbox, done: str = "", problem: str = "") -> str:
    sections = [
        "<h1>fitsync sandbox</h1>",
        '<p class="note">Fake Hevy, Intervals.icu, Withings and Garmin Connect. Nothing here leaves '
        "this machine. Reload the page to see what fitsync did.</p>",
        _message(done, problem),
        _credentials(sandbox),
        _garmin_mfa(sandbox),
        _hevy(sandbox),
        _withings(sandbox),
        _intervals_switches(sandbox),
        _faults(sandbox),
        _written(sandbox),
        _ledgers(sandbox),
    ]
    body = "\n".join(s for s in sections if s)
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>fitsync sandbox</title>\n<style>{STYLE}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


# --- building blocks ------------------------------------------------------------------------------
def _message(done: str, problem: str) -> str:
    if problem:
        return f'<p role="alert">{escape(problem)}</p>'
    return f'<p role="status">{escape(done)}</p>' if done else ""


def _table(caption: str, headers: list[str], rows: list[list], empty: str = "Nothing yet.") -> str:
    if not rows:
        return f"<p><strong>{escape(caption)}</strong>: {escape(empty)}</p>"
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    body = "\n".join("<tr>" + "".join(f"<td>{escape(_text(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table>\n<caption>{escape(caption)}</caption>\n<tr>{head}</tr>\n{body}\n</table>"


def _text(value) -> str:
    return "" if value is None else str(value)


def _form(sandbox: Sandbox, action: str, fields: str, button: str) -> str:
    url = escape(f"{sandbox.control_root}_control/{action}")
    return f'<form method="post" action="{url}">\n{fields}\n<button type="submit">{escape(button)}</button>\n</form>'


def _input(form_id: str, name: str, label: str, value: str = "", kind: str = "text", css: str = "") -> str:
    field_id = f"{form_id}-{name}"
    classes = f' class="{css}"' if css else ""
    return (
        f'<label for="{field_id}">{escape(label)}</label>'
        f'<input id="{field_id}" name="{name}" type="{kind}" value="{escape(value)}"{classes}>'
    )


def _select(form_id: str, name: str, label: str, options: list[tuple[str, str]]) -> str:
    field_id = f"{form_id}-{name}"
    items = "".join(f'<option value="{escape(v)}">{escape(text)}</option>' for v, text in options)
    return f'<label for="{field_id}">{escape(label)}</label><select id="{field_id}" name="{name}">{items}</select>'


def _clock(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


# --- sections -------------------------------------------------------------------------------------
def _credentials(sandbox: Sandbox) -> str:
    info = actions.demo_info(sandbox)
    rows = [
        ["Hevy", "API key", info["hevy"]["api_key"]],
        ["Intervals.icu", "Athlete id", info["intervals"]["athlete_id"]],
        ["Intervals.icu", "API key", info["intervals"]["api_key"]],
        ["Intervals.icu", "Or: an older all-numeric athlete id", info["intervals"]["numeric_athlete_id"]],
        ["Intervals.icu", "… and its API key", info["intervals"]["numeric_api_key"]],
        ["Withings", "Account (click “Allow this app”)", info["withings"]["account"]],
        ["Withings", "Client id (already in data/demo.env)", info["withings"]["client_id"]],
        ["Withings", "Client secret (already in data/demo.env)", info["withings"]["client_secret"]],
        ["Withings", "Registered callback URLs", ", ".join(info["withings"]["redirect_uris"])],
        ["Garmin Connect", "Email", info["garmin"]["email"]],
        ["Garmin Connect", "Password", info["garmin"]["password"]],
    ]
    return "<h2>Demo accounts</h2>\n" + _table(
        "Type these into fitsync's connect pages", ["Service", "What", "Value"], rows
    )


def _garmin_mfa(sandbox: Sandbox) -> str:
    code = sandbox.garmin.current_mfa_code(DEMO_EMAIL)
    waiting = "No Garmin sign-in is waiting for a code. Start connecting Garmin in fitsync, then reload this page."
    logins = sandbox.garmin.calls("POST", r"/api/login$")
    # Codes of abandoned sign-ins stay pending: the time tells a person which sign-in this one is for.
    asked = f" (sign-in at {_clock(logins[-1].at)})" if logins else ""
    mfa = f'<span class="mfa" aria-label="MFA code">{escape(code or "")}</span>'
    shown = f"<p>Code for the newest Garmin sign-in{asked}: {mfa}</p>" if code else f"<p>{waiting}</p>"
    return f'<h2>Garmin MFA code</h2>\n{shown}\n<p class="note">Each sign-in gets a new code: reload to see it.</p>'


def _workout_options(sandbox: Sandbox) -> list[tuple[str, str]]:
    with sandbox.hevy.lock:
        user = sandbox.hevy.users.get(DEMO_HEVY_API_KEY, {"workouts": {}})
        workouts = sorted(user["workouts"].values(), key=lambda w: parse_time(w["start_time"]), reverse=True)
    return [(w["id"], f"{w['start_time'][:16].replace('T', ' ')} · {w['title']}") for w in workouts[:10]]


def _hevy(sandbox: Sandbox) -> str:
    target, options = sandbox.hevy_webhook, _workout_options(sandbox)
    settings = (
        _input("hook", "url", "Webhook URL", target.url, "url")
        + " "
        + _input(
            "hook",
            "authorization",
            "Authorization value (empty: the one fitsync expects)",
            target.authorization,
            css="wide",
        )
    )
    forms = [
        _form(sandbox, "hevy/webhook", settings, "Save webhook settings"),
        _form(sandbox, "emit/hevy", "", "Send a webhook for the newest workout"),
        _form(
            sandbox,
            "emit/hevy",
            '<input type="hidden" name="new" value="1">'
            '<label><input type="checkbox" name="watch" value="1"> a Garmin watch recorded it too</label>',
            "Log a new workout and send its webhook",
        ),
    ]
    if options:
        edit = _select("edit", "workout_id", "Workout", options) + _input("edit", "title", "New title")
        edit += '<label><input type="checkbox" name="send_webhook" value="1"> also send a webhook</label>'
        forms.append(_form(sandbox, "hevy/edit", edit, "Edit workout"))
        forms.append(
            _form(sandbox, "hevy/delete", _select("delete", "workout_id", "Workout", options), "Delete workout")
        )
        watch = _select("watch", "workout_id", "Workout", options)
        forms.append(_form(sandbox, "garmin/watch", watch, "Record it on a Garmin watch too"))
    attempts = list(sandbox.hevy.webhook_attempts)[-10:][::-1]
    rows = [[a.workout_id, a.number, a.status or a.error, f"{a.elapsed:.2f} s"] for a in attempts]
    table = _table("Webhook deliveries, newest first", ["Workout", "Attempt", "Answer", "Took"], rows)
    note = (
        '<p class="note">Hevy is only known to send webhooks for new workouts; fitsync picks up edits and '
        "deletions from Hevy's events feed (its periodic poll, or Sync now on the dashboard).</p>"
        '<p class="note">A watch’s recording is what the Hevy → Garmin Connect route’s watch option is about: '
        "fitsync waits for it until the workout’s end plus the route’s grace minutes (its Options page), then "
        "skips, uploads alongside or merges.</p>"
    )
    return "<h2>Hevy</h2>\n" + "\n".join(forms) + "\n" + note + "\n" + table


def _withings(sandbox: Sandbox) -> str:
    form = _form(
        sandbox,
        "emit/withings",
        _input("scale", "weight_kg", "Weight in kg (empty: near the last one)"),
        "Step on the scale",
    )
    form += "\n" + _form(sandbox, "withings/delete", "", "Delete the latest weigh-in")
    subscriptions = sandbox.withings.subscriptions.of_user(DEMO_WITHINGS_USERID)
    subs = _table(
        "Notification subscriptions",
        ["Appli", "Callback URL", "Failures in a row"],
        [[s.appli, s.callbackurl, s.consecutive_failures] for s in subscriptions],
        empty="none yet: connecting Withings in fitsync subscribes its callback.",
    )
    deliveries = list(sandbox.withings.deliveries)[-10:][::-1]
    rows = [[d.callbackurl, d.attempts, d.status or d.error, "dropped" if d.dropped else ""] for d in deliveries]
    table = _table("Notifications sent, newest first", ["Callback", "Attempts", "Answer", "Subscription"], rows)
    return "<h2>Withings scale</h2>\n" + "\n".join((form, subs, table))


def _intervals_switches(sandbox: Sandbox) -> str:
    """Unconfirmed upstream behaviours, the current setting listed first."""
    current = actions.intervals_switches(sandbox)

    def options(choices: dict, chosen: str) -> list[tuple[str, str]]:
        return sorted(choices.items(), key=lambda item: item[0] != chosen)

    fields = _select("switches", "bulk", "Bulk upload", options(actions.INTERVALS_BULK, current["bulk"]))
    fields += _select(
        "switches", "name_unit", "Names over 80 counted in", options(actions.INTERVALS_NAME_UNITS, current["name_unit"])
    )
    fields += _select(
        "switches", "wellness_put", "A wellness PUT", options(actions.INTERVALS_WELLNESS_PUTS, current["wellness_put"])
    )
    note = '<p class="note">Behaviours Intervals.icu leaves unconfirmed (for personal API keys, or in practice).</p>'
    return "<h2>Intervals.icu behaviour</h2>\n" + note + _form(sandbox, "intervals/switches", fields, "Apply")


def _faults(sandbox: Sandbox) -> str:
    services = [(name, name) for name in SERVICES]
    kinds = [(kind, label) for kind, (label, _) in actions.FAULT_KINDS.items()]
    fields = _select("break", "service", "Service", services) + _select("break", "kind", "Fault", kinds)
    fields += _input("break", "path", "Only paths matching (regex, optional)")
    heal = _select("heal", "service", "Service", [("all", "every service"), *services])
    rows = [
        [f["service"], _describe(f), f["path"] or "every path", f["times"]] for f in actions.pending_faults(sandbox)
    ]
    return "\n".join(
        (
            "<h2>Break an upstream</h2>",
            _form(sandbox, "fault", fields, "Break it"),
            _form(sandbox, "heal", heal, "Heal"),
            _table(
                "Faults waiting to happen",
                ["Service", "Fault", "Paths", "Calls left"],
                rows,
                empty="none: all healthy.",
            ),
        )
    )


def _describe(fault: dict) -> str:
    if fault["reset"]:
        return "connection reset"
    if fault["blackhole"]:
        return "no answer"
    retry = f", Retry-After {fault['retry_after']}" if fault["retry_after"] is not None else ""
    return f"HTTP {fault['status']}{retry}"


def _written(sandbox: Sandbox) -> str:
    data = actions.written(sandbox)
    activities = data["intervals_activities"][-WRITTEN_ROWS:][::-1]
    rows = [
        [a.get("id"), a.get("name"), a.get("start_date_local"), a.get("type"), a.get("external_id")] for a in activities
    ]
    weigh_ins = data["garmin_weigh_ins"][-WRITTEN_ROWS:][::-1]
    weights = [
        [w["calendarDate"], _clock(w["timestampGMT"] / 1000), _kg(w["weight"]), w["bodyFat"], w["sourceType"]]
        for w in weigh_ins
    ]
    return "\n".join(
        (
            "<h2>Written by fitsync</h2>",
            _table(
                f"Intervals.icu activities ({len(data['intervals_activities'])}), newest first",
                ["Id", "Name", "Local start", "Type", "External id"],
                rows,
            ),
            _wellness_table(data["intervals_wellness"]),
            _table(
                f"Garmin weigh-ins ({len(data['garmin_weigh_ins'])}), newest first",
                ["Day", "Time", "Weight", "Body fat %", "Source"],
                weights,
            ),
            _table(
                f"Garmin activities ({len(data['garmin_activities'])}), newest first",
                ["Id", "Name", "Start", "Minutes", "kcal", "Avg HR", "Made by"],
                [
                    [
                        a["activityId"],
                        a["activityName"],
                        _clock(parse_time(a["start"]).timestamp()),
                        round(a["duration"] / 60),
                        a["calories"],
                        a["averageHR"],
                        a["manufacturer"],
                    ]
                    for a in data["garmin_activities"][-WRITTEN_ROWS:][::-1]
                ],
            ),
        )
    )


def _wellness_table(days: list[dict]) -> str:
    """The wellness days at Intervals.icu: weight and body fat, and any other field (custom ones) set."""
    shown = ("id", "weight", "bodyFat", "updated")
    rows = [
        [
            day["id"],
            day.get("weight"),
            day.get("bodyFat"),
            ", ".join(f"{k} {v}" for k, v in day.items() if k not in shown and v is not None),
            day.get("updated"),
        ]
        for day in days[-WRITTEN_ROWS:][::-1]
    ]
    return _table(
        f"Intervals.icu wellness days ({len(days)}), newest first",
        ["Day", "Weight (kg)", "Body fat %", "Other fields", "Updated"],
        rows,
    )


def _kg(grams) -> str:
    return "" if grams is None else f"{grams / 1000:.2f} kg"


def _ledgers(sandbox: Sandbox) -> str:
    tables = []
    for name, entries in actions.ledger(sandbox, limit=LEDGER_ROWS).items():
        rows = [[_clock(e["at"]), e["method"], e["path"], e["status"] or "no answer"] for e in entries]
        tables.append(_table(f"{name}: last calls, newest first", ["Time", "Method", "Path", "Status"], rows))
    return "<h2>Calls received</h2>\n" + "\n".join(tables)
