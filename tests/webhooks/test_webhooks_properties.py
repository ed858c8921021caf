"""Properties of webhook verification over generated bodies, headers and keys (Hypothesis)."""

from __future__ import annotations

import base64
import contextlib
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from telnyx_messaging import WebhookVerificationError, webhooks
from telnyx_messaging.testing._signer import WebhookSigner

NOW = 1_700_000_000
SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")
SIGNER = WebhookSigner(seed=b"\x05" * 32)
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

header_names = st.sampled_from(
    ["telnyx-signature-ed25519", "Telnyx-Timestamp", "telnyx-timestamp", "TELNYX-SIGNATURE-ED25519"]
) | st.text(max_size=20)
header_values = st.one_of(
    st.text(max_size=200),
    st.binary(max_size=100),
    st.integers().map(str),
    st.binary(min_size=60, max_size=68).map(lambda b: base64.b64encode(b).decode()),
    st.text(alphabet="0123456789", min_size=1, max_size=40),
    st.none(),
)
bodies = st.one_of(st.binary(max_size=2000), st.text(max_size=500))
keys = st.one_of(
    st.just(SIGNER.public_key),
    st.text(max_size=100),
    st.binary(max_size=100),
    st.binary(min_size=32, max_size=32),
    st.binary(min_size=32, max_size=32).map(lambda b: base64.b64encode(b).decode()),
    st.binary(min_size=32, max_size=32).map(lambda b: SPKI_PREFIX + b),
    st.lists(st.one_of(st.text(max_size=60), st.binary(max_size=50)), max_size=3),
    st.none(),
    st.integers(),
)


@FAST
@given(
    body=bodies,
    headers=st.dictionaries(header_names, header_values, max_size=5),
    key=keys,
    now=st.floats(allow_nan=False, allow_infinity=False, width=64),
)
def test_only_verification_errors_escape(body: Any, headers: Any, key: Any, now: float) -> None:
    """For any body, headers and key, verify() passes or raises WebhookVerificationError."""
    try:
        webhooks.verify(body, headers, public_key=key, now=now)
    except WebhookVerificationError as exc:
        reason = exc.reason
    else:
        reason = ""
    assert SIGNER.public_key not in reason


@FAST
@given(body=bodies, timestamp=st.integers(min_value=NOW - 300, max_value=NOW + 300))
def test_signed_bodies_verify(body: bytes | str, timestamp: int) -> None:
    """Any body signed with a timestamp within tolerance verifies, as bytes or text."""
    headers = SIGNER.headers(body, timestamp)
    webhooks.verify(body, headers, public_key=SIGNER.public_key, now=NOW)


@FAST
@given(body=st.binary(min_size=1, max_size=1000), data=st.data())
def test_any_change_to_the_body_is_rejected(body: bytes, data: st.DataObject) -> None:
    """Flipping any bits of any byte in a signed body makes it fail verification."""
    headers = SIGNER.headers(body, NOW)
    index = data.draw(st.integers(min_value=0, max_value=len(body) - 1))
    flip = data.draw(st.integers(min_value=1, max_value=255))
    tampered = bytearray(body)
    tampered[index] ^= flip
    with pytest.raises(WebhookVerificationError, match="does not match"):
        webhooks.verify(bytes(tampered), headers, public_key=SIGNER.public_key, now=NOW)


@FAST
@given(body=st.binary(max_size=500), extra=st.binary(min_size=1, max_size=20))
def test_appended_or_cut_bodies_are_rejected(body: bytes, extra: bytes) -> None:
    """A signed body with bytes added or removed fails verification."""
    headers = SIGNER.headers(body + extra, NOW)
    for changed in (body, body + extra + extra):
        with pytest.raises(WebhookVerificationError, match="does not match"):
            webhooks.verify(changed, headers, public_key=SIGNER.public_key, now=NOW)


@FAST
@given(
    body=st.binary(max_size=500),
    signed_at=st.integers(min_value=NOW - 300, max_value=NOW + 300),
    claimed=st.integers(min_value=NOW - 300, max_value=NOW + 300),
)
def test_any_change_to_the_timestamp_is_rejected(body: bytes, signed_at: int, claimed: int) -> None:
    """A timestamp header other than the signed one fails, even inside the tolerance."""
    assume(claimed != signed_at)
    headers = SIGNER.headers(body, signed_at)
    headers["telnyx-timestamp"] = str(claimed)
    with pytest.raises(WebhookVerificationError, match="does not match"):
        webhooks.verify(body, headers, public_key=SIGNER.public_key, now=NOW)


@FAST
@given(body=st.binary(max_size=500), data=st.data())
def test_any_change_to_the_signature_is_rejected(body: bytes, data: st.DataObject) -> None:
    """Flipping bits in the 64 signature bytes (re-encoded as valid base64) fails."""
    headers = SIGNER.headers(body, NOW)
    raw = bytearray(base64.b64decode(headers["telnyx-signature-ed25519"]))
    raw[data.draw(st.integers(min_value=0, max_value=63))] ^= data.draw(
        st.integers(min_value=1, max_value=255)
    )
    headers["telnyx-signature-ed25519"] = base64.b64encode(bytes(raw)).decode()
    with pytest.raises(WebhookVerificationError, match="does not match"):
        webhooks.verify(body, headers, public_key=SIGNER.public_key, now=NOW)


@FAST
@given(seed=st.binary(min_size=32, max_size=32), body=st.binary(max_size=200))
def test_every_key_form_of_any_key_agrees(seed: bytes, body: bytes) -> None:
    """Base64, raw, DER and PEM forms of any key all verify that key's signatures."""
    signer = WebhookSigner(seed=seed)
    raw = signer.public_key_bytes
    der = SPKI_PREFIX + raw
    pem = (
        "-----BEGIN PUBLIC KEY-----\n"
        + base64.b64encode(der).decode()
        + "\n-----END PUBLIC KEY-----"
    )
    headers = signer.headers(body, NOW)
    for form in (signer.public_key, raw, der, base64.b64encode(der).decode(), pem):
        webhooks.verify(body, headers, public_key=form, now=NOW)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
event_fields = st.fixed_dictionaries(
    {},
    optional={
        "event_type": st.sampled_from(
            ["message.sent", "message.finalized", "message.received", "message.new"]
        )
        | json_values,
        "record_type": st.sampled_from(["event", "link_clicked"]) | json_values,
        "id": json_values,
        "occurred_at": st.sampled_from(["2019-12-09T21:32:14.148+00:00", "2019-01-23T18:10:02Z"])
        | json_values,
        "payload": json_values
        | st.fixed_dictionaries(
            {},
            optional={
                "id": st.just("m1") | json_values,
                "to": json_values,
                "cost": json_values,
                "from": json_values,
                "record_type": st.just("link_clicked") | json_values,
                "url": st.just("https://example.com") | json_values,
            },
        ),
        "time_clicked": json_values,
        "url": st.just("https://example.com") | json_values,
    },
)


@FAST
@given(
    document=st.one_of(
        json_values,
        st.fixed_dictionaries({"data": event_fields}, optional={"meta": json_values}),
    )
)
def test_parse_raises_only_parse_errors(document: Any) -> None:
    """Any JSON document parses into an event or raises WebhookParseError, nothing else; a
    known event always has what makes it one."""
    try:
        event = webhooks.parse(json.dumps(document))
    except webhooks.WebhookParseError:
        return
    assert event.raw == document
    if isinstance(event, webhooks.ReplacedLinkClick):
        assert isinstance(event.url, str)
    elif isinstance(event, (webhooks.DeliveryUpdate, webhooks.InboundMessage)):
        assert isinstance(event.payload.id, str)
        assert isinstance(event.payload.from_.phone_number, str)


@FAST
@given(body=st.binary(max_size=300))
def test_parse_of_arbitrary_bytes_raises_only_parse_errors(body: bytes) -> None:
    """Arbitrary bytes (non-UTF-8, truncated JSON) never escape as another exception."""
    with contextlib.suppress(webhooks.WebhookParseError):
        webhooks.parse(body)
