"""The testing API as users write it, type-checked with mypy --strict (not run)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from telnyx_messaging.testing import (
    DeliveryAttempt,
    FakeTelnyx,
    MessagingProfile,
    RateLimits,
    RecordedRequest,
    Respond,
    WebhookSigner,
)


async def lifecycle() -> list[str]:
    limits = RateLimits(account_per_second=50, per_sender_per_second=1)
    async with FakeTelnyx(
        webhook_url="http://127.0.0.1:8080/telnyx", rate_limits=limits, delivery_seconds=1.0
    ) as fake:
        key: str = fake.public_key
        fake.messaging_profiles["other"] = MessagingProfile(webhook_url="http://127.0.0.1:8081/")
        fake.fail_delivery("+13125550666", status="sending_failed")
        inbound: dict[str, Any] = fake.receive(from_="+13125550002", to="+18445550001", text="hi")
        fake.click_link(inbound["id"], "https://telnyx.com")
        later: datetime = fake.now() + timedelta(hours=1)
        fake.advance(3600)
        await fake.deliveries_settled(timeout=5)
        attempts: list[DeliveryAttempt] = fake.deliveries
        fake.rate_limits = RateLimits()
        return [key, later.isoformat(), *(a.url for a in attempts if a.ok and a.status == 200)]


def faults(fake: FakeTelnyx) -> None:
    def hook(request: RecordedRequest) -> Respond | None:
        return Respond(503) if request.path == "/messages" else None

    fake.fault_hook = hook
    fake.fail_next(Respond(429, headers={"Retry-After": "1"}), method="POST")


def signer() -> dict[str, str]:
    return WebhookSigner(seed=b"\x01" * 32).headers(b"{}", timestamp=1700000000)
