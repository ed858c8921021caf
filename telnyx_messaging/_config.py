"""Option values and their defaults, shared by the client, the request loop and the sync facade.

As httpx keeps ``Timeout`` in ``_config.py``: the lower request loop reads it without
importing the client that sits above it.
"""

from __future__ import annotations

import enum

from attrs import evolve, field, frozen

from telnyx_messaging import _args
from telnyx_messaging._errors import InvalidArgumentError

__all__ = ["DEFAULT_TIMEOUT", "Timeout"]


@frozen
class Timeout:
    """How long a call may take, in seconds.

    ``total`` bounds the whole call, retries and the waits between them included: a call
    returns or raises within it. ``connect`` bounds opening a connection. ``per_attempt``
    bounds each single try (default: whatever is left of ``total``); set it below ``total``
    so a hung request is abandoned and retried in time.
    """

    total: float | None = 60.0
    connect: float | None = 5.0
    per_attempt: float | None = None
    #: What the first attempt may take: per_attempt, but never more than total.
    first_attempt: float | None = field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        for name in ("total", "connect", "per_attempt"):
            _args.optional_seconds(f"Timeout.{name}", getattr(self, name))
        limits = [v for v in (self.per_attempt, self.total) if v is not None]
        object.__setattr__(self, "first_attempt", min(limits) if limits else None)


DEFAULT_TIMEOUT = Timeout()


class _Unset(enum.Enum):
    """Marks an option that was not given (``None`` is a meaningful timeout)."""

    UNSET = enum.auto()


_UNSET = _Unset.UNSET


def _coerce_timeout(timeout: float | Timeout | None) -> Timeout:
    if isinstance(timeout, Timeout):
        return timeout
    if timeout is None:
        return Timeout(total=None, connect=None)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise InvalidArgumentError(
            f"timeout must be seconds (a number) or a Timeout, got {type(timeout).__name__}"
        )
    return evolve(DEFAULT_TIMEOUT, total=float(timeout))
