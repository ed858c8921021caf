"""/phone_numbers/.../messaging and /mobile_phone_numbers/.../messaging."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from telnyx_messaging.testing._handlers import Context, Handler, body_of, data
from telnyx_messaging.testing._handlers._paging import page
from telnyx_messaging.testing._wire import FakeAnswer, RecordedRequest, iso, not_found


def _find(numbers: Iterable[dict[str, Any]], ident: str) -> dict[str, Any]:
    """A number by its numeric id or its E.164 phone number, as Telnyx accepts both."""
    for number in numbers:
        if ident in (number["id"], number["phone_number"]):
            return number
    raise not_found("phone number")


def list_phone_numbers(ctx: Context, request: RecordedRequest, _: str) -> FakeAnswer:
    query = request.query_dict
    items = list(ctx.state.phone_number_settings)
    if "filter[messaging_profile_id]" in query:
        profile = query["filter[messaging_profile_id]"]
        items = [item for item in items if item["messaging_profile_id"] == profile]
    if "filter[phone_number]" in query:
        exact = set(query["filter[phone_number]"].split(","))
        items = [item for item in items if item["phone_number"] in exact]
    if "filter[phone_number][contains]" in query:
        part = query["filter[phone_number][contains]"]
        items = [item for item in items if part in item["phone_number"]]
    if "filter[type]" in query:
        items = [item for item in items if item["type"] == query["filter[type]"]]
    order = query.get("sort[phone_number]")
    if order is not None:  # "asc" or "desc": the pipeline refused anything else
        items.sort(key=lambda item: str(item["phone_number"]), reverse=order == "desc")
    return page(items, request)


def get_phone_number(ctx: Context, _: RecordedRequest, ident: str) -> FakeAnswer:
    return data(_find(ctx.state.phone_number_settings, ident))


def update_phone_number(ctx: Context, request: RecordedRequest, ident: str) -> FakeAnswer:
    number = _find(ctx.state.phone_number_settings, ident)
    body = body_of(request)
    changes: dict[str, Any] = {
        field: body[field]
        for field in ("messaging_product", "messaging_profile_id", "tags")
        if body.get(field) is not None  # null keeps the current value
    }
    if changes.get("messaging_profile_id") == "":
        changes["messaging_profile_id"] = None  # an empty id unassigns the number
    number.update(changes, updated_at=iso(ctx.clock.now()))
    return data(number)


def list_mobile_numbers(ctx: Context, request: RecordedRequest, _: str) -> FakeAnswer:
    return page(ctx.state.mobile_phone_number_settings, request)


def get_mobile_number(ctx: Context, _: RecordedRequest, ident: str) -> FakeAnswer:
    return data(_find(ctx.state.mobile_phone_number_settings, ident))


HANDLERS: Mapping[str, Handler] = {
    "ListPhoneNumbersWithMessagingSettings": list_phone_numbers,
    "GetPhoneNumberMessagingSettings": get_phone_number,
    "UpdatePhoneNumberMessagingSettings": update_phone_number,
    "ListMobilePhoneNumbersWithMessagingSettings": list_mobile_numbers,
    "GetMobilePhoneNumberMessagingSettings": get_mobile_number,
}
