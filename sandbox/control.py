"""The sandbox control page and its JSON twins, served at the root of the sandbox server.

    GET  /                      the page: demo credentials, Garmin MFA code, buttons, ledgers
    GET  /_control/demo         credentials and the pending Garmin MFA code, as JSON
    GET  /_control/ledger       the last calls each fake received (?service=hevy&limit=50)
    POST /_control/emit/hevy    {"workout_id"?, "new"?: true, "watch"?: true, "url"?, "authorization"?}
                                (watch: a Garmin watch recorded the new workout too)
    POST /_control/emit/withings  {"weight_kg"?}: step on the scale, notify subscribers
    POST /_control/withings/delete  delete the latest weigh-in in the Withings app, notify subscribers
    POST /_control/fault        {"service", "kind": 503x3|429|reset|blackhole, "path"?}
    POST /_control/heal         {"service"?}: clear faults (every service when omitted)
    POST /_control/hevy/webhook, /_control/hevy/edit, /_control/hevy/delete   page forms
    POST /_control/intervals/switches  {"bulk": upsert|create, "name_unit": utf16|codepoints|utf8,
                                        "wellness_put": partial|replace}

A JSON body gets a JSON answer and waits for webhook deliveries; an HTML form gets a 303 back to the
page (deliveries then run in the background, so the page never hangs on a slow receiver).
"""

from typing import Callable
from urllib.parse import urlencode

from . import control_actions as actions
from .control_page import render_page
from .core import FakeService, Request, Response, json_response, text_response
from .registry import Sandbox

TRUE = ("1", "true", "on", "yes")


class ControlService(FakeService):
    name = "control"

    def __init__(self, sandbox: Sandbox):
        super().__init__()
        self.sandbox = sandbox
        self.route("GET", "/", self._page)
        self.route("GET", "/_control/demo", lambda request: json_response(actions.demo_info(sandbox)))
        self.route("GET", "/_control/ledger", self._ledger)
        self._action("/_control/emit/hevy", self._emit_hevy)
        self._action("/_control/emit/withings", self._emit_withings)
        self._action("/_control/withings/delete", self._delete_weigh_in)
        self._action("/_control/fault", self._fault)
        self._action("/_control/heal", self._heal)
        self._action("/_control/hevy/webhook", self._hevy_webhook)
        self._action("/_control/hevy/edit", self._edit)
        self._action("/_control/hevy/delete", self._delete)
        self._action("/_control/garmin/watch", self._watch)
        self._action("/_control/intervals/switches", self._intervals_switches)

    def handle(self, request: Request) -> Response:
        # Nobody inspects the control page's own calls: keep only the last few, not a day's worth.
        response = super().handle(request)
        with self.lock:
            del self.ledger[:-100]
        return response

    def _action(self, path: str, perform: Callable[[dict], tuple[dict, str]]) -> None:
        def handler(request: Request) -> Response:
            wants_json = _is_json(request)
            try:
                params = _params(request, wants_json)
                data, message = perform(params)
            except (ValueError, KeyError) as problem:
                text = problem.args[0] if problem.args else str(problem)
                if wants_json:
                    return json_response({"error": str(text)}, 400)
                return self._back(problem=str(text))
            return json_response(data) if wants_json else self._back(done=message)

        self.route("POST", path, handler)

    def _back(self, **message: str) -> Response:
        return Response(303, b"", {"Location": f"{self.sandbox.control_root}?{urlencode(message)}"})

    # --- pages and JSON reads -----------------------------------------------------------------
    def _page(self, request: Request) -> Response:
        query = request.query
        html = render_page(self.sandbox, done=query.get("done", ""), problem=query.get("problem", ""))
        response = text_response(html, content_type="text/html")
        response.headers["Cache-Control"] = "no-store"  # the MFA code must be fresh on every load
        return response

    def _ledger(self, request: Request) -> Response:
        try:
            limit = int(request.query.get("limit") or 50)
            return json_response(actions.ledger(self.sandbox, request.query.get("service", ""), limit))
        except ValueError as problem:
            return json_response({"error": str(problem)}, 400)

    # --- actions: params in, (JSON data, page message) out ------------------------------------
    def _emit_hevy(self, params: dict) -> tuple[dict, str]:
        if "url" in params or "authorization" in params:
            actions.set_hevy_webhook(self.sandbox, params.get("url"), params.get("authorization"))
        new, watch = (str(params.get(flag, "")).lower() in TRUE for flag in ("new", "watch"))
        data = actions.emit_hevy(self.sandbox, params.get("workout_id", ""), new=new, wait=params["_wait"], watch=watch)
        what = "a new workout" if new else f"workout {data['workout_id']}"
        recorded = data.get("watch_activity")
        also = f" A Garmin watch recorded it too: activity {recorded['activityId']}." if recorded else ""
        return data, f"Sending Hevy's webhook for {what} to {data['url']}.{also}"

    def _emit_withings(self, params: dict) -> tuple[dict, str]:
        data = actions.step_on_scale(self.sandbox, params.get("weight_kg"), wait=params["_wait"])
        if not data["subscribers"]:
            return data, f"Weighed {data['weight_kg']} kg. No subscriber to notify: connect Withings in fitsync first."
        return data, f"Weighed {data['weight_kg']} kg; notifying {', '.join(data['subscribers'])}."

    def _delete_weigh_in(self, params: dict) -> tuple[dict, str]:
        data = actions.delete_latest_weigh_in(self.sandbox, wait=params["_wait"])
        shape, window = self.sandbox.withings.deletion_shape, self.sandbox.withings.deletion_window
        return data, (
            f"Deleted weigh-in {data['grpid']} (getmeas: {shape}; notification window: {window}). fitsync deletes "
            "its copies at once when the notification names its date, else at its 6-hourly reconcile or Sync now."
        )

    def _fault(self, params: dict) -> tuple[dict, str]:
        data = actions.add_fault(
            self.sandbox, params.get("service", ""), params.get("kind", ""), params.get("path", "")
        )
        label = actions.FAULT_KINDS[data["kind"]][0]
        return data, f"Broke {data['service']}: {label}."

    def _heal(self, params: dict) -> tuple[dict, str]:
        data = actions.heal(self.sandbox, params.get("service", ""))
        return data, f"Healed {', '.join(data['healed'])}: no faults left."

    def _hevy_webhook(self, params: dict) -> tuple[dict, str]:
        data = actions.set_hevy_webhook(self.sandbox, params.get("url"), params.get("authorization"))
        return data, f"Hevy webhooks now go to {data['url']}."

    def _edit(self, params: dict) -> tuple[dict, str]:
        workout = actions.edit_workout(self.sandbox, params.get("workout_id", ""), params.get("title", ""))
        message = f"Renamed workout to “{workout['title']}”."
        if str(params.get("send_webhook", "")).lower() in TRUE:
            actions.emit_hevy(self.sandbox, workout["id"], wait=params["_wait"])
            message += " Sent its webhook."
        return workout, message

    def _delete(self, params: dict) -> tuple[dict, str]:
        event = actions.delete_workout(self.sandbox, params.get("workout_id", ""))
        return event, f"Deleted workout {event['id']}."

    def _watch(self, params: dict) -> tuple[dict, str]:
        data = actions.record_on_watch(self.sandbox, params.get("workout_id", ""))
        activity = data["activity"]
        return data, (
            f"The watch recorded workout {data['workout_id']} too: Garmin activity {activity['activityId']}, "
            f"{activity['calories']} kcal, average heart rate {activity['averageHR']}."
        )

    def _intervals_switches(self, params: dict) -> tuple[dict, str]:
        data = actions.set_intervals_switches(
            self.sandbox, params.get("bulk", ""), params.get("name_unit", ""), params.get("wellness_put", "")
        )
        bulk, unit = actions.INTERVALS_BULK[data["bulk"]], actions.INTERVALS_NAME_UNITS[data["name_unit"]]
        put = actions.INTERVALS_WELLNESS_PUTS[data["wellness_put"]]
        return data, f"Intervals.icu's bulk upload now {bulk}; names are counted in {unit}; a wellness PUT {put}."


def _is_json(request: Request) -> bool:
    return (request.header("content-type") or "").startswith("application/json")


def _params(request: Request, wants_json: bool) -> dict:
    """The JSON object or form fields; `_wait` says whether to wait for deliveries."""
    if wants_json:
        try:
            params = request.json() if request.body.strip() else {}
        except (ValueError, UnicodeDecodeError):
            raise ValueError("The body is not JSON") from None
        if not isinstance(params, dict):
            raise ValueError("The body must be a JSON object")
    else:
        params = request.params()
    wait = params.get("wait", wants_json)
    return {**params, "_wait": wait is True or str(wait).lower() in TRUE}


def mount_table(sandbox: Sandbox, with_control: bool = True) -> dict[str, FakeService]:
    """Path prefix -> fake, for `SandboxServer`; the control page takes the root, so it comes last."""
    mounts: dict[str, FakeService] = dict(sandbox.fakes())
    if with_control:
        mounts[""] = ControlService(sandbox)
    return mounts
