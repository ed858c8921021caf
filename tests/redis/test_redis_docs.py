"""docs/redis.md's examples compile, and every public name of the extra is documented."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

pytest.importorskip("redis")

import telnyx_messaging.redis as extra

ROOT = Path(__file__).parents[2]
PAGE = ROOT / "docs" / "redis.md"
BLOCK = re.compile(r"^```python\n(?P<code>.*?)^```", re.M | re.S)


def python_blocks() -> list[tuple[int, str]]:
    text = PAGE.read_text(encoding="utf-8")
    return [
        (text.count("\n", 0, m.start("code")) + 1, m.group("code")) for m in BLOCK.finditer(text)
    ]


@pytest.mark.parametrize(("line", "source"), python_blocks())
def test_every_python_block_compiles(line: int, source: str) -> None:
    """Each example is valid Python (top-level ``await`` allowed, as in ``python -m asyncio``)."""
    compile("\n" * (line - 1) + source, str(PAGE), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


@pytest.mark.parametrize("name", extra.__all__)
def test_every_public_name_has_a_docstring(name: str) -> None:
    """The API reference renders each name's own docstring."""
    obj = getattr(extra, name)
    if inspect.isclass(obj):
        assert vars(obj).get("__doc__"), f"{name} has no docstring"
    elif callable(obj):
        assert obj.__doc__, f"{name} has no docstring"


def test_the_reference_page_renders_the_package() -> None:
    """docs/reference/redis.md renders the module, so every export is on it."""
    reference = (ROOT / "docs" / "reference" / "redis.md").read_text(encoding="utf-8")
    assert "::: telnyx_messaging.redis\n" in reference
