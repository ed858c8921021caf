"""Telnyx webhook signatures, checked on bytes: no I/O, no client, no web framework.

Telnyx signs every webhook with Ed25519
(https://developers.telnyx.com/docs/messaging/messages/receiving-webhooks):

- ``telnyx-signature-ed25519``: base64 of the 64-byte signature;
- ``telnyx-timestamp``: when it was sent, in Unix seconds;
- signed bytes: the timestamp header's ASCII, ``|``, then the raw body exactly as sent;
- the key: base64 of the 32-byte public key shown in Mission Control Portal.

Every failure is a ``WebhookVerificationError`` whose reason says what to fix and whose
``code`` names the kind of failure; a missing or malformed key is a
``WebhookConfigurationError`` (also a ``WebhookVerificationError``: it fails closed). Reasons
never quote a key, so they are safe to log and to send back to the caller.
"""

from __future__ import annotations

import base64
import binascii
import functools
import math
import re
import time
from collections.abc import Iterable, Sequence
from typing import Any, Protocol, Union

from attrs import field, frozen
from nacl.bindings import crypto_sign_open
from nacl.exceptions import CryptoError

from telnyx_messaging._errors import (
    InvalidArgumentError,
    WebhookConfigurationError,
    WebhookVerificationError,
)

__all__ = [
    "DEFAULT_TOLERANCE",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "HeadersLike",
    "PublicKeyInput",
    "PublicKeys",
    "check_arguments",
    "check_signature",
    "load_public_keys",
    "verify_headers",
]

SIGNATURE_HEADER = "telnyx-signature-ed25519"
TIMESTAMP_HEADER = "telnyx-timestamp"
#: Seconds a webhook's timestamp may differ from this machine's clock, either way.
DEFAULT_TOLERANCE = 300

_KEY_BYTES = 32
_SIGNATURE_BYTES = 64
# An Ed25519 SubjectPublicKeyInfo (RFC 8410 section 4) is this fixed 12-byte DER header
# followed by the raw 32-byte key, so it is read without an ASN.1 parser.
_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")
# Base64 of 64 bytes is 88 characters; anything much longer is not a signature, and decoding
# a megabyte of it would only waste time.
_MAX_SIGNATURE_CHARS = 128
# Unix seconds fit in 11 digits for the next 3000 years; 20 is int64, the spec's format.
_MAX_TIMESTAMP_DIGITS = 20
_PEM = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*)-----END \1-----", re.DOTALL)
_WHERE_THE_KEY_IS = "Mission Control Portal > Keys & Credentials > Public Key"


class HeadersLike(Protocol):
    """Request headers: any mapping (aiohttp, Starlette, Django, a dict) or Flask's headers."""

    def get(self, key: str, /) -> Any: ...

    def items(self) -> Iterable[tuple[Any, Any]]: ...


#: What ``public_key=`` accepts: the portal's base64 text, raw 32 bytes, SPKI DER (raw or
#: base64), PEM, a :class:`PublicKeys`, or a sequence of these (any one valid key passes).
PublicKeyInput = Union[str, bytes, bytearray, memoryview, "PublicKeys", Sequence[Any]]
"""A public key in any form Telnyx shows it: base64 text, raw bytes, DER, PEM, or a list."""


@frozen(repr=False)
class PublicKeys:
    """One or more decoded Ed25519 public keys, ready to check signatures with.

    Build it once with :meth:`load` (``PublicKeys.load(os.environ["TELNYX_PUBLIC_KEY"])``)
    and pass it as ``public_key=``; passing the text itself works as well, since decoded keys
    are cached. Several keys cover a rotation: a signature made by any one of them passes.
    """

    keys: tuple[bytes, ...] = field()

    @keys.validator
    def _check(self, _: Any, keys: tuple[Any, ...]) -> None:
        # libsodium reads exactly 32 bytes whatever it is handed: check before it ever does.
        if not keys:
            raise WebhookConfigurationError(
                "no public key given: pass at least one key", code="no_key"
            )
        for key in keys:
            if not isinstance(key, bytes) or len(key) != 32:
                raise WebhookConfigurationError(
                    "each decoded Ed25519 public key must be 32 raw bytes; build PublicKeys "
                    "with PublicKeys.load(...) from the key the portal shows",
                    code="bad_key",
                )

    @classmethod
    def load(cls, value: PublicKeyInput) -> PublicKeys:
        """Decode ``value`` (any form ``public_key=`` takes) or raise WebhookConfigurationError."""
        return load_public_keys(value)

    def __repr__(self) -> str:
        return f"<PublicKeys: {len(self.keys)} Ed25519 key{'s' if len(self.keys) != 1 else ''}>"


def load_public_keys(value: PublicKeyInput) -> PublicKeys:
    """Decode a key, or several, once; later calls with the same text hit a cache."""
    if isinstance(value, PublicKeys):
        return value
    if isinstance(value, list):
        value = tuple(value)
    try:
        return _load_cached(value)  # type: ignore[arg-type]
    except TypeError:
        # Unhashable input (a bytearray, a list inside the list): decode it without the cache.
        # _load itself never raises TypeError, so this is only the cache's hashing failing.
        return _load(value)


@functools.lru_cache(maxsize=32)
def _load_cached(value: Any) -> PublicKeys:
    return _load(value)


def _load(value: Any) -> PublicKeys:
    if value is None:
        raise WebhookConfigurationError(
            "no public key to verify the webhook with: pass public_key= (the base64 key from "
            f"{_WHERE_THE_KEY_IS}), or AsyncClient(public_key=...) / the TELNYX_PUBLIC_KEY "
            "environment variable for client.webhooks",
            code="no_key",
        )
    if isinstance(value, (str, bytes, bytearray, memoryview)):
        return PublicKeys((_decode_key(value, ""),))
    if isinstance(value, Sequence):
        if not value:
            raise WebhookConfigurationError(
                f"public_key is an empty list: give at least one key (from {_WHERE_THE_KEY_IS})",
                code="no_key",
            )
        keys: list[bytes] = []
        for i, item in enumerate(value):
            if isinstance(item, PublicKeys):
                keys.extend(item.keys)
            elif isinstance(item, (str, bytes, bytearray, memoryview)):
                keys.append(_decode_key(item, f" (item {i} of the list)"))
            else:
                raise WebhookConfigurationError(
                    f"public_key item {i} is a {type(item).__name__}: each key must be the "
                    "base64 text from the portal, raw bytes, or PEM",
                    code="bad_key",
                )
        return PublicKeys(tuple(dict.fromkeys(keys)))
    raise WebhookConfigurationError(
        f"public_key is a {type(value).__name__}: pass the base64 text from {_WHERE_THE_KEY_IS}, "
        "the raw 32 bytes, PEM, or a list of these",
        code="bad_key",
    )


def _decode_key(value: str | bytes | bytearray | memoryview, where: str) -> bytes:
    if isinstance(value, (bytearray, memoryview)):
        value = bytes(value)
    if isinstance(value, bytes):
        if len(value) == _KEY_BYTES:
            return value
        if len(value) == len(_SPKI_PREFIX) + _KEY_BYTES and value.startswith(_SPKI_PREFIX):
            return value[len(_SPKI_PREFIX) :]
        if not value.isascii():
            raise WebhookConfigurationError(
                f"public key{where} is {len(value)} bytes; an Ed25519 public key is "
                f"{_KEY_BYTES} bytes (or 44 in SPKI/DER form)",
                code="bad_key",
            )
        # Bytes read from a file or an environment: the same text the portal shows.
        value = value.decode("ascii")
    text = value.strip()
    if not text:
        raise WebhookConfigurationError(
            f"public key{where} is empty: set it to the base64 key from {_WHERE_THE_KEY_IS}",
            code="no_key",
        )
    if text.startswith("-----BEGIN"):
        # Keys pasted into environment variables often arrive with a literal backslash-n for
        # each line break, or on one line.
        return _decode_pem(text.replace("\\n", "\n").strip(), where)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise WebhookConfigurationError(
            f"public key{where} is not valid base64: copy it again from {_WHERE_THE_KEY_IS}",
            code="bad_key",
        ) from None
    if len(raw) == _KEY_BYTES:
        return raw
    if len(raw) == len(_SPKI_PREFIX) + _KEY_BYTES and raw.startswith(_SPKI_PREFIX):
        return raw[len(_SPKI_PREFIX) :]
    raise WebhookConfigurationError(
        f"public key{where} decodes to {len(raw)} bytes; an Ed25519 public key is "
        f"{_KEY_BYTES} bytes (44 characters of base64, as {_WHERE_THE_KEY_IS} shows it)",
        code="bad_key",
    )


def _decode_pem(text: str, where: str) -> bytes:
    match = _PEM.fullmatch(text)
    if match is None or match.group(1) != "PUBLIC KEY":
        raise WebhookConfigurationError(
            f"public key{where} is PEM but not a '-----BEGIN PUBLIC KEY-----' block: pass "
            "the Ed25519 public key (never a private key)",
            code="bad_key",
        )
    text = "".join(match.group(2).split())
    try:
        der = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise WebhookConfigurationError(
            f"public key{where} is PEM with invalid base64", code="bad_key"
        ) from None
    if len(der) != len(_SPKI_PREFIX) + _KEY_BYTES or not der.startswith(_SPKI_PREFIX):
        raise WebhookConfigurationError(
            f"public key{where} is PEM but not a {_KEY_BYTES}-byte Ed25519 public key "
            f"({len(der)} bytes of DER)",
            code="bad_key",
        )
    return der[len(_SPKI_PREFIX) :]


def _header(headers: HeadersLike, name: str) -> str | None:
    # aiohttp's CIMultiDict, Starlette's and Django's headers all look up case-insensitively;
    # a plain dict does not, so fall back to a scan (a request has a few dozen headers).
    try:
        value = headers.get(name)
        if value is None:
            for key, item in headers.items():
                if isinstance(key, str) and key.lower() == name:
                    value = item
                    break
    except Exception as exc:  # noqa: BLE001 - whatever the mapping raises, fail closed
        raise WebhookVerificationError(
            f"could not read the webhook headers ({type(exc).__name__}): pass the request's "
            "headers mapping",
            code="malformed_header",
        ) from None
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        # ASGI and WSGI servers hand over header bytes as latin-1.
        return bytes(value).decode("latin-1")
    raise WebhookVerificationError(
        f"header {name} is a {type(value).__name__}, not text: pass the request's headers",
        code="malformed_header",
    )


def verify_headers(
    body: bytes | bytearray | memoryview | str,
    headers: HeadersLike,
    keys: PublicKeys,
    *,
    tolerance: float | None = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> None:
    """Check a webhook's signature headers against its raw body, or raise."""
    # Duck-typed: Flask's (werkzeug's) headers have .get and .items but are not a Mapping.
    if not hasattr(headers, "items"):
        raise WebhookVerificationError(
            f"headers is a {type(headers).__name__}: pass the request's headers mapping",
            code="malformed_header",
        )
    signature = _header(headers, SIGNATURE_HEADER)
    timestamp = _header(headers, TIMESTAMP_HEADER)
    if signature is None:
        raise WebhookVerificationError(
            f"missing header {SIGNATURE_HEADER}: is this request from Telnyx, and does a proxy "
            "strip headers on the way?",
            code="missing_header",
        )
    if timestamp is None:
        raise WebhookVerificationError(
            f"missing header {TIMESTAMP_HEADER}: is this request from Telnyx, and does a proxy "
            "strip headers on the way?",
            code="missing_header",
        )
    check_signature(body, timestamp, signature, keys, tolerance=tolerance, now=now)


def check_signature(
    body: bytes | bytearray | memoryview | str,
    timestamp: str,
    signature: str,
    keys: PublicKeys,
    *,
    tolerance: float | None = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> None:
    """Check one signature: header values as text, the body as received; raises on failure."""
    check_arguments(tolerance, now)
    # Header values are ASCII on the wire; `isdigit` alone would take Arabic-Indic digits.
    if not (0 < len(timestamp) <= _MAX_TIMESTAMP_DIGITS and timestamp.isascii()) or (
        not timestamp.isdigit()
    ):
        raise WebhookVerificationError(
            f"header {TIMESTAMP_HEADER} is {timestamp[:24]!r}, not a whole number of Unix seconds",
            code="malformed_header",
        )
    signature_bytes = _decode_signature(signature)
    if tolerance is not None:
        _check_age(int(timestamp), tolerance, now)
    if isinstance(body, str):
        try:
            # The signed bytes, ready for crypto_sign_open, which wants signature + message.
            signed = signature_bytes + (timestamp + "|" + body).encode("utf-8")
        except UnicodeEncodeError:
            raise WebhookVerificationError(
                "body is text that cannot be UTF-8 encoded (a lone surrogate): pass the raw "
                "request bytes",
                code="bad_body",
            ) from None
    elif isinstance(body, (bytes, bytearray, memoryview)):
        signed = b"".join((signature_bytes, timestamp.encode("ascii"), b"|", body))
    else:
        raise WebhookVerificationError(
            f"body is a {type(body).__name__}: pass the raw request body as bytes (or str)",
            code="bad_body",
        )
    for key in keys.keys:
        try:
            crypto_sign_open(signed, key)
        except CryptoError:
            continue
        return
    which = "the public key" if len(keys.keys) == 1 else f"any of the {len(keys.keys)} public keys"
    raise WebhookVerificationError(
        f"signature does not match the body and timestamp with {which}: verify the raw request "
        "body exactly as received (not JSON your framework parsed and re-serialised), and "
        f"check the key is the one in {_WHERE_THE_KEY_IS}",
        code="signature_mismatch",
    )


def _decode_signature(signature: str) -> bytes:
    if not signature.isascii():
        # Checked apart from the length: "(88 characters, expected 88)" would say nothing.
        raise WebhookVerificationError(
            f"header {SIGNATURE_HEADER} is not the base64 of a {_SIGNATURE_BYTES}-byte Ed25519 "
            "signature: it holds characters that are not ASCII, and base64 never does",
            code="malformed_header",
        )
    if len(signature) > _MAX_SIGNATURE_CHARS:
        raise WebhookVerificationError(
            f"header {SIGNATURE_HEADER} is not the base64 of a {_SIGNATURE_BYTES}-byte Ed25519 "
            f"signature ({len(signature)} characters, expected 88)",
            code="malformed_header",
        )
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        raise WebhookVerificationError(
            f"header {SIGNATURE_HEADER} is not valid base64", code="malformed_header"
        ) from None
    if len(raw) != _SIGNATURE_BYTES:
        raise WebhookVerificationError(
            f"header {SIGNATURE_HEADER} decodes to {len(raw)} bytes; an Ed25519 signature is "
            f"{_SIGNATURE_BYTES}",
            code="malformed_header",
        )
    return raw


def _check_age(timestamp: int, tolerance: float, now: float | None) -> None:
    if now is None:
        now = time.time()
    age = now - timestamp
    if age > tolerance:
        raise WebhookVerificationError(
            f"webhook timestamp is {math.ceil(age)}s old, beyond the {tolerance:g}s tolerance: a "
            "replayed or long-delayed webhook, or this server's clock is ahead (check NTP)",
            code="stale",
        )
    if -age > tolerance:
        raise WebhookVerificationError(
            f"webhook timestamp is {math.ceil(-age)}s in the future, beyond the {tolerance:g}s "
            "tolerance: this server's clock is behind (check NTP)",
            code="stale",
        )


def check_arguments(tolerance: Any, now: Any) -> None:
    """Reject a ``tolerance`` or ``now`` that is not a number: a bug in the calling code."""
    if tolerance is not None and (
        isinstance(tolerance, bool)
        or not isinstance(tolerance, (int, float))
        or math.isnan(tolerance)
        or tolerance < 0
    ):
        raise InvalidArgumentError(
            f"tolerance must be seconds >= 0 (or None to skip the age check), got {tolerance!r}"
        )
    if now is not None and (
        isinstance(now, bool) or not isinstance(now, (int, float)) or not math.isfinite(now)
    ):
        raise InvalidArgumentError(f"now must be Unix seconds (a float), got {now!r}")
