"""scripts/mutation.py's targets still name what exists (``nox -s mutation`` is not run in CI).

A test file renamed, a constant reworded or a function moved would otherwise only show on
the next mutation run, as a survivor counted in or a constant edit "not found".
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("mutation", ROOT / "scripts" / "mutation.py")
assert _spec is not None
assert _spec.loader is not None
mutation: Any = importlib.util.module_from_spec(_spec)
sys.modules["mutation"] = mutation  # its dataclasses look their module up there
_spec.loader.exec_module(mutation)

TARGETS = sorted(mutation.TARGETS.items())


def functions_of(path: Path) -> dict[str, list[str]]:
    """The lines of every function in a module, by ``name`` or ``Class.name`` as mutmut
    names them."""
    source = path.read_text()
    lines = source.splitlines()
    found: dict[str, list[str]] = {}

    def body(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
        return [line.strip() for line in lines[node.lineno - 1 : node.end_lineno]]

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    found[f"{node.name}.{item.name}"] = body(item)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found.setdefault(node.name, body(node))
    return found


@pytest.mark.parametrize(("name", "target"), TARGETS, ids=[name for name, _ in TARGETS])
def test_a_target_names_files_that_exist(name: str, target: Any) -> None:
    assert (ROOT / target.path).is_file(), target.path
    for test in (*target.tests, *target.child_process_tests):
        assert (ROOT / test.split("::")[0]).exists(), f"{name}: {test}"


@pytest.mark.parametrize(("name", "target"), TARGETS, ids=[name for name, _ in TARGETS])
def test_every_constant_edit_finds_its_text(name: str, target: Any) -> None:
    source = (ROOT / target.path).read_text()
    for text, _ in target.constants:
        assert text in source, f"{name}: {text!r} is not in {target.path}"
    for path, text, _ in target.constants_elsewhere:
        assert text in (ROOT / path).read_text(), f"{name}: {text!r} is not in {path}"


@pytest.mark.parametrize(("name", "target"), TARGETS, ids=[name for name, _ in TARGETS])
def test_every_equivalent_names_a_function_and_a_line_like_it(name: str, target: Any) -> None:
    """An equivalent mutant is the function it is in and its mutated line: the function must
    still exist, and the line must still read like the code (one edit away from it)."""
    functions = functions_of(ROOT / target.path)
    for function, line in target.equivalent:
        assert function in functions, f"{name}: no function {function} in {target.path}"
        first = line.split(" / ")[0]
        assert first, f"{name}: an empty line for {function}"
        likeness = max(SequenceMatcher(None, first, code).ratio() for code in functions[function])
        assert likeness >= 0.7, f"{name}: nothing in {function} reads like {first!r}"


def test_the_case_blind_rule_spares_sql_strings() -> None:
    """Keywords may change case; a 'string' inside the SQL may not."""
    pattern = mutation.TARGETS["journal"].case_blind
    keyword = '-    db.execute("BEGIN")\n+    db.execute("begin")'
    value = (
        "-    \"SELECT name FROM t WHERE type = 'table'\"\n"
        "+    \"SELECT name FROM t WHERE type = 'TABLE'\""
    )
    message = '-    "Free disk space"\n+    "free disk space"'
    assert mutation._case_only(keyword, pattern)
    assert not mutation._case_only(value, pattern)
    assert not mutation._case_only(message, pattern)
