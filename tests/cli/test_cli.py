"""The command line: the README's first command must work on a fresh machine."""

from __future__ import annotations

import asyncio
import re
import socket
import subprocess
import sys
from typing import Any

import pytest

from telnyx_messaging._cli import demo as cli
from telnyx_messaging._cli import fake_server
from telnyx_messaging._cli.main import build_parser, main
from telnyx_messaging.testing import WebhookSigner


def test_demo_closes_every_lifecycle(capsys: pytest.CaptureFixture[str]) -> None:
    """`demo` sends, verifies every webhook, answers an inbound message and refuses a forgery."""
    assert main(["demo", "--messages", "40"]) == 0
    out = capsys.readouterr().out
    assert "Sent      40 messages with send_many" in out
    assert "Delivered 39; failed 1 (1 delivery_failed)" in out
    assert "the answer was delivered" in out
    assert "Closed    40 of 40 lifecycles" in out
    # 40 sent + 40 finalized for the sends, 1 received, 2 for the reply.
    assert (
        "Webhooks  83 verified (41 message.finalized, 1 message.received, 41 message.sent)" in out
    )
    assert re.search(r"one byte changed, refused: 401 \(signature does not match", out)
    assert out.rstrip().endswith("Every message's lifecycle closed.")


def test_demo_fails_when_a_send_fails(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row send_many could not send means not every lifecycle closed: the demo exits 1."""
    real = cli.send_all

    async def one_bad_number(client: Any, texts: dict[str, str], tracker: Any) -> list[Any]:
        return await real(client, {**texts, "not a number": "Hi"}, tracker)

    monkeypatch.setattr(cli, "send_all", one_bad_number)
    assert main(["demo", "--messages", "5"]) == 1
    out = capsys.readouterr().out
    assert "Sent      5 messages with send_many" in out
    assert re.search(r"failed: row 5: InvalidArgumentError\(.*not a number", out)
    assert "Some lifecycles did not close." in out


async def test_demo_waits_are_bounded() -> None:
    """The demo's waits give up (False) instead of hanging, and it replies only to what came."""
    inbox = cli._Inbox()
    assert await inbox.wait_for(lambda: False, 0.01) is False
    assert await inbox.wait_for(lambda: True, 0.01) is True
    assert await cli._answer(None, inbox) == "not sent: no inbound message arrived"  # type: ignore[arg-type]


def test_python_dash_m_runs_the_demo() -> None:
    """`python -m telnyx_messaging demo` exits 0 in a fresh interpreter with no env vars."""
    done = subprocess.run(
        [sys.executable, "-m", "telnyx_messaging", "demo"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Sent      300 messages" in done.stdout
    assert done.stderr == ""


async def test_fake_server_prints_what_clients_need(capsys: pytest.CaptureFixture[str]) -> None:
    """fake-server prints its URL, API key and the public key that verifies its webhooks."""
    seed = "01" * 32
    args = build_parser().parse_args(
        ["fake-server", "--port", "0", "--api-key", "KEY_cli", "--signing-seed", seed]
    )
    serving = asyncio.create_task(fake_server.serve(args))
    out = ""
    while "public key" not in out:
        await asyncio.sleep(0.01)
        out += capsys.readouterr().out
    serving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await serving
    url = re.search(r"FakeTelnyx on (\S+);", out)
    key = re.search(r"public key  (\S+)", out)
    assert url is not None
    assert key is not None
    assert "API key     KEY_cli" in out
    assert key.group(1) == WebhookSigner(seed=bytes.fromhex(seed)).public_key


def test_every_fake_server_option_is_described() -> None:
    """`fake-server --help` describes every option (issue 12)."""
    parser = build_parser()
    server = parser._subparsers._group_actions[0].choices["fake-server"]  # type: ignore[union-attr]
    for action in server._actions:
        assert action.help, action.dest


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """A missing or unknown command prints usage and exits 2."""
    with pytest.raises(SystemExit) as caught:
        main(["nope"])
    assert caught.value.code == 2
    assert "usage" in capsys.readouterr().err


def test_signing_seed_must_be_32_bytes(capsys: pytest.CaptureFixture[str]) -> None:
    """--signing-seed takes exactly 64 hex digits and says so otherwise."""
    for bad in ("zz" * 32, "01" * 31):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["fake-server", "--signing-seed", bad])
        assert "must be 64 hex digits" in capsys.readouterr().err


def test_demo_message_count_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    """--messages 0 is a usage error that says what is allowed."""
    with pytest.raises(SystemExit):
        main(["demo", "--messages", "0"])
    assert "must be 1 or more" in capsys.readouterr().err


def test_demo_message_count_must_be_a_number(capsys: pytest.CaptureFixture[str]) -> None:
    """--messages abc is a usage error naming what was given, not our parser function."""
    with pytest.raises(SystemExit):
        main(["demo", "--messages", "abc"])
    err = capsys.readouterr().err
    assert "must be a whole number, not 'abc'" in err
    assert "_positive" not in err


def test_fake_server_refuses_a_webhook_url_it_would_never_post_to(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A webhook URL on another host without --webhook-host is a usage error naming the fix."""
    for option in ("--webhook-url", "--webhook-failover-url"):
        with pytest.raises(SystemExit) as caught:
            main(["fake-server", option, "http://app:8000/telnyx"])
        assert caught.value.code == 2
        assert f"{option} http://app:8000/telnyx" in (err := capsys.readouterr().err)
        assert "add --webhook-host app" in err
    args = build_parser().parse_args(
        ["fake-server", "--webhook-url", "http://app:8000/t", "--webhook-host", "app"]
    )
    assert fake_server._webhook_host_refused(args) is None
    local = build_parser().parse_args(["fake-server", "--webhook-url", "http://localhost:8000/t"])
    assert fake_server._webhook_host_refused(local) is None


def test_fake_server_on_a_taken_port_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    """A port already in use ends fake-server with exit 1 and one line, not a traceback."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["fake-server", "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err
    assert "choose another --port" in err
    assert "Traceback" not in err


def test_fake_server_port_must_be_a_port_number(capsys: pytest.CaptureFixture[str]) -> None:
    """--port outside 0-65535 is a usage error, not an OverflowError from bind()."""
    for bad in ("70000", "-1", "http"):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["fake-server", "--port", bad])
        assert f"must be a port number from 0 to 65535, not {bad!r}" in capsys.readouterr().err
