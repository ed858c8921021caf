"""MkDocs hooks for the documentation site (``hooks:`` in mkdocs.yml).

- Links from a docs page to a file outside ``docs/`` (``../benchmarks/README.md``) work on
  GitHub, where the Markdown is read too; on the site they point at the file in the repository.
- Docstrings are written for ``help()`` and Sphinx-style readers (``:class:`Message```,
  ``.. versionadded:: 0.2.0``, ``::`` before an example); the API reference shows plain code,
  a short note, and the example as a code block.
"""

from __future__ import annotations

import re
from typing import Any

_OUTSIDE_DOCS = re.compile(r"\]\(\.\./(?!\.\.)([^)#\s]+)(#[^)\s]*)?\)")
_ROLE = re.compile(r":(?:class|func|meth|attr|mod|exc|data|obj):<code>~?([^<]+)</code>")
_VERSION = re.compile(r"<p>\.\. (versionadded|versionchanged|deprecated):: ([^<\s]+)\s*</p>")
_WORDS = {"versionadded": "New in", "versionchanged": "Changed in", "deprecated": "Deprecated in"}


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    repo = str(config["repo_url"]).rstrip("/")
    return _OUTSIDE_DOCS.sub(lambda m: f"]({repo}/blob/main/{m[1]}{m[2] or ''})", markdown)


def on_page_content(html: str, page: Any, config: Any, files: Any) -> str:
    def role(m: re.Match[str]) -> str:
        target = m[1]
        # `~a.b.C` shows as `C`, as in Sphinx; a bare target keeps its dotted name.
        shown = target.rsplit(".", 1)[-1] if m[0].find("~") != -1 else target
        return f"<code>{shown}</code>"

    html = _ROLE.sub(role, html)
    # reST's literal-block marker: a lone `::` paragraph goes, a trailing `text::` shows `text:`.
    html = html.replace("<p>::</p>", "").replace("::</p>", ":</p>")
    return _VERSION.sub(lambda m: f"<p><em>{_WORDS[m[1]]} version {m[2]}.</em></p>", html)
