"""The exception trees drawn in docs/client.md and in _errors.py are the real one, all exported."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import telnyx_messaging
from telnyx_messaging import _errors

ROOT = Path(__file__).parents[2]
# A class in the drawing: the tree's lines ("│   ├── "), then its name; the rest explains it.
NODE = re.compile(r"^(?P<drawing>[ │├└─]*)(?P<name>[A-Z][A-Za-z]+)\b")


def drawn_tree(text: str) -> list[tuple[str, str | None]]:
    """(class name, the class drawn as its parent) for every class in the tree in ``text``."""
    lines = text[text.index("TelnyxError\n") :].splitlines()
    root_indent = len(lines[0]) - len(lines[0].lstrip())
    edges: list[tuple[str, str | None]] = []
    parents: dict[int, str] = {}  # column of a class name -> the last class drawn there
    for line in lines:
        if not line.strip() or line.startswith("```"):
            break  # the end of the drawing
        match = NODE.match(line[root_indent:])
        if match is None or ("── " not in line and match["name"] != "TelnyxError"):
            continue  # an explanation's second line
        column = len(match["drawing"])
        parents = {c: name for c, name in parents.items() if c < column}
        edges.append((match["name"], parents[max(parents)] if parents else None))
        parents[column] = match["name"]
    return edges


@pytest.mark.parametrize(
    "source",
    [ROOT / "docs" / "client.md", Path(_errors.__file__)],
    ids=["docs/client.md", "_errors.py"],
)
def test_every_class_in_the_drawn_tree_is_exported_under_its_parent(source: Path) -> None:
    """Each class the tree draws imports from telnyx_messaging and subclasses its drawn parent."""
    edges = drawn_tree(source.read_text("utf-8"))
    assert len(edges) >= 20
    for name, parent in edges:
        assert name in telnyx_messaging.__all__, f"{name} is drawn but not exported"
        cls = getattr(telnyx_messaging, name)
        if parent is not None:
            assert issubclass(cls, getattr(telnyx_messaging, parent)), (name, parent)


def test_every_exported_exception_is_drawn() -> None:
    """No exported exception is missing from docs/client.md's tree."""
    drawn = {name for name, _ in drawn_tree((ROOT / "docs" / "client.md").read_text("utf-8"))}
    exported = {
        name
        for name in telnyx_messaging.__all__
        if isinstance(getattr(telnyx_messaging, name), type)
        and issubclass(getattr(telnyx_messaging, name), BaseException)
    }
    assert exported == drawn


def test_delivery_timeout_error_imports_from_the_top() -> None:
    """`from telnyx_messaging import DeliveryTimeoutError` works, and is the tracker's class."""
    from telnyx_messaging import DeliveryTimeoutError
    from telnyx_messaging.webhooks import DeliveryTimeoutError as FromWebhooks

    assert DeliveryTimeoutError is FromWebhooks
    assert issubclass(DeliveryTimeoutError, TimeoutError)
