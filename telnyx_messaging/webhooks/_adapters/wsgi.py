"""The WSGI faces of a :class:`~telnyx_messaging.webhooks.WebhookReceiver`: plain, Flask, Django.

All three read the body the same way (at most the size cap, from a stream) and hand it to the
receiver's synchronous path; only how the request arrives and the answer leaves differs. The
frameworks are imported when a view is built, never when ``webhooks`` is imported.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from telnyx_messaging.webhooks._signature import HeadersLike

if TYPE_CHECKING:
    from telnyx_messaging.webhooks._policy import Answer, WebhookGate

__all__ = ["WSGIWebhookApp", "django_view", "flask_view", "receive_from_stream"]

# Read in pieces, so the deadline is checked between them while a body trickles in.
_PIECE = 64 * 1024


def receive_from_stream(
    gate: WebhookGate,
    *,
    method: str,
    read: Callable[[int], bytes],
    content_length: str | None,
    input_terminated: bool,
    content_encoding: str | None,
    headers: HeadersLike,
    where: str,
) -> Answer:
    """Read a request body from a WSGI-style stream and decide the answer."""
    started = time.perf_counter()
    answer = gate.head(method, content_length, content_encoding, where)
    if answer is not None:
        return gate.answered(answer, started)
    limit = gate.max_body_size
    if content_length:
        wanted = int(content_length)  # preflight checked it is digits, at most the cap
    elif input_terminated:
        wanted = limit + 1  # the server ends the stream itself (chunked uploads)
    else:
        # PEP 3333: without a length, reading may block forever.
        answer = gate.refuse("length_required", 411, "send a Content-Length", where)
        return gate.answered(answer, started)
    # A deadline between reads: a blocking read itself only the server's timeout can end.
    deadline = started + gate.body_timeout
    chunks = bytearray()
    while len(chunks) < wanted:
        if time.perf_counter() > deadline:
            return gate.answered(gate.slow_body(where), started)
        try:
            chunk = read(min(wanted - len(chunks), _PIECE))
        except TimeoutError:  # the server's own socket timeout (what docs/webhooks.md sets)
            return gate.answered(gate.slow_body(where), started)
        except ConnectionError:
            return gate.answered(gate.disconnected(where), started)
        if not chunk:
            if content_length:
                return gate.answered(gate.disconnected(where), started)
            break
        chunks += chunk
    answer = gate.dispatch_sync(gate.open(bytes(chunks), headers, content_encoding, where), where)
    return gate.answered(answer, started)


class _EnvironHeaders:
    """Request headers read from a WSGI environ, looked up as ``telnyx-timestamp``."""

    def __init__(self, environ: dict[str, Any]) -> None:
        self._environ = environ

    def get(self, key: str, /) -> Any:
        return self._environ.get("HTTP_" + key.upper().replace("-", "_"))

    def items(self) -> Iterator[tuple[str, Any]]:
        for name, value in self._environ.items():
            if name.startswith("HTTP_"):
                yield name[5:].replace("_", "-").lower(), value


def _reader(stream: Any) -> Callable[[int], bytes]:
    """``read1`` where the server's input has it (a buffered socket: one recv a call, so the
    deadline is checked while a body trickles in), else ``read`` (all PEP 3333 promises)."""
    read1 = getattr(stream, "read1", None)
    return read1 if callable(read1) else stream.read  # type: ignore[no-any-return]


def _end_to_end(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    # PEP 3333 forbids an app to set hop-by-hop headers (Connection): closing a connection
    # whose body was not read is the WSGI server's call.
    return [(name, value) for name, value in headers if name.lower() != "connection"]


def _status_line(status: int) -> str:
    return f"{status} {HTTPStatus(status).phrase}"


class WSGIWebhookApp:
    """A WSGI app that answers Telnyx webhooks through one receiver."""

    def __init__(self, gate: WebhookGate) -> None:
        self.gate = gate

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        answer = receive_from_stream(
            self.gate,
            method=environ.get("REQUEST_METHOD", ""),
            read=_reader(environ["wsgi.input"]),
            content_length=environ.get("CONTENT_LENGTH"),
            input_terminated=bool(environ.get("wsgi.input_terminated")),
            content_encoding=environ.get("HTTP_CONTENT_ENCODING"),
            headers=_EnvironHeaders(environ),
            where=environ.get("PATH_INFO", ""),
        )
        content = answer.text.encode("utf-8")
        start_response(
            _status_line(answer.status),
            [
                ("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Length", str(len(content))),
                *_end_to_end(answer.headers),
            ],
        )
        return [content]


def flask_view(gate: WebhookGate) -> Callable[[], Any]:
    """A Flask view function answering webhooks through ``gate``."""
    from flask import request

    def telnyx_webhook() -> Any:
        environ = request.environ
        answer = receive_from_stream(
            gate,
            method=request.method,
            read=request.stream.read,
            content_length=environ.get("CONTENT_LENGTH"),
            input_terminated=bool(environ.get("wsgi.input_terminated")),
            content_encoding=request.headers.get("Content-Encoding"),
            headers=request.headers,
            where=request.path,
        )
        headers = {"Content-Type": "text/plain; charset=utf-8", **dict(_end_to_end(answer.headers))}
        return answer.text, answer.status, headers

    return telnyx_webhook


def django_view(gate: WebhookGate) -> Callable[[Any], Any]:
    """A Django view function answering webhooks through ``gate``; CSRF-exempt."""
    from django.http import HttpResponse  # type: ignore[import-untyped]

    def telnyx_webhook(request: Any) -> Any:
        meta = request.META
        answer = receive_from_stream(
            gate,
            method=request.method or "",
            read=request.read,
            content_length=meta.get("CONTENT_LENGTH"),
            input_terminated=bool(meta.get("wsgi.input_terminated")),
            content_encoding=meta.get("HTTP_CONTENT_ENCODING"),
            headers=request.headers,
            where=request.path,
        )
        response = HttpResponse(
            answer.text, status=answer.status, content_type="text/plain; charset=utf-8"
        )
        for name, value in _end_to_end(answer.headers):
            response[name] = value
        return response

    # What @csrf_exempt sets: Telnyx sends no CSRF token; the signature authenticates it.
    telnyx_webhook.csrf_exempt = True  # type: ignore[attr-defined]
    return telnyx_webhook
