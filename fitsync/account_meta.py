"""Typed reads and checked writes of `ConnectedAccount.meta`, the JSON of non-secret per-service data.

Each service declares every key it keeps once, as a dataclass whose fields have a type and a default
(`integrations/<service>/account_meta.py`), and names that class on its AppConfig (`account_meta`) so the
dashboard can read any service's meta without naming the service. Reads go through `read`; writes through
`write`, which refuses unknown names and wrong types, then merges through `ConnectedAccount.merge_meta`
(the one writer: it re-reads the row inside the write, so jobs writing other keys lose nothing).

Stored values stay plain JSON: a `datetime` field is kept as ISO text, a nested dataclass as an object.
On read, unknown keys are ignored and a value of the wrong type reads as the field's default (logged):
meta left by an older release, or edited by hand in the admin, must not break a page or a job.
"""

import dataclasses
import logging
import types
import typing
from datetime import datetime
from functools import cache
from typing import Any, TypeVar

from django.apps import apps

log = logging.getLogger(__name__)

T = TypeVar("T")


class WrongType(ValueError):
    """A stored or written value does not fit the field's declared type."""


def read(account, meta_class: type[T]) -> T:
    """The account's meta as `meta_class`; its defaults when there is no account."""
    stored = account.meta if account is not None else {}
    if not isinstance(stored, dict):
        log.warning("meta of account %s is not an object: the defaults are used", account.pk)
        stored = {}
    return _build(meta_class, stored, strict=False)


def write(account, meta_class: type[T], **changes) -> T:
    """Check `changes` against `meta_class`, merge them into the stored meta, return the new typed view.

    A field is cleared by writing its default (None for an optional one)."""
    fields = _fields(meta_class)
    unknown = sorted(set(changes) - set(fields))
    if unknown:
        raise TypeError(f"{meta_class.__name__} has no field {', '.join(unknown)}")
    stored = {name: to_json(value) for name, value in changes.items()}
    for name, value in stored.items():
        try:
            _convert(fields[name], value, strict=True)
        except WrongType as exc:
            raise TypeError(f"{meta_class.__name__}.{name}: {exc}") from None
    account.merge_meta(**stored)
    return read(account, meta_class)


def meta_class_of(provider: str) -> type | None:
    """The meta dataclass a service declares on its AppConfig, or None."""
    try:
        return getattr(apps.get_app_config(provider), "account_meta", None)
    except LookupError:  # the service's app is not installed
        return None


def read_service(account) -> Any:
    """The account's meta as its own service declares it, or None when the service declares none."""
    meta_class = meta_class_of(account.provider) if account is not None else None
    return read(account, meta_class) if meta_class else None


def to_json(value):
    """A field value as stored: datetimes as ISO text, dataclasses as objects."""
    if isinstance(value, datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


@cache
def _fields(meta_class: type) -> dict[str, Any]:
    hints = typing.get_type_hints(meta_class)
    return {f.name: hints[f.name] for f in dataclasses.fields(meta_class)}


def _build(meta_class: type[T], stored, *, strict: bool) -> T:
    if not isinstance(stored, dict):
        raise WrongType(f"expected an object, found {type(stored).__name__}")
    values = {}
    for name, kind in _fields(meta_class).items():
        if name not in stored:
            continue  # the dataclass default
        try:
            values[name] = _convert(kind, stored[name], strict=strict)
        except WrongType as exc:
            if strict:
                raise WrongType(f"{name}: {exc}") from None
            log.warning("meta %s.%s ignored (%s): the default is used", meta_class.__name__, name, exc)
    return meta_class(**values)


def _convert(kind, value, *, strict: bool):
    """`value` (plain JSON) as `kind`: str, int, float, bool, dict, list, datetime, a dataclass, or X | None."""
    options = typing.get_args(kind) if isinstance(kind, types.UnionType) else (kind,)
    if value is None:
        if type(None) in options:
            return None
        raise WrongType("None is not allowed")
    (kind,) = [option for option in options if option is not type(None)]
    if dataclasses.is_dataclass(kind):
        return _build(kind, value, strict=strict)
    if kind is datetime:
        return _datetime(value)
    if isinstance(value, bool) and kind is not bool:  # bool is an int to Python, not to us
        raise WrongType(f"expected {kind.__name__}, found bool")
    if kind is float and isinstance(value, int):
        return float(value)
    if not isinstance(value, typing.get_origin(kind) or kind):
        raise WrongType(f"expected {kind.__name__}, found {type(value).__name__}")
    return value


def _datetime(value) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise WrongType(f"expected ISO date-time text, found {value!r}") from None
