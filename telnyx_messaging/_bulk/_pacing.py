"""How fast a bulk run sends: a planned pace per budget, slowed by Telnyx's own signals.

Every send takes a turn from up to three budgets: its sender's (``sender:<from>``), its
account's for its kind (``account:sms``, ``account:mms``, ``account:whatsapp``) and, when
the caller gave ``rate``, the run's (``run``). Each budget has a pace:

- **Planned** from a :class:`~telnyx_messaging.PacingProfile` (Telnyx's published limits per
  message kind and sender type; a sender's type is given or looked up once) or the caller's
  ``rate`` / ``per_sender_rate``. Ceilings from the profile are paced at 95% of the figure,
  so network jitter does not carry a second's sends over the limit.
- **Slowed** by what Telnyx answers: a 429 (10011) slows the budget it came from to just
  under the ``x-ratelimit-limit`` it names or, when it names none, to just under what got
  through in the last second (a cut of 10% to 50%: multiplicative decrease), and holds that
  budget for the wait it asked; 40318 (the sender's queue is full), 40011 and a rising
  ``wait_seconds`` slow the sender. A budget is slowed at most once a second, and never for
  an answer to a send that left before the last change: those say nothing new.
- **Ramped back** by a tenth of the pace the cut left, each second (additive increase), up
  to the ceiling. At a limit learned from a header it stays just under it; after
  ``PROBE_AFTER`` quiet seconds it tries past it, so a limit that rose is found again.

After a hold the budget releases sends one interval apart, never every worker at once: turns
are taken in order, one waiter per budget at a time. Where the next send may leave is kept by
a :class:`~telnyx_messaging.PacingBudget` (the seam a budget shared by several processes
plugs into); the paces and what they learned stay in this process.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from attrs import frozen

from telnyx_messaging._bulk._budget import MAX_BUDGET_KEYS, MemoryBudget, PacingBudget
from telnyx_messaging._bulk._profiles import (
    MIN_RATE,
    PacingProfile,
    SenderType,
    check_rate,
    is_ten_dlc,
    sender_type,
)
from telnyx_messaging._errors import (
    APIStatusError,
    InvalidArgumentError,
    PauseTooLongError,
)
from telnyx_messaging._http.retry import server_wait, wait_to_sleep

__all__ = [
    "DEFAULT_MAX_PAUSE",
    "MAX_SENDER_BUCKETS",
    "PaceChange",
    "Pacer",
    "PacingSnapshot",
    "PauseGate",
    "Turn",
    "check_max_pause",
    "check_rate",
    "is_backpressure",
    "message_kind",
]

log = logging.getLogger("telnyx_messaging")

#: Senders whose pace is remembered before idle ones are forgotten.
MAX_SENDER_BUCKETS = MAX_BUDGET_KEYS
#: The longest wait a 429 may ask before the run stops instead: five minutes.
DEFAULT_MAX_PAUSE = 300.0
#: Ceilings from a profile or a header are paced this far under the figure.
HEADROOM = 0.95
#: A cut keeps between these fractions of the pace that drew it.
DEEPEST_CUT = 0.5
SHALLOWEST_CUT = 0.9
#: Seconds between two cuts of one budget, at least (Telnyx meters per second: the 429s
#: of one second are one event).
CUT_INTERVAL = 1.0
#: wait_seconds (Telnyx queueing behind a sender) rising past this slows the sender...
QUEUED_SECONDS = 1.0
#: ...to this fraction of its pace.
QUEUE_DECREASE = 0.7
#: After a cut, the pace grows by this fraction of the cut pace each second.
RAMP = 0.1
#: Quiet seconds at a limit learned from a header before trying past it (each try costs a
#: 429 and its wait when the limit has not moved).
PROBE_AFTER = 30.0
#: A refusal that named no wait holds its budget this long (Telnyx meters per second).
DEFAULT_HOLD = 1.0
#: Error codes that mean "this sender is sending too fast": 40318, its queue is full;
#: 40011, too many requests (https://developers.telnyx.com/docs/messaging/errors).
SENDER_BACKPRESSURE = frozenset({"40318", "40011"})
RATE_LIMITED = "10011"
#: The rate a budget with no pace is taken at: still a turn, so holds (a shared budget's
#: too) apply, but no wait worth the name (a microsecond apart).
UNPACED = 1_000_000.0
#: Recent pace changes kept for display.
_CHANGES_KEPT = 100


def check_max_pause(value: Any) -> float:
    """``max_pause`` as a number of seconds >= 0 (finite)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise InvalidArgumentError(
            f"max_pause must be a number of seconds >= 0, e.g. max_pause=600 to sit out a "
            f"429 of up to ten minutes; got {value!r}"
        )
    return float(value)


def message_kind(via: str, kwargs: Mapping[str, Any]) -> str:
    """Which account budget a row's send takes from: "sms", "mms" or "whatsapp"."""
    if via == "send_whatsapp":
        return "whatsapp"
    if via == "send_group_mms" or kwargs.get("media_urls") or kwargs.get("type") == "MMS":
        return "mms"
    return "sms"


def is_backpressure(error: BaseException) -> bool:
    """Whether an error says "send more slowly" (429, 40318, 40011), not "this row failed"."""
    if not isinstance(error, APIStatusError):
        return False
    return error.status == 429 or not SENDER_BACKPRESSURE.isdisjoint(error.codes)


@frozen
class PaceChange:
    """How fast one budget may send now, and why it changed (``run.pacing``).

    ``scope`` is ``"account:sms"``, ``"account:mms"``, ``"account:whatsapp"``, ``"run"``
    or ``"sender:<from>"``; ``rate`` is messages a second (``None``: nothing planned, the
    run goes as fast as ``concurrency`` allows until Telnyx says otherwise); ``reason`` says
    why, e.g. ``"profile: toll_free"``, ``"429, x-ratelimit-limit 20"``, ``"40318"``,
    ``"wait_seconds 3.2 and rising"``, ``"ramped up"``; ``at`` is seconds into the run.

    .. versionadded:: 0.2.0
    """

    scope: str
    rate: float | None
    reason: str
    at: float


@frozen
class PacingSnapshot:
    """What the pacing did so far (``run.pacing``): for a live display and a summary.

    ``requests`` counts sends made (every attempt of every row); ``refused`` those Telnyx
    answered with backpressure (429, 40318, 40011), which cost no row an attempt. ``rates``
    is each budget's current pace and its last change (senders not seen for a while are
    dropped past 4,096); ``changes`` the latest changes, oldest first.

    .. versionadded:: 0.2.0
    """

    requests: int
    refused: int
    rates: Mapping[str, PaceChange]
    changes: tuple[PaceChange, ...]


class PauseGate:
    """The record of the run's holds: how many pauses, and seconds spent paused.

    Overlapping holds merge (the later end wins) and count once; ``paused_seconds`` counts
    each second of wall time once, however many budgets were held in it.
    """

    __slots__ = ("_clock", "_started", "_total", "pauses", "until")

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.until = 0.0  # when the latest hold ends
        self._started = 0.0  # when the current (or last) pause began
        self._total = 0.0  # seconds of pauses that have ended
        self.pauses = 0

    def pause(self, seconds: float) -> None:
        """Record a hold of ``seconds`` from now."""
        now = self._clock()
        until = now + seconds
        if now >= self.until:  # a new pause: bank the last one
            self._total += self.until - self._started
            self._started = now
            self.pauses += 1
        self.until = max(self.until, until)

    @property
    def paused(self) -> bool:
        """Whether some budget is held right now."""
        return self._clock() < self.until

    @property
    def paused_seconds(self) -> float:
        """Seconds the run has spent paused so far, the running pause included."""
        return self._total + (min(self._clock(), self.until) - self._started)


class _Scope:
    """One budget's pace: its ceiling, what it learned, and its recent sends."""

    __slots__ = (
        "born",
        "ceiling",
        "changed_at",
        "cut_to",
        "grew_at",
        "key",
        "last_wait",
        "limit",
        "passed",
        "rate",
        "recent",
        "touched_at",
        "users",
    )

    def __init__(self, key: str, ceiling: float | None, now: float) -> None:
        self.key = key
        self.born = now
        self.ceiling = ceiling  # planned: the profile's or the caller's; never exceeded
        self.rate: float | None = None  # slowed to; None until Telnyx first objects
        self.limit: float | None = None  # the x-ratelimit-limit a 429 named
        self.cut_to = 0.0  # the pace the last cut left; it ramps up by RAMP of it a second
        self.changed_at = -math.inf
        self.touched_at = -math.inf  # last cut or hold
        self.grew_at = 0.0
        self.last_wait = 0.0
        self.recent: collections.deque[float] = collections.deque()  # send times, last second
        self.passed: collections.deque[float] = collections.deque()  # went through, last second
        self.users = 0  # turns waiting on or holding this budget

    def cap(self) -> float | None:
        caps = [c for c in (self.ceiling, self.limit and self.limit * HEADROOM) if c]
        return min(caps) if caps else None

    def pace(self, now: float) -> tuple[float | None, bool]:
        """The pace now (``None``: no limit), ramping up since the last call; and whether it
        just reached its cap."""
        rate, cap = self.rate, self.cap()
        if rate is None:
            return cap, False
        reached = False
        if cap is None or rate < cap:
            rate += RAMP * self.cut_to * (now - self.grew_at)
            if cap is not None and rate >= cap:
                rate, reached = cap, True
            self.rate = rate
        elif self.limit is not None and now - self.changed_at > PROBE_AFTER:
            # Quiet at a limit Telnyx named: try past it, in case it rose.
            self.limit = None
        self.grew_at = now
        return rate, reached

    def cut(self, now: float, limit: float | None, shallowest: float, fallback: float) -> None:
        """Slow down: under ``limit`` if it is named and below the pace, else to just under
        what went through in the last second, keeping ``DEEPEST_CUT`` to ``shallowest`` of
        the pace (``fallback`` when this budget had none: the pace the others allowed)."""
        current, _ = self.pace(now)
        if current is None:
            current = fallback
        if limit is not None and limit * HEADROOM < current:
            self.limit = limit
            new = limit * HEADROOM
        else:
            went_through = HEADROOM * _lately(self.passed, now) / self.window(now)
            new = min(shallowest * current, max(DEEPEST_CUT * current, went_through))
        self.rate = self.cut_to = max(MIN_RATE, new)
        self.changed_at = self.grew_at = self.touched_at = now

    def window(self, now: float) -> float:
        """The seconds ``recent`` and ``passed`` cover: one, or less for a budget just made."""
        return min(1.0, max(0.01, now - self.born))

    def sent_lately(self, now: float) -> int:
        return _lately(self.recent, now)


def _lately(times: collections.deque[float], now: float) -> int:
    """How many of ``times`` fall in the last second (dropping older ones)."""
    while times and times[0] <= now - 1.0:
        times.popleft()
    return len(times)


class Turn:
    """One send's place in its budgets: which they were and when it left."""

    __slots__ = ("scopes", "sender", "sent_at")

    def __init__(self, scopes: list[_Scope], sender: _Scope | None) -> None:
        self.scopes = scopes
        self.sender = sender
        self.sent_at = 0.0


class Pacer:
    """Takes each send's turn from its budgets, and slows them on Telnyx's signals."""

    def __init__(
        self,
        *,
        profile: PacingProfile,
        rate: float | None = None,
        per_sender_rate: float | None = None,
        sender_types: Mapping[str, Any] | None = None,
        lookup: Callable[[str], Awaitable[Any]] | None = None,
        budget: PacingBudget | None = None,
        max_pause: float = DEFAULT_MAX_PAUSE,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        """``clock`` and ``sleep`` are the loop's (tests pass a virtual pair)."""
        self.profile = profile
        self._sleep = sleep
        self._per_sender_rate = check_rate("per_sender_rate", per_sender_rate)
        self._rate = check_rate("rate", rate)
        self._given: dict[str, SenderType | None] = {
            str(sender): sender_type(kind, name=f"sender_types[{sender!r}]")
            for sender, kind in (sender_types or {}).items()
        }
        self._found: dict[str, SenderType | None] = {}  # looked up or read from the form
        self._lookup = lookup
        self._lookups: dict[str, asyncio.Future[SenderType | None]] = {}
        self.budget: PacingBudget = budget if budget is not None else MemoryBudget(clock=clock)
        self.max_pause = check_max_pause(max_pause)
        self._clock = clock
        self._started = clock()
        self.gate = PauseGate(clock)
        self._scopes: dict[str, _Scope] = {}
        self._senders = 0
        self._locks: dict[str, asyncio.Lock] = {}
        self._latest: dict[str, PaceChange] = {}
        self._changes: collections.deque[PaceChange] = collections.deque(maxlen=_CHANGES_KEPT)
        self._ten_dlc_sent = 0
        self.requests = 0
        self.refusals = 0

    # -- what the run reads ------------------------------------------------------------------

    def snapshot(self) -> PacingSnapshot:
        """The pacing so far (``run.pacing``)."""
        return PacingSnapshot(
            requests=self.requests,
            refused=self.refusals,
            rates=dict(self._latest),
            changes=tuple(self._changes),
        )

    # -- taking a turn -----------------------------------------------------------------------

    async def wait_turn(self, sender: str | None, kind: str) -> Turn:
        """Wait until a send from ``sender`` of ``kind`` may leave; count it as sent."""
        scopes: list[_Scope] = []
        sender_scope = None
        if sender is not None:
            sender_scope = self._scopes.get(f"sender:{sender}") or await self._new_sender(sender)
            scopes.append(sender_scope)
            if self.profile.ten_dlc_daily_cap is not None:
                self._count_ten_dlc(sender)
        scopes.append(
            self._scopes.get(f"account:{kind}")
            or self._new_scope(f"account:{kind}", self._account_ceiling(kind), f"profile: {kind}")
        )
        if self._rate is not None:
            scopes.append(self._scopes.get("run") or self._new_scope("run", self._rate, "rate="))
        turn = Turn(scopes, sender_scope)
        for scope in scopes:
            scope.users += 1
        try:
            pending = scopes
            while pending:
                passed: list[tuple[_Scope, float]] = []
                for scope in pending:
                    await self._take(scope)
                    passed.append((scope, self._clock()))
                # Slowed or held while this turn waited for another budget: its place there
                # was taken at the old pace, so it queues again.
                pending = [scope for scope, at in passed if scope.touched_at > at]
        finally:
            for scope in scopes:
                scope.users -= 1
        now = self._clock()
        turn.sent_at = now
        for scope in scopes:
            scope.recent.append(now)
        self.requests += 1
        return turn

    async def _take(self, scope: _Scope) -> None:
        key = scope.key
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        # One waiter per budget at a time: turns go in order, one interval apart, however
        # many workers wait (and a budget held by a 429 releases them one by one).
        async with lock:
            budget = self.budget
            while True:
                rate, reached = scope.pace(self._clock())
                if reached:
                    self._note(scope, "ramped up")
                wait = await budget.take(key, rate if rate is not None else UNPACED)
                if wait <= 0:
                    return
                await self._sleep(wait)

    def _account_ceiling(self, kind: str) -> float | None:
        planned = self.profile.account_rate(kind)
        return None if planned is None else planned * HEADROOM

    def _new_scope(self, key: str, ceiling: float | None, reason: str) -> _Scope:
        scope = self._scopes[key] = _Scope(key, ceiling, self._clock())
        self._note(scope, reason)
        return scope

    async def _new_sender(self, sender: str) -> _Scope:
        key = f"sender:{sender}"
        ceiling: float | None
        if self._per_sender_rate is not None:
            ceiling, reason = self._per_sender_rate, "per_sender_rate="
        else:
            kind = await self._type_of(sender)
            planned = self.profile.sender_rate(kind, sender)
            ceiling = None if planned is None else planned * HEADROOM
            label = "10dlc" if kind == "long_code" and is_ten_dlc(sender) else kind
            reason = f"profile: {label or 'sender type unknown'}"
        scope = self._scopes.get(key)  # another turn may have made it while we looked up
        if scope is not None:
            return scope
        if self._senders >= MAX_SENDER_BUCKETS:
            self._forget_idle_senders()
        self._senders += 1
        return self._new_scope(key, ceiling, reason)

    def _forget_idle_senders(self) -> None:
        now = self._clock()
        for key, scope in list(self._scopes.items()):
            if key.startswith("sender:") and not scope.users and not scope.sent_lately(now):
                del self._scopes[key]
                self._latest.pop(key, None)
                self._locks.pop(key, None)
                self._senders -= 1

    async def _type_of(self, sender: str) -> SenderType | None:
        """The sender's type: given, plain from its form, or looked up once (and cached)."""
        if sender in self._given:
            return self._given[sender]
        if sender in self._found:
            return self._found[sender]
        kind: SenderType | None
        if not sender.startswith("+"):
            # Not E.164: an alphanumeric sender ID, or a short code's digits.
            kind = "short_code" if sender.isdigit() else "alphanumeric"
        elif self._lookup is None or not self._needs_type():
            kind = None
        else:
            pending = self._lookups.get(sender)
            if pending is None:
                pending = self._lookups[sender] = asyncio.ensure_future(self._look_up(sender))
            kind = await asyncio.shield(pending)
            self._lookups.pop(sender, None)
        if len(self._found) >= MAX_SENDER_BUCKETS:
            del self._found[next(iter(self._found))]  # the oldest: asked again if it returns
        self._found[sender] = kind
        return kind

    def _needs_type(self) -> bool:
        profile = self.profile
        return any(
            rate is not None
            for rate in (
                profile.long_code,
                profile.toll_free,
                profile.short_code,
                profile.ten_dlc_per_minute,
            )
        )

    async def _look_up(self, sender: str) -> SenderType | None:
        assert self._lookup is not None
        try:
            settings = await self._lookup(sender)
            kind = getattr(settings, "type", None)
            return sender_type(kind)
        except Exception as exc:  # noqa: BLE001 - unknown is a fine answer: paced by Telnyx's signals
            log.info("sender %s: type unknown (%s); paced by Telnyx's answers", sender, exc)
            return None

    def _count_ten_dlc(self, sender: str) -> None:
        kind = self._given[sender] if sender in self._given else self._found.get(sender)
        if kind != "long_code" or not is_ten_dlc(sender):
            return
        cap = self.profile.ten_dlc_daily_cap
        assert cap is not None
        if self._ten_dlc_sent >= cap:
            raise PauseTooLongError(
                f"the 10DLC daily cap of {cap} messages (PacingProfile(ten_dlc_daily_cap=...)) "
                f"is reached: the next 10DLC message from {sender} may go tomorrow, a wait of "
                f"86400s, more than max_pause={self.max_pause:g}s. The run stopped; the rows "
                "not sent are run.not_started (with journal=..., run it again tomorrow).",
                wait=86400.0,
                max_pause=self.max_pause,
            )
        self._ten_dlc_sent += 1

    # -- what Telnyx answered -----------------------------------------------------------------

    def went_through(self, turn: Turn, wait_seconds: float | None) -> None:
        """A send was answered, not pushed back (sent, or failed for another reason); a
        ``wait_seconds`` rising means Telnyx queues behind the sender."""
        now = self._clock()
        for each in turn.scopes:
            each.passed.append(now)
        scope = turn.sender
        if scope is None:
            return
        wait = wait_seconds or 0.0
        if wait > QUEUED_SECONDS and wait > scope.last_wait:
            self._slow(scope, turn, None, f"wait_seconds {wait:g} and rising", QUEUE_DECREASE)
        scope.last_wait = wait

    async def pushed_back(self, turn: Turn, error: APIStatusError) -> float:
        """Telnyx answered "slower": slow the budget it concerns and hold it for the wait it
        asked. Returns the hold (seconds); raises `PauseTooLongError` past ``max_pause``."""
        self.refusals += 1
        wait = server_wait(error)
        codes = error.codes
        limit = _header_number(error.headers, "x-ratelimit-limit")
        if not SENDER_BACKPRESSURE.isdisjoint(codes) and turn.sender is not None:
            scope = turn.sender
            reason = "/".join(c for c in codes if c in SENDER_BACKPRESSURE)
            limit = None  # a queue, not a window: nothing to learn from x-ratelimit-*
        else:
            scope = self._culprit(turn, limit)
            reason = "429" if limit is None else f"429, x-ratelimit-limit {limit:g}"
        if wait is not None and wait > self.max_pause:
            raise PauseTooLongError(
                f"Telnyx asked the run to wait {wait:g}s before sending again "
                f"(429 {RATE_LIMITED}, Retry-After), more than max_pause={self.max_pause:g}s, "
                "so the run stopped instead of sleeping. The rows not sent are "
                "run.not_started and run.unfinished (with journal=..., run it again later); "
                "pass a larger max_pause to wait it out.",
                wait=wait,
                max_pause=self.max_pause,
            ) from error
        self._slow(scope, turn, limit, reason, SHALLOWEST_CUT)
        hold = wait_to_sleep(DEFAULT_HOLD if wait is None else wait)
        scope.touched_at = self._clock()
        await self.budget.hold(scope.key, hold)
        self.gate.pause(hold)
        log.info("Telnyx pushed back (%s): holding %s for %.2fs", reason, scope.key, hold)
        return hold

    def _culprit(self, turn: Turn, limit: float | None) -> _Scope:
        """Which budget a 429 is about: the sender's when its own recent sends reach the limit
        named (or, unnamed, make most of the account's), else the account's."""
        now = self._clock()
        scopes = turn.scopes
        account = scopes[1] if turn.sender is not None else scopes[0]
        sender = turn.sender
        if sender is None:
            return account
        mine, all_ = sender.sent_lately(now), account.sent_lately(now)
        if limit is not None:
            return sender if mine >= 0.8 * limit else account
        return sender if mine >= 0.8 * all_ else account

    def _slow(
        self, scope: _Scope, turn: Turn, limit: float | None, reason: str, shallowest: float
    ) -> None:
        """Cut the scope's pace, unless this answer says nothing new: its send left before
        the last cut, or the last cut is under a second old and the answer names no limit
        below the pace."""
        if turn.sent_at <= scope.changed_at:
            return
        now = self._clock()
        if now - scope.changed_at < CUT_INTERVAL:
            pace, _ = scope.pace(now)
            if limit is None or (pace is not None and limit * HEADROOM >= pace):
                return
        scope.cut(now, limit, shallowest, self._fallback(scope, turn, now))
        self._note(scope, reason)

    def _fallback(self, scope: _Scope, turn: Turn, now: float) -> float:
        """The pace a budget without one of its own went at: the tightest of the turn's other
        budgets, else what it sent in the last second."""
        paces = [p for other in turn.scopes if other is not scope and (p := other.pace(now)[0])]
        return min(paces) if paces else max(1, scope.sent_lately(now)) / scope.window(now)

    def _note(self, scope: _Scope, reason: str) -> None:
        rate, _ = scope.pace(self._clock()) if scope.rate is not None else (scope.cap(), False)
        change = PaceChange(scope.key, rate, reason, self._clock() - self._started)
        self._latest[scope.key] = change
        self._changes.append(change)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("pace of %s: %s (%s)", scope.key, rate, reason)


def _header_number(headers: Mapping[str, str], name: str) -> float | None:
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) and number > 0 else None
