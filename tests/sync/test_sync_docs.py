"""The pages this round added run or compile as written: docs/sync.md runs against a fake.

Same convention as tests/package/test_docs_examples.py (a ``<!-- runnable -->`` line marks a
block to run; every other Python block is compiled), but the sync page runs in a plain thread
with the fake served from a loop thread of its own, since its examples block.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path
from typing import Any

import pytest

from telnyx_messaging import Client
from telnyx_messaging.testing import FakeTelnyx

DOCS = Path(__file__).parents[2] / "docs"
PAGES = [
    "sync.md",
    "configuration.md",
    "from-telnyx-python.md",
    "from-telnyx-ruby.md",
    "bulk.md",  # compiled here; its examples run in tests/test_bulk*.py's own way, if at all
]
BLOCK = re.compile(r"^(?P<mark><!-- runnable -->\n)?```python\n(?P<code>.*?)^```", re.M | re.S)


def blocks(page: str) -> list[tuple[int, str, bool]]:
    text = (DOCS / page).read_text(encoding="utf-8")
    return [
        (text.count("\n", 0, m.start("code")) + 1, m.group("code"), m.group("mark") is not None)
        for m in BLOCK.finditer(text)
    ]


def compiled(page: str, line: int, source: str) -> Any:
    # Padded so that a traceback points at the line in the Markdown file.
    return compile("\n" * (line - 1) + source, str(DOCS / page), "exec")


ALL = [(page, line, source) for page in PAGES for line, source, _ in blocks(page)]


@pytest.mark.parametrize(("page", "line", "source"), ALL, ids=[f"{p}:{n}" for p, n, _ in ALL])
def test_every_python_block_compiles(page: str, line: int, source: str) -> None:
    """Every Python block on these pages is valid Python (top-level await allowed)."""
    padded = "\n" * (line - 1) + source
    compile(padded, str(DOCS / page), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


def test_the_sync_page_runs(threaded_fake: FakeTelnyx, monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/sync.md's runnable blocks run in order against FakeTelnyx, closing every client."""
    monkeypatch.setenv("TELNYX_API_KEY", threaded_fake.api_key)
    monkeypatch.setenv("TELNYX_BASE_URL", threaded_fake.base_url)
    runnable = [(line, source) for line, source, run in blocks("sync.md") if run]
    assert len(runnable) >= 3
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    made: list[Client] = []
    try:
        for line, source in runnable:
            exec(compiled("sync.md", line, source), namespace)  # noqa: S102 - our own docs
            made += [v for v in namespace.values() if isinstance(v, Client) and v not in made]
    finally:
        made += [v for v in namespace.values() if isinstance(v, Client) and v not in made]
        for client in made:
            client.close()
    assert len(threaded_fake.messages) == 2  # the first example's send and the Flask view's


README = DOCS.parent / "README.md"


def readme_block(heading: str) -> tuple[int, str]:
    """The first Python block after a README heading."""
    text = README.read_text(encoding="utf-8")
    start = text.index(heading)
    match = BLOCK.search(text, start)
    assert match is not None
    return text.count("\n", 0, match.start("code")) + 1, match.group("code")


def test_every_readme_block_compiles() -> None:
    """Every Python block in the README is valid Python (top-level await allowed)."""
    text = README.read_text(encoding="utf-8")
    for m in BLOCK.finditer(text):
        line = text.count("\n", 0, m.start("code")) + 1
        source = "\n" * (line - 1) + m.group("code")
        compile(source, str(README), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


async def test_the_readme_testing_example_runs_as_pasted() -> None:
    """ "Test your own code" runs in a fresh namespace: everything it uses, it imports."""
    line, source = readme_block("### Test your own code")
    code = compile("\n" * (line - 1) + source, str(README), "exec", ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    result = eval(code, {"__name__": "__readme__"})  # noqa: S307 - our own README
    if inspect.iscoroutine(result):
        await result


def test_the_readme_sync_example_runs_as_pasted(
    threaded_fake: FakeTelnyx, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's sync example sends and lists against the fake, with only its imports."""
    monkeypatch.setenv("TELNYX_API_KEY", threaded_fake.api_key)
    monkeypatch.setenv("TELNYX_BASE_URL", threaded_fake.base_url)
    line, source = readme_block("### From sync code")
    namespace: dict[str, Any] = {"__name__": "__readme__"}
    try:
        exec(compiled("../README.md", line, source), namespace)  # noqa: S102 - our own README
    finally:
        namespace["sms"].close()
    assert len(threaded_fake.messages) == 1


def test_every_docs_page_with_python_is_checked_by_some_test() -> None:
    """A page added to docs/ with Python in it is compiled or run by one of the docs tests."""
    import importlib.util

    # By path: run alone, this folder's tests cannot import a module from tests/package.
    path = Path(__file__).parents[1] / "package" / "test_docs_examples.py"
    spec = importlib.util.spec_from_file_location("_docs_examples_pages", path)
    assert spec is not None
    assert spec.loader is not None
    test_docs_examples = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(test_docs_examples)

    run_elsewhere = {
        "webhooks.md",  # tests/webhooks/test_webhook_docs.py
        "tracking.md",  # tests/tracking/test_tracking_docs.py
        "redis.md",  # tests/redis/test_redis_docs.py
        "observability.md",  # tests/telemetry/test_telemetry_docs.py
    }
    checked = {*test_docs_examples.PAGES, *PAGES, *run_elsewhere}
    with_python = {
        str(page.relative_to(DOCS))
        for page in DOCS.rglob("*.md")
        if BLOCK.search(page.read_text(encoding="utf-8"))
    }
    missing = sorted(with_python - checked)
    assert not missing, f"add {missing} to PAGES in tests/package/test_docs_examples.py"
