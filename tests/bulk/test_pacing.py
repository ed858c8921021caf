"""send_many's pacing against FakeTelnyx's rate limits: a 429 slows the run and costs no row an
attempt, Telnyx's other signals slow the sender, limits learned, and the pacing units on a
virtual clock (budgets, pauses, the bucket cap).

Runs against the fake use real waits and assert counts and ratios with margins, never tight
times: a loaded CI box only makes them slower.
"""

from __future__ import annotations

import asyncio
import collections
import math
from collections.abc import AsyncIterator, Iterator
from typing import Any

import attrs
import pytest
from pacing_doubles import VirtualTime, refusal

from telnyx_messaging import (
    AsyncClient,
    InvalidArgumentError,
    MemoryBudget,
    MockTransport,
    PacingBudget,
    PacingProfile,
    PauseTooLongError,
    RateLimitError,
    Request,
    Response,
    SendResult,
    set_instant_retries,
)
from telnyx_messaging._bulk import PROFILES
from telnyx_messaging._bulk._pacing import Pacer, PauseGate
from telnyx_messaging.testing import FakeTelnyx, RateLimits
from telnyx_messaging.testing._faults import Respond

TOLL_FREE = "+18885550100"


@pytest.fixture
def real_waits() -> Iterator[None]:
    """Holds after a 429 really wait (the suite makes them instant)."""
    with set_instant_retries(False):
        yield


def rows(count: int, senders: tuple[str, ...] = (TOLL_FREE,), **extra: Any) -> list[dict[str, Any]]:
    return [
        {"to": f"+1312{n:07d}", "from_": senders[n % len(senders)], "text": f"hi {n}", **extra}
        for n in range(count)
    ]


async def collect(run: Any) -> list[SendResult]:
    return [result async for result in run]


@pytest.fixture
async def limited() -> AsyncIterator[FakeTelnyx]:
    """Telnyx's account limit and a toll-free number's."""
    async with FakeTelnyx(
        rate_limits=RateLimits(account_per_second=50, per_sender_per_second=20)
    ) as fake:
        yield fake


def client_of(fake: FakeTelnyx) -> AsyncClient:
    return AsyncClient(api_key=fake.api_key, base_url=fake.base_url)


def posts(fake: FakeTelnyx) -> int:
    return sum(1 for r in fake.requests if r.method == "POST")


# -- at Telnyx's limits, with default settings ------------------------------------------------


@pytest.mark.usefixtures("real_waits")
async def test_at_a_senders_limit_no_row_fails_and_few_requests_are_refused(
    limited: FakeTelnyx,
) -> None:
    """60 rows from one sender limited to 20 a second, no pacing option: every row is sent,
    at most 1.15 requests per row, and each row's one attempt is its only counted one."""
    async with client_of(limited) as client, client.messages.send_many(rows(60)) as run:
        results = await collect(run)
    assert all(r.ok for r in results)
    assert all(r.attempts == 1 for r in results)
    assert posts(limited) <= 60 * 1.15
    assert run.pacing.requests == posts(limited) == run.stats.attempts
    assert run.pacing.refused == posts(limited) - 60
    pace = run.pacing.rates[f"sender:{TOLL_FREE}"]
    assert pace.rate is not None
    assert 15 <= pace.rate <= 20  # settled just under the limit the 429 named
    assert pace.reason == "429, x-ratelimit-limit 20"


@pytest.mark.usefixtures("real_waits")
async def test_senders_limited_separately_go_side_by_side() -> None:
    """Four senders at 2 a second each, 6 rows each: every row sent, at most two refusals per
    sender (its limit is learned from the first), and the senders are paced apart: together
    they finish well before one shared 2-a-second pace could (12 s)."""
    senders = tuple(f"+1312555{1000 + n:04d}" for n in range(4))
    limits = RateLimits(account_per_second=50, per_sender_per_second=2)
    async with FakeTelnyx(rate_limits=limits) as fake:
        async with client_of(fake) as client, client.messages.send_many(rows(24, senders)) as run:
            results = await collect(run)
        assert all(r.ok for r in results)
        assert run.pacing.refused <= 2 * len(senders)
        assert len(fake.messages) == 24
    assert run.stats.elapsed < 12 * 0.75


async def test_a_429_costs_no_attempt(limited: FakeTelnyx) -> None:
    """With max_attempts=1 a row refused by a 429 is still sent later: backpressure is not a
    failure of the row."""
    limited.rate_limits = RateLimits(per_sender_per_second=3)
    async with (
        client_of(limited) as client,
        client.messages.send_many(rows(12), max_attempts=1, pacing="unpaced") as run,
    ):
        results = await collect(run)
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    assert run.pacing.refused >= 1  # unpaced, the first second went over
    assert len(limited.messages) == 12


@pytest.mark.usefixtures("real_waits")
async def test_a_limit_lowered_halfway_is_followed(limited: FakeTelnyx) -> None:
    """The sender's limit drops from 20 to 5 a second halfway: every row is still sent, a few
    more requests are refused, and the sender's pace ends under the new limit."""
    async with client_of(limited) as client, client.messages.send_many(rows(50)) as run:
        results = []
        async for result in run:
            results.append(result)
            if len(results) == 25:
                limited.rate_limits = RateLimits(account_per_second=50, per_sender_per_second=5)
    assert all(r.ok for r in results)
    assert posts(limited) <= 50 * 1.2
    pace = run.pacing.rates[f"sender:{TOLL_FREE}"]
    assert pace.rate is not None
    assert pace.rate <= 5
    assert pace.reason == "429, x-ratelimit-limit 5"


# -- Telnyx's other signals ------------------------------------------------------------------


async def test_a_rising_wait_seconds_slows_the_sender() -> None:
    """A sender whose queue drains 10 a second: the answers' wait_seconds grow while the run
    sends faster, and the sender is slowed, not failed."""
    async with (
        FakeTelnyx(rate_limits=RateLimits(sender_throughput=10)) as fake,
        client_of(fake) as client,
        client.messages.send_many(rows(80)) as run,
    ):
        results = await collect(run)
    assert all(r.ok for r in results)
    reasons = [c.reason for c in run.pacing.changes if c.scope == f"sender:{TOLL_FREE}"]
    assert any(r.startswith("wait_seconds ") and r.endswith(" and rising") for r in reasons)
    pace = run.pacing.rates[f"sender:{TOLL_FREE}"].rate
    assert pace is not None
    assert pace < 47.5 * 0.75
    assert run.pacing.refused == 0


@pytest.mark.parametrize("code", ["40318", "40011"])
async def test_a_full_queue_slows_the_sender_and_its_row_is_sent_later(code: str) -> None:
    """40318 (the sender's queue is full) or 40011 is not retried as a network fault: the
    row is held back, costs no attempt (max_attempts=1), and the sender is slowed."""
    async with FakeTelnyx() as fake:
        error = {"errors": [{"code": code, "title": "Message queue full", "detail": "slower"}]}
        fake.fail_next(Respond(400, json=error), method="POST")
        async with (
            client_of(fake) as client,
            client.messages.send_many(rows(5), max_attempts=1) as run,
        ):
            results = await collect(run)
        assert all(r.ok for r in results)
        assert len(fake.messages) == 5
    assert run.pacing.refused == 1
    assert run.pacing.rates[f"sender:{TOLL_FREE}"].reason == code


async def test_the_fakes_full_queue_is_40318_and_the_run_copes() -> None:
    """The fake's sender queue (2 a second, 3 waiting at most) refuses with 40318 past it;
    the run slows that sender and still sends every row once."""
    limits = RateLimits(sender_throughput=2, sender_queue=3)
    async with FakeTelnyx(rate_limits=limits) as fake:
        async with (
            client_of(fake) as client,
            client.messages.send_many(rows(8), max_attempts=1) as run,
        ):
            results = await collect(run)
        assert all(r.ok for r in results)
        assert len(fake.messages) == 8
    assert run.pacing.refused >= 1
    assert any(c.reason == "40318" for c in run.pacing.changes)


# -- bounds on waits ---------------------------------------------------------------------------


async def test_a_429_asking_for_a_day_ends_the_run_naming_the_wait() -> None:
    """Retry-After: 86400 is past the default max_pause (300 s): the run ends with
    PauseTooLongError naming the wait, at once, and the rows not sent are listed."""
    async with FakeTelnyx() as fake:
        error = {"errors": [{"code": "10011", "title": "Too many requests"}]}
        fake.fail_next(Respond(429, json=error, headers={"Retry-After": "86400"}), method="POST")
        async with (
            client_of(fake) as client,
            client.messages.send_many(rows(5), concurrency=1) as run,
        ):
            with pytest.raises(PauseTooLongError, match=r"wait 86400s.*max_pause=300s") as err:
                await asyncio.wait_for(collect(run), 30)
        assert err.value.wait == 86400
        assert err.value.max_pause == 300
        assert isinstance(err.value.__cause__, RateLimitError)
        assert len(fake.messages) == 0
    assert run.not_started == [0, 1, 2, 3, 4]


async def test_a_larger_max_pause_sits_the_wait_out() -> None:
    """With max_pause=86400 the same 429 is waited out (instantly, in this suite) and counted."""
    async with FakeTelnyx() as fake:
        error = {"errors": [{"code": "10011", "title": "Too many requests"}]}
        fake.fail_next(Respond(429, json=error, headers={"Retry-After": "86400"}), method="POST")
        async with (
            client_of(fake) as client,
            client.messages.send_many(rows(3), max_pause=86400) as run,
        ):
            results = await collect(run)
    assert all(r.ok for r in results)
    assert run.stats.pauses == 1


async def test_past_the_deadline_a_refused_row_fails_with_its_429() -> None:
    """A row refused for rate limits after the run's deadline fails with the 429 itself."""
    async with FakeTelnyx() as fake:
        error = {"errors": [{"code": "10011", "title": "Too many requests"}]}
        fake.fail_next(*[Respond(429, json=error)] * 3, method="POST")
        async with (
            client_of(fake) as client,
            client.messages.send_many(rows(1), deadline=0.001) as run,
        ):
            await asyncio.sleep(0.01)
            (result,) = await collect(run)
    assert not result.ok
    assert isinstance(result.error, RateLimitError)
    assert result.attempts == 0


# -- profiles and sender types -----------------------------------------------------------------


@pytest.mark.usefixtures("real_waits")
async def test_a_sender_type_given_is_paced_before_telnyx_objects(limited: FakeTelnyx) -> None:
    """sender_types says the number is toll-free: the run paces it at 95% of Telnyx's 20 a
    second from the first row, so no 429 comes back at all."""
    async with (
        client_of(limited) as client,
        client.messages.send_many(rows(45), sender_types={TOLL_FREE: "toll_free"}) as run,
    ):
        results = await collect(run)
    assert all(r.ok for r in results)
    assert run.pacing.refused == 0
    pace = run.pacing.rates[f"sender:{TOLL_FREE}"]
    assert pace.rate == pytest.approx(19.0)
    assert pace.reason == "profile: toll_free"


async def test_sender_types_lookup_asks_telnyx_once_per_sender() -> None:
    """sender_types="lookup": each sender's type comes from phone_numbers.messaging.retrieve,
    asked once per sender however many rows it sends."""
    async with FakeTelnyx() as fake:
        numbers = fake.phone_number_settings
        toll_free = next(n["phone_number"] for n in numbers if n["type"] == "tollfree")
        long_code = next(n["phone_number"] for n in numbers if n["type"] == "longcode")
        profile = PacingProfile(ten_dlc_per_minute=6000)
        async with (
            client_of(fake) as client,
            client.messages.send_many(
                rows(20, (toll_free, long_code)), sender_types="lookup", pacing=profile
            ) as run,
        ):
            assert all(r.ok for r in await collect(run))
        lookups = collections.Counter(r.path for r in fake.requests if r.method == "GET")
    assert sorted(lookups.values()) == [1, 1]
    rates = run.pacing.rates
    assert rates[f"sender:{toll_free}"].reason == "profile: toll_free"
    assert rates[f"sender:{long_code}"].reason == "profile: 10dlc"
    assert rates[f"sender:{long_code}"].rate == pytest.approx(6000 / 60 * 0.95)


async def test_a_sender_that_cannot_be_looked_up_is_paced_by_telnyxs_answers() -> None:
    """A lookup that fails (an unknown number: 404) leaves the type unknown; the rows go."""
    async with (
        FakeTelnyx() as fake,
        client_of(fake) as client,
        client.messages.send_many(rows(2), sender_types="lookup") as run,
    ):
        assert all(r.ok for r in await collect(run))
    assert run.pacing.rates[f"sender:{TOLL_FREE}"].reason == "profile: sender type unknown"


async def test_alphanumeric_and_short_code_senders_are_known_by_their_form() -> None:
    """'ACME' is an alphanumeric sender ID and '12345' a short code, with no lookup."""
    pacer = Pacer(profile=PROFILES["telnyx"])
    await pacer.wait_turn("12345", "sms")
    await pacer.wait_turn("ACME", "sms")
    rates = pacer.snapshot().rates
    assert rates["sender:12345"].rate == pytest.approx(1000 * 0.95)
    assert rates["sender:ACME"].reason == "profile: alphanumeric"


async def test_mms_take_from_the_accounts_mms_budget() -> None:
    """Rows with media_urls are MMS: paced by the account's 15 a second, SMS by its 50."""
    async with FakeTelnyx() as fake:
        mixed = rows(4) + rows(2, media_urls=["https://example.com/a.jpg"])
        async with client_of(fake) as client, client.messages.send_many(mixed) as run:
            assert all(r.ok for r in await collect(run))
    rates = run.pacing.rates
    assert rates["account:mms"].rate == pytest.approx(15 * 0.95)
    assert rates["account:sms"].rate == pytest.approx(50 * 0.95)


async def test_a_ten_dlc_daily_cap_stops_the_run_when_reached() -> None:
    """ten_dlc_daily_cap=3: three 10DLC rows go, then the run stops with PauseTooLongError
    (the next may go tomorrow) and the rest are not started."""
    sender = "+13125550100"
    profile = PacingProfile(ten_dlc_daily_cap=3)
    async with FakeTelnyx() as fake:
        async with (
            client_of(fake) as client,
            client.messages.send_many(
                rows(6, (sender,)),
                concurrency=1,
                pacing=profile,
                sender_types={sender: "longcode"},
            ) as run,
        ):
            with pytest.raises(PauseTooLongError, match="10DLC daily cap of 3"):
                await collect(run)
        assert len(fake.messages) == 3
    assert run.not_started == [3, 4, 5]


# -- bad input: refused before anything is sent -------------------------------------------------


def _counting_client() -> tuple[AsyncClient, list[Request]]:
    seen: list[Request] = []

    def handler(request: Request) -> Response:
        seen.append(request)  # pragma: no cover - nothing may be sent
        return request.respond(500)  # pragma: no cover

    return AsyncClient(api_key="KEY_test", transport=MockTransport(handler)), seen


@pytest.mark.parametrize(
    ("keywords", "fix"),
    [
        ({"rate": -1}, r"rate must be a positive number of messages a second.*rate=50"),
        ({"rate": math.inf}, "rate must be a positive number"),
        ({"rate": math.nan}, "at least one an hour"),
        ({"rate": 1e-300}, r"at least one an hour \(1/3600\)"),
        ({"per_sender_rate": 0}, "per_sender_rate=1/60 for one a minute"),
        ({"rate": "50"}, "rate must be a positive number"),
        ({"pacing": "fastest"}, "one of the profile names 'telnyx', 'unpaced'"),
        ({"sender_types": {TOLL_FREE: "fax"}}, "sender_types.*must be one of 'long_code'"),
        ({"sender_types": "ask"}, "or is 'lookup'"),
        ({"max_pause": -1}, "max_pause must be a number of seconds >= 0"),
        ({"max_pause": math.inf}, "max_pause must be a number of seconds"),
        ({"budget": object()}, "budget must be a PacingBudget"),
        ({"deadline": 0}, "deadline must be a positive number of seconds"),
    ],
)
async def test_bad_pacing_input_is_refused_and_nothing_is_sent(
    keywords: dict[str, Any], fix: str
) -> None:
    """Each bad value is an InvalidArgumentError saying what to write; no request leaves."""
    client, seen = _counting_client()
    async with client:
        with pytest.raises(InvalidArgumentError, match=fix):
            client.messages.send_many(rows(3), **keywords)
    assert seen == []


@pytest.mark.parametrize(
    "field", ["sms", "mms", "long_code", "toll_free", "short_code", "alphanumeric"]
)
@pytest.mark.parametrize("value", [0, -5, math.inf, math.nan, 1 / 7200, True])
def test_a_profile_refuses_rates_that_are_not_rates(field: str, value: float) -> None:
    """A profile's rates are finite and at least one an hour."""
    keywords: dict[str, Any] = {field: value}
    with pytest.raises(InvalidArgumentError, match=rf"PacingProfile\({field}=\.\.\.\)"):
        PacingProfile(**keywords)


@pytest.mark.parametrize(
    ("keywords", "fix"),
    [
        ({"ten_dlc_per_minute": 1 / 120}, "messages a minute, at least one an hour"),
        ({"ten_dlc_per_minute": math.inf}, "ten_dlc_per_minute"),
        ({"ten_dlc_daily_cap": 0}, "whole number of messages a day >= 1"),
        ({"ten_dlc_daily_cap": 2.5}, "whole number of messages a day"),
    ],
)
def test_a_profile_refuses_bad_ten_dlc_figures(keywords: dict[str, Any], fix: str) -> None:
    """10DLC throughput is messages a minute (>= one an hour); the cap a whole number."""
    with pytest.raises(InvalidArgumentError, match=fix):
        PacingProfile(**keywords)


def test_the_telnyx_profile_holds_telnyxs_published_figures() -> None:
    """The defaults docs/bulk.md promises: 50 SMS and 15 MMS a second per account; per sender
    toll-free 20, short code 1,000, long code (outside the US) and alphanumeric 0.1; 10DLC
    unset (the campaign's, which only the user knows)."""
    telnyx = PROFILES["telnyx"]
    assert attrs.asdict(telnyx) == {
        "sms": 50.0,
        "mms": 15.0,
        "long_code": 0.1,
        "toll_free": 20.0,
        "short_code": 1000.0,
        "alphanumeric": 0.1,
        "ten_dlc_per_minute": None,
        "ten_dlc_daily_cap": None,
    }
    assert telnyx == PacingProfile()
    assert all(v is None for k, v in attrs.asdict(PROFILES["unpaced"]).items())


# -- the seam: a budget of the caller's own ------------------------------------------------------


class RecordingBudget(MemoryBudget):
    """The in-process budget, noting each key taken and held."""

    def __init__(self) -> None:
        super().__init__()
        self.taken: collections.Counter[str] = collections.Counter()
        self.held: list[tuple[str, float]] = []
        self.rates: set[float] = set()

    async def take(self, key: str, rate: float) -> float:
        self.rates.add(rate)
        wait = await super().take(key, rate)
        if wait == 0:
            self.taken[key] += 1
        return wait

    async def hold(self, key: str, seconds: float) -> None:
        self.held.append((key, seconds))
        await super().hold(key, seconds)


async def test_a_budget_of_the_callers_own_is_used_for_every_turn_and_hold() -> None:
    """budget=...: each send takes from its sender's and its account's budget there, and a
    429's hold lands there too, so a budget shared by processes sees everything."""
    budget = RecordingBudget()
    assert isinstance(budget, PacingBudget)
    async with FakeTelnyx() as fake:
        error = {"errors": [{"code": "10011", "title": "Too many requests"}]}
        fake.fail_next(Respond(429, json=error, headers={"Retry-After": "2"}), method="POST")
        async with (
            client_of(fake) as client,
            client.messages.send_many(rows(4), budget=budget, rate=100) as run,
        ):
            assert all(r.ok for r in await collect(run))
    assert budget.taken["account:sms"] == budget.taken["run"] == 5  # one per request
    # Turns that had passed the sender's budget before the hold queue there again.
    assert budget.taken[f"sender:{TOLL_FREE}"] >= 5
    assert set(budget.taken) == {f"sender:{TOLL_FREE}", "account:sms", "run"}
    # A budget with no pace (this sender's type is unknown) still gets a finite rate.
    assert all(math.isfinite(rate) and rate > 0 for rate in budget.rates)
    assert budget.held == [(f"sender:{TOLL_FREE}", 0.0)]  # instant in this suite


# -- the units, on a virtual clock ---------------------------------------------------------------


async def test_per_sender_rate_is_a_budget_per_sender() -> None:
    """per_sender_rate=5, turns alternating between two senders: each sender's turns are a
    fifth of a second apart, and both senders go at the same instants, which one bucket
    shared by the senders could not do."""
    clock = VirtualTime(0.0)
    pacer = Pacer(profile=PROFILES["unpaced"], per_sender_rate=5, clock=clock, sleep=clock.sleep)
    times: dict[str, list[float]] = {"A": [], "B": []}
    for _ in range(5):
        for sender in ("A", "B"):
            turn = await pacer.wait_turn(sender, "sms")
            times[sender].append(turn.sent_at)
    # (The unpaced account budget spaces turns a microsecond apart.)
    assert times["A"] == pytest.approx([0.0, 0.2, 0.4, 0.6, 0.8], abs=1e-4)
    assert times["B"] == pytest.approx(times["A"], abs=1e-4)


async def test_several_pauses_are_counted_and_summed() -> None:
    """Three holds, two of them overlapping: two pauses, their seconds summed once each."""
    clock = VirtualTime(0.0)
    gate = PauseGate(clock)
    gate.pause(1.0)  # 0 - 1
    clock.now = 0.5
    gate.pause(1.0)  # overlaps: 0 - 1.5
    paused_then = gate.paused
    clock.now = 3.0
    assert (paused_then, gate.paused) == (True, False)
    assert gate.paused_seconds == pytest.approx(1.5)
    gate.pause(2.0)  # 3 - 5
    clock.now = 4.0
    assert gate.paused_seconds == pytest.approx(2.5)  # the running pause counted so far
    clock.now = 10.0
    assert gate.pauses == 2
    assert gate.paused_seconds == pytest.approx(3.5)


async def test_the_budget_keeps_at_most_4096_keys_but_never_one_still_metering() -> None:
    """docs/bulk.md: 4,096 budgets kept. Past that, keys with nothing left to meter are
    dropped, and one whose next send is still ahead keeps its place and its pace."""
    clock = VirtualTime(0.0)
    budget = MemoryBudget(clock=clock)
    assert await budget.take("sender:busy", 1 / 3600) == 0  # next one due in an hour
    for n in range(5000):
        assert await budget.take(f"sender:{n}", 1000) == 0
        clock.now += 0.01  # each one idle again by the next
    assert len(budget) <= 4096
    assert await budget.take("sender:busy", 1 / 3600) > 3500


async def test_the_budget_paces_and_holds_one_key_at_a_time() -> None:
    """take() gives a turn per interval and says how long until the next; hold() pushes the
    next turn out and never shortens an earlier hold; a late turn keeps its slot."""
    clock = VirtualTime(0.0)
    budget = MemoryBudget(clock=clock)
    assert await budget.take("k", 4) == 0
    assert await budget.take("k", 4) == pytest.approx(0.25)
    clock.now = 0.26  # a hair late: the next is due at 0.5, not 0.51
    assert await budget.take("k", 4) == 0
    clock.now = 0.49
    assert await budget.take("k", 4) == pytest.approx(0.01)
    await budget.hold("k", 5)
    await budget.hold("k", 1)
    assert await budget.take("k", 4) == pytest.approx(5)
    assert await budget.take("other", 4) == 0


async def test_the_pacer_forgets_idle_senders_past_4096() -> None:
    """A run over more distinct senders than it remembers keeps memory bounded: the paces
    and the sender types it read from their form, the latest kept."""
    clock = VirtualTime(0.0)
    pacer = Pacer(profile=PROFILES["telnyx"], clock=clock, sleep=clock.sleep)
    for n in range(4200):
        await pacer.wait_turn(f"ACME{n}", "sms")
        clock.now += 0.3  # long enough for the sender of a few turns ago to be idle
    senders = [key for key in pacer.snapshot().rates if key.startswith("sender:")]
    assert len(senders) <= 4096
    assert "sender:ACME4199" in senders
    assert pacer.snapshot().rates["sender:ACME4199"].reason == "profile: alphanumeric"
    assert "sender:ACME200" not in senders
    await pacer.wait_turn("ACME200", "sms")  # forgotten, back: its type is still known
    assert pacer.snapshot().rates["sender:ACME200"].reason == "profile: alphanumeric"


async def test_a_429_without_a_sender_slows_the_accounts_budget() -> None:
    """A number-pool send (no from_) refused: the account's budget is cut, to just under the
    limit named; a second 429 within the second naming a lower limit cuts again."""
    clock = VirtualTime(0.0)
    pacer = Pacer(profile=PROFILES["telnyx"], clock=clock, sleep=clock.sleep)
    turn = await pacer.wait_turn(None, "sms")
    clock.now += 0.01
    await pacer.pushed_back(turn, refusal("10011", headers={"x-ratelimit-limit": "30"}))
    assert pacer.snapshot().rates["account:sms"].rate == pytest.approx(28.5)
    turn = await pacer.wait_turn(None, "sms")
    clock.now += 0.01
    await pacer.pushed_back(turn, refusal("10011", headers={"X-RateLimit-Limit": "10"}))
    assert pacer.snapshot().rates["account:sms"].rate == pytest.approx(9.5)
    turn = await pacer.wait_turn(None, "sms")
    clock.now += 0.01
    # Within the second and naming nothing lower: the same event, no further cut.
    await pacer.pushed_back(turn, refusal("10011", headers={"x-ratelimit-limit": "lots"}))
    assert pacer.snapshot().rates["account:sms"].rate == pytest.approx(9.5)
    assert pacer.refusals == 3


async def test_a_cut_pace_ramps_back_to_its_ceiling_and_probes_past_a_learned_limit() -> None:
    """After a header-less cut the pace grows back a tenth of the cut pace a second, up to
    its ceiling; at a limit learned from a header it stays just under it until PROBE_AFTER
    quiet seconds, then tries past it."""
    clock = VirtualTime(0.0)
    pacer = Pacer(
        profile=PROFILES["telnyx"],
        sender_types={TOLL_FREE: "tollfree"},
        clock=clock,
        sleep=clock.sleep,
    )
    turn = await pacer.wait_turn(TOLL_FREE, "sms")
    clock.now += 0.01
    await pacer.pushed_back(turn, refusal("10011", headers={}))
    cut = pacer.snapshot().rates[f"sender:{TOLL_FREE}"].rate
    assert cut == pytest.approx(19 / 2)  # nothing went through: the deepest cut
    clock.now += 60
    await pacer.wait_turn(TOLL_FREE, "sms")
    ramped = pacer.snapshot().rates[f"sender:{TOLL_FREE}"]
    assert ramped.rate == pytest.approx(19)
    assert ramped.reason == "ramped up"

    turn = await pacer.wait_turn("ACME", "sms")  # profile: 0.1 a second
    clock.now += 30
    for _ in range(4):  # this sender's own sends reach the limit the 429 names: its own
        turn = await pacer.wait_turn("+15550001111", "sms")
    clock.now += 0.01
    await pacer.pushed_back(turn, refusal("10011", headers={"x-ratelimit-limit": "4"}))
    scope = pacer._scopes["sender:+15550001111"]
    assert scope.cap() == pytest.approx(3.8)
    clock.now += 31
    scope.pace(clock.now)
    assert scope.cap() is None  # the limit forgotten: the pace grows past it again


async def test_a_daily_cap_counts_only_ten_dlc_sends() -> None:
    """Toll-free and alphanumeric senders, and long codes outside the US, are not 10DLC."""
    pacer = Pacer(
        profile=PacingProfile(ten_dlc_daily_cap=1, long_code=None, alphanumeric=None),
        sender_types={"+447700900123": "long_code"},
    )
    for sender in ("ACME", "ACME", "+447700900123", "+447700900123"):
        await pacer.wait_turn(sender, "sms")
    assert pacer.requests == 4


async def test_a_hold_on_a_new_key_makes_room_too() -> None:
    """hold() on a key the budget has not seen keeps the 4,096 bound like take()."""
    clock = VirtualTime(0.0)
    budget = MemoryBudget(clock=clock)
    for n in range(4096):
        await budget.take(f"k{n}", 1000)
    clock.now += 1
    await budget.hold("new", 2)
    assert len(budget) == 1
    assert await budget.take("new", 1000) == pytest.approx(2)


async def test_pacing_before_the_run_starts_is_empty() -> None:
    """run.pacing on a run not entered yet: nothing spent, nothing planned."""
    client, _ = _counting_client()
    async with client:
        run = client.messages.send_many(rows(1))
        assert run.pacing.requests == run.pacing.refused == 0
        assert run.pacing.rates == {}


async def test_the_fake_meters_mms_apart_from_sms() -> None:
    """RateLimits(mms_per_second=1): the second MMS in a second is refused with the MMS
    limit named, while SMS still count against the account's own."""
    limits = RateLimits(account_per_second=5, mms_per_second=1)
    async with FakeTelnyx(rate_limits=limits) as fake, client_of(fake) as client:
        media = ["https://example.com/a.jpg"]
        await client.messages.send(to="+13125550001", from_=TOLL_FREE, media_urls=media)
        with pytest.raises(RateLimitError) as refused:
            await client.with_options(max_retries=0).messages.send(
                to="+13125550002", from_=TOLL_FREE, media_urls=media
            )
        assert refused.value.headers["x-ratelimit-limit"] == "1"
        sent = await client.messages.send(to="+13125550003", from_=TOLL_FREE, text="sms")
        assert sent.id


@pytest.mark.parametrize("value", [0, -1.0, math.inf, True, "10"])
def test_the_fakes_sender_throughput_is_a_positive_rate(value: Any) -> None:
    """RateLimits(sender_throughput=...) refuses what is not a rate."""
    with pytest.raises(InvalidArgumentError, match=r"sender_throughput=\.\.\.\) takes a positive"):
        RateLimits(sender_throughput=value)
