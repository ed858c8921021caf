"""The sync Client used the way Django/Flask code uses it, type-checked (never run).

Both checkers users run look at it: mypy --strict (nox -s typecheck) and pyright --strict
(nox -s pyright). A regression in the generated sync signatures fails them.
"""

from __future__ import annotations

from telnyx_messaging import (
    Client,
    Message,
    NotFoundError,
    OptOut,
    PhoneNumberMessagingSettings,
    SyncPage,
    SyncPager,
    Timeout,
)


def send(client: Client) -> str | None:
    msg: Message = client.messages.send(
        to="+13125550002", from_="+18445550001", text="Hello", idempotency_key="order-42"
    )
    return msg.id


def lists(client: Client) -> list[str]:
    pager: SyncPager[OptOut] = client.messaging_optouts.list(page_size=50)
    page: SyncPage[OptOut] = pager.first_page()
    numbers = [o.to or "" for o in page.data]
    if page.has_next_page():
        numbers += [o.to or "" for o in page.next_page()]
    for settings in client.phone_numbers.messaging.list(filter_type="longcode"):
        one: PhoneNumberMessagingSettings = settings
        numbers.append(one.phone_number or "")
    return numbers


def lifecycle() -> bool:
    with Client(timeout=Timeout(total=10), max_retries=1) as client:
        quick: Client = client.with_options(max_retries=0)
        try:
            quick.messages.retrieve("4031938e-0000")
        except NotFoundError as exc:
            return exc.status == 404
    return client.is_closed
