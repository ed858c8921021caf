"""The crash-safe record of a bulk run: one SQLite row per input row, in WAL mode.

Before a row's first attempt its Idempotency-Key is committed here; after its last, the
outcome. A run started again on the same journal and the same input skips rows with an
outcome and re-sends the others **with the key they had**, so a send that was in flight when
the process died is recognised by Telnyx and not created twice (docs/bulk.md says for how
long Telnyx remembers a key).

A row is known by its index in the input plus a hash of its parameters, so a journal fed a
different input (a row edited, inserted or removed) is refused instead of silently skipping
or re-keying the wrong recipients.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from attrs import frozen

from telnyx_messaging._errors import ConfigurationError, InvalidArgumentError

__all__ = ["FAILED", "SENT", "STARTED", "Entry", "Journal", "row_hash"]

FORMAT = "1"
STARTED, SENT, FAILED = 0, 1, 2
#: Outcomes wait at most this long (or this many) before being committed together. Losing them
#: to a crash costs nothing but a re-send with the same key, which Telnyx de-duplicates.
FLUSH_SECONDS = 0.5
FLUSH_ROWS = 256

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rows (
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


def _default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return repr(value)


def row_hash(via: str, params: Mapping[str, Any]) -> str:
    """A stable fingerprint of what a row asks to send (order of keys does not matter)."""
    canonical = json.dumps(
        [via, params], sort_keys=True, separators=(",", ":"), default=_default, ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()[:32]


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


class Journal:
    """An open journal file, locked to this run (a second run on it is refused)."""

    def __init__(self, path: str | os.PathLike[str], *, via: str) -> None:
        self.path = os.fspath(path)
        try:
            # isolation_level=None: transactions are ours to open and commit.
            db = sqlite3.connect(self.path, timeout=0, isolation_level=None)
        except sqlite3.Error as exc:
            raise ConfigurationError(f"cannot open the journal {self.path!r}: {exc}") from None
        self._db = db
        try:
            # Held from the first write until close: two runs sending from one journal would
            # both send each row.
            db.execute("PRAGMA locking_mode=EXCLUSIVE")
            db.execute("PRAGMA journal_mode=WAL")
            # NORMAL: a commit survives the process being killed (not a power cut), without
            # an fsync per commit.
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("BEGIN IMMEDIATE")
            for statement in _SCHEMA.split(";"):
                db.execute(statement)
            self._check_meta(via)
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
            raise ConfigurationError(f"cannot use the journal {self.path!r}: {exc}") from None
        except sqlite3.DatabaseError as exc:
            db.close()
            raise ConfigurationError(
                f"{self.path!r} is not a journal of telnyx-messaging ({exc}); "
                "pass a new file name to start a journal"
            ) from None
        except BaseException:
            db.close()
            raise
        self._pending: list[tuple[int, str | None, str | None, str | None, int, float, int]] = []
        self._last_flush = time.monotonic()

    def _check_meta(self, via: str) -> None:
        db = self._db
        meta = dict(db.execute("SELECT name, value FROM meta").fetchall())
        if not meta:
            db.executemany(
                "INSERT INTO meta (name, value) VALUES (?, ?)",
                [("format", FORMAT), ("via", via), ("created_at", repr(time.time()))],
            )
            return
        if meta.get("format") != FORMAT:
            raise ConfigurationError(
                f"the journal {self.path!r} has format {meta.get('format')!r}; this version of "
                f"telnyx-messaging reads format {FORMAT!r}"
            )
        if meta.get("via") != via:
            raise InvalidArgumentError(
                f"the journal {self.path!r} belongs to a run that sent with "
                f"messages.{meta.get('via')}, not messages.{via}; resume it with the same "
                "method, or pass a new journal"
            )

    def lookup(self, first: int, last: int) -> dict[int, Entry]:
        """What the journal holds for rows ``first`` to ``last`` (inclusive)."""
        found = self._db.execute(
            "SELECT idx, params_hash, idempotency_key, state, message_id, error_code, "
            "error_title, attempts FROM rows WHERE idx BETWEEN ? AND ?",
            (first, last),
        )
        return {r[0]: Entry(*r[1:]) for r in found}

    def start(self, rows: Sequence[tuple[int, str, str]]) -> None:
        """Commit ``(index, params_hash, key)`` for rows about to be tried for the first time.

        Pending outcomes ride along in the same transaction.
        """
        db = self._db
        now = time.time()
        db.execute("BEGIN")
        db.executemany(
            "INSERT OR REPLACE INTO rows (idx, params_hash, idempotency_key, state, updated_at) "
            "VALUES (?, ?, ?, 0, ?)",
            [(i, h, k, now) for i, h, k in rows],
        )
        self._write_outcomes()
        db.execute("COMMIT")

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
            self._db.execute("BEGIN")
            self._write_outcomes()
            self._db.execute("COMMIT")

    def close(self) -> None:
        """Commit what is pending and release the file."""
        try:
            self.flush()
        finally:
            self._db.close()
