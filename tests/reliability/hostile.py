"""A seeded generator of hostile webhook requests: random bytes, wrong content types, oversize bodies,
wrong or missing auth, wrong methods, unicode, huge headers, lying Content-Length values, JSON nested
past the parser's recursion limit; and of hostile query strings for the pages (dates out of range,
huge numbers, NUL)."""

import json
import random
import string
from dataclasses import dataclass, field

METHODS = ["POST"] * 6 + ["GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
CONTENT_TYPES = [
    "application/json",
    "application/x-www-form-urlencoded",
    "text/plain",
    "text/html",
    "application/xml",
    "multipart/form-data",
    "multipart/form-data; boundary=",
    "multipart/form-data; boundary=xyz",
    "application/json; charset=utf-16",
    "application/json; charset=bogus-8",
    "image/png",
    "",
    "*/*",
    "application/x-www-form-urlencoded; charset=latin-1",
    "ƒ/ünïcødé",
]
UNICODE = "ÅßçΩ漢字🙂\u202e\u0000\ud7ff\ufeff𝔘"


@dataclass
class HostileRequest:
    method: str
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)


def text(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.printable + UNICODE) for _ in range(n))


def json_body(rng: random.Random) -> bytes:
    values = [None, True, 0, -1, 10**40, 1.5e308, "", text(rng, 8), [], {}, ["x"] * 3, {"workoutId": 1}]
    shapes = [
        {"id": rng.choice(values), "payload": {"workoutId": rng.choice(values)}},
        {"payload": rng.choice(values)},
        {"id": text(rng, 20), "payload": {"workoutId": text(rng, rng.randint(0, 150))}},
        rng.choice(values),
        [{"payload": {"workoutId": "a" * 36}}],
        {"payload": {"workoutId": "../../etc/passwd"}},
    ]
    body = json.dumps(rng.choice(shapes), ensure_ascii=rng.random() < 0.5)
    return body.encode("utf-8", "surrogatepass")


def form_body(rng: random.Random) -> bytes:
    fields = {
        "userid": rng.choice(["31400001", "-1", "1e9", "", "9" * 40, text(rng, 5)]),
        "appli": rng.choice(["1", "4", "0", "1.0", "", "١"]),
        "startdate": rng.choice(["1700000000", "1800000000", "-5", "x", ""]),
        "enddate": rng.choice(["1700000100", "0", "1" * 25, ""]),
    }
    parts = [f"{k}={v}" for k, v in fields.items() if rng.random() < 0.85]
    if rng.random() < 0.3:
        parts.append(rng.choice(["%", "%zz", "&&&", "=", "a=b=c", "userid"]))
    rng.shuffle(parts)
    return "&".join(parts).encode("utf-8", "surrogatepass")


def nested_json(rng: random.Random) -> bytes:
    """Arrays or objects nested thousands deep: json.loads raises RecursionError, not ValueError."""
    depth = rng.choice([2_000, 12_000, 30_000])
    opener, closer = rng.choice([("[", "]"), ('{"a":', "}"), ('{"payload":', "}")])
    return (opener * depth + "1" + closer * depth).encode()


def body(rng: random.Random) -> bytes:
    roll = rng.random()
    if roll < 0.25:
        return rng.randbytes(rng.randint(0, 2048))
    if roll < 0.41:
        return json_body(rng)
    if roll < 0.45:
        return nested_json(rng)
    if roll < 0.65:
        return form_body(rng)
    if roll < 0.75:
        return text(rng, rng.randint(0, 500)).encode("utf-8", "surrogatepass")
    if roll < 0.78:
        return b"x" * rng.choice([4097, 64 * 1024 + 1, 1024 * 1024 + 1])  # past each limit
    return b""


def auth_header(rng: random.Random, secret: str | None) -> dict[str, str]:
    """Missing, wrong, or garbled Authorization; the real secret only when `secret` is given."""
    choices = [
        None,
        "",
        "Bearer",
        "Bearer ",
        f"Bearer {text(rng, 30)}",
        text(rng, 64),
        "Basic YWRtaW46YWRtaW4=",
        "x" * 8000,
    ]
    if secret:
        choices += [secret, f"Bearer {secret}", f"bearer   {secret}", f"Bearer {secret}x", secret[:-1]]
    value = rng.choice(choices)
    return {} if value is None else {"Authorization": value}


def extra_headers(rng: random.Random) -> dict[str, str]:
    headers = {}
    if rng.random() < 0.1:
        headers["X-Huge"] = "h" * rng.choice([1000, 7000])
    if rng.random() < 0.1:
        headers["Content-Length"] = rng.choice(["-1", "abc", "99999999999", "0"])
    if rng.random() < 0.05:
        headers["X-Forwarded-For"] = text(rng, 40)
    return headers


def generate(rng: random.Random, secret: str | None = None) -> HostileRequest:
    headers = {**auth_header(rng, secret), **extra_headers(rng)}
    return HostileRequest(rng.choice(METHODS), body(rng), rng.choice(CONTENT_TYPES), headers)


def django_extra(request: HostileRequest) -> dict[str, str]:
    """Headers as the Django test client takes them (HTTP_* keys, CONTENT_LENGTH raw)."""
    extra = {}
    for name, value in request.headers.items():
        key = name.upper().replace("-", "_")
        extra[key if key == "CONTENT_LENGTH" else f"HTTP_{key}"] = value
    return extra


# --- query strings for the pages ---------------------------------------------------------------------
QUERY_VALUES = [
    "9999-12-31",  # one day later does not exist
    "0001-01-01",
    "10000-01-01",
    "2024-02-30",
    "2024-13-01",
    "1899-12-31",
    "2024-06-01",
    "-1",
    "0",
    "9" * 30,
    "1e308",
    "nan",
    "\x00",
    "%00",
    "",
    "synced",
    "failed",
]
QUERY_NAMES = ["since", "until", "status", "q", "page", "days"]


def query(rng: random.Random) -> dict[str, str]:
    """A query string for a dashboard or service page: each parameter hostile, sane, or missing."""
    values = QUERY_VALUES + [text(rng, rng.randint(1, 12)), "x" * rng.choice([101, 5000])]
    return {name: rng.choice(values) for name in QUERY_NAMES if rng.random() < 0.6}
