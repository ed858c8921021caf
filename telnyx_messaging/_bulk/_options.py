"""What a bulk run is asked to do: ``send_many``'s keywords as one frozen, checked value.

``Messages.send_many``, the sync client's ``send_many`` (which calls it) and the
``send-bulk`` command all describe a run with a :class:`BulkOptions`; it checks every keyword
once, when it is made, so a bad value is refused before a row is read.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal, cast

from attrs import field, frozen

from telnyx_messaging import _args
from telnyx_messaging._bulk._budget import PacingBudget
from telnyx_messaging._bulk._pacing import DEFAULT_MAX_PAUSE, check_max_pause
from telnyx_messaging._bulk._profiles import PacingProfile, check_rate, profile_named, sender_type
from telnyx_messaging._errors import ConfigurationError, InvalidArgumentError

if TYPE_CHECKING:
    from telnyx_messaging._bulk._journal import CampaignJournal
    from telnyx_messaging._bulk._results import BulkStats
    from telnyx_messaging.webhooks._tracking import DeliveryTracker

__all__ = ["VIA", "BulkOptions", "SenderTypes", "Via"]

#: The ``messages`` methods a run can send with: every one that creates a message.
Via = Literal[
    "send",
    "send_long_code",
    "send_short_code",
    "send_number_pool",
    "schedule",
    "send_group_mms",
    "send_whatsapp",
]
VIA: tuple[str, ...] = Via.__args__  # type: ignore[attr-defined]


#: ``send_many(sender_types=...)``: each sender's type by its ``from_``, or ``"lookup"`` to ask
#: Telnyx once per sender.
SenderTypes = Mapping[str, str] | Literal["lookup"]


def _via(_: Any, __: Any, value: Any) -> None:
    if value not in VIA:
        raise InvalidArgumentError(f"via must be one of {', '.join(VIA)}; got {value!r}")


def _seconds(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise InvalidArgumentError(f"{name} must be a positive number of seconds, got {value!r}")
    return float(value)


def _progress_interval(value: Any) -> float:
    return _seconds("progress_interval", value)


def _delivery_timeout(value: Any) -> float:
    return _seconds("delivery_timeout", value)


def _concurrency(value: Any) -> int:
    return _args.whole_number("concurrency", value, minimum=1)


def _rate(value: Any) -> float | None:
    return check_rate("rate", value)


def _per_sender_rate(value: Any) -> float | None:
    return check_rate("per_sender_rate", value)


def _campaign(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > 1000:
        raise InvalidArgumentError(
            "campaign must be a non-empty string of up to 1000 characters that names this "
            f"campaign (e.g. 'spring-sale-2026'), got {value!r}"
        )
    return value


def _sender_types(value: Any) -> SenderTypes:
    if value is None:
        return {}
    if value == "lookup":
        return "lookup"
    if not isinstance(value, Mapping):
        raise InvalidArgumentError(
            "sender_types maps each from_ number to its type, e.g. "
            "{'+18885550100': 'toll_free'}, or is 'lookup' to ask Telnyx once per sender; "
            f"got {value!r}"
        )
    return {
        _args.string("every key of sender_types", sender): sender_type(
            kind, name=f"sender_types[{sender!r}]"
        )
        for sender, kind in value.items()
    }


def _budget(_: Any, __: Any, value: Any) -> None:
    if value is not None and not isinstance(value, PacingBudget):
        raise InvalidArgumentError(
            "budget must be a PacingBudget (async take(key, rate) and hold(key, seconds)), "
            f"got {type(value).__name__}"
        )


def _optional_deadline(value: Any) -> float | None:
    return _args.optional_seconds("deadline", value)


def _flag(value: Any) -> bool:
    return bool(value)


def _optional_attempts(value: Any) -> int | None:
    return None if value is None else _args.whole_number("max_attempts", value, minimum=1)


def _optional_total(value: Any) -> int | None:
    return None if value is None else _args.whole_number("total", value, minimum=0)


def _journal(value: Any) -> str | CampaignJournal | None:
    if value is None:
        return None
    if isinstance(value, (str, os.PathLike)):
        return os.fspath(value)
    if all(hasattr(value, name) for name in ("lookup", "start", "finish", "close", "campaign")):
        return cast("CampaignJournal", value)  # a store of the caller's own
    raise InvalidArgumentError(
        f"journal must be a file path (str or os.PathLike), got {type(value).__name__}"
    )


def _on_progress(_: Any, __: Any, value: Any) -> None:
    if value is not None and not callable(value):
        raise InvalidArgumentError("on_progress must be a callable taking a BulkStats")


def _tracker(_: Any, __: Any, value: Any) -> None:
    if value is None:
        return
    from telnyx_messaging.webhooks._tracking import DeliveryTracker

    if not isinstance(value, DeliveryTracker):
        raise InvalidArgumentError(
            "await_delivery takes a webhooks.DeliveryTracker fed by your webhook "
            f"receiver, got {type(value).__name__}"
        )
    if value.is_closed:
        raise ConfigurationError(
            "the DeliveryTracker given as await_delivery is closed; pass an open one"
        )


@frozen(kw_only=True)
class BulkOptions:
    """How a run sends: the keywords of :meth:`Messages.send_many`, checked when made.

    ``max_attempts=None`` means the client's ``max_retries + 1``; the run resolves it.
    ``campaign`` names the campaign each row's Idempotency-Key is derived from (with a
    journal and no campaign, the journal's; with neither, keys are random).
    """

    via: Via = field(default="send", validator=_via)
    concurrency: int = field(default=50, converter=_concurrency)
    rate: float | None = field(default=None, converter=_rate)
    per_sender_rate: float | None = field(default=None, converter=_per_sender_rate)
    max_attempts: int | None = field(default=None, converter=_optional_attempts)
    #: A file path (the SQLite journal) or another store implementing ``CampaignJournal``.
    journal: str | CampaignJournal | None = field(default=None, converter=_journal)
    campaign: str | None = field(default=None, converter=_campaign)
    retry_failed: bool = field(default=False, converter=_flag)
    on_progress: Callable[[BulkStats], object] | None = field(default=None, validator=_on_progress)
    progress_interval: float = field(default=1.0, converter=_progress_interval)
    total: int | None = field(default=None, converter=_optional_total)
    await_delivery: DeliveryTracker | None = field(default=None, validator=_tracker)
    delivery_timeout: float = field(default=600.0, converter=_delivery_timeout)
    pacing: PacingProfile = field(factory=PacingProfile, converter=profile_named)
    sender_types: SenderTypes = field(factory=dict, converter=_sender_types)
    max_pause: float = field(default=DEFAULT_MAX_PAUSE, converter=check_max_pause)
    budget: PacingBudget | None = field(default=None, validator=_budget)
    deadline: float | None = field(default=None, converter=_optional_deadline)
