"""Webhook delivery as Telnyx does it: signed POSTs, retried, then the failover URL.

Telnyx's messaging docs: a receiver must answer 2xx within about 2 seconds; otherwise Telnyx
retries (up to 3 attempts per URL) and then tries the next URL (the message's own
``webhook_url`` and ``webhook_failover_url``, then its messaging profile's). Every attempt is
kept as a `DeliveryAttempt` so tests can assert on what was sent and how it went.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import attrs

from telnyx_messaging.testing._clock import Clock
from telnyx_messaging.testing._signer import WebhookSigner

__all__ = ["DeliveryAttempt", "WebhookDeliverer"]

ATTEMPTS_PER_URL = 3
#: Hosts the fake posts webhooks to unless told otherwise: this machine only.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@attrs.frozen
class DeliveryAttempt:
    """One webhook POST the fake made (or refused to make), kept in `FakeTelnyx.deliveries`.

    ``event_type`` is ``message.sent``, ``message.finalized``, ``message.received`` or
    ``link_clicked`` (link clicks have no event type on the wire); ``event_id`` is the
    event's ``data.id`` (None for link clicks), the same on every attempt. ``attempt``
    counts the event's attempts from 1 across all its URLs, as ``meta.attempt`` does.
    ``status`` is the receiver's HTTP status, or None when no answer came (``error`` says
    why: refused, timed out, or a host the fake may not post to). Redirects are never
    followed: a 3xx is a failed attempt whose ``error`` names where it pointed. ``body`` and
    ``headers`` are exactly what was posted; ``at`` is the fake clock's time.

    .. versionadded:: 0.2.0
    """

    event_type: str
    event_id: str | None
    message_id: str
    url: str
    attempt: int
    status: int | None
    error: str | None
    body: bytes
    headers: Mapping[str, str]
    at: datetime

    @property
    def ok(self) -> bool:
        """Whether the receiver answered 2xx, which ends the delivery."""
        return self.status is not None and 200 <= self.status < 300

    @property
    def json(self) -> Any:
        """The posted body, parsed."""
        return json.loads(self.body)


class WebhookDeliverer:
    """Posts signed webhooks with Telnyx's retries and records every attempt."""

    def __init__(
        self,
        signer: WebhookSigner,
        clock: Clock,
        *,
        allowed_hosts: Collection[str],
        timeout: float,
        retry_wait: float,
    ) -> None:
        self._signer = signer
        self._clock = clock
        self._allowed = frozenset(host.lower() for host in allowed_hosts)
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._retry_wait = retry_wait
        self._session: aiohttp.ClientSession | None = None
        self.attempts: list[DeliveryAttempt] = []

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def deliver(
        self,
        data: Mapping[str, Any],
        *,
        event_type: str,
        message_id: str,
        urls: Sequence[str],
        with_meta: bool = True,
    ) -> bool:
        """Post ``{"data": data, "meta": ...}`` to the first URL that takes it; True if one did."""
        attempt = 0
        for url in urls:
            for _ in range(ATTEMPTS_PER_URL):
                if attempt:
                    await self._clock.sleep(self._retry_wait)
                attempt += 1
                envelope: dict[str, Any] = {"data": data}
                if with_meta:
                    envelope["meta"] = {"attempt": attempt, "delivered_to": url}
                body = json.dumps(envelope, separators=(",", ":")).encode()
                # The real time, not the fake clock's: receivers check it against their own.
                headers = {
                    "Content-Type": "application/json",
                    **self._signer.headers(body, int(time.time())),
                }
                status, error = await self._post(url, body, headers)
                self.attempts.append(
                    DeliveryAttempt(
                        event_type=event_type,
                        event_id=data.get("id") if with_meta else None,
                        message_id=message_id,
                        url=url,
                        attempt=attempt,
                        status=status,
                        error=error,
                        body=body,
                        headers=headers,
                        at=self._clock.now(),
                    )
                )
                if status is not None and 200 <= status < 300:
                    return True
        return False

    async def _post(
        self, url: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[int | None, str | None]:
        host = (urlsplit(url).hostname or "").lower()
        if host not in self._allowed:
            # A test that sets webhook_url="https://example.com/..." must not reach the network.
            return None, f"not posted: {host!r} is not in allowed_webhook_hosts"
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=self._timeout,
                connector=aiohttp.TCPConnector(limit=100),
                auto_decompress=False,
            )
        try:
            # Never follow a redirect: the allowed host could send the signed body (and the
            # message text in it) anywhere. Like any other non-2xx answer, it fails the attempt.
            async with self._session.post(
                url, data=body, headers=headers, allow_redirects=False
            ) as answer:
                await answer.read()
                if 300 <= answer.status < 400:
                    location = answer.headers.get("Location", "")
                    return answer.status, f"redirect to {location!r} not followed"
                return answer.status, None
        except asyncio.TimeoutError:
            return None, f"no answer within {self._timeout.total} s"
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            return None, f"{type(exc).__name__}: {exc}"
