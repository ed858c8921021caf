"""``client.phone_numbers.messaging`` and ``client.mobile_phone_numbers.messaging``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from telnyx_messaging import _args
from telnyx_messaging._models import (
    MobilePhoneNumberMessagingSettings,
    PhoneNumberMessagingSettings,
)
from telnyx_messaging._pagination import AsyncPager
from telnyx_messaging._resources._base import Resource
from telnyx_messaging._resources._listing import list_pages

if TYPE_CHECKING:
    from telnyx_messaging._http.loop import RequestLoop

__all__ = [
    "MobilePhoneNumbers",
    "MobilePhoneNumbersMessaging",
    "PhoneNumbers",
    "PhoneNumbersMessaging",
]


class PhoneNumbersMessaging(Resource):
    """Read and change the messaging settings of your phone numbers."""

    __slots__ = ()

    async def retrieve(self, id: str) -> PhoneNumberMessagingSettings:
        """One number's messaging settings (``GET /phone_numbers/{id}/messaging``).

        ``id`` is the number's id or the number itself in E.164.
        """
        path = f"/phone_numbers/{_args.path_id('id', id)}/messaging"
        return await self._call("GET", path, PhoneNumberMessagingSettings)

    async def update(
        self,
        id: str,
        *,
        messaging_product: str | None = None,
        messaging_profile_id: str | None = None,
        tags: Sequence[str] | None = None,
    ) -> PhoneNumberMessagingSettings:
        """Change a number's messaging profile, product or tags
        (``PATCH /phone_numbers/{id}/messaging``); what is not given stays as it is.

        ``messaging_profile_id=""`` unassigns the number from its profile.
        """
        path = f"/phone_numbers/{_args.path_id('id', id)}/messaging"
        _args.optional_string_or_empty("messaging_profile_id", messaging_profile_id)
        body = _args.body_of(
            messaging_product=_args.optional_string("messaging_product", messaging_product),
            messaging_profile_id=messaging_profile_id,
            tags=None if tags is None else _args.string_list("tags", tags, allow_empty=True),
        )
        return await self._call("PATCH", path, PhoneNumberMessagingSettings, body=body)

    def list(
        self,
        *,
        filter_messaging_profile_id: str | None = None,
        filter_phone_number: str | None = None,
        filter_phone_number_contains: str | None = None,
        filter_type: str | None = None,
        sort_phone_number: str | None = None,
        page_size: int | None = None,
        page_number: int | None = None,
    ) -> AsyncPager[PhoneNumberMessagingSettings]:
        """List your numbers with their messaging settings (``GET /phone_numbers/messaging``).

        Each ``filter[a][b]`` / ``sort[a]`` query parameter is the keyword ``filter_a_b`` /
        ``sort_a``: ``filter_type`` is ``"tollfree"``, ``"longcode"`` or ``"shortcode"``;
        ``sort_phone_number`` is ``"asc"`` or ``"desc"``.
        """
        filters = {
            "filter[messaging_profile_id]": _args.optional_string(
                "filter_messaging_profile_id", filter_messaging_profile_id
            ),
            "filter[phone_number]": _args.optional_string(
                "filter_phone_number", filter_phone_number
            ),
            "filter[phone_number][contains]": _args.optional_string(
                "filter_phone_number_contains", filter_phone_number_contains
            ),
            "filter[type]": _args.optional_string("filter_type", filter_type),
            "sort[phone_number]": _args.optional_string("sort_phone_number", sort_phone_number),
        }
        return list_pages(
            self._call_with,
            "/phone_numbers/messaging",
            PhoneNumberMessagingSettings,
            filters,
            page_size=page_size,
            page_number=page_number,
        )


class MobilePhoneNumbersMessaging(Resource):
    """Read the messaging settings of your mobile numbers."""

    __slots__ = ()

    async def retrieve(self, id: str) -> MobilePhoneNumberMessagingSettings:
        """One mobile number's messaging settings (``GET /mobile_phone_numbers/{id}/messaging``)."""
        path = f"/mobile_phone_numbers/{_args.path_id('id', id)}/messaging"
        return await self._call("GET", path, MobilePhoneNumberMessagingSettings)

    def list(
        self, *, page_size: int | None = None, page_number: int | None = None
    ) -> AsyncPager[MobilePhoneNumberMessagingSettings]:
        """List your mobile numbers' messaging settings
        (``GET /mobile_phone_numbers/messaging``)."""
        return list_pages(
            self._call_with,
            "/mobile_phone_numbers/messaging",
            MobilePhoneNumberMessagingSettings,
            {},
            page_size=page_size,
            page_number=page_number,
        )


class PhoneNumbers:
    """``client.phone_numbers``: the messaging part of the phone-numbers API."""

    __slots__ = ("messaging",)

    def __init__(self, requests: RequestLoop) -> None:
        self.messaging = PhoneNumbersMessaging(requests)


class MobilePhoneNumbers:
    """``client.mobile_phone_numbers``: the messaging part of the mobile-numbers API."""

    __slots__ = ("messaging",)

    def __init__(self, requests: RequestLoop) -> None:
        self.messaging = MobilePhoneNumbersMessaging(requests)
