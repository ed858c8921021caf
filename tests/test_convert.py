"""The shared converter on odd but possible JSON: what it accepts and what it refuses."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from telnyx_messaging import Message, Money, NumberHealth, OptOut
from telnyx_messaging._convert import structure


@pytest.mark.parametrize(
    ("data", "field", "expected"),
    [
        ({"parts": 2.0}, "parts", 2),
        ({"wait_seconds": 1}, "wait_seconds", 1.0),
        ({"wait_seconds": 0.25}, "wait_seconds", 0.25),
        ({"to": None}, "to", ()),
        ({"to": ({"phone_number": "+1"},)}, "to", ("+1",)),
        ({"tags": []}, "tags", ()),
        ({"tcr_campaign_billable": False}, "tcr_campaign_billable", False),
    ],
)
def test_json_numbers_and_arrays_are_read_by_meaning(
    data: dict[str, Any], field: str, expected: Any
) -> None:
    """An integral float is an integer, an integer is a float, null or a tuple is a list."""
    value = getattr(structure(data, Message), field)
    if field == "to":
        value = tuple(a.phone_number for a in value)
    assert value == expected


@pytest.mark.parametrize(
    "data",
    [
        {"parts": 2.5},
        {"parts": "2"},
        {"parts": True},
        {"wait_seconds": "0.5"},
        {"text": 5},
        {"tcr_campaign_billable": "no"},
        {"to": "+13125550002"},
        {"to": {"phone_number": "+1"}},
        {"received_at": 1700000000},
        {"from": ["+1"]},
    ],
)
def test_wrong_json_types_are_refused(data: dict[str, Any]) -> None:
    """A value of the wrong JSON type raises instead of being coerced into nonsense."""
    with pytest.raises((TypeError, ValueError)):
        structure(data, Message)


def test_money_keeps_exact_decimals_from_strings_and_numbers() -> None:
    """Amounts are Decimal whether Telnyx sends "0.0051" or 0.0051, without float error."""
    assert structure({"amount": "0.0051"}, Money).amount == Decimal("0.0051")
    assert structure({"amount": 0.1}, Money).amount == Decimal("0.1")
    with pytest.raises(ValueError, match="decimal"):
        structure({"amount": "lots"}, Money)


def test_unknown_fields_stay_reachable_through_raw() -> None:
    """Fields the SDK does not know are skipped by the model and kept in raw."""
    data = {"from": "+1", "brand_new": {"x": 1}}
    optout = structure(data, OptOut)
    assert optout.from_ == "+1"
    assert optout.raw["brand_new"] == {"x": 1}


def test_models_compare_by_value_not_by_raw() -> None:
    """Two models with equal fields are equal even when their raw JSON differs."""
    a = structure({"message_count": 3, "extra": 1}, NumberHealth)
    b = structure({"message_count": 3}, NumberHealth)
    assert a == b
    assert "extra" not in repr(a)
