"""Every public name has a docstring, and the API reference pages show every one of them."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parents[2]
PUBLIC_MODULES = ["telnyx_messaging", "telnyx_messaging.webhooks", "telnyx_messaging.testing"]
REFERENCE = ROOT / "docs" / "reference"


def _public(module_name: str) -> list[tuple[str, str]]:
    module = importlib.import_module(module_name)
    return [(module_name, name) for name in module.__all__]


PUBLIC = [pair for module in PUBLIC_MODULES for pair in _public(module)]


@cache
def _attribute_docstrings(path: Path) -> dict[str, str]:
    """Module-level ``NAME = ...`` statements followed by a string: what griffe documents."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: dict[str, str] = {}

    def scan(body: list[ast.stmt]) -> None:
        for stmt, after in zip(body, [*body[1:], None], strict=True):
            if isinstance(stmt, ast.Try):
                scan(stmt.body)
            targets = (
                [stmt.target]
                if isinstance(stmt, ast.AnnAssign)
                else stmt.targets
                if isinstance(stmt, ast.Assign)
                else []
            )
            doc = (
                after.value.value
                if isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
                else None
            )
            for target in targets:
                if isinstance(target, ast.Name) and doc:
                    found[target.id] = doc

    scan(tree.body)
    return found


def _own_docstring(obj: Any) -> str | None:
    # vars(), not inspect.getdoc: a class without a docstring would inherit its base's.
    if isinstance(obj, type):
        return vars(obj).get("__doc__")
    return getattr(obj, "__doc__", None)


def _alias_docstring(module_name: str, name: str) -> str | None:
    """The attribute docstring of ``name`` in the public module or any module of the package."""
    package = Path(sys.modules["telnyx_messaging"].__file__ or "").parent
    for path in sorted(package.rglob("*.py")):
        doc = _attribute_docstrings(path).get(name)
        if doc:
            return doc
    return None


@pytest.mark.parametrize(("module_name", "name"), PUBLIC, ids=[f"{m}.{n}" for m, n in PUBLIC])
def test_every_public_name_has_a_docstring(module_name: str, name: str) -> None:
    """Each name in a public __all__ carries a docstring of its own (the API reference's text)."""
    obj = getattr(importlib.import_module(module_name), name)
    if inspect.isclass(obj) or inspect.isfunction(obj) or inspect.ismodule(obj):
        doc = _own_docstring(obj)
    else:  # a type alias or a constant: the string literal after its assignment
        doc = _alias_docstring(module_name, name)
    assert doc, f"{module_name}.{name} has no docstring"
    assert doc.strip(), f"{module_name}.{name} has an empty docstring"


def _referenced() -> set[str]:
    text = "\n".join(p.read_text(encoding="utf-8") for p in REFERENCE.glob("*.md"))
    return set(re.findall(r"^::: (telnyx_messaging[\w.]*)", text, re.M))


@pytest.mark.parametrize(("module_name", "name"), PUBLIC, ids=[f"{m}.{n}" for m, n in PUBLIC])
def test_every_public_name_is_in_the_api_reference(module_name: str, name: str) -> None:
    """docs/reference/ renders each public name, so a new export cannot be left out."""
    if name == "__version__":
        pytest.skip("the version is on the changelog page, not in the reference")
    shown = _referenced()
    assert f"{module_name}.{name}" in shown or module_name in shown, (
        f"add `::: {module_name}.{name}` to a page in docs/reference/"
    )


def test_the_exception_tree_is_drawn_on_the_errors_page() -> None:
    """The errors page renders _errors.py's module docstring, which draws the whole tree."""
    import telnyx_messaging._errors as errors

    page = (REFERENCE / "errors.md").read_text(encoding="utf-8")
    assert "::: telnyx_messaging._errors" in page
    for name in errors.__all__:
        if isinstance(getattr(errors, name), type) and issubclass(
            getattr(errors, name), BaseException
        ):
            assert name in (errors.__doc__ or ""), f"{name} is missing from the drawn tree"
