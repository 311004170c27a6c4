"""Reading a Withings notification: urlencoded or multipart form-data, lenient about its fields.

Withings' older guide says the parameters come "as form-data"; its newer overview says
application/x-www-form-urlencoded. Both are read here, without Django's request.POST (so no upload
handler runs and a file part is skipped, never read as a field). A missing or unreadable value is None;
the caller decides what that means. See docs/upstream.md, "Withings".
"""

from dataclasses import dataclass
from email import policy
from email.errors import MessageError
from email.parser import BytesParser
from email.utils import collapse_rfc2231_value
from urllib.parse import parse_qs

BODY_LIMIT = 8192  # a real notification is about 100 bytes; multipart framing adds a few hundred
NUMBER_FIELDS = ("userid", "appli", "startdate", "enddate")


@dataclass(frozen=True)
class Notification:
    body: bytes
    userid: int | None = None
    appli: int | None = None
    startdate: int | None = None
    enddate: int | None = None
    problem: str = ""  # why the body could not be read in full, for the log


def read_notification(request) -> Notification:
    """The notification in `request`, read from at most BODY_LIMIT bytes of its body."""
    declared = request.headers.get("Content-Length") or "0"
    if not declared.isascii() or not declared.isdigit() or int(declared) > BODY_LIMIT:
        return Notification(b"", problem=f"body over {BODY_LIMIT} bytes not read")
    body = request.read(BODY_LIMIT + 1)
    if len(body) > BODY_LIMIT:
        return Notification(body[:BODY_LIMIT], problem=f"body over {BODY_LIMIT} bytes not read")
    fields, problem = form_fields(request.META.get("CONTENT_TYPE", ""), body)
    numbers = {name: integer(fields.get(name)) for name in NUMBER_FIELDS}
    unusable = [name for name, value in numbers.items() if value is None]
    if unusable and not problem:
        problem = f"no usable {', '.join(unusable)}"
    return Notification(body, problem=problem, **numbers)


def integer(value: str | None) -> int | None:
    """1-20 ASCII digits as an int, else None (str.isdigit alone takes "١" too)."""
    value = (value or "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 20 else None


def form_fields(content_type: str, body: bytes) -> tuple[dict[str, str], str]:
    """The body's text fields (the last value of a repeated name) and a problem, if any."""
    if content_type.strip().lower().startswith("multipart/"):
        return multipart_fields(content_type, body)
    return urlencoded_fields(body)


def urlencoded_fields(body: bytes) -> tuple[dict[str, str], str]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return {}, "body is not UTF-8"
    return {name: values[-1] for name, values in parse_qs(text, keep_blank_values=True).items()}, ""


def multipart_fields(content_type: str, body: bytes) -> tuple[dict[str, str], str]:
    """Text parts of a multipart/form-data body; parts with a filename are skipped."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1", "replace")
    try:
        message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
        if not message.is_multipart():
            return {}, "multipart body without parts"
        return dict(_text_parts(message)), ""
    except (MessageError, LookupError, ValueError, TypeError, AttributeError) as error:
        return {}, f"unreadable multipart body ({type(error).__name__})"


def _text_parts(message):
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if name and part.get_filename() is None and isinstance(payload, bytes):
            yield collapse_rfc2231_value(name), payload.decode("utf-8", "replace")
