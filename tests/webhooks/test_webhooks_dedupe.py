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


def test_the_oldest_keys_go_first_beyond_max_events() -> None:
    """The guard never holds more than max_events keys; the oldest is dropped."""
    guard = webhooks.MemoryDuplicateGuard(max_events=3)
    for key in "abcd":
        assert guard.claim(key) == "new"
    assert len(guard) == 3
    assert guard.claim("a") == "new"
    assert guard.claim("d") == "processing"


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
    assert key.startswith("sha256:")
    assert webhooks.duplicate_key(retry) == key
    assert webhooks.duplicate_key(other) != key


def test_an_event_without_id_or_raw_still_gets_a_key() -> None:
    """Anything without an id is keyed by its data, even an object with no raw body."""
    assert webhooks.duplicate_key(object()).startswith("sha256:")
    event = webhooks.parse({"data": {"event_type": "new.thing", "id": ""}})
    assert webhooks.duplicate_key(event).startswith("sha256:")
