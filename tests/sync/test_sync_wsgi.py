"""The sync Client in a real WSGI server: a threaded Flask app sharing one module-level client."""

from __future__ import annotations

import concurrent.futures
import json
import threading
import urllib.request
from collections.abc import Iterator

import pytest
from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.serving import make_server

from telnyx_messaging import Client, TelnyxError
from telnyx_messaging.testing import FakeTelnyx


def make_app(client: Client) -> Flask:
    """A Flask app as users write one: views call the module-level client directly."""
    app = Flask(__name__)

    @app.post("/notify")
    def notify() -> ResponseReturnValue:
        payload = request.get_json()
        try:
            msg = client.messages.send(to=payload["to"], from_="+18445550001", text="hi")
        except TelnyxError as exc:
            return jsonify(error=str(exc)), 502
        return jsonify(id=msg.id)

    @app.get("/optouts")
    def optouts() -> ResponseReturnValue:
        return jsonify(count=sum(1 for _ in client.messaging_optouts.list(page_size=20)))

    return app


@pytest.fixture
def server(threaded_fake: FakeTelnyx) -> Iterator[str]:
    client = Client(api_key=threaded_fake.api_key, base_url=threaded_fake.base_url)
    httpd = make_server("127.0.0.1", 0, make_app(client), threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join()
    httpd.server_close()
    client.close()


def post(url: str, body: dict[str, str]) -> tuple[int, dict[str, str]]:
    req = urllib.request.Request(  # noqa: S310 - our own loopback server
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=60) as answer:  # noqa: S310
        return answer.status, json.loads(answer.read())


def test_concurrent_requests_each_send_through_one_client(
    server: str,
    threaded_fake: FakeTelnyx,
) -> None:
    """Many concurrent requests to a threaded WSGI server each send once, all succeed."""
    numbers = [f"+1312555{n:04d}" for n in range(240)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=24) as pool:
        answers = list(pool.map(lambda to: post(f"{server}/notify", {"to": to}), numbers))
    assert {status for status, _ in answers} == {200}
    ids = {body["id"] for _, body in answers}
    assert ids == set(threaded_fake.messages)
    assert len(ids) == len(numbers)
    assert sorted(m["to"][0]["phone_number"] for m in threaded_fake.messages.values()) == numbers


def test_views_page_through_lists_while_others_send(
    server: str,
    threaded_fake: FakeTelnyx,
) -> None:
    """Paging views and sending views interleave on the one client without mixing answers."""

    def optouts(_: int) -> int:
        with urllib.request.urlopen(f"{server}/optouts", timeout=60) as answer:  # noqa: S310
            return int(json.loads(answer.read())["count"])

    with concurrent.futures.ThreadPoolExecutor(max_workers=12) as pool:
        counts = pool.map(optouts, range(24))
        sends = pool.map(lambda n: post(f"{server}/notify", {"to": f"+1312555{n:04d}"}), range(24))
        assert set(counts) == {len(threaded_fake.optout_items)}
        assert {status for status, _ in sends} == {200}
