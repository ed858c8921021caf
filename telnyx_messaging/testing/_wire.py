"""What crosses the fake's HTTP boundary, as plain values: requests in, answers and errors out.

No aiohttp here: the request pipeline and the handlers work on these values, and only
``_server.py`` turns them into and out of aiohttp objects.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import attrs

__all__ = ["FakeAnswer", "FakeApiError", "RecordedRequest"]

JSON = "application/json"


@attrs.frozen
class RecordedRequest:
    """One request as the fake received it, kept in `FakeTelnyx.requests`.

    ``path`` is the raw path (percent-encoding kept) without the ``/v2`` prefix;
    ``query`` holds the decoded ``(name, value)`` pairs in order; ``headers`` is a
    case-insensitive read-only `multidict.CIMultiDictProxy` copy of the request
    headers; ``json`` is the parsed body, or None when the body is empty or not JSON.
    """

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    headers: Mapping[str, str]
    body: bytes
    json: Any
    idempotency_key: str | None

    @property
    def query_dict(self) -> dict[str, str]:
        """The query as a dict; for a repeated name the last value wins."""
        return dict(self.query)


@attrs.frozen
class FakeAnswer:
    """An HTTP answer as bytes, so the same one can be replayed for an idempotency key."""

    status: int
    body: bytes
    headers: Mapping[str, str] = attrs.field(factory=lambda: {"Content-Type": JSON})

    def with_headers(self, extra: Mapping[str, str]) -> FakeAnswer:
        return attrs.evolve(self, headers={**self.headers, **extra})


def json_answer(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> FakeAnswer:
    return FakeAnswer(
        status, json.dumps(payload).encode(), {"Content-Type": JSON, **(headers or {})}
    )


class FakeApiError(Exception):
    """Raised by a pipeline step or handler to answer a Telnyx error body instead of data.

    An exception because refusals come from deep inside helpers (paging, filters, body
    checks) and all end the request the same way.
    """

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str,
        *,
        pointer: str | None = None,
        parameter: str | None = None,
        headers: Mapping[str, str] | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        error: dict[str, Any] = {"code": code, "title": title, "detail": detail}
        if meta is not None:
            error["meta"] = dict(meta)
        if pointer is not None:
            error["source"] = {"pointer": pointer}
        elif parameter is not None:
            error["source"] = {"parameter": parameter}
        self.answer = json_answer(status, {"errors": [error]}, headers)


# Telnyx's API error codes: https://developers.telnyx.com/docs/overview/errors


def not_found(what: str) -> FakeApiError:
    return FakeApiError(
        404, "10005", "Resource not found", f"The requested {what} could not be found."
    )


def missing(pointer: str) -> FakeApiError:
    name = pointer.rsplit("/", 1)[-1]
    return FakeApiError(
        422,
        "10004",
        "Missing required parameter",
        f"The '{name}' parameter is required.",
        pointer=pointer,
    )


def invalid(pointer: str, detail: str) -> FakeApiError:
    return FakeApiError(422, "10015", "Bad Request", detail, pointer=pointer)


def bad_parameter(parameter: str, detail: str) -> FakeApiError:
    return FakeApiError(400, "10015", "Bad Request", detail, parameter=parameter)


def iso(moment: datetime) -> str:
    """Telnyx timestamps: ISO 8601 with milliseconds and an explicit UTC offset."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def parse_datetime(value: str) -> datetime | None:
    """An ISO 8601 date-time, naive ones read as UTC; None if it is not one."""
    # fromisoformat only learned the "Z" suffix in Python 3.11.
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
