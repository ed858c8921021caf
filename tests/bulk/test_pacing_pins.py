"""Pacing promises that mutation testing found unpinned (issue 24). Pure: a clock the test moves."""

from __future__ import annotations

import pytest
from pacing_doubles import VirtualTime, refusal

from telnyx_messaging._bulk import PROFILES
from telnyx_messaging._bulk._pacing import Pacer, PauseGate


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_three_separate_pauses_are_each_counted_and_all_summed() -> None:
    """run.paused_seconds adds up every hold, not the last one, whenever the run started."""
    clock = Clock(100.0)
    gate = PauseGate(clock)
    gate.pause(1.0)  # 100 - 101
    clock.now = 102.0
    gate.pause(2.0)  # 102 - 104
    clock.now = 110.0
    gate.pause(0.5)  # 110 - 110.5
    clock.now = 120.0
    assert gate.pauses == 3
    assert gate.paused_seconds == pytest.approx(3.5)
    assert not gate.paused


def test_a_hold_ending_exactly_now_is_over() -> None:
    """A pause that starts the moment the last one ends is a new pause, counted as such."""
    clock = Clock(50.0)
    gate = PauseGate(clock)
    gate.pause(1.0)
    clock.now = 51.0
    assert not gate.paused
    gate.pause(1.0)
    clock.now = 60.0
    assert gate.pauses == 2
    assert gate.paused_seconds == pytest.approx(2.0)


TOLL_FREE = "+18885550100"


async def _cut_after(sends: int, gap: float) -> float:
    """A toll-free sender (19/s) sends ``sends`` rows ``gap`` s apart, then a bare 429."""
    clock = VirtualTime()
    pacer = Pacer(
        profile=PROFILES["telnyx"],
        sender_types={TOLL_FREE: "tollfree"},
        clock=clock,
        sleep=clock.sleep,
    )
    for _ in range(sends):
        turn = await pacer.wait_turn(TOLL_FREE, "sms")
        pacer.went_through(turn, None)
        clock.now += gap
    turn = await pacer.wait_turn(TOLL_FREE, "sms")
    clock.now += 0.01
    await pacer.pushed_back(turn, refusal())
    rate = pacer.snapshot().rates[f"sender:{TOLL_FREE}"].rate
    assert rate is not None
    return rate


async def test_a_bare_429_cuts_to_what_went_through_per_second_of_the_budgets_life() -> None:
    """No limit named: the cut keeps 95% of what got through in the last second, measured
    over the budget's age when it is younger than a second, and over one second after."""
    young = await _cut_after(6, 0.08)
    old = await _cut_after(30, 0.08)
    # 6 sends in the budget's first 0.49 s (refused 0.01 s after the last): 6 / 0.49 a second.
    assert young == pytest.approx(0.95 * 6 / 0.49)
    # 30 sends 0.08 s apart: 12 of them in the last second; the budget is 2.41 s old.
    assert old == pytest.approx(0.95 * 12)


@pytest.mark.parametrize(
    ("limit", "rate"),
    [
        ("0.5", 0.5 * 0.95),  # a small limit is a limit
        ("0", 19 / 2),  # not a limit: as if none were named
        ("-3", 19 / 2),
    ],
)
async def test_a_429_naming_a_limit_of_zero_or_less_is_as_if_it_named_none(
    limit: str, rate: float
) -> None:
    """A toll-free sender paced at 19/s, nothing through yet, refused naming ``limit``:
    a positive limit, however small, is followed; 0 or less is no limit (the deepest cut)."""
    clock = VirtualTime()
    pacer = Pacer(
        profile=PROFILES["telnyx"],
        sender_types={TOLL_FREE: "tollfree"},
        clock=clock,
        sleep=clock.sleep,
    )
    turn = await pacer.wait_turn(TOLL_FREE, "sms")
    clock.now += 0.01
    await pacer.pushed_back(turn, refusal(headers={"x-ratelimit-limit": limit}))
    assert pacer.snapshot().rates[f"sender:{TOLL_FREE}"].rate == pytest.approx(rate)
