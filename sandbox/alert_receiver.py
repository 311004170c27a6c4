"""A notification endpoint for alert tests: takes what Apprise's `json://` URL posts and keeps it.

Mount it on a `SandboxServer` and point an Apprise URL at it: `json://127.0.0.1:<port>/alerts/`.
Faults (`add_fault(status=500)`) make it refuse, as a real service sometimes does.
"""

from .core import FakeService, Request, Response, json_response


class AlertReceiver(FakeService):
    name = "alerts"

    def __init__(self):
        super().__init__()
        self.route("POST", r"/?", self.receive)

    def receive(self, request: Request) -> Response:
        return json_response({"received": True})

    def messages(self) -> list[dict]:
        """What arrived, oldest first: Apprise's JSON (title, message, type)."""
        return [entry.json() for entry in self.calls("POST") if entry.status == 200]

    def titles(self) -> list[str]:
        return [message["title"] for message in self.messages()]
