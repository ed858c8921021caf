"""POST /messaging_numbers_bulk_updates and GET .../{order_id}."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from telnyx_messaging.testing._handlers import Context, Handler, body_of, data
from telnyx_messaging.testing._wire import FakeAnswer, RecordedRequest, iso, missing, not_found


def create_bulk_update(ctx: Context, request: RecordedRequest, _: str) -> FakeAnswer:
    body = body_of(request)
    profile: str = body["messaging_profile_id"]
    requested: list[str] = body["numbers"]
    if not requested:
        raise missing("/numbers")
    known = {number["phone_number"]: number for number in ctx.state.phone_number_settings}
    stamp = iso(ctx.clock.now())
    for phone_number in requested:
        if phone_number in known:
            # An empty profile id unassigns the number, as Telnyx documents.
            known[phone_number].update(messaging_profile_id=profile or None, updated_at=stamp)
    order_id = str(uuid.uuid4())
    ctx.state.bulk_updates[order_id] = {
        "order_id": order_id,
        "record_type": "messaging_numbers_bulk_update",
        "success": [number for number in requested if number in known],
        "pending": [],
        "failed": [number for number in requested if number not in known],
    }
    return data(ctx.state.bulk_updates[order_id])


def get_bulk_update(ctx: Context, _: RecordedRequest, order_id: str) -> FakeAnswer:
    try:
        return data(ctx.state.bulk_updates[order_id])
    except KeyError:
        raise not_found("bulk update") from None


HANDLERS: Mapping[str, Handler] = {
    "BulkUpdateMessagingSettingsOnPhoneNumbers": create_bulk_update,
    "GetBulkUpdateMessagingSettingsOnPhoneNumbersStatus": get_bulk_update,
}
