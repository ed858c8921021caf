"""send_many when the journal is lost, damaged or unwritable, and when rows misbehave.

Every check counts the messages FakeTelnyx created: a campaign run again after any damage
creates none twice (derived keys, replayed by Telnyx), and no run hangs.
"""

from __future__ import annotations

import asyncio
import collections
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from journal_files import sent_in_a_copy

from telnyx_messaging import (
    AlreadySentError,
    AsyncClient,
    ConfigurationError,
    InvalidArgumentError,
    JournalError,
    SendResult,
)
from telnyx_messaging._bulk import BulkOptions, BulkSend, _journal
from telnyx_messaging._bulk._intake import snapshot
from telnyx_messaging._bulk._journal import Entry, Journal, derive_key, row_hash
from telnyx_messaging.testing import FakeTelnyx

SENDER = "+18445550001"


def rows(count: int, tag: str = "Hi") -> list[dict[str, Any]]:
    return [{"to": f"+1312{n:07d}", "from_": SENDER, "text": f"{tag} #{n}"} for n in range(count)]


def created(fake: FakeTelnyx) -> collections.Counter[tuple[str, str]]:
    """(recipient, text) of every message the fake created, with how often."""
    return collections.Counter(
        (m["to"][0]["phone_number"], m["text"]) for m in fake.messages.values()
    )


def wanted(source: Sequence[Mapping[str, Any]]) -> collections.Counter[tuple[str, str]]:
    return collections.Counter((r["to"], r["text"]) for r in source)


async def send_all(
    client: AsyncClient, source: Any, **options: Any
) -> tuple[list[SendResult], BulkSend]:
    # What is under test here is the record of a campaign, not its pace (tests/bulk/
    # test_pacing.py): unpaced, a 300-row campaign takes a second, not fifteen.
    options.setdefault("pacing", "unpaced")
    async with client.messages.send_many(source, **options) as run:
        results = [r async for r in run]
    return results, run


# -- derived keys ------------------------------------------------------------------------------


def test_a_key_is_derived_from_campaign_method_index_and_content() -> None:
    """The same four give the same key; changing any one gives another."""
    digest = row_hash("send", {"to": "+13125550001", "text": "Hi"})
    key = derive_key("spring", "send", 3, digest)
    assert key == derive_key("spring", "send", 3, digest)
    others = {
        derive_key("autumn", "send", 3, digest),
        derive_key("spring", "send_long_code", 3, digest),
        derive_key("spring", "send", 4, digest),
        derive_key("spring", "send", 3, row_hash("send", {"to": "+13125550001", "text": "Ho"})),
    }
    assert key not in others
    assert len(others) == 4
    # Pinned: keys of running campaigns must not change between releases.
    assert derive_key("c", "send", 0, "0" * 32) == "77be3cb6-f06f-5ffc-bed0-cbf9f8500088"


def test_the_row_encoding_ignores_key_order_and_refuses_values_without_one() -> None:
    """Equal rows encode to equal bytes whatever their key order; a set has no stable
    encoding and is refused with the value's place."""
    a = {"to": "+1", "whatsapp_message": {"type": "text", "text": {"body": "x"}}}
    b = {"whatsapp_message": {"text": {"body": "x"}, "type": "text"}, "to": "+1"}
    assert _journal.encode_row("send", a) == _journal.encode_row("send", b)
    with pytest.raises(InvalidArgumentError, match=r"'tags'\] is a set"):
        _journal.encode_row("send", {"to": "+1", "x": {"tags": {"a"}}})
    with pytest.raises(InvalidArgumentError, match=r"'x' has a key 1; keys must be strings"):
        _journal.encode_row("send", {"x": {1: "a"}})
    # A tuple is a list; a date and a datetime are their ISO forms, told apart.
    assert _journal.encode_row("send", {"m": ("a", "b")}) == _journal.encode_row(
        "send", {"m": ["a", "b"]}
    )
    assert b'{"$date":"2026-12-06"}' in _journal.encode_row("schedule", {"d": date(2026, 12, 6)})


def test_a_row_is_snapshotted_deeply() -> None:
    """Nested lists, tuples and mappings are copied, nested mappings in sorted key order."""
    media = ["https://example.com/a.png"]
    nested = {"type": "text", "text": {"body": "x"}}
    taken = snapshot({"media_urls": media, "whatsapp_message": nested, "pair": ([1],)})
    media.append("https://example.com/b.png")
    nested["type"] = "image"
    assert taken["media_urls"] == ["https://example.com/a.png"]
    assert taken["whatsapp_message"] == {"text": {"body": "x"}, "type": "text"}
    assert list(taken["whatsapp_message"]) == ["text", "type"]
    assert taken["pair"] == ([1],)


async def test_a_campaign_run_again_without_a_journal_creates_nothing_twice(
    fake: FakeTelnyx, client: AsyncClient
) -> None:
    """With campaign= the keys are derived: the second run is replayed by Telnyx."""
    first, _ = await send_all(client, rows(20), campaign="spring", concurrency=5)
    again, _ = await send_all(client, rows(20), campaign="spring", concurrency=5)
    assert created(fake) == wanted(rows(20))
    assert {r.index: r.message_id for r in first} == {r.index: r.message_id for r in again}
    other, _ = await send_all(client, rows(20), campaign="autumn", concurrency=5)
    assert all(r.ok for r in other)
    assert len(fake.messages) == 40


# -- the journal lost or damaged -----------------------------------------------------------------


def _overwrite_a_page(path: Path) -> None:
    """Overwrite part of the last page, keeping its header (as the attack run did)."""
    data = bytearray(path.read_bytes())
    page = 4096
    last = (len(data) // page - 1) * page
    data[last + 200 : last + 1200] = b"\x5a" * 1000
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", ["truncate", "delete", "overwrite-page", "db-without-wal"])
async def test_a_damaged_journal_never_sends_a_row_twice(
    fake: FakeTelnyx, client: AsyncClient, tmp_path: Path, damage: str
) -> None:
    """After any damage, the campaign run again (doing what the error says) creates no
    message a second time."""
    journal = tmp_path / "campaign.db"
    source = rows(300)
    if damage == "db-without-wal":
        # What a crash leaves: the file and its -wal; then only the .db is copied elsewhere.
        copy = tmp_path / "copied" / "campaign.db"
        copy.parent.mkdir()
        async with client.messages.send_many(
            source, journal=journal, concurrency=10, pacing="unpaced"
        ) as run:
            async for result in run:
                if result.index == 150:
                    shutil.copy(journal, copy)
        journal = copy
    else:
        await send_all(client, source, journal=journal, concurrency=10)
        if damage == "truncate":
            journal.write_bytes(b"")
        elif damage == "delete":
            journal.unlink()
        else:
            _overwrite_a_page(journal)
    assert created(fake) == wanted(source)
    refused: JournalError | None = None
    try:
        results, _ = await send_all(client, source, journal=journal, concurrency=10)
    except JournalError as exc:
        refused = exc
        journal.rename(journal.with_suffix(".damaged"))  # what the message says to do
        results, _ = await send_all(client, source, journal=journal, concurrency=10)
    if damage == "truncate":  # the other damages may be read past: the keys make that safe
        assert refused is not None
    if refused is not None:
        assert str(journal) in str(refused)
        assert "Move" in str(refused)
    assert sorted(r.index for r in results) == list(range(300))
    assert all(r.ok for r in results)
    assert created(fake) == wanted(source)  # each message once


def _break_a_page(path: Path) -> None:
    """Overwrite a b-tree page's header: damage the integrity check sees."""
    data = bytearray(path.read_bytes())
    data[4096 : 4096 + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", ["truncate", "broken-page", "foreign"])
async def test_a_journal_that_fails_its_checks_is_refused_untouched(
    client: AsyncClient, tmp_path: Path, damage: str
) -> None:
    """An empty, damaged or foreign file is refused with a JournalError naming it, and not
    written to: no table added, no WAL switched on."""
    journal = tmp_path / "file.db"
    if damage == "foreign":
        with sqlite3.connect(journal) as db:
            db.execute("CREATE TABLE rows (id INTEGER PRIMARY KEY, name TEXT)")
            db.execute("INSERT INTO rows (name) VALUES ('theirs')")
        db.close()
    else:
        await send_all(client, rows(300), journal=journal, concurrency=10)
        if damage == "truncate":
            journal.write_bytes(b"")
        else:
            _break_a_page(journal)
    before = journal.read_bytes()
    with pytest.raises(JournalError, match=r"file\.db"):
        async with client.messages.send_many(rows(1), journal=journal):
            pass  # pragma: no cover
    assert journal.read_bytes() == before
    assert not Path(f"{journal}-wal").exists()  # noqa: ASYNC240 - a test's own check


async def test_a_journal_that_cannot_be_created_says_so(
    client: AsyncClient, tmp_path: Path
) -> None:
    """A journal in a folder that does not exist is a JournalError naming it; no file is left."""
    journal = tmp_path / "missing" / "j.db"
    with pytest.raises(JournalError, match=r"cannot create the journal .*missing"):
        async with client.messages.send_many(rows(1), journal=journal):
            pass  # pragma: no cover
    assert not journal.parent.exists()


async def test_a_journal_from_another_format_is_refused_naming_it(
    client: AsyncClient, tmp_path: Path
) -> None:
    """A journal of the pre-release format 1 (random keys) is refused: it says which format
    it found and what to do."""
    journal = tmp_path / "old.db"
    await send_all(client, rows(1), journal=journal)
    with sqlite3.connect(journal) as db:
        db.execute("UPDATE meta SET value = '1' WHERE name = 'format'")
    db.close()
    with pytest.raises(JournalError, match=r"format '1'.*reads format '2'.*new journal"):
        async with client.messages.send_many(rows(1), journal=journal):
            pass  # pragma: no cover


async def test_the_named_file_holds_everything_after_a_run(
    client: AsyncClient, tmp_path: Path
) -> None:
    """Closing folds the -wal into the file: the .db alone has every outcome."""
    journal = tmp_path / "j.db"
    await send_all(client, rows(50), journal=journal, concurrency=5)
    copy = tmp_path / "copy.db"
    shutil.copy(journal, copy)
    with sqlite3.connect(copy) as db:
        states = db.execute("SELECT state, count(*) FROM rows GROUP BY state").fetchall()
    db.close()
    assert states == [(_journal.SENT, 50)]


async def test_a_journal_keeps_its_campaign_and_refuses_another(
    fake: FakeTelnyx, client: AsyncClient, tmp_path: Path
) -> None:
    """A journal made with campaign= derives from it; resuming with another is refused, and
    the same campaign without a journal replays the journal's sends."""
    journal = tmp_path / "j.db"
    await send_all(client, rows(5), journal=journal, campaign="spring")
    with pytest.raises(InvalidArgumentError, match="campaign 'spring', not 'autumn'"):
        async with client.messages.send_many(rows(5), journal=journal, campaign="autumn"):
            pass  # pragma: no cover
    await send_all(client, rows(5), campaign="spring")
    assert created(fake) == wanted(rows(5))


# -- a journal that fails mid-run ----------------------------------------------------------------


class FailingJournal:
    """The real SQLite journal, failing the way a full disk does at one chosen call."""

    def __init__(self, path: Path, fail: str, after: int) -> None:
        self._journal = Journal(path, via="send")
        self.name = self._journal.name
        self.campaign = self._journal.campaign
        self._fail, self._after = fail, after

    def _maybe_fail(self, call: str) -> None:
        if call == self._fail:
            self._after -= 1
            if self._after < 0:
                raise JournalError(f"the journal {self.name!r} could not be written (full)")

    def lookup(self, first: int, last: int) -> Mapping[int, Entry]:
        self._maybe_fail("lookup")
        return self._journal.lookup(first, last)

    def start(self, rows: Sequence[tuple[int, str, str]]) -> None:
        self._maybe_fail("start")
        self._journal.start(rows)

    def finish(self, index: int, **outcome: Any) -> None:
        self._maybe_fail("finish")
        self._journal.finish(index, **outcome)

    def close(self) -> None:
        self._journal.close()
        self._maybe_fail("close")


@pytest.mark.parametrize("fail", ["lookup", "start", "finish"])
async def test_a_journal_failing_mid_run_ends_it_loudly_with_every_row_accounted(
    fake: FakeTelnyx, client: AsyncClient, tmp_path: Path, fail: str
) -> None:
    """A journal error in the feeder or a worker ends the run with a JournalError, never a
    hang; every row read has one result or is in not_started / unfinished."""
    journal = FailingJournal(tmp_path / "j.db", fail, after=3)
    one_attempt = client.with_options(max_retries=0).messages.send
    run = BulkSend(one_attempt, rows(400), BulkOptions(journal=journal), max_attempts=3)
    results: list[SendResult] = []

    async def consume() -> None:
        async with run:
            async for result in run:
                results.append(result)

    with pytest.raises(JournalError, match="could not be written"):
        await asyncio.wait_for(consume(), 60)
    indices = [r.index for r in results] + [*run.not_started, *run.unfinished]
    indices += [r.index for r in run.leftover_results]
    assert sorted(indices) == list(range(run.stats.read))
    sent = {r.index for r in [*results, *run.leftover_results] if r.ok}
    assert len(fake.messages) == len(sent)  # a message sent is never left unreported


DISK_FULL = """
import asyncio, resource, signal, sys
from telnyx_messaging import AsyncClient, JournalError

async def main():
    base_url, journal, key = sys.argv[1:4]
    rows = [{"to": "+1312%07d" % n, "from_": "+18445550001", "text": "x" * 100 + str(n)}
            for n in range(3000)]
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead
    async with AsyncClient(api_key=key, base_url=base_url) as client:
        run = client.messages.send_many(rows, journal=journal, concurrency=10)
        results = []
        try:
            async with run:
                # The disk is full from here on: files may not grow past 120 kB.
                resource.setrlimit(resource.RLIMIT_FSIZE, (120_000, resource.RLIM_INFINITY))
                async for result in run:
                    results.append(result)
        except JournalError as exc:
            print("JournalError", exc)
        accounted = len(results) + len(run.not_started) + len(run.unfinished)
        accounted += len(run.leftover_results)
        sent = sum(r.ok for r in results + run.leftover_results)
        print("read", run.stats.read, "accounted", accounted, "sent", sent)

asyncio.run(main())
"""


async def test_a_full_disk_ends_the_run_with_a_journal_error_and_no_row_lost(
    fake: FakeTelnyx, tmp_path: Path
) -> None:
    """Writes past a file-size limit fail as on a full disk: the run ends with a JournalError
    naming the journal, every row read is accounted for, every message sent is reported."""
    script = tmp_path / "disk_full.py"
    script.write_text(textwrap.dedent(DISK_FULL))
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(script),
        fake.base_url,
        str(tmp_path / "j.db"),
        fake.api_key,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode == 0, err.decode()
    lines = out.decode().splitlines()
    assert lines[0].startswith("JournalError the journal ")
    assert "j.db" in lines[0]
    assert "run the same input again with the same journal" in lines[0]
    _, read, _, accounted, _, sent = lines[1].split()
    assert read == accounted
    assert int(read) < 3000
    assert int(sent) == len(fake.messages)


async def test_outcomes_that_cannot_be_written_at_the_end_are_raised(
    fake: FakeTelnyx, client: AsyncClient, tmp_path: Path
) -> None:
    """A clean loop whose last outcomes cannot be written still raises, from the exit."""
    journal = FailingJournal(tmp_path / "j.db", "close", after=0)
    one_attempt = client.with_options(max_retries=0).messages.send
    run = BulkSend(one_attempt, rows(3), BulkOptions(journal=journal), max_attempts=1)
    results: list[SendResult] = []
    with pytest.raises(JournalError, match="could not be written"):
        async with run:
            results.extend([r async for r in run])
    assert sorted(r.index for r in results) == [0, 1, 2]


def test_a_full_journal_raises_journal_error_with_what_to_do(tmp_path: Path) -> None:
    """SQLite's "database or disk is full" becomes a JournalError naming the journal and
    saying to free space; the journal then closes without raising again."""
    journal = Journal(tmp_path / "j.db", via="send")
    journal.start([(0, "h" * 32, "k-0")])
    (pages,) = journal._db.execute("PRAGMA page_count").fetchone()
    journal._db.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full from here
    many = [(n, "h" * 32, "k" * 36 + str(n)) for n in range(1, 2000)]
    with pytest.raises(JournalError, match=r"j\.db.*full.*Free disk space"):
        journal.start(many)
    long_title = "x" * 20_000  # an outcome that needs new pages
    journal.finish(0, ok=False, message_id=None, error_code="1", error_title=long_title, attempts=1)
    with pytest.raises(JournalError, match="could not be written"):
        journal.flush()
    journal.close()
    with pytest.raises(JournalError, match="could not be read"):
        journal.lookup(0, 1)  # closed: what a vanished file would do


# -- rows ----------------------------------------------------------------------------------------


def reused_dict(count: int) -> Iterator[dict[str, Any]]:
    """One dict, changed and yielded again for every row (a common generator shortcut)."""
    row: dict[str, Any] = {"from_": SENDER}
    for n in range(count):
        row["to"] = f"+1312{n:07d}"
        row["text"] = f"Hi #{n}"
        yield row


@pytest.mark.parametrize("journaled", [False, True])
async def test_a_row_is_taken_as_it_was_when_read(
    fake: FakeTelnyx, client: AsyncClient, tmp_path: Path, journaled: bool
) -> None:
    """A reused, mutated dict cannot change a row already taken: each result names its own
    row, each recipient gets their text, and a resume of the same input is accepted."""
    journal = tmp_path / "j.db" if journaled else None
    results, _ = await send_all(client, reused_dict(200), journal=journal, concurrency=10)
    assert all(r.params["to"] == f"+1312{r.index:07d}" for r in results)
    assert created(fake) == wanted(rows(200))
    if journaled:
        again, _ = await send_all(client, reused_dict(200), journal=journal)
        assert all(r.resumed for r in again)


@pytest.mark.parametrize("journaled", [False, True])
async def test_a_row_with_a_non_string_key_is_a_failed_result(
    fake: FakeTelnyx, client: AsyncClient, tmp_path: Path, journaled: bool
) -> None:
    """csv.DictReader names an extra field None: that row fails, with or without a journal,
    and the rest are sent (no hang)."""
    source: list[dict[Any, Any]] = rows(5)
    source[2] = {**source[2], None: ["extra"]}
    journal = tmp_path / "j.db" if journaled else None
    results, _ = await asyncio.wait_for(send_all(client, source, journal=journal), 30)
    failed = [r for r in results if not r.ok]
    assert [r.index for r in failed] == [2]
    assert isinstance(failed[0].error, InvalidArgumentError)
    assert "row 2: has a column named None" in str(failed[0].error)
    assert len(fake.messages) == 4


class BrokenRow(Mapping[str, Any]):
    """A mapping that fails when read, as a lazy record of the caller's might."""

    def __getitem__(self, key: str) -> Any:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        raise OSError("the database behind this row went away")

    def __len__(self) -> int:
        return 1


@pytest.mark.parametrize("journaled", [False, True])
async def test_a_row_that_cannot_be_read_fails_alone(
    fake: FakeTelnyx, client: AsyncClient, tmp_path: Path, journaled: bool
) -> None:
    """A row whose reading raises, or whose content contains itself, fails that row; the
    others are sent and the run ends."""
    looped: list[Any] = []
    looped.append(looped)
    source: list[Any] = rows(4)
    source[1] = BrokenRow()
    source[2] = {**source[2], "media_urls": looped}
    options = {"journal": tmp_path / "j.db"} if journaled else {"campaign": "c"}
    results, _ = await asyncio.wait_for(send_all(client, source, **options), 30)
    failed = {r.index: str(r.error) for r in results if not r.ok}
    assert sorted(failed) == [1, 2]
    assert "row 1 cannot be read: OSError" in failed[1]
    assert failed[2].startswith("row 2")
    assert len(fake.messages) == 2


async def test_a_row_without_a_stable_encoding_fails_when_it_must_be_keyed(
    fake: FakeTelnyx, client: AsyncClient, tmp_path: Path
) -> None:
    """With a journal (or campaign=) each row is fingerprinted: a value with no stable
    encoding fails that row, and only that row."""
    source: list[dict[str, Any]] = rows(3)
    source[1] = {**source[1], "media_urls": {"https://example.com/a.png"}}
    for options in ({"journal": tmp_path / "j.db"}, {"campaign": "c"}):
        results, _ = await send_all(client, source, **options)
        failed = [r for r in results if not r.ok]
        assert [r.index for r in failed] == [1]
        assert "row 1: 'media_urls' is a set" in str(failed[0].error)


async def test_rows_differing_only_in_key_order_are_the_same_row(
    fake: FakeTelnyx, client: AsyncClient, tmp_path: Path
) -> None:
    """A resume whose rows list their columns (and nested fields) in another order is the
    same input, and the requests are byte-identical: replayed, not refused with 422."""
    journal = tmp_path / "j.db"
    wa = [
        {
            "from_": SENDER,
            "to": "+13125550001",
            "whatsapp_message": {"type": "text", "text": {"body": "x"}},
        }
    ]
    shuffled = [
        {
            "whatsapp_message": {"text": {"body": "x"}, "type": "text"},
            "to": "+13125550001",
            "from_": SENDER,
        }
    ]
    first, _ = await send_all(client, wa, via="send_whatsapp", campaign="wa")
    again, _ = await send_all(client, shuffled, via="send_whatsapp", campaign="wa")
    assert again[0].ok
    assert again[0].message_id == first[0].message_id
    await send_all(client, rows(3), journal=journal)
    reordered = [dict(reversed(list(r.items()))) for r in rows(3)]
    resumed, _ = await send_all(client, reordered, journal=journal)
    assert all(r.resumed for r in resumed)


# -- a reused key with other content ---------------------------------------------------------------


async def test_the_fake_answers_422_to_a_reused_key_with_another_body(
    fake: FakeTelnyx, client: AsyncClient
) -> None:
    """As Telnyx: the same key and body replay the first answer; another body gets 422."""
    from telnyx_messaging import UnprocessableEntityError

    first = await client.messages.send(
        to="+13125550001", from_=SENDER, text="a", idempotency_key="k1"
    )
    again = await client.messages.send(
        to="+13125550001", from_=SENDER, text="a", idempotency_key="k1"
    )
    assert again.id == first.id
    with pytest.raises(UnprocessableEntityError) as caught:
        await client.messages.send(to="+13125550001", from_=SENDER, text="b", idempotency_key="k1")
    assert "Idempotency" in str(caught.value)
    assert len(fake.messages) == 1


async def test_a_reused_key_with_other_content_is_already_sent_not_a_failure_to_retry(
    fake: FakeTelnyx, client: AsyncClient, tmp_path: Path
) -> None:
    """Telnyx's 422 for a key used with another body is AlreadySentError: one attempt, an
    "already sent with other content" result, and a retry_failed resume sends nothing."""
    await client.messages.send(to="+13125550009", from_=SENDER, text="first", idempotency_key="o-1")
    source = [{"to": "+13125550009", "from_": SENDER, "text": "second", "idempotency_key": "o-1"}]
    journal = tmp_path / "j.db"
    (result,), _ = await send_all(client, source, journal=journal)
    assert not result.ok
    assert result.attempts == 1
    assert isinstance(result.error, AlreadySentError)
    assert result.error.idempotency_key == "o-1"
    assert result.error_title == "already sent with other content"
    assert result.error_code == "already_sent"
    (again,), _ = await send_all(client, source, journal=journal, retry_failed=True)
    assert isinstance(again.error, AlreadySentError)
    assert len(fake.messages) == 1


# -- one run at a time, outcomes committed as the run goes --------------------------------------


HOLDER = """
import sqlite3, sys, time
from telnyx_messaging._bulk._journal import Journal
journal = Journal(sys.argv[1], via="send")
print("holding", flush=True)
time.sleep(60)
"""


async def test_a_second_run_is_refused_at_once(client: AsyncClient, tmp_path: Path) -> None:
    """A journal held by another process is refused immediately, not after a busy wait."""
    journal = tmp_path / "j.db"
    await send_all(client, rows(1), journal=journal)
    holder = subprocess.Popen(  # noqa: ASYNC220, S603 - a process of the test's own, briefly
        [sys.executable, "-c", HOLDER, str(journal)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "holding\n"
        started = time.monotonic()
        with pytest.raises(ConfigurationError, match="in use by another run"):
            async with client.messages.send_many(rows(1), journal=journal):
                pass  # pragma: no cover
        assert time.monotonic() - started < 0.9  # SQLite's busy wait would be 1 s or more
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()


async def test_outcomes_are_committed_while_the_run_goes(
    client: AsyncClient, tmp_path: Path
) -> None:
    """Outcomes reach the file during the run, FLUSH_ROWS at a time at most: a copy taken
    before the run closes (what a crash would leave) holds them."""
    journal = tmp_path / "j.db"
    async with client.messages.send_many(
        rows(600), journal=journal, concurrency=20, pacing="unpaced"
    ) as run:
        async for _ in run:
            pass
        sent = sent_in_a_copy(journal, tmp_path)
    assert sent >= 600 - _journal.FLUSH_ROWS


async def test_outcomes_wait_at_most_flush_seconds(client: AsyncClient, tmp_path: Path) -> None:
    """At a slow pace, an outcome older than FLUSH_SECONDS is committed with the next one."""
    journal = tmp_path / "j.db"
    rate = 4.0  # one row per 0.25 s: the first rows are long past FLUSH_SECONDS at the end
    async with client.messages.send_many(rows(8), journal=journal, rate=rate, concurrency=1) as run:
        async for _ in run:
            pass
        sent = sent_in_a_copy(journal, tmp_path)
    assert sent >= 1  # written during the run, not only when it closes


def test_the_sync_client_derives_the_same_keys(threaded_fake: FakeTelnyx, sync_client: Any) -> None:
    """The sync facade runs the same BulkSend: campaign= makes a second run a replay."""
    for _ in range(2):
        with sync_client.messages.send_many(rows(10), campaign="sync-spring") as run:
            results = list(run)
        assert all(r.ok for r in results)
    assert created(threaded_fake) == wanted(rows(10))
