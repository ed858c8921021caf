"""MkDocs hooks for the documentation site (``hooks:`` in mkdocs.yml).

- Links from a docs page to a file outside ``docs/`` (``../benchmarks/README.md``) work on
  GitHub, where the Markdown is read too; on the site they point at the file in the repository.
  Whether a link leaves ``docs/`` is judged from the page's own folder (``../client.md`` on a
  ``reference/`` page is a page), and a link to a file the repository lacks is a warning, which
  ``mkdocs build --strict`` fails on (links between pages mkdocs checks itself).
- Docstrings are written for ``help()`` and Sphinx-style readers (``:class:`Message```,
  ``.. versionadded:: 0.2.0``, ``::`` before an example); the API reference shows plain code,
  a short note, and the example as a code block.
"""

from __future__ import annotations

import logging
import posixpath
import re
from pathlib import Path
from typing import Any

# A relative Markdown link that starts by going up: it may leave docs/.
_UP_LINK = re.compile(r"\]\((?P<path>(?:\.\./)+[^)#\s]*)(?P<anchor>#[^)\s]*)?\)")
_ROLE = re.compile(r":(?:class|func|meth|attr|mod|exc|data|obj):<code>~?([^<]+)</code>")
# A note alone (``.. versionadded:: 0.2.0``) or with what it is about after the version.
_VERSION = re.compile(
    r"<p>\.\. (versionadded|versionchanged|deprecated):: ([^<\s]+)\s*(.*?)</p>", re.S
)
_WORDS = {"versionadded": "New in", "versionchanged": "Changed in", "deprecated": "Deprecated in"}


# Under "mkdocs.", so --strict counts it as a warning that fails the build.
log = logging.getLogger("mkdocs.hooks.telnyx_messaging")


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    repo = str(config["repo_url"]).rstrip("/")
    root = Path(config["config_file_path"]).parent
    docs = Path(config["docs_dir"]).relative_to(root).as_posix()
    src = page.file.src_uri

    def link(m: re.Match[str]) -> str:
        # Resolved from the repository root: docs/<page's folder>/<link>.
        target = posixpath.normpath(posixpath.join(docs, posixpath.dirname(src), m["path"]))
        if target == docs or target.startswith(docs + "/"):
            return m[0]  # a page or file inside docs/: mkdocs resolves and checks it
        if target.startswith("../") or not (root / target).exists():
            log.warning("%s links to %s, which is not in the repository", src, target)
        return f"]({repo}/blob/main/{target}{m['anchor'] or ''})"

    return _UP_LINK.sub(link, markdown)


def on_page_content(html: str, page: Any, config: Any, files: Any) -> str:
    def role(m: re.Match[str]) -> str:
        target = m[1]
        # `~a.b.C` shows as `C`, as in Sphinx; a bare target keeps its dotted name.
        shown = target.rsplit(".", 1)[-1] if m[0].find("~") != -1 else target
        return f"<code>{shown}</code>"

    html = _ROLE.sub(role, html)
    # reST's literal-block marker: a lone `::` paragraph goes, a trailing `text::` shows `text:`.
    html = html.replace("<p>::</p>", "").replace("::</p>", ":</p>")

    def note(m: re.Match[str]) -> str:
        about = " ".join(m[3].split())
        if not about:
            return f"<p><em>{_WORDS[m[1]]} version {m[2]}.</em></p>"
        return f"<p><em>{_WORDS[m[1]]} version {m[2]}:</em> {about}</p>"

    return _VERSION.sub(note, html)
