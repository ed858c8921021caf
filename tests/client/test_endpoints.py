"""Every endpoint over real loopback HTTP against FakeTelnyx: what goes on the wire, what comes
back as a model."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from telnyx_messaging import (
    AsyncClient,
    BulkUpdate,
    Message,
    MobilePhoneNumberMessagingSettings,
    OptOut,
    Page,
    PhoneNumberMessagingSettings,
    WhatsAppMessage,
    __version__,
)
from telnyx_messaging.testing import FakeTelnyx, RecordedRequest, Respond

Call = Callable[[AsyncClient], Awaitable[Any]]

SENDER = "+18445550001"
RECIPIENT = "+13125550002"
OTHER_RECIPIENT = "+13125550003"
SHORT_CODE = "12345"
PROFILE = "4000eba1-a0c0-4563-9925-b25e842a7cb6"
OTHER_PROFILE = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
MEDIA = ["https://example.com/a.png", "https://example.com/b.jpg"]
MY_KEY = "order-1234"
# The least a message answer can be: what makes it a message (see _models.Message).
BARE_MESSAGE = {
    "id": "m1",
    "from": {"phone_number": SENDER},
    "to": [{"phone_number": RECIPIENT, "status": "queued"}],
}
# A non-UTC offset, so the test sees the offset kept rather than converted.
LATER = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-5)))
LATER_WIRE = "2030-01-02T03:04:05-05:00"
HOOKS = {
    "use_profile_webhooks": False,
    "webhook_url": "https://example.com/hooks",
    "webhook_failover_url": "https://example.com/failover",
}
# Arguments every SMS/MMS send variant except group MMS takes, with their wire form.
EXTRAS = {"subject": "Hi", "type": "MMS", "encoding": "auto", "auto_detect": True, **HOOKS}


def _is_uuid4(value: str | None) -> bool:
    if value is None:
        return False
    parsed = uuid.UUID(value)
    return parsed.version == 4 and str(parsed) == value


def assert_headers(
    fake: FakeTelnyx,
    request: RecordedRequest,
    *,
    body: bool,
    idempotency_key: str | None = None,
    creates_message: bool = False,
) -> None:
    """The headers every call sends, with the body and idempotency ones only where they belong."""
    headers = request.headers
    assert headers["Authorization"] == f"Bearer {fake.api_key}"
    assert headers["Accept"] == "application/json"
    assert headers["User-Agent"].startswith(f"telnyx-messaging/{__version__} ")
    if body:
        assert headers["Content-Type"] == "application/json"
    else:
        assert "Content-Type" not in headers
        assert request.body == b""
    if idempotency_key is not None:
        assert request.idempotency_key == idempotency_key
    elif creates_message:
        assert _is_uuid4(request.idempotency_key)
    else:
        assert "Idempotency-Key" not in headers


def assert_outbound(fake: FakeTelnyx, msg: Message, recipients: list[str]) -> None:
    """A send's answer parsed into a Message that holds the JSON Telnyx sent."""
    assert isinstance(msg, Message)
    assert msg.raw == fake.messages[msg.id or ""]
    assert msg.record_type == "message"
    assert msg.direction == "outbound"
    assert [a.phone_number for a in msg.to] == recipients
    assert msg.from_ is not None
    assert msg.from_.phone_number == msg.raw["from"]["phone_number"]
    assert msg.received_at is not None
    assert msg.received_at.utcoffset() == timedelta(0)
    assert msg.valid_until is not None
    assert msg.valid_until.tzinfo is not None
    assert msg.cost is not None
    assert msg.cost.amount == Decimal("0.0040")
    assert isinstance(msg.cost.amount, Decimal)
    assert msg.cost.currency == "USD"
    assert msg.cost_breakdown is not None
    assert msg.cost_breakdown.rate is not None
    assert msg.cost_breakdown.rate.amount == Decimal("0.0025")


SEND_CASES = [
    pytest.param(
        "send",
        "/messages",
        {"to": RECIPIENT, "from_": SENDER, "text": "Hello"},
        {"to": RECIPIENT, "from": SENDER, "text": "Hello"},
        [RECIPIENT],
        id="send-minimal",
    ),
    pytest.param(
        "send",
        "/messages",
        {"to": RECIPIENT, "messaging_profile_id": PROFILE, "text": "Hello"},
        {"to": RECIPIENT, "messaging_profile_id": PROFILE, "text": "Hello"},
        [RECIPIENT],
        id="send-from-profile",
    ),
    pytest.param(
        "send",
        "/messages",
        {"to": RECIPIENT, "from_": SENDER, "media_urls": MEDIA},
        {"to": RECIPIENT, "from": SENDER, "media_urls": MEDIA},
        [RECIPIENT],
        id="send-media-only",
    ),
    pytest.param(
        "send",
        "/messages",
        {
            "to": RECIPIENT,
            "from_": SENDER,
            "text": "Hello",
            "media_urls": MEDIA,
            "messaging_profile_id": PROFILE,
            "send_at": LATER,
            **EXTRAS,
            "idempotency_key": MY_KEY,
        },
        {
            "to": RECIPIENT,
            "from": SENDER,
            "text": "Hello",
            "media_urls": MEDIA,
            "messaging_profile_id": PROFILE,
            "send_at": LATER_WIRE,
            **EXTRAS,
        },
        [RECIPIENT],
        id="send-every-argument",
    ),
    pytest.param(
        "send_long_code",
        "/messages/long_code",
        {"from_": SENDER, "to": RECIPIENT, "text": "Hello"},
        {"from": SENDER, "to": RECIPIENT, "text": "Hello"},
        [RECIPIENT],
        id="long_code-minimal",
    ),
    pytest.param(
        "send_long_code",
        "/messages/long_code",
        {
            "from_": SENDER,
            "to": RECIPIENT,
            "text": "Hello",
            "media_urls": MEDIA,
            **EXTRAS,
            "idempotency_key": MY_KEY,
        },
        {"from": SENDER, "to": RECIPIENT, "text": "Hello", "media_urls": MEDIA, **EXTRAS},
        [RECIPIENT],
        id="long_code-every-argument",
    ),
    pytest.param(
        "send_short_code",
        "/messages/short_code",
        {"from_": SHORT_CODE, "to": RECIPIENT, "text": "Hello"},
        {"from": SHORT_CODE, "to": RECIPIENT, "text": "Hello"},
        [RECIPIENT],
        id="short_code-minimal",
    ),
    pytest.param(
        "send_short_code",
        "/messages/short_code",
        {
            "from_": SHORT_CODE,
            "to": RECIPIENT,
            "text": "Hello",
            "media_urls": MEDIA,
            **EXTRAS,
            "idempotency_key": MY_KEY,
        },
        {"from": SHORT_CODE, "to": RECIPIENT, "text": "Hello", "media_urls": MEDIA, **EXTRAS},
        [RECIPIENT],
        id="short_code-every-argument",
    ),
    pytest.param(
        "send_number_pool",
        "/messages/number_pool",
        {"messaging_profile_id": PROFILE, "to": RECIPIENT, "text": "Hello"},
        {"messaging_profile_id": PROFILE, "to": RECIPIENT, "text": "Hello"},
        [RECIPIENT],
        id="number_pool-minimal",
    ),
    pytest.param(
        "send_number_pool",
        "/messages/number_pool",
        {
            "messaging_profile_id": PROFILE,
            "to": RECIPIENT,
            "text": "Hello",
            "media_urls": MEDIA,
            **EXTRAS,
            "idempotency_key": MY_KEY,
        },
        {
            "messaging_profile_id": PROFILE,
            "to": RECIPIENT,
            "text": "Hello",
            "media_urls": MEDIA,
            **EXTRAS,
        },
        [RECIPIENT],
        id="number_pool-every-argument",
    ),
    pytest.param(
        "schedule",
        "/messages/schedule",
        {"to": RECIPIENT, "from_": SENDER, "send_at": LATER, "text": "Hello"},
        {"to": RECIPIENT, "from": SENDER, "send_at": LATER_WIRE, "text": "Hello"},
        [RECIPIENT],
        id="schedule-minimal",
    ),
    pytest.param(
        "schedule",
        "/messages/schedule",
        {
            "to": RECIPIENT,
            "send_at": LATER,
            "from_": SENDER,
            "messaging_profile_id": PROFILE,
            "text": "Hello",
            "media_urls": MEDIA,
            "subject": "Hi",
            "type": "MMS",
            "auto_detect": False,
            **HOOKS,
            "idempotency_key": MY_KEY,
        },
        {
            "to": RECIPIENT,
            "send_at": LATER_WIRE,
            "from": SENDER,
            "messaging_profile_id": PROFILE,
            "text": "Hello",
            "media_urls": MEDIA,
            "subject": "Hi",
            "type": "MMS",
            "auto_detect": False,
            **HOOKS,
        },
        [RECIPIENT],
        id="schedule-every-argument",
    ),
    pytest.param(
        "send_group_mms",
        "/messages/group_mms",
        {"from_": SENDER, "to": [RECIPIENT, OTHER_RECIPIENT], "text": "Hello"},
        {"from": SENDER, "to": [RECIPIENT, OTHER_RECIPIENT], "text": "Hello"},
        [RECIPIENT, OTHER_RECIPIENT],
        id="group_mms-minimal",
    ),
    pytest.param(
        "send_group_mms",
        "/messages/group_mms",
        {
            "from_": SENDER,
            "to": (RECIPIENT, OTHER_RECIPIENT),
            "text": "Hello",
            "media_urls": MEDIA,
            "subject": "Hi",
            **HOOKS,
            "idempotency_key": MY_KEY,
        },
        {
            "from": SENDER,
            "to": [RECIPIENT, OTHER_RECIPIENT],
            "text": "Hello",
            "media_urls": MEDIA,
            "subject": "Hi",
            **HOOKS,
        },
        [RECIPIENT, OTHER_RECIPIENT],
        id="group_mms-every-argument",
    ),
]


@pytest.mark.parametrize(("method", "path", "kwargs", "wire", "recipients"), SEND_CASES)
async def test_send_variants(
    client: AsyncClient,
    fake: FakeTelnyx,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    wire: dict[str, Any],
    recipients: list[str],
) -> None:
    """Each send POSTs exactly the given arguments under their wire names and parses a Message."""
    msg = await getattr(client.messages, method)(**kwargs)

    [request] = fake.requests
    assert request.method == "POST"
    assert request.path == path
    assert request.query == ()
    assert request.json == wire
    assert_headers(
        fake,
        request,
        body=True,
        idempotency_key=kwargs.get("idempotency_key"),
        creates_message=True,
    )
    assert_outbound(fake, msg, recipients)
    if "send_at" in kwargs:
        assert msg.send_at == LATER
        assert {a.status for a in msg.to} == {"scheduled"}
    if "media_urls" in kwargs:
        assert [m.url for m in msg.media] == MEDIA


async def test_every_send_gets_its_own_idempotency_key(
    client: AsyncClient, fake: FakeTelnyx
) -> None:
    """Two sends without idempotency_key carry two different fresh UUID4 keys."""
    await client.messages.send(to=RECIPIENT, from_=SENDER, text="one")
    await client.messages.send(to=RECIPIENT, from_=SENDER, text="two")

    keys = [r.idempotency_key for r in fake.requests]
    assert all(_is_uuid4(k) for k in keys)
    assert keys[0] != keys[1]
    assert len(fake.messages) == 2


async def test_send_with_profile_lets_telnyx_pick_the_sender(
    client: AsyncClient, fake: FakeTelnyx
) -> None:
    """A send naming only the profile sends no "from" and reports the number Telnyx picked."""
    msg = await client.messages.send(to=RECIPIENT, messaging_profile_id=PROFILE, text="Hi")

    assert "from" not in fake.requests[-1].json
    assert msg.from_ is not None
    assert msg.from_.phone_number == SENDER
    assert msg.messaging_profile_id == PROFILE


@pytest.mark.parametrize(
    ("kwargs", "wire"),
    [
        pytest.param(
            {"from_": SENDER, "to": RECIPIENT, "whatsapp_message": {"type": "text"}},
            {"from": SENDER, "to": RECIPIENT, "whatsapp_message": {"type": "text"}},
            id="minimal",
        ),
        pytest.param(
            {
                "from_": SENDER,
                "to": RECIPIENT,
                "whatsapp_message": {"type": "text", "text": {"body": "Hi"}},
                "type": "WHATSAPP",
                "messaging_profile_id": OTHER_PROFILE,
                "webhook_url": "https://example.com/hooks",
                "idempotency_key": MY_KEY,
            },
            {
                "from": SENDER,
                "to": RECIPIENT,
                "whatsapp_message": {"type": "text", "text": {"body": "Hi"}},
                "type": "WHATSAPP",
                "messaging_profile_id": OTHER_PROFILE,
                "webhook_url": "https://example.com/hooks",
            },
            id="every-argument",
        ),
    ],
)
async def test_send_whatsapp(
    client: AsyncClient, fake: FakeTelnyx, kwargs: dict[str, Any], wire: dict[str, Any]
) -> None:
    """send_whatsapp POSTs /messages/whatsapp with the given fields and parses a WhatsAppMessage."""
    msg = await client.messages.send_whatsapp(**kwargs)

    [request] = fake.requests
    assert (request.method, request.path, request.query) == ("POST", "/messages/whatsapp", ())
    assert request.json == wire
    assert_headers(
        fake,
        request,
        body=True,
        idempotency_key=kwargs.get("idempotency_key"),
        creates_message=True,
    )
    assert isinstance(msg, WhatsAppMessage)
    assert msg.raw == fake.messages[msg.id or ""]
    assert msg.type == "WHATSAPP"
    assert msg.body == wire["whatsapp_message"]
    assert msg.from_ is not None
    assert msg.from_.phone_number == SENDER
    assert [a.phone_number for a in msg.to] == [RECIPIENT]
    assert msg.messaging_profile_id == kwargs.get("messaging_profile_id", PROFILE)
    assert msg.received_at is not None
    assert msg.received_at.tzinfo is not None


async def test_retrieve(client: AsyncClient, fake: FakeTelnyx) -> None:
    """retrieve GETs /messages/{id} with no body and gives back the message that was sent."""
    sent = await client.messages.send(to=RECIPIENT, from_=SENDER, text="Hello")
    assert sent.id is not None

    got = await client.messages.retrieve(sent.id)

    request = fake.requests[-1]
    assert (request.method, request.path, request.query) == ("GET", f"/messages/{sent.id}", ())
    assert_headers(fake, request, body=False)
    assert got == sent
    assert got.raw == fake.messages[sent.id]
    assert got.text == "Hello"


async def test_cancel_scheduled(client: AsyncClient, fake: FakeTelnyx) -> None:
    """cancel_scheduled DELETEs /messages/{id} and parses the answer that has no data envelope."""
    scheduled = await client.messages.schedule(
        to=RECIPIENT, from_=SENDER, send_at=LATER, text="Later"
    )
    assert scheduled.id is not None

    cancelled = await client.messages.cancel_scheduled(scheduled.id)

    request = fake.requests[-1]
    assert (request.method, request.path) == ("DELETE", f"/messages/{scheduled.id}")
    assert request.query == ()
    assert_headers(fake, request, body=False)
    assert isinstance(cancelled, Message)
    assert cancelled.id == scheduled.id
    assert [a.status for a in cancelled.to] == ["cancelled"]
    assert "data" not in cancelled.raw
    assert cancelled.raw["id"] == scheduled.id


ODD_IDS = [
    pytest.param("a/b?c#d", "a%2Fb%3Fc%23d", id="slash-query-fragment"),
    pytest.param("+13125551000", "%2B13125551000", id="e164-plus"),
    pytest.param("é 50%", "%C3%A9%2050%25", id="unicode-space-percent"),
]

ID_CALLS = [
    pytest.param(
        lambda c, i: c.messages.retrieve(i), "/messages/{}", {"data": BARE_MESSAGE}, id="retrieve"
    ),
    pytest.param(
        lambda c, i: c.messages.cancel_scheduled(i),
        "/messages/{}",
        BARE_MESSAGE,
        id="cancel_scheduled",
    ),
    pytest.param(
        lambda c, i: c.phone_numbers.messaging.retrieve(i),
        "/phone_numbers/{}/messaging",
        {"data": {}},
        id="phone_numbers.retrieve",
    ),
    pytest.param(
        lambda c, i: c.phone_numbers.messaging.update(i, tags=["x"]),
        "/phone_numbers/{}/messaging",
        {"data": {}},
        id="phone_numbers.update",
    ),
    pytest.param(
        lambda c, i: c.mobile_phone_numbers.messaging.retrieve(i),
        "/mobile_phone_numbers/{}/messaging",
        {"data": {}},
        id="mobile_phone_numbers.retrieve",
    ),
    pytest.param(
        lambda c, i: c.messaging_numbers_bulk_updates.retrieve(i),
        "/messaging_numbers_bulk_updates/{}",
        {"data": {}},
        id="bulk_updates.retrieve",
    ),
]


@pytest.mark.parametrize(("ident", "escaped"), ODD_IDS)
@pytest.mark.parametrize(("call", "template", "answer"), ID_CALLS)
async def test_path_ids_are_escaped(
    client: AsyncClient,
    fake: FakeTelnyx,
    call: Callable[[AsyncClient, str], Awaitable[Any]],
    template: str,
    answer: dict[str, Any],
    ident: str,
    escaped: str,
) -> None:
    """An id is percent-escaped into one path segment: "/", "?" and "#" cannot break out."""
    fake.fail_next(Respond(200, json=answer))

    await call(client, ident)

    [request] = fake.requests
    assert request.path == template.format(escaped)
    assert request.query == ()


async def test_escaped_id_round_trips(client: AsyncClient, fake: FakeTelnyx) -> None:
    """The server decodes an escaped id back to exactly the id the caller gave."""
    sent = await client.messages.send(to=RECIPIENT, from_=SENDER, text="Hello")
    odd = "a/b?c#d"
    fake.messages[odd] = {**fake.messages[sent.id or ""], "id": odd}

    got = await client.messages.retrieve(odd)

    assert got.id == odd


async def test_optouts_list_minimal(client: AsyncClient, fake: FakeTelnyx) -> None:
    """messaging_optouts.list() GETs /messaging_optouts asking for page 1 only."""
    page = await client.messaging_optouts.list()

    [request] = fake.requests
    assert (request.method, request.path) == ("GET", "/messaging_optouts")
    assert request.query == (("page[number]", "1"),)
    assert_headers(fake, request, body=False)
    assert isinstance(page, Page)
    first = page.data[0]
    assert isinstance(first, OptOut)
    assert first.raw == fake.optout_items[0]
    assert (first.from_, first.to, first.keyword) == ("+13125551000", "+17735553000", "STOP")
    assert first.messaging_profile_id == PROFILE
    assert first.created_at == datetime(2026, 1, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize(("redact", "wire"), [(True, "true"), (False, "false")])
async def test_optouts_list_every_filter(
    client: AsyncClient, fake: FakeTelnyx, redact: bool, wire: str
) -> None:
    """Every opt-out filter goes on the query under Telnyx's bracketed name, in ISO 8601 / JSON."""
    east = timezone(timedelta(hours=2))
    page = await client.messaging_optouts.list(
        filter_messaging_profile_id=PROFILE,
        filter_from="+13125551000",
        created_at_gte=datetime(2025, 12, 25, 2, 0, tzinfo=east),
        created_at_lte=datetime(2026, 1, 1, 2, 0, tzinfo=east),
        redaction_enabled=redact,
        page_size=5,
        page_number=1,
    )

    [request] = fake.requests
    assert sorted(request.query) == sorted(
        [
            ("filter[messaging_profile_id]", PROFILE),
            ("filter[from]", "+13125551000"),
            ("created_at[gte]", "2025-12-25T02:00:00+02:00"),
            ("created_at[lte]", "2026-01-01T02:00:00+02:00"),
            ("redaction_enabled", wire),
            ("page[size]", "5"),
            ("page[number]", "1"),
        ]
    )
    assert page.data
    for optout in page.data:
        assert optout.from_ == "+13125551000"
        assert optout.messaging_profile_id == PROFILE
        assert optout.created_at is not None
        assert optout.created_at >= datetime(2025, 12, 25, tzinfo=timezone.utc)
        assert optout.to is not None
        assert optout.to.endswith("****") is redact


async def test_optouts_created_at_offset_is_honoured(client: AsyncClient, fake: FakeTelnyx) -> None:
    """created_at[gte] carries its UTC offset, so the server filters at the intended instant."""
    # 02:00 at +02:00 is midnight UTC, 24 h before the seed epoch: opt-outs are 7 h apart.
    since = datetime(2025, 12, 31, 2, 0, tzinfo=timezone(timedelta(hours=2)))

    page = await client.messaging_optouts.list(created_at_gte=since)

    assert fake.requests[-1].query_dict["created_at[gte]"] == "2025-12-31T02:00:00+02:00"
    assert len(page.data) == 4


async def test_phone_numbers_retrieve(client: AsyncClient, fake: FakeTelnyx) -> None:
    """phone_numbers.messaging.retrieve GETs /phone_numbers/{id}/messaging and parses it all."""
    seeded = fake.phone_number_settings[0]

    settings = await client.phone_numbers.messaging.retrieve(seeded["id"])

    [request] = fake.requests
    assert request.method == "GET"
    assert request.path == f"/phone_numbers/{seeded['id']}/messaging"
    assert request.query == ()
    assert_headers(fake, request, body=False)
    assert isinstance(settings, PhoneNumberMessagingSettings)
    assert settings.raw == seeded
    assert settings.id == seeded["id"]
    assert settings.phone_number == "+13125551000"
    assert settings.messaging_profile_id == PROFILE
    assert settings.eligible_messaging_products == ("P2P", "A2P")
    assert settings.features is not None
    assert settings.features.sms is not None
    assert settings.features.sms.domestic_two_way is True
    assert settings.health is not None
    assert settings.health.message_count == 100
    assert settings.created_at == datetime(2025, 12, 2, tzinfo=timezone.utc)
    assert settings.updated_at is not None
    assert settings.updated_at.tzinfo is not None


async def test_phone_numbers_retrieve_by_e164(client: AsyncClient, fake: FakeTelnyx) -> None:
    """A number in E.164 works as the id; its "+" is escaped on the wire."""
    settings = await client.phone_numbers.messaging.retrieve("+13125551001")

    assert fake.requests[-1].path == "/phone_numbers/%2B13125551001/messaging"
    assert settings.id == fake.phone_number_settings[1]["id"]


@pytest.mark.parametrize(
    ("kwargs", "wire"),
    [
        pytest.param(
            {"messaging_product": "A2P", "messaging_profile_id": OTHER_PROFILE, "tags": ["vip"]},
            {"messaging_product": "A2P", "messaging_profile_id": OTHER_PROFILE, "tags": ["vip"]},
            id="every-argument",
        ),
        pytest.param(
            {"messaging_profile_id": ""}, {"messaging_profile_id": ""}, id="unassign-profile"
        ),
        pytest.param({"tags": []}, {"tags": []}, id="clear-tags"),
        pytest.param({"tags": ("a", "b")}, {"tags": ["a", "b"]}, id="tags-tuple"),
    ],
)
async def test_phone_numbers_update(
    client: AsyncClient, fake: FakeTelnyx, kwargs: dict[str, Any], wire: dict[str, Any]
) -> None:
    """update PATCHes only the given settings and parses the number as it now is."""
    ident = fake.phone_number_settings[0]["id"]

    settings = await client.phone_numbers.messaging.update(ident, **kwargs)

    [request] = fake.requests
    assert (request.method, request.path) == ("PATCH", f"/phone_numbers/{ident}/messaging")
    assert request.query == ()
    assert request.json == wire
    assert_headers(fake, request, body=True)
    assert isinstance(settings, PhoneNumberMessagingSettings)
    assert settings.raw == fake.phone_number_settings[0]
    for name, value in wire.items():
        got = getattr(settings, name)
        # An empty profile id unassigns: the number comes back with no profile.
        expected = None if (name, value) == ("messaging_profile_id", "") else value
        assert (list(got) if isinstance(got, tuple) else got) == expected


async def test_phone_numbers_list(client: AsyncClient, fake: FakeTelnyx) -> None:
    """phone_numbers.messaging.list sends every filter and sort under its bracketed name."""
    page = await client.phone_numbers.messaging.list(
        filter_messaging_profile_id=PROFILE,
        filter_phone_number="+13125551000,+13125551006",
        filter_phone_number_contains="555",
        filter_type="longcode",
        sort_phone_number="desc",
        page_size=2,
        page_number=1,
    )

    [request] = fake.requests
    assert (request.method, request.path) == ("GET", "/phone_numbers/messaging")
    assert sorted(request.query) == sorted(
        [
            ("filter[messaging_profile_id]", PROFILE),
            ("filter[phone_number]", "+13125551000,+13125551006"),
            ("filter[phone_number][contains]", "555"),
            ("filter[type]", "longcode"),
            ("sort[phone_number]", "desc"),
            ("page[size]", "2"),
            ("page[number]", "1"),
        ]
    )
    assert_headers(fake, request, body=False)
    assert all(isinstance(s, PhoneNumberMessagingSettings) for s in page.data)
    assert [s.phone_number for s in page.data] == ["+13125551006", "+13125551000"]


async def test_phone_numbers_list_minimal(client: AsyncClient, fake: FakeTelnyx) -> None:
    """Without arguments the list asks for page 1 and nothing else."""
    page = await client.phone_numbers.messaging.list()

    assert fake.requests[-1].query == (("page[number]", "1"),)
    assert [s.raw for s in page.data] == fake.phone_number_settings[:20]


async def test_mobile_phone_numbers_retrieve(client: AsyncClient, fake: FakeTelnyx) -> None:
    """mobile_phone_numbers.messaging.retrieve GETs .../{id}/messaging and parses the settings."""
    seeded = fake.mobile_phone_number_settings[3]

    settings = await client.mobile_phone_numbers.messaging.retrieve(seeded["id"])

    [request] = fake.requests
    assert request.method == "GET"
    assert request.path == f"/mobile_phone_numbers/{seeded['id']}/messaging"
    assert_headers(fake, request, body=False)
    assert isinstance(settings, MobilePhoneNumberMessagingSettings)
    assert settings.raw == seeded
    assert settings.phone_number == "+17735552003"
    assert settings.messaging_profile_id == OTHER_PROFILE
    assert settings.features is not None
    assert settings.features.mms is None
    assert settings.created_at is not None
    assert settings.created_at.tzinfo is not None


async def test_mobile_phone_numbers_list(client: AsyncClient, fake: FakeTelnyx) -> None:
    """mobile_phone_numbers.messaging.list GETs the list with only paging on the query."""
    page = await client.mobile_phone_numbers.messaging.list(page_size=5, page_number=2)

    [request] = fake.requests
    assert (request.method, request.path) == ("GET", "/mobile_phone_numbers/messaging")
    assert sorted(request.query) == [("page[number]", "2"), ("page[size]", "5")]
    assert_headers(fake, request, body=False)
    assert all(isinstance(s, MobilePhoneNumberMessagingSettings) for s in page.data)
    assert [s.raw for s in page.data] == fake.mobile_phone_number_settings[5:10]


@pytest.mark.parametrize("extra", [{}, {"assign_only": True}, {"assign_only": False}])
async def test_bulk_update_create(
    client: AsyncClient, fake: FakeTelnyx, extra: dict[str, Any]
) -> None:
    """create POSTs the profile and numbers (assign_only when given), with no Idempotency-Key."""
    known = fake.phone_number_settings[0]["phone_number"]
    unknown = "+19995550000"

    order = await client.messaging_numbers_bulk_updates.create(
        messaging_profile_id=OTHER_PROFILE, numbers=[known, unknown], **extra
    )

    [request] = fake.requests
    assert (request.method, request.path) == ("POST", "/messaging_numbers_bulk_updates")
    assert request.json == {
        "messaging_profile_id": OTHER_PROFILE,
        "numbers": [known, unknown],
        **extra,
    }
    assert_headers(fake, request, body=True)
    assert isinstance(order, BulkUpdate)
    assert order.raw == fake.bulk_updates[order.order_id or ""]
    assert order.record_type == "messaging_numbers_bulk_update"
    assert (order.success, order.pending, order.failed) == ((known,), (), (unknown,))


async def test_bulk_update_retrieve(client: AsyncClient, fake: FakeTelnyx) -> None:
    """retrieve GETs the order by id and gives back what create reported."""
    created = await client.messaging_numbers_bulk_updates.create(
        messaging_profile_id=PROFILE, numbers=["+13125551002"]
    )
    assert created.order_id is not None

    got = await client.messaging_numbers_bulk_updates.retrieve(created.order_id)

    request = fake.requests[-1]
    assert request.method == "GET"
    assert request.path == f"/messaging_numbers_bulk_updates/{created.order_id}"
    assert_headers(fake, request, body=False)
    assert got == created


async def test_unknown_fields_stay_reachable_through_raw(
    client: AsyncClient, fake: FakeTelnyx
) -> None:
    """Fields the SDK does not know are kept in .raw, at every level of the model."""
    fake.fail_next(
        Respond(
            200,
            json={
                "data": {
                    **BARE_MESSAGE,
                    "brand_new_field": {"nested": [1, 2]},
                    "to": [{"phone_number": RECIPIENT, "status": "queued", "rcs_capable": True}],
                    "cost": {"amount": "0.01", "currency": "USD", "tax": "0.002"},
                }
            },
        )
    )

    msg = await client.messages.retrieve("m1")

    assert msg.id == "m1"
    assert msg.raw["brand_new_field"] == {"nested": [1, 2]}
    assert msg.to[0].raw["rcs_capable"] is True
    assert msg.cost is not None
    assert msg.cost.raw["tax"] == "0.002"


async def test_unknown_enum_values_parse(client: AsyncClient, fake: FakeTelnyx) -> None:
    """Status, type and direction values Telnyx adds later parse as plain strings."""
    fake.fail_next(
        Respond(
            200,
            json={
                "data": {
                    **BARE_MESSAGE,
                    "type": "RCS",
                    "direction": "sideways",
                    "encoding": "UTF-42",
                    "to": [{"phone_number": RECIPIENT, "status": "teleported", "line_type": "6G"}],
                }
            },
        )
    )

    msg = await client.messages.retrieve("m1")

    assert (msg.type, msg.direction, msg.encoding) == ("RCS", "sideways", "UTF-42")
    assert (msg.to[0].status, msg.to[0].line_type) == ("teleported", "6G")


async def test_unknown_values_in_list_items(client: AsyncClient, fake: FakeTelnyx) -> None:
    """List items keep unknown fields in .raw and accept new product and type values."""
    item = {
        **fake.phone_number_settings[0],
        "messaging_product": "X2Y",
        "type": "satellite",
        "features": {"sms": None, "rcs": {"domestic_two_way": True}},
        "quantum": True,
    }
    fake.fail_next(Respond(200, json={"data": [item], "meta": {"page_number": 1}}))

    page = await client.phone_numbers.messaging.list()

    [settings] = page.data
    assert (settings.messaging_product, settings.type) == ("X2Y", "satellite")
    assert settings.raw["quantum"] is True
    assert settings.features is not None
    assert settings.features.sms is None
    assert settings.features.raw["rcs"] == {"domestic_two_way": True}


@pytest.mark.parametrize(
    "stamp",
    [
        "2026-01-01T00:00:00Z",
        "2026-01-01T00:00:00.000+00:00",
        "2026-01-01T02:00:00+02:00",
        "2025-12-31T19:00:00-05:00",
        "2026-01-01T00:00:00",
    ],
)
async def test_timestamps_parse_aware(client: AsyncClient, fake: FakeTelnyx, stamp: str) -> None:
    """Every timestamp form Telnyx sends parses to an aware datetime (no offset means UTC)."""
    fake.fail_next(Respond(200, json={"data": {**BARE_MESSAGE, "received_at": stamp}}))

    msg = await client.messages.retrieve("m1")

    assert msg.received_at == datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert msg.received_at is not None
    assert msg.received_at.tzinfo is not None


@pytest.mark.parametrize(
    ("amount", "expected"),
    [("0.0040", Decimal("0.0040")), (0.1, Decimal("0.1")), (3, Decimal("3"))],
)
async def test_cost_is_an_exact_decimal(
    client: AsyncClient, fake: FakeTelnyx, amount: object, expected: Decimal
) -> None:
    """A cost amount, sent as a string or a JSON number, is a Decimal without float error."""
    cost = {"amount": amount, "currency": "EUR"}
    fake.fail_next(Respond(200, json={"data": {**BARE_MESSAGE, "cost": cost}}))

    msg = await client.messages.retrieve("m1")

    assert msg.cost is not None
    assert isinstance(msg.cost.amount, Decimal)
    assert str(msg.cost.amount) == str(expected)


async def test_null_lists_parse_as_empty(client: AsyncClient, fake: FakeTelnyx) -> None:
    """An optional list Telnyx sends as null is an empty tuple, not an error."""
    nulls = {"cc": None, "media": None, "tags": None, "errors": None}
    fake.fail_next(Respond(200, json={"data": {**BARE_MESSAGE, **nulls}}))

    msg = await client.messages.retrieve("m1")

    assert (msg.cc, msg.media, msg.tags, msg.errors) == ((), (), (), ())


async def test_message_errors_parse(client: AsyncClient, fake: FakeTelnyx) -> None:
    """The errors of a failed message parse into ErrorDetail entries."""
    failure = {"code": "40008", "title": "Undeliverable", "detail": "Carrier rejected it."}
    fake.fail_next(Respond(200, json={"data": {**BARE_MESSAGE, "errors": [failure]}}))

    msg = await client.messages.retrieve("m1")

    [error] = msg.errors
    assert (error.code, error.title, error.detail) == ("40008", "Undeliverable", failure["detail"])
    assert error.raw == failure
