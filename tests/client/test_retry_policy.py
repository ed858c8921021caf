"""The retry decisions as pure functions: which failures are retried and how long to wait.

No sockets here. Headers are ``CIMultiDict`` because that is what the transport hands over
(aiohttp's ``CIMultiDictProxy``); ``now`` is injected so dates are exact.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from email.utils import formatdate

import pytest
from multidict import CIMultiDict

from telnyx_messaging import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    InternalServerError,
    RateLimitError,
)
from telnyx_messaging._http.codec import error_from_response
from telnyx_messaging._http.retry import (
    INITIAL_BACKOFF,
    JITTER,
    MAX_BACKOFF,
    RETRYABLE_STATUSES,
    backoff_seconds,
    is_retryable,
    is_retryable_status,
    maybe_processed_status,
    retry_after_seconds,
    server_wait,
    set_instant_retries,
    wait_to_sleep,
)
from telnyx_messaging._wire import Response

NOW = 1_767_225_600.0  # 2026-01-01T00:00:00Z, a whole second so HTTP dates are exact
URL = "https://api.telnyx.com/v2/messages"


def _headers(**values: str) -> CIMultiDict[str]:
    return CIMultiDict({name.replace("_", "-"): value for name, value in values.items()})


def _http_date(at: float) -> str:
    return formatdate(at, usegmt=True)


def _status_error(status: int, **headers: str) -> APIStatusError:
    response = Response(status, _headers(**headers), b"", "POST", URL)
    return error_from_response(response)


# --- is_retryable_status ----------------------------------------------------------------


def test_the_retryable_statuses_are_the_documented_ones() -> None:
    """Exactly 408, 409, 429, 500, 502, 503 and 504 are retried on their own."""
    assert frozenset({408, 409, 429, 500, 502, 503, 504}) == RETRYABLE_STATUSES


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504])
def test_retryable_statuses(status: int) -> None:
    """A transient status is worth another attempt."""
    assert is_retryable_status(status, _headers())


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 418, 422, 451, 501, 505])
def test_final_statuses(status: int) -> None:
    """Other 4xx (and 5xx that will not change on their own) are final."""
    assert not is_retryable_status(status, _headers())


def test_a_409_for_an_opted_out_recipient_is_final() -> None:
    """409 with Telnyx's 40300 (blocked by the recipient's STOP) is final; other 409s are not."""
    assert not is_retryable_status(409, _headers(), ("40300",))
    assert not is_retryable_status(409, _headers(), ("10015", "40300"))
    assert is_retryable_status(409, _headers(), ("10015",))
    assert is_retryable_status(409, _headers(), ())
    assert is_retryable_status(503, _headers(), ("40300",))  # the rule is for 409 alone


@pytest.mark.parametrize("status", [400, 403, 404, 422, 429, 503])
@pytest.mark.parametrize(("should_retry", "expected"), [("true", True), ("false", False)])
def test_x_should_retry_overrides_the_status(
    status: int, should_retry: str, expected: bool
) -> None:
    """``x-should-retry: true|false`` decides, whatever the status says."""
    assert is_retryable_status(status, _headers(x_should_retry=should_retry)) is expected


@pytest.mark.parametrize("status", [400, 503])
@pytest.mark.parametrize("should_retry", ["", "yes", "1", "maybe"])
def test_unknown_x_should_retry_values_leave_it_to_the_status(
    status: int, should_retry: str
) -> None:
    """An ``x-should-retry`` that is neither true nor false is ignored."""
    headers = _headers(x_should_retry=should_retry)
    assert is_retryable_status(status, headers) is (status in RETRYABLE_STATUSES)


# --- is_retryable -----------------------------------------------------------------------


@pytest.mark.parametrize("cls", [APIConnectionError, APITimeoutError])
def test_no_answer_is_retryable(cls: type[APIConnectionError]) -> None:
    """Connection failures and timeouts are retried."""
    assert is_retryable(cls("gone", method="POST", url=URL))


@pytest.mark.parametrize(
    "exc",
    [
        pytest.param(APIResponseValidationError("html", method="GET", url=URL), id="bad-2xx"),
        pytest.param(APIError("base", method="GET", url=URL), id="plain-api-error"),
        pytest.param(ValueError("not ours"), id="foreign"),
        pytest.param(TimeoutError("not ours either"), id="builtin-timeout"),
    ],
)
def test_other_failures_are_not_retryable(exc: BaseException) -> None:
    """An unreadable 2xx answer, and anything that is not an SDK network error, is final."""
    assert not is_retryable(exc)


@pytest.mark.parametrize(
    ("status", "headers", "expected"),
    [
        (503, {}, True),
        (404, {}, False),
        (400, {"x_should_retry": "true"}, True),
        (503, {"x_should_retry": "false"}, False),
    ],
)
def test_status_errors_follow_the_status_policy(
    status: int, headers: dict[str, str], expected: bool
) -> None:
    """For an error answer, is_retryable applies is_retryable_status to its status and headers."""
    assert is_retryable(_status_error(status, **headers)) is expected


# --- server_wait ------------------------------------------------------------------------


def test_server_wait_reads_the_error_headers() -> None:
    """The wait comes from the error's own headers."""
    assert server_wait(_status_error(503, retry_after="4")) == 4.0
    assert server_wait(_status_error(429, retry_after_ms="250")) == 0.25


def test_server_wait_is_none_without_an_answer_or_a_header() -> None:
    """No answer, or an answer without a wait, asks for nothing (our backoff applies)."""
    assert server_wait(APIConnectionError("reset", method="POST", url=URL)) is None
    assert server_wait(APITimeoutError("slow", method="POST", url=URL)) is None
    assert server_wait(_status_error(503)) is None


def test_rate_limit_error_carries_the_wait() -> None:
    """A 429 becomes RateLimitError with retry_after taken from the same headers."""
    exc = _status_error(429, retry_after="3")
    assert isinstance(exc, RateLimitError)
    assert exc.retry_after == 3.0
    assert isinstance(_status_error(503, retry_after="3"), InternalServerError)


# --- backoff_seconds --------------------------------------------------------------------


@pytest.mark.parametrize("failed_attempt", [1, 2, 3, 4, 5, 6, 10, 64, 1000])
def test_backoff_bounds(failed_attempt: int) -> None:
    """Backoff is the exponential base plus up to JITTER, the base capped at MAX_BACKOFF."""
    base = min(MAX_BACKOFF, INITIAL_BACKOFF * 2 ** (failed_attempt - 1))
    for _ in range(200):
        wait = backoff_seconds(failed_attempt)
        assert base <= wait <= base + JITTER
        assert wait <= MAX_BACKOFF + JITTER


@pytest.mark.parametrize("failed_attempt", [1, 2, 3, 4])
def test_backoff_grows(failed_attempt: int) -> None:
    """Until the cap, every wait after attempt n+1 is at least any wait after attempt n."""
    shortest_next = min(backoff_seconds(failed_attempt + 1) for _ in range(200))
    longest = max(backoff_seconds(failed_attempt) for _ in range(200))
    assert shortest_next >= longest


def test_backoff_is_jittered() -> None:
    """Waits differ from call to call, so a fan-out's retries do not return in lockstep."""
    assert len({backoff_seconds(1) for _ in range(50)}) > 40


@pytest.mark.parametrize("failed_attempt", [0, -1, -1000])
def test_backoff_is_never_negative(failed_attempt: int) -> None:
    """Even a nonsensical attempt number gives a wait of at least zero."""
    assert 0 <= backoff_seconds(failed_attempt) <= INITIAL_BACKOFF + JITTER


@pytest.mark.parametrize("failed_attempt", [1026, 10**6])
def test_backoff_is_capped_for_any_attempt_number(failed_attempt: int) -> None:
    """Any attempt number, however large (max_retries is unbounded), waits at most the cap."""
    assert MAX_BACKOFF <= backoff_seconds(failed_attempt) <= MAX_BACKOFF + JITTER


# --- retry_after_seconds ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param({"retry-after-ms": "1500"}, 1.5, id="ms"),
        pytest.param({"retry-after-ms": "0"}, 0.0, id="ms-zero"),
        pytest.param({"Retry-After-Ms": "20.5"}, 0.0205, id="ms-fractional-any-case"),
        pytest.param({"Retry-After": "7"}, 7.0, id="seconds"),
        pytest.param({"retry-after": "1.5"}, 1.5, id="fractional-seconds"),
        pytest.param({"retry-after": " 3 "}, 3.0, id="seconds-padded"),
        pytest.param({"Retry-After": _http_date(NOW + 30)}, 30.0, id="http-date"),
        pytest.param({"Retry-After": "Thu, 01 Jan 2026 00:02:00 GMT"}, 120.0, id="literal-date"),
        pytest.param({"x-ratelimit-reset": "30"}, 30.0, id="reset-seconds"),
        pytest.param({"X-RateLimit-Reset": "0"}, 0.0, id="reset-now"),
        pytest.param({"x-ratelimit-reset": str(int(NOW) + 20)}, 20.0, id="reset-unix-time"),
        pytest.param({}, None, id="absent"),
        pytest.param({"x-request-id": "r1"}, None, id="unrelated-headers"),
    ],
)
def test_retry_after(headers: dict[str, str], expected: float | None) -> None:
    """Each way the server states a wait becomes seconds from now."""
    assert retry_after_seconds(CIMultiDict(headers), now=NOW) == expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param({"retry-after-ms": "250", "retry-after": "9"}, 0.25, id="ms-over-seconds"),
        pytest.param(
            {"retry-after-ms": "250", "retry-after": _http_date(NOW + 9)}, 0.25, id="ms-over-date"
        ),
        pytest.param({"retry-after": "2", "x-ratelimit-reset": "9"}, 2.0, id="seconds-over-reset"),
        pytest.param(
            {"retry-after": _http_date(NOW + 5), "x-ratelimit-reset": "9"},
            5.0,
            id="date-over-reset",
        ),
        pytest.param({"retry-after-ms": "soon", "retry-after": "3"}, 3.0, id="bad-ms-falls-back"),
        pytest.param(
            {"retry-after-ms": "-5", "retry-after": "3"}, 3.0, id="negative-ms-falls-back"
        ),
        pytest.param(
            {"retry-after": "later", "x-ratelimit-reset": "4"}, 4.0, id="bad-date-to-reset"
        ),
        pytest.param({"retry-after": "nan", "x-ratelimit-reset": "4"}, 4.0, id="nan-to-reset"),
    ],
)
def test_retry_after_precedence(headers: dict[str, str], expected: float) -> None:
    """retry-after-ms wins over Retry-After, which wins over x-ratelimit-reset; bad ones skip."""
    assert retry_after_seconds(CIMultiDict(headers), now=NOW) == expected


GARBAGE = ["", "soon", "-1", "-0.5", "nan", "NaN", "-inf", "1,5", "0x10", "Wed, 99 Foo 2026 25:61"]


@pytest.mark.parametrize("name", ["retry-after-ms", "retry-after", "x-ratelimit-reset"])
@pytest.mark.parametrize("value", GARBAGE)
def test_garbage_waits_are_ignored(name: str, value: str) -> None:
    """A value that is not a usable number of seconds (or date) asks for no wait at all."""
    assert retry_after_seconds(CIMultiDict({name: value}), now=NOW) is None


@pytest.mark.parametrize("name", ["retry-after-ms", "retry-after", "x-ratelimit-reset"])
@pytest.mark.parametrize("value", ["inf", "Infinity"])
def test_infinite_waits_are_ignored(name: str, value: str) -> None:
    """An infinite wait is garbage too: it must not become a wait the client could sleep."""
    assert retry_after_seconds(CIMultiDict({name: value}), now=NOW) is None


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"Retry-After": _http_date(NOW - 3600)}, id="date-an-hour-ago"),
        pytest.param({"Retry-After": _http_date(NOW)}, id="date-now"),
        pytest.param({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, id="date-years-ago"),
        pytest.param({"x-ratelimit-reset": str(int(NOW) - 60)}, id="reset-a-minute-ago"),
    ],
)
def test_moments_in_the_past_mean_retry_now(headers: dict[str, str]) -> None:
    """A reset moment already passed is a wait of zero, never negative."""
    assert retry_after_seconds(CIMultiDict(headers), now=NOW) == 0.0


def test_retry_after_defaults_now_to_the_clock() -> None:
    """Without now=, dates are measured from the current time."""
    far = _http_date(4_102_444_800)  # 2100-01-01
    wait = retry_after_seconds(CIMultiDict({"Retry-After": far}))
    assert wait is not None
    assert wait > 60 * 60 * 24 * 365


# --- the numbers docs/resilience.md promises --------------------------------------------


@pytest.mark.parametrize(
    ("failed_attempt", "shortest", "longest"),
    [(1, 0.5, 1.0), (2, 1.0, 1.5), (3, 2.0, 2.5), (4, 4.0, 4.5), (5, 8.0, 8.5), (6, 8.0, 8.5)],
)
def test_backoff_follows_the_documented_table(
    failed_attempt: int, shortest: float, longest: float
) -> None:
    """0.5 s after the first failure, doubling, capped at 8 s, plus 0 to 0.5 s of jitter."""
    waits = [backoff_seconds(failed_attempt) for _ in range(300)]
    assert all(shortest <= wait <= longest for wait in waits)
    # The jitter spans its whole range: some waits near each end.
    assert min(waits) < shortest + 0.1
    assert max(waits) > longest - 0.1


@pytest.mark.parametrize("failed_attempt", [7, 8, 33, 34, 100])
def test_the_backoff_cap_is_8_seconds(failed_attempt: int) -> None:
    """However many attempts failed, our own wait never passes 8.5 s (8 s plus jitter)."""
    waits = [backoff_seconds(failed_attempt) for _ in range(100)]
    assert all(8.0 <= wait <= 8.5 for wait in waits)


# --- maybe_processed_status: what outcome_unknown is built on ----------------------------


@pytest.mark.parametrize(
    ("status", "maybe"),
    [
        pytest.param(200, True, id="2xx-accepted"),
        pytest.param(399, True, id="below-400"),
        pytest.param(400, False, id="400-refused"),
        pytest.param(404, False, id="404-refused"),
        pytest.param(429, False, id="429-refused"),
        pytest.param(499, False, id="499-refused"),
        pytest.param(500, True, id="500-may-have-acted"),
        pytest.param(502, True, id="502-may-have-acted"),
        pytest.param(503, False, id="503-not-taking-requests"),
        pytest.param(504, True, id="504-may-have-acted"),
        pytest.param(599, True, id="599-may-have-acted"),
    ],
)
def test_which_answers_may_have_been_acted_on(status: int, maybe: bool) -> None:
    """A 4xx and a 503 say Telnyx did not act; 500, 502, 504 (any other 5xx) do not say."""
    assert maybe_processed_status(status) is maybe


# --- retry_after_seconds: the edges of what a wait may look like --------------------------


@pytest.mark.parametrize("name", ["retry-after-ms", "retry-after", "x-ratelimit-reset"])
@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        pytest.param(" 5", 5.0, id="leading-space"),
        pytest.param("5 ", 5.0, id="trailing-space"),
        pytest.param("\t5\t", 5.0, id="tabs"),
        pytest.param(" \t 5 \t ", 5.0, id="spaces-and-tabs"),
    ],
)
def test_spaces_and_tabs_around_a_wait_are_allowed(name: str, value: str, seconds: float) -> None:
    """Optional whitespace (RFC 9110 5.5: spaces and tabs) around a value is not part of it."""
    expected = seconds / 1000 if name == "retry-after-ms" else seconds
    assert retry_after_seconds(CIMultiDict({name: value}), now=NOW) == expected


@pytest.mark.parametrize("name", ["retry-after-ms", "retry-after", "x-ratelimit-reset"])
@pytest.mark.parametrize(
    "value",
    [
        pytest.param("5\n", id="newline"),
        pytest.param("\r5", id="carriage-return"),
        pytest.param("\x0b5", id="vertical-tab"),
        pytest.param("\xa05", id="no-break-space"),
        pytest.param("5 5", id="inner-space"),
        pytest.param("5s", id="unit"),
        pytest.param("X5", id="letter-before"),
        pytest.param("5X", id="letter-after"),
        pytest.param(".5", id="no-integer-part"),
        pytest.param("5.", id="no-fraction-digits"),
        pytest.param("+5", id="plus-sign"),
        pytest.param("1e3", id="exponent"),
    ],
)
def test_other_characters_make_a_wait_garbage(name: str, value: str) -> None:
    """Only spaces and tabs are trimmed; anything else around or inside the digits is garbage."""
    assert retry_after_seconds(CIMultiDict({name: value}), now=NOW) is None


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param({"retry-after": "86400"}, 86400.0, id="a-day"),
        pytest.param({"retry-after": "999999999999"}, 999999999999.0, id="12-digits"),
        pytest.param({"retry-after-ms": "999999999999"}, 999999999.999, id="ms-12-digits"),
        pytest.param({"retry-after": "1.123456789"}, 1.123456789, id="9-fraction-digits"),
        pytest.param({"retry-after": "1000000000"}, 1_000_000_000.0, id="1e9-is-seconds"),
        pytest.param({"x-ratelimit-reset": "1000000000"}, 1_000_000_000.0, id="reset-1e9-seconds"),
        pytest.param({"x-ratelimit-reset": "1000000001"}, 0.0, id="reset-past-1e9-is-a-moment"),
        pytest.param({"x-ratelimit-reset": str(int(NOW) + 90)}, 90.0, id="reset-moment-ahead"),
        pytest.param({"x-ratelimit-reset": f"{NOW + 2.5}"}, 2.5, id="reset-fractional-moment"),
    ],
)
def test_long_waits_are_used_as_given(headers: dict[str, str], expected: float) -> None:
    """The server's wait has no cap of ours (the budget bounds the call), up to 12 digits."""
    assert retry_after_seconds(CIMultiDict(headers), now=NOW) == pytest.approx(expected)


@pytest.mark.parametrize("name", ["retry-after-ms", "retry-after", "x-ratelimit-reset"])
@pytest.mark.parametrize(
    "value",
    [
        pytest.param("9999999999999", id="13-digits"),
        pytest.param("1.1234567891", id="10-fraction-digits"),
        pytest.param("9" * 400, id="400-digits"),
    ],
)
def test_over_long_waits_are_garbage(name: str, value: str) -> None:
    """More than 12 digits (31,000 years) or 9 decimals is not a wait any server means."""
    assert retry_after_seconds(CIMultiDict({name: value}), now=NOW) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("Thu, 01 Jan 2026 00:00:30 -0000", 30.0, id="minus-0000-is-utc"),
        pytest.param("Thu, 01 Jan 2026 00:00:30 +0000", 30.0, id="plus-0000"),
        pytest.param("Thu, 01 Jan 2026 01:00:30 +0100", 30.0, id="an-offset"),
        pytest.param("Thu, 01 Jan 2026 00:00:30 GMT", 30.0, id="gmt"),
    ],
)
def test_http_dates_are_read_in_utc(value: str, expected: float) -> None:
    """A date with a zone, or -0000, means that instant, whatever this machine's zone is."""
    assert retry_after_seconds(CIMultiDict({"Retry-After": value}), now=NOW) == expected


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("Thu, 01 Jan 2026 00:00:30 GMT\u00a0", id="no-break-space"),
        pytest.param("Thu, 0\u0661 Jan 2026 00:00:30 GMT", id="arabic-digit"),
        pytest.param("Thu, 01 Jan 99999 00:00:30 GMT", id="year-out-of-range"),
    ],
)
def test_dates_that_are_not_http_dates_are_garbage(value: str) -> None:
    """Non-ASCII text, or a date Python cannot represent, asks for no wait."""
    assert retry_after_seconds(CIMultiDict({"Retry-After": value}), now=NOW) is None


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param({"retry-after-ms": "250"}, 0.25, id="retry-after-ms"),
        pytest.param({"retry-after": "4"}, 4.0, id="retry-after"),
        pytest.param({"retry-after": _http_date(NOW + 6)}, 6.0, id="retry-after-date"),
        pytest.param({"x-ratelimit-reset": "8"}, 8.0, id="x-ratelimit-reset"),
    ],
)
def test_the_policy_reads_lower_case_names(headers: dict[str, str], expected: float) -> None:
    """On a plain mapping the policy looks names up in lower case; the transport seam makes any
    spelling match them (tests/client/test_retry_answer_headers.py)."""
    assert retry_after_seconds(headers, now=NOW) == expected


def test_x_should_retry_is_read_in_lower_case() -> None:
    """``x-should-retry`` on a plain mapping decides as it does on aiohttp's headers."""
    assert is_retryable_status(400, {"x-should-retry": "true"})
    assert not is_retryable_status(503, {"x-should-retry": "false"})


@pytest.fixture
def _local_time_five_hours_behind_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "EST+5")  # POSIX: needs no zone database
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("_local_time_five_hours_behind_utc")
@pytest.mark.parametrize(
    "value",
    [
        "Thu, 01 Jan 2026 00:00:30 -0000",
        "Thu, 01 Jan 2026 00:00:30 GMT",
        "Wed, 31 Dec 2025 19:00:30 -0500",
    ],
)
def test_http_dates_ignore_the_local_time_zone(value: str) -> None:
    """On a machine whose clock reads New York time, a date 30 s ahead is still 30 s ahead."""
    assert retry_after_seconds(CIMultiDict({"Retry-After": value}), now=NOW) == 30.0


def test_instant_retries_nest() -> None:
    """Leaving an inner set_instant_retries block restores the outer setting, on or off."""
    with set_instant_retries(True):
        with set_instant_retries(False):
            assert wait_to_sleep(2.5) == 2.5
        assert wait_to_sleep(2.5) == 0.0
    with set_instant_retries(False):
        with set_instant_retries(True):
            assert wait_to_sleep(2.5) == 0.0
        assert wait_to_sleep(2.5) == 2.5
