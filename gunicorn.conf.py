"""gunicorn settings, read from the working directory by `./fitsync.sh run`, the container and the tests.

The access log masks the Withings webhook token (the URL path, and the only proof a notification carries)
and OAuth `code`/`state` query values (in the callback's URL, and in the Referer of the page after it);
fitsync/security.py does the same for Django's own logs and error reports.
"""

import os
import re

from gunicorn.glogging import Logger

# A request is read whole in the worker's main loop before a thread runs it: a client that stalls mid-
# request holds no thread (fitsync/whole_request_worker.py).
worker_class = "fitsync.whole_request_worker.WholeRequestWorker"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = 4
accesslog = "-"
# No gunicornc control socket: nothing here uses it, and it would be one more way in (and one shared path
# for every instance on the machine).
control_socket_disable = True

WEBHOOK_TOKEN_IN_PATH = re.compile(r"(/webhooks/withings/)[^/\s'\"?&]+")
OAUTH_VALUE_IN_QUERY = re.compile(r"((?:^|[?&;])(?:code|state)=)[^&;\s'\"]*", re.IGNORECASE)


def redact(value: str) -> str:
    return OAUTH_VALUE_IN_QUERY.sub(r"\1********", WEBHOOK_TOKEN_IN_PATH.sub(r"\1********", value))


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()}


logger_class = RedactingLogger
