"""Telnyx's published sending limits, as a pacing profile a run starts from.

The figures are Telnyx's defaults (https://developers.telnyx.com/docs/messaging/messages/rate-limiting):
per account 50 SMS and 15 MMS a second; per sender a toll-free number 20 a second, a short
code 1,000, an alphanumeric sender ID 0.1, a long code 0.1 to destinations outside the US.
US long codes sending A2P to US numbers (10DLC) get what the carriers assign the campaign
(AT&T: messages per minute by message class; T-Mobile: a daily cap per brand), which only the
sender knows: set it with ``ten_dlc_per_minute`` and ``ten_dlc_daily_cap``.

A profile is a ceiling: the run never plans to go faster, and slows down further on Telnyx's
own signals (429, ``wait_seconds``, 40318, 40011). Pure values; no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

import attrs

from telnyx_messaging._errors import InvalidArgumentError

__all__ = [
    "MIN_RATE",
    "PROFILES",
    "SENDER_TYPES",
    "PacingProfile",
    "SenderType",
    "check_rate",
    "is_ten_dlc",
    "profile_named",
    "sender_type",
]

#: The slowest pace a run takes: one message an hour. Slower is a typo (or a unit mix-up)
#: that would stall a run for days after its first row.
MIN_RATE = 1 / 3600

#: The kinds of sender Telnyx meters differently.
SenderType = Literal["long_code", "toll_free", "short_code", "alphanumeric"]
SENDER_TYPES: tuple[str, ...] = SenderType.__args__  # type: ignore[attr-defined]

# phone_numbers.messaging.retrieve(...).type spells them both ways (the spec lists both).
_TELNYX_SPELLINGS = {
    "longcode": "long_code",
    "long-code": "long_code",
    "tollfree": "toll_free",
    "toll-free": "toll_free",
    "shortcode": "short_code",
    "short-code": "short_code",
}


def check_rate(name: str, value: Any) -> float | None:
    """``value`` as a rate in messages a second (finite, at least one an hour), or None."""
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < MIN_RATE
    ):
        raise InvalidArgumentError(
            f"{name} must be a positive number of messages a second, finite and at least one "
            f"an hour (1/3600), or None for no limit; got {value!r}. For example {name}=50 "
            f"for fifty a second, or {name}=1/60 for one a minute."
        )
    return float(value)


def sender_type(value: Any, *, name: str = "sender type") -> SenderType:
    """A sender type in this SDK's spelling; Telnyx's ``longcode``/``toll-free``... accepted."""
    if isinstance(value, str):
        spelled = _TELNYX_SPELLINGS.get(value, value)
        if spelled in SENDER_TYPES:
            return spelled  # type: ignore[return-value]
    raise InvalidArgumentError(
        f"{name} must be one of {', '.join(repr(t) for t in SENDER_TYPES)} (Telnyx's "
        f"'longcode', 'tollfree' and 'shortcode' are read too); got {value!r}"
    )


def _rate(_: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    check_rate(f"PacingProfile({attribute.name}=...)", value)


def _daily_cap(_: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise InvalidArgumentError(
            f"PacingProfile(ten_dlc_daily_cap=...) takes a whole number of messages a day >= 1 "
            f"or None, not {value!r}"
        )


def _per_minute(_: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    check_rate("PacingProfile(ten_dlc_per_minute=...)", None if value is None else value)
    if value is not None and value < 1 / 60:  # type: ignore[operator]
        raise InvalidArgumentError(
            "PacingProfile(ten_dlc_per_minute=...) is messages a minute, at least one an hour "
            f"(1/60); got {value!r}"
        )


@attrs.frozen(kw_only=True)
class PacingProfile:
    """The most a run plans to send, per account and per sender type, in messages a second.

    The defaults are Telnyx's published limits (docs/bulk.md says where each comes from).
    ``None`` lifts a limit: the run then goes as fast as ``concurrency`` allows until Telnyx
    answers 429, and settles just under what it answered. Override what your account was
    given, e.g. ``attrs.evolve(PROFILES["telnyx"], toll_free=40)`` or
    ``PacingProfile(ten_dlc_per_minute=4500)`` for an AT&T class A campaign.

    ``ten_dlc_per_minute`` paces each US long code (``+1``) that sends to US numbers; unset,
    they are paced by Telnyx's answers only. ``ten_dlc_daily_cap`` stops the run (a
    :class:`~telnyx_messaging.PauseTooLongError`) once that many 10DLC messages were sent
    by it: the rest can go tomorrow, resumed from the journal.

    .. versionadded:: 0.2.0
    """

    sms: float | None = attrs.field(default=50.0, validator=_rate)
    mms: float | None = attrs.field(default=15.0, validator=_rate)
    long_code: float | None = attrs.field(default=0.1, validator=_rate)
    toll_free: float | None = attrs.field(default=20.0, validator=_rate)
    short_code: float | None = attrs.field(default=1000.0, validator=_rate)
    alphanumeric: float | None = attrs.field(default=0.1, validator=_rate)
    ten_dlc_per_minute: float | None = attrs.field(default=None, validator=_per_minute)
    ten_dlc_daily_cap: int | None = attrs.field(default=None, validator=_daily_cap)

    def account_rate(self, kind: str) -> float | None:
        """The account's ceiling for ``kind`` ("sms", "mms"; others have none)."""
        return self.sms if kind == "sms" else self.mms if kind == "mms" else None

    def sender_rate(self, kind: SenderType | None, sender: str) -> float | None:
        """The ceiling for one sender of type ``kind`` (``None``: not known)."""
        if kind is None:
            return None
        if kind == "long_code" and is_ten_dlc(sender):
            per_minute = self.ten_dlc_per_minute
            return None if per_minute is None else per_minute / 60
        rate: float | None = getattr(self, kind)
        return rate


def is_ten_dlc(sender: str) -> bool:
    """Whether a long code is a US one, whose A2P throughput its 10DLC campaign sets."""
    return sender.startswith("+1")


#: Profiles by name. ``"telnyx"`` (the default) is Telnyx's published limits; ``"unpaced"``
#: plans no ceiling at all and follows Telnyx's answers only.
PROFILES: Mapping[str, PacingProfile] = {
    "telnyx": PacingProfile(),
    "unpaced": PacingProfile(
        sms=None, mms=None, long_code=None, toll_free=None, short_code=None, alphanumeric=None
    ),
}


def profile_named(value: Any) -> PacingProfile:
    """A profile given by name or as a `PacingProfile`."""
    if isinstance(value, PacingProfile):
        return value
    if isinstance(value, str) and value in PROFILES:
        return PROFILES[value]
    raise InvalidArgumentError(
        f"pacing must be a PacingProfile or one of the profile names "
        f"{', '.join(repr(name) for name in PROFILES)}; got {value!r}"
    )
