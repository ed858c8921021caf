"""``client.messages``: send (in every flavour), schedule, retrieve and cancel messages.

Every call that creates a message sends an ``Idempotency-Key`` (yours, or a fresh UUID4) that
all retries of that call reuse, so a retried send reaches the phone once.
"""

from __future__ import annotations

from collections.abc import Coroutine, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from telnyx_messaging import _args

# Re-exported for the generated sync namespaces, which import annotations from here.
from telnyx_messaging._args import Encoding as Encoding
from telnyx_messaging._args import MessageType as MessageType
from telnyx_messaging._errors import InvalidArgumentError
from telnyx_messaging._http.codec import new_idempotency_key
from telnyx_messaging._models import Message, WhatsAppMessage
from telnyx_messaging._resources._base import Resource

if TYPE_CHECKING:
    import os
    from collections.abc import AsyncIterable, Callable, Iterable

    from telnyx_messaging._bulk import (
        BulkOptions,
        BulkSend,
        BulkStats,
        PacingBudget,
        PacingProfile,
        SenderTypes,
        Via,
    )
    from telnyx_messaging.webhooks._tracking import DeliveryTracker

__all__ = ["Messages"]

M = TypeVar("M", Message, WhatsAppMessage)


def _message(
    head: dict[str, Any],
    *,
    text: str | None,
    media_urls: Sequence[str] | None,
    send_at: datetime | None = None,
    subject: str | None = None,
    type: MessageType | None = None,
    encoding: Encoding | None = None,
    auto_detect: bool | None = None,
    use_profile_webhooks: bool | None = None,
    webhook_url: str | None = None,
    webhook_failover_url: str | None = None,
) -> dict[str, Any]:
    """The body every SMS/MMS variant sends: ``head`` (sender and recipients, checked by the
    caller) plus the content and options that were given."""
    body = head
    if text is not None:
        if not isinstance(text, str):
            raise InvalidArgumentError(f"text must be a string, got {text.__class__.__name__}")
        body["text"] = text
    if media_urls is not None:
        body["media_urls"] = _args.string_list("media_urls", media_urls)
    if not text and not media_urls:
        raise InvalidArgumentError(
            "a message needs content: pass text=... (SMS) and/or media_urls=[...] (MMS)"
        )
    # Plain ifs, not a generic helper: this runs on every send and most options are absent.
    if send_at is not None:
        body["send_at"] = _args.when("send_at", send_at)
    if subject is not None:
        body["subject"] = _args.string("subject", subject)
    if type is not None:
        body["type"] = _args.choice("type", type, _args.MessageType)
    if encoding is not None:
        body["encoding"] = _args.choice("encoding", encoding, _args.Encoding)
    if auto_detect is not None:
        body["auto_detect"] = _args.flag("auto_detect", auto_detect)
    if use_profile_webhooks is not None:
        body["use_profile_webhooks"] = _args.flag("use_profile_webhooks", use_profile_webhooks)
    if webhook_url is not None:
        body["webhook_url"] = _args.string("webhook_url", webhook_url)
    if webhook_failover_url is not None:
        body["webhook_failover_url"] = _args.string("webhook_failover_url", webhook_failover_url)
    return body


def _sender(to: str, from_: str | None, messaging_profile_id: str | None) -> dict[str, Any]:
    """``to`` and who sends: a number (``from_``), a profile, or both."""
    head = {"to": _args.phone_number("to", to)}
    if from_ is None and messaging_profile_id is None:
        raise InvalidArgumentError(
            "say who sends it: pass from_=<one of your numbers> or messaging_profile_id=..."
        )
    if from_ is not None:
        head["from"] = _args.string("from_", from_)
    if messaging_profile_id is not None:
        head["messaging_profile_id"] = _args.string("messaging_profile_id", messaging_profile_id)
    return head


class Messages(Resource):
    """Send, schedule, retrieve and cancel SMS/MMS (and send WhatsApp)."""

    __slots__ = ()

    def _create(
        self, path: str, cls: type[M], body: dict[str, Any], idempotency_key: str | None
    ) -> Coroutine[Any, Any, M]:
        # Every attempt of one send carries the same key, so Telnyx creates the message once.
        key = (
            new_idempotency_key()
            if idempotency_key is None
            else _args.header_value("idempotency_key", idempotency_key)
        )
        # A plain function handing back the client's coroutine: one frame less per send.
        return self._call("POST", path, cls, body=body, idempotency_key=key)

    async def send(
        self,
        *,
        to: str,
        from_: str | None = None,
        text: str | None = None,
        media_urls: Sequence[str] | None = None,
        messaging_profile_id: str | None = None,
        send_at: datetime | None = None,
        subject: str | None = None,
        type: MessageType | None = None,
        encoding: Encoding | None = None,
        auto_detect: bool | None = None,
        use_profile_webhooks: bool | None = None,
        webhook_url: str | None = None,
        webhook_failover_url: str | None = None,
        idempotency_key: str | None = None,
    ) -> Message:
        """Send an SMS or MMS (``POST /messages``) and return the message as Telnyx queued it.

        ``from_`` is one of your numbers (E.164), an alphanumeric sender ID or a short code;
        with ``messaging_profile_id`` instead, Telnyx picks the sender from the profile.
        ``send_at`` (a timezone-aware ``datetime``) schedules it. ``type`` is ``"SMS"`` or
        ``"MMS"``; ``encoding`` is ``"auto"``, ``"gsm7"`` or ``"ucs2"``.

        Retries reuse one ``Idempotency-Key``: pass ``idempotency_key`` to make a send safe to
        repeat across process restarts too (e.g. your own order id).
        """
        body = _message(
            _sender(to, from_, messaging_profile_id),
            text=text,
            media_urls=media_urls,
            send_at=send_at,
            subject=subject,
            type=type,
            encoding=encoding,
            auto_detect=auto_detect,
            use_profile_webhooks=use_profile_webhooks,
            webhook_url=webhook_url,
            webhook_failover_url=webhook_failover_url,
        )
        return await self._create("/messages", Message, body, idempotency_key)

    async def retrieve(self, id: str) -> Message:
        """Fetch a message by id (``GET /messages/{id}``), outbound or inbound."""
        path = "/messages/" + _args.path_id("id", id)
        return await self._call("GET", path, Message)

    async def cancel_scheduled(self, id: str) -> Message:
        """Cancel a scheduled message before it is sent (``DELETE /messages/{id}``)."""
        path = "/messages/" + _args.path_id("id", id)
        # The one answer without a {"data": ...} envelope (see tests/spec/README.md).
        return await self._call("DELETE", path, Message, envelope=False)

    async def send_whatsapp(
        self,
        *,
        from_: str,
        to: str,
        whatsapp_message: Mapping[str, Any],
        type: str | None = None,
        messaging_profile_id: str | None = None,
        webhook_url: str | None = None,
        idempotency_key: str | None = None,
    ) -> WhatsAppMessage:
        """Send a WhatsApp message (``POST /messages/whatsapp``).

        ``whatsapp_message`` is the content object of the spec's ``WhatsappMessageContent``,
        e.g. ``{"type": "text", "text": {"body": "Hi"}}``.
        """
        body = _args.body_of(
            from_=_args.string("from_", from_),
            to=_args.phone_number("to", to),
            whatsapp_message=dict(_args.mapping("whatsapp_message", whatsapp_message)),
            type=_args.optional_string("type", type),
            messaging_profile_id=_args.optional_string(
                "messaging_profile_id", messaging_profile_id
            ),
            webhook_url=_args.optional_string("webhook_url", webhook_url),
        )
        return await self._create("/messages/whatsapp", WhatsAppMessage, body, idempotency_key)

    async def send_group_mms(
        self,
        *,
        from_: str,
        to: Sequence[str],
        text: str | None = None,
        media_urls: Sequence[str] | None = None,
        subject: str | None = None,
        use_profile_webhooks: bool | None = None,
        webhook_url: str | None = None,
        webhook_failover_url: str | None = None,
        idempotency_key: str | None = None,
    ) -> Message:
        """Send one MMS to a group conversation (``POST /messages/group_mms``)."""
        body = _message(
            {"from": _args.string("from_", from_), "to": _args.phone_numbers("to", to)},
            text=text,
            media_urls=media_urls,
            subject=subject,
            use_profile_webhooks=use_profile_webhooks,
            webhook_url=webhook_url,
            webhook_failover_url=webhook_failover_url,
        )
        return await self._create("/messages/group_mms", Message, body, idempotency_key)

    async def send_long_code(
        self,
        *,
        from_: str,
        to: str,
        text: str | None = None,
        media_urls: Sequence[str] | None = None,
        subject: str | None = None,
        type: MessageType | None = None,
        encoding: Encoding | None = None,
        auto_detect: bool | None = None,
        use_profile_webhooks: bool | None = None,
        webhook_url: str | None = None,
        webhook_failover_url: str | None = None,
        idempotency_key: str | None = None,
    ) -> Message:
        """Send from a long code (``POST /messages/long_code``)."""
        body = _message(
            {"from": _args.string("from_", from_), "to": _args.phone_number("to", to)},
            text=text,
            media_urls=media_urls,
            subject=subject,
            type=type,
            encoding=encoding,
            auto_detect=auto_detect,
            use_profile_webhooks=use_profile_webhooks,
            webhook_url=webhook_url,
            webhook_failover_url=webhook_failover_url,
        )
        return await self._create("/messages/long_code", Message, body, idempotency_key)

    async def send_short_code(
        self,
        *,
        from_: str,
        to: str,
        text: str | None = None,
        media_urls: Sequence[str] | None = None,
        subject: str | None = None,
        type: MessageType | None = None,
        encoding: Encoding | None = None,
        auto_detect: bool | None = None,
        use_profile_webhooks: bool | None = None,
        webhook_url: str | None = None,
        webhook_failover_url: str | None = None,
        idempotency_key: str | None = None,
    ) -> Message:
        """Send from a short code (``POST /messages/short_code``)."""
        body = _message(
            {"from": _args.string("from_", from_), "to": _args.phone_number("to", to)},
            text=text,
            media_urls=media_urls,
            subject=subject,
            type=type,
            encoding=encoding,
            auto_detect=auto_detect,
            use_profile_webhooks=use_profile_webhooks,
            webhook_url=webhook_url,
            webhook_failover_url=webhook_failover_url,
        )
        return await self._create("/messages/short_code", Message, body, idempotency_key)

    async def send_number_pool(
        self,
        *,
        messaging_profile_id: str,
        to: str,
        text: str | None = None,
        media_urls: Sequence[str] | None = None,
        subject: str | None = None,
        type: MessageType | None = None,
        encoding: Encoding | None = None,
        auto_detect: bool | None = None,
        use_profile_webhooks: bool | None = None,
        webhook_url: str | None = None,
        webhook_failover_url: str | None = None,
        idempotency_key: str | None = None,
    ) -> Message:
        """Send from the profile's number pool, Telnyx picking the sender
        (``POST /messages/number_pool``)."""
        body = _message(
            {
                "messaging_profile_id": _args.string("messaging_profile_id", messaging_profile_id),
                "to": _args.phone_number("to", to),
            },
            text=text,
            media_urls=media_urls,
            subject=subject,
            type=type,
            encoding=encoding,
            auto_detect=auto_detect,
            use_profile_webhooks=use_profile_webhooks,
            webhook_url=webhook_url,
            webhook_failover_url=webhook_failover_url,
        )
        return await self._create("/messages/number_pool", Message, body, idempotency_key)

    async def schedule(
        self,
        *,
        to: str,
        send_at: datetime | None = None,
        from_: str | None = None,
        messaging_profile_id: str | None = None,
        text: str | None = None,
        media_urls: Sequence[str] | None = None,
        subject: str | None = None,
        type: MessageType | None = None,
        auto_detect: bool | None = None,
        use_profile_webhooks: bool | None = None,
        webhook_url: str | None = None,
        webhook_failover_url: str | None = None,
        idempotency_key: str | None = None,
    ) -> Message:
        """Schedule a message for ``send_at`` (``POST /messages/schedule``); cancel it with
        :meth:`cancel_scheduled` before then."""
        body = _message(
            _sender(to, from_, messaging_profile_id),
            text=text,
            media_urls=media_urls,
            send_at=send_at,
            subject=subject,
            type=type,
            auto_detect=auto_detect,
            use_profile_webhooks=use_profile_webhooks,
            webhook_url=webhook_url,
            webhook_failover_url=webhook_failover_url,
        )
        return await self._create("/messages/schedule", Message, body, idempotency_key)

    def send_many(
        self,
        rows: Iterable[Mapping[str, Any]] | AsyncIterable[Mapping[str, Any]],
        *,
        via: Via = "send",
        concurrency: int = 50,
        rate: float | None = None,
        per_sender_rate: float | None = None,
        max_attempts: int | None = None,
        journal: str | os.PathLike[str] | None = None,
        campaign: str | None = None,
        retry_failed: bool = False,
        on_progress: Callable[[BulkStats], object] | None = None,
        progress_interval: float = 1.0,
        total: int | None = None,
        await_delivery: DeliveryTracker | None = None,
        delivery_timeout: float = 600.0,
        pacing: str | PacingProfile = "telnyx",
        sender_types: SenderTypes | None = None,
        max_pause: float = 300.0,
        deadline: float | None = None,
        budget: PacingBudget | None = None,
    ) -> BulkSend:
        """Send one message per row, ``concurrency`` at a time, with one result per row.

        ::

            rows = ({"to": p.phone, "from_": "+18445550001", "text": f"Hi {p.name}"} for p in ps)
            async with client.messages.send_many(rows, concurrency=50, rate=50) as run:
                async for result in run:
                    print(result.index, result.message_id if result.ok else result.error)

        ``rows`` (any iterable or async iterable, read lazily) are mappings of the keyword
        arguments of the method named by ``via`` (``"send"``, ``"send_number_pool"``,
        ``"send_short_code"``, ``"send_long_code"``...). ``rate`` caps messages per second for
        the run, ``per_sender_rate`` per ``from_``; a 429 pauses every send until the wait
        Telnyx named. Each row has one Idempotency-Key for all its attempts (up to
        ``max_attempts``, default ``max_retries + 1``). With ``journal="campaign.db"`` a run
        killed halfway continues where it stopped when started again with the same input.
        Each row's Idempotency-Key is derived from the campaign (``campaign="spring-sale"``, or
        the journal's path), the method, the row's index and content, so a campaign run again
        within 24 hours, even on a lost journal, creates no message twice.
        ``on_progress`` gets a :class:`BulkStats` every ``progress_interval`` seconds.
        With ``await_delivery=tracker`` (a ``webhooks.DeliveryTracker`` your webhook
        receiver feeds), each sent row's result waits for its final delivery outcome, up to
        ``delivery_timeout`` seconds, and carries it as ``result.delivery``.
        Pacing follows ``pacing`` (``"telnyx"``: Telnyx's published limits per message kind
        and sender type, or a :class:`PacingProfile`); ``sender_types`` maps senders to their
        type, or is ``"lookup"`` to ask Telnyx once per sender. A 429 never costs a row an
        attempt: it slows the run. A wait past ``max_pause`` seconds stops the run
        (:class:`PauseTooLongError`); after ``deadline`` seconds a pushed-back row fails
        instead; ``budget`` shares the
        pacing between processes. See docs/bulk.md.

        .. versionadded:: 0.2.0
        """
        from telnyx_messaging._bulk import BulkOptions

        options = BulkOptions(
            via=via,
            concurrency=concurrency,
            rate=rate,
            per_sender_rate=per_sender_rate,
            max_attempts=max_attempts,
            journal=journal,
            campaign=campaign,
            retry_failed=retry_failed,
            on_progress=on_progress,
            progress_interval=progress_interval,
            total=total,
            await_delivery=await_delivery,
            delivery_timeout=delivery_timeout,
            pacing=pacing,
            sender_types=sender_types,
            max_pause=max_pause,
            deadline=deadline,
            budget=budget,
        )
        return self._start_bulk(rows, options)

    def _start_bulk(
        self,
        rows: Iterable[Mapping[str, Any]] | AsyncIterable[Mapping[str, Any]],
        options: BulkOptions,
    ) -> BulkSend:
        """A run of ``options`` over ``rows``: what ``send_many`` returns, for callers that
        already hold a :class:`BulkOptions` (the ``send-bulk`` command)."""
        from telnyx_messaging._bulk import BulkSend
        from telnyx_messaging._resources.numbers import PhoneNumbersMessaging

        requests = self._requests
        connection = requests.connection
        # One attempt per call: the run decides when (and whether) a row is tried again, so a
        # row waiting to retry does not sit in a worker.
        send = getattr(Messages(requests.with_max_retries(0)), options.via)
        return BulkSend(
            send,
            rows,
            options,
            max_attempts=requests.max_retries + 1,
            pool_size=connection.transport.pool_size,
            is_closed=lambda: connection.closed,
            sender_settings=PhoneNumbersMessaging(requests).retrieve,
        )
