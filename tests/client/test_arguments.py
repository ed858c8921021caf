"""Bad arguments raise InvalidArgumentError saying what to fix, and nothing reaches Telnyx."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import pytest

from telnyx_messaging import AsyncClient, InvalidArgumentError, TelnyxError
from telnyx_messaging.testing import FakeTelnyx

Call = Callable[[AsyncClient], Any]

TO = "+13125550002"
FROM = "+18445550001"
PROFILE = "4000eba1-a0c0-4563-9925-b25e842a7cb6"
URL = "https://example.com/a.png"
NAIVE = datetime(2030, 1, 1, 12, 0)  # naive on purpose
AWARE = datetime(2030, 1, 1, 12, 0, tzinfo=timezone.utc)
SMS: dict[str, Any] = {"to": TO, "from_": FROM, "text": "Hi"}


async def _invoke(client: AsyncClient, call: Call) -> None:
    # list() raises as it is called; the other methods when awaited.
    result = call(client)
    if inspect.isawaitable(result):
        await result


CASES = [
    # messages.send
    pytest.param(
        lambda c: c.messages.send(to=TO, text="Hi"),
        "pass from_=<one of your numbers> or messaging_profile_id=",
        id="send-no-sender",
    ),
    pytest.param(
        lambda c: c.messages.send(to=TO, from_=FROM),
        r"needs content: pass text=\.\.\. \(SMS\) and/or media_urls=\[\.\.\.\] \(MMS\)",
        id="send-no-content",
    ),
    pytest.param(
        lambda c: c.messages.send(to=TO, from_=FROM, text=""),
        "needs content",
        id="send-empty-text",
    ),
    pytest.param(
        lambda c: c.messages.send(to=TO, from_=FROM, media_urls=URL),
        r"media_urls must be a list of strings, got str: wrap a single value in a list, "
        r"e\.g\. media_urls=\['https://example\.com/a\.png'\]",
        id="send-lone-media-url",
    ),
    pytest.param(
        lambda c: c.messages.send(to=TO, from_=FROM, media_urls=[URL, 42]),
        "every item of media_urls must be a string, got int: 42",
        id="send-media-url-not-str",
    ),
    pytest.param(
        lambda c: c.messages.send(to=TO, from_=FROM, media_urls=[]),
        "media_urls must not be empty",
        id="send-empty-media-list",
    ),
    pytest.param(
        lambda c: c.messages.send(to=123, from_=FROM, text="Hi"),
        "to must be a string, got int: 123",
        id="send-to-int",
    ),
    pytest.param(
        lambda c: c.messages.send(to=[TO], from_=FROM, text="Hi"),
        "to must be a string, got list",
        id="send-to-list",
    ),
    pytest.param(
        lambda c: c.messages.send(to="", from_=FROM, text="Hi"),
        "to must not be empty",
        id="send-to-empty",
    ),
    pytest.param(
        lambda c: c.messages.send(to=TO, from_="", text="Hi"),
        "from_ must not be empty",
        id="send-from-empty",
    ),
    pytest.param(
        lambda c: c.messages.send(to=TO, messaging_profile_id="", text="Hi"),
        "messaging_profile_id must not be empty",
        id="send-profile-empty",
    ),
    pytest.param(
        lambda c: c.messages.send(to=TO, from_=FROM, text=5),
        "text must be a string, got int",
        id="send-text-int",
    ),
    pytest.param(
        lambda c: c.messages.send(**SMS, send_at=NAIVE),
        r"send_at must be timezone-aware .* datetime\.now\(timezone\.utc\)",
        id="send-naive-send_at",
    ),
    pytest.param(
        lambda c: c.messages.send(**SMS, send_at="2030-01-01"),
        "send_at must be a datetime, got str: '2030-01-01'",
        id="send-send_at-str",
    ),
    pytest.param(
        lambda c: c.messages.send(**SMS, auto_detect="yes"),
        "auto_detect must be True or False, got 'yes'",
        id="send-auto_detect-str",
    ),
    pytest.param(
        lambda c: c.messages.send(**SMS, use_profile_webhooks=1),
        "use_profile_webhooks must be True or False, got 1",
        id="send-use_profile_webhooks-int",
    ),
    pytest.param(
        lambda c: c.messages.send(**SMS, subject=7),
        "subject must be a string",
        id="send-subject-int",
    ),
    pytest.param(
        lambda c: c.messages.send(**SMS, type=""),
        "type must not be empty",
        id="send-type-empty",
    ),
    pytest.param(
        lambda c: c.messages.send(**SMS, encoding=b"ucs2"),
        "encoding must be a string, got bytes",
        id="send-encoding-bytes",
    ),
    pytest.param(
        lambda c: c.messages.send(**SMS, webhook_url=""),
        "webhook_url must not be empty",
        id="send-webhook_url-empty",
    ),
    pytest.param(
        lambda c: c.messages.send(**SMS, webhook_failover_url=["https://x"]),
        "webhook_failover_url must be a string",
        id="send-webhook_failover_url-list",
    ),
    pytest.param(
        lambda c: c.messages.send(**SMS, idempotency_key=""),
        "idempotency_key must not be empty",
        id="send-idempotency_key-empty",
    ),
    pytest.param(
        lambda c: c.messages.send(**SMS, idempotency_key=1234),
        "idempotency_key must be a string, got int",
        id="send-idempotency_key-int",
    ),
    # the other sends
    pytest.param(
        lambda c: c.messages.send_whatsapp(from_=FROM, to=TO, whatsapp_message="hi"),
        r"whatsapp_message must be a mapping \(a JSON object\), got str",
        id="whatsapp-message-str",
    ),
    pytest.param(
        lambda c: c.messages.send_whatsapp(from_="", to=TO, whatsapp_message={}),
        "from_ must not be empty",
        id="whatsapp-from-empty",
    ),
    pytest.param(
        lambda c: c.messages.send_whatsapp(from_=FROM, to=None, whatsapp_message={}),
        "to must be a string, got NoneType",
        id="whatsapp-to-none",
    ),
    pytest.param(
        lambda c: c.messages.send_group_mms(from_=FROM, to=TO, text="Hi"),
        r"to must be a list of strings, got str: wrap a single value in a list",
        id="group_mms-lone-recipient",
    ),
    pytest.param(
        lambda c: c.messages.send_group_mms(from_=FROM, to=[], text="Hi"),
        "to must not be empty",
        id="group_mms-no-recipients",
    ),
    pytest.param(
        lambda c: c.messages.send_group_mms(from_=FROM, to=[TO, 3125550003], text="Hi"),
        "every item of to must be a string, got int",
        id="group_mms-recipient-int",
    ),
    pytest.param(
        lambda c: c.messages.send_group_mms(from_=FROM, to=[TO]),
        "needs content",
        id="group_mms-no-content",
    ),
    pytest.param(
        lambda c: c.messages.send_long_code(from_="", to=TO, text="Hi"),
        "from_ must not be empty",
        id="long_code-from-empty",
    ),
    pytest.param(
        lambda c: c.messages.send_long_code(from_=FROM, to=TO, media_urls=URL),
        "wrap a single value in a list",
        id="long_code-lone-media-url",
    ),
    pytest.param(
        lambda c: c.messages.send_short_code(from_=FROM, to=TO),
        "needs content",
        id="short_code-no-content",
    ),
    pytest.param(
        lambda c: c.messages.send_short_code(from_=FROM, to=TO, text="Hi", auto_detect="true"),
        "auto_detect must be True or False",
        id="short_code-auto_detect-str",
    ),
    pytest.param(
        lambda c: c.messages.send_number_pool(messaging_profile_id="", to=TO, text="Hi"),
        "messaging_profile_id must not be empty",
        id="number_pool-profile-empty",
    ),
    pytest.param(
        lambda c: c.messages.send_number_pool(messaging_profile_id=PROFILE, to=1, text="Hi"),
        "to must be a string",
        id="number_pool-to-int",
    ),
    pytest.param(
        lambda c: c.messages.schedule(to=TO, send_at=AWARE, text="Hi"),
        "pass from_=<one of your numbers> or messaging_profile_id=",
        id="schedule-no-sender",
    ),
    pytest.param(
        lambda c: c.messages.schedule(to=TO, from_=FROM, send_at=NAIVE, text="Hi"),
        "send_at must be timezone-aware",
        id="schedule-naive-send_at",
    ),
    pytest.param(
        lambda c: c.messages.schedule(to=TO, from_=FROM, send_at="2030-01-01", text="Hi"),
        "send_at must be a datetime, got str",
        id="schedule-send_at-str",
    ),
    pytest.param(
        lambda c: c.messages.schedule(to=TO, from_=FROM, send_at=AWARE),
        "needs content",
        id="schedule-no-content",
    ),
    pytest.param(
        lambda c: c.messages.schedule(to=None, from_=FROM, send_at=AWARE, text="Hi"),
        "to must be a string, got NoneType",
        id="schedule-to-none",
    ),
    # ids in paths
    pytest.param(lambda c: c.messages.retrieve(""), "id must not be empty", id="retrieve-empty"),
    pytest.param(
        lambda c: c.messages.retrieve(None), "id must be a string, got NoneType", id="retrieve-none"
    ),
    pytest.param(
        lambda c: c.messages.retrieve(42), "id must be a string, got int: 42", id="retrieve-int"
    ),
    pytest.param(
        lambda c: c.messages.cancel_scheduled(""), "id must not be empty", id="cancel-empty"
    ),
    pytest.param(
        lambda c: c.phone_numbers.messaging.retrieve(""),
        "id must not be empty",
        id="phone_number-retrieve-empty",
    ),
    pytest.param(
        lambda c: c.phone_numbers.messaging.update("", tags=[]),
        "id must not be empty",
        id="phone_number-update-empty",
    ),
    pytest.param(
        lambda c: c.mobile_phone_numbers.messaging.retrieve(""),
        "id must not be empty",
        id="mobile_number-retrieve-empty",
    ),
    pytest.param(
        lambda c: c.messaging_numbers_bulk_updates.retrieve(""),
        "order_id must not be empty",
        id="bulk-retrieve-empty",
    ),
    # phone number settings
    pytest.param(
        lambda c: c.phone_numbers.messaging.update("1", tags="vip"),
        r"tags must be a list of strings, got str: wrap a single value in a list, "
        r"e\.g\. tags=\['vip'\]",
        id="update-tags-str",
    ),
    pytest.param(
        lambda c: c.phone_numbers.messaging.update("1", tags=["vip", 1]),
        "every item of tags must be a string, got int",
        id="update-tags-item-int",
    ),
    pytest.param(
        lambda c: c.phone_numbers.messaging.update("1", tags={"vip": True}),
        "tags must be a list of strings, got dict",
        id="update-tags-dict",
    ),
    pytest.param(
        lambda c: c.phone_numbers.messaging.update("1", messaging_profile_id=5),
        "messaging_profile_id must be a string, got int",
        id="update-profile-int",
    ),
    pytest.param(
        lambda c: c.phone_numbers.messaging.update("1", messaging_product=""),
        "messaging_product must not be empty",
        id="update-product-empty",
    ),
    # bulk updates
    pytest.param(
        lambda c: c.messaging_numbers_bulk_updates.create(
            messaging_profile_id=PROFILE, numbers="+13125551000"
        ),
        r"numbers must be a list of strings, got str: wrap a single value in a list, "
        r"e\.g\. numbers=\['\+13125551000'\]",
        id="bulk-numbers-str",
    ),
    pytest.param(
        lambda c: c.messaging_numbers_bulk_updates.create(messaging_profile_id=PROFILE, numbers=[]),
        "numbers must not be empty",
        id="bulk-numbers-empty",
    ),
    pytest.param(
        lambda c: c.messaging_numbers_bulk_updates.create(
            messaging_profile_id=None, numbers=["+13125551000"]
        ),
        "messaging_profile_id must be a string, got NoneType",
        id="bulk-profile-none",
    ),
    pytest.param(
        lambda c: c.messaging_numbers_bulk_updates.create(
            messaging_profile_id=PROFILE, numbers=["+13125551000"], assign_only="true"
        ),
        "assign_only must be True or False, got 'true'",
        id="bulk-assign_only-str",
    ),
    # list filters (checked as list() is called)
    pytest.param(
        lambda c: c.messaging_optouts.list(filter_from=13125551000),
        "filter_from must be a string, got int",
        id="optouts-filter_from-int",
    ),
    pytest.param(
        lambda c: c.messaging_optouts.list(filter_messaging_profile_id=""),
        "filter_messaging_profile_id must not be empty",
        id="optouts-profile-empty",
    ),
    pytest.param(
        lambda c: c.messaging_optouts.list(created_at_gte=NAIVE),
        "created_at_gte must be timezone-aware",
        id="optouts-naive-gte",
    ),
    pytest.param(
        lambda c: c.messaging_optouts.list(created_at_lte="2026-01-01"),
        "created_at_lte must be a datetime, got str",
        id="optouts-lte-str",
    ),
    pytest.param(
        lambda c: c.messaging_optouts.list(redaction_enabled="true"),
        "redaction_enabled must be True or False",
        id="optouts-redaction-str",
    ),
    pytest.param(
        lambda c: c.phone_numbers.messaging.list(filter_type=""),
        "filter_type must not be empty",
        id="phone_numbers-filter_type-empty",
    ),
    pytest.param(
        lambda c: c.phone_numbers.messaging.list(filter_phone_number=["+13125551000"]),
        "filter_phone_number must be a string, got list",
        id="phone_numbers-filter_phone_number-list",
    ),
    pytest.param(
        lambda c: c.phone_numbers.messaging.list(sort_phone_number=True),
        "sort_phone_number must be a string, got bool",
        id="phone_numbers-sort-bool",
    ),
]


@pytest.mark.parametrize(("call", "message"), CASES)
async def test_bad_argument_is_refused_before_sending(
    client: AsyncClient, fake: FakeTelnyx, call: Call, message: str
) -> None:
    """A bad argument raises InvalidArgumentError naming what to fix; no request is made."""
    with pytest.raises(InvalidArgumentError, match=message) as caught:
        await _invoke(client, call)

    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, TypeError)
    assert isinstance(caught.value, TelnyxError)
    assert fake.requests == []


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda c: c.messages.send(from_=FROM, text="Hi"), id="send-without-to"),
        pytest.param(lambda c: c.messages.send(TO, from_=FROM, text="Hi"), id="send-positional"),
        pytest.param(lambda c: c.messages.send_whatsapp(from_=FROM, to=TO), id="whatsapp-no-body"),
        pytest.param(
            lambda c: c.messages.send_number_pool(to=TO, text="Hi"), id="number_pool-no-profile"
        ),
        pytest.param(
            lambda c: c.messaging_numbers_bulk_updates.create(numbers=["+13125551000"]),
            id="bulk-without-profile",
        ),
        pytest.param(lambda c: c.messages.retrieve(), id="retrieve-without-id"),
        pytest.param(lambda c: c.messages.send(**SMS, colour="red"), id="unknown-keyword"),
    ],
)
async def test_missing_or_unknown_keyword_is_a_type_error(
    client: AsyncClient, fake: FakeTelnyx, call: Call
) -> None:
    """Leaving out a required argument (or inventing one) is Python's TypeError; nothing is sent."""
    with pytest.raises(TypeError):
        await _invoke(client, call)

    assert fake.requests == []


@pytest.mark.parametrize("ident", [".", ".."])
@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda c, i: c.messages.retrieve(i), id="retrieve"),
        pytest.param(lambda c, i: c.phone_numbers.messaging.update(i, tags=[]), id="update"),
    ],
)
async def test_dot_segment_ids_are_refused(
    client: AsyncClient, fake: FakeTelnyx, call: Callable[[AsyncClient, str], Any], ident: str
) -> None:
    """An id of "." or ".." is refused: no escaping keeps it inside its path segment."""
    with pytest.raises(InvalidArgumentError):
        await call(client, ident)

    assert fake.requests == []


async def test_empty_profile_is_allowed_where_it_means_unassign(
    client: AsyncClient, fake: FakeTelnyx
) -> None:
    """messaging_profile_id="" is not "empty input" for update and bulk create: it unassigns."""
    await client.phone_numbers.messaging.update("+13125551000", messaging_profile_id="")

    assert fake.requests[-1].json == {"messaging_profile_id": ""}


@pytest.mark.parametrize("method", ["send", "schedule"])
async def test_a_bad_recipient_is_named_before_a_missing_sender(
    client: AsyncClient, fake: FakeTelnyx, method: str
) -> None:
    """With `to` wrong and no sender either, the error names `to` first, as it always has."""
    with pytest.raises(InvalidArgumentError, match=r"^to must be a string"):
        await getattr(client.messages, method)(to=13125550002, text="hi")
    assert fake.requests == []
