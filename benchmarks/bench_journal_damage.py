"""send_many journals under damage: how many messages a re-run creates a second time.

The figures of the bulk reliability issue, measured against FakeTelnyx on loopback:

- a completed 300-row campaign run again on the same journal path after the journal was
  truncated to 0 bytes, deleted, or had one page partly overwritten (its header intact);
- a 3000-row campaign SIGKILLed halfway, its ``campaign.db`` copied to another folder without
  its ``-wal`` and resumed there.

When a run refuses the journal (as it should for some damage), the script does what the
error says (moves the journal aside and runs again on the same path) and counts that run.

    python benchmarks/bench_journal_damage.py
"""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

from telnyx_messaging import AsyncClient
from telnyx_messaging.testing import FakeTelnyx


def rows(count: int) -> list[dict[str, Any]]:
    return [
        {"to": f"+1312{n:07d}", "from_": "+18445550001", "text": f"Hi #{n}"} for n in range(count)
    ]


def duplicates(fake: FakeTelnyx) -> int:
    made = collections.Counter(
        (m["to"][0]["phone_number"], m["text"]) for m in fake.messages.values()
    )
    return sum(n - 1 for n in made.values())


async def run(client: AsyncClient, count: int, journal: Path) -> str:
    """Run the campaign; on a refused journal, move it aside and run again. Say what happened."""
    try:
        async with client.messages.send_many(rows(count), journal=journal, concurrency=20) as r:
            async for _ in r:
                pass
        return "completed"
    except Exception as exc:  # noqa: BLE001 - whatever the version raises, it is reported
        what = f"{type(exc).__name__}"
    journal.rename(journal.with_suffix(".damaged"))  # noqa: ASYNC240 - once, between runs
    async with client.messages.send_many(rows(count), journal=journal, concurrency=20) as r:
        async for _ in r:
            pass
    return f"refused ({what}), moved aside, completed"


def overwrite_a_page(path: Path, page: int) -> None:
    """Overwrite 1000 bytes of page ``page`` (0-based) past its header."""
    data = bytearray(path.read_bytes())
    start = page * 4096
    data[start + 200 : start + 1200] = b"\x5a" * 1000
    path.write_bytes(bytes(data))


async def damaged(kind: str) -> tuple[int, str]:
    with tempfile.TemporaryDirectory() as folder:
        journal = Path(folder) / "campaign.db"
        async with (
            FakeTelnyx() as fake,
            AsyncClient(api_key=fake.api_key, base_url=fake.base_url) as client,
        ):
            await run(client, 300, journal)
            if kind == "truncated to 0 bytes":
                journal.write_bytes(b"")
            elif kind == "deleted":
                journal.unlink()
            else:
                overwrite_a_page(journal, int(kind.split()[1]))
            try:
                outcome = await run(client, 300, journal)
            except Exception as exc:  # noqa: BLE001
                outcome = f"raised {type(exc).__name__}"
            return duplicates(fake), outcome


CHILD = """
import asyncio, sys
from telnyx_messaging import AsyncClient
async def main():
    base_url, key, journal, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    rows = [{"to": f"+1312{n:07d}", "from_": "+18445550001", "text": f"Hi #{n}"}
            for n in range(count)]
    async with AsyncClient(api_key=key, base_url=base_url) as client:
        async with client.messages.send_many(rows, journal=journal, concurrency=20) as run:
            async for result in run:
                print(result.index, flush=True)
asyncio.run(main())
"""


async def killed_and_copied(count: int = 3000) -> tuple[int, str]:
    with tempfile.TemporaryDirectory() as folder:
        journal = Path(folder) / "campaign.db"
        async with (
            FakeTelnyx() as fake,
            AsyncClient(api_key=fake.api_key, base_url=fake.base_url) as client,
        ):
            child = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                textwrap.dedent(CHILD),
                fake.base_url,
                fake.api_key,
                str(journal),
                str(count),
                stdout=asyncio.subprocess.PIPE,
                env={**os.environ},
            )
            assert child.stdout is not None
            seen = 0
            while seen < count // 2:
                await child.stdout.readline()
                seen += 1
            child.send_signal(signal.SIGKILL)
            await child.wait()
            elsewhere = Path(folder) / "other-machine"
            elsewhere.mkdir()
            copy = elsewhere / "campaign.db"
            copy.write_bytes(journal.read_bytes())  # the .db alone, not its -wal
            size = copy.stat().st_size
            outcome = await run(client, count, copy)
            return duplicates(fake), f"{outcome}; the copied .db was {size // 1024} KiB"


async def main() -> None:
    print(f"{'damage':<52} {'sent twice':>10}  outcome")
    pages = [f"page {n} partly overwritten" for n in range(1, 5)]
    for kind in ("truncated to 0 bytes", "deleted", *pages):
        twice, outcome = await damaged(kind)
        print(f"{'300 rows, ' + kind:<52} {twice:>10}  {outcome}")
    twice, outcome = await killed_and_copied()
    print(f"{'3000 rows, SIGKILL halfway, .db copied without -wal':<52} {twice:>10}  {outcome}")


if __name__ == "__main__":
    asyncio.run(main())
