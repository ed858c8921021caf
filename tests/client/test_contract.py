"""Contract tests: every endpoint's request is accepted by Prism serving Telnyx's OpenAPI spec,
and every answer Prism builds from the spec parses into our models."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone

import pytest

from telnyx_messaging import (
    AsyncClient,
    BulkUpdate,
    Message,
    MobilePhoneNumberMessagingSettings,
    OptOut,
    PhoneNumberMessagingSettings,
    Response,
    UnprocessableEntityError,
    WhatsAppMessage,
    capture_responses,
)

pytestmark = pytest.mark.contract

LATER = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


@pytest.fixture
async def prism(prism_url: str) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(api_key="KEY_contract", base_url=prism_url, max_retries=0) as c:
        yield c


def _accepted_by_spec(responses: list[Response]) -> None:
    # Prism lists what it found wrong in `sl-violations`: with the request (our fault) or with
    # its own answer built from the spec's examples (the spec's fault, e.g. WhatsApp's sample
    # URLs that do not match format "url"), so only the request's count here.
    for r in responses:
        found = json.loads(r.headers.get("sl-violations", "[]"))
        assert [v for v in found if v["location"][0] == "request"] == []


async def test_send_with_every_argument(prism: AsyncClient) -> None:
    """POST /messages with every optional argument is valid and its answer parses."""
    with capture_responses() as seen:
        msg = await prism.messages.send(
            to="+13125550002",
            from_="+18445550001",
            text="Hello",
            media_urls=["https://example.com/a.png"],
            messaging_profile_id="4000eba1-a0c0-4563-9925-b25e842a7cb6",
            send_at=LATER,
            subject="Hi",
            type="MMS",
            encoding="auto",
            auto_detect=True,
            use_profile_webhooks=False,
            webhook_url="https://example.com/hooks",
            webhook_failover_url="https://example.com/failover",
        )
    _accepted_by_spec(seen)
    assert isinstance(msg, Message)
    assert msg.id
    assert msg.to
    assert msg.received_at
    assert msg.received_at.tzinfo is not None


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(
            lambda c: c.messages.retrieve("40385f64-5717-4562-b3fc-2c963f66afa6"), id="retrieve"
        ),
        pytest.param(
            lambda c: c.messages.cancel_scheduled("40385f64-5717-4562-b3fc-2c963f66afa6"),
            id="cancel_scheduled",
        ),
        pytest.param(
            lambda c: c.messages.send_group_mms(
                from_="+18445550001",
                to=["+13125550002", "+13125550003"],
                text="Hi",
                media_urls=["https://example.com/a.png"],
                subject="S",
                use_profile_webhooks=True,
                webhook_url="https://example.com/h",
                webhook_failover_url="https://example.com/f",
            ),
            id="group_mms",
        ),
        pytest.param(
            lambda c: c.messages.send_long_code(
                from_="+18445550001",
                to="+13125550002",
                text="Hi",
                media_urls=["https://example.com/a.png"],
                subject="S",
                type="SMS",
                encoding="gsm7",
                auto_detect=True,
                use_profile_webhooks=True,
                webhook_url="https://example.com/h",
                webhook_failover_url="https://example.com/f",
            ),
            id="long_code",
        ),
        pytest.param(
            lambda c: c.messages.send_short_code(
                from_="12345",
                to="+13125550002",
                text="Hi",
                subject="S",
                type="SMS",
                encoding="ucs2",
                auto_detect=False,
                use_profile_webhooks=True,
                webhook_url="https://example.com/h",
                webhook_failover_url="https://example.com/f",
            ),
            id="short_code",
        ),
        pytest.param(
            lambda c: c.messages.send_number_pool(
                messaging_profile_id="4000eba1-a0c0-4563-9925-b25e842a7cb6",
                to="+13125550002",
                text="Hi",
                subject="S",
                type="SMS",
                encoding="auto",
                auto_detect=True,
                use_profile_webhooks=True,
                webhook_url="https://example.com/h",
                webhook_failover_url="https://example.com/f",
            ),
            id="number_pool",
        ),
        pytest.param(
            lambda c: c.messages.schedule(
                to="+13125550002",
                from_="+18445550001",
                send_at=LATER,
                text="Hi",
                messaging_profile_id="4000eba1-a0c0-4563-9925-b25e842a7cb6",
                media_urls=["https://example.com/a.png"],
                subject="S",
                type="MMS",
                auto_detect=True,
                use_profile_webhooks=True,
                webhook_url="https://example.com/h",
                webhook_failover_url="https://example.com/f",
            ),
            id="schedule",
        ),
    ],
)
async def test_message_endpoints(prism: AsyncClient, call: object) -> None:
    """Every message endpoint sends a request the spec accepts and parses the answer."""
    with capture_responses() as seen:
        msg = await call(prism)  # type: ignore[operator]
    _accepted_by_spec(seen)
    assert isinstance(msg, Message)
    assert msg.id


async def test_send_whatsapp(prism: AsyncClient) -> None:
    """POST /messages/whatsapp is valid and answers a WhatsAppMessage."""
    with capture_responses() as seen:
        sent = await prism.messages.send_whatsapp(
            from_="+18445550001",
            to="+13125550002",
            whatsapp_message={"type": "text", "text": {"body": "Hi"}},
            type="WHATSAPP",
            messaging_profile_id="4000eba1-a0c0-4563-9925-b25e842a7cb6",
            webhook_url="https://example.com/h",
        )
    _accepted_by_spec(seen)
    assert isinstance(sent, WhatsAppMessage)
    assert sent.id


async def test_list_optouts_with_every_filter(prism: AsyncClient) -> None:
    """GET /messaging_optouts takes every filter and its page parses."""
    with capture_responses() as seen:
        page = await prism.messaging_optouts.list(
            filter_messaging_profile_id="4000eba1-a0c0-4563-9925-b25e842a7cb6",
            filter_from="+18445550001",
            created_at_gte=LATER - timedelta(days=30),
            created_at_lte=LATER,
            redaction_enabled=True,
            page_size=5,
            page_number=1,
        )
    _accepted_by_spec(seen)
    assert all(isinstance(o, OptOut) for o in page.data)
    assert page.meta is not None
    assert page.meta.page_size is not None


async def test_phone_number_messaging(prism: AsyncClient) -> None:
    """The phone-number messaging settings endpoints are valid and parse."""
    with capture_responses() as seen:
        page = await prism.phone_numbers.messaging.list(
            filter_messaging_profile_id="4000eba1-a0c0-4563-9925-b25e842a7cb6",
            filter_phone_number="+13125550002",
            filter_phone_number_contains="555",
            filter_type="longcode",
            sort_phone_number="asc",
            page_size=10,
        )
        one = await prism.phone_numbers.messaging.retrieve("1293384261075731499")
        changed = await prism.phone_numbers.messaging.update(
            "1293384261075731499",
            messaging_product="P2P",
            messaging_profile_id="4000eba1-a0c0-4563-9925-b25e842a7cb6",
            tags=["a", "b"],
        )
    _accepted_by_spec(seen)
    assert all(isinstance(p, PhoneNumberMessagingSettings) for p in page.data)
    assert isinstance(one, PhoneNumberMessagingSettings)
    assert one.phone_number
    assert isinstance(changed, PhoneNumberMessagingSettings)


async def test_mobile_phone_number_messaging(prism: AsyncClient) -> None:
    """The mobile-number messaging settings endpoints are valid and parse."""
    with capture_responses() as seen:
        page = await prism.mobile_phone_numbers.messaging.list(page_size=3, page_number=2)
        one = await prism.mobile_phone_numbers.messaging.retrieve("490335078704971095")
    _accepted_by_spec(seen)
    assert all(isinstance(p, MobilePhoneNumberMessagingSettings) for p in page.data)
    assert isinstance(one, MobilePhoneNumberMessagingSettings)
    assert one.id


async def test_bulk_updates(prism: AsyncClient) -> None:
    """Creating and reading a bulk update order is valid and parses."""
    with capture_responses() as seen:
        order = await prism.messaging_numbers_bulk_updates.create(
            messaging_profile_id="4000eba1-a0c0-4563-9925-b25e842a7cb6",
            numbers=["+13125550002", "+13125550003"],
            assign_only=True,
        )
        again = await prism.messaging_numbers_bulk_updates.retrieve(
            "00000000-0000-0000-0000-000000000000"
        )
    _accepted_by_spec(seen)
    assert isinstance(order, BulkUpdate)
    assert isinstance(again, BulkUpdate)
    assert order.order_id


async def test_prism_rejects_what_the_spec_forbids(prism_url: str) -> None:
    """The contract check can fail: Prism turns a request the spec forbids into a 422."""
    async with AsyncClient(api_key="KEY_contract", base_url=prism_url, max_retries=0) as c:
        with pytest.raises(UnprocessableEntityError) as caught:
            await c._requests.request("POST", "/messages", body={"to": 5})
    assert caught.value.status == 422
