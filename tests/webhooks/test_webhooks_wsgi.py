"""The WSGI adapters: Flask over Flask's test client, Django over Django's, plain WSGI too."""

from __future__ import annotations

import gzip
import logging
import sys
import types
from collections.abc import Callable, Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from telnyx_messaging import ConfigurationError, webhooks
from telnyx_messaging.testing._signer import WebhookSigner

EXAMPLES = Path(__file__).parents[1] / "spec" / "webhook-examples"
SIGNER = WebhookSigner(seed=b"\x08" * 32)
BODY = (EXAMPLES / "message.sent.json").read_bytes()
LIMIT = 4096

# (body, headers, expected status): what every adapter must answer the same way.
CASES = [
    pytest.param(BODY, lambda: SIGNER.headers(BODY), 200, id="valid"),
    pytest.param(BODY.replace(b"sent", b"lost"), lambda: SIGNER.headers(BODY), 401, id="tampered"),
    pytest.param(BODY, lambda: SIGNER.headers(BODY, timestamp=1_600_000_000), 401, id="stale"),
    pytest.param(b"\x00\xff junk", {"telnyx-signature-ed25519": "é" * 88}, 401, id="junk"),
    pytest.param(b"[1]", lambda: SIGNER.headers(b"[1]"), 400, id="signed-junk"),
    pytest.param(b"x" * 5000, lambda: SIGNER.headers(b"x" * 5000), 413, id="oversized"),
    pytest.param(b"garbage", {"Content-Encoding": "deflate"}, 400, id="bad-deflate"),
    pytest.param(
        gzip.compress(BODY),
        lambda: {**SIGNER.headers(BODY), "Content-Encoding": "gzip"},
        200,
        id="gzip",
    ),
    pytest.param(BODY, {"Content-Encoding": "zstd"}, 415, id="zstd"),
]

Poster = Callable[[bytes, dict[str, str]], tuple[int, str]]


def make_receiver(seen: list[Any], **kwargs: Any) -> webhooks.WebhookReceiver:
    return webhooks.WebhookReceiver(
        on_event=seen.append, public_key=SIGNER.public_key, max_body_size=LIMIT, **kwargs
    )


# -- Flask ---------------------------------------------------------------------------------


@pytest.fixture
def flask_post() -> tuple[Poster, list[Any]]:
    flask = pytest.importorskip("flask")
    seen: list[Any] = []
    app = flask.Flask("webhooks")
    view = make_receiver(seen).flask_view()
    app.add_url_rule("/webhooks/telnyx", view_func=view, methods=["POST"])
    client = app.test_client()

    def post(body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        response = client.post("/webhooks/telnyx", data=body, headers=headers)
        return response.status_code, response.get_data(as_text=True)

    return post, seen


@pytest.mark.parametrize(("body", "headers", "status"), CASES)
def test_flask(
    flask_post: tuple[Poster, list[Any]],
    caplog: pytest.LogCaptureFixture,
    body: bytes,
    headers: dict[str, str],
    status: int,
) -> None:
    """Flask's view answers each kind of request as every adapter does, never 5xx for junk."""
    # Signed now, not at collection: a late test in a long run would be past the tolerance.
    headers = headers() if callable(headers) else headers
    post, seen = flask_post
    with caplog.at_level(logging.WARNING, logger="telnyx_messaging"):
        got, text = post(body, headers)
    assert got == status
    assert len(seen) == (1 if status == 200 else 0)
    assert len(caplog.records) == (0 if status == 200 else 1)
    if status != 200:
        assert text


def test_flask_suppresses_duplicates(flask_post: tuple[Poster, list[Any]]) -> None:
    """The same event posted twice is handled once; both get 200."""
    post, seen = flask_post
    assert post(BODY, SIGNER.headers(BODY))[0] == 200
    assert post(BODY, SIGNER.headers(BODY)) == (200, "duplicate: already handled")
    assert len(seen) == 1


# -- Django --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def django_client() -> Iterator[tuple[Poster, list[Any]]]:
    pytest.importorskip("django")
    import django
    from django.conf import settings

    if not settings.configured:  # whoever configures Django first, these tests bring their own
        settings.configure(
            ALLOWED_HOSTS=["testserver"],
            SECRET_KEY="webhook-tests-only",
            USE_TZ=True,
        )
        django.setup()
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import clear_url_caches, path

    seen: list[Any] = []
    urls = types.ModuleType("telnyx_webhook_test_urls")
    urls.urlpatterns = [  # type: ignore[attr-defined]
        path("webhooks/telnyx", make_receiver(seen).django_view()),
    ]
    sys.modules[urls.__name__] = urls
    client = Client(enforce_csrf_checks=True)

    def post(body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        response = client.post(
            "/webhooks/telnyx", data=body, content_type="application/json", headers=headers
        )
        return response.status_code, response.content.decode()

    with override_settings(
        ROOT_URLCONF=urls.__name__,
        MIDDLEWARE=["django.middleware.csrf.CsrfViewMiddleware"],
    ):
        yield post, seen
    clear_url_caches()
    del sys.modules[urls.__name__]


@pytest.mark.parametrize(("body", "headers", "status"), CASES)
def test_django(
    django_client: tuple[Poster, list[Any]],
    caplog: pytest.LogCaptureFixture,
    body: bytes,
    headers: dict[str, str],
    status: int,
) -> None:
    """Django's view (CSRF checks on) answers each kind of request as every adapter does."""
    # Signed now, not at collection: a late test in a long run would be past the tolerance.
    headers = headers() if callable(headers) else headers
    post, seen = django_client
    seen.clear()
    with caplog.at_level(logging.WARNING, logger="telnyx_messaging"):
        # Each case a new event id, so the module-wide duplicate guard does not interfere.
        got, text = post(body, headers)
    assert got == status
    assert len(seen) == (1 if status == 200 else 0) or text == "duplicate: already handled"
    assert len([r for r in caplog.records if r.name == "telnyx_messaging"]) == (
        0 if status == 200 else 1
    )


def test_django_refuses_get(django_client: tuple[Poster, list[Any]]) -> None:
    """A GET is refused with 405 by the view itself."""
    from django.test import Client

    response = Client().get("/webhooks/telnyx")
    assert (response.status_code, response["Allow"]) == (405, "POST")


# -- plain WSGI ----------------------------------------------------------------------------


def call_wsgi(app: Any, environ: dict[str, Any]) -> tuple[str, dict[str, str], bytes]:
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        captured["status"], captured["headers"] = status, dict(headers)

    body = b"".join(app(environ, start_response))
    return captured["status"], captured["headers"], body


def environ_for(body: bytes, headers: dict[str, str], **extra: Any) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/webhooks/telnyx",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": BytesIO(body),
    }
    for name, value in headers.items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    environ.update(extra)
    return environ


@pytest.mark.parametrize(("body", "headers", "status"), CASES)
def test_plain_wsgi(body: bytes, headers: dict[str, str], status: int) -> None:
    """The plain WSGI app answers as the framework views do."""
    # Signed now, not at collection: a late test in a long run would be past the tolerance.
    headers = headers() if callable(headers) else headers
    seen: list[Any] = []
    app = make_receiver(seen).wsgi_app()
    line, answer_headers, _ = call_wsgi(app, environ_for(body, headers))
    assert int(line.split()[0]) == status
    assert answer_headers["Content-Type"] == "text/plain; charset=utf-8"
    assert len(seen) == (1 if status == 200 else 0)


def test_plain_wsgi_reads_chunked_bodies_only_when_the_server_ends_them() -> None:
    """No Content-Length: 411, unless the server says the input is terminated (chunked)."""
    seen: list[Any] = []
    app = make_receiver(seen).wsgi_app()
    line, _, _ = call_wsgi(app, environ_for(BODY, SIGNER.headers(BODY), CONTENT_LENGTH=""))
    assert line == "411 Length Required"
    line, _, _ = call_wsgi(
        app,
        environ_for(
            BODY, SIGNER.headers(BODY), CONTENT_LENGTH="", **{"wsgi.input_terminated": True}
        ),
    )
    assert line == "200 OK"
    big = b"x" * (LIMIT + 10)
    line, _, _ = call_wsgi(
        app, environ_for(big, {}, CONTENT_LENGTH="", **{"wsgi.input_terminated": True})
    )
    assert line == "413 Request Entity Too Large"
    line, headers, _ = call_wsgi(app, environ_for(BODY, {}, REQUEST_METHOD="PUT"))
    assert (line, headers["Allow"]) == ("405 Method Not Allowed", "POST")


def test_plain_wsgi_failures_answer_500_and_release_the_event() -> None:
    """A raising plain callback answers 500 and its retry is handled; a hand-off works too."""
    calls: list[object] = []

    def flaky(event: webhooks.WebhookEvent) -> None:
        calls.append(event)
        if len(calls) == 1:
            raise RuntimeError("db down")

    app = webhooks.WebhookReceiver(on_event=flaky, public_key=SIGNER.public_key).wsgi_app()
    assert call_wsgi(app, environ_for(BODY, SIGNER.headers(BODY)))[0].startswith("500")
    assert call_wsgi(app, environ_for(BODY, SIGNER.headers(BODY)))[0] == "200 OK"
    assert len(calls) == 2
    queued: list[webhooks.VerifiedWebhook] = []
    app = webhooks.WebhookReceiver(handoff=queued.append, public_key=SIGNER.public_key).wsgi_app()
    assert call_wsgi(app, environ_for(BODY, SIGNER.headers(BODY)))[0] == "200 OK"
    assert queued[0].body == BODY


def test_a_slow_sync_callback_is_reported(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plain callback that outlives Telnyx's window is reported after it returns."""
    from telnyx_messaging.webhooks import _policy

    monkeypatch.setattr(_policy, "TELNYX_ACK_WINDOW", -1.0)
    app = make_receiver([]).wsgi_app()
    with caplog.at_level(logging.WARNING, logger="telnyx_messaging"):
        assert call_wsgi(app, environ_for(BODY, SIGNER.headers(BODY)))[0] == "200 OK"
    assert "beyond Telnyx's" in caplog.records[-1].getMessage()


def test_a_callback_returning_an_awaitable_fails_loudly() -> None:
    """A plain function that returns a coroutine is a set-up bug: 500 and no warning leak."""

    async def later() -> None:
        return None

    app = webhooks.WebhookReceiver(
        on_event=lambda event: later(), public_key=SIGNER.public_key
    ).wsgi_app()
    assert call_wsgi(app, environ_for(BODY, SIGNER.headers(BODY)))[0].startswith("500")


class AsyncGuard:
    async def claim(self, key: str) -> webhooks.Claim:
        return "new"

    async def complete(self, key: str) -> None:
        return None

    async def release(self, key: str) -> None:
        return None


async def _on_event(event: webhooks.WebhookEvent) -> None:
    return None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"on_event": print, "acknowledge": "on_receipt"},
        {"on_event": _on_event},
        {"handoff": _on_event},
        {"on_event": print, "duplicates": AsyncGuard()},
    ],
)
@pytest.mark.parametrize("face", ["wsgi_app", "flask_view", "django_view"])
def test_what_wsgi_cannot_run_fails_at_build_time(kwargs: dict[str, Any], face: str) -> None:
    """on_receipt, async callbacks and async guards need a loop: refused when the view is built."""
    receiver = webhooks.WebhookReceiver(public_key=SIGNER.public_key, **kwargs)
    with pytest.raises(ConfigurationError):
        getattr(receiver, face)()


def test_plain_wsgi_without_a_guard_handles_every_delivery() -> None:
    """duplicates=None under WSGI: each delivery runs the callback, failures answer 500."""
    seen: list[Any] = []
    app = make_receiver(seen, duplicates=None).wsgi_app()
    for _ in range(2):
        assert call_wsgi(app, environ_for(BODY, SIGNER.headers(BODY)))[0] == "200 OK"
    assert len(seen) == 2

    class NotACoroutine:
        def __await__(self) -> Any:
            yield None

    app = webhooks.WebhookReceiver(
        on_event=lambda event: NotACoroutine(), public_key=SIGNER.public_key, duplicates=None
    ).wsgi_app()
    assert call_wsgi(app, environ_for(BODY, SIGNER.headers(BODY)))[0].startswith("500")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    method=st.sampled_from(["POST", "GET", "PUT", "post"]),
    body=st.binary(max_size=600),
    length=st.one_of(st.none(), st.sampled_from(["", "0", "-1", "abc", "99999999", " 5 "])),
    encoding=st.one_of(st.none(), st.sampled_from(["gzip", "deflate", "br", "GZIP", "x\n"])),
    headers=st.dictionaries(
        st.sampled_from(["telnyx-signature-ed25519", "telnyx-timestamp", "x-other"]),
        st.text(max_size=100),
    ),
)
def test_junk_never_gets_a_5xx(
    method: str,
    body: bytes,
    length: str | None,
    encoding: str | None,
    headers: dict[str, str],
) -> None:
    """Whatever arrives that is not a signed webhook is answered 4xx, never 5xx or an exception."""
    receiver = webhooks.WebhookReceiver(
        on_event=print, public_key=SIGNER.public_key, max_body_size=512
    )
    from telnyx_messaging.webhooks._adapters.wsgi import receive_from_stream

    stream = BytesIO(body)
    answer = receive_from_stream(
        receiver.gate,
        method=method,
        read=stream.read,
        content_length=str(len(body)) if length is None else length,
        input_terminated=True,
        content_encoding=encoding,
        headers=headers,
        where="/",
    )
    assert 400 <= answer.status < 500


def test_plain_wsgi_survives_a_guard_that_is_down(caplog: pytest.LogCaptureFixture) -> None:
    """Under WSGI too: a guard that cannot claim gets 503; one that cannot record is logged."""

    class Down:
        def claim(self, key: str) -> webhooks.Claim:
            raise ConnectionError("down")

        def complete(self, key: str) -> None:
            raise ConnectionError("down")

        def release(self, key: str) -> None:
            raise ConnectionError("down")

    class RecordsNothing(Down):
        def claim(self, key: str) -> webhooks.Claim:
            return "new"

    app = make_receiver([], duplicates=Down()).wsgi_app()
    assert call_wsgi(app, environ_for(BODY, SIGNER.headers(BODY)))[0] == "503 Service Unavailable"
    app = make_receiver([], duplicates=RecordsNothing()).wsgi_app()
    with caplog.at_level(logging.ERROR, logger="telnyx_messaging"):
        assert call_wsgi(app, environ_for(BODY, SIGNER.headers(BODY)))[0] == "200 OK"
    assert "could not complete" in caplog.records[-1].getMessage()


def test_a_closed_receiver_refuses_under_wsgi_too() -> None:
    """After close(), the WSGI faces answer 503 as the async ones do."""
    import asyncio

    receiver = make_receiver([])
    app = receiver.wsgi_app()
    asyncio.run(receiver.close())
    assert call_wsgi(app, environ_for(BODY, SIGNER.headers(BODY)))[0] == "503 Service Unavailable"


def test_a_threaded_wsgi_server_handles_concurrent_duplicates_once() -> None:
    """Over real HTTP, ten threads delivering one event at once run the callback once."""
    import http.client
    import socketserver
    import threading
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
        daemon_threads = True

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return None

    calls: list[object] = []
    entered = threading.Barrier(2, timeout=10)

    def slow(event: webhooks.WebhookEvent) -> None:
        calls.append(event)
        entered.wait()  # hold the first delivery until a duplicate has been answered

    app = webhooks.WebhookReceiver(on_event=slow, public_key=SIGNER.public_key).wsgi_app()
    server = make_server(
        "127.0.0.1", 0, app, server_class=ThreadingWSGIServer, handler_class=QuietHandler
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    statuses: list[int] = []
    lock = threading.Lock()

    def deliver() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
        try:
            connection.request("POST", "/", body=BODY, headers=SIGNER.headers(BODY))
            status = connection.getresponse().status
        finally:
            connection.close()
        with lock:
            statuses.append(status)
            if status == 503 and entered.n_waiting:
                entered.wait()  # a duplicate was refused while the first ran: let it finish

    threads = [threading.Thread(target=deliver) for _ in range(10)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
    finally:
        server.shutdown()
        server.server_close()
    assert len(calls) == 1
    assert len(statuses) == 10
    assert set(statuses) == {200, 503}  # the first and later duplicates 200; concurrent ones 503
