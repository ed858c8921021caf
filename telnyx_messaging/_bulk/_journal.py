"""The record of a bulk campaign: what each row's key is and how it ended.

A run sees its record through :class:`CampaignJournal`, a small interface: look rows up,
record rows as started before their first attempt, record their outcomes, close. The SQLite
file behind ``journal=`` (:class:`Journal`) is one implementation; another store (Redis, a
table in your database) can be another, as long as it keeps the same promises:

- a row is known by its index in the input plus a hash of its content, so an input that
  changed is refused instead of skipping or re-keying the wrong recipients;
- ``start`` is durable before the row's first attempt;
- every failure is a :class:`~telnyx_messaging.JournalError` that names the store and says
  what to do.

Each row's Idempotency-Key is **derived** (:func:`derive_key`) from the campaign id, the
method, the row's index and its content hash, so it can be made again: a row whose record is
lost, or a whole campaign run again on a new journal, carries the key it had, and Telnyx
replays the first answer instead of creating the message again (for 24 hours).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol

from attrs import frozen

from telnyx_messaging._errors import ConfigurationError, InvalidArgumentError, JournalError

__all__ = [
    "FAILED",
    "SENT",
    "STARTED",
    "CampaignJournal",
    "Entry",
    "Journal",
    "campaign_of_path",
    "derive_key",
    "row_hash",
]

#: Format 2: derived keys and the campaign id in ``meta``. Format 1 (pre-release builds of
#: 0.2.0, random keys) is refused: its keys cannot be derived again.
FORMAT = "2"
STARTED, SENT, FAILED = 0, 1, 2
#: Outcomes wait at most this long (or this many) before being committed together. Losing them
#: to a crash costs nothing but a re-send with the same key, which Telnyx de-duplicates.
FLUSH_SECONDS = 0.5
FLUSH_ROWS = 256

#: The UUIDv5 namespace of derived keys. Never change it: keys of running campaigns would.
KEY_NAMESPACE = uuid.UUID("5b0f4c52-7a43-4d6e-9a7e-2f1c3e8d9b61")
_SQLITE_MAGIC = b"SQLite format 3\x00"
_TABLES = {"meta", "rows"}

_SCHEMA = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE rows (
    idx INTEGER PRIMARY KEY,
    params_hash TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    state INTEGER NOT NULL,
    message_id TEXT,
    error_code TEXT,
    error_title TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    updated_at REAL NOT NULL
);
"""


class RowEncodingError(InvalidArgumentError):
    """A row value with no stable encoding (a set, an object): it cannot be fingerprinted."""


def _canonical(value: Any, where: str) -> Any:
    """``value`` as plain JSON data, the same for equal rows whatever their key order."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise RowEncodingError(f"{where} has a key {key!r}; keys must be strings")
            out[key] = _canonical(item, f"{where}[{key!r}]")
        return out
    if isinstance(value, (list, tuple)):
        return [_canonical(item, f"{where}[{n}]") for n, item in enumerate(value)]
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    raise RowEncodingError(
        f"{where} is a {type(value).__name__}, which has no stable encoding; use strings, "
        "numbers, booleans, None, lists, mappings and datetimes"
    )


def encode_row(via: str, params: Mapping[str, Any]) -> bytes:
    """The deterministic bytes of what a row asks to send: sorted keys, no spaces, UTF-8."""
    data = [via, {key: _canonical(value, repr(key)) for key, value in params.items()}]
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8", "surrogatepass"
    )


def row_hash(via: str, params: Mapping[str, Any]) -> str:
    """A stable fingerprint of what a row asks to send (order of keys does not matter)."""
    return hashlib.sha256(encode_row(via, params)).hexdigest()[:32]


def derive_key(campaign: str, via: str, index: int, digest: str) -> str:
    """The Idempotency-Key of row ``index`` with content hash ``digest`` in ``campaign``."""
    return str(uuid.uuid5(KEY_NAMESPACE, f"{campaign}\x1f{via}\x1f{index}\x1f{digest}"))


def campaign_of_path(path: str | os.PathLike[str]) -> str:
    """The campaign id of a journal nobody named: its absolute path."""
    return "journal:" + os.path.abspath(os.fspath(path))


@frozen
class Entry:
    """What the journal knows of one row."""

    params_hash: str
    idempotency_key: str
    state: int
    message_id: str | None
    error_code: str | None
    error_title: str | None
    attempts: int


class CampaignJournal(Protocol):
    """What a run needs from the record of its campaign (see the module docstring).

    Every method raises :class:`~telnyx_messaging.JournalError` when the store fails.
    """

    #: How to name the store in messages (a path, a URL without its password).
    name: str
    #: The campaign id keys are derived from: given, recorded, or derived from the name.
    campaign: str

    def lookup(self, first: int, last: int) -> Mapping[int, Entry]:
        """What is recorded for rows ``first`` to ``last`` (inclusive)."""

    def start(self, rows: Sequence[tuple[int, str, str]]) -> None:
        """Record ``(index, params_hash, key)`` durably, before the rows' first attempt."""

    def finish(
        self,
        index: int,
        *,
        ok: bool,
        message_id: str | None,
        error_code: str | None,
        error_title: str | None,
        attempts: int,
    ) -> None:
        """Record a row's outcome (it may be batched; :meth:`close` makes it durable)."""

    def close(self) -> None:
        """Make every outcome durable and release the store."""


def _what_to_do(path: str) -> str:
    return (
        f"Move {path!r} aside and run the same input again with journal= the same path (or "
        "the same campaign=): each row's key is derived from the campaign, so Telnyx does not "
        "create again what it created in the last 24 hours."
    )


class Journal:
    """The SQLite journal: one file, in WAL mode, locked to one run at a time.

    It is checked when opened (an SQLite file of ours, ``PRAGMA quick_check``, the format,
    the method) and nothing is written to a file that fails a check. A new journal is made
    under a temporary name and moved into place once its schema and campaign id are in the
    file, so the named file is never empty nor half made. Closing folds the write-ahead log
    back into the file, so after a run the named file holds everything; while a run is going
    (or after a crash) the file and its ``-wal`` are one journal.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, via: str, campaign: str | None = None
    ) -> None:
        self.path = self.name = os.fspath(path)
        if os.path.isdir(self.path):
            raise JournalError(f"the journal {self.path!r} is a directory; pass a file name")
        if not os.path.exists(self.path):
            self._create(campaign or campaign_of_path(self.path), via)
        self._check_file()
        try:
            # isolation_level=None: transactions are ours to open and commit.
            db = sqlite3.connect(self.path, timeout=0, isolation_level=None)
        except sqlite3.Error as exc:
            raise JournalError(f"cannot open the journal {self.path!r}: {exc}") from None
        self._db = db
        try:
            # Held from the first read until close: two runs sending from one journal would
            # both send each row.
            db.execute("PRAGMA locking_mode=EXCLUSIVE")
            self._check_contents(via, campaign)
            # NORMAL: a commit survives the process being killed (not a power cut), without
            # an fsync per commit.
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("BEGIN IMMEDIATE")
            db.execute(
                "INSERT OR REPLACE INTO meta (name, value) VALUES ('opened_at', ?)",
                (repr(time.time()),),
            )
            db.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            db.close()
            if "locked" in str(exc):
                raise ConfigurationError(
                    f"the journal {self.path!r} is in use by another run; wait for it to end "
                    "(two runs on one journal would send every row twice)"
                ) from None
            raise JournalError(f"cannot use the journal {self.path!r}: {exc}") from None
        except sqlite3.DatabaseError as exc:
            db.close()
            raise JournalError(
                f"the journal {self.path!r} is damaged ({exc}). {_what_to_do(self.path)}"
            ) from None
        except BaseException:
            db.close()
            raise
        self._pending: list[tuple[int, str | None, str | None, str | None, int, float, int]] = []
        self._last_flush = time.monotonic()
        self._broken: JournalError | None = None

    # -- opening ---------------------------------------------------------------------------------

    def _create(self, campaign: str, via: str) -> None:
        """Make a new journal under a temporary name, then move it to ``self.path``."""
        folder = os.path.dirname(os.path.abspath(self.path))
        temporary = os.path.join(
            folder, f".{os.path.basename(self.path)}.{os.getpid()}.{uuid.uuid4().hex[:8]}.new"
        )
        try:
            db = sqlite3.connect(temporary, isolation_level=None)
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("BEGIN IMMEDIATE")
                for statement in _SCHEMA.split(";"):
                    db.execute(statement)
                db.executemany(
                    "INSERT INTO meta (name, value) VALUES (?, ?)",
                    [
                        ("format", FORMAT),
                        ("via", via),
                        ("campaign", campaign),
                        ("created_at", repr(time.time())),
                    ],
                )
                db.execute("COMMIT")
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                db.close()
            # A link never replaces a journal made meanwhile: if another run made it first,
            # that one is used (its lock decides who runs).
            with contextlib.suppress(FileExistsError):
                os.link(temporary, self.path)
        except (OSError, sqlite3.Error) as exc:
            raise JournalError(f"cannot create the journal {self.path!r}: {exc}") from None
        finally:
            for leftover in (temporary, temporary + "-wal", temporary + "-shm"):
                with contextlib.suppress(OSError):
                    os.unlink(leftover)

    def _check_file(self) -> None:
        """Refuse, before SQLite touches it, a file that is not an SQLite database."""
        try:
            with open(self.path, "rb") as file:
                head = file.read(len(_SQLITE_MAGIC))
        except OSError as exc:
            raise JournalError(f"cannot read the journal {self.path!r}: {exc}") from None
        if not head:
            raise JournalError(
                f"the journal {self.path!r} is empty (0 bytes): it was truncated, or is not a "
                f"journal. {_what_to_do(self.path)}"
            )
        if head != _SQLITE_MAGIC:
            raise JournalError(
                f"{self.path!r} is not a journal of telnyx-messaging (not an SQLite file, or "
                f"its first page is damaged). If it is not yours to replace, pass another file "
                f"name; if it was a journal: {_what_to_do(self.path)}"
            )

    def _check_contents(self, via: str, campaign: str | None) -> None:
        db = self._db
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if tables != _TABLES:
            raise JournalError(
                f"{self.path!r} is an SQLite file but not a journal of telnyx-messaging (its "
                f"tables are {sorted(tables) or 'none'}); nothing was written to it. Pass a new "
                "file name for the journal."
            )
        # SQLite may answer with one row of many lines (up to 100 problems): a message names
        # the first three.
        problems = [
            line
            for (answer,) in db.execute("PRAGMA quick_check")
            for line in str(answer).splitlines()
            if not line.startswith("*** in database")
        ]
        if problems != ["ok"]:
            shown = "; ".join(problems[:3]) + ("; ..." if len(problems) > 3 else "")
            raise JournalError(
                f"the journal {self.path!r} is damaged ({shown}). {_what_to_do(self.path)}"
            )
        meta = dict(db.execute("SELECT name, value FROM meta").fetchall())
        if meta.get("format") != FORMAT:
            raise JournalError(
                f"the journal {self.path!r} has format {meta.get('format')!r}, written by "
                f"another version of telnyx-messaging; this one reads format {FORMAT!r}. Finish "
                "that campaign with the version that started it, or pass a new journal."
            )
        if meta.get("via") != via:
            raise InvalidArgumentError(
                f"the journal {self.path!r} belongs to a run that sent with "
                f"messages.{meta.get('via')}, not messages.{via}; resume it with the same "
                "method, or pass a new journal"
            )
        recorded = meta.get("campaign")
        if not recorded:
            # Every key is derived from it: a journal without one cannot be resumed safely.
            raise JournalError(
                f"the journal {self.path!r} is damaged (it records no campaign id). "
                f"{_what_to_do(self.path)}"
            )
        if campaign is not None and campaign != recorded:
            raise InvalidArgumentError(
                f"the journal {self.path!r} belongs to campaign {recorded!r}, not {campaign!r}; "
                "resume it with the same campaign=, or pass a new journal"
            )
        self.campaign = recorded

    # -- the interface ---------------------------------------------------------------------------

    def _failed(self, exc: sqlite3.Error, doing: str) -> JournalError:
        with contextlib.suppress(sqlite3.Error):
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
        full = "full" in str(exc)
        advice = (
            "Free disk space, then run the same input again with the same journal"
            if full
            else "Check the disk, then run the same input again with the same journal"
        )
        error = JournalError(
            f"the journal {self.path!r} could not {doing} ({exc}); the run stopped. {advice}: "
            "rows already sent are not sent again."
        )
        self._broken = error
        return error

    def lookup(self, first: int, last: int) -> dict[int, Entry]:
        """What the journal holds for rows ``first`` to ``last`` (inclusive)."""
        try:
            found = self._db.execute(
                "SELECT idx, params_hash, idempotency_key, state, message_id, error_code, "
                "error_title, attempts FROM rows WHERE idx BETWEEN ? AND ?",
                (first, last),
            ).fetchall()
        except sqlite3.Error as exc:
            raise self._failed(exc, "be read") from None
        return {r[0]: Entry(*r[1:]) for r in found}

    def start(self, rows: Sequence[tuple[int, str, str]]) -> None:
        """Commit ``(index, params_hash, key)`` for rows about to be tried for the first time.

        Pending outcomes ride along in the same transaction, first: they were noted before,
        and a row started again (a failed row resent) must end up started.
        """
        db = self._db
        now = time.time()
        try:
            db.execute("BEGIN")
            self._write_outcomes()
            db.executemany(
                "INSERT OR REPLACE INTO rows (idx, params_hash, idempotency_key, state, "
                "updated_at) VALUES (?, ?, ?, 0, ?)",
                [(i, h, k, now) for i, h, k in rows],
            )
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise self._failed(exc, "be written") from None

    def finish(
        self,
        index: int,
        *,
        ok: bool,
        message_id: str | None,
        error_code: str | None,
        error_title: str | None,
        attempts: int,
    ) -> None:
        """Note a row's outcome; committed with the next batch (see ``FLUSH_SECONDS``)."""
        self._pending.append(
            (
                SENT if ok else FAILED,
                message_id,
                error_code,
                error_title,
                attempts,
                time.time(),
                index,
            )
        )
        if len(self._pending) >= FLUSH_ROWS or time.monotonic() - self._last_flush > FLUSH_SECONDS:
            self.flush()

    def _write_outcomes(self) -> None:
        if self._pending:
            self._db.executemany(
                "UPDATE rows SET state = ?, message_id = ?, error_code = ?, error_title = ?, "
                "attempts = ?, updated_at = ? WHERE idx = ?",
                self._pending,
            )
            self._pending = []
        self._last_flush = time.monotonic()

    def flush(self) -> None:
        """Commit every outcome noted so far."""
        if self._pending:
            try:
                self._db.execute("BEGIN")
                self._write_outcomes()
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise self._failed(exc, "be written") from None

    def close(self) -> None:
        """Commit what is pending, fold the write-ahead log into the file, release it."""
        try:
            if self._broken is None:
                self.flush()
        finally:
            # SQLite folds the -wal into the file as its last connection closes, and removes
            # it; if it cannot (a full disk), the pair of files stays the journal, and close
            # still succeeds.
            self._db.close()
