"""Pacing promises that mutation testing found unpinned (issue 24). Pure: a clock the test moves."""

from __future__ import annotations

import pytest

from telnyx_messaging._bulk._pacing import PauseGate


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
