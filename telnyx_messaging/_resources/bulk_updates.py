"""``client.messaging_numbers_bulk_updates``: move many numbers to a profile in one order."""

from __future__ import annotations

from collections.abc import Sequence

from telnyx_messaging import _args
from telnyx_messaging._models import BulkUpdate
from telnyx_messaging._resources._base import Resource

__all__ = ["MessagingNumbersBulkUpdates"]


class MessagingNumbersBulkUpdates(Resource):
    """Bulk messaging-settings updates: assign many numbers to a messaging profile at once."""

    __slots__ = ()

    async def create(
        self,
        *,
        messaging_profile_id: str,
        numbers: Sequence[str],
        assign_only: bool | None = None,
    ) -> BulkUpdate:
        """Start an order moving ``numbers`` (E.164) to ``messaging_profile_id``
        (``POST /messaging_numbers_bulk_updates``); poll it with :meth:`retrieve`.

        ``messaging_profile_id=""`` unassigns them. ``assign_only=True`` only assigns numbers
        that have no profile yet.
        """
        _args.string_or_empty("messaging_profile_id", messaging_profile_id)
        body = _args.body_of(
            messaging_profile_id=messaging_profile_id,
            numbers=_args.string_list("numbers", numbers),
            assign_only=_args.flag("assign_only", assign_only),
        )
        return await self._call("POST", "/messaging_numbers_bulk_updates", BulkUpdate, body=body)

    async def retrieve(self, order_id: str) -> BulkUpdate:
        """How far a bulk update order got (``GET /messaging_numbers_bulk_updates/{order_id}``)."""
        path = "/messaging_numbers_bulk_updates/" + _args.path_id("order_id", order_id)
        return await self._call("GET", path, BulkUpdate)
