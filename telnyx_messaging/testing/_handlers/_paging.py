"""Telnyx's page[number] / page[size] paging, shared by every list."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from telnyx_messaging.testing._wire import FakeAnswer, RecordedRequest, json_answer


def page(items: Sequence[dict[str, Any]], request: RecordedRequest) -> FakeAnswer:
    """One page of ``items`` with Telnyx's ``meta`` (messaging_PaginationMeta).

    The pipeline has checked the parameters against the spec (integers, size 1..250).
    """
    query = request.query_dict
    number = int(query.get("page[number]", 1))
    size = int(query.get("page[size]", 20))
    start = (number - 1) * size
    meta = {
        "page_number": number,
        "page_size": size,
        "total_pages": math.ceil(len(items) / size),
        "total_results": len(items),
    }
    return json_answer(200, {"data": list(items[start : start + size]), "meta": meta})
