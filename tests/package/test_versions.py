"""The version a checkout installs agrees with the version notes in its docstrings (issue 23)."""

from __future__ import annotations

import re
from pathlib import Path

import telnyx_messaging

ROOT = Path(__file__).parents[2]
NOTE = re.compile(r"\.\. (?:versionadded|versionchanged|deprecated):: (\d+)\.(\d+)\.(\d+)")


def release(version: str) -> tuple[int, ...]:
    """``0.2.0.dev0`` -> (0, 2, 0): the release a version is, or leads up to."""
    match = re.match(r"(\d+)\.(\d+)\.(\d+)", version)
    assert match is not None, version
    return tuple(int(part) for part in match.groups())


def test_no_docstring_is_newer_than_the_package() -> None:
    """'New in version X' never names a release after the one this checkout builds."""
    declared = telnyx_messaging.__version__  # what hatchling builds, from _version.py
    building = release(declared)
    package = Path(telnyx_messaging.__file__).parent
    notes = {
        (path.relative_to(ROOT).as_posix(), tuple(int(n) for n in match.groups()))
        for path in package.rglob("*.py")
        for match in NOTE.finditer(path.read_text("utf-8"))
    }
    assert notes
    ahead = sorted(note for note in notes if note[1] > building)
    assert ahead == [], f"notes newer than version {declared}: {ahead}"
