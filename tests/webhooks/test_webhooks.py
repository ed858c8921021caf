"""Webhook verification, parsing and the client's webhook namespace, on bytes: no sockets."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from multidict import CIMultiDict, CIMultiDictProxy
from nacl.signing import SigningKey

from telnyx_messaging import (
    AsyncClient,
    InvalidArgumentError,
    Message,
    TelnyxError,
    WebhookVerificationError,
    webhooks,
)
from telnyx_messaging.testing._signer import WebhookSigner
from telnyx_messaging.webhooks._signature import load_public_keys

EXAMPLES = Path(__file__).parents[1] / "spec" / "webhook-examples"
NOW = 1_700_000_000
SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")


@pytest.fixture(scope="module")
def signer() -> WebhookSigner:
    return WebhookSigner(seed=b"\x01" * 32)


@pytest.fixture(scope="module")
def other() -> WebhookSigner:
    return WebhookSigner(seed=b"\x02" * 32)


@pytest.fixture
def body() -> bytes:
    return (EXAMPLES / "message.finalized.json").read_bytes()


def example(name: str) -> bytes:
    return (EXAMPLES / name).read_bytes()


def pem(raw_key: bytes) -> str:
    b64 = base64.b64encode(SPKI_PREFIX + raw_key).decode()
    return f"-----BEGIN PUBLIC KEY-----\n{b64}\n-----END PUBLIC KEY-----\n"


def verify_error(
    body: Any, headers: Any, public_key: Any, *, tolerance: float | None = 300
) -> WebhookVerificationError:
    with pytest.raises(WebhookVerificationError) as info:
        webhooks.verify(body, headers, public_key=public_key, tolerance=tolerance, now=NOW)
    return info.value


# -- interop and happy paths ---------------------------------------------------------------


@pytest.mark.parametrize("as_text", [False, True])
def test_signature_made_as_telnyx_documents_verifies(body: bytes, *, as_text: bool) -> None:
    """A signature made with PyNaCl exactly as Telnyx documents verifies, bytes or str body."""
    key = SigningKey(b"\x07" * 32)
    ts = str(NOW)
    signature = base64.b64encode(key.sign(f"{ts}|".encode() + body).signature).decode()
    public_key = base64.b64encode(bytes(key.verify_key)).decode()
    headers = {"telnyx-signature-ed25519": signature, "telnyx-timestamp": ts}
    payload = body.decode() if as_text else body
    webhooks.verify(payload, headers, public_key=public_key, now=NOW)


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview, lambda b: b.decode()])
def test_body_may_be_any_bytes_like_or_text(signer: WebhookSigner, body: bytes, kind: Any) -> None:
    """bytes, bytearray, memoryview and str bodies all verify the same signed bytes."""
    webhooks.verify(kind(body), signer.headers(body, NOW), public_key=signer.public_key, now=NOW)


def test_str_body_is_utf8_encoded(signer: WebhookSigner) -> None:
    """A str body verifies as its UTF-8 bytes, so non-ASCII text signed as bytes passes."""
    text = '{"data": {"payload": {"text": "héllo ✓ 🎉"}}}'
    headers = signer.headers(text.encode(), NOW)
    webhooks.verify(text, headers, public_key=signer.public_key, now=NOW)
    webhooks.verify(text.encode(), headers, public_key=signer.public_key, now=NOW)


@pytest.mark.parametrize(
    "make_headers",
    [
        dict,
        lambda h: {k.title(): v for k, v in h.items()},
        lambda h: {k.upper(): v for k, v in h.items()},
        lambda h: {k.title(): v.encode() for k, v in h.items()},
        lambda h: CIMultiDict({k.title(): v for k, v in h.items()}),
        lambda h: CIMultiDictProxy(CIMultiDict({k.upper(): v for k, v in h.items()})),
        lambda h: {"Content-Type": "application/json", 3: "x", **h},
    ],
    ids=["lower", "title", "upper", "bytes-values", "cimultidict", "proxy", "extra-keys"],
)
def test_headers_are_looked_up_case_insensitively(
    signer: WebhookSigner, body: bytes, make_headers: Any
) -> None:
    """Any mapping works: plain dicts in any case, aiohttp's CIMultiDict, byte values."""
    headers = make_headers(signer.headers(body, NOW))
    webhooks.verify(body, headers, public_key=signer.public_key, now=NOW)


class _WerkzeugLikeHeaders:
    """Like Flask's request.headers: .get and .items, case-insensitive, but not a Mapping."""

    def __init__(self, items: dict[str, str]) -> None:
        self._items = {k.title(): v for k, v in items.items()}

    def get(self, name: str) -> str | None:
        return {k.lower(): v for k, v in self._items.items()}.get(name.lower())

    def items(self) -> Any:
        return self._items.items()


def test_header_objects_that_are_not_mappings_work(signer: WebhookSigner, body: bytes) -> None:
    """Flask's headers (werkzeug) are not a Mapping but have .get: they are accepted."""
    headers: Any = _WerkzeugLikeHeaders(signer.headers(body, NOW))
    webhooks.verify(body, headers, public_key=signer.public_key, now=NOW)


@pytest.mark.parametrize(
    "key_form",
    [
        lambda raw: base64.b64encode(raw).decode(),
        lambda raw: base64.b64encode(raw).decode() + "\n",
        lambda raw: base64.b64encode(raw) + b"\n",
        lambda raw: raw,
        lambda raw: bytearray(raw),
        lambda raw: memoryview(raw),
        lambda raw: SPKI_PREFIX + raw,
        lambda raw: base64.b64encode(SPKI_PREFIX + raw).decode(),
        pem,
        lambda raw: pem(raw).encode(),
        lambda raw: pem(raw).replace("\n", " "),
        lambda raw: pem(raw).replace("\n", "\\n"),
        lambda raw: webhooks.PublicKeys.load(raw),
    ],
    ids=[
        "base64",
        "base64-newline",
        "base64-bytes",
        "raw",
        "bytearray",
        "memoryview",
        "der",
        "der-base64",
        "pem",
        "pem-bytes",
        "pem-one-line",
        "pem-escaped-newlines",
        "public-keys",
    ],
)
def test_every_key_form_verifies(signer: WebhookSigner, body: bytes, key_form: Any) -> None:
    """The portal's base64, raw bytes, SPKI DER and PEM all decode to the same key."""
    headers = signer.headers(body, NOW)
    webhooks.verify(body, headers, public_key=key_form(signer.public_key_bytes), now=NOW)


@pytest.mark.parametrize("container", [list, tuple])
@pytest.mark.parametrize("wrap", [str, bytearray, webhooks.PublicKeys.load])
def test_any_one_of_several_keys_passes(
    signer: WebhookSigner, other: WebhookSigner, body: bytes, container: Any, wrap: Any
) -> None:
    """During a key rotation a list of keys is accepted and any one of them may sign."""
    mine = signer.public_key_bytes if wrap is bytearray else signer.public_key
    keys = container([other.public_key, wrap(mine)])
    webhooks.verify(body, signer.headers(body, NOW), public_key=keys, now=NOW)
    webhooks.verify(body, other.headers(body, NOW), public_key=keys, now=NOW)


def test_keys_are_decoded_once(signer: WebhookSigner) -> None:
    """The same key text returns the same decoded keys object: no per-call decoding."""
    first = load_public_keys(signer.public_key)
    assert load_public_keys(signer.public_key) is first
    assert load_public_keys([signer.public_key]) is load_public_keys((signer.public_key,))
    assert load_public_keys(first) is first
    assert webhooks.PublicKeys.load(signer.public_key) is first


def test_public_keys_repr_counts_keys(signer: WebhookSigner, other: WebhookSigner) -> None:
    """A PublicKeys repr says how many keys it holds, not what they are."""
    one = webhooks.PublicKeys.load(signer.public_key)
    two = webhooks.PublicKeys.load([signer.public_key, other.public_key, signer.public_key])
    assert repr(one) == "<PublicKeys: 1 Ed25519 key>"
    assert repr(two) == "<PublicKeys: 2 Ed25519 keys>"
    assert signer.public_key not in repr(one)


@pytest.mark.parametrize(("age", "tolerance"), [(300, 300), (-300, 300), (0, 0), (10**6, None)])
def test_timestamps_within_tolerance_pass(
    signer: WebhookSigner, body: bytes, age: int, tolerance: float | None
) -> None:
    """A timestamp exactly at the tolerance passes, and tolerance=None skips the age check."""
    headers = signer.headers(body, NOW - age)
    webhooks.verify(body, headers, public_key=signer.public_key, tolerance=tolerance, now=NOW)


def test_now_defaults_to_the_clock(signer: WebhookSigner, body: bytes) -> None:
    """Without now=, a freshly signed webhook passes against this machine's clock."""
    webhooks.verify(body, signer.headers(body), public_key=signer.public_key)


# -- every failure reason ------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["telnyx-signature-ed25519", "telnyx-timestamp"])
def test_missing_header_is_named(signer: WebhookSigner, body: bytes, missing: str) -> None:
    """A missing signature or timestamp header is reported by name."""
    headers = signer.headers(body, NOW)
    del headers[missing]
    reason = verify_error(body, headers, signer.public_key).reason
    assert reason.startswith(f"missing header {missing}")


@pytest.mark.parametrize(
    "timestamp",
    [
        "",
        "abc",
        "1.5",
        "-5",
        "+5",
        " 1700000000",
        "\u0661\u0667\u0660\u0660",
        "1" * 21,
        "9" * 100_000,
    ],
)
def test_timestamp_must_be_whole_unix_seconds(
    signer: WebhookSigner, body: bytes, timestamp: str
) -> None:
    """A timestamp that is not plain ASCII digits (Arabic-Indic ones too) is rejected, cut short."""
    headers = {**signer.headers(body, NOW), "telnyx-timestamp": timestamp}
    reason = verify_error(body, headers, signer.public_key).reason
    assert "not a whole number of Unix seconds" in reason
    assert len(reason) < 200


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (301, "webhook timestamp is 301s old, beyond the 300s tolerance"),
        (86_400, "webhook timestamp is 86400s old, beyond the 300s tolerance"),
        (-301, "webhook timestamp is 301s in the future, beyond the 300s tolerance"),
        (300.25, "webhook timestamp is 301s old, beyond the 300s tolerance"),
    ],
)
def test_timestamp_outside_tolerance_says_how_far_and_which_way(
    signer: WebhookSigner, body: bytes, age: float, expected: str
) -> None:
    """An old or future timestamp is rejected with its distance (rounded up) and direction."""
    headers = signer.headers(body, NOW)
    with pytest.raises(WebhookVerificationError) as info:
        webhooks.verify(body, headers, public_key=signer.public_key, now=NOW + age)
    reason = info.value.reason
    assert reason.startswith(expected)
    assert "NTP" in reason


def test_custom_tolerance_applies(signer: WebhookSigner, body: bytes) -> None:
    """A tighter tolerance rejects what the default would accept."""
    reason = verify_error(body, signer.headers(body, NOW - 11), signer.public_key, tolerance=10)
    assert "11s old, beyond the 10s tolerance" in reason.reason


@pytest.mark.parametrize(
    ("signature", "expected"),
    [
        ("not base64!", "is not valid base64"),
        ("QUJD", "decodes to 3 bytes; an Ed25519 signature is 64"),
        (base64.b64encode(b"x" * 63).decode(), "decodes to 63 bytes"),
        ("é" * 88, "not the base64 of a 64-byte Ed25519 signature"),
        ("A" * 10_000, "(10000 characters, expected 88)"),
        ("", "decodes to 0 bytes"),
    ],
)
def test_signature_must_be_base64_of_64_bytes(
    signer: WebhookSigner, body: bytes, signature: str, expected: str
) -> None:
    """A signature header that is not base64 of 64 bytes is rejected before any crypto."""
    headers = {**signer.headers(body, NOW), "telnyx-signature-ed25519": signature}
    assert expected in verify_error(body, headers, signer.public_key).reason


def test_a_non_ascii_signature_of_the_right_length_says_so(
    signer: WebhookSigner, body: bytes
) -> None:
    """88 non-ASCII characters are refused for not being ASCII, not for a length that is right."""
    headers = {**signer.headers(body, NOW), "telnyx-signature-ed25519": "é" * 88}
    error = verify_error(body, headers, signer.public_key)
    assert "characters that are not ASCII" in error.reason
    assert "expected 88" not in error.reason
    assert error.code == "malformed_header"


def test_signature_from_another_key_does_not_match(
    signer: WebhookSigner, other: WebhookSigner, body: bytes
) -> None:
    """A valid signature by the wrong key fails, with the raw-body hint."""
    reason = verify_error(body, other.headers(body, NOW), signer.public_key).reason
    assert reason.startswith("signature does not match the body and timestamp with the public key")
    assert "raw request body exactly as received" in reason


def test_reserialised_json_does_not_match(signer: WebhookSigner, body: bytes) -> None:
    """Verifying json.dumps(json.loads(body)) instead of the raw body fails: the hint says why."""
    reserialised = json.dumps(json.loads(body))
    reason = verify_error(reserialised, signer.headers(body, NOW), signer.public_key).reason
    assert "not JSON your framework parsed and re-serialised" in reason


def test_mismatch_with_several_keys_says_so(
    signer: WebhookSigner, other: WebhookSigner, body: bytes
) -> None:
    """With a list of keys, a mismatch says none of them matched."""
    stranger = WebhookSigner()
    keys = [signer.public_key, other.public_key]
    reason = verify_error(body, stranger.headers(body, NOW), keys).reason
    assert "with any of the 2 public keys" in reason


def test_tampered_body_does_not_match(signer: WebhookSigner, body: bytes) -> None:
    """Changing one byte of a signed body fails verification."""
    headers = signer.headers(body, NOW)
    tampered = body.replace(b"delivered", b"Delivered", 1)
    assert "does not match" in verify_error(tampered, headers, signer.public_key).reason


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (None, "no public key to verify the webhook with: pass public_key="),
        ("", "public key is empty"),
        ("   \n", "public key is empty"),
        (b"", "public key is empty"),
        ("not base64!", "public key is not valid base64"),
        (base64.b64encode(b"k" * 31).decode(), "decodes to 31 bytes; an Ed25519 public key is 32"),
        (base64.b64encode(b"k" * 44).decode(), "decodes to 44 bytes"),
        (b"\xff" * 31, "public key is 31 bytes; an Ed25519 public key is 32 bytes"),
        (42, "public_key is a int"),
        ({"key": "x"}, "public_key is a dict"),
        ([], "public_key is an empty list"),
        (["", "x"], "public key (item 0 of the list) is empty"),
        ([None], "public_key item 0 is a NoneType"),
        ("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----", "never a private key"),
        ("-----BEGIN PUBLIC KEY-----\nAAAA", "not a '-----BEGIN PUBLIC KEY-----' block"),
        ("-----BEGIN PUBLIC KEY-----\n!!!\n-----END PUBLIC KEY-----", "PEM with invalid base64"),
        (
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
            "PEM but not a 32-byte Ed25519 public key (3 bytes of DER)",
        ),
    ],
)
def test_bad_keys_are_rejected_without_quoting_them(
    signer: WebhookSigner, body: bytes, key: Any, expected: str
) -> None:
    """A missing or malformed key fails closed with a reason that never contains the key."""
    reason = verify_error(body, signer.headers(body, NOW), key).reason
    assert expected in reason
    if isinstance(key, str) and key.strip():
        assert key.strip() not in reason


def test_reasons_never_quote_a_good_key(
    signer: WebhookSigner, other: WebhookSigner, body: bytes
) -> None:
    """Even a mismatch reason leaves the configured key out."""
    reason = verify_error(body, other.headers(body, NOW), signer.public_key).reason
    assert signer.public_key not in reason
    assert other.public_key not in reason


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (42, "body is a int: pass the raw request body as bytes (or str)"),
        (None, "body is a NoneType"),
        ("\ud800", "cannot be UTF-8 encoded (a lone surrogate)"),
    ],
)
def test_body_of_the_wrong_kind_is_rejected(
    signer: WebhookSigner, payload: Any, expected: str
) -> None:
    """A body that is neither bytes nor encodable text fails verification cleanly."""
    headers = signer.headers(b"x", NOW)
    assert expected in verify_error(payload, headers, signer.public_key).reason


def test_empty_and_non_utf8_bodies_verify_as_bytes(signer: WebhookSigner) -> None:
    """Verification works on any bytes: an empty body and invalid UTF-8 sign and verify."""
    for payload in (b"", b"\xff\xfe\x00garbage"):
        webhooks.verify(
            payload, signer.headers(payload, NOW), public_key=signer.public_key, now=NOW
        )


class _ExplodingHeaders(Mapping[str, str]):
    def __getitem__(self, key: str) -> str:
        raise RuntimeError("boom")

    def __iter__(self) -> Iterator[str]:
        raise RuntimeError("boom")

    def __len__(self) -> int:
        return 0


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([("telnyx-timestamp", "1")], "headers is a list: pass the request's headers mapping"),
        (None, "headers is a NoneType"),
        (_ExplodingHeaders(), "could not read the webhook headers (RuntimeError)"),
        ({"telnyx-signature-ed25519": 5, "telnyx-timestamp": "1"}, "is a int, not text"),
    ],
)
def test_unusable_headers_are_rejected(signer: WebhookSigner, headers: Any, expected: str) -> None:
    """Headers that are not a readable mapping of text fail verification, not with a crash."""
    assert expected in verify_error(b"{}", headers, signer.public_key).reason


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"tolerance": -1}, "tolerance must be seconds >= 0"),
        ({"tolerance": float("nan")}, "tolerance must be seconds >= 0"),
        ({"tolerance": True}, "tolerance must be seconds >= 0"),
        ({"tolerance": "300"}, "tolerance must be seconds >= 0"),
        ({"now": "now"}, "now must be Unix seconds"),
        ({"now": float("nan")}, "now must be Unix seconds"),
        ({"now": float("inf")}, "now must be Unix seconds"),
        ({"now": False}, "now must be Unix seconds"),
    ],
)
def test_bad_options_are_the_callers_bug(
    signer: WebhookSigner, body: bytes, options: dict[str, Any], expected: str
) -> None:
    """A non-numeric tolerance or now is an InvalidArgumentError, not a bad webhook."""
    headers = signer.headers(body, NOW)
    with pytest.raises(InvalidArgumentError, match=expected):
        webhooks.verify(body, headers, public_key=signer.public_key, **options)


# -- parsing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "cls", "event_type", "status"),
    [
        ("message.sent.json", webhooks.DeliveryUpdate, "message.sent", "queued"),
        ("message.finalized.json", webhooks.DeliveryUpdate, "message.finalized", "delivered"),
        ("message.received.json", webhooks.InboundMessage, "message.received", "delivered"),
    ],
)
def test_message_examples_parse_into_their_event(
    name: str, cls: type[Any], event_type: str, status: str
) -> None:
    """Each message example becomes its event class with the client's Message as payload."""
    document = json.loads(example(name))
    event = webhooks.parse(example(name))
    assert type(event) is cls
    assert event.id == document["data"]["id"]
    assert event.event_type == event_type
    assert event.record_type == "event"
    assert event.occurred_at is not None
    assert event.occurred_at.tzinfo is not None
    assert isinstance(event.payload, Message)
    assert event.payload.id == document["data"]["payload"]["id"]
    assert event.payload.to[0].status == status
    assert event.payload.from_ is not None
    assert event.payload.from_.phone_number == document["data"]["payload"]["from"]["phone_number"]
    assert event.meta is not None
    assert event.meta.attempt == 1
    assert event.meta.delivered_to == document["meta"]["delivered_to"]
    assert event.meta.raw == document["meta"]
    assert event.raw == document


def test_delivery_receipt_fields() -> None:
    """The finalized receipt keeps aware datetimes, a null cost as None, and its URLs."""
    event = webhooks.parse(example("message.finalized.json"))
    assert isinstance(event, webhooks.DeliveryUpdate)
    assert event.occurred_at == datetime(2019, 12, 9, 21, 32, 14, 148000, tzinfo=timezone.utc)
    message = event.payload
    assert message is not None
    assert message.cost is None
    assert message.completed_at == datetime(2019, 12, 9, 21, 32, 14, 148000, tzinfo=timezone.utc)
    assert message.direction == "outbound"
    assert message.parts == 1
    assert message.errors == ()
    assert message.webhook_failover_url == ""


def test_inbound_message_fields() -> None:
    """The inbound example has its Decimal cost, breakdown, text and campaign fields."""
    event = webhooks.parse(example("message.received.json"))
    assert isinstance(event, webhooks.InboundMessage)
    message = event.payload
    assert message is not None
    assert message.cost is not None
    assert message.cost.amount == Decimal("0.0051")
    assert message.cost_breakdown is not None
    assert message.cost_breakdown.carrier_fee is not None
    assert message.cost_breakdown.carrier_fee.amount == Decimal("0.00305")
    assert message.text == "Hello, World!"
    assert message.tags == ("Greetings",)
    assert message.tcr_campaign_billable is True
    assert message.sent_at is None
    assert message.received_at == datetime(2019, 1, 23, 18, 10, 2, 574000, tzinfo=timezone.utc)


def test_link_click_example_parses() -> None:
    """A link click is selected by record_type and has no envelope id or event type."""
    event = webhooks.parse(example("replaced-link-click.json"))
    assert isinstance(event, webhooks.ReplacedLinkClick)
    assert event.record_type == "link_clicked"
    assert event.message_id == "7ee4241c-f127-47e5-9c34-3aac291f8058"
    assert event.to == "18445550001"
    assert event.url == "https://telnyx.com"
    assert event.time_clicked == datetime(2019, 4, 1, 14, 45, 45, 450000, tzinfo=timezone.utc)
    assert event.id is None
    assert event.event_type is None
    assert event.meta is None


@pytest.mark.parametrize(
    "data",
    [
        {"event_type": "message.exploded", "id": "e1", "payload": {"anything": [1, 2]}},
        {"event_type": "message.exploded", "id": "e1", "payload": [1, "two"]},
        {"id": "e1", "record_type": "event"},
    ],
)
def test_unknown_events_keep_their_data(data: dict[str, Any]) -> None:
    """An event type the SDK does not know is an UnknownEvent holding the raw JSON."""
    document = {"data": data, "meta": {"attempt": 3}}
    event = webhooks.parse(json.dumps(document))
    assert isinstance(event, webhooks.UnknownEvent)
    assert event.payload == data.get("payload")
    assert event.raw == document
    assert event.meta == webhooks.EventMeta(attempt=3)


def test_unknown_fields_never_fail() -> None:
    """Fields Telnyx adds later are ignored by the classes and kept in raw."""
    document = json.loads(example("message.finalized.json"))
    document["brand_new"] = True
    document["data"]["brand_new"] = {"x": 1}
    document["data"]["payload"]["brand_new"] = [1]
    document["data"]["payload"]["to"][0]["brand_new"] = None
    document["meta"]["brand_new"] = "y"
    event = webhooks.parse(json.dumps(document).encode())
    assert isinstance(event, webhooks.DeliveryUpdate)
    assert event.payload is not None
    assert event.payload.raw["brand_new"] == [1]
    assert event.raw["data"]["brand_new"] == {"x": 1}


@pytest.mark.parametrize(
    "source",
    [
        example("message.received.json"),
        example("message.received.json").decode(),
        bytearray(example("message.received.json")),
        memoryview(example("message.received.json")),
        json.loads(example("message.received.json")),
    ],
    ids=["bytes", "str", "bytearray", "memoryview", "dict"],
)
def test_parse_takes_bytes_text_or_decoded_json(source: Any) -> None:
    """parse() reads the raw body in any form, or JSON already decoded (for replays)."""
    assert isinstance(webhooks.parse(source), webhooks.InboundMessage)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (b"", "webhook body is empty"),
        ("", "webhook body is empty"),
        (b"not json", "webhook body is not JSON: Expecting value"),
        (b"\xff\xfe\xfd", "webhook body is not JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "webhook body is not JSON"),
        (b"[1, 2]", "webhook body is a JSON array, not an object"),
        (b'"text"', "webhook body is a JSON string, not an object"),
        (b"null", "webhook body is a JSON null, not an object"),
        (b"1.5", "webhook body is a JSON number, not an object"),
        (b"{}", 'webhook body has no "data" object'),
        (b'{"data": [1]}', 'webhook body has no "data" object'),
        ({"data": "x"}, 'webhook body has no "data" object'),
        (42, "webhook body is a int: pass the raw body"),
        (
            b'{"data": {"event_type": "message.sent", "payload": {"to": "+1555"}}}',
            "webhook body does not fit DeliveryUpdate: ",
        ),
        (
            b'{"data": {"event_type": "message.received", "occurred_at": "yesterday"}}',
            "webhook body does not fit InboundMessage",
        ),
        (
            b'{"data": {"event_type": "message.sent"}, "meta": "x"}',
            "webhook body does not fit DeliveryUpdate: ",
        ),
        (
            b'{"data": {"event_type": "message.sent", "payload": {"text": "'
            + b"x" * 5000
            + b'", "parts": "many"}}}',
            "webhook body does not fit DeliveryUpdate: ",
        ),
    ],
)
def test_unreadable_bodies_raise_parse_error(source: Any, expected: str) -> None:
    """A body that is not a JSON object with a data object raises WebhookParseError."""
    with pytest.raises(webhooks.WebhookParseError) as info:
        webhooks.parse(source)
    assert expected in info.value.reason
    assert len(info.value.reason) < 300


def test_parse_error_is_a_telnyx_error_and_a_value_error() -> None:
    """WebhookParseError is caught by `except TelnyxError` and `except ValueError` alike."""
    assert issubclass(webhooks.WebhookParseError, TelnyxError)
    assert issubclass(webhooks.WebhookParseError, ValueError)
    assert webhooks.WebhookVerificationError is WebhookVerificationError


# -- unwrap --------------------------------------------------------------------------------


def test_unwrap_verifies_then_parses(signer: WebhookSigner, body: bytes) -> None:
    """unwrap() returns the typed event of a verified body."""
    event = webhooks.unwrap(body, signer.headers(body, NOW), public_key=signer.public_key, now=NOW)
    assert isinstance(event, webhooks.DeliveryUpdate)
    assert event.event_type == "message.finalized"


def test_unwrap_rejects_before_parsing(other: WebhookSigner, signer: WebhookSigner) -> None:
    """An unverified body raises WebhookVerificationError even when it is not JSON either."""
    with pytest.raises(WebhookVerificationError):
        webhooks.unwrap(b"nope", other.headers(b"nope", NOW), public_key=signer.public_key, now=NOW)


def test_unwrap_of_a_verified_unreadable_body_is_a_parse_error(signer: WebhookSigner) -> None:
    """A correctly signed body that is not a webhook raises WebhookParseError."""
    with pytest.raises(webhooks.WebhookParseError, match="not JSON"):
        webhooks.unwrap(
            b"nope", signer.headers(b"nope", NOW), public_key=signer.public_key, now=NOW
        )


# -- client.webhooks -----------------------------------------------------------------------


async def test_client_webhooks_use_the_clients_key(signer: WebhookSigner, body: bytes) -> None:
    """client.webhooks verifies with AsyncClient(public_key=...) and makes no network call."""
    client = AsyncClient(api_key="KEY_x", public_key=signer.public_key)
    try:
        headers = signer.headers(body, NOW)
        event = client.webhooks.unwrap(body, headers, now=NOW)
        assert isinstance(event, webhooks.DeliveryUpdate)
        client.webhooks.verify(body, headers, now=NOW)
        assert client.webhooks.parse(body) == event
        assert client.webhooks is client.webhooks
        with pytest.raises(WebhookVerificationError, match="does not match"):
            client.webhooks.verify(body + b" ", headers, now=NOW)
    finally:
        await client.close()


async def test_client_webhooks_fall_back_to_the_environment(
    signer: WebhookSigner, body: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no public_key argument, client.webhooks uses TELNYX_PUBLIC_KEY."""
    monkeypatch.setenv("TELNYX_PUBLIC_KEY", signer.public_key)
    client = AsyncClient(api_key="KEY_x")
    try:
        event = client.webhooks.unwrap(body, signer.headers(body, NOW), now=NOW)
        assert isinstance(event, webhooks.DeliveryUpdate)
    finally:
        await client.close()


@pytest.mark.parametrize("env", [None, "", "  "])
async def test_client_webhooks_without_a_key_fail_closed(
    signer: WebhookSigner, body: bytes, monkeypatch: pytest.MonkeyPatch, env: str | None
) -> None:
    """No key configured is a WebhookVerificationError naming both ways to set one."""
    monkeypatch.delenv("TELNYX_PUBLIC_KEY", raising=False)
    if env is not None:
        monkeypatch.setenv("TELNYX_PUBLIC_KEY", env)
    client = AsyncClient(api_key="KEY_x")
    try:
        for call in (client.webhooks.unwrap, client.webhooks.verify):
            with pytest.raises(WebhookVerificationError) as info:
                call(body, signer.headers(body, NOW), now=NOW)
            assert "AsyncClient(public_key=...)" in info.value.reason
            assert "TELNYX_PUBLIC_KEY" in info.value.reason
    finally:
        await client.close()


# -- WebhookSigner -------------------------------------------------------------------------


def test_signer_seed_gives_the_same_key_every_run() -> None:
    """A seeded signer has a stable key; an unseeded one a fresh key."""
    assert WebhookSigner(seed=b"s" * 32).public_key == WebhookSigner(seed=b"s" * 32).public_key
    assert WebhookSigner().public_key != WebhookSigner().public_key


def test_signer_public_key_is_the_portal_form(signer: WebhookSigner) -> None:
    """public_key is base64 of the raw 32 bytes, as Mission Control Portal shows it."""
    assert base64.b64decode(signer.public_key) == signer.public_key_bytes
    assert len(signer.public_key_bytes) == 32
    assert signer.public_key in repr(signer)


@pytest.mark.parametrize("seed", [b"short", "x" * 32, 32])
def test_signer_rejects_a_bad_seed(seed: Any) -> None:
    """A seed that is not 32 bytes is an InvalidArgumentError."""
    with pytest.raises(InvalidArgumentError, match="seed must be 32 bytes"):
        WebhookSigner(seed=seed)


def test_signer_headers_are_what_telnyx_sends(signer: WebhookSigner) -> None:
    """headers() gives exactly the two Telnyx headers, timestamped now by default."""
    before = NOW
    headers = signer.headers(b"{}", before)
    assert set(headers) == {"telnyx-signature-ed25519", "telnyx-timestamp"}
    assert headers["telnyx-timestamp"] == str(before)
    assert len(base64.b64decode(headers["telnyx-signature-ed25519"])) == 64
    fresh = signer.headers("{}")
    assert fresh["telnyx-timestamp"].isdigit()


_INBOUND = '{"id": "m1", "from": {"phone_number": "+1"}, "to": [], "text": "hi ✓"}'


@pytest.mark.parametrize(
    "event",
    [
        {"data": {"event_type": "message.received", "payload": json.loads(_INBOUND)}},
        '{"data": {"event_type": "message.received", "payload": ' + _INBOUND + "}}",
        b'{"data": {"event_type": "message.received", "payload": ' + _INBOUND.encode() + b"}}",
    ],
    ids=["dict", "str", "bytes"],
)
def test_signer_sign_makes_a_body_that_unwraps(signer: WebhookSigner, event: Any) -> None:
    """sign() returns body bytes and headers that unwrap into the event."""
    body, headers = signer.sign(event, NOW)
    assert isinstance(body, bytes)
    parsed = webhooks.unwrap(body, headers, public_key=signer.public_key, now=NOW)
    assert isinstance(parsed, webhooks.InboundMessage)
    assert parsed.payload is not None
    assert parsed.payload.text is not None
    assert parsed.payload.text.startswith("hi")
