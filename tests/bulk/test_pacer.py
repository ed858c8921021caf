"""The Pacer on virtual time: what docs/bulk.md promises about pacing, turn by turn.

Each test drives a Pacer with a clock it moves itself and reads what a user can see: when each
turn left, the pace each budget is taken at (through a recording PacingBudget, the public
seam), the holds, the errors, and ``run.pacing`` (the snapshot). The numbers are the docs'
(95% of 20 is 19), never read from the module. No wall clock: fast, and the same on a loaded
CI box.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from pacing_doubles import VirtualTime, refusal

from telnyx_messaging import (
    InvalidArgumentError,
    MemoryBudget,
    PacingProfile,
    PauseTooLongError,
    set_instant_retries,
)
from telnyx_messaging._bulk import PROFILES
from telnyx_messaging._bulk._pacing import (
    Pacer,
    Turn,
    check_max_pause,
    is_backpressure,
    message_kind,
)

TOLL_FREE = "+18885550100"  # Telnyx: 20 a second, paced at 19
OTHER_TOLL_FREE = "+18885550199"
US_LONG_CODE = "+13125550100"  # 10DLC
UK_LONG_CODE = "+447700900123"  # a long code outside the US: 0.1 a second
#: What a budget with no pace is taken at (docs: "a microsecond apart").
UNPACED = 1_000_000.0


class RecordingBudget(MemoryBudget):
    """The in-process budget, noting the pace of every take and every hold."""

    def __init__(self, clock: VirtualTime) -> None:
        super().__init__(clock=clock)
        self.taken: list[tuple[str, float]] = []
        self.held: list[tuple[str, float]] = []

    async def take(self, key: str, rate: float) -> float:
        self.taken.append((key, rate))
        return await super().take(key, rate)

    async def hold(self, key: str, seconds: float) -> None:
        self.held.append((key, seconds))
        await super().hold(key, seconds)

    def pace(self, key: str) -> float:
        """The pace ``key`` was last taken at."""
        return next(rate for taken, rate in reversed(self.taken) if taken == key)


def pacer_on(
    clock: VirtualTime, profile: PacingProfile = PROFILES["telnyx"], **options: Any
) -> tuple[Pacer, RecordingBudget]:
    budget = RecordingBudget(clock)
    pacer = Pacer(profile=profile, budget=budget, clock=clock, sleep=clock.sleep, **options)
    return pacer, budget


def pace_of(pacer: Pacer, key: str) -> float | None:
    return pacer.snapshot().rates[key].rate


def reason_of(pacer: Pacer, key: str) -> str:
    return pacer.snapshot().rates[key].reason


@pytest.fixture
def real_waits() -> Iterator[None]:
    """Holds are what Telnyx asked (the suite makes them instant); the clock is virtual."""
    with set_instant_retries(False):
        yield


async def sends(pacer: Pacer, sender: str | None, count: int) -> list[Turn]:
    """``count`` turns from ``sender``, each answered (went through)."""
    turns = []
    for _ in range(count):
        turn = await pacer.wait_turn(sender, "sms")
        pacer.went_through(turn, None)
        turns.append(turn)
    return turns


# -- which budgets a send takes from, and what says "slower" -------------------------------


@pytest.mark.parametrize(
    ("via", "row", "kind"),
    [
        ("send", {"text": "x"}, "sms"),
        ("send", {"media_urls": ["https://e.com/a.jpg"]}, "mms"),
        ("send_long_code", {"type": "MMS"}, "mms"),
        ("send_group_mms", {"text": "x"}, "mms"),
        ("send_whatsapp", {}, "whatsapp"),
    ],
)
def test_message_kind(via: str, row: dict[str, Any], kind: str) -> None:
    """Which account budget a row takes from."""
    assert message_kind(via, row) == kind


def test_only_backpressure_is_backpressure() -> None:
    """429, 40318 and 40011 say "slower"; other failures do not."""
    assert is_backpressure(refusal("10011"))
    assert is_backpressure(refusal("40318", status=400))
    assert is_backpressure(refusal("40011", status=400))
    assert not is_backpressure(refusal("40310", status=400))
    assert not is_backpressure(ValueError("no"))


# -- planned paces ---------------------------------------------------------------------------


async def test_the_telnyx_profile_paces_each_budget_at_95_percent_of_telnyxs_figure() -> None:
    """docs/bulk.md's table, each figure at 95%: SMS 50, MMS 15, toll-free 20, short code
    1,000, alphanumeric 0.1, a long code outside the US 0.1; WhatsApp and a US long code
    without ten_dlc_per_minute have no planned pace (taken at a microsecond apart)."""
    clock = VirtualTime()
    types = {TOLL_FREE: "toll_free", UK_LONG_CODE: "long_code", US_LONG_CODE: "longcode"}
    pacer, budget = pacer_on(clock, sender_types=types)
    for sender in (TOLL_FREE, "12345", "ACME", UK_LONG_CODE, US_LONG_CODE):
        await pacer.wait_turn(sender, "sms")
    await pacer.wait_turn(None, "mms")
    await pacer.wait_turn(None, "whatsapp")
    expected = {
        f"sender:{TOLL_FREE}": (19.0, "profile: toll_free"),
        "sender:12345": (950.0, "profile: short_code"),
        "sender:ACME": (0.095, "profile: alphanumeric"),
        f"sender:{UK_LONG_CODE}": (0.095, "profile: long_code"),
        f"sender:{US_LONG_CODE}": (None, "profile: 10dlc"),
        "account:sms": (47.5, "profile: sms"),
        "account:mms": (14.25, "profile: mms"),
        "account:whatsapp": (None, "profile: whatsapp"),
    }
    for key, (rate, reason) in expected.items():
        assert pace_of(pacer, key) == pytest.approx(rate), key
        assert reason_of(pacer, key) == reason
        assert budget.pace(key) == pytest.approx(UNPACED if rate is None else rate), key
    assert pacer.requests == 7
    # Each budget's first change is when it was made: seconds into the run, oldest first.
    changes = pacer.snapshot().changes
    assert [change.scope for change in changes] == [
        f"sender:{TOLL_FREE}",
        "account:sms",
        "sender:12345",
        "sender:ACME",
        f"sender:{UK_LONG_CODE}",
        f"sender:{US_LONG_CODE}",
        "account:mms",
        "account:whatsapp",
    ]
    assert changes[0].at == 0.0
    assert changes[-1].at == pytest.approx(clock.now - 100.0)
    assert changes[-1].at > 0


async def test_ten_dlc_per_minute_paces_a_us_long_code() -> None:
    """ten_dlc_per_minute=4500 (AT&T class A): 75 a second, paced at 71.25."""
    clock = VirtualTime()
    pacer, budget = pacer_on(
        clock, PacingProfile(ten_dlc_per_minute=4500), sender_types={US_LONG_CODE: "long_code"}
    )
    await pacer.wait_turn(US_LONG_CODE, "sms")
    assert budget.pace(f"sender:{US_LONG_CODE}") == pytest.approx(71.25)
    assert reason_of(pacer, f"sender:{US_LONG_CODE}") == "profile: 10dlc"


async def test_turns_from_one_sender_leave_one_interval_apart() -> None:
    """A toll-free number at 19 a second: its turns leave 1/19 s apart."""
    clock = VirtualTime()
    pacer, _ = pacer_on(clock, sender_types={TOLL_FREE: "toll_free"})
    turns = await sends(pacer, TOLL_FREE, 5)
    assert [turn.sent_at - 100.0 for turn in turns] == pytest.approx([n / 19 for n in range(5)])


async def test_a_sender_of_unknown_type_has_no_planned_pace() -> None:
    """A number with no type given and no lookup: paced by the account (and Telnyx) only."""
    clock = VirtualTime()
    pacer, budget = pacer_on(clock)
    await pacer.wait_turn(TOLL_FREE, "sms")
    assert reason_of(pacer, f"sender:{TOLL_FREE}") == "profile: sender type unknown"
    assert pace_of(pacer, f"sender:{TOLL_FREE}") is None
    assert budget.pace(f"sender:{TOLL_FREE}") == UNPACED


async def test_per_sender_rate_and_rate_are_paced_as_given() -> None:
    """per_sender_rate=5 and rate=10 are the caller's figures, not Telnyx's: no headroom, no
    lookup; the run's budget bounds every sender together."""
    clock = VirtualTime()
    looked_up: list[str] = []

    async def lookup(number: str) -> Any:
        looked_up.append(number)
        return SimpleNamespace(type="toll_free")

    pacer, budget = pacer_on(clock, rate=10, per_sender_rate=5, lookup=lookup)
    turns = []
    for _ in range(3):
        for sender in (TOLL_FREE, OTHER_TOLL_FREE):
            turns.append(await pacer.wait_turn(sender, "sms"))
    assert looked_up == []
    assert budget.pace(f"sender:{TOLL_FREE}") == 5.0
    assert budget.pace("run") == 10.0
    assert reason_of(pacer, f"sender:{TOLL_FREE}") == "per_sender_rate="
    assert (reason_of(pacer, "run"), pace_of(pacer, "run")) == ("rate=", 10.0)
    assert [c.scope for c in pacer.snapshot().changes].count("run") == 1
    # Six turns from two senders at 5 a second each, 10 a second together.
    assert [turn.sent_at - 100.0 for turn in turns] == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4, 0.5])


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"rate": 0}, "rate must be a positive number"),
        ({"per_sender_rate": -1}, "per_sender_rate must be a positive number"),
        ({"sender_types": {TOLL_FREE: "fax"}}, f"sender_types['{TOLL_FREE}'] must be one of"),
    ],
)
def test_bad_options_are_refused_naming_the_option(options: dict[str, Any], named: str) -> None:
    with pytest.raises(InvalidArgumentError) as refused:
        Pacer(profile=PROFILES["telnyx"], **options)
    assert str(refused.value).startswith(named)


# -- sender types ----------------------------------------------------------------------------


class Lookup:
    """phone_numbers.messaging.retrieve(number).type, counted; an exception is raised."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    async def __call__(self, number: str) -> Any:
        self.asked.append(number)
        for _ in range(3):  # let concurrent turns arrive while it is asked
            await asyncio.sleep(0)
        answer = self.answers[number]
        if isinstance(answer, Exception):
            raise answer
        return SimpleNamespace() if answer is None else SimpleNamespace(type=answer)


async def test_a_sender_type_is_looked_up_once_for_concurrent_turns() -> None:
    """Three turns from one number at once: one GET, one budget, paced as its type says."""
    clock = VirtualTime()
    lookup = Lookup({TOLL_FREE: "toll-free"})
    pacer, budget = pacer_on(clock, lookup=lookup)
    turns = await asyncio.gather(*(pacer.wait_turn(TOLL_FREE, "sms") for _ in range(3)))
    assert lookup.asked == [TOLL_FREE]
    assert budget.pace(f"sender:{TOLL_FREE}") == pytest.approx(19.0)
    made = [c for c in pacer.snapshot().changes if c.scope == f"sender:{TOLL_FREE}"]
    assert [c.reason for c in made] == ["profile: toll_free"]
    assert sorted(turn.sent_at - 100.0 for turn in turns) == pytest.approx([0, 1 / 19, 2 / 19])
    await pacer.wait_turn(TOLL_FREE, "sms")
    assert lookup.asked == [TOLL_FREE]


async def test_a_lookup_that_fails_leaves_the_type_unknown(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A 404 (or an answer with no type Telnyx has): paced by Telnyx's answers, said in the
    log, and not asked again."""
    clock = VirtualTime()
    missing = refusal("10005", status=404)
    lookup = Lookup({TOLL_FREE: missing, OTHER_TOLL_FREE: None})
    pacer, budget = pacer_on(clock, lookup=lookup)
    with caplog.at_level(logging.INFO, logger="telnyx_messaging"):
        for sender in (TOLL_FREE, OTHER_TOLL_FREE, TOLL_FREE):
            await pacer.wait_turn(sender, "sms")
    assert lookup.asked == [TOLL_FREE, OTHER_TOLL_FREE]
    for sender in (TOLL_FREE, OTHER_TOLL_FREE):
        assert reason_of(pacer, f"sender:{sender}") == "profile: sender type unknown"
        assert budget.pace(f"sender:{sender}") == UNPACED
    messages = [r.getMessage() for r in caplog.records]
    assert f"sender {TOLL_FREE}: type unknown (slower); paced by Telnyx's answers" in messages
    # An answer with no type is read as none: the log says which types there are.
    assert any(
        m.startswith(f"sender {OTHER_TOLL_FREE}: type unknown (sender type must be one of")
        and "got None" in m
        for m in messages
    )


async def test_senders_known_by_their_form_or_given_are_not_looked_up() -> None:
    """'ACME' and '12345' by their form; a type given wins over the lookup and the form."""
    clock = VirtualTime()
    lookup = Lookup({})
    pacer, budget = pacer_on(clock, lookup=lookup, sender_types={"67890": "toll_free"})
    for sender in ("ACME", "12345", "67890"):
        await pacer.wait_turn(sender, "sms")
    assert lookup.asked == []
    assert budget.pace("sender:67890") == pytest.approx(19.0)
    assert budget.pace("sender:12345") == pytest.approx(950.0)


@pytest.mark.parametrize("figure", ["long_code", "toll_free", "short_code", "ten_dlc_per_minute"])
async def test_a_number_is_looked_up_only_when_the_profile_has_a_figure_for_its_type(
    figure: str,
) -> None:
    """Unpaced but for one per-type figure: a number's type matters, so it is asked; with no
    such figure (alphanumeric senders are known by their form) it is not."""
    unpaced = PROFILES["unpaced"]
    lookup = Lookup({TOLL_FREE: "toll_free"})
    clock = VirtualTime()
    pacer, _ = pacer_on(clock, PacingProfile(**{**_fields(unpaced), figure: 60.0}), lookup=lookup)
    await pacer.wait_turn(TOLL_FREE, "sms")
    assert lookup.asked == [TOLL_FREE]

    nothing_to_learn = Lookup({TOLL_FREE: "toll_free"})
    pacer, _ = pacer_on(
        clock, PacingProfile(**{**_fields(unpaced), "alphanumeric": 1.0}), lookup=nothing_to_learn
    )
    await pacer.wait_turn(TOLL_FREE, "sms")
    assert nothing_to_learn.asked == []


def _fields(profile: PacingProfile) -> dict[str, Any]:
    return {
        name: getattr(profile, name)
        for name in (
            "sms",
            "mms",
            "long_code",
            "toll_free",
            "short_code",
            "alphanumeric",
            "ten_dlc_per_minute",
            "ten_dlc_daily_cap",
        )
    }


# -- the 10DLC daily cap ---------------------------------------------------------------------


async def test_the_ten_dlc_daily_cap_stops_the_run_at_the_cap() -> None:
    """ten_dlc_daily_cap=2 counts the run's 10DLC messages, whichever US long code sent them
    (given or looked up); toll-free and non-US long codes are not counted. The third stops the
    run: a PauseTooLongError of a day, naming the cap and max_pause."""
    clock = VirtualTime()
    second = "+13125550111"
    pacer, _ = pacer_on(
        clock,
        PacingProfile(ten_dlc_daily_cap=2),
        sender_types={US_LONG_CODE: "long_code", TOLL_FREE: "toll_free", UK_LONG_CODE: "long_code"},
        lookup=Lookup({second: "longcode"}),
        max_pause=600,
    )
    for sender in (US_LONG_CODE, TOLL_FREE, UK_LONG_CODE, second, TOLL_FREE):
        await pacer.wait_turn(sender, "sms")
    with pytest.raises(PauseTooLongError) as stopped:
        await pacer.wait_turn(US_LONG_CODE, "sms")
    assert (stopped.value.wait, stopped.value.max_pause) == (86400.0, 600.0)
    assert str(stopped.value) == (
        "the 10DLC daily cap of 2 messages (PacingProfile(ten_dlc_daily_cap=...)) is reached: "
        f"the next 10DLC message from {US_LONG_CODE} may go tomorrow, a wait of 86400s, more "
        "than max_pause=600s. The run stopped; the rows not sent are run.not_started (with "
        "journal=..., run it again tomorrow)."
    )
    assert pacer.requests == 5
    await pacer.wait_turn(TOLL_FREE, "sms")  # other senders are not stopped by it


async def test_a_us_number_of_unknown_type_is_not_counted_as_ten_dlc() -> None:
    """The cap counts long codes: a number whose type is unknown is not one."""
    clock = VirtualTime()
    pacer, _ = pacer_on(clock, PacingProfile(ten_dlc_daily_cap=1))
    for _ in range(3):
        await pacer.wait_turn(US_LONG_CODE, "sms")
    assert pacer.requests == 3


# -- Telnyx's signals: wait_seconds ----------------------------------------------------------


async def _queued_sender() -> tuple[VirtualTime, Pacer]:
    """A toll-free sender (19 a second) that sent for two seconds, all of it through."""
    clock = VirtualTime()
    pacer, _ = pacer_on(clock, sender_types={TOLL_FREE: "toll_free"})
    await sends(pacer, TOLL_FREE, 40)
    return clock, pacer


@pytest.mark.parametrize("wait", [2.0, 1.05])
async def test_a_wait_seconds_rising_past_a_second_slows_the_sender_to_70_percent(
    wait: float,
) -> None:
    _, pacer = await _queued_sender()
    turn = await pacer.wait_turn(TOLL_FREE, "sms")
    pacer.went_through(turn, wait)
    assert pace_of(pacer, f"sender:{TOLL_FREE}") == pytest.approx(0.7 * 19)
    assert reason_of(pacer, f"sender:{TOLL_FREE}") == f"wait_seconds {wait:g} and rising"
    assert reason_of(pacer, "account:sms") == "profile: sms"


@pytest.mark.parametrize(
    "waits",
    [
        (1.0,),  # a second of queueing is normal
        (0.5, 0.9),
        (1.5, 1.5),  # not rising: the second says nothing new
        (1.8, 1.2),
    ],
)
async def test_a_wait_seconds_not_past_a_second_or_not_rising_does_not_slow(
    waits: tuple[float, ...],
) -> None:
    clock, pacer = await _queued_sender()
    for wait in waits:
        clock.now += 2  # past the once-a-second rule
        turn = await pacer.wait_turn(TOLL_FREE, "sms")
        pacer.went_through(turn, wait)
    cuts = [c for c in pacer.snapshot().changes if c.reason.startswith("wait_seconds")]
    assert len(cuts) == (1 if waits[0] > 1 else 0)


async def test_a_wait_seconds_rising_again_after_a_quiet_answer_slows_again() -> None:
    """An answer with no wait_seconds resets it: the next past a second is rising."""
    clock, pacer = await _queued_sender()
    for wait in (1.5, None, 1.2):
        clock.now += 2
        turn = await pacer.wait_turn(TOLL_FREE, "sms")
        pacer.went_through(turn, wait)
    cuts = [c.reason for c in pacer.snapshot().changes if c.reason.startswith("wait_seconds")]
    assert cuts == ["wait_seconds 1.5 and rising", "wait_seconds 1.2 and rising"]


async def test_went_through_without_a_sender_counts_for_the_account() -> None:
    """A number-pool send (no from_): what went through is what a bare 429 keeps (95% of
    it, between half and 90% of the pace)."""
    clock = VirtualTime()
    pacer, _ = pacer_on(clock)
    for _ in range(35):  # 47.5 a second: 35 in 0.72 s, all through
        turn = await pacer.wait_turn(None, "sms")
        pacer.went_through(turn, 5.0)
    clock.now = 101.0
    turn = await pacer.wait_turn(None, "sms")
    await pacer.pushed_back(turn, refusal())
    # 35 went through from 100.0 to 100.72; the last second (after 100.0, not at it) holds 34.
    assert pace_of(pacer, "account:sms") == pytest.approx(0.95 * 34)


# -- Telnyx's signals: pushed back -----------------------------------------------------------


@pytest.mark.parametrize("code", ["40318", "40011"])
async def test_a_full_queue_slows_and_holds_the_sender_a_second(
    code: str, real_waits: None, caplog: pytest.LogCaptureFixture
) -> None:
    """40318 / 40011 is about the sender, whatever the account's sends: cut as a bare 429
    would be (a queue, not a window: a limit header says nothing), held a second."""
    clock = VirtualTime()
    pacer, budget = pacer_on(clock, sender_types={TOLL_FREE: "toll_free"})
    await sends(pacer, OTHER_TOLL_FREE, 10)
    turn = await pacer.wait_turn(TOLL_FREE, "sms")
    with caplog.at_level(logging.INFO, logger="telnyx_messaging"):
        hold = await pacer.pushed_back(
            turn, refusal(code, status=400, headers={"x-ratelimit-limit": "2"})
        )
    assert hold == 1.0
    assert budget.held == [(f"sender:{TOLL_FREE}", 1.0)]
    assert pace_of(pacer, f"sender:{TOLL_FREE}") == pytest.approx(19 / 2)  # the deepest cut
    assert reason_of(pacer, f"sender:{TOLL_FREE}") == code
    assert reason_of(pacer, "account:sms") == "profile: sms"
    snapshot = pacer.snapshot()
    assert (snapshot.requests, snapshot.refused) == (11, 1)
    assert (pacer.gate.pauses, pacer.gate.paused) == (1, True)
    assert f"Telnyx pushed back ({code}): holding sender:{TOLL_FREE} for 1.00s" in [
        r.getMessage() for r in caplog.records
    ]
    with caplog.at_level(logging.DEBUG, logger="telnyx_messaging"):
        await pacer.wait_turn("ACME", "sms")
    assert "pace of sender:ACME: 0.095 (profile: alphanumeric)" in [
        r.getMessage() for r in caplog.records
    ]
    # The sender's next turn leaves when the hold ends.
    later = await pacer.wait_turn(TOLL_FREE, "sms")
    assert later.sent_at == pytest.approx(turn.sent_at + 1.0)


async def test_both_sender_codes_are_named_and_other_codes_are_not() -> None:
    clock = VirtualTime()
    pacer, _ = pacer_on(clock, sender_types={TOLL_FREE: "toll_free"})
    turn = await pacer.wait_turn(TOLL_FREE, "sms")
    await pacer.pushed_back(turn, refusal("40011", "10011", "40318", status=400))
    assert reason_of(pacer, f"sender:{TOLL_FREE}") == "40011/40318"


async def test_a_full_queue_without_a_sender_slows_the_account() -> None:
    clock = VirtualTime()
    pacer, budget = pacer_on(clock)
    turn = await pacer.wait_turn(None, "sms")
    await pacer.pushed_back(turn, refusal("40318", status=400))
    assert pace_of(pacer, "account:sms") == pytest.approx(47.5 / 2)
    assert budget.held == [("account:sms", 0.0)]  # instant in this suite


async def test_a_429_holds_its_budget_for_the_wait_asked(real_waits: None) -> None:
    """Retry-After: 5 holds the culprit 5 s (and a wait of 0, none); the run's pause counts."""
    clock = VirtualTime()
    pacer, budget = pacer_on(clock, sender_types={TOLL_FREE: "toll_free"})
    turn = await pacer.wait_turn(TOLL_FREE, "sms")
    assert await pacer.pushed_back(turn, refusal(headers={"retry-after": "5"})) == 5.0
    clock.now += 2
    assert pacer.gate.paused_seconds == pytest.approx(2.0)
    later = await pacer.wait_turn(TOLL_FREE, "sms")
    assert later.sent_at == pytest.approx(turn.sent_at + 5)
    assert await pacer.pushed_back(later, refusal(headers={"retry-after-ms": "0"})) == 0.0
    assert budget.held == [(f"sender:{TOLL_FREE}", 5.0), (f"sender:{TOLL_FREE}", 0.0)]


async def test_a_429_asking_past_max_pause_stops_the_run_naming_the_wait() -> None:
    """Retry-After past max_pause (default 300 s): PauseTooLongError with the wait, from the
    429; nothing slowed or held. A wait of exactly max_pause is sat out."""
    clock = VirtualTime()
    pacer, budget = pacer_on(clock, sender_types={TOLL_FREE: "toll_free"})
    turn = await pacer.wait_turn(TOLL_FREE, "sms")
    error = refusal(headers={"retry-after": "301"})
    with pytest.raises(PauseTooLongError) as stopped:
        await pacer.pushed_back(turn, error)
    assert (stopped.value.wait, stopped.value.max_pause) == (301.0, 300.0)
    assert stopped.value.__cause__ is error
    assert str(stopped.value) == (
        "Telnyx asked the run to wait 301s before sending again (429 10011, Retry-After), "
        "more than max_pause=300s, so the run stopped instead of sleeping. The rows not sent "
        "are run.not_started and run.unfinished (with journal=..., run it again later); pass "
        "a larger max_pause to wait it out."
    )
    assert budget.held == []
    assert reason_of(pacer, f"sender:{TOLL_FREE}") == "profile: toll_free"
    assert pacer.snapshot().refused == 1

    clock.now += 2
    turn = await pacer.wait_turn(TOLL_FREE, "sms")
    await pacer.pushed_back(turn, refusal(headers={"retry-after": "300"}))
    assert budget.held == [(f"sender:{TOLL_FREE}", 0.0)]  # sat out (instantly, in this suite)


async def test_max_pause_zero_still_sits_out_a_429_that_names_no_wait() -> None:
    clock = VirtualTime()
    pacer, _ = pacer_on(clock, max_pause=0)
    turn = await pacer.wait_turn(None, "sms")
    await pacer.pushed_back(turn, refusal())
    with pytest.raises(PauseTooLongError):
        await pacer.pushed_back(turn, refusal(headers={"retry-after": "0.5"}))


@pytest.mark.parametrize("value", [-1, -0.001, float("inf"), float("nan"), True, "300", None])
def test_max_pause_must_be_a_number_of_seconds(value: Any) -> None:
    with pytest.raises(InvalidArgumentError, match=r"max_pause must be a number of seconds >= 0"):
        check_max_pause(value)
    with pytest.raises(InvalidArgumentError, match=repr(value).replace("(", r"\(")):
        Pacer(profile=PROFILES["telnyx"], max_pause=value)


@pytest.mark.parametrize(("value", "seconds"), [(0, 0.0), (600, 600.0), (0.5, 0.5)])
def test_max_pause_takes_any_finite_seconds_from_zero(value: float, seconds: float) -> None:
    assert check_max_pause(value) == seconds
    assert type(check_max_pause(value)) is float
    assert Pacer(profile=PROFILES["telnyx"], max_pause=value).max_pause == seconds


# -- which budget a 429 is about -------------------------------------------------------------


async def _a_429_after(mine: int, others: int, headers: dict[str, str]) -> Pacer:
    """Two toll-free senders: ``others`` turns from one, then ``mine`` from the other, the
    last of them refused with ``headers``, all within a second."""
    clock = VirtualTime()
    pacer, _ = pacer_on(clock, sender_types={TOLL_FREE: "toll_free", OTHER_TOLL_FREE: "tollfree"})
    await sends(pacer, OTHER_TOLL_FREE, others)
    turns = await sends(pacer, TOLL_FREE, mine)
    await pacer.pushed_back(turns[-1], refusal(headers=headers))
    return pacer


@pytest.mark.parametrize(("mine", "others", "culprit"), [(4, 10, "sender"), (3, 0, "account")])
async def test_a_429_naming_a_limit_is_the_senders_when_its_sends_reach_80_percent_of_it(
    mine: int, others: int, culprit: str
) -> None:
    """x-ratelimit-limit 5: the sender's own 4 sends of the last second reach 80% of it (its
    limit), however many the account sent; 3 do not (the account's), even if they were all
    the account sent."""
    pacer = await _a_429_after(mine, others, {"X-RateLimit-Limit": "5"})
    key = f"sender:{TOLL_FREE}" if culprit == "sender" else "account:sms"
    other = "account:sms" if culprit == "sender" else f"sender:{TOLL_FREE}"
    assert pace_of(pacer, key) == pytest.approx(4.75)
    assert reason_of(pacer, key) == "429, x-ratelimit-limit 5"
    assert reason_of(pacer, other).startswith("profile: ")


@pytest.mark.parametrize(("mine", "others", "culprit"), [(4, 1, "sender"), (3, 2, "account")])
async def test_a_bare_429_is_the_senders_when_it_made_80_percent_of_the_accounts_sends(
    mine: int, others: int, culprit: str
) -> None:
    pacer = await _a_429_after(mine, others, {})
    key = f"sender:{TOLL_FREE}" if culprit == "sender" else "account:sms"
    other = "account:sms" if culprit == "sender" else f"sender:{TOLL_FREE}"
    assert reason_of(pacer, key) == "429"
    assert reason_of(pacer, other).startswith("profile: ")


async def test_a_429_with_rate_given_is_about_the_account_not_the_run() -> None:
    """The run's own budget (rate=) is the caller's: Telnyx's 429 is about its account."""
    for sender in (None, TOLL_FREE):
        clock = VirtualTime()
        pacer, _ = pacer_on(clock, rate=100)
        await sends(pacer, "ACME", 3)
        turn = await pacer.wait_turn(sender, "sms")
        await pacer.pushed_back(turn, refusal(headers={"x-ratelimit-limit": "10"}))
        assert pace_of(pacer, "account:sms") == pytest.approx(9.5)
        assert reason_of(pacer, "run") == "rate="


# -- how a budget is cut ---------------------------------------------------------------------


async def _cut_once(**options: Any) -> tuple[VirtualTime, Pacer, RecordingBudget, Turn]:
    """A toll-free sender (19 a second), one turn refused by a bare 429 at once: cut to 9.5."""
    clock = VirtualTime()
    pacer, budget = pacer_on(clock, sender_types={TOLL_FREE: "toll_free"}, **options)
    turn = await pacer.wait_turn(TOLL_FREE, "sms")
    await pacer.pushed_back(turn, refusal())
    assert pace_of(pacer, f"sender:{TOLL_FREE}") == pytest.approx(9.5)
    return clock, pacer, budget, turn


async def test_a_limit_named_at_the_pace_itself_teaches_nothing() -> None:
    """x-ratelimit-limit 20 and the pace is 19 (95% of 20): not below the pace, so the cut is
    the bare one (half: nothing went through), not to 19."""
    clock = VirtualTime()
    pacer, _ = pacer_on(clock, sender_types={TOLL_FREE: "toll_free"})
    for _ in range(16):  # 80% of the limit: the sender's own (none answered yet)
        turn = await pacer.wait_turn(TOLL_FREE, "sms")
    await pacer.pushed_back(turn, refusal(headers={"x-ratelimit-limit": "20"}))
    assert pace_of(pacer, f"sender:{TOLL_FREE}") == pytest.approx(9.5)
    assert reason_of(pacer, f"sender:{TOLL_FREE}") == "429, x-ratelimit-limit 20"


async def test_a_cut_keeps_at_most_90_percent_of_the_pace() -> None:
    """Everything went through (19 in the last second): the cut still takes a tenth."""
    clock = VirtualTime()
    pacer, _ = pacer_on(clock, sender_types={TOLL_FREE: "toll_free"})
    turns = await sends(pacer, TOLL_FREE, 40)
    await pacer.pushed_back(turns[-1], refusal())
    assert pace_of(pacer, f"sender:{TOLL_FREE}") == pytest.approx(0.9 * 19)


async def test_a_cut_never_goes_below_one_message_an_hour() -> None:
    clock = VirtualTime()
    pacer, _ = pacer_on(clock, per_sender_rate=1 / 3600)
    turn = await pacer.wait_turn("ACME", "sms")
    await pacer.pushed_back(turn, refusal())
    assert pace_of(pacer, "sender:ACME") == pytest.approx(1 / 3600)


async def test_a_budget_with_no_pace_is_cut_from_the_tightest_other_budget_of_the_turn() -> None:
    """A sender of unknown type has no pace: its cut starts from the run's 10 a second (the
    account's 47.5 is looser), and without rate= from the account's."""
    cases: tuple[tuple[dict[str, Any], float], ...] = (({"rate": 10}, 10.0), ({}, 47.5))
    for options, start in cases:
        clock = VirtualTime()
        pacer, _ = pacer_on(clock, **options)
        turn = await pacer.wait_turn(TOLL_FREE, "sms")
        await pacer.pushed_back(turn, refusal())
        assert pace_of(pacer, f"sender:{TOLL_FREE}") == pytest.approx(start / 2)


async def unpaced_cut_after_three(clock: VirtualTime) -> tuple[Pacer, RecordingBudget]:
    """Unpaced: 3 sends 0.1 s apart, the last refused by a bare 429 0.25 s in."""
    pacer, budget = pacer_on(clock, PROFILES["unpaced"])
    for _ in range(3):
        turn = await pacer.wait_turn(TOLL_FREE, "sms")
        clock.now += 0.1
    clock.now -= 0.05
    await pacer.pushed_back(turn, refusal())
    return pacer, budget


async def test_with_no_pace_anywhere_a_cut_starts_from_what_was_sent() -> None:
    """Unpaced: 3 sends in the budget's first 0.25 s are 12 a second, cut to half of it; a
    send refused over a second after it left, at least one a second."""
    clock = VirtualTime()
    pacer, _ = await unpaced_cut_after_three(clock)
    assert pace_of(pacer, f"sender:{TOLL_FREE}") == pytest.approx(6.0)

    pacer, _ = pacer_on(clock, PROFILES["unpaced"])
    turn = await pacer.wait_turn(TOLL_FREE, "sms")
    clock.now += 1.5
    await pacer.pushed_back(turn, refusal())
    assert pace_of(pacer, f"sender:{TOLL_FREE}") == pytest.approx(0.5)


async def test_answers_to_sends_that_left_before_the_cut_are_ignored() -> None:
    """Two turns in flight, both refused: the second answer is the same event, even seconds
    later, even from a send that left the instant of the cut."""
    clock = VirtualTime()
    pacer, _ = pacer_on(clock, sender_types={TOLL_FREE: "toll_free"})
    first = await pacer.wait_turn(TOLL_FREE, "sms")
    second = await pacer.wait_turn(TOLL_FREE, "sms")  # 1/19 s later: the cut happens then
    await pacer.pushed_back(first, refusal())
    clock.now += 5
    await pacer.pushed_back(second, refusal())
    pacer.went_through(second, 30.0)
    reasons = [c.reason for c in pacer.snapshot().changes if c.scope == f"sender:{TOLL_FREE}"]
    assert reasons == ["profile: toll_free", "429"]
    assert pacer.snapshot().refused == 2


async def test_a_budget_is_cut_at_most_once_a_second_unless_a_lower_limit_is_named() -> None:
    clock, pacer, _, _ = await _cut_once()
    start = clock.now
    key = f"sender:{TOLL_FREE}"
    turns = [await pacer.wait_turn(TOLL_FREE, "sms") for _ in range(4)]
    clock.now = start + 0.999
    await pacer.pushed_back(turns[0], refusal())  # the same second: nothing new
    await pacer.pushed_back(turns[1], refusal(headers={"x-ratelimit-limit": "20"}))  # not lower
    assert [c.reason for c in pacer.snapshot().changes if c.scope == key] == [
        "profile: toll_free",
        "429",
    ]
    # Within the second, a limit below the pace is news.
    await pacer.pushed_back(turns[2], refusal(headers={"x-ratelimit-limit": "5"}))
    assert pace_of(pacer, key) == pytest.approx(4.75)
    changed = clock.now
    # A second later, a bare 429 cuts again: half of 4.75 (at a limit named, no ramp).
    clock.now += 0.01
    turn = await pacer.wait_turn(TOLL_FREE, "sms")
    clock.now = changed + 1.0
    await pacer.pushed_back(turn, refusal())
    assert pace_of(pacer, key) == pytest.approx(4.75 / 2)


async def test_429s_of_one_second_naming_the_limit_already_learned_are_one_event() -> None:
    """Limit 10 learned (paced at 9.5); more 429s that second naming 10 change nothing, one
    naming 9.8 is lower: followed at once."""
    clock = VirtualTime()
    pacer, _ = pacer_on(clock, sender_types={TOLL_FREE: "toll_free"})
    key = f"sender:{TOLL_FREE}"
    turns = [await pacer.wait_turn(TOLL_FREE, "sms") for _ in range(9)]  # 0.42 s at 19/s
    await pacer.pushed_back(turns[-1], refusal(headers={"x-ratelimit-limit": "10"}))
    assert pace_of(pacer, key) == pytest.approx(9.5)
    for _ in range(2):
        turn = await pacer.wait_turn(TOLL_FREE, "sms")
        await pacer.pushed_back(turn, refusal(headers={"x-ratelimit-limit": "10"}))
    assert [c.reason for c in pacer.snapshot().changes if c.scope == key] == [
        "profile: toll_free",
        "429, x-ratelimit-limit 10",
    ]
    turn = await pacer.wait_turn(TOLL_FREE, "sms")
    await pacer.pushed_back(turn, refusal(headers={"x-ratelimit-limit": "9.8"}))
    assert pace_of(pacer, key) == pytest.approx(9.8 * 0.95)
    assert reason_of(pacer, key) == "429, x-ratelimit-limit 9.8"


async def test_a_turn_after_a_hold_that_is_over_leaves_at_once() -> None:
    """Refused, held for no time (a wait of 0): the next turn, free on every budget, leaves
    the same instant and takes one place on each."""
    clock = VirtualTime()
    pacer, budget = pacer_on(clock, sender_types={TOLL_FREE: "toll_free"})
    turn = await pacer.wait_turn(TOLL_FREE, "sms")
    clock.now = 101.0
    await pacer.pushed_back(turn, refusal(headers={"retry-after": "0"}))
    budget.taken.clear()
    assert (await pacer.wait_turn(TOLL_FREE, "sms")).sent_at == 101.0
    assert [key for key, _ in budget.taken] == [f"sender:{TOLL_FREE}", "account:sms"]


# -- ramping back ----------------------------------------------------------------------------


async def test_a_cut_pace_ramps_back_a_tenth_a_second_up_to_the_ceiling() -> None:
    """Cut to 9.5: 2 s later it is taken at 11.4, 11 s later at the ceiling (19), noted as
    "ramped up", and no higher."""
    clock, pacer, budget, _ = await _cut_once()
    start, key = clock.now, f"sender:{TOLL_FREE}"
    clock.now = start + 2
    await pacer.wait_turn(TOLL_FREE, "sms")
    assert budget.pace(key) == pytest.approx(11.4)
    assert reason_of(pacer, key) == "429"
    clock.now = start + 9.5
    await pacer.wait_turn(TOLL_FREE, "sms")
    assert budget.pace(key) == pytest.approx(9.5 * 1.95)
    clock.now = start + 11
    await pacer.wait_turn(TOLL_FREE, "sms")
    assert budget.pace(key) == pytest.approx(19.0)
    assert reason_of(pacer, key) == "ramped up"
    assert pace_of(pacer, key) == pytest.approx(19.0)
    assert pacer.snapshot().changes[-1].at == pytest.approx(start + 11 - 100)
    clock.now = start + 60
    await pacer.wait_turn(TOLL_FREE, "sms")
    assert budget.pace(key) == pytest.approx(19.0)
    assert [c.reason for c in pacer.snapshot().changes if c.scope == key][-1] == "ramped up"
    assert len([c for c in pacer.snapshot().changes if c.scope == key]) == 3


async def test_a_pace_that_lands_exactly_on_its_ceiling_has_ramped_up() -> None:
    """9.5 + 0.95 a second for 10 s is 19, the ceiling: noted as reached."""
    clock, pacer, budget, _ = await _cut_once()
    clock.now += 10
    await pacer.wait_turn(TOLL_FREE, "sms")
    assert budget.pace(f"sender:{TOLL_FREE}") == 19.0
    assert reason_of(pacer, f"sender:{TOLL_FREE}") == "ramped up"


async def test_a_budget_with_no_ceiling_ramps_without_end() -> None:
    """Unpaced, cut to half of the 12 a second it sent: +0.6 a second for as long as it is
    quiet."""
    clock = VirtualTime()
    pacer, budget = await unpaced_cut_after_three(clock)
    clock.now += 100
    await pacer.wait_turn(TOLL_FREE, "sms")
    assert budget.pace(f"sender:{TOLL_FREE}") == pytest.approx(6.0 + 60.0)


async def test_at_a_limit_learned_from_a_header_the_pace_stays_then_probes_past_it() -> None:
    """Limit 10 named: paced at 9.5 and no higher for 30 quiet seconds (the ceiling is 19);
    after them the limit is forgotten and the pace grows a tenth of 9.5 a second again."""
    clock = VirtualTime()
    pacer, budget = pacer_on(clock, sender_types={TOLL_FREE: "toll_free"})
    turns = await sends(pacer, TOLL_FREE, 8)  # 8 of the last second: the sender's own limit
    await pacer.pushed_back(turns[-1], refusal(headers={"x-ratelimit-limit": "10"}))
    start, key = clock.now, f"sender:{TOLL_FREE}"
    assert pace_of(pacer, key) == pytest.approx(9.5)
    for after in (5, 30):
        clock.now = start + after
        await pacer.wait_turn(TOLL_FREE, "sms")
        assert budget.pace(key) == pytest.approx(9.5), after
    clock.now = start + 31  # past 30 s: the limit is dropped, growth starts from here
    await pacer.wait_turn(TOLL_FREE, "sms")
    assert budget.pace(key) == pytest.approx(9.5)
    clock.now = start + 33
    await pacer.wait_turn(TOLL_FREE, "sms")
    assert budget.pace(key) == pytest.approx(9.5 + 0.95 * 2)


# -- turns in order --------------------------------------------------------------------------


async def test_a_held_budget_releases_waiting_turns_one_interval_apart_in_order() -> None:
    """Five workers wait on a toll-free sender held 2 s: they leave at the hold's end, 1/19 s
    apart, in the order they came."""
    clock = VirtualTime(manual=True)
    pacer, _ = pacer_on(clock, sender_types={TOLL_FREE: "toll_free"})
    await pacer.wait_turn(TOLL_FREE, "sms")
    await pacer.budget.hold(f"sender:{TOLL_FREE}", 2)
    order: list[int] = []

    async def worker(n: int) -> float:
        turn = await pacer.wait_turn(TOLL_FREE, "sms")
        order.append(n)
        return turn.sent_at

    tasks = [asyncio.ensure_future(worker(n)) for n in range(5)]
    await clock.advance(3)
    times = [task.result() for task in tasks]
    assert order == [0, 1, 2, 3, 4]
    assert [t - 102.0 for t in times] == pytest.approx([n / 19 for n in range(5)])


async def test_a_turn_waiting_on_its_account_queues_again_at_a_sender_slowed_meanwhile(
    real_waits: None,
) -> None:
    """A turn got its sender's place, then waited on the account (held 1 s); meanwhile the
    sender was held 5 s: the turn leaves when the sender's hold ends, not the account's."""
    clock = VirtualTime(manual=True)
    pacer, _ = pacer_on(clock, sender_types={TOLL_FREE: "toll_free"})
    first = await pacer.wait_turn(TOLL_FREE, "sms")
    await pacer.budget.hold("account:sms", 1)
    waiting = asyncio.ensure_future(pacer.wait_turn(TOLL_FREE, "sms"))
    await clock.advance(0.1)
    assert not waiting.done()
    await pacer.pushed_back(first, refusal("40318", status=400, headers={"retry-after": "5"}))
    await clock.advance(10)
    assert waiting.result().sent_at == pytest.approx(105.1)


# -- the snapshot ----------------------------------------------------------------------------


async def test_the_snapshot_is_a_copy_and_keeps_the_last_100_changes() -> None:
    clock = VirtualTime()
    pacer, _ = pacer_on(clock, PROFILES["unpaced"])
    await pacer.wait_turn("ACME0", "sms")
    before = pacer.snapshot()
    for n in range(1, 150):
        await pacer.wait_turn(f"ACME{n}", "sms")
    after = pacer.snapshot()
    assert (before.requests, len(before.rates), len(before.changes)) == (1, 2, 2)
    assert (after.requests, after.refused, len(after.rates)) == (150, 0, 151)
    assert len(after.changes) == 100
    assert after.changes[-1].scope == "sender:ACME149"
    assert after.changes[0].scope == "sender:ACME50"


# -- bounded memory --------------------------------------------------------------------------


def _senders(pacer: Pacer) -> set[str]:
    return {key for key in pacer.snapshot().rates if key.startswith("sender:")}


async def test_past_4096_senders_the_idle_ones_are_forgotten_and_only_they() -> None:
    """4,096 senders remembered; the next one forgets those idle (nothing sent in the last
    second, no turn waiting), keeps a sender that just sent and one with a turn waiting, and
    keeps the account budgets. Counting starts again from what is left: the next 4,096th
    sender forgets again, and no sooner."""
    clock = VirtualTime(manual=True)
    pacer, _ = pacer_on(clock, PROFILES["unpaced"])
    await pacer.wait_turn(None, "sms")  # the SMS account budget: idle from here on
    await fill(pacer, clock, "ACME", 4096)
    assert len(_senders(pacer)) == 4096
    clock.now += 2
    await pacer.wait_turn("ACME5", "whatsapp")  # sent just now
    await pacer.budget.hold("sender:ACME7", 60)
    waiting = asyncio.ensure_future(pacer.wait_turn("ACME7", "whatsapp"))
    await clock.settle()
    await pacer.wait_turn("NEW1", "whatsapp")
    assert _senders(pacer) == {"sender:ACME5", "sender:ACME7", "sender:NEW1"}
    assert "account:sms" in pacer.snapshot().rates
    # What a forgotten sender cost is gone with it (its turns' lock too).
    assert len(pacer._locks) <= 10
    clock.now += 2
    await fill(pacer, clock, "MORE", 4093)  # 4,096 again
    assert len(_senders(pacer)) == 4096
    clock.now += 2
    await pacer.wait_turn("NEW2", "whatsapp")
    assert _senders(pacer) == {"sender:ACME7", "sender:NEW2"}
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting


async def fill(pacer: Pacer, clock: VirtualTime, prefix: str, count: int) -> None:
    """One turn from each of ``count`` new senders (alphanumeric, by their form)."""
    for n in range(count):
        await pacer.wait_turn(f"{prefix}{n}", "whatsapp")
        clock.now += 1e-5


async def test_4096_senders_are_all_remembered() -> None:
    clock = VirtualTime()
    pacer, _ = pacer_on(clock, PROFILES["unpaced"])
    await fill(pacer, clock, "ACME", 4095)
    clock.now += 2
    await pacer.wait_turn("LAST", "whatsapp")
    assert len(_senders(pacer)) == 4096


async def test_a_sender_is_not_forgotten_while_a_turn_of_it_waits() -> None:
    """Two turns waited on a sender at 0.1 a second; one left, the other still waits: the
    sender is not idle."""
    clock = VirtualTime(manual=True)
    pacer, _ = pacer_on(clock, PROFILES["unpaced"], per_sender_rate=0.1)
    await fill(pacer, clock, "ACME", 4096)
    first = asyncio.ensure_future(pacer.wait_turn("ACME7", "whatsapp"))
    second = asyncio.ensure_future(pacer.wait_turn("ACME7", "whatsapp"))
    await clock.advance(11)
    assert first.done()
    assert not second.done()  # 10 s after the first
    clock.now += 2
    await pacer.wait_turn("NEW", "whatsapp")
    assert _senders(pacer) == {"sender:ACME7", "sender:NEW"}
    second.cancel()
    with pytest.raises(asyncio.CancelledError):
        await second


async def test_a_looked_up_type_is_kept_for_a_busy_sender_and_forgotten_with_an_idle_one() -> None:
    """Types looked up are remembered for 4,096 senders, the oldest forgotten first: a sender
    still sending keeps its budget (no new lookup); one forgotten is asked again on return."""
    clock = VirtualTime()
    lookup = Lookup({TOLL_FREE: "toll_free", OTHER_TOLL_FREE: "toll_free"})
    pacer, budget = pacer_on(clock, PacingProfile(sms=None), lookup=lookup)
    await pacer.wait_turn(TOLL_FREE, "sms")
    clock.now += 2
    await pacer.wait_turn(OTHER_TOLL_FREE, "sms")
    await fill(pacer, clock, "ACME", 4094)  # 4,096 senders and types
    await pacer.wait_turn("ACME-last", "whatsapp")  # forgets the idle one and its type
    await pacer.wait_turn(TOLL_FREE, "sms")  # asked again (and the oldest type forgotten)
    await pacer.wait_turn(OTHER_TOLL_FREE, "sms")  # busy: its budget kept, not asked again
    assert lookup.asked == [TOLL_FREE, OTHER_TOLL_FREE, TOLL_FREE]
    assert budget.pace(f"sender:{TOLL_FREE}") == pytest.approx(19.0)


async def test_a_sender_the_daily_cap_stopped_at_once_is_forgotten_like_others() -> None:
    """The cap stops a new 10DLC sender's first turn before it took any place: its budget is
    forgotten when idle like any other (other workers may still be taking turns)."""
    clock = VirtualTime()
    stopped = "+13125550222"
    pacer, _ = pacer_on(
        clock,
        PacingProfile(ten_dlc_daily_cap=1),
        sender_types={US_LONG_CODE: "long_code", stopped: "long_code"},
    )
    await pacer.wait_turn(US_LONG_CODE, "sms")
    await fill(pacer, clock, "ACME", 4094)
    with pytest.raises(PauseTooLongError):
        await pacer.wait_turn(stopped, "sms")
    assert len(_senders(pacer)) == 4096
    clock.now += 2
    await pacer.wait_turn("NEW", "whatsapp")
    assert _senders(pacer) == {"sender:NEW"}
