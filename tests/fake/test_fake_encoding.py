"""The encoding and parts the fake reports for a text, checked against the codec `gsm0338`.

The codec is an independent oracle: the fake keeps its own alphabet (it may not import the
CLI's), and these tests hold that alphabet and the part rules to what the codec writes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import gsm0338  # noqa: F401 - registers the "gsm03.38" codec
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from telnyx_messaging.testing import FakeTelnyx
from telnyx_messaging.testing._sms import GSM_ALPHABET, sms_encoding

SMS = {"from": "+18445550001", "to": "+13125550002"}
CURLY_APOSTROPHE = "\u2019"  # not in GSM 03.38
SIOBHAN = f"Hi Siobhán O{CURLY_APOSTROPHE}Brien, our spring sale starts now"


def oracle_units(text: str) -> tuple[str, int]:
    """GSM-7 and its septets if the codec can write ``text``, else UCS-2 and UTF-16 units."""
    try:
        return "GSM-7", len(text.encode("gsm03.38"))  # one byte per septet
    except UnicodeEncodeError:
        return "UCS-2", len(text.encode("utf-16-be")) // 2


def oracle_parts(encoding: str, units: int) -> int:
    """Parts for texts with no escape or surrogate pair at a part boundary."""
    single, per_part = (160, 153) if encoding == "GSM-7" else (70, 67)
    return 1 if units <= single else -(-units // per_part)


def test_the_alphabet_matches_the_codec() -> None:
    """The fake's GSM alphabet is what the codec writes: 1 septet basic, 2 for the extension."""
    assert sum(width == 1 for width in GSM_ALPHABET.values()) == 127
    assert sum(width == 2 for width in GSM_ALPHABET.values()) == 10
    for char, width in GSM_ALPHABET.items():
        assert len(char.encode("gsm03.38")) == width, repr(char)


# ESC (0x1B) is left out: the codec writes it as a septet, but it is the escape to the
# extension table, not a character a text carries; the fake counts it as non-GSM.
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x1b"), max_size=60))
@example("\U0001f600" * 35)  # 70 UTF-16 units: one part
@example("\U0001f600" * 36)  # 72 units: two
def test_short_texts_agree_with_the_codec(text: str) -> None:
    """Any short text: GSM-7 exactly when the codec can write it, and one part while its units
    fit one part (60 characters outside the BMP are 120 UTF-16 units: two parts)."""
    encoding, units = oracle_units(text)
    got_encoding, parts = sms_encoding(text)
    assert got_encoding == encoding
    if units <= (160 if encoding == "GSM-7" else 70):
        assert parts == 1
    else:  # a surrogate pair at a boundary may add a part, never take one away
        assert oracle_parts(encoding, units) <= parts <= oracle_parts(encoding, units) + 1


@given(st.text(alphabet="aé€ç✓ЖЖ", min_size=1, max_size=400))
def test_long_texts_agree_with_the_codec(text: str) -> None:
    """Long texts split by the single-part limit and the per-part size of their encoding."""
    encoding, units = oracle_units(text)
    got_encoding, parts = sms_encoding(text)
    assert got_encoding == encoding
    # A pair at a boundary may add a part; never fewer than the plain division, never > 10.
    assert min(10, oracle_parts(encoding, units)) <= parts <= 10


@pytest.mark.parametrize(
    ("text", "encoding", "parts"),
    [
        ("", "GSM-7", 1),  # an MMS without text still reports one part (the spec's minimum)
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("€" * 80, "GSM-7", 1),  # extension characters count two septets
        ("€" * 81, "GSM-7", 2),
        ("a" * 152 + "{" + "a" * 152, "GSM-7", 3),  # the escape pair moves whole to part 2
        (SIOBHAN, "UCS-2", 1),  # the curly apostrophe is not GSM: the whole text is UCS-2
        ("ж" * 70, "UCS-2", 1),
        ("ж" * 71, "UCS-2", 2),
        ("ж" * 134, "UCS-2", 2),
        ("ж" * 135, "UCS-2", 3),
        ("ж" * 66 + "👋" + "ж" * 5, "UCS-2", 2),  # a surrogate pair counts two units
        ("ж" * 2000, "UCS-2", 10),  # the spec caps parts at 10
    ],
)
def test_parts(text: str, encoding: str, parts: int) -> None:
    """Part counts at the limits, checked by hand against the codec's unit counts."""
    assert oracle_units(text)[0] == encoding
    assert sms_encoding(text) == (encoding, parts)


def test_requested_ucs2_forces_ucs2() -> None:
    """encoding="ucs2" sends even a GSM text as UCS-2, with UCS-2's part sizes."""
    assert sms_encoding("a" * 100, "ucs2") == ("UCS-2", 2)
    assert sms_encoding("a" * 100, "gsm7") == ("GSM-7", 1)
    assert sms_encoding("a" * 100, "auto") == ("GSM-7", 1)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelnyx]:
    async with FakeTelnyx(send_seconds=3600) as server:
        yield server


async def send(fake: FakeTelnyx, **body: Any) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {fake.api_key}"}
    async with (
        aiohttp.ClientSession(headers=headers) as http,
        http.post(fake.base_url + "/messages", json={**SMS, **body}) as response,
    ):
        return response.status, await response.json()


async def test_a_non_gsm_text_is_stored_as_ucs2(fake: FakeTelnyx) -> None:
    """A curly apostrophe makes the message UCS-2, in the answer and in fake.messages."""
    status, body = await send(fake, text=SIOBHAN)
    assert status == 200
    message = body["data"]
    assert (message["encoding"], message["parts"]) == ("UCS-2", 1)
    assert fake.messages[message["id"]]["encoding"] == "UCS-2"
    status, body = await send(fake, text=SIOBHAN + " " + "x" * 30)
    assert (body["data"]["encoding"], body["data"]["parts"]) == ("UCS-2", 2)


async def test_requested_ucs2_is_reported(fake: FakeTelnyx) -> None:
    """encoding="ucs2" on the request makes a GSM text UCS-2."""
    status, body = await send(fake, text="Hello", encoding="ucs2")
    assert status == 200
    assert (body["data"]["encoding"], body["data"]["parts"]) == ("UCS-2", 1)


async def test_requested_gsm7_refuses_non_gsm_text(fake: FakeTelnyx) -> None:
    """encoding="gsm7" with a character GSM-7 lacks answers 400 naming it, as the spec says."""
    status, body = await send(fake, text=SIOBHAN, encoding="gsm7")
    assert status == 400
    (error,) = body["errors"]
    assert error["source"] == {"pointer": "/text"}
    assert repr(f"á{CURLY_APOSTROPHE}") in error["detail"]
    assert fake.messages == {}
    status, body = await send(fake, text="Hello {name}", encoding="gsm7")
    assert (status, body["data"]["encoding"]) == (200, "GSM-7")
