"""The one cattrs converter that turns Telnyx JSON into our attrs classes.

Built once at import; a hook factory generates one structuring function per class (see
:func:`_model_hook`), so the per-answer cost is a handful of dict look-ups.

The rule for odd values (docs/client.md, "When an answer has an odd field"): a 2xx answer is
never lost to one odd field. A value that does not fit an optional field makes that field
``None`` (``()`` for a list; an odd entry of a list is left out), and it stays in ``raw``.
Only a value the object cannot do without -- a required field (``Message.id``, ``to``,
``from_``, each recipient's ``phone_number`` and ``status``) or the object itself not being a
JSON object -- raises :class:`UnusableAnswerError`, which says where in the answer it is.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from types import UnionType
from typing import Any, Literal, TypeVar, Union, cast, get_args, get_origin

import attrs
import cattrs

from telnyx_messaging._models import RawPath

__all__ = ["UnusableAnswerError", "converter", "parse_datetime", "structure", "structure_answer"]

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


class UnusableAnswerError(ValueError):
    """An answer that cannot be the object promised: not a JSON object, or without a field
    the object cannot do without. ``path`` is where in the answer, ``problem`` what is wrong.

    ``_http.decode_model`` and ``webhooks.parse`` turn it into ``APIResponseValidationError``
    and ``WebhookParseError``.
    """

    def __init__(self, path: RawPath, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{json_path(path)} {problem}" if path else problem)


def json_path(path: RawPath) -> str:
    """``("data", "to", 0, "status")`` as ``data.to[0].status``."""
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else f".{step}" if text else step
    return text


_JSON_KINDS: dict[type[Any], str] = {
    dict: "an object",
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "a boolean",
}


def _unusable(path: RawPath, expected: str, value: Any) -> UnusableAnswerError:
    if value is None:
        return UnusableAnswerError(path, "is missing (or null)")
    text = repr(value)
    text = text if len(text) <= 60 else text[:60] + "..."
    kind = _JSON_KINDS.get(type(value), type(value).__name__)
    return UnusableAnswerError(path, f"is {kind} ({text}), not {expected}")


# Leaf readers: the value if it fits the field's type, else None. They never raise: an odd
# value in an optional field is that field's problem only. (Values already of the field's
# type are taken inline by the generated code and never reach them.)
def _as_int(value: Any) -> int | None:
    if value.__class__ is float and value.is_integer():
        return int(value)
    return None


def _as_float(value: Any) -> float | None:
    if value.__class__ is float or value.__class__ is int:
        return float(value)
    return None


def _as_datetime(value: Any) -> datetime | None:
    if value.__class__ is not str:
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        return None


def _as_decimal(value: Any) -> Decimal | None:
    # Telnyx sends amounts as strings; str() first for numbers: Decimal(0.1) would keep the
    # float's binary error. NaN and infinities are no amount anyone was charged.
    if value.__class__ is not str and value.__class__ is not int and value.__class__ is not float:
        return None
    try:
        amount = Decimal(value if value.__class__ is str else str(value))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def _as_json_object(value: Any) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None


# What each JSON scalar field type accepts as it is; anything else goes through its reader.
_READERS: dict[Any, Callable[[Any], Any]] = {
    int: _as_int,
    float: _as_float,
    datetime: _as_datetime,
    Decimal: _as_decimal,
    Mapping[str, Any]: _as_json_object,
}
_EXPECTED: dict[Any, str] = {
    str: "a string",
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    datetime: "an ISO 8601 timestamp",
    Decimal: "a decimal amount",
    Mapping[str, Any]: "an object",
}
_NONE = type(None)


def _optional_inner(tp: Any) -> Any:
    args = get_args(tp)
    if get_origin(tp) in (Union, UnionType) and len(args) == 2 and _NONE in args:
        return next(a for a in args if a is not _NONE)
    return None


def _item_paths(cache: dict[RawPath, list[RawPath]], path: RawPath, wire: str, n: int) -> Any:
    # Interned per (parent path, field): every Message's to[0] shares one path tuple.
    paths = [(*path, wire, j) for j in range(max(n, 4))]
    cache[path] = paths
    return paths


def _fitting_items(
    structure_item: Any, cls: type[Any], source: Any, paths: list[RawPath], items: list[Any]
) -> tuple[Any, ...]:
    kept = []
    for j, item in enumerate(items):
        # An odd entry of an optional list is left out; it stays in raw.
        with contextlib.suppress(UnusableAnswerError):
            kept.append(structure_item(item, cls, source, paths[j]))
    return tuple(kept)


def _model_hook(cls: type[T]) -> Callable[..., T]:
    """Generate the structuring function for one attrs model, as cattrs' own ``make_dict_*``
    functions do, but shaped for JSON answers, where it is the hottest code of a send.

    One ``dict.get`` per field; JSON scalars of the right type taken as they are (checked
    inline, not through a call); nested models' functions called directly with where they
    sit in the answer (``source`` and ``path``, from which their ``raw`` is looked up); the
    instance built slot by slot (see :func:`_construct`). Optional fields fall back to
    ``None`` on an odd value; required ones raise :class:`UnusableAnswerError`. Python names
    end in ``_`` where the wire name is a keyword (``from``).
    """
    attrs.resolve_types(cls)  # type: ignore[type-var]
    ns: dict[str, Any] = {
        "cls": cls,
        "Mapping": Mapping,
        "UnusableAnswerError": UnusableAnswerError,
        "unusable": _unusable,
        "item_paths": _item_paths,
        "fitting_items": _fitting_items,
        "name": cls.__name__,
    }
    body: list[str] = []
    arguments: list[tuple[str, str]] = []  # (attribute, expression)

    def line(text: str, depth: int = 1) -> None:
        body.append("    " * depth + text)

    for i, a in enumerate(attrs.fields(cls)):  # type: ignore[arg-type]
        keyword = a.alias or a.name
        if keyword == "_raw_source":
            arguments.append((a.name, "src"))
            continue
        if keyword == "_raw_path":
            arguments.append((a.name, "path"))
            continue
        arguments.append((a.name, f"v{i}"))
        wire = a.name[:-1] if a.name.endswith("_") else a.name
        required = a.default is attrs.NOTHING
        inner = _optional_inner(a.type)
        tp = a.type if inner is None else inner
        if get_origin(tp) is Literal:  # a narrower str for type checkers (event types)
            tp = str
        v = f"v{i}"
        line(f"{v} = get({wire!r})")
        ns[f"path{i}"] = {}  # child paths by parent path
        if tp is Any:
            continue  # kept exactly as given
        if attrs.has(tp):
            ns[f"model{i}"] = converter.get_structure_hook(tp)
            ns[f"type{i}"] = tp
            depth = 1
            if not required:
                line(f"if {v} is not None:")
                depth = 2
            line(f"cp = path{i}.get(path)", depth)
            line(f"if cp is None: cp = path{i}[path] = (*path, {wire!r})", depth)
            if required:
                line(f"{v} = model{i}({v}, type{i}, src, cp)")
            else:
                line("try:", 2)
                line(f"{v} = model{i}({v}, type{i}, src, cp)", 3)
                line("except UnusableAnswerError:", 2)
                line(f"{v} = None", 3)
            continue
        args = get_args(tp)
        if get_origin(tp) is tuple and len(args) == 2 and args[1] is Ellipsis:
            item = args[0]
            ns[f"type{i}"] = item
            if attrs.has(item):
                ns[f"model{i}"] = converter.get_structure_hook(item)
                line(f"if {v}.__class__ is list and {v}:")
                line(f"ps = path{i}.get(path)", 2)
                line(f"if ps is None or len(ps) < len({v}):", 2)
                line(f"ps = item_paths(path{i}, path, {wire!r}, len({v}))", 3)
                make = f"tuple([model{i}(x, type{i}, src, ps[j]) for j, x in enumerate({v})])"
                if required:
                    line(f"{v} = {make}", 2)
                else:
                    line("try:", 2)
                    line(f"{v} = {make}", 3)
                    line("except UnusableAnswerError:", 2)
                    line(f"{v} = fitting_items(model{i}, type{i}, src, ps, {v})", 3)
            else:  # a list of JSON scalars (strings, today)
                line(f"if {v}.__class__ is list and {v}:")
                line(f"{v} = tuple([x for x in {v} if x.__class__ is type{i}])", 2)
            if required:
                line(f"elif {v}.__class__ is list:")
                line(f"{v} = ()", 2)
                line("else:")
                line(f"raise unusable((*path, {wire!r}), 'an array', {v})", 2)
            else:
                # Odd or null is an empty tuple (Telnyx sends null for [] now and then).
                line(f"elif {v}.__class__ is not list or not {v}:")
                line(f"{v} = ()", 2)
            continue
        ns[f"type{i}"] = tp
        ns[f"expected{i}"] = _EXPECTED[tp]
        reader = _READERS.get(tp)
        if reader is None:  # str and bool: only the exact JSON type fits
            check = f"{v}.__class__ is not type{i}"
        else:
            ns[f"read{i}"] = reader
            check = f"{v}.__class__ is not type{i} and ({v} := read{i}({v})) is None"
        if required:
            line(f"if {check}:")
            line(f"raise unusable((*path, {wire!r}), expected{i}, get({wire!r}))", 2)
        elif reader is None:
            line(f"if {v} is not None and {check}: {v} = None")
        else:
            line(f"if {v} is not None and {v}.__class__ is not type{i}: {v} = read{i}({v})")
    source = "\n".join(
        [
            "def structure_model(o, _=None, src=None, path=()):",
            "    if o.__class__ is not dict and not isinstance(o, Mapping):",
            "        raise unusable(path, f'a {name} object', o)",
            "    if src is None: src = o",
            "    get = o.get",
            *body,
            *_construct(cls, arguments, ns),
        ]
    )
    exec(compile(source, f"<structure {cls.__qualname__}>", "exec"), ns)  # noqa: S102
    return ns["structure_model"]  # type: ignore[no-any-return]


def _construct(cls: type[Any], arguments: list[tuple[str, str]], ns: dict[str, Any]) -> list[str]:
    """The lines that build the instance from the values read.

    Our models are frozen and slotted, with no validators, converters or post-init hook: the
    attrs ``__init__`` would only set each slot, through ``object.__setattr__`` and a keyword
    argument per field. Setting each slot through its descriptor directly builds the same
    object a third faster (a ``Message`` has 35 fields), so that is what is generated. A class
    with anything more in its ``__init__`` gets the keyword call.
    """
    fields = attrs.fields(cls)
    plain = "__slots__" in cls.__dict__ and not hasattr(cls, "__attrs_post_init__")
    if not plain or any(f.validator or f.converter for f in fields):
        pairs = zip(fields, arguments, strict=True)
        keywords = ", ".join(f"{f.alias}={value}" for f, (_, value) in pairs)
        return [f"    return cls({keywords})"]
    ns["new"] = object.__new__
    lines = ["    self = new(cls)"]
    for i, (name, value) in enumerate(arguments):
        owner = next(k for k in cls.__mro__ if name in k.__dict__)
        ns[f"set{i}"] = owner.__dict__[name].__set__
        lines.append(f"    set{i}(self, {value})")
    return [*lines, "    return self"]


converter.register_structure_hook_factory(attrs.has, _model_hook)


def _is_variadic_tuple(tp: Any) -> bool:
    args = get_args(tp)
    return get_origin(tp) is tuple and len(args) == 2 and args[1] is Ellipsis


def _variadic_tuple_hook(tp: Any) -> Callable[[Any, Any], tuple[Any, ...]]:
    # A list of models at the top of an answer (a page's items), each its own source.
    item_type = get_args(tp)[0]
    item = converter.get_structure_hook(item_type)

    def structure_tuple(value: Any, _: Any) -> tuple[Any, ...]:
        if value.__class__ is not list:
            raise _unusable((), "an array", value)
        return tuple([item(v, item_type) for v in value])

    return structure_tuple


converter.register_structure_hook_factory(_is_variadic_tuple, _variadic_tuple_hook)


def structure(data: Any, cls: type[T]) -> T:
    """Structure decoded JSON into ``cls``; models look their ``raw`` up in ``data``."""
    return converter.structure(data, cls)


def structure_answer(data: Any, cls: type[T], source: Any, path: RawPath) -> T:
    """Structure ``data``, found at ``path`` inside ``source`` (an answer's bytes or text).

    The models keep ``source`` instead of ``data`` and decode it again when ``raw`` is read:
    the bytes of an answer cost a fraction of the dict ``json.loads`` makes of them. Raises
    :class:`UnusableAnswerError` when ``data`` cannot be a ``cls``.
    """
    hook = _answer_hooks.get(cls)
    if hook is None:  # cattrs' dispatch costs more than the rest of a small answer
        # Our generated hooks take (data, cls, source, path); cattrs types them (data, cls).
        hook = _answer_hooks[cls] = cast("Callable[..., Any]", converter.get_structure_hook(cls))
    return hook(data, cls, source, path)  # type: ignore[no-any-return]


_answer_hooks: dict[type[Any], Callable[..., Any]] = {}
