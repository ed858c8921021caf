"""Journal promises that mutation testing found unpinned (issue 24).

Pure: the SQLite journal on its own, no run, no server; the clock it batches outcomes by is
the test's. What a user sees of each: the words of its errors (they say what to do), when
outcomes reach the file, the file's contents, and the campaign id keys are derived from.
"""

from __future__ import annotations

import hashlib
import os
import re
import resource
import signal
import sqlite3
import time
from datetime import date, datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from journal_files import sent_in_a_copy

from telnyx_messaging import ConfigurationError, InvalidArgumentError, JournalError
from telnyx_messaging._bulk import _journal
from telnyx_messaging._bulk._journal import (
    Journal,
    campaign_of_path,
    derive_key,
    encode_row,
    row_hash,
)

WHAT_TO_DO = (
    "Move {path!r} aside and run the same input again with journal= the same path (or the "
    "same campaign=): each row's key is derived from the campaign, so Telnyx does not create "
    "again what it created in the last 24 hours."
)


class FrozenClock:
    """The journal's ``time`` module, with a monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return time.time()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    frozen = FrozenClock()
    monkeypatch.setattr(
        _journal, "time", SimpleNamespace(monotonic=frozen.monotonic, time=frozen.time)
    )
    return frozen


class FileSizeLimit:
    """Files may not grow past ``limit`` bytes while inside: a full disk, for this process."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def __enter__(self) -> None:
        self._signal = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # fail, do not die
        self._soft, self._hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (self.limit, self._hard))

    def __exit__(self, *_: object) -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (self._soft, self._hard))
        signal.signal(signal.SIGXFSZ, self._signal)


def overwritten(path: Path, pages: tuple[int, ...], width: int) -> None:
    """A closed journal of 3,000 rows, then ``width`` bytes of each of ``pages``' cell
    pointers overwritten."""
    journal = Journal(path, via="send")
    started(journal, 3000)
    journal.close()
    with path.open("r+b") as file:
        for page in pages:
            file.seek(page * 4096 + 8)
            file.write(b"\xff" * width)


def refusal(path: Path, error: type[Exception] = JournalError, **options: Any) -> str:
    """The message of opening ``path`` as a journal, which must fail with ``error``."""
    with pytest.raises(error) as caught:
        Journal(path, **{"via": "send", **options})
    return str(caught.value)


def started(journal: Journal, count: int) -> None:
    journal.start([(n, f"{n:032x}", f"key-{n}") for n in range(count)])


def finish(journal: Journal, index: int) -> None:
    journal.finish(
        index, ok=True, message_id=f"m-{index}", error_code=None, error_title=None, attempts=1
    )


# -- when outcomes reach the file ----------------------------------------------------------------


def test_outcomes_are_committed_256_at_a_time(clock: FrozenClock, tmp_path: Path) -> None:
    """The docs' "every 256 results": the 256th outcome commits the batch, not the 257th."""
    path = tmp_path / "j.db"
    journal = Journal(path, via="send")
    started(journal, 300)
    for index in range(255):
        finish(journal, index)
    assert sent_in_a_copy(path, tmp_path) == 0
    finish(journal, 255)
    assert sent_in_a_copy(path, tmp_path) == 256
    finish(journal, 256)
    assert sent_in_a_copy(path, tmp_path) == 256
    journal.close()
    assert sent_in_a_copy(path, tmp_path) == 257


def test_outcomes_wait_half_a_second_at_most(clock: FrozenClock, tmp_path: Path) -> None:
    """The docs' "or half a second of them": an outcome noted exactly 0.5 s after the last
    commit waits; one noted later commits itself and those before it."""
    path = tmp_path / "j.db"
    journal = Journal(path, via="send")
    started(journal, 3)  # a commit: the half second counts from here
    clock.now += 0.5
    finish(journal, 0)
    assert sent_in_a_copy(path, tmp_path) == 0
    clock.now += 0.001
    finish(journal, 1)
    assert sent_in_a_copy(path, tmp_path) == 2
    clock.now += 0.4
    finish(journal, 2)
    assert sent_in_a_copy(path, tmp_path) == 2  # under half a second since that commit
    journal.close()


# -- the words of its errors ---------------------------------------------------------------------


def test_an_empty_journal_says_what_it_is_and_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    path.write_bytes(b"")
    assert refusal(path) == (
        f"the journal {str(path)!r} is empty (0 bytes): it was truncated, or is not a journal. "
        + WHAT_TO_DO.format(path=str(path))
    )


def test_a_write_that_fails_records_none_of_its_rows(tmp_path: Path) -> None:
    """A failed ``start`` is all or nothing: the rows before the failure are not recorded
    either (rolled back), the error says to check the disk, and the journal stays usable."""
    path = tmp_path / "j.db"
    journal = Journal(path, via="send")
    unwritable: Any = object()  # what SQLite cannot store: fails the second row, not the first
    with pytest.raises(JournalError) as caught:
        journal.start([(0, "0" * 32, "key-0"), (1, unwritable, "key-1")])
    message = str(caught.value)
    assert message.startswith(f"the journal {str(path)!r} could not be written (")
    assert message.endswith(
        "); the run stopped. Check the disk, then run the same input again with the same "
        "journal: rows already sent are not sent again."
    )
    assert journal.lookup(0, 1) == {}
    journal.close()


def test_a_full_disk_says_free_disk_space(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.db", via="send")
    started(journal, 1)
    (pages,) = journal._db.execute("PRAGMA page_count").fetchone()
    journal._db.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full from here
    with pytest.raises(JournalError) as caught:
        journal.start([(n, "h" * 32, "k" * 36 + str(n)) for n in range(1, 2000)])
    assert re.fullmatch(
        rf"the journal {re.escape(repr(str(tmp_path / 'j.db')))} could not be written "
        r"\(.*full.*\); the run stopped\. Free disk space, then run the same input again with "
        r"the same journal: rows already sent are not sent again\.",
        str(caught.value),
    )
    journal.close()


def test_a_read_that_fails_names_sqlites_reason(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.db", via="send")
    journal.close()
    with pytest.raises(JournalError, match=r"could not be read \(.*closed database\.\)"):
        journal.lookup(0, 1)


# -- the campaign id and where the file is made --------------------------------------------------


def test_an_unnamed_journals_campaign_is_journal_and_its_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pinned: keys of a campaign re-run on a new journal at the same path must not change
    between releases."""
    monkeypatch.chdir(tmp_path)
    assert campaign_of_path("j.db") == f"journal:{tmp_path / 'j.db'}"
    journal = Journal("j.db", via="send")
    assert journal.campaign == f"journal:{tmp_path / 'j.db'}"
    journal.close()
    assert (
        derive_key(campaign_of_path("/srv/spring.db"), "send", 7, "0" * 32)
        == derive_key("journal:/srv/spring.db", "send", 7, "0" * 32)
        == "d5b2449f-4677-559b-8222-818550d21fa5"
    )


def test_a_journal_is_made_beside_its_name_whatever_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new file is built beside the journal (a link moves it into place), not in the
    working directory, which may be anywhere, or gone; nothing is left behind."""
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    home = tmp_path / "campaigns"
    home.mkdir()
    journal = Journal(home / "j.db", via="send")
    journal.close()
    assert sorted(os.listdir(home)) == ["j.db"]


# -- what the file holds -------------------------------------------------------------------------


def test_the_file_says_its_format_method_campaign_and_when(tmp_path: Path) -> None:
    """The ``meta`` table docs/bulk.md describes, for whoever reads the file."""
    before = time.time()
    journal = Journal(tmp_path / "j.db", via="send_long_code", campaign="spring")
    journal.close()
    db = sqlite3.connect(tmp_path / "j.db")
    try:
        meta = dict(db.execute("SELECT name, value FROM meta").fetchall())
    finally:
        db.close()
    assert set(meta) == {"format", "via", "campaign", "created_at", "opened_at"}
    assert (meta["format"], meta["via"], meta["campaign"]) == ("2", "send_long_code", "spring")
    assert before <= float(meta["created_at"]) <= float(meta["opened_at"]) <= time.time()


def test_outcomes_that_cannot_be_written_name_sqlites_reason(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.db", via="send")
    started(journal, 1)
    (pages,) = journal._db.execute("PRAGMA page_count").fetchone()
    journal._db.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full from here
    journal.finish(
        0, ok=False, message_id=None, error_code="1", error_title="x" * 20_000, attempts=1
    )
    with pytest.raises(JournalError, match=r"could not be written \(.*full.*\)"):
        journal.flush()
    journal.close()


def test_a_close_that_cannot_fold_the_log_back_loses_nothing(tmp_path: Path) -> None:
    """Folding the ``-wal`` into the file is best effort: when the file cannot grow, close
    still closes, and the pair of files holds every outcome for the next run."""
    path = tmp_path / "j.db"
    journal = Journal(path, via="send")
    started(journal, 500)
    for index in range(500):
        finish(journal, index)
    journal.flush()
    with FileSizeLimit(path.stat().st_size):
        journal.close()
    assert Path(f"{path}-wal").exists()  # the log could not be folded back: the pair remains
    again = Journal(path, via="send")
    entries = again.lookup(0, 499)
    again.close()
    assert [entries[n].message_id for n in range(500)] == [f"m-{n}" for n in range(500)]


def test_a_journal_that_cannot_be_read_says_why(tmp_path: Path) -> None:
    """A link to a file that is gone: refused, naming the journal and the system's reason."""
    path = tmp_path / "j.db"
    path.symlink_to(tmp_path / "moved-away.db")
    with pytest.raises(JournalError) as caught:
        Journal(path, via="send")
    assert re.fullmatch(
        rf"cannot read the journal {re.escape(repr(str(path)))}: \[Errno 2\] No such file.*",
        str(caught.value),
    )


def with_null_hashes(path: Path, count: int) -> None:
    """A journal with ``count`` rows whose hash is NULL: SQLite's check finds one problem
    per row (its schema says NOT NULL), in a single answer of many lines."""
    Journal(path, via="send").close()
    db = sqlite3.connect(path, isolation_level=None)
    (schema,) = db.execute("SELECT sql FROM sqlite_master WHERE name = 'rows'").fetchone()
    lax = schema.replace("params_hash TEXT NOT NULL", "params_hash TEXT")
    for sql in (lax, schema):
        db.execute("PRAGMA writable_schema = ON")
        db.execute("UPDATE sqlite_master SET sql = ? WHERE name = 'rows'", (sql,))
        db.close()
        db = sqlite3.connect(path, isolation_level=None)
        if sql is lax:
            db.executemany(
                "INSERT INTO rows (idx, params_hash, idempotency_key, state, updated_at) "
                "VALUES (?, NULL, 'k', 0, 0)",
                [(n,) for n in range(count)],
            )
    db.close()


@pytest.mark.parametrize("count", [1, 3, 4, 150])
def test_a_damaged_journal_names_three_problems_at_most(tmp_path: Path, count: int) -> None:
    """SQLite's check can find a hundred problems: the message names the first three, on
    one line, and says what to do."""
    path = tmp_path / "j.db"
    with_null_hashes(path, count)
    with pytest.raises(JournalError) as caught:
        Journal(path, via="send")
    shown = ["NULL value in rows.params_hash"] * min(count, 3) + ["..."] * (count > 3)
    assert str(caught.value) == (
        f"the journal {str(path)!r} is damaged ({'; '.join(shown)}). "
        + WHAT_TO_DO.format(path=str(path))
    )


def test_a_journal_with_damaged_pages_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    overwritten(path, (5, 9, 13, 17), 64)  # their cell pointers: a hundred problems
    with pytest.raises(JournalError) as caught:
        Journal(path, via="send")
    message = str(caught.value)
    assert "\n" not in message
    assert "***" not in message  # SQLite's heading, not a problem
    assert re.search(r"is damaged \(([^;]+; ){3}\.\.\.\)\. Move ", message), message


@pytest.mark.parametrize(
    ("make", "tables"),
    [
        (
            "CREATE TABLE users (id INTEGER); CREATE TABLE orders (id INTEGER)",
            "['orders', 'users']",
        ),
        ("CREATE TABLE t (id INTEGER); DROP TABLE t", "none"),
    ],
)
def test_an_sqlite_file_of_another_program_is_refused_naming_its_tables(
    tmp_path: Path, make: str, tables: str
) -> None:
    path = tmp_path / "app.db"
    db = sqlite3.connect(path)
    db.executescript(make)
    db.close()
    assert refusal(path) == (
        f"{str(path)!r} is an SQLite file but not a journal of telnyx-messaging (its tables "
        f"are {tables}); nothing was written to it. Pass a new file name for the journal."
    )


# -- what a row's key is made from ---------------------------------------------------------------


def test_a_rows_encoding_is_pinned() -> None:
    """The bytes a row's key and hash are made from: keys of running campaigns must not
    change between releases. Sorted keys at every level, no spaces, UTF-8 as it is."""
    row = {
        "to": "+13125550001",
        "text": "Grüße",
        "media_urls": ["https://x/b.png", "https://x/a.png"],
        "send_at": datetime(2026, 5, 1, 9, 30, tzinfo=timezone.utc),
        "on": date(2026, 5, 1),
        "whatsapp_message": {"type": "text", "body": None, "n": 1.5, "ok": True},
    }
    encoded = (
        '["send",{"media_urls":["https://x/b.png","https://x/a.png"],'
        '"on":{"$date":"2026-05-01"},"send_at":{"$datetime":"2026-05-01T09:30:00+00:00"},'
        '"text":"Grüße","to":"+13125550001",'
        '"whatsapp_message":{"body":null,"n":1.5,"ok":true,"type":"text"}}]'
    ).encode()
    assert encode_row("send", row) == encoded
    # The hash is the first 32 hex digits of the encoding's SHA-256.
    assert row_hash("send", row) == hashlib.sha256(encoded).hexdigest()[:32]
    assert row_hash("send_long_code", row) != row_hash("send", row)


def test_rows_differing_inside_a_list_differ() -> None:
    one = {"to": "+13125550001", "media_urls": ["https://x/a.png"]}
    other = {"to": "+13125550001", "media_urls": ["https://x/b.png"]}
    assert row_hash("send", one) != row_hash("send", other)


def test_a_value_with_no_stable_encoding_names_its_place() -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        encode_row("send", {"media_urls": ["https://x/a.png", {"https://x/b.png"}]})
    assert str(caught.value) == (
        "'media_urls'[1] is a set, which has no stable encoding; use strings, numbers, "
        "booleans, None, lists, mappings and datetimes"
    )


def test_a_lone_surrogate_still_gets_a_key() -> None:
    """What a CSV decoded with errors="surrogateescape" leaves in a cell: encoded as it is,
    so the row is sent (and fails or not at Telnyx) rather than break the run."""
    one, other = {"text": "caf\udce9"}, {"text": "caf\udce8"}
    assert row_hash("send", one) != row_hash("send", other)
    assert row_hash("send", one) == row_hash("send", dict(one))


# -- opening -------------------------------------------------------------------------------------


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(JournalError) as caught:
        Journal(tmp_path, via="send")
    assert str(caught.value) == f"the journal {str(tmp_path)!r} is a directory; pass a file name"


def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("to,text\n+13125550001,Hi\n")
    assert refusal(path) == (
        f"{str(path)!r} is not a journal of telnyx-messaging (not an SQLite file, or its first "
        "page is damaged). If it is not yours to replace, pass another file name; if it was a "
        "journal: " + WHAT_TO_DO.format(path=str(path))
    )


def test_a_journal_in_use_is_refused_saying_why(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    first = Journal(path, via="send")
    try:
        with pytest.raises(ConfigurationError) as caught:
            Journal(path, via="send")
    finally:
        first.close()
    assert str(caught.value) == (
        f"the journal {str(path)!r} is in use by another run; wait for it to end (two runs "
        "on one journal would send every row twice)"
    )


def test_a_journal_for_another_method_or_format_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    Journal(path, via="send_long_code").close()
    with pytest.raises(InvalidArgumentError) as caught:
        Journal(path, via="send")
    assert str(caught.value) == (
        f"the journal {str(path)!r} belongs to a run that sent with messages.send_long_code, "
        "not messages.send; resume it with the same method, or pass a new journal"
    )
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE meta SET value = '1' WHERE name = 'format'")
    db.close()
    with pytest.raises(JournalError) as refused:
        Journal(path, via="send_long_code")
    assert str(refused.value) == (
        f"the journal {str(path)!r} has format '1', written by another version of "
        "telnyx-messaging; this one reads format '2'. Finish that campaign with the version "
        "that started it, or pass a new journal."
    )


def test_a_journal_that_records_no_campaign_is_refused_as_damaged(tmp_path: Path) -> None:
    """Every key is derived from the campaign id: without it, a resume would re-key rows."""
    path = tmp_path / "j.db"
    Journal(path, via="send").close()
    db = sqlite3.connect(path)
    with db:
        db.execute("DELETE FROM meta WHERE name = 'campaign'")
    db.close()
    assert refusal(path) == (
        f"the journal {str(path)!r} is damaged (it records no campaign id). "
        + WHAT_TO_DO.format(path=str(path))
    )
    with pytest.raises(JournalError, match="no campaign id"):
        Journal(path, via="send", campaign="spring")


def test_a_journal_sqlite_cannot_read_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    overwritten(path, (5,), 2)  # SQLite stops reading: "malformed", not a list of problems
    with pytest.raises(JournalError) as caught:
        Journal(path, via="send")
    assert re.fullmatch(
        rf"the journal {re.escape(repr(str(path)))} is damaged \([^)]+\)\. "
        + re.escape(WHAT_TO_DO.format(path=str(path))),
        str(caught.value),
    )


def test_a_journal_that_cannot_be_made_leaves_nothing_behind(tmp_path: Path) -> None:
    """The disk fills while the new file is built: its -wal and -shm are removed with it."""
    path = tmp_path / "j.db"
    with FileSizeLimit(9000), pytest.raises(JournalError) as caught:
        Journal(path, via="send")
    assert str(caught.value).startswith(f"cannot create the journal {str(path)!r}: ")
    assert os.listdir(tmp_path) == []


def test_a_journal_that_cannot_be_written_when_opened_says_why(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    Journal(path, via="send").close()
    with FileSizeLimit(100), pytest.raises(JournalError) as caught:
        Journal(path, via="send")
    assert re.fullmatch(
        rf"cannot use the journal {re.escape(repr(str(path)))}: \w.*", str(caught.value)
    )
    Journal(path, via="send").close()  # nothing was damaged


def test_an_outcome_for_a_row_started_by_an_earlier_run_is_recorded(tmp_path: Path) -> None:
    """A resumed run sends again a row the last one started; its outcome is noted without
    a new start."""
    path = tmp_path / "j.db"
    crashed = Journal(path, via="send")
    started(crashed, 2)
    crashed.close()
    resumed = Journal(path, via="send")
    finish(resumed, 1)
    resumed.close()
    again = Journal(path, via="send")
    entries = again.lookup(0, 1)
    again.close()
    assert (entries[0].state, entries[1].state) == (_journal.STARTED, _journal.SENT)
    assert entries[1].message_id == "m-1"


def test_a_journal_whose_header_is_damaged_says_what_to_do(tmp_path: Path) -> None:
    """SQLite's magic, then garbage: SQLite refuses to read it at all."""
    path = tmp_path / "j.db"
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)
    assert refusal(path) == (
        f"the journal {str(path)!r} is damaged (file is not a database). "
        + WHAT_TO_DO.format(path=str(path))
    )


def test_a_journal_of_another_campaign_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    Journal(path, via="send", campaign="spring").close()
    with pytest.raises(InvalidArgumentError) as caught:
        Journal(path, via="send", campaign="autumn")
    assert str(caught.value) == (
        f"the journal {str(path)!r} belongs to campaign 'spring', not 'autumn'; resume it with "
        "the same campaign=, or pass a new journal"
    )
    Journal(path, via="send", campaign="spring").close()
    Journal(path, via="send").close()  # the campaign recorded is used


def test_a_row_started_again_is_recorded_once(tmp_path: Path) -> None:
    """Outcomes noted before a start are written before it: a row started again after its
    outcome was noted ends up started, with its latest key, one record per input row (as
    docs/bulk.md says). A run starts each row once, so this is the order any caller of the
    interface would expect rather than something send_many reaches."""
    path = tmp_path / "j.db"
    journal = Journal(path, via="send")
    journal.start([(0, "0" * 32, "key-a")])
    journal.finish(0, ok=False, message_id=None, error_code="40300", error_title="x", attempts=1)
    journal.start([(0, "0" * 32, "key-b")])
    journal.close()
    db = sqlite3.connect(path)
    try:
        records = db.execute("SELECT idx, idempotency_key, state FROM rows").fetchall()
    finally:
        db.close()
    assert records == [(0, "key-b", _journal.STARTED)]


def test_a_journal_sqlite_cannot_open_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file Python reads but SQLite cannot open (what permissions would do to a user
    other than root): refused, naming the journal and SQLite's reason."""
    path = tmp_path / "j.db"
    Journal(path, via="send").close()

    def refuse(*_: object, **__: object) -> sqlite3.Connection:
        raise sqlite3.OperationalError("unable to open database file")

    monkeypatch.setattr(sqlite3, "connect", refuse)  # the module the journal uses
    assert refusal(path) == (f"cannot open the journal {str(path)!r}: unable to open database file")
