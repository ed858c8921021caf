"""The duplicate guard and the key it is kept by: pure, no sockets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from telnyx_messaging import InvalidArgumentError, webhooks

EXAMPLES = Path(__file__).parents[1] / "spec" / "webhook-examples"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_first_claim_is_new_and_later_ones_say_what_happened() -> None:
    """A key is new once, then 'processing' until completed, then 'done'."""
    guard = webhooks.MemoryDuplicateGuard()
    assert guard.claim("a") == "new"
    assert guard.claim("a") == "processing"
    guard.complete("a")
    assert guard.claim("a") == "done"
    assert guard.claim("b") == "new"
    assert len(guard) == 2


def test_a_released_key_is_new_again() -> None:
    """Releasing after a failure forgets the key, so the retry is handled."""
    guard = webhooks.MemoryDuplicateGuard()
    assert guard.claim("a") == "new"
    guard.release("a")
    assert guard.claim("a") == "new"
    guard.release("never-claimed")  # no error
    guard.complete("never-claimed")
    assert guard.claim("never-claimed") == "new"


def test_keys_are_forgotten_after_max_age() -> None:
    """A key older than max_age no longer counts as seen."""
    clock = Clock()
    guard = webhooks.MemoryDuplicateGuard(max_age=60, clock=clock)
    guard.claim("old")
    guard.complete("old")
    clock.now += 30
    guard.claim("newer")
    clock.now += 29
    assert guard.claim("old") == "done"
    clock.now += 2
    assert guard.claim("old") == "new"
    assert guard.claim("newer") == "processing"


def test_when_full_the_oldest_handled_keys_past_min_age_go_first() -> None:
    """Beyond max_events the oldest handled key old enough to forget makes room."""
    clock = Clock()
    guard = webhooks.MemoryDuplicateGuard(max_events=3, min_age=10, clock=clock)
    for key in "abc":
        assert guard.claim(key) == "new"
        guard.complete(key)
        clock.now += 1
    clock.now += 10
    assert guard.claim("d") == "new"
    assert len(guard) == 3
    assert guard.claim("b") == "done"
    assert guard.claim("c") == "done"
    assert guard.claim("d") == "processing"
    assert guard.claim("a") == "new"  # forgotten to make room for d; b made room for a


def test_an_event_being_handled_is_never_evicted() -> None:
    """However many other events come and go, one still in progress stays 'processing'."""
    clock = Clock()
    guard = webhooks.MemoryDuplicateGuard(max_events=100, min_age=60, clock=clock)
    assert guard.claim("slow") == "new"
    for round_ in range(3):
        clock.now += 61
        for i in range(99):
            assert guard.claim(f"other-{round_}-{i}") == "new"
            guard.complete(f"other-{round_}-{i}")
    assert guard.claim("slow") == "processing"


def test_a_replay_inside_min_age_is_refused_however_busy() -> None:
    """A handled key younger than min_age is never forgotten: a full guard refuses instead."""
    clock = Clock()
    guard = webhooks.MemoryDuplicateGuard(max_events=100, min_age=300, clock=clock)
    guard.claim("signed-once")
    guard.complete("signed-once")
    clock.now += 1
    for i in range(99):
        guard.claim(f"other-{i}")
        guard.complete(f"other-{i}")
    with pytest.raises(webhooks.DuplicateGuardFullError, match="raise max_events"):
        guard.claim("one-too-many")
    clock.now += 298
    assert guard.claim("signed-once") == "done"
    clock.now += 1  # 300 s after its first delivery: may be forgotten to make room
    assert guard.claim("one-too-many") == "new"
    clock.now += 1
    assert guard.claim("signed-once") == "new"  # it was, being the oldest; other-0 goes now
    assert guard.claim("other-1") == "done"
    assert len(guard) == 100


def test_a_guard_for_one_event() -> None:
    """max_events=1 holds exactly one key: another waits until the first may be forgotten."""
    clock = Clock()
    guard = webhooks.MemoryDuplicateGuard(max_events=1, min_age=5, max_age=50, clock=clock)
    assert guard.claim("a") == "new"
    with pytest.raises(webhooks.DuplicateGuardFullError):
        guard.claim("b")  # a is still being handled
    guard.complete("a")
    clock.now += 4.999
    with pytest.raises(webhooks.DuplicateGuardFullError):
        guard.claim("b")  # a was handled less than min_age ago
    clock.now += 0.001
    assert guard.claim("b") == "new"
    assert len(guard) == 1
    assert guard.claim("b") == "processing"
    guard.release("b")
    assert guard.claim("a") == "new"


def test_max_age_is_exact() -> None:
    """A key counts as seen up to max_age seconds after its first delivery, and not at it."""
    clock = Clock()
    guard = webhooks.MemoryDuplicateGuard(max_age=60, min_age=60, clock=clock)
    guard.claim("a")
    clock.now += 10  # completed later: the age still counts from the first delivery
    guard.complete("a")
    clock.now += 49.999
    assert guard.claim("a") == "done"
    clock.now += 0.001
    assert guard.claim("a") == "new"
    guard.complete("a")
    clock.now += 60
    assert len(guard) == 1
    assert guard.claim("b") == "new"  # a, past max_age, is dropped on the way
    assert len(guard) == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_events": 0},
        {"max_events": 1.5},
        {"max_events": True},
        {"max_age": 0},
        {"max_age": float("inf")},
        {"max_age": float("nan")},
        {"max_age": "60"},
        {"max_age": False},
        {"min_age": 0},
        {"min_age": -1},
        {"min_age": float("inf")},
        {"min_age": 61, "max_age": 60},
    ],
)
def test_nonsense_bounds_are_refused(kwargs: dict[str, Any]) -> None:
    """Bounds that would make the guard unbounded or useless are the caller's bug."""
    with pytest.raises(InvalidArgumentError):
        webhooks.MemoryDuplicateGuard(**kwargs)


def test_an_event_with_an_id_is_keyed_by_it() -> None:
    """Delivery updates and inbound messages are keyed by their event id."""
    event = webhooks.parse((EXAMPLES / "message.received.json").read_bytes())
    assert webhooks.duplicate_key(event) == "bf6307bd-884d-4c1f-b6ea-c62b8c495d3c"


def test_a_link_click_key_is_stable_across_attempts_and_distinct_per_click() -> None:
    """Link clicks have no id: the key survives a changed meta.attempt but not another click."""
    document = json.loads((EXAMPLES / "replaced-link-click.json").read_bytes())
    first = webhooks.parse({**document, "meta": {"attempt": 1}})
    retry = webhooks.parse(
        json.dumps({"meta": {"attempt": 2, "delivered_to": "x"}, "data": document["data"]})
    )
    other = webhooks.parse({"data": {**document["data"], "time_clicked": "2019-04-01T14:46:00Z"}})
    key = webhooks.duplicate_key(first)
    # Replicas sharing a guard must agree on it, across releases: pinned to the value.
    assert key == "sha256:68af9118cd8173b976bd501f8310a13871cc171facaa2724e0366ed92fbfecb5"
    assert webhooks.duplicate_key(retry) == key
    assert webhooks.duplicate_key(other) != key


def test_an_event_without_id_or_raw_still_gets_a_key() -> None:
    """Anything without an id is keyed by its data, even an object with no raw body."""
    assert webhooks.duplicate_key(object()).startswith("sha256:")
    event = webhooks.parse({"data": {"event_type": "new.thing", "id": ""}})
    assert webhooks.duplicate_key(event).startswith("sha256:")


def test_a_link_click_key_does_not_depend_on_the_order_of_fields() -> None:
    """The same click with its fields (and nested fields) in another order keys the same."""
    document = json.loads((EXAMPLES / "replaced-link-click.json").read_bytes())
    data = {**document["data"], "extra": {"b": 1, "a": [2, {"y": 3, "x": 4}]}}
    shuffled = {"extra": {"a": [2, {"x": 4, "y": 3}], "b": 1}, **dict(reversed(data.items()))}
    assert list(shuffled) != list(data)
    assert webhooks.duplicate_key(webhooks.parse({"data": data})) == webhooks.duplicate_key(
        webhooks.parse(json.dumps({"data": shuffled}))
    )
    moved = {**data, "extra": {"b": 1, "a": [{"y": 3, "x": 4}, 2]}}  # list order is data
    assert webhooks.duplicate_key(webhooks.parse({"data": moved})) != webhooks.duplicate_key(
        webhooks.parse({"data": data})
    )
