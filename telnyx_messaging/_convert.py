"""The one cattrs converter that turns Telnyx JSON into our attrs classes.

Built once at import; cattrs generates and caches a structuring function per class, so the
per-answer cost is a handful of dict look-ups. Detailed validation is off on purpose: it is
several times slower and our callers get a single clear ``APIResponseValidationError``
(with the raw body) when an answer does not fit, which is what they can act on.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar, get_args, get_origin

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, override

__all__ = ["converter", "parse_datetime", "structure"]

T = TypeVar("T")

converter = cattrs.Converter(detailed_validation=False)

# Python 3.10's fromisoformat takes only its own output: no "Z", and exactly 3 or 6
# fraction digits. Telnyx sends both "Z" and "+00:00", with 3 fraction digits or none.
_NEEDS_NORMALISING = sys.version_info < (3, 11)
_FRACTION = re.compile(r"\.(\d+)")


def parse_datetime(value: str) -> datetime:
    """Parse an ISO 8601 timestamp into an aware ``datetime`` (UTC when no offset is given)."""
    if _NEEDS_NORMALISING:  # pragma: no cover - exercised on Python 3.10 only
        value = value.replace("Z", "+00:00").replace("z", "+00:00")
        value = _FRACTION.sub(lambda m: "." + (m.group(1) + "000000")[:6], value, count=1)
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    return parsed


def _structure_datetime(value: Any, _: type) -> datetime:
    if isinstance(value, datetime):
        return value
    return parse_datetime(value)


def _structure_decimal(value: Any, _: type) -> Decimal:
    # str() first: Decimal(0.1) would keep the float's binary error.
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not a decimal amount: {value!r}") from None


def _structure_json_object(value: Any, _: type) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError(f"expected a JSON object, got {type(value).__name__}")
    return value


converter.register_structure_hook(datetime, _structure_datetime)
converter.register_structure_hook(Decimal, _structure_decimal)
converter.register_structure_hook_func(lambda tp: tp == Mapping[str, Any], _structure_json_object)


def _is_variadic_tuple(tp: Any) -> bool:
    args = get_args(tp)
    return get_origin(tp) is tuple and len(args) == 2 and args[1] is Ellipsis


def _variadic_tuple_hook(tp: Any) -> Callable[[Any, Any], tuple[Any, ...]]:
    item_type = get_args(tp)[0]
    item = converter.get_structure_hook(item_type)

    def structure_tuple(value: Any, _: Any) -> tuple[Any, ...]:
        # Telnyx sends `null` for empty lists now and then; that is an empty list, not an error.
        if value is None:
            return ()
        if isinstance(value, (str, bytes, Mapping)):
            raise TypeError(f"expected a JSON array, got {type(value).__name__}")
        return tuple([item(v, item_type) for v in value])

    return structure_tuple


converter.register_structure_hook_factory(_is_variadic_tuple, _variadic_tuple_hook)


def _attrs_hook(cls: type[T]) -> Callable[[Any, Any], T]:
    # Python names end in "_" where the wire name is a keyword (`from`); `raw` is never on
    # the wire: it is filled in below with the JSON object itself.
    overrides: dict[str, Any] = {}
    for a in attrs.fields(cls):  # type: ignore[arg-type]
        if a.name == "raw":
            overrides[a.name] = override(omit=True)
        elif a.name.endswith("_"):
            overrides[a.name] = override(rename=a.name[:-1])
    build = make_dict_structure_fn(cls, converter, _cattrs_detailed_validation=False, **overrides)
    set_raw = object.__setattr__
    has_raw = "raw" in overrides

    def structure_model(value: Any, _: Any) -> T:
        if not isinstance(value, Mapping):
            raise TypeError(
                f"expected a JSON object for {cls.__name__}, got {type(value).__name__}"
            )
        instance = build(value, cls)
        if has_raw:
            set_raw(instance, "raw", value)
        return instance

    return structure_model


converter.register_structure_hook_factory(attrs.has, _attrs_hook)


def structure(data: Any, cls: type[T]) -> T:
    """Structure JSON data into ``cls`` with the shared converter."""
    return converter.structure(data, cls)
