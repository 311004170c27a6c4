"""gunicorn settings, read from the working directory by `./fitsync.sh run`, the container and the tests.

The access log masks the Withings webhook token: it is the URL path, and the only proof a notification
carries (fitsync/security.py does the same for Django's own logs and error reports).
"""

import re

from gunicorn.glogging import Logger

WEBHOOK_TOKEN_IN_PATH = re.compile(r"(/webhooks/withings/)[^/\s'\"?&]+")


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {
            key: WEBHOOK_TOKEN_IN_PATH.sub(r"\1********", value) if isinstance(value, str) else value
            for key, value in atoms.items()
        }


logger_class = RedactingLogger
