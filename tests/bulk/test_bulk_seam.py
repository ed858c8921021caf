"""The bulk package's seam: a one-attempt send function and a frozen, checked BulkOptions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import pytest

from telnyx_messaging import AsyncClient, InvalidArgumentError, MockTransport, Request, Response
from telnyx_messaging._bulk import BulkOptions, BulkSend

EXAMPLES = Path(__file__).parent.parent / "spec" / "webhook-examples"
MESSAGE = json.loads((EXAMPLES / "message.sent.json").read_text())["data"]["payload"]


@pytest.mark.parametrize(
    ("keywords", "fix"),
    [
        ({"via": "send_fax"}, "via must be one of"),
        ({"concurrency": 0}, "concurrency must be a whole number >= 1"),
        ({"rate": -1}, "rate must be a positive number"),
        ({"max_attempts": 0}, "max_attempts must be a whole number >= 1"),
        ({"progress_interval": 0}, "progress_interval must be a positive number"),
        ({"delivery_timeout": True}, "delivery_timeout must be a positive number"),
        ({"journal": 3}, "journal must be a file path"),
        ({"total": -1}, "total must be a whole number >= 0"),
        ({"on_progress": "print"}, "on_progress must be a callable"),
    ],
)
def test_options_are_checked_once_when_made(keywords: dict[str, Any], fix: str) -> None:
    """A bad keyword is refused when the options are made, with what to write instead."""
    with pytest.raises(InvalidArgumentError, match=fix):
        BulkOptions(**keywords)


def test_options_are_a_frozen_value() -> None:
    """Options are one immutable value that the async, sync and CLI callers all pass along."""
    options = BulkOptions(concurrency=3, rate=5)
    assert options.rate == 5.0
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        options.concurrency = 4  # type: ignore[misc]


async def test_a_run_needs_only_a_one_attempt_send_function() -> None:
    """The run sends through the function it is given, one call per attempt, and retries
    itself: a failed attempt is tried again with the same key."""
    statuses = iter([503, 200, 200])
    keys: list[str] = []

    def handler(request: Request) -> Response:
        keys.append(request.headers["Idempotency-Key"])
        if next(statuses) == 503:
            return request.respond(
                503, json={"errors": [{"code": "10007"}]}, headers={"retry-after-ms": "1"}
            )
        return request.respond(200, json={"data": {**MESSAGE, "id": f"m{len(keys)}"}})

    async with AsyncClient(api_key="KEY_test", transport=MockTransport(handler)) as client:
        one_attempt = client.with_options(max_retries=0).messages.send
        rows = [{"to": "+13125550001", "from_": "+18445550001", "text": "hi"}] * 2
        options = BulkOptions(concurrency=1)
        async with BulkSend(one_attempt, rows, options, max_attempts=3) as run:
            results = [r async for r in run]
    assert [r.ok for r in results] == [True, True]
    by_index = {r.index: r for r in results}
    assert by_index[0].attempts == 2
    assert by_index[1].attempts == 1
    assert keys.count(by_index[0].idempotency_key) == 2  # the retry carried the row's key
    assert keys.count(by_index[1].idempotency_key) == 1
