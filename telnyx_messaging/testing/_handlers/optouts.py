"""GET /messaging_optouts."""

from __future__ import annotations

import operator
from collections.abc import Mapping
from datetime import datetime

from telnyx_messaging.testing._handlers import Context, Handler
from telnyx_messaging.testing._handlers._paging import page
from telnyx_messaging.testing._wire import FakeAnswer, RecordedRequest, parse_datetime


def list_optouts(ctx: Context, request: RecordedRequest, _: str) -> FakeAnswer:
    query = request.query_dict
    items = list(ctx.state.optout_items)
    for field in ("messaging_profile_id", "from"):
        if f"filter[{field}]" in query:
            wanted = query[f"filter[{field}]"]
            items = [item for item in items if item[field] == wanted]
    for bound, keep in (("gte", operator.ge), ("lte", operator.le)):
        limit = parse_datetime(query.get(f"created_at[{bound}]", ""))
        if limit is not None:  # the pipeline answered 400 to a value that is not a date
            items = [
                item for item in items if keep(datetime.fromisoformat(item["created_at"]), limit)
            ]
    if query.get("redaction_enabled", "").lower() == "true":
        items = [{**item, "to": item["to"][:-4] + "****"} for item in items]
    return page(items, request)


HANDLERS: Mapping[str, Handler] = {"ListOptOuts": list_optouts}
