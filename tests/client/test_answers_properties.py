"""Every answer and webhook the OpenAPI spec allows is read, never lost (hypothesis-jsonschema).

Answers are generated from each operation's 2xx response schema and bodies from each webhook
schema in the spec (telnyx_messaging/testing/_spec/), with every ``$ref`` resolved first. Two
additions to the spec, each the line the SDK draws on purpose (docs/client.md, "When an answer
has an odd field"): the ``data`` envelope is required, and so is what makes a message a
message (``id``, ``from.phone_number``, each recipient's ``phone_number`` and ``status``) and
what makes a message event one (its ``payload``). Everything else the spec allows, including
properties it does not list, must be read.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from telnyx_messaging import (
    BulkUpdate,
    Message,
    MobilePhoneNumberMessagingSettings,
    OptOut,
    PhoneNumberMessagingSettings,
    WhatsAppMessage,
    webhooks,
)
from telnyx_messaging._http.codec import Response, decode_model
from telnyx_messaging._pagination import Page, decode_page

SPEC = json.loads(
    (
        Path(__file__).parents[2] / "telnyx_messaging/testing/_spec/telnyx-messaging-openapi.json"
    ).read_text("utf-8")
)
# Few examples per schema: 20 schemas, and the suite runs on a shared 2-core machine.
FEW = settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)

# (method, path) -> what the SDK reads the answer as: (model, "one" | "bare" | "page").
READ_AS: dict[tuple[str, str], tuple[type[Any], str]] = {
    ("post", "/messages"): (Message, "one"),
    ("get", "/messages/{id}"): (Message, "one"),
    ("delete", "/messages/{id}"): (Message, "bare"),
    ("post", "/messages/whatsapp"): (WhatsAppMessage, "one"),
    ("post", "/messages/group_mms"): (Message, "one"),
    ("post", "/messages/long_code"): (Message, "one"),
    ("post", "/messages/number_pool"): (Message, "one"),
    ("post", "/messages/schedule"): (Message, "one"),
    ("post", "/messages/short_code"): (Message, "one"),
    ("get", "/messaging_optouts"): (OptOut, "page"),
    ("get", "/phone_numbers/messaging"): (PhoneNumberMessagingSettings, "page"),
    ("get", "/phone_numbers/{id}/messaging"): (PhoneNumberMessagingSettings, "one"),
    ("patch", "/phone_numbers/{id}/messaging"): (PhoneNumberMessagingSettings, "one"),
    ("get", "/mobile_phone_numbers/messaging"): (MobilePhoneNumberMessagingSettings, "page"),
    ("get", "/mobile_phone_numbers/{id}/messaging"): (MobilePhoneNumberMessagingSettings, "one"),
    ("post", "/messaging_numbers_bulk_updates"): (BulkUpdate, "one"),
    ("get", "/messaging_numbers_bulk_updates/{order_id}"): (BulkUpdate, "one"),
}
MESSAGE_SCHEMAS = (
    "OutboundMessagePayload",
    "InboundMessagePayload",
    "OutboundMessagePayloadCancelled",
)
EVENT_SCHEMAS = ("OutboundMessage", "InboundMessage")
SMALL_EXTRA = {"type": ["null", "boolean", "integer", "string"], "maxLength": 8}
# Formats hypothesis-jsonschema does not know; "float" and "int64" only annotate numbers.
UNKNOWN_FORMATS = {"url", "float", "int64"}


def _require(schema: dict[str, Any], *names: str) -> None:
    schema["required"] = sorted({*schema.get("required", ()), *names})


def _identity_required(components: dict[str, Any]) -> None:
    """Add what makes each object what it is to the spec's (almost empty) required lists."""
    whatsapp = components["WhatsappResponse"]["properties"]["data"]
    for message in [*(components[n] for n in MESSAGE_SCHEMAS), whatsapp]:
        _require(message, "id", "from", "to")
        _require(message["properties"]["from"], "phone_number")
    for name in MESSAGE_SCHEMAS:
        _require(components[name]["properties"]["to"]["items"], "phone_number", "status")
    _require(components["RCSToItem"], "phone_number", "status")
    for name in EVENT_SCHEMAS:
        _require(components[name], "payload")


def _resolve(node: Any, components: dict[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """A copy of ``node`` with every ``$ref`` replaced by what it points to."""
    if isinstance(node, list):
        return [_resolve(item, components, seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if ref is not None:
        name = ref.removeprefix("#/components/schemas/")
        assert name not in seen, f"recursive schema {name}"
        return _resolve(components[name], components, (*seen, name))
    resolved: dict[str, Any] = {}
    if "properties" in node and "type" not in node:
        resolved["type"] = "object"  # OpenAPI's reading: a schema with properties is an object
    if "properties" in node and "additionalProperties" not in node:
        # Properties the spec does not list are allowed, and generated; small ones keep the
        # examples fast (the SDK never looks inside them anyway).
        resolved["additionalProperties"] = SMALL_EXTRA
    for key, value in node.items():
        if key in ("example", "examples", "description", "readOnly") or key.startswith("x-"):
            continue  # annotations; "example" values need not match their own schemas
        if key == "format" and value in UNKNOWN_FORMATS:
            continue
        if key == "properties":  # property names are names, not keywords to strip
            resolved[key] = {k: _resolve(v, components, seen) for k, v in value.items()}
        else:
            resolved[key] = _resolve(value, components, seen)
    return resolved


@cache
def _components() -> dict[str, Any]:
    components = copy.deepcopy(SPEC["components"]["schemas"])
    _identity_required(components)
    return components  # type: ignore[no-any-return]


def answer_schemas(method: str, path: str) -> list[dict[str, Any]]:
    """The 2xx answer schema of one operation, self-contained, with ``data`` required.

    A ``data`` that is one of several schemas (outbound or inbound message) gives one schema
    per choice: each is generated on its own, which is both faster and surer to reach both.
    """
    responses = SPEC["paths"][path][method]["responses"]
    [ok] = [r for code, r in responses.items() if code.startswith("2")]
    schema = _resolve(ok["content"]["application/json"]["schema"], _components())
    if READ_AS[method, path][1] == "bare":
        return [schema]
    _require(schema, "data")
    schema["type"] = "object"
    choices = schema["properties"]["data"].pop("oneOf", None)
    if choices is None:
        return [schema]
    return [{**schema, "properties": {**schema["properties"], "data": c}} for c in choices]


def webhook_schema(name: str) -> dict[str, Any]:
    """The body schema of one webhook, self-contained, with ``data`` required."""
    body = SPEC["webhooks"][name]["post"]["requestBody"]["content"]["application/json"]
    schema = _resolve(body["schema"], _components())
    _require(schema, "data")
    return schema  # type: ignore[no-any-return]


def _response(method: str, body: bytes) -> Response:
    return Response(200, {}, body, method.upper(), "https://api.telnyx.com/v2/x")


async def _no_next_page(number: int) -> Page[Any]:  # pragma: no cover - never fetched
    raise AssertionError(number)


def test_every_operation_is_covered() -> None:
    """The table above names every operation in the spec, so a new one cannot be missed."""
    operations = {
        (method, path)
        for path, item in SPEC["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "responses" in op
    }
    assert operations == set(READ_AS)


def _distinct_answers() -> list[Any]:
    """One case per distinct (answer schema, model): the six sends share one schema."""
    seen: dict[str, Any] = {}
    for method, path in READ_AS:
        cls, shape = READ_AS[method, path]
        for i, schema in enumerate(answer_schemas(method, path)):
            key = json.dumps([schema, cls.__name__, shape], sort_keys=True)
            case = pytest.param(method, path, schema, id=f"{method} {path} #{i}")
            seen.setdefault(key, case)
    return list(seen.values())


@pytest.mark.parametrize(("method", "path", "schema"), _distinct_answers())
def test_every_answer_the_spec_allows_is_read(
    method: str, path: str, schema: dict[str, Any]
) -> None:
    """Any answer valid under the operation's 2xx schema structures into its model."""
    cls, shape = READ_AS[method, path]
    read: Callable[[Response], Any]
    if shape == "page":

        def read(r: Response) -> Any:
            return decode_page(r, cls, _no_next_page, 1).data

    else:

        def read(r: Response) -> Any:
            return decode_model(r, cls, envelope=shape == "one")

    @FEW
    @given(from_schema(schema, allow_x00=False))
    def check(answer: Any) -> None:
        body = json.dumps(answer).encode()
        result = read(_response(method, body))
        items = result if shape == "page" else (result,)
        for item in items:
            assert isinstance(item, cls)
        if shape != "page":
            assert result.raw == (answer["data"] if shape == "one" else answer)

    check()


@pytest.mark.parametrize("name", list(SPEC["webhooks"]))
def test_every_webhook_the_spec_allows_parses(name: str) -> None:
    """Any body valid under a webhook's schema parses into its event, or an UnknownEvent."""

    @FEW
    @given(from_schema(webhook_schema(name), allow_x00=False), st.booleans())
    def check(document: Any, as_bytes: bool) -> None:
        body = json.dumps(document)
        event = webhooks.parse(body.encode() if as_bytes else body)
        data = document["data"]
        event_type = data.get("event_type")
        if event_type in ("message.sent", "message.finalized"):
            assert isinstance(event, webhooks.DeliveryUpdate)
        elif event_type == "message.received":
            assert isinstance(event, webhooks.InboundMessage)
        elif data.get("record_type") == "link_clicked" and isinstance(data.get("url"), str):
            assert isinstance(event, webhooks.ReplacedLinkClick)
            assert event.url == data["url"]
        else:
            assert isinstance(event, webhooks.UnknownEvent)
        assert event.raw == document

    check()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
EXAMPLE = SPEC["components"]["schemas"]["OutboundMessagePayload"]["example"]
IDENTITY = {"id", "from", "to"}


@settings(FEW, max_examples=60)  # small answers: cheap to generate
@given(
    field=st.sampled_from(sorted(set(EXAMPLE) - IDENTITY)),
    odd=json_values,
    as_webhook=st.booleans(),
)
def test_one_odd_value_costs_only_its_own_field(field: str, odd: Any, as_webhook: bool) -> None:
    """Any JSON value in any optional field of a send's answer or a delivery update leaves
    every other field as it was."""
    changed = {**EXAMPLE, field: odd}
    if as_webhook:
        event = webhooks.parse({"data": {"event_type": "message.sent", "payload": changed}})
        assert isinstance(event, webhooks.DeliveryUpdate)
        message = event.payload
    else:
        message = decode_model(_response("post", json.dumps({"data": changed}).encode()), Message)
    original = decode_model(_response("post", json.dumps({"data": EXAMPLE}).encode()), Message)
    python_name = "from_" if field == "from" else field
    for name in attrs.fields_dict(Message):
        if name not in (python_name, "_raw_source", "_raw_path"):
            assert getattr(message, name) == getattr(original, name), name
    assert message.raw[field] == odd
