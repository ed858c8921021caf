"""POST /messages*, GET and DELETE /messages/{id}: sends, group MMS, WhatsApp, cancelling."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from telnyx_messaging.testing._handlers import Context, Handler, body_of, data
from telnyx_messaging.testing._openapi import is_address
from telnyx_messaging.testing._payloads import outbound_message, whatsapp_message
from telnyx_messaging.testing._seed import PROFILE_NUMBER
from telnyx_messaging.testing._sms import not_gsm
from telnyx_messaging.testing._wire import (
    FakeAnswer,
    FakeApiError,
    RecordedRequest,
    invalid,
    iso,
    json_answer,
    missing,
    not_found,
    parse_datetime,
)


def _check_address(value: str, pointer: str) -> None:
    # The spec says only x-format "address"; Telnyx refuses anything but E.164 or a short code.
    if not is_address(value):
        raise FakeApiError(
            422,
            "10016",
            "Phone number must be in +E.164 format",
            f"'{pointer[1:]}' must be a +E.164 phone number or a short code; got {value!r}.",
            pointer=pointer,
        )


# Telnyx: "send_at must be at least 5 minutes in the future" (and at most 5 days, which the fake
# does not check, so tests may use fixed far dates).
# https://developers.telnyx.com/docs/messaging/messages/schedule-message
_SCHEDULE_LEAD = timedelta(minutes=5)


def _check_send_at(ctx: Context, body: Mapping[str, Any]) -> None:
    text = body.get("send_at")
    due = parse_datetime(text) if isinstance(text, str) else None  # the spec checked the form
    now = ctx.clock.now()
    if due is not None and due < now + _SCHEDULE_LEAD:
        raise invalid(
            "/send_at",
            f"send_at must be at least 5 minutes in the future; got {text!r}, "
            f"and the time is {iso(now)}. To send now, leave send_at out.",
        )


def _check_encoding(body: Mapping[str, Any]) -> None:
    # The spec: `gsm7` "forces GSM-7 encoding (returns 400 if message contains characters that
    # cannot be encoded)".
    outside = not_gsm(body.get("text") or "")
    if body.get("encoding") == "gsm7" and outside:
        raise FakeApiError(
            400,
            "10015",
            "Bad Request",
            f"encoding 'gsm7' cannot carry {outside!r} in text; replace those characters, "
            "or send with encoding 'auto' or 'ucs2'.",
            pointer="/text",
        )


def _require_any(body: Mapping[str, Any], *fields: str) -> None:
    """Answer 422, pointing at the first field, unless one of ``fields`` has a value."""
    if all(body.get(field) in (None, "", []) for field in fields):
        raise missing(f"/{fields[0]}")


def _send(
    ctx: Context, body: Mapping[str, Any], to: Sequence[str], *, message_type: str | None = None
) -> FakeAnswer:
    _require_any(body, "text", "media_urls")
    _check_send_at(ctx, body)
    _check_encoding(body)
    sender = body.get("from") or PROFILE_NUMBER
    # A number sends through its own messaging profile unless the request names one.
    profile_id = body.get("messaging_profile_id") or ctx.state.profile_of_number(sender)
    for number in to:
        if ctx.state.is_blocked(profile_id, number):
            raise FakeApiError(
                409,
                "40300",
                "Blocked due to STOP message",
                f"Messages cannot be sent from '{sender}' to '{number}' "
                "due to an existing block rule.",
                meta={"url": "https://developers.telnyx.com/api/errors/40300"},
            )
    message = outbound_message(
        body, to, message_type=message_type, profile_id=profile_id, now=ctx.clock.now()
    )
    ctx.state.messages[message["id"]] = message
    ctx.lifecycle.accepted(message, use_profile_webhooks=body.get("use_profile_webhooks", True))
    return data(message)


def _one_recipient(*senders: str, scheduled: bool = False) -> Handler:
    """A send to one ``to``; ``senders`` are the fields of which one must be given."""

    def send(ctx: Context, request: RecordedRequest, _: str) -> FakeAnswer:
        body = body_of(request)  # `to` is required by the spec: the pipeline checked it
        _check_address(body["to"], "/to")
        _require_any(body, *senders)
        if scheduled and not body.get("send_at"):
            raise missing("/send_at")
        return _send(ctx, body, [body["to"]])

    return send


def send_group_mms(ctx: Context, request: RecordedRequest, _: str) -> FakeAnswer:
    body = body_of(request)
    to: list[str] = body["to"]
    if not to:
        raise missing("/to")
    for index, number in enumerate(to):
        _check_address(number, f"/to/{index}")
    return _send(ctx, body, to, message_type="MMS")


def send_whatsapp(ctx: Context, request: RecordedRequest, _: str) -> FakeAnswer:
    body = body_of(request)
    _check_address(body["to"], "/to")
    message = whatsapp_message(body, now=ctx.clock.now())
    ctx.state.messages[message["id"]] = message
    return data(message)


def _message(ctx: Context, message_id: str) -> dict[str, Any]:
    try:
        return ctx.state.messages[message_id]
    except KeyError:
        raise not_found("message") from None


def get_message(ctx: Context, _: RecordedRequest, message_id: str) -> FakeAnswer:
    return data(_message(ctx, message_id))


def cancel_message(ctx: Context, _: RecordedRequest, message_id: str) -> FakeAnswer:
    message = _message(ctx, message_id)
    if not ctx.lifecycle.cancel(message_id):
        raise FakeApiError(
            422,
            "10015",
            "Message not scheduled",
            "Only a scheduled message that has not been sent yet can be cancelled.",
        )
    cancelled = {**message, "to": [{**to, "status": "cancelled"} for to in message["to"]]}
    ctx.state.messages[message_id] = cancelled
    # The one answer without the data envelope, as the spec says.
    return json_answer(200, cancelled)


_EITHER = ("from", "messaging_profile_id")

HANDLERS: Mapping[str, Handler] = {
    "SendMessage": _one_recipient(*_EITHER),
    "ScheduleMessage": _one_recipient(*_EITHER, scheduled=True),
    "CreateLongCodeMessage": _one_recipient("from"),
    "CreateShortCodeMessage": _one_recipient("from"),
    "CreateNumberPoolMessage": _one_recipient("messaging_profile_id"),
    "CreateGroupMmsMessage": send_group_mms,
    "SendWhatsappMessage": send_whatsapp,
    "GetMessage": get_message,
    "CancelMessage": cancel_message,
}
