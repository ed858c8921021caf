"""scripts/mkdocs_hooks.py: links out of docs/ and Sphinx notes, as the site shows them."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

ROOT = Path(__file__).parents[2]
_spec = importlib.util.spec_from_file_location("mkdocs_hooks", ROOT / "scripts" / "mkdocs_hooks.py")
assert _spec is not None
assert _spec.loader is not None
hooks: Any = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hooks)

REPO = "https://github.com/telnyx-messaging/telnyx-messaging"
CONFIG = {
    "repo_url": REPO + "/",
    "config_file_path": str(ROOT / "mkdocs.yml"),
    "docs_dir": str(ROOT / "docs"),
}


def page(src_uri: str) -> Any:
    return SimpleNamespace(file=SimpleNamespace(src_uri=src_uri))


@pytest.mark.parametrize(
    ("src", "markdown", "expected"),
    [
        # A guide linked from the API reference stays a link between pages (issue 23).
        ("reference/clients.md", "[guide](../client.md)", "[guide](../client.md)"),
        ("reference/clients.md", "[t](../tracking.md#tracker)", "[t](../tracking.md#tracker)"),
        # A file outside docs/ goes to the repository, from any depth.
        (
            "testing.md",
            "[b](../benchmarks/README.md)",
            f"[b]({REPO}/blob/main/benchmarks/README.md)",
        ),
        (
            "reference/clients.md",
            "[n](../../noxfile.py#L5)",
            f"[n]({REPO}/blob/main/noxfile.py#L5)",
        ),
        (
            "index.md",
            "[c](client.md) [w](https://x.org/a.md)",
            "[c](client.md) [w](https://x.org/a.md)",
        ),
    ],
)
def test_links_out_of_docs_go_to_the_repository_and_the_others_stay(
    src: str, markdown: str, expected: str
) -> None:
    """Only a link that leaves docs/ (judged from the page's own folder) is rewritten."""
    assert hooks.on_page_markdown(markdown, page(src), CONFIG, None) == expected


def test_a_link_to_a_missing_repository_file_fails_the_strict_build(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A link out of docs/ to a file the repository lacks is a warning, which --strict fails."""
    with caplog.at_level(logging.WARNING, logger="mkdocs"):
        hooks.on_page_markdown("[x](../no/such/file.md)", page("testing.md"), CONFIG, None)
    (record,) = caplog.records
    assert record.name.startswith("mkdocs.")
    assert "testing.md links to no/such/file.md, which is not in the repository" in record.message


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>.. versionadded:: 0.2.0</p>", "<p><em>New in version 0.2.0.</em></p>"),
        (
            "<p>.. versionadded:: 0.2.0 <code>history</code>,\n   <code>kind</code>.</p>",
            "<p><em>New in version 0.2.0:</em> <code>history</code>, <code>kind</code>.</p>",
        ),
        (
            "<p>.. versionchanged:: 0.2.0    Webhook delivery, the clock.</p>",
            "<p><em>Changed in version 0.2.0:</em> Webhook delivery, the clock.</p>",
        ),
    ],
)
def test_version_notes_render_as_text(html: str, expected: str) -> None:
    """No raw `.. versionadded::` reaches the page, with or without text after the version."""
    assert hooks.on_page_content(html, page("reference/errors.md"), CONFIG, None) == expected
