"""The fake's small JSON Schema validator agrees with ``jsonschema`` on the spec's schemas."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from telnyx_messaging.testing._openapi import ANSWER_FORMATS, load_spec, raw_spec
from telnyx_messaging.testing._schema import Violation, iter_violations

DOCUMENT = raw_spec()
NAMES = sorted(DOCUMENT["components"]["schemas"])
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 300), st.floats(-1, 20), st.text(max_size=5)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=6,
)


def example(name: str) -> Any:
    """A valid-looking instance of a schema: its own example, or an empty object."""
    schema = DOCUMENT["components"]["schemas"][name]
    return copy.deepcopy(schema.get("example", {} if schema.get("type") != "string" else "x"))


def theirs(instance: Any, name: str) -> bool:
    schema = {"$ref": f"#/components/schemas/{name}", "components": DOCUMENT["components"]}
    return bool(jsonschema.Draft202012Validator(schema).is_valid(instance))


def ours(instance: Any, name: str) -> bool:
    schema = DOCUMENT["components"]["schemas"][name]
    return next(iter_violations(instance, schema, root=DOCUMENT), None) is None


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, (*prefix, index))
    return found


@pytest.mark.parametrize("name", NAMES)
def test_agrees_on_the_spec_examples(name: str) -> None:
    """Each component schema's own example is judged the same by both validators."""
    instance = example(name)
    assert ours(instance, name) == theirs(instance, name)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(NAMES), data=st.data())
def test_agrees_on_mutated_instances(name: str, data: st.DataObject) -> None:
    """Replace or drop any part of an example: both validators still agree."""
    instance = example(name)
    where = data.draw(st.sampled_from(paths(instance)))
    replacement = data.draw(VALUES)
    if not where:
        instance = replacement
    else:
        parent = instance
        for step in where[:-1]:
            parent = parent[step]
        if data.draw(st.booleans()) and isinstance(parent, dict):
            del parent[where[-1]]
        else:
            parent[where[-1]] = replacement
    assert ours(instance, name) == theirs(instance, name)


@pytest.mark.parametrize(
    ("instance", "schema", "expected"),
    [
        (True, {"type": "integer"}, [Violation("", "type", "must be of type integer")]),
        (2.0, {"type": "integer", "maximum": 1}, [Violation("", "maximum", "must be at most 1")]),
        ({"a/b": 1}, {"required": ["c~"]}, [Violation("/c~0", "required", "is required")]),
        (
            {"a/b": "x"},
            {"properties": {"a/b": {"enum": [1]}}},
            [Violation("/a~1b", "enum", "must be one of 1")],
        ),
        (
            [1, "x"],
            {"items": {"type": "string"}},
            [Violation("/0", "type", "must be of type string")],
        ),
        ("ab", {"minLength": 3}, [Violation("", "minLength", "must be at least 3 characters")]),
        ("abcd", {"maxLength": 3}, [Violation("", "maxLength", "must be at most 3 characters")]),
        ("ab", {"pattern": "^[A-Z]+$"}, [Violation("", "pattern", "must match ^[A-Z]+$")]),
        (1, {"const": 2}, [Violation("", "const", "must be 2")]),
        (True, {"enum": [1]}, [Violation("", "enum", "must be one of 1")]),
        (1, {"allOf": [{"minimum": 2}]}, [Violation("", "minimum", "must be at least 2")]),
        (
            1,
            {"anyOf": [{"type": "string"}]},
            [Violation("", "anyOf", "must match at least one of the allowed shapes")],
        ),
        (
            1,
            {"oneOf": [{}, {}]},
            [Violation("", "oneOf", "must match exactly one allowed shape, not 2")],
        ),
        (
            {"x": 1},
            {"additionalProperties": False},
            [Violation("/x", "false", "no value is allowed here")],
        ),
        (1, True, []),
    ],
)
def test_each_keyword_reports_where_and_why(
    instance: Any, schema: Any, expected: list[Violation]
) -> None:
    """Every supported keyword reports the failing value's pointer and a readable reason."""
    assert list(iter_violations(instance, schema, root={})) == expected


@pytest.mark.parametrize(
    ("value", "fmt", "valid"),
    [
        ("2030-01-01T00:00:00Z", "date-time", True),
        ("tomorrow", "date-time", False),
        ("https://example.com/a", "url", True),
        ("example.com/a", "url", False),
        ("4000eba1-a0c0-4563-9925-b25e842a7cb6", "uuid", True),
        ("profile-1", "uuid", False),
    ],
)
def test_formats_checked_on_request(value: str, fmt: str, valid: bool) -> None:
    """Formats are checked only where named: dates, URLs and UUIDs."""
    found = list(iter_violations(value, {"format": fmt}, root={}, formats=ANSWER_FORMATS))
    assert (found == []) is valid
    assert list(iter_violations(value, {"format": fmt}, root={})) == []


def test_only_local_refs() -> None:
    """A $ref outside the document is refused plainly."""
    with pytest.raises(ValueError, match="only local"):
        list(iter_violations(1, {"$ref": "other.json#/x"}, root={}))


def test_deviations_apply_to_a_copy() -> None:
    """Loading the spec with deviations leaves the shipped document unchanged."""
    patched = load_spec().pointer("/components/schemas/UpdatePhoneNumberMessagingSettingsRequest")
    original = DOCUMENT["components"]["schemas"]["UpdatePhoneNumberMessagingSettingsRequest"]
    assert patched["properties"]["messaging_product"]["type"] == ["string", "null"]
    assert original["properties"]["messaging_product"]["type"] == "string"
