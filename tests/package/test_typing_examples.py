"""The Python examples in README.md and docs/*.md type-check with ``mypy --strict`` as written.

Each page's ```python blocks are written, in order, into the body of one coroutine function
(as a reader types them into ``python -m asyncio``: top-level ``await`` allowed, later blocks
reuse earlier names), after a preamble that declares what the prose takes as given
(``client``, ``body``, ``headers``, ``TELNYX_PUBLIC_KEY``...). mypy runs on them in a
subprocess. Only what comes from putting blocks together is relaxed: a name defined again in
a later block, and imports of frameworks that are not installed (Starlette, Django...).

Run ``python tests/package/test_typing_examples.py`` for mypy's report with Markdown line numbers.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(?P<code>.*?)^```", re.M | re.S)
# What the examples' prose takes as given. Anything else must be defined by the examples.
PREAMBLE = """\
# Generated from {page} by tests/package/test_typing_examples.py; edit the page, not this file.
# ruff: noqa
from typing import Any

from telnyx_messaging import AsyncClient

TELNYX_PUBLIC_KEY: str
PUBLIC_KEY: str


async def examples(  # a coroutine, so that `async with` and `await` work at the top level
    client: AsyncClient,
    body: bytes,
    headers: dict[str, str],
    numbers: list[str],
    handle: Any,  # "your code": sync in one framework's example, async in another's
) -> None:
    ...
"""
MYPY_FLAGS = [
    "--strict",
    "--ignore-missing-imports",  # Django, Starlette, Flask... are not test dependencies
    "--allow-redefinition",
    "--disable-error-code=no-redef",
    "--disable-error-code=untyped-decorator",  # what Django's decorators are when absent
    "--no-error-summary",
    "--show-error-codes",
]


def module_for(page: Path) -> tuple[str, dict[int, int]]:
    """The page's blocks as one module, and a map from its lines to the page's lines."""
    text = page.read_text(encoding="utf-8")
    lines = PREAMBLE.format(page=page.relative_to(ROOT)).splitlines()
    where: dict[int, int] = {}
    for match in BLOCK.finditer(text):
        first = text.count("\n", 0, match.start("code")) + 1
        lines.append("")
        for offset, line in enumerate(match.group("code").splitlines()):
            lines.append(f"    {line}" if line else "")
            where[len(lines)] = first + offset
    return "\n".join(lines) + "\n", where


def write_modules(into: Path) -> dict[Path, tuple[Path, dict[int, int]]]:
    """Write one module per page that has Python blocks; map each to its page and lines."""
    into.mkdir(parents=True, exist_ok=True)
    written = {}
    for page in PAGES:
        source, where = module_for(page)
        if where:
            name = "readme" if page.name == "README.md" else page.stem
            path = into / f"{name}_examples.py"
            path.write_text(source, encoding="utf-8")
            written[path] = (page, where)
    return written


def mypy_report(into: Path) -> list[str]:
    """mypy's errors on the examples, each pointing at its page and line."""
    written = write_modules(into)
    result = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-m", "mypy", *MYPY_FLAGS, *map(str, written)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr or result.stdout
    report = []
    for line in result.stdout.splitlines():
        path, _, rest = line.partition(":")
        number, _, message = rest.partition(":")
        page_and_lines = written.get(Path(path).resolve()) or written.get(ROOT / path)
        if page_and_lines is None or not number.isdigit():
            report.append(line)
            continue
        page, where = page_and_lines
        page_line = where.get(int(number), "preamble")
        report.append(f"{page.relative_to(ROOT)}:{page_line}:{message}")
    return report


def test_the_examples_are_found() -> None:
    """README and the docs pages with Python blocks each give a module, block by block."""
    source, where = module_for(ROOT / "README.md")
    assert len(where) > 20
    assert "webhooks.aiohttp_handler(on_event" in source


def test_readme_and_docs_examples_type_check(tmp_path: Path) -> None:
    """mypy --strict finds no error in any example as written (Optional fields included)."""
    report = mypy_report(tmp_path)
    assert [line for line in report if ": note:" not in line] == []


if __name__ == "__main__":  # pragma: no cover - a helper for whoever edits the docs
    with tempfile.TemporaryDirectory() as scratch:
        print("\n".join(mypy_report(Path(scratch))) or "no errors")
