"""Render the trace of a retried send to docs/images/trace-retried-send.png (for observability.md).

It sends one message through a real client with telemetry on, against FakeTelnyx on loopback
told to answer 503, then 429, then accept. The OpenTelemetry SDK's in-memory exporter keeps
the spans; they are drawn as a waterfall in HTML, and a real headless Chromium takes the
screenshot::

    apt-get install chromium          # Debian; or set CHROMIUM=/path/to/chrome
    python scripts/render_trace.py    # needs the [otel,tests] extras (the OpenTelemetry SDK)
"""

from __future__ import annotations

import asyncio
import html
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from telnyx_messaging import AsyncClient
from telnyx_messaging.telemetry import Telemetry
from telnyx_messaging.testing import FakeTelnyx, Respond

OUT = Path(__file__).parent.parent / "docs" / "images" / "trace-retried-send.png"
WIDTH = 1280


async def _retried_send() -> list[ReadableSpan]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "checkout"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    async with FakeTelnyx() as fake:
        fake.fail_next(
            Respond(503, json={"errors": [{"code": "10011", "title": "Service unavailable"}]}),
            Respond(429, json={"errors": []}, headers={"retry-after-ms": "400"}),
        )
        telemetry = Telemetry(tracer_provider=provider)
        async with AsyncClient(
            api_key=fake.api_key, base_url=fake.base_url, telemetry=telemetry
        ) as client:
            # The caller's own span: the SDK's spans join the trace it is in.
            with provider.get_tracer("checkout").start_as_current_span("confirm_order"):
                await client.messages.send(
                    to="+13125550002", from_="+18445550001", text="Your order has shipped"
                )
    provider.shutdown()
    return list(exporter.get_finished_spans())


def _attributes(span: ReadableSpan) -> str:
    shown = []
    for key, value in (span.attributes or {}).items():
        text = ", ".join(map(str, value)) if isinstance(value, tuple) else str(value)
        shown.append(
            f"<span class=k>{html.escape(key)}</span>=<span class=v>{html.escape(text)}</span>"
        )
    return " &nbsp; ".join(shown)


def _page(spans: list[ReadableSpan]) -> str:
    start = min(s.start_time or 0 for s in spans)
    end = max(s.end_time or 0 for s in spans)
    total = max(end - start, 1)
    by_parent: dict[int | None, list[ReadableSpan]] = {}
    for span in spans:
        parent = span.parent.span_id if span.parent is not None else None
        by_parent.setdefault(parent, []).append(span)
    rows: list[str] = []

    def walk(parent: int | None, depth: int) -> None:
        for span in sorted(by_parent.get(parent, []), key=lambda s: s.start_time or 0):
            left = ((span.start_time or 0) - start) / total * 100
            width = max(((span.end_time or 0) - (span.start_time or 0)) / total * 100, 0.3)
            millis = ((span.end_time or 0) - (span.start_time or 0)) / 1e6
            kind = span.kind.name.lower()
            failed = span.status.status_code.name == "ERROR"
            marks = "".join(
                f'<div class=event style="left:{((e.timestamp - start) / total * 100):.2f}%"'
                f' title="{html.escape(e.name)}"></div>'
                f'<div class=elabel style="left:{((e.timestamp - start) / total * 100):.2f}%">'
                f"{html.escape(e.name)} "
                f"{dict(e.attributes or {}).get('telnyx.wait.seconds', 0):.2f} s"
                "</div>"
                for e in span.events
            )
            rows.append(
                f'<div class=row><div class=name style="padding-left:{depth * 18}px">'
                f'<span class="kind {kind}">{kind}</span> {html.escape(span.name)}</div>'
                f'<div class=lane><div class="bar {kind}{" error" if failed else ""}" '
                f'style="left:{left:.2f}%;width:{width:.2f}%"></div>{marks}'
                f"</div><div class=ms>{millis:.1f} ms</div></div>"
                f'<div class=attrs style="padding-left:{depth * 18 + 8}px">'
                f"{_attributes(span)}</div>"
            )
            walk(span.context.span_id, depth + 1)

    walk(None, 0)
    trace_id = f"{spans[0].context.trace_id:032x}"
    return f"""<!doctype html><meta charset=utf-8><style>
body {{ font: 13px/1.35 "DejaVu Sans", sans-serif; margin: 18px; width: {WIDTH - 36}px;
       color: #1d2733; }}
h1 {{ font-size: 16px; margin: 0 0 2px; }} .sub {{ color: #5b6875; margin-bottom: 12px; }}
.row {{ display: flex; align-items: center; height: 26px; border-top: 1px solid #e3e8ee; }}
.name {{ width: 330px; flex: none; white-space: nowrap; font-weight: 600; }}
.lane {{ position: relative; flex: 1; height: 26px; }}
.bar {{ position: absolute; top: 7px; height: 12px; border-radius: 3px; background: #4a90c2; }}
.bar.internal {{ background: #7a6fc4; }} .bar.client {{ background: #2e9c78; }}
.bar.error {{ background: #d0543f; }}
.event {{ position: absolute; top: 4px; width: 10px; height: 10px; margin-left: -5px;
         transform: rotate(45deg); background: #f0a30a; border: 1px solid #8a5d00; }}
.elabel {{ position: absolute; top: -9px; margin-left: 8px; font-size: 11px; color: #8a5d00;
          white-space: nowrap; }}
.ms {{ width: 70px; flex: none; text-align: right; font-size: 11px; color: #5b6875; }}
.kind {{ font-size: 10px; font-weight: 400; padding: 0 4px; border-radius: 3px; color: #fff; }}
.kind.internal {{ background: #7a6fc4; }} .kind.client {{ background: #2e9c78; }}
.attrs {{ font: 11px/1.4 "DejaVu Sans Mono", monospace; color: #3b4754; margin: 0 0 6px;
         word-break: break-all; }}
.k {{ color: #5b6875; }} .v {{ color: #0b5d8a; }}
</style>
<h1>Trace of a retried send: 503, then 429 (Retry-After 400 ms), then accepted</h1>
<div class=sub>trace {trace_id} &middot; {len(spans)} spans &middot; {total / 1e6:.0f} ms
&middot; exported by the OpenTelemetry SDK's InMemorySpanExporter, drawn by
scripts/render_trace.py</div>
{"".join(rows)}
"""


def _chromium() -> str:
    found = os.environ.get("CHROMIUM") or next(
        (
            shutil.which(n)
            for n in ("chromium", "chromium-browser", "google-chrome")
            if shutil.which(n)
        ),
        None,
    )
    if found is None:
        raise SystemExit("no Chromium found: apt-get install chromium, or set CHROMIUM=")
    return found


def main() -> None:
    spans = asyncio.run(_retried_send())
    page = _page(spans)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "trace.html"
        source.write_text(page)
        height = 130 + 62 * len(spans)
        subprocess.run(  # noqa: S603 - a browser we found, on a file we wrote
            [
                _chromium(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--user-data-dir={tmp}/profile",
                f"--window-size={WIDTH},{height}",
                f"--screenshot={OUT}",
                source.as_uri(),
            ],
            check=True,
            capture_output=True,
        )
    print(f"wrote {OUT} ({len(spans)} spans)")


if __name__ == "__main__":
    sys.exit(main())
