"""A property: whatever the crash point, and whatever is lost of the journal after it, the
campaign run again makes FakeTelnyx create each input row's message exactly once."""

from __future__ import annotations

import asyncio
import collections
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from telnyx_messaging import AsyncClient, JournalError, set_instant_retries
from telnyx_messaging.testing import FakeTelnyx

#: What is left of the journal after the crash: both files (a plain crash), the .db without
#: its -wal (copied alone), nothing (deleted), an empty .db (truncated).
LOSSES = ["nothing lost", "wal lost", "journal deleted", "truncated"]


def _rows(count: int) -> list[dict[str, Any]]:
    return [
        {"to": f"+1312{n:07d}", "from_": "+18445550001", "text": f"Row {n}"} for n in range(count)
    ]


def _snapshot(journal: Path, into: Path) -> None:
    """What a SIGKILL at this instant leaves on disk: the committed pages, in both files."""
    into.mkdir()
    for suffix in ("", "-wal"):
        source = Path(f"{journal}{suffix}")
        if source.exists():
            shutil.copy(source, into / f"{journal.name}{suffix}")


def _restore(snapshot: Path, journal: Path, loss: str) -> None:
    for suffix in ("", "-wal"):
        Path(f"{journal}{suffix}").unlink(missing_ok=True)
    kept = {"nothing lost": ("", "-wal"), "wal lost": ("",), "truncated": ("",)}
    for suffix in kept.get(loss, ()):
        saved = snapshot / f"{journal.name}{suffix}"
        if saved.exists():
            shutil.copy(saved, f"{journal}{suffix}")
    if loss == "truncated" and journal.exists():
        journal.write_bytes(b"")


async def _campaign(count: int, crash_after: int, loss: str, concurrency: int) -> None:
    source = _rows(count)
    with tempfile.TemporaryDirectory() as folder:
        journal = Path(folder) / "campaign.db"
        snapshot = Path(folder) / "crash"
        async with (
            FakeTelnyx() as fake,
            AsyncClient(api_key=fake.api_key, base_url=fake.base_url) as client,
        ):
            run = client.messages.send_many(source, journal=journal, concurrency=concurrency)
            async with run:
                if crash_after == 0:
                    _snapshot(journal, snapshot)
                taken = 0
                async for _ in run:
                    taken += 1
                    if taken == crash_after:
                        _snapshot(journal, snapshot)
                        break  # sends in flight still reach the fake, as after a real crash
            _restore(snapshot, journal, loss)
            try:
                async with client.messages.send_many(source, journal=journal) as again:
                    results = [r async for r in again]
            except JournalError:
                # What the error says to do: move the journal aside, run again on the path.
                journal.rename(journal.with_suffix(".damaged"))
                async with client.messages.send_many(source, journal=journal) as again:
                    results = [r async for r in again]
            assert sorted(r.index for r in results) == list(range(count))
            made = collections.Counter(
                (m["to"][0]["phone_number"], m["text"]) for m in fake.messages.values()
            )
            assert made == collections.Counter((r["to"], r["text"]) for r in source)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    data=st.data(),
    count=st.integers(min_value=1, max_value=40),
    loss=st.sampled_from(LOSSES),
    concurrency=st.integers(min_value=1, max_value=8),
)
def test_any_crash_and_any_journal_loss_sends_each_row_once(
    data: st.DataObject, count: int, loss: str, concurrency: int
) -> None:
    """Crash after any number of results, lose any part of the journal: each row's message is
    created once, because every row keeps the key derived from the campaign and its content."""
    crash_after = data.draw(st.integers(min_value=0, max_value=count), label="crash_after")
    with set_instant_retries():
        asyncio.run(_campaign(count, crash_after, loss, concurrency))
