"""A small JSON Schema (2020-12) validator: the keywords Telnyx's messaging spec uses.

Why not ``jsonschema``: the fake ships in the SDK's wheel, and a test helper must not pull a
heavy dependency into every install. The spec uses few keywords (``type``, ``enum``,
``properties``, ``required``, ``items``, ``$ref``, ``oneOf``, ``minimum``, ``maximum``,
``minLength``, ``maxLength``, ``pattern``, ``format``); this module implements those plus the
few cheap neighbours (``const``, ``allOf``, ``anyOf``, ``additionalProperties``) and ignores
annotations. ``tests/fake/test_fake_schema.py`` cross-checks it against ``jsonschema`` on every
schema of the spec.

``format`` is an annotation in 2020-12; it is checked only for the names given in
``formats``, as ``jsonschema`` does with a ``FormatChecker``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache
from typing import Any

import attrs

__all__ = ["Violation", "iter_violations"]

FormatCheck = Callable[[str], bool]


@attrs.frozen
class Violation:
    """One way an instance fails its schema.

    ``pointer`` is the JSON pointer of the failing value in the instance (``""`` for the
    whole instance), ``keyword`` the schema keyword it failed, ``message`` says how.
    """

    pointer: str
    keyword: str
    message: str


def iter_violations(
    instance: Any,
    schema: Any,
    *,
    root: Mapping[str, Any],
    formats: Mapping[str, FormatCheck] | None = None,
) -> Iterator[Violation]:
    """Every violation of ``schema`` by ``instance``; ``$ref`` resolves inside ``root``."""
    yield from _Walker(root, formats or {}).check(instance, schema, "")


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def _type_matches(value: Any, name: str) -> bool:
    # bool is an int in Python but not a number in JSON.
    if name == "null":
        return value is None
    if name == "boolean":
        return isinstance(value, bool)
    if name == "string":
        return isinstance(value, str)
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, list)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if name == "integer":
        return isinstance(value, int) or value.is_integer()
    return name == "number"


def _equal(a: Any, b: Any) -> bool:
    # JSON equality: 1 == 1.0 but True != 1.
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)


@lru_cache(maxsize=256)
def _pattern(text: str) -> re.Pattern[str]:
    return re.compile(text)


@attrs.frozen
class _Walker:
    root: Mapping[str, Any]
    formats: Mapping[str, FormatCheck]

    def resolve(self, ref: str) -> Any:
        if not ref.startswith("#/"):
            raise ValueError(f"only local $ref are supported, not {ref!r}")
        node: Any = self.root
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def valid(self, instance: Any, schema: Any) -> bool:
        return next(self.check(instance, schema, ""), None) is None

    def check(self, instance: Any, schema: Any, at: str) -> Iterator[Violation]:
        if schema is True:
            return
        if schema is False:
            yield Violation(at, "false", "no value is allowed here")
            return
        if "$ref" in schema:
            yield from self.check(instance, self.resolve(schema["$ref"]), at)
        if "type" in schema:
            names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            if not any(_type_matches(instance, name) for name in names):
                yield Violation(at, "type", f"must be of type {' or '.join(names)}")
                return  # every other keyword would only repeat the type error
        if "enum" in schema and not any(_equal(instance, v) for v in schema["enum"]):
            allowed = ", ".join(repr(v) for v in schema["enum"])
            yield Violation(at, "enum", f"must be one of {allowed}")
        if "const" in schema and not _equal(instance, schema["const"]):
            yield Violation(at, "const", f"must be {schema['const']!r}")
        for keyword in ("allOf", "anyOf", "oneOf"):
            if keyword in schema:
                yield from self.combine(keyword, instance, schema[keyword], at)
        if isinstance(instance, dict):
            yield from self.check_object(instance, schema, at)
        elif isinstance(instance, list) and "items" in schema:
            for index, item in enumerate(instance):
                yield from self.check(item, schema["items"], f"{at}/{index}")
        elif isinstance(instance, str):
            yield from self.check_string(instance, schema, at)
        elif _type_matches(instance, "number"):
            if "minimum" in schema and instance < schema["minimum"]:
                yield Violation(at, "minimum", f"must be at least {schema['minimum']}")
            if "maximum" in schema and instance > schema["maximum"]:
                yield Violation(at, "maximum", f"must be at most {schema['maximum']}")

    def combine(
        self, keyword: str, instance: Any, schemas: list[Any], at: str
    ) -> Iterator[Violation]:
        if keyword == "allOf":
            for sub in schemas:
                yield from self.check(instance, sub, at)
            return
        matches = sum(self.valid(instance, sub) for sub in schemas)
        if keyword == "anyOf" and matches == 0:
            yield Violation(at, "anyOf", "must match at least one of the allowed shapes")
        if keyword == "oneOf" and matches != 1:
            yield Violation(at, "oneOf", f"must match exactly one allowed shape, not {matches}")

    def check_object(self, instance: dict[str, Any], schema: Any, at: str) -> Iterator[Violation]:
        for name in schema.get("required", ()):
            if name not in instance:
                yield Violation(f"{at}/{_escape(name)}", "required", "is required")
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for name, value in instance.items():
            where = f"{at}/{_escape(name)}"
            if name in properties:
                yield from self.check(value, properties[name], where)
            elif extra is not True:
                yield from self.check(value, extra, where)

    def check_string(self, instance: str, schema: Any, at: str) -> Iterator[Violation]:
        if "minLength" in schema and len(instance) < schema["minLength"]:
            yield Violation(at, "minLength", f"must be at least {schema['minLength']} characters")
        if "maxLength" in schema and len(instance) > schema["maxLength"]:
            yield Violation(at, "maxLength", f"must be at most {schema['maxLength']} characters")
        if "pattern" in schema and not _pattern(schema["pattern"]).search(instance):
            yield Violation(at, "pattern", f"must match {schema['pattern']}")
        check = self.formats.get(schema.get("format", ""))
        if check is not None and not check(instance):
            yield Violation(at, "format", f"must be a valid {schema['format']}")
