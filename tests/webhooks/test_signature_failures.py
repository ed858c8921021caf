"""Webhook signatures at their edges: every documented failure code, and the key and header
forms that sit right next to a valid one (found by mutation testing, docs/testing.md).

All on bytes, no sockets. The codes are the ones docs/webhooks.md documents for counting.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from nacl.signing import SigningKey

from telnyx_messaging import (
    ConfigurationError,
    InvalidArgumentError,
    WebhookConfigurationError,
    WebhookVerificationError,
    webhooks,
)
from telnyx_messaging.testing import WebhookSigner
from telnyx_messaging.webhooks import PublicKeys

EXAMPLES = Path(__file__).parents[1] / "spec" / "webhook-examples"
BODY = (EXAMPLES / "message.finalized.json").read_bytes()
NOW = 1_700_000_000
ED25519_SPKI = bytes.fromhex("302a300506032b6570032100")
X25519_SPKI = bytes.fromhex("302a300506032b656e032100")  # OID 1.3.101.110, not 1.3.101.112
SIGNER = WebhookSigner(seed=b"\x01" * 32)
OTHER = WebhookSigner(seed=b"\x02" * 32)
KEY = SIGNER.public_key  # the portal's form: 44 characters of base64
RAW = SIGNER.public_key_bytes


def _pem(der: bytes, label: str = "PUBLIC KEY", width: int = 64, newline: str = "\n") -> str:
    b64 = base64.b64encode(der).decode()
    lines = [b64[i : i + width] for i in range(0, len(b64), width)]
    return newline.join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----", ""])


def _headers(timestamp: str | int = NOW, body: bytes = BODY) -> dict[str, str]:
    return SIGNER.headers(body, timestamp)


def _failure(
    body: Any = BODY,
    headers: Any = None,
    key: Any = KEY,
    *,
    tolerance: float | None = 300,
    now: float = NOW,
) -> WebhookVerificationError:
    headers = _headers() if headers is None else headers
    with pytest.raises(WebhookVerificationError) as info:
        webhooks.verify(body, headers, public_key=key, tolerance=tolerance, now=now)
    return info.value


# -- the documented code of every failure ---------------------------------------------------

_SIGNATURE = "telnyx-signature-ed25519"
_TIMESTAMP = "telnyx-timestamp"


def _without(name: str) -> dict[str, str]:
    headers = _headers()
    del headers[name]
    return headers


def _replacing(name: str, value: str) -> dict[str, str]:
    return {**_headers(), name: value}


class _Unreadable(dict[str, str]):
    def get(self, key: str, default: Any = None) -> Any:
        raise RuntimeError("boom")


KEY_FAILURES = [
    pytest.param(None, "no_key", "no public key to verify the webhook with", id="none"),
    pytest.param([], "no_key", "public_key is an empty list", id="empty-list"),
    pytest.param("  ", "no_key", "public key is empty", id="blank-text"),
    pytest.param(42, "bad_key", "public_key is a int", id="not-a-key"),
    pytest.param([KEY, 42], "bad_key", "public_key item 1 is a int", id="list-item-not-a-key"),
    pytest.param(b"\xff" * 40, "bad_key", "public key is 40 bytes", id="binary-wrong-length"),
    pytest.param(KEY[:-2] + "!=", "bad_key", "public key is not valid base64", id="not-base64"),
    pytest.param(KEY[:20] + "=", "bad_key", "public key decodes to", id="wrong-length"),
    pytest.param(
        _pem(ED25519_SPKI + RAW, "PRIVATE KEY"), "bad_key", "never a private key", id="pem-label"
    ),
    pytest.param(
        _pem(ED25519_SPKI + RAW).replace("Q", "!", 1),
        "bad_key",
        "PEM with invalid base64",
        id="pem-not-base64",
    ),
    pytest.param(
        _pem(X25519_SPKI + RAW),
        "bad_key",
        "PEM but not a 32-byte Ed25519 public key (44 bytes of DER)",
        id="pem-x25519",
    ),
]

REQUEST_FAILURES = [
    pytest.param(BODY, ["not", "a", "mapping"], "malformed_header", "headers is a list", id="list"),
    pytest.param(BODY, _Unreadable(), "malformed_header", "could not read", id="unreadable"),
    pytest.param(
        BODY,
        {**_headers(), _TIMESTAMP: 5},
        "malformed_header",
        "header telnyx-timestamp is a int, not text",
        id="header-not-text",
    ),
    pytest.param(BODY, _without(_SIGNATURE), "missing_header", "missing header", id="no-sig"),
    pytest.param(BODY, _without(_TIMESTAMP), "missing_header", "missing header", id="no-ts"),
    pytest.param(
        BODY,
        _replacing(_TIMESTAMP, "soon"),
        "malformed_header",
        "header telnyx-timestamp is 'soon', not a whole number",
        id="timestamp",
    ),
    pytest.param(
        BODY,
        _replacing(_SIGNATURE, "é" * 88),
        "malformed_header",
        "holds characters that are not ASCII",
        id="sig-not-ascii",
    ),
    pytest.param(
        BODY,
        _replacing(_SIGNATURE, "A" * 129),
        "malformed_header",
        "(129 characters, expected 88)",
        id="sig-too-long",
    ),
    pytest.param(
        BODY,
        _replacing(_SIGNATURE, "A" * 87 + "!"),
        "malformed_header",
        "header telnyx-signature-ed25519 is not valid base64",
        id="sig-not-base64",
    ),
    pytest.param(
        BODY,
        _replacing(_SIGNATURE, "A" * 128),
        "malformed_header",
        "decodes to 96 bytes; an Ed25519 signature is 64",
        id="sig-wrong-length",
    ),
    pytest.param(
        BODY, _headers(NOW - 301), "stale", "webhook timestamp is 301s old", id="stale-old"
    ),
    pytest.param(BODY, _headers(NOW + 301), "stale", "301s in the future", id="stale-future"),
    pytest.param(42, _headers(), "bad_body", "body is a int", id="body-kind"),
    pytest.param("\ud800", _headers(), "bad_body", "lone surrogate", id="body-surrogate"),
    pytest.param(
        BODY + b" ", _headers(), "signature_mismatch", "signature does not match", id="mismatch"
    ),
]


@pytest.mark.parametrize(("key", "code", "reason"), KEY_FAILURES)
def test_a_bad_key_fails_closed_with_its_code(key: Any, code: str, reason: str) -> None:
    """A missing or malformed key is a WebhookConfigurationError coded no_key or bad_key."""
    error = _failure(key=key)
    assert isinstance(error, WebhookConfigurationError)
    assert isinstance(error, ConfigurationError)
    assert error.code == code
    assert reason in error.reason
    with pytest.raises(WebhookConfigurationError) as info:
        PublicKeys.load(key)
    assert info.value.code == code


@pytest.mark.parametrize(("body", "headers", "code", "reason"), REQUEST_FAILURES)
def test_a_bad_webhook_fails_with_its_code(body: Any, headers: Any, code: str, reason: str) -> None:
    """Each way a request can fail has the code docs/webhooks.md gives it, and says why."""
    error = _failure(body, headers)
    assert not isinstance(error, WebhookConfigurationError)
    assert error.code == code
    assert reason in error.reason


def test_a_webhook_signed_by_another_key_is_a_mismatch() -> None:
    """A signature by someone else's key is signature_mismatch naming the one key tried."""
    error = _failure(headers=OTHER.headers(BODY, NOW))
    assert error.code == "signature_mismatch"
    assert "with the public key:" in error.reason


def test_a_mismatch_against_several_keys_counts_them() -> None:
    """With two keys configured, the mismatch says none of the 2 matched."""
    third = WebhookSigner(seed=b"\x03" * 32)
    error = _failure(headers=third.headers(BODY, NOW), key=[KEY, OTHER.public_key])
    assert error.code == "signature_mismatch"
    assert "with any of the 2 public keys:" in error.reason


@pytest.mark.parametrize(
    ("keys", "code"),
    [
        pytest.param((), "no_key", id="no-keys"),
        pytest.param((b"k" * 31,), "bad_key", id="short-key"),
        pytest.param((b"k" * 33,), "bad_key", id="long-key"),
        pytest.param(("k" * 32,), "bad_key", id="text-not-bytes"),
        pytest.param((RAW, b"k" * 31), "bad_key", id="second-key-bad"),
    ],
)
def test_public_keys_built_by_hand_are_checked(keys: tuple[Any, ...], code: str) -> None:
    """PublicKeys(...) itself refuses what libsodium would misread (it reads any 32 bytes)."""
    with pytest.raises(WebhookConfigurationError) as info:
        PublicKeys(keys)
    assert info.value.code == code


# -- keys: the forms right next to a valid one ----------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(KEY.encode(), id="portal-bytes-no-newline"),
        pytest.param(KEY.encode() + b"\n", id="portal-bytes-newline"),
        pytest.param(bytearray(KEY.encode()), id="portal-bytearray"),
        pytest.param(ED25519_SPKI + RAW, id="der-bytes"),
        pytest.param(base64.b64encode(ED25519_SPKI + RAW), id="der-base64-bytes"),
        pytest.param(_pem(ED25519_SPKI + RAW, width=16), id="pem-16-per-line"),
        pytest.param(_pem(ED25519_SPKI + RAW, width=4, newline="\r\n"), id="pem-crlf-wrapped"),
        pytest.param(_pem(ED25519_SPKI + RAW).replace("\n", "\\n"), id="pem-escaped-newlines"),
        pytest.param("  " + _pem(ED25519_SPKI + RAW) + "\n\n", id="pem-padded"),
        pytest.param([KEY, KEY], id="the-same-key-twice"),
        pytest.param([OTHER.public_key, bytearray(RAW)], id="list-with-a-bytearray"),
    ],
)
def test_key_forms_that_verify(key: Any) -> None:
    """The portal key as 44 bytes (newline or not), DER, and PEM however wrapped all verify."""
    webhooks.verify(BODY, _headers(), public_key=key, now=NOW)


def test_the_same_key_twice_is_one_key() -> None:
    """A key listed twice is tried once."""
    assert repr(PublicKeys.load([KEY, KEY.encode(), RAW])) == "<PublicKeys: 1 Ed25519 key>"
    assert repr(PublicKeys.load([KEY, OTHER.public_key])) == "<PublicKeys: 2 Ed25519 keys>"


def test_a_list_of_keys_and_the_same_tuple_decode_alike() -> None:
    """A list (unhashable) and a tuple of the same keys give the same PublicKeys."""
    assert PublicKeys.load([KEY, OTHER.public_key]) == PublicKeys.load((KEY, OTHER.public_key))
    assert PublicKeys.load([bytearray(RAW)]).keys == (RAW,)


def test_public_keys_pass_through_and_combine() -> None:
    """A PublicKeys is used as it is, and its keys join a list's."""
    one = PublicKeys.load(KEY)
    assert PublicKeys.load(one) is one
    both = PublicKeys.load([one, OTHER.public_key])
    assert both.keys == (RAW, OTHER.public_key_bytes)


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        pytest.param(KEY[:10] + "!" + KEY[10:], "not valid base64", id="stray-character"),
        pytest.param(KEY[:10] + "*" + KEY[11:], "not valid base64", id="replaced-character"),
        pytest.param(KEY + "#", "not valid base64", id="trailing-character"),
        pytest.param(KEY.replace("=", ""), "not valid base64", id="padding-missing"),
        pytest.param(
            base64.b64encode(X25519_SPKI + RAW).decode(), "decodes to 44 bytes", id="x25519-b64"
        ),
        pytest.param(X25519_SPKI + RAW, "public key is 44 bytes", id="x25519-der"),
        pytest.param(b"0" + ED25519_SPKI + RAW, "public key is 45 bytes", id="der-one-byte-long"),
        pytest.param((ED25519_SPKI + RAW)[1:], "public key is 43 bytes", id="der-one-byte-short"),
        pytest.param(
            _pem(ED25519_SPKI + RAW).replace("END PUBLIC", "END PRIVATE"),
            "not a '-----BEGIN PUBLIC KEY-----' block",
            id="pem-mismatched-end",
        ),
        pytest.param(
            _pem(ED25519_SPKI + RAW, "ED25519 PUBLIC KEY"),
            "not a '-----BEGIN PUBLIC KEY-----' block",
            id="pem-ed25519-label",
        ),
        pytest.param(
            _pem(ED25519_SPKI + RAW) + "trailing",
            "not a '-----BEGIN PUBLIC KEY-----' block",
            id="pem-trailing-text",
        ),
        pytest.param(
            _pem(ED25519_SPKI + RAW)[:40] + "!" + _pem(ED25519_SPKI + RAW)[40:],
            "PEM with invalid base64",
            id="pem-stray-character",
        ),
        pytest.param(
            _pem(ED25519_SPKI + RAW + b"\x00"),
            "PEM but not a 32-byte Ed25519 public key (45 bytes of DER)",
            id="pem-one-byte-long",
        ),
        pytest.param(
            _pem(b"\x00" + ED25519_SPKI[1:] + RAW),
            "PEM but not a 32-byte Ed25519 public key (44 bytes of DER)",
            id="pem-not-spki",
        ),
    ],
)
def test_key_forms_next_to_a_valid_one_are_refused(key: Any, reason: str) -> None:
    """One stray character, an X25519 key, a mislabelled PEM: a bad_key, never a guess."""
    error = _failure(key=key)
    assert error.code == "bad_key"
    assert reason in error.reason


@pytest.mark.parametrize("where", [0, 40, 87])
def test_a_stray_character_in_the_signature_is_refused(where: int) -> None:
    """A signature with one non-base64 character added is malformed, not decoded around it."""
    signature = _headers()[_SIGNATURE]
    stray = signature[:where] + "!" + signature[where:]
    error = _failure(headers=_replacing(_SIGNATURE, stray))
    assert error.code == "malformed_header"
    assert "is not valid base64" in error.reason


def test_a_signature_of_exactly_128_characters_is_decoded() -> None:
    """Up to 128 characters the signature is decoded (and its length reported); past it, not."""
    at_limit = _failure(headers=_replacing(_SIGNATURE, "A" * 128))
    assert "decodes to 96 bytes" in at_limit.reason
    past = _failure(headers=_replacing(_SIGNATURE, "A" * 129))
    assert "(129 characters, expected 88)" in past.reason


# -- timestamps --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "timestamp",
    [
        pytest.param("7", id="1-digit"),
        pytest.param(str(NOW), id="10-digits"),
        pytest.param(str(NOW).zfill(20), id="20-digits"),
        pytest.param("9" * 20, id="20-nines"),
    ],
)
def test_timestamps_up_to_20_digits_are_read(timestamp: str) -> None:
    """Any 1 to 20 ASCII digits is a timestamp (int64, the spec's format): its signature counts."""
    webhooks.verify(BODY, _headers(timestamp), public_key=KEY, tolerance=None)


def test_a_zero_padded_timestamp_is_its_number() -> None:
    """20 digits with leading zeros is the same moment: within tolerance of now."""
    webhooks.verify(BODY, _headers(str(NOW).zfill(20)), public_key=KEY, now=NOW)


@pytest.mark.parametrize("timestamp", ["1" * 21, "0" * 21, str(NOW).zfill(21)])
def test_a_21_digit_timestamp_is_malformed_even_when_signed(timestamp: str) -> None:
    """Past 20 digits the timestamp is refused before any arithmetic, signature or not."""
    error = _failure(headers=_headers(timestamp), tolerance=None)
    assert error.code == "malformed_header"
    assert "not a whole number of Unix seconds" in error.reason


def test_a_long_timestamp_is_quoted_cut_short() -> None:
    """The reason quotes at most 24 characters of a bad timestamp."""
    error = _failure(headers=_replacing(_TIMESTAMP, "x" * 30))
    assert f"is {'x' * 24!r}, not a whole number" in error.reason


# -- the age check and its documented default ----------------------------------------------------


@pytest.mark.parametrize("age", [300, -300, 299.5, -299.5])
def test_the_default_tolerance_is_five_minutes(age: float) -> None:
    """Without tolerance=, a webhook up to 300 s old (or ahead) passes, as documented."""
    webhooks.verify(BODY, _headers(), public_key=KEY, now=NOW + age)


@pytest.mark.parametrize(
    ("age", "reason"),
    [
        pytest.param(300.5, "301s old, beyond the 300s tolerance", id="old"),
        pytest.param(-300.5, "301s in the future, beyond the 300s tolerance", id="future"),
    ],
)
def test_past_the_default_tolerance_is_stale(age: float, reason: str) -> None:
    """Half a second past 300 s either way is stale, with the distance rounded up."""
    with pytest.raises(WebhookVerificationError) as info:
        webhooks.verify(BODY, _headers(), public_key=KEY, now=NOW + age)
    assert info.value.code == "stale"
    assert reason in info.value.reason


@pytest.mark.parametrize(
    ("tolerance", "age", "passes"),
    [(0, 0, True), (0, 1, False), (0.5, 0.5, True), (2.5, 3, False), (10**9, 10**8, True)],
)
def test_any_tolerance_of_zero_or_more_applies(tolerance: float, age: float, passes: bool) -> None:
    """tolerance=0 means this very second; fractions apply exactly."""
    if passes:
        webhooks.verify(BODY, _headers(), public_key=KEY, tolerance=tolerance, now=NOW + age)
    else:
        assert _failure(tolerance=tolerance, now=NOW + age).code == "stale"


@pytest.mark.parametrize("now", [0, 0.0, -5.5, 10**10])
def test_any_finite_now_is_accepted(now: float) -> None:
    """now= is any finite number of Unix seconds (the age check then decides)."""
    webhooks.verify(BODY, _headers(), public_key=KEY, tolerance=None, now=now)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"tolerance": True}, "tolerance must be seconds >= 0"),
        ({"tolerance": -0.001}, "tolerance must be seconds >= 0"),
        ({"now": True}, "now must be Unix seconds"),
        ({"now": float("-inf")}, "now must be Unix seconds"),
        ({"now": None, "tolerance": "5"}, "tolerance must be seconds >= 0"),
    ],
)
def test_bad_options_are_the_callers_bug(options: dict[str, Any], message: str) -> None:
    """A tolerance or now that is not a number is an InvalidArgumentError, not a verdict."""
    with pytest.raises(InvalidArgumentError, match=message):
        webhooks.verify(BODY, _headers(), public_key=KEY, **options)


# -- headers -------------------------------------------------------------------------------------


def test_header_bytes_are_read_as_latin_1() -> None:
    """ASGI/WSGI servers hand header values over as bytes: they verify like text."""
    headers = {name: value.encode("latin-1") for name, value in _headers().items()}
    webhooks.verify(BODY, headers, public_key=KEY, now=NOW)
    as_bytearray = {name: bytearray(value) for name, value in headers.items()}
    webhooks.verify(BODY, as_bytearray, public_key=KEY, now=NOW)


def test_a_mapping_with_keys_that_are_not_text_still_finds_the_headers() -> None:
    """Non-text names among the headers are skipped, not a crash; any case is matched."""
    headers: dict[Any, str] = {
        b"telnyx-timestamp": "junk",
        7: "junk",
        **{name.upper(): value for name, value in _headers().items()},
    }
    webhooks.verify(BODY, headers, public_key=KEY, now=NOW)


def test_a_mapping_with_only_foreign_keys_is_missing_the_headers() -> None:
    """With no text names at all, the headers are missing (not an unreadable mapping)."""
    error = _failure(headers={7: "x", b"telnyx-timestamp": str(NOW)})
    assert error.code == "missing_header"
    assert error.reason.startswith("missing header telnyx-signature-ed25519")


def test_telnyx_signs_as_documented() -> None:
    """The signed bytes are the timestamp, '|', then the raw body: a foreign signer agrees."""
    key = SigningKey(b"\x09" * 32)
    signature = key.sign(b"%d|" % NOW + BODY).signature
    headers = {_SIGNATURE: base64.b64encode(signature).decode(), _TIMESTAMP: str(NOW)}
    public_key = base64.b64encode(bytes(key.verify_key)).decode()
    webhooks.verify(BODY, headers, public_key=public_key, now=NOW)
    webhooks.verify(BODY.decode(), headers, public_key=public_key, now=NOW)
    # Without the separator, or with the timestamp after the body, it does not verify.
    for signed in (b"%d" % NOW + BODY, BODY + b"|%d" % NOW):
        wrong = {**headers, _SIGNATURE: base64.b64encode(key.sign(signed).signature).decode()}
        assert _failure(headers=wrong, key=public_key).code == "signature_mismatch"


# -- reasons say what to fix ---------------------------------------------------------------------

_PORTAL = "Mission Control Portal > Keys & Credentials > Public Key"


@pytest.mark.parametrize(
    ("body", "headers", "key", "now", "reason"),
    [
        pytest.param(
            BODY,
            _without(_SIGNATURE),
            KEY,
            NOW,
            "missing header telnyx-signature-ed25519: is this request from Telnyx, and does a "
            "proxy strip headers on the way?",
            id="missing-signature",
        ),
        pytest.param(
            BODY,
            _without(_TIMESTAMP),
            KEY,
            NOW,
            "missing header telnyx-timestamp: is this request from Telnyx, and does a proxy "
            "strip headers on the way?",
            id="missing-timestamp",
        ),
        pytest.param(
            BODY,
            _headers(),
            KEY,
            NOW + 412,
            "webhook timestamp is 412s old, beyond the 300s tolerance: a replayed or "
            "long-delayed webhook, or this server's clock is ahead (check NTP)",
            id="stale",
        ),
        pytest.param(
            BODY,
            _headers(),
            KEY,
            NOW - 412,
            "webhook timestamp is 412s in the future, beyond the 300s tolerance: this "
            "server's clock is behind (check NTP)",
            id="future",
        ),
        pytest.param(
            "\ud800",
            _headers(),
            KEY,
            NOW,
            "body is text that cannot be UTF-8 encoded (a lone surrogate): pass the raw "
            "request bytes",
            id="lone-surrogate",
        ),
        pytest.param(
            BODY,
            {**_headers(), _TIMESTAMP: 5},
            KEY,
            NOW,
            "header telnyx-timestamp is a int, not text: pass the request's headers",
            id="header-not-text",
        ),
        pytest.param(
            BODY,
            _Unreadable(),
            KEY,
            NOW,
            "could not read the webhook headers (RuntimeError): pass the request's headers mapping",
            id="unreadable-headers",
        ),
        pytest.param(
            BODY,
            _headers(),
            None,
            NOW,
            "no public key to verify the webhook with: pass public_key= (the base64 key from "
            f"{_PORTAL}), or AsyncClient(public_key=...) / the TELNYX_PUBLIC_KEY environment "
            "variable for client.webhooks",
            id="no-key",
        ),
        pytest.param(
            BODY,
            _headers(),
            [KEY, 4.5],
            NOW,
            "public_key item 1 is a float: each key must be the base64 text from the portal, "
            "raw bytes, or PEM",
            id="list-item",
        ),
        pytest.param(
            BODY,
            _headers(),
            4.5,
            NOW,
            f"public_key is a float: pass the base64 text from {_PORTAL}, the raw 32 bytes, "
            "PEM, or a list of these",
            id="not-a-key",
        ),
        pytest.param(
            BODY,
            _headers(),
            _pem(ED25519_SPKI + RAW, "PRIVATE KEY"),
            NOW,
            "public key is PEM but not a '-----BEGIN PUBLIC KEY-----' block: pass the Ed25519 "
            "public key (never a private key)",
            id="pem-label",
        ),
        pytest.param(
            BODY,
            _headers(),
            [KEY, _pem(X25519_SPKI + RAW)],
            NOW,
            "public key (item 1 of the list) is PEM but not a 32-byte Ed25519 public key "
            "(44 bytes of DER)",
            id="pem-in-a-list",
        ),
    ],
)
def test_each_reason_says_what_to_fix(
    body: Any, headers: Any, key: Any, now: float, reason: str
) -> None:
    """The whole reason: what went wrong, then what to do about it (never the key itself)."""
    assert _failure(body, headers, key, now=now).reason == reason
