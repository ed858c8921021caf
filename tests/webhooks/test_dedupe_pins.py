"""The duplicate guard's promises that mutation testing found unpinned (issue 24).

Which handled key is forgotten first, the defaults docs/webhooks.md states, and errors that
tell the caller what to fix. Pure: a fake clock, no sockets.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from telnyx_messaging import InvalidArgumentError, webhooks


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _handled(guard: webhooks.MemoryDuplicateGuard, key: str) -> None:
    assert guard.claim(key) == "new"
    guard.complete(key)


def test_expiry_forgets_only_the_keys_past_max_age_oldest_first() -> None:
    """A key past max_age goes; a younger one handled after it is still refused as a duplicate."""
    clock = Clock()
    guard = webhooks.MemoryDuplicateGuard(max_age=60, min_age=10, clock=clock)
    _handled(guard, "old")
    clock.now += 50
    _handled(guard, "young")
    clock.now += 11  # old is 61 s old, young 11 s
    assert guard.claim("next") == "new"  # expiry runs on the way
    assert len(guard) == 2  # old forgotten; young and next kept
    assert guard.claim("young") == "done"
    assert guard.claim("old") == "new"


def test_a_full_guard_forgets_the_oldest_handled_key_not_the_newest() -> None:
    """When full, the key handled longest ago makes room; the most recent is still a duplicate."""
    clock = Clock()
    guard = webhooks.MemoryDuplicateGuard(max_events=3, min_age=5, max_age=1000, clock=clock)
    for key in ("first", "second", "third"):
        _handled(guard, key)
        clock.now += 10
    assert guard.claim("fourth") == "new"
    assert guard.claim("third") == "done"
    assert guard.claim("second") == "done"
    assert len(guard) == 3


def test_the_default_guard_holds_100_000_events_within_min_age() -> None:
    """max_events=100_000 by default: the next new event inside min_age is refused, not kept."""
    clock = Clock()
    guard = webhooks.MemoryDuplicateGuard(clock=clock)
    for i in range(100_000):
        guard.claim(str(i))
    assert len(guard) == 100_000
    with pytest.raises(webhooks.DuplicateGuardFullError):
        guard.claim("one more")


def test_the_default_guard_remembers_a_handled_key_for_an_hour() -> None:
    """max_age=3600 by default: a duplicate up to an hour after its first delivery, not at it."""
    clock = Clock()
    guard = webhooks.MemoryDuplicateGuard(clock=clock)
    _handled(guard, "a")
    clock.now += 3599.5
    assert guard.claim("a") == "done"
    clock.now += 0.5
    assert guard.claim("a") == "new"


def test_the_default_min_age_is_the_signature_tolerance() -> None:
    """A full default-sized guard keeps a handled key 300 s, then lets it make room."""
    clock = Clock()
    guard = webhooks.MemoryDuplicateGuard(max_events=1, clock=clock)
    _handled(guard, "a")
    clock.now += 299.5
    with pytest.raises(webhooks.DuplicateGuardFullError, match=r"none older than 300s"):
        guard.claim("b")
    clock.now += 0.5
    assert guard.claim("b") == "new"


def test_a_full_guard_says_what_to_do() -> None:
    """The error names the count, the age limit and both ways out."""
    clock = Clock()
    guard = webhooks.MemoryDuplicateGuard(max_events=2, min_age=30, clock=clock)
    _handled(guard, "a")
    _handled(guard, "b")
    with pytest.raises(webhooks.DuplicateGuardFullError) as caught:
        guard.claim("c")
    assert str(caught.value) == (
        "the duplicate guard holds 2 events (max_events), none older than 30s: "
        "raise max_events, or share a guard sized for this rate"
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_events": 0}, "max_events must be a whole number >= 1, got 0"),
        ({"max_events": True}, "max_events must be a whole number >= 1, got True"),
        ({"max_age": 0}, "max_age must be seconds > 0, got 0"),
        ({"max_age": "60"}, "max_age must be seconds > 0, got '60'"),
        ({"min_age": -1.0}, "min_age must be seconds > 0, got -1.0"),
        (
            {"min_age": 61, "max_age": 60},
            "min_age (61) must not be longer than max_age (60): "
            "a key is forgotten after max_age seconds",
        ),
    ],
)
def test_a_refused_bound_names_the_argument_and_the_rule(
    kwargs: dict[str, object], message: str
) -> None:
    """The message says which argument is wrong, what it must be and what it was."""
    with pytest.raises(InvalidArgumentError, match="^" + re.escape(message) + "$"):
        webhooks.MemoryDuplicateGuard(**kwargs)  # type: ignore[arg-type]


def test_ages_under_a_second_are_accepted() -> None:
    """Seconds > 0 means any positive time, fractions included (tests use short windows)."""
    clock = Clock()
    guard = webhooks.MemoryDuplicateGuard(max_age=0.5, min_age=0.25, clock=clock)
    _handled(guard, "a")
    clock.now += 0.4
    assert guard.claim("a") == "done"
    clock.now += 0.1
    assert guard.claim("a") == "new"


def test_a_click_built_from_python_values_is_keyed_by_their_text() -> None:
    """An event made from a dict holding non-JSON values (a datetime) still gets a stable key."""
    clicked = dt.datetime(2019, 4, 1, 14, 45, tzinfo=dt.timezone.utc)
    event = webhooks.parse({"data": {"event_type": "message.link_click", "at": clicked}})
    same = webhooks.parse({"data": {"event_type": "message.link_click", "at": str(clicked)}})
    later = webhooks.parse(
        {"data": {"event_type": "message.link_click", "at": clicked + dt.timedelta(seconds=1)}}
    )
    key = webhooks.duplicate_key(event)
    assert key.startswith("sha256:")
    assert key == webhooks.duplicate_key(same)
    assert key != webhooks.duplicate_key(later)


def test_releasing_a_handled_key_forgets_it() -> None:
    """release() forgets a key whatever its state: a handled event may be handled again."""
    guard = webhooks.MemoryDuplicateGuard()
    _handled(guard, "a")
    _handled(guard, "b")
    guard.release("a")
    assert len(guard) == 1
    assert guard.claim("a") == "new"
    assert guard.claim("b") == "done"
