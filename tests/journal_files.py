"""What a crash would leave of a journal: its file and ``-wal`` copied while it is open."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path


def sent_in_a_copy(journal: Path, folder: Path) -> int:
    """Rows recorded as sent in a copy of the journal's files (made in ``folder``, then
    removed): what a run killed now would have left."""
    copy = folder / "crash.db"
    for suffix in ("", "-wal"):
        if Path(f"{journal}{suffix}").exists():
            shutil.copy(f"{journal}{suffix}", f"{copy}{suffix}")
    db = sqlite3.connect(copy)
    try:
        (sent,) = db.execute("SELECT count(*) FROM rows WHERE state = 1").fetchone()
    finally:
        db.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{copy}{suffix}").unlink(missing_ok=True)
    return int(sent)
