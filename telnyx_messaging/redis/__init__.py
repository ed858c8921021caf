"""Several processes that behave as one, with Redis as the shared engine.

``pip install "telnyx-messaging[redis]"``:

- :class:`RedisDuplicateGuard` (:class:`SyncRedisDuplicateGuard` for WSGI): each webhook event
  handled once across every replica behind a load balancer.
- :class:`RedisDeliveryRelay`: a delivery webhook verified by any replica resolves the
  :class:`~telnyx_messaging.webhooks.DeliveryTracker` waits of every replica.
- :class:`RedisRateBudget`: one rate budget (account, per sender, per kind) and one 429
  pause for every process on the account.
- :class:`RedisCampaign` and :func:`run_campaign`: a bulk campaign's rows, derived keys and
  outcomes in Redis, sent by any number of workers, each row by one of them, readable as one
  :class:`CampaignReport` from any machine.

One Redis URL wires it up: pass ``url=`` or set ``TELNYX_REDIS_URL``. An unreachable Redis
at start raises :class:`~telnyx_messaging.ConfigurationError`; a password in the URL is
never logged or shown in a repr. ``docs/redis.md`` has the whole story.

This package imports redis-py; nothing else in ``telnyx_messaging`` imports this package.
"""

from __future__ import annotations

from telnyx_messaging.redis._campaign import (
    CampaignInterruptedError,
    CampaignReport,
    CampaignRow,
    RedisCampaign,
    run_campaign,
)
from telnyx_messaging.redis._connection import REDIS_URL_ENV, connect, connect_sync, redact
from telnyx_messaging.redis._dedupe import RedisDuplicateGuard, SyncRedisDuplicateGuard
from telnyx_messaging.redis._pacing import RedisRateBudget
from telnyx_messaging.redis._tracking import RedisDeliveryRelay

__all__ = [
    "REDIS_URL_ENV",
    "CampaignInterruptedError",
    "CampaignReport",
    "CampaignRow",
    "RedisCampaign",
    "RedisDeliveryRelay",
    "RedisDuplicateGuard",
    "RedisRateBudget",
    "SyncRedisDuplicateGuard",
    "connect",
    "connect_sync",
    "redact",
    "run_campaign",
]
