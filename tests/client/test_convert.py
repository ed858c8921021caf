"""The shared converter on odd but possible JSON: what degrades one field, what is refused."""

from __future__ import annotations

import json
import pickle
from decimal import Decimal
from typing import Any

import attrs
import pytest

from telnyx_messaging import (
    Address,
    Message,
    Money,
    NumberHealth,
    OptOut,
    PhoneNumberMessagingSettings,
    Recipient,
    WhatsAppMessage,
)
from telnyx_messaging._convert import UnusableAnswerError, json_path, structure, structure_answer

BARE: dict[str, Any] = {
    "id": "m1",
    "from": {"phone_number": "+18445550001"},
    "to": [{"phone_number": "+13125550002", "status": "queued"}],
}


def message(**fields: Any) -> Message:
    return structure({**BARE, **fields}, Message)


@pytest.mark.parametrize(
    ("data", "field", "expected"),
    [
        ({"parts": 2.0}, "parts", 2),
        ({"wait_seconds": 1}, "wait_seconds", 1.0),
        ({"wait_seconds": 0.25}, "wait_seconds", 0.25),
        ({"cc": None}, "cc", ()),
        ({"tags": []}, "tags", ()),
        ({"tcr_campaign_billable": False}, "tcr_campaign_billable", False),
    ],
)
def test_json_numbers_and_arrays_are_read_by_meaning(
    data: dict[str, Any], field: str, expected: Any
) -> None:
    """An integral float is an integer, an integer is a float, null is an empty list."""
    assert getattr(message(**data), field) == expected


@pytest.mark.parametrize(
    ("data", "field", "expected"),
    [
        ({"parts": "2"}, "parts", None),
        ({"parts": 2.5}, "parts", None),
        ({"parts": True}, "parts", None),
        ({"wait_seconds": "0.5"}, "wait_seconds", None),
        ({"text": 5}, "text", None),
        ({"tcr_campaign_billable": "no"}, "tcr_campaign_billable", None),
        ({"received_at": 1700000000}, "received_at", None),
        ({"received_at": "yesterday"}, "received_at", None),
        ({"cost": "0.0051"}, "cost", None),
        ({"cost": {"amount": "lots", "currency": "USD"}}, "cost", Money(currency="USD")),
        ({"cost_breakdown": []}, "cost_breakdown", None),
        ({"tags": "Greetings"}, "tags", ()),
        ({"tags": ["a", 5, None, "b"]}, "tags", ("a", "b")),
        ({"media": {"url": "u"}}, "media", ()),
        ({"cc": ["+1", {"phone_number": "+2"}]}, "cc", (Address(phone_number="+2"),)),
        ({"errors": ["oops"]}, "errors", ()),
    ],
)
def test_an_odd_value_degrades_only_its_own_field(
    data: dict[str, Any], field: str, expected: Any
) -> None:
    """A value that does not fit becomes None (or is left out of its list); the rest is read."""
    msg = message(**data)
    assert getattr(msg, field) == expected
    assert msg.id == "m1"
    assert msg.to[0].status == "queued"
    key = "from" if field == "from_" else field
    assert msg.raw[key] == data[key]  # the odd value itself is still in raw


def test_an_error_entry_keeps_what_fits() -> None:
    """An error entry with an odd code keeps its title: the entry, not the list, degrades."""
    msg = message(errors=[{"code": 40008, "title": "Undeliverable"}])
    [error] = msg.errors
    assert (error.code, error.title) == (None, "Undeliverable")


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({**BARE, "id": None}, "id is missing"),
        ({**BARE, "id": 42}, "id is a number"),
        ({k: v for k, v in BARE.items() if k != "to"}, "to is missing"),
        ({**BARE, "to": "+13125550002"}, "to is a string"),
        ({**BARE, "to": [{"phone_number": "+1"}]}, r"to\[0\]\.status is missing"),
        ({**BARE, "to": [{"status": "queued"}]}, r"to\[0\]\.phone_number is missing"),
        ({**BARE, "to": ["+13125550002"]}, r"to\[0\] is a string"),
        ({**BARE, "from": "+18445550001"}, "from is a string"),
        ({**BARE, "from": {}}, r"from\.phone_number is missing"),
    ],
)
def test_what_makes_a_message_is_required(data: dict[str, Any], where: str) -> None:
    """Without its id, sender or recipients, an answer is not a message: it raises, saying where."""
    with pytest.raises(UnusableAnswerError, match=where):
        structure(data, Message)


@pytest.mark.parametrize("data", [[BARE], "m1", None, 3])
def test_an_answer_that_is_not_an_object_is_refused(data: Any) -> None:
    """Only a JSON object can be a model."""
    with pytest.raises(UnusableAnswerError, match=r"not a Message object|is missing"):
        structure(data, Message)


def test_the_error_names_the_path_inside_the_answer() -> None:
    """An error from an answer's bytes names the place from the top of the answer."""
    body = json.dumps({"data": {**BARE, "to": [{"phone_number": "+1"}]}}).encode()
    with pytest.raises(UnusableAnswerError) as caught:
        structure_answer(json.loads(body)["data"], Message, body, ("data",))
    assert caught.value.path == ("data", "to", 0, "status")
    assert caught.value.problem == "is missing (or null)"
    assert json_path(caught.value.path) == "data.to[0].status"


def test_money_keeps_exact_decimals_from_strings_and_numbers() -> None:
    """Amounts are Decimal whether Telnyx sends "0.0051" or 0.0051, without float error."""
    assert structure({"amount": "0.0051"}, Money).amount == Decimal("0.0051")
    assert structure({"amount": 0.1}, Money).amount == Decimal("0.1")
    assert structure({"amount": 3}, Money).amount == Decimal("3")
    for odd in ("lots", "NaN", "Infinity", True, [], {}):
        assert structure({"amount": odd}, Money).amount is None


def test_a_broken_optional_object_degrades_to_none() -> None:
    """A nested object missing what the spec requires of it is None, not a failed answer."""
    settings = structure(
        {"phone_number": "+1", "health": {"message_count": 3}, "features": {"sms": {}}},
        PhoneNumberMessagingSettings,
    )
    assert settings.health is None
    assert settings.features is not None
    assert settings.features.sms is None
    assert settings.phone_number == "+1"


def test_required_fields_of_optional_objects_are_typed() -> None:
    """What the spec requires of a number's health is read as given when present."""
    health = {"message_count": 3, "inbound_outbound_ratio": 1, "success_ratio": 0.5}
    settings = structure({"health": {**health, "spam_ratio": 0.0}}, PhoneNumberMessagingSettings)
    assert settings.health == NumberHealth(
        message_count=3, inbound_outbound_ratio=1.0, success_ratio=0.5, spam_ratio=0.0
    )


def test_unknown_fields_stay_reachable_through_raw() -> None:
    """Fields the SDK does not know are skipped by the model and kept in raw."""
    data = {"from": "+1", "brand_new": {"x": 1}}
    optout = structure(data, OptOut)
    assert optout.from_ == "+1"
    assert optout.raw["brand_new"] == {"x": 1}


def test_raw_is_looked_up_in_the_answer_bytes_at_every_level() -> None:
    """Models from an answer's bytes keep no dict, yet raw finds each object's own JSON."""
    data = {
        **BARE,
        "to": [BARE["to"][0], {"phone_number": "+2", "status": "sent", "new": 1}],
        "cost_breakdown": {"rate": {"amount": "0.1", "tax": "0.01"}},
    }
    body = json.dumps({"data": data}).encode()
    msg = structure_answer(json.loads(body)["data"], Message, body, ("data",))
    assert msg.raw == data
    assert msg.to[1].raw == {"phone_number": "+2", "status": "sent", "new": 1}
    assert msg.cost_breakdown is not None
    assert msg.cost_breakdown.rate is not None
    assert msg.cost_breakdown.rate.raw["tax"] == "0.01"
    assert not any(isinstance(v, dict) for v in attrs.astuple(msg, recurse=False))
    assert pickle.loads(pickle.dumps(msg)).to[1].raw["new"] == 1  # noqa: S301 - our own


def test_models_built_by_hand_have_an_empty_raw() -> None:
    """A model made in code has raw == {} and compares equal to a parsed one."""
    built = Message(
        id="m1",
        from_=Address(phone_number="+18445550001"),
        to=(Recipient(phone_number="+13125550002", status="queued"),),
    )
    assert built.raw == {}
    assert built == structure(BARE, Message)
    whatsapp = WhatsAppMessage(id="w", from_=Address(phone_number="+1"), to=())
    assert whatsapp.raw == {}


def test_models_compare_by_value_not_by_raw() -> None:
    """Two models with equal fields are equal even when their raw JSON differs."""
    a = structure({"phone_number": "+1", "extra": 1}, Address)
    b = structure({"phone_number": "+1"}, Address)
    assert a == b
    assert hash(a) == hash(b)
    assert "extra" not in repr(a)


def test_a_page_of_items_must_be_an_array() -> None:
    """A list answer whose items are not an array is refused."""
    with pytest.raises(UnusableAnswerError, match="not an array"):
        structure({"data": []}, tuple[OptOut, ...])
    assert structure([{"to": "+1"}], tuple[OptOut, ...])[0].to == "+1"


@attrs.frozen(kw_only=True)
class _Checked:
    count: int = attrs.field(validator=attrs.validators.ge(0))
    label: str | None = None


def test_a_class_with_a_validator_is_built_through_its_init() -> None:
    """Slots are set directly only where __init__ would do nothing more; validators still run."""
    assert structure({"count": 2, "label": "x"}, _Checked) == _Checked(count=2, label="x")
    with pytest.raises(ValueError, match="count"):
        structure({"count": -1}, _Checked)
