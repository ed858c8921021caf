"""``client.messaging_optouts``: who has opted out of your messages."""

from __future__ import annotations

from datetime import datetime

from telnyx_messaging import _args
from telnyx_messaging._models import OptOut
from telnyx_messaging._pagination import AsyncPager
from telnyx_messaging._resources._base import Resource
from telnyx_messaging._resources._listing import list_pages

__all__ = ["MessagingOptouts"]


class MessagingOptouts(Resource):
    """Opt-outs: recipients who sent STOP (or similar) to one of your senders."""

    __slots__ = ()

    def list(
        self,
        *,
        filter_messaging_profile_id: str | None = None,
        filter_from: str | None = None,
        created_at_gte: datetime | None = None,
        created_at_lte: datetime | None = None,
        redaction_enabled: bool | None = None,
        page_size: int | None = None,
        page_number: int | None = None,
    ) -> AsyncPager[OptOut]:
        """List opt-outs (``GET /messaging_optouts``), newest filters applied server-side.

        Each ``filter[a]`` / ``created_at[b]`` query parameter is the keyword ``filter_a`` /
        ``created_at_b``. ``redaction_enabled=True`` masks the recipients' numbers.
        """
        filters = {
            "filter[messaging_profile_id]": _args.optional_string(
                "filter_messaging_profile_id", filter_messaging_profile_id
            ),
            "filter[from]": _args.optional_string("filter_from", filter_from),
            "created_at[gte]": _args.optional_when("created_at_gte", created_at_gte),
            "created_at[lte]": _args.optional_when("created_at_lte", created_at_lte),
            "redaction_enabled": _args.flag("redaction_enabled", redaction_enabled),
        }
        return list_pages(
            self._call_with,
            "/messaging_optouts",
            OptOut,
            filters,
            page_size=page_size,
            page_number=page_number,
        )
