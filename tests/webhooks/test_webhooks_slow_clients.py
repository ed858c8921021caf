"""Slow clients cannot starve a receiver: 300 trickling bodies against 256 descriptors.

A real server runs in a child process whose descriptor limit is 256 (``setrlimit`` in the
child, as ``ulimit -n 256`` would). 300 clients each send headers promising a 200 kB body,
then one byte a second. A genuine signed webhook sent 3 s later must still be answered 200,
and the slow clients must be cut (408, connection closed) and logged as ``body_timeout``,
never as ``bad_encoding``. One test per adapter: aiohttp (our deadline), ASGI under uvicorn
(our deadline around ``receive()``), WSGI under a threaded ``wsgiref`` server with the socket
timeout docs/webhooks.md tells WSGI users to set (the server's deadline, which our adapter
turns into a 408).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from telnyx_messaging.testing._signer import WebhookSigner

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "tests" / "spec" / "webhook-examples"
SEED = b"\x1a" * 32
SIGNER = WebhookSigner(seed=SEED)
BODY = (EXAMPLES / "message.received.json").read_bytes()
SLOW_CLIENTS = 300
DESCRIPTORS = 256
BODY_TIMEOUT = 2.0

# The child: lower its own descriptor limit, build the receiver, serve on port 0, say where.
CHILD = textwrap.dedent(
    """
    import asyncio, logging, resource, socket, sys
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, ({descriptors}, hard))
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    from telnyx_messaging import webhooks
    from telnyx_messaging.testing._signer import WebhookSigner
    handled = []
    receiver = webhooks.WebhookReceiver(
        public_key=WebhookSigner(seed={seed!r}).public_key,
        on_event=lambda event: print("handled", event.id, flush=True),
        body_timeout={body_timeout},
    )
    kind = sys.argv[1]
    if kind == "aiohttp":
        from aiohttp import web
        async def main():
            app = web.Application()
            receiver.add_aiohttp_route(app, "/telnyx")
            runner = web.AppRunner(app)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0, backlog=512)
            await site.start()
            print("port", runner.addresses[0][1], flush=True)
            await asyncio.Event().wait()
        asyncio.run(main())
    elif kind == "asgi":
        import uvicorn
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(512)  # connections wait in the backlog until uvicorn serves
        print("port", sock.getsockname()[1], flush=True)
        config = uvicorn.Config(
            receiver.asgi_app(), lifespan="off", log_level="warning", backlog=512
        )
        asyncio.run(uvicorn.Server(config).serve(sockets=[sock]))
    else:
        import socketserver
        from wsgiref.simple_server import WSGIRequestHandler, WSGIServer
        class Handler(WSGIRequestHandler):
            timeout = {body_timeout}  # the server's socket timeout, as docs/webhooks.md says
            def log_request(self, *args):
                pass
        class Server(socketserver.ThreadingMixIn, WSGIServer):
            daemon_threads = True
            request_queue_size = 512
        server = Server(("127.0.0.1", 0), Handler)
        server.set_app(receiver.wsgi_app())
        print("port", server.server_address[1], flush=True)
        server.serve_forever()
    """
).format(descriptors=DESCRIPTORS, seed=SEED, body_timeout=BODY_TIMEOUT)


@pytest.fixture
def child(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[subprocess.Popen[str], int, Path]]:
    """The server for ``request.param`` in a child process with 256 descriptors.

    Its log goes to a file: asyncio logs every refused accept() with a traceback, and a pipe
    nobody reads until the end would fill and freeze the child's event loop.
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    log = tmp_path / "server.log"
    with log.open("w") as errors:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and code
            [sys.executable, "-c", CHILD, request.param],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env=env,
        )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith("port "), log.read_text()
    try:
        yield process, int(line.split()[1]), log
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - a wedged child
            process.kill()
            process.wait()


async def _trickle(port: int, stop: asyncio.Event, cut: list[float], connected: list[int]) -> None:
    """Promise 200 kB, then send a byte a second until the server hangs up (or we stop)."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 30)
    except (OSError, asyncio.TimeoutError):  # pragma: no cover - a machine out of ports
        return
    connected.append(1)
    started = time.monotonic()
    try:
        writer.write(
            b"POST /telnyx HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 200000\r\n\r\n{"
        )
        while not stop.is_set():
            try:
                answer = await asyncio.wait_for(reader.read(65536), 1.0)
            except asyncio.TimeoutError:
                writer.write(b" ")
                await writer.drain()
                continue
            if not answer or answer.startswith(b"HTTP/1."):
                cut.append(time.monotonic() - started)
                return
    except OSError:
        cut.append(time.monotonic() - started)
    finally:
        writer.close()


@pytest.mark.parametrize("child", ["aiohttp", "asgi", "wsgi"], indirect=True)
async def test_a_genuine_webhook_is_answered_while_300_slow_clients_trickle(
    child: tuple[subprocess.Popen[str], int, Path],
) -> None:
    """With every descriptor wanted by slow clients, a real webhook still gets its 200."""
    process, port, log = child
    stop = asyncio.Event()
    cut: list[float] = []
    connected: list[int] = []
    slow = [asyncio.create_task(_trickle(port, stop, cut, connected)) for _ in range(SLOW_CLIENTS)]
    await asyncio.sleep(3)
    sent = time.monotonic()
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"http://127.0.0.1:{port}/telnyx",
            data=BODY,
            headers=SIGNER.headers(BODY),
            timeout=aiohttp.ClientTimeout(total=60),
        ) as answer,
    ):
        status = answer.status
    answered_after = time.monotonic() - sent
    # Every slow client is cut by the server on its own, none left holding a descriptor.
    _, still_trickling = await asyncio.wait(slow, timeout=60)
    stop.set()
    await asyncio.gather(*slow)
    process.terminate()
    process.communicate(timeout=10)
    errors = log.read_text()
    assert status == 200, errors[-2000:]
    assert not still_trickling
    assert len(connected) >= SLOW_CLIENTS * 0.9
    assert len(cut) == len(connected)
    assert errors.count("(408 body_timeout)") >= len(connected)
    assert "bad_encoding" not in errors
    # Answered within a few deadlines, although every descriptor was taken when it came.
    assert answered_after < 10 * BODY_TIMEOUT
