"""Checks on what callers pass, made before anything is sent.

Cheap isinstance checks only: they catch the mistakes that would otherwise reach Telnyx as a
422 (or worse, a wrong message), and say what to write instead.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, TypeAlias, get_args
from urllib.parse import quote

from telnyx_messaging._errors import InvalidArgumentError

__all__ = [
    "Encoding",
    "MessageType",
    "body_of",
    "choice",
    "flag",
    "header_value",
    "mapping",
    "optional_positive",
    "optional_seconds",
    "optional_string",
    "optional_string_or_empty",
    "optional_when",
    "path_id",
    "phone_number",
    "phone_numbers",
    "string",
    "string_list",
    "string_or_empty",
    "when",
    "whole_number",
]


#: A message's ``type``: what Telnyx takes (the spec's enum).
MessageType: TypeAlias = Literal["SMS", "MMS"]
#: A message's ``encoding``: ``auto`` picks GSM-7 or UCS-2 by the text (the spec's enum).
Encoding: TypeAlias = Literal["auto", "gsm7", "ucs2"]


def choice(name: str, value: Any, allowed: Any) -> Any:
    """One of the strings of the Literal ``allowed`` (e.g. ``MessageType``), exactly."""
    options: tuple[str, ...] = get_args(allowed)
    if string(name, value) not in options:
        listed = ", ".join(repr(option) for option in options)
        raise InvalidArgumentError(f"{name} must be one of {listed}; got {value!r}")
    return value


def string(name: str, value: Any) -> str:
    """A required, non-empty string argument."""
    if not isinstance(value, str):
        raise InvalidArgumentError(
            f"{name} must be a string, got {type(value).__name__}: {value!r}"
        )
    if not value:
        raise InvalidArgumentError(f"{name} must not be empty")
    return value


def phone_number(name: str, value: Any) -> str:
    """A recipient's phone number in E.164 (``+`` then up to 15 digits, the first not 0)."""
    # E.164 (ITU-T): "+", a country code that does not start with 0, at most 15 digits in all;
    # the spec's ToNumber and Telnyx's docs ask for it. Senders are not checked this way:
    # `from_` may also be a short code or an alphanumeric sender ID. String methods, not a
    # regex: this runs on every send, and for ASCII text isdigit() means 0-9 only.
    if (
        isinstance(value, str)
        and 1 < len(value) <= 16
        and value[0] == "+"
        and value[1] != "0"
        and value.isascii()
        and value[1:].isdigit()
    ):
        return value
    text = string(name, value)  # a clear error for what is not a string at all
    raise InvalidArgumentError(
        f"{name} must be a phone number in E.164 form: '+', the country code and the "
        f"number, digits only, e.g. '+13125550002'; got {text!r}"
    )


def phone_numbers(name: str, value: Any) -> list[str]:
    """A list of recipients, each in E.164."""
    return [phone_number(f"every item of {name}", item) for item in string_list(name, value)]


def string_or_empty(name: str, value: Any) -> str:
    """A string argument where ``""`` means something (e.g. "no profile")."""
    if not isinstance(value, str):
        raise InvalidArgumentError(
            f"{name} must be a string, got {type(value).__name__}: {value!r}"
        )
    return value


def optional_string_or_empty(name: str, value: Any) -> str | None:
    """An optional string argument where ``""`` means something."""
    return None if value is None else string_or_empty(name, value)


def optional_string(name: str, value: Any) -> str | None:
    """An optional string argument: ``None`` (not given) or a non-empty string."""
    return None if value is None else string(name, value)


def flag(name: str, value: Any) -> bool | None:
    """An optional boolean argument (``"false"`` is truthy in Python, so refuse strings)."""
    if value is not None and not isinstance(value, bool):
        raise InvalidArgumentError(f"{name} must be True or False, got {value!r}")
    return value


def optional_when(name: str, value: Any) -> str | None:
    """An optional aware ``datetime`` as ISO 8601."""
    return None if value is None else when(name, value)


def header_value(name: str, value: Any) -> str:
    """A value sent as an HTTP header: printable ASCII, so it arrives as given."""
    text = string(name, value)
    if not (text.isascii() and text.isprintable()) or len(text) > 255:
        raise InvalidArgumentError(
            f"{name} must be 1-255 printable ASCII characters (it is sent as a header), "
            f"got {text!r}"
        )
    return text


def string_list(name: str, value: Any, *, allow_empty: bool = False) -> list[str]:
    """A list of strings (a lone string is the usual mistake, so say so)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise InvalidArgumentError(
            f"{name} must be a list of strings, got {type(value).__name__}: "
            f"wrap a single value in a list, e.g. {name}=[{value!r}]"
        )
    if not value and not allow_empty:
        raise InvalidArgumentError(f"{name} must not be empty")
    for item in value:
        if not isinstance(item, str):
            raise InvalidArgumentError(
                f"every item of {name} must be a string, got {type(item).__name__}: {item!r}"
            )
    return list(value)


def when(name: str, value: Any) -> str:
    """An aware ``datetime`` as ISO 8601; naive ones are refused rather than guessed at."""
    if not isinstance(value, datetime):
        raise InvalidArgumentError(
            f"{name} must be a datetime, got {type(value).__name__}: {value!r}"
        )
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidArgumentError(
            f"{name} must be timezone-aware (a naive datetime is ambiguous): "
            f"use e.g. datetime.now(timezone.utc) or .replace(tzinfo=timezone.utc)"
        )
    return value.isoformat()


def path_id(name: str, value: Any) -> str:
    """An id for a URL path segment, percent-escaped so ``/``, ``?`` and ``#`` stay inside it."""
    text = string(name, value)
    if text in (".", ".."):
        # Escaping cannot help: servers and proxies read %2E as "." and resolve the segment.
        raise InvalidArgumentError(f"{name} cannot be {text!r}: it would name another path")
    return quote(text, safe="")


def body_of(**fields: Any) -> dict[str, Any]:
    """A request body from keyword arguments: ``None`` means not given and is not sent;
    a trailing ``_`` (``from_``) is dropped to give the wire name."""
    return {(k[:-1] if k.endswith("_") else k): v for k, v in fields.items() if v is not None}


def mapping(name: str, value: Any) -> Mapping[str, Any]:
    """A JSON object argument."""
    if not isinstance(value, Mapping):
        raise InvalidArgumentError(
            f"{name} must be a mapping (a JSON object), got {type(value).__name__}"
        )
    return value


def whole_number(name: str, value: Any, *, minimum: int, maximum: int | None = None) -> int:
    """A whole number in ``minimum..maximum`` (``True`` is not a number here, though Python says
    it is ``1``)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidArgumentError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    if maximum is not None and value > maximum:
        raise InvalidArgumentError(f"{name} must be at most {maximum}, got {value}")
    return value


def optional_positive(name: str, value: Any, unit: str) -> float | None:
    """A positive, finite number (``int`` or ``float``, not ``bool``), or ``None`` for "no
    limit"; ``unit`` names what it counts in the error ("seconds", "messages per second")."""
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise InvalidArgumentError(
            f"{name} must be a positive number of {unit} or None, got {value!r}"
        )
    return value


def optional_seconds(name: str, value: Any) -> float | None:
    """A positive, finite number of seconds, or ``None`` for "no limit"."""
    return optional_positive(name, value, "seconds")
