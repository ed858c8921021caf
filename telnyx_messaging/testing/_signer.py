"""``WebhookSigner``: sign webhook bodies as Telnyx does, to test your endpoint end to end."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Mapping
from typing import Any

from nacl.signing import SigningKey

from telnyx_messaging._errors import InvalidArgumentError
from telnyx_messaging.webhooks._signature import SIGNATURE_HEADER, TIMESTAMP_HEADER

__all__ = ["WebhookSigner"]


class WebhookSigner:
    """An Ed25519 key pair that signs webhook bodies into the headers Telnyx sends.

    ::

        signer = WebhookSigner()
        body, headers = signer.sign({"data": {"event_type": "message.received", ...}})
        event = webhooks.unwrap(body, headers, public_key=signer.public_key)

    Configure your app with ``signer.public_key`` (base64 text, as the portal shows it) where
    it would take the real one, then post ``body`` with ``headers`` to it. A fresh key pair
    each time, or pass a 32-byte ``seed`` for the same key in every run.
    """

    def __init__(self, seed: bytes | None = None) -> None:
        if seed is None:
            self._signing_key = SigningKey.generate()
        elif isinstance(seed, bytes) and len(seed) == 32:
            self._signing_key = SigningKey(seed)
        else:
            raise InvalidArgumentError("seed must be 32 bytes (or None for a random key)")
        raw = bytes(self._signing_key.verify_key)
        self._public_key = base64.b64encode(raw).decode("ascii")
        self._public_key_bytes = raw

    def __repr__(self) -> str:
        # The public key only: a test key's seed still has no business in a log.
        return f"<WebhookSigner public_key={self._public_key!r}>"

    @property
    def public_key(self) -> str:
        """The public key as base64 text, the form Mission Control Portal shows."""
        return self._public_key

    @property
    def public_key_bytes(self) -> bytes:
        """The raw 32-byte public key."""
        return self._public_key_bytes

    def signature(self, body: bytes | str, timestamp: int | str) -> str:
        """The ``telnyx-signature-ed25519`` value for ``body`` sent at ``timestamp``."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        stamp = str(timestamp)
        if not stamp.isascii():
            # An HTTP header carries ASCII only; Arabic-Indic digits would fail later, less clearly.
            raise InvalidArgumentError(
                f"timestamp must be ASCII text, Unix seconds such as '1700000000'; got {stamp!r}"
            )
        signed = self._signing_key.sign(f"{stamp}|".encode("ascii") + data)
        return base64.b64encode(signed.signature).decode("ascii")

    def headers(self, body: bytes | str, timestamp: int | str | None = None) -> dict[str, str]:
        """The signature headers Telnyx would send with ``body`` (at ``timestamp``, default now).

        ``timestamp`` is Unix seconds; pass an old one to test your tolerance handling.
        """
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        return {
            SIGNATURE_HEADER: self.signature(body, stamp),
            TIMESTAMP_HEADER: stamp,
        }

    def sign(
        self, event: Mapping[str, Any] | bytes | str, timestamp: int | str | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """A body and its headers: ``event`` as compact JSON (or as given, if already text).

        Post the bytes exactly as returned: any re-encoding breaks the signature.
        """
        if isinstance(event, Mapping):
            body = json.dumps(event, separators=(",", ":")).encode("utf-8")
        elif isinstance(event, str):
            body = event.encode("utf-8")
        else:
            body = event
        return body, self.headers(body, timestamp)
