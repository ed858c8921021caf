"""telnyx_messaging.recipients: numbers as people write them, made E.164, never guessed."""

from __future__ import annotations

import pytest

from telnyx_messaging import InvalidArgumentError
from telnyx_messaging.recipients import NumberFix, normalize_number, normalize_numbers


@pytest.mark.parametrize(
    ("written", "e164"),
    [
        ("(312) 555-0002", "+13125550002"),
        ("13125550002", "+13125550002"),
        ("312.555.0002", "+13125550002"),
        ("+13125550002", "+13125550002"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_numbers_people_write_become_e164(written: str, e164: str) -> None:
    """National and formatted numbers of the default region, and international ones."""
    assert normalize_number(written, default_region="US") == e164


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("abc", "it is not a phone number"),
        ("555-01", "cannot be read as a phone number"),
        ("+15555550100", "not a valid number in US"),
        ("020 7946 0958", "not the length of a number in US"),
        ("+999 123", "cannot be read as a phone number"),
        ("", "non-empty string"),
    ],
)
def test_what_cannot_be_read_is_refused_with_the_reason(written: str, reason: str) -> None:
    """A number that is not valid is refused, saying why, rather than guessed at."""
    with pytest.raises(InvalidArgumentError, match=reason):
        normalize_number(written, default_region="US")


def test_a_region_must_be_a_region_code() -> None:
    """A default_region that is not an ISO 3166 code is the caller's mistake, said once."""
    with pytest.raises(InvalidArgumentError, match="two-letter region code"):
        normalize_numbers([{"to": "3125550002"}], default_region="USA")


def test_normalize_numbers_says_which_rows_changed_and_which_it_could_not_read() -> None:
    """Every row comes back in order, as a copy; changed and refused rows are listed with
    their 0-based index; sendable() leaves the refused ones out."""
    rows = [
        {"to": "(312) 555-0002", "name": "A"},
        {"to": "+13125550003", "name": "B"},
        {"to": "nope", "name": "C"},
        {"name": "D"},
    ]
    checked = normalize_numbers(rows, default_region="us")
    assert [r["to"] for r in checked.rows[:3]] == ["+13125550002", "+13125550003", "nope"]
    assert rows[0]["to"] == "(312) 555-0002"  # the caller's rows are not changed
    assert checked.changed == [NumberFix(0, "(312) 555-0002", "+13125550002")]
    assert [(f.index, f.before, f.after) for f in checked.refused] == [
        (2, "nope", None),
        (3, "None", None),
    ]
    assert all(f.reason for f in checked.refused)
    assert [r["name"] for r in checked.sendable()] == ["A", "B"]


def test_another_key_can_be_normalised() -> None:
    """key= names the field to read (e.g. a CRM export's 'phone')."""
    checked = normalize_numbers([{"phone": "3125550002"}], default_region="US", key="phone")
    assert checked.rows == [{"phone": "+13125550002"}]


def test_the_module_exports_what_it_documents() -> None:
    """__all__ is sorted, every name has a docstring, and the API reference shows the module."""
    from pathlib import Path

    import telnyx_messaging.recipients as recipients

    assert list(recipients.__all__) == sorted(recipients.__all__)
    for name in recipients.__all__:
        assert getattr(recipients, name).__doc__, name
    reference = Path(__file__).parents[2] / "docs" / "reference" / "clients.md"
    assert "::: telnyx_messaging.recipients" in reference.read_text(encoding="utf-8")
