"""The pure core, without a socket: query and body encoding, keys, raw responses, decoding."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timezone

import pytest

from telnyx_messaging import (
    APIResponseValidationError,
    APIStatusError,
    Message,
    NotFoundError,
    Response,
)
from telnyx_messaging._convert import parse_datetime
from telnyx_messaging._http.codec import (
    decode_model,
    encode_body,
    encode_query,
    error_from_response,
    new_idempotency_key,
)


def _response(status: int, body: bytes, headers: dict[str, str] | None = None) -> Response:
    return Response(status, headers or {}, body, "GET", "https://api.telnyx.com/v2/messages/x")


def test_query_drops_absent_values_and_spells_json_scalars() -> None:
    """None means not given; booleans go as true/false; dates as ISO 8601."""
    when = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert encode_query(
        {"a": None, "b": True, "c": False, "d": when, "e": date(2030, 1, 2), "f": 7, "g": ""}
    ) == [
        ("b", "true"),
        ("c", "false"),
        ("d", "2030-01-02T03:04:05+00:00"),
        ("e", "2030-01-02"),
        ("f", "7"),
        ("g", ""),
    ]


def test_body_is_compact_utf8_json() -> None:
    """Bodies are compact, keep non-ASCII text as UTF-8, and write datetimes as ISO 8601."""
    when = datetime(2030, 1, 2, tzinfo=timezone.utc)
    encoded = encode_body({"text": "héllo 👋", "send_at": when})
    assert encoded == '{"text":"héllo 👋","send_at":"2030-01-02T00:00:00+00:00"}'.encode()


def test_body_refuses_what_json_cannot_hold() -> None:
    """A value JSON cannot represent is a TypeError naming its type."""
    with pytest.raises(TypeError, match="set"):
        encode_body({"x": {1, 2}})


def test_idempotency_keys_are_distinct_uuid4s() -> None:
    """Generated keys are RFC 4122 version-4 UUIDs and do not repeat."""
    keys = [new_idempotency_key() for _ in range(2000)]
    assert len(set(keys)) == len(keys)
    for key in keys[:200]:
        parsed = uuid.UUID(key)
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
        assert str(parsed) == key


def test_raw_response_text_and_json() -> None:
    """A raw response gives its body as text (bad bytes replaced) and as JSON."""
    assert _response(200, b'{"a": 1}').json() == {"a": 1}
    assert _response(200, b"caf\xe9").text == "caf\ufffd"


def test_error_without_a_telnyx_body_keeps_the_raw_text() -> None:
    """An error answer that is not Telnyx's JSON still maps by status and shows the body."""
    exc = error_from_response(_response(404, b"<html>gone</html>"))
    assert isinstance(exc, NotFoundError)
    assert exc.errors == ()
    assert "<html>gone</html>" in str(exc)


@pytest.mark.parametrize(
    "body", [b'{"errors": "nope"}', b'{"errors": [1, "x"]}', b"[]", b"", b"null"]
)
def test_odd_error_bodies_give_empty_errors(body: bytes) -> None:
    """Error bodies of the wrong shape parse to an empty errors list, never an exception."""
    exc = error_from_response(_response(500, body))
    assert isinstance(exc, APIStatusError)
    assert exc.errors == ()
    assert exc.status == 500


def test_decode_without_envelope() -> None:
    """The cancel answer, which has no data envelope, decodes as the object itself."""
    bare = {"id": "m1", "from": {"phone_number": "+1"}, "to": []}
    msg = decode_model(_response(200, json.dumps(bare).encode()), Message, envelope=False)
    assert msg.id == "m1"
    assert msg.raw == bare


def test_decode_keeps_the_raw_body_on_failure() -> None:
    """A body that does not fit raises APIResponseValidationError carrying the raw bytes."""
    body = b'{"data": {"received_at": "yesterday"}}'
    with pytest.raises(APIResponseValidationError, match=r"data\.id is missing") as caught:
        decode_model(_response(200, body), Message)
    assert caught.value.response is not None
    assert caught.value.response.body == body


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019-01-23T18:10:02.574Z", datetime(2019, 1, 23, 18, 10, 2, 574000, tzinfo=timezone.utc)),
        ("2019-12-09T21:32:14.148+00:00", datetime(2019, 12, 9, 21, 32, 14, 148000, timezone.utc)),
        ("2019-12-09T21:32:14", datetime(2019, 12, 9, 21, 32, 14, tzinfo=timezone.utc)),
    ],
)
def test_timestamps_become_aware_datetimes(text: str, expected: datetime) -> None:
    """Every timestamp form Telnyx sends parses to an aware datetime (UTC when unmarked)."""
    parsed = parse_datetime(text)
    assert parsed == expected
    assert parsed.tzinfo is not None
