"""Which event a verified body becomes, and how odd values in it degrade (webhooks.parse)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from telnyx_messaging import webhooks
from telnyx_messaging.testing import WebhookSigner

EXAMPLES = Path(__file__).parents[1] / "spec" / "webhook-examples"
NOW = 1_700_000_000
SIGNER = WebhookSigner(seed=b"\x07" * 32)


def example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / name).read_text())  # type: ignore[no-any-return]


def unwrap(document: dict[str, Any]) -> webhooks.WebhookEvent:
    body, headers = SIGNER.sign(document, NOW)
    return webhooks.unwrap(body, headers, public_key=SIGNER.public_key, now=NOW)


@pytest.mark.parametrize(
    ("field", "odd"),
    [
        ("parts", "2"),
        ("cost", {"amount": "n/a", "currency": "USD"}),
        ("sent_at", "soon"),
        ("media", "none"),
        ("text", {"rich": True}),
    ],
)
def test_a_verified_delivery_update_survives_an_odd_field(field: str, odd: Any) -> None:
    """One odd value in a verified webhook empties that field; the event is still delivered."""
    document = example("message.finalized.json")
    document["data"]["payload"][field] = odd

    event = unwrap(document)

    assert isinstance(event, webhooks.DeliveryUpdate)
    value = getattr(event.payload, field)
    assert value in (None, ()) or value.amount is None
    assert event.payload.raw[field] == odd
    assert event.payload.id == document["data"]["payload"]["id"]


def test_bare_link_click_parses() -> None:
    """The spec's link click, its fields directly in data, is a ReplacedLinkClick."""
    event = unwrap(example("replaced-link-click.json"))

    assert isinstance(event, webhooks.ReplacedLinkClick)
    assert (event.url, event.to, event.record_type) == (
        "https://telnyx.com",
        "18445550001",
        "link_clicked",
    )
    assert event.message_id == "7ee4241c-f127-47e5-9c34-3aac291f8058"
    assert event.time_clicked == datetime(2019, 4, 1, 14, 45, 45, 450000, tzinfo=timezone.utc)
    assert event.id is None


@pytest.mark.parametrize("envelope_record_type", ["event", "link_clicked"])
def test_link_click_wrapped_in_payload_parses(envelope_record_type: str) -> None:
    """A link click wrapped in data.payload, as other events are, reads its fields from there."""
    click = example("replaced-link-click.json")["data"]
    document = {
        "data": {
            "event_type": "message.link_click",
            "id": "e1",
            "occurred_at": "2019-04-01T14:45:46Z",
            "record_type": envelope_record_type,
            "payload": click,
        },
        "meta": {"attempt": 2, "delivered_to": "https://example.com/hooks"},
    }

    event = unwrap(document)

    assert isinstance(event, webhooks.ReplacedLinkClick)
    assert (event.url, event.message_id, event.to) == (
        click["url"],
        click["message_id"],
        click["to"],
    )
    assert (event.id, event.event_type, event.record_type) == (
        "e1",
        "message.link_click",
        "link_clicked",
    )
    assert event.meta is not None
    assert event.meta.attempt == 2
    assert event.raw == document


@pytest.mark.parametrize(
    "data",
    [
        pytest.param({"record_type": "link_clicked"}, id="click-without-url"),
        pytest.param({"record_type": "link_clicked", "payload": {"to": "+1"}}, id="no-url"),
        pytest.param({"event_type": "message.new", "payload": {"url": "u"}}, id="new-type"),
        pytest.param({"event_type": 7, "payload": {"id": "m1"}}, id="odd-event-type"),
        pytest.param({"record_type": "event", "payload": None}, id="no-event-type"),
    ],
)
def test_bodies_that_are_no_known_event_are_unknown_events(data: dict[str, Any]) -> None:
    """A body none of the known events fits is an UnknownEvent with its JSON, never empty fields."""
    document = {"data": data}

    event = unwrap(document)

    assert type(event) is webhooks.UnknownEvent
    assert event.payload == data.get("payload")
    assert event.raw == document


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        pytest.param(None, "payload is missing", id="no-payload"),
        pytest.param("m1", "payload is a string", id="payload-string"),
        pytest.param({"text": "hi"}, "payload.id is missing", id="no-id"),
        pytest.param(
            {"id": "m1", "from": {"phone_number": "+1"}, "to": [{"phone_number": "+2"}]},
            r"payload.to\[0\].status is missing",
            id="recipient-without-status",
        ),
    ],
)
def test_a_message_event_without_a_message_is_a_parse_error(payload: Any, where: str) -> None:
    """A known message event whose payload is not a message raises, saying what is missing."""
    document = {"data": {"event_type": "message.received", "payload": payload}}

    with pytest.raises(webhooks.WebhookParseError, match=where):
        unwrap(document)


def test_odd_delivery_details_do_not_lose_the_event() -> None:
    """A meta that is not an object is None; odd values inside it are None."""
    document = example("message.received.json")
    document["meta"] = "first try"
    assert unwrap(document).meta is None

    document["meta"] = {"attempt": "1", "delivered_to": "https://example.com"}
    meta = unwrap(document).meta
    assert meta is not None
    assert (meta.attempt, meta.delivered_to) == (None, "https://example.com")
    assert meta.raw == document["meta"]


def test_event_envelope_odd_values_degrade() -> None:
    """An odd id or timestamp in the envelope is None; the payload is still read."""
    document = example("message.sent.json")
    document["data"]["id"] = 12
    document["data"]["occurred_at"] = "today"

    event = unwrap(document)

    assert isinstance(event, webhooks.DeliveryUpdate)
    assert (event.id, event.occurred_at) == (None, None)
    assert event.payload.to[0].status == "queued"


def test_parse_of_a_decoded_body_keeps_it_as_raw() -> None:
    """parse() of a dict reads the same event, with raw the very dict given."""
    document = example("message.received.json")

    event = webhooks.parse(document)

    assert isinstance(event, webhooks.InboundMessage)
    assert event.raw is document
    assert event.payload.raw is document["data"]["payload"]
    assert event.payload.from_.phone_number == document["data"]["payload"]["from"]["phone_number"]
