"""SMS part counting for send-bulk --dry-run, checked against the GSM 03.38 codec `gsm0338`."""

from __future__ import annotations

import gsm0338  # noqa: F401 - registers the "gsm03.38" codec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from telnyx_messaging._cli.sms import _BASIC, _EXTENSION, GSM7, UCS2, sms_parts


def septets(text: str) -> int:
    """Septets per the independent codec: each byte it writes is one septet."""
    return len(text.encode("gsm03.38"))


def test_the_alphabet_matches_the_codec() -> None:
    """Every basic character is one septet and every extension character two, per gsm0338."""
    assert len(_BASIC) == 127
    for char in _BASIC:
        assert septets(char) == 1, repr(char)
    for char in _EXTENSION:
        assert septets(char) == 2, repr(char)


@given(st.text(alphabet=sorted(_BASIC | _EXTENSION), max_size=500))
def test_gsm_units_agree_with_the_codec(text: str) -> None:
    """Any text over the GSM alphabet is GSM-7 with as many septets as the codec writes."""
    counted = sms_parts(text)
    assert counted.encoding == GSM7
    assert counted.units == septets(text)


@pytest.mark.parametrize(
    ("text", "encoding", "units", "parts"),
    [
        ("", GSM7, 0, 0),
        ("a" * 160, GSM7, 160, 1),
        ("a" * 161, GSM7, 161, 2),
        ("a" * 306, GSM7, 306, 2),
        ("a" * 307, GSM7, 307, 3),
        ("€" * 80, GSM7, 160, 1),  # extension characters count two septets
        ("€" * 81, GSM7, 162, 2),
        # 152 septets then an escape pair: it cannot straddle parts 1 and 2, so it moves whole.
        ("a" * 152 + "{" + "a" * 10, GSM7, 164, 2),
        ("a" * 152 + "{" + "a" * 152, GSM7, 306, 3),
        ("a" * 153 + "{" + "a" * 151, GSM7, 306, 2),
        ("é" * 160, GSM7, 160, 1),  # in the basic table
        ("á" * 10, UCS2, 10, 1),  # not in it: the whole text turns UCS-2
        ("Hi 👋", UCS2, 5, 1),  # an emoji is a surrogate pair
        ("ü" * 69 + "ж", UCS2, 70, 1),
        ("ж" * 71, UCS2, 71, 2),
        ("ж" * 134, UCS2, 134, 2),
        ("ж" * 135, UCS2, 135, 3),
        ("ж" * 66 + "👋" + "ж", UCS2, 69, 1),
        ("ж" * 66 + "👋" + "ж" * 5, UCS2, 73, 2),  # the pair moves to part 2
    ],
)
def test_parts(text: str, encoding: str, units: int, parts: int) -> None:
    """Encoding, units and parts for the edges: 160/153 septets, 70/67 units, split pairs."""
    assert (sms_parts(text).encoding, sms_parts(text).units, sms_parts(text).parts) == (
        encoding,
        units,
        parts,
    )


@given(st.text(max_size=400))
def test_parts_cover_the_text(text: str) -> None:
    """For any text the parts hold every unit and none holds more than its share."""
    counted = sms_parts(text)
    single, multi = (160, 153) if counted.encoding == GSM7 else (70, 67)
    if counted.units <= single:
        assert counted.parts == (1 if text else 0)
    else:
        # A moved escape or surrogate pair leaves at most one unit unused per part.
        assert (multi - 1) * (counted.parts - 1) < counted.units <= multi * counted.parts
