"""Mutation testing of the pure core, one module at a time: ``nox -s mutation [-- MODULE...]``.

For each module, mutmut (configured under ``[tool.mutmut]`` in pyproject.toml) mutates that
one file and runs the test files that exercise it; this prints the score and every mutant the
tests let live, with its diff. Survivors judged equivalent (no test could tell them apart) are
listed in each target's ``equivalent=`` below and in docs/testing.md, and are left out of
the score.

Run it on one module while writing its tests; each module works in its own directory under
``.nox/mutation/``, so runs do not disturb the worktree or each other.

Two things a plain ``mutmut run`` gets wrong here, handled below:

- SIGINT: a process started in the background from a non-interactive shell inherits SIGINT as
  ignored, and so would every pytest under mutmut and every child they start: the send-bulk
  Ctrl-C test would then fail for every mutant, which reads as a kill. This script resets it.
- Child processes: mutmut learns which tests reach a function from calls in the pytest
  process itself, so a test that drives a module only inside a child process (the
  SIGKILL-and-resume tests) never runs against its mutants. Each survivor is therefore run
  again against ``CHILD_PROCESS_TESTS`` with the mutant switched on by the environment, which
  the child inherits (its ``PYTHONPATH`` points at the mutated copy).
"""

from __future__ import annotations

import argparse
import fcntl
import fnmatch
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import tomllib

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".nox" / "mutation"


@dataclass(frozen=True)
class Target:
    """One module of the pure core and the tests that exercise it."""

    path: str
    tests: tuple[str, ...]
    #: Tests run against each survivor afterwards, not against every mutant: those that reach
    #: the module in a child process (mutmut cannot see them), and slow ones that would make
    #: every mutant of a widely used function take as long as they do.
    child_process_tests: tuple[str, ...] = ()
    #: (function, mutated line as mutmut shows it) pairs judged equivalent; see docs/testing.md.
    equivalent: tuple[tuple[str, str], ...] = field(default=())
    #: mutmut leaves module-level code alone: (text, replacement) edits of the constants, each
    #: run against the tests on its own. The numbers the docs promise must not move unseen.
    constants: tuple[tuple[str, str], ...] = field(default=())
    #: (file, text, replacement): the same for constants of another file the module relies
    #: on (the defaults a class is built with), run against this module's tests.
    constants_elsewhere: tuple[tuple[str, str, str], ...] = field(default=())
    #: A mutant whose tests run longer than (their usual time + 1 s) times this is a timeout,
    #: which counts as caught. mutmut's default (15) lets a mutant that hangs a 20 s test file
    #: hold a worker for five minutes; the tests here wait on wall clocks, not on the CPU.
    timeout_multiplier: float = 4.0
    #: Lines (a regular expression they match) whose text the program reads without regard to
    #: case, such as SQL: a mutant that only changes the case of such a line is equivalent.
    case_blind: str = ""


# (mutmut's line keeps its comment)
_CUT_TO = "# the pace the last cut left; it ramps up by RAMP of it a second"

TARGETS = {
    "retry": Target(
        "telnyx_messaging/_http/retry.py",
        (
            "tests/client/test_retry_policy.py",
            "tests/client/test_retry_answer_headers.py",
            "tests/client/test_resilience.py",
            "tests/client/test_hardening.py",
            "tests/client/test_errors.py",
        ),
        equivalent=(
            # The exponent is capped only so that 2.0 ** n cannot overflow; the wait reached
            # the 8 s cap at n = 4 already.
            (
                "backoff_seconds",
                "base = min(MAX_BACKOFF, INITIAL_BACKOFF * 2.0 ** min(failed_attempt - 1, 33))",
            ),
        ),
        constants=(
            ("INITIAL_BACKOFF = 0.5", "INITIAL_BACKOFF = 0.6"),
            ("MAX_BACKOFF = 8.0", "MAX_BACKOFF = 9.0"),
            ("MAX_BACKOFF = 8.0", "MAX_BACKOFF = 7.0"),
            ("JITTER = 0.5", "JITTER = 0.6"),
            ("JITTER = 0.5", "JITTER = 0.4"),
            ("[0-9]{1,12}", "[0-9]{1,13}"),
            ("[0-9]{1,12}", "[0-9]{1,11}"),
            ("[0-9]{1,9}", "[0-9]{1,10}"),
            ("[0-9]{1,9}", "[0-9]{1,8}"),
        ),
    ),
    # The retry decision itself (retry.py re-exports it; the delivery tracker asks it too).
    "retryable": Target(
        "telnyx_messaging/_retryable.py",
        (
            "tests/client/test_retry_policy.py",
            "tests/client/test_retry_answer_headers.py",
            "tests/client/test_resilience.py",
            "tests/client/test_errors.py",
        ),
        constants=(
            ('OPTED_OUT_CODE = "40300"', 'OPTED_OUT_CODE = "40301"'),
            ("429, 500,", "429, 501,"),
            ("{408, 409,", "{408,"),
        ),
    ),
    "signature": Target(
        "telnyx_messaging/webhooks/_signature.py",
        (
            "tests/webhooks/test_signature_failures.py",
            "tests/webhooks/test_webhooks.py",
            "tests/webhooks/test_webhooks_properties.py",
            "tests/client/test_hardening.py",
        ),
        equivalent=(
            # Codec names are case-insensitive: "ASCII" is "ascii".
            ("_decode_key", 'value = value.decode("ASCII")'),
            ("_header", 'return bytes(value).decode("LATIN-1")'),
            (
                "check_signature",
                'signed = signature_bytes + (timestamp + "|" + body).encode("UTF-8")',
            ),
            (
                "check_signature",
                'signed = b"".join((signature_bytes, timestamp.encode("ASCII"), b"|", body))',
            ),
            # An empty timestamp passes the length test but "".isdigit() is False all the same.
            (
                "check_signature",
                "if not (0 <= len(timestamp) <= _MAX_TIMESTAMP_DIGITS and timestamp.isascii())"
                " or (",
            ),
        ),
        constants=(
            ("DEFAULT_TOLERANCE = 300", "DEFAULT_TOLERANCE = 301"),
            ("DEFAULT_TOLERANCE = 300", "DEFAULT_TOLERANCE = 299"),
            ('SIGNATURE_HEADER = "telnyx-signature-ed25519"', 'SIGNATURE_HEADER = "x"'),
            ('TIMESTAMP_HEADER = "telnyx-timestamp"', 'TIMESTAMP_HEADER = "x"'),
            ("_KEY_BYTES = 32", "_KEY_BYTES = 33"),
            ("_SIGNATURE_BYTES = 64", "_SIGNATURE_BYTES = 65"),
            ("302a300506032b6570032100", "302a300506032b656e032100"),
            ("_MAX_SIGNATURE_CHARS = 128", "_MAX_SIGNATURE_CHARS = 127"),
            ("_MAX_SIGNATURE_CHARS = 128", "_MAX_SIGNATURE_CHARS = 129"),
            ("_MAX_TIMESTAMP_DIGITS = 20", "_MAX_TIMESTAMP_DIGITS = 19"),
            ("_MAX_TIMESTAMP_DIGITS = 20", "_MAX_TIMESTAMP_DIGITS = 21"),
            ("-----END \\1-----", "-----END ([A-Z0-9 ]+)-----"),
            ("re.DOTALL", "0"),
            ("maxsize=32", "maxsize=0"),
        ),
    ),
    "dedupe": Target(
        "telnyx_messaging/webhooks/_dedupe.py",
        ("tests/webhooks", "tests/redis/test_redis_dedupe.py"),
        # Replicas in child processes share one guard: their keys must agree.
        child_process_tests=("tests/redis/test_redis_dedupe.py",),
        equivalent=(
            (
                "duplicate_key",
                'return "sha256:" + hashlib.sha256(text.encode("UTF-8")).hexdigest()',
            ),
            # OrderedDict.popitem reads `last` for its truth: None pops the oldest, as False does.
            ("MemoryDuplicateGuard.claim", "done.popitem(last=None)"),
        ),
        constants=(
            ("DEFAULT_MIN_AGE = 300.0", "DEFAULT_MIN_AGE = 301.0"),
            ("DEFAULT_MIN_AGE = 300.0", "DEFAULT_MIN_AGE = 299.0"),
        ),
    ),
    # The webhook gate (the receiver's sans-I/O checks). Every mutant runs the gate's own
    # tests (pure, driven through its calls) and the adapters'; the rest of tests/webhooks
    # (receiving end to end, reliability, recipes, docs, several seconds of real waits) runs
    # only against the survivors, or a mutant of __init__ would take all of it each.
    "gate": Target(
        "telnyx_messaging/webhooks/_policy.py",
        (
            "tests/webhooks/test_gate_pins.py",
            "tests/webhooks/test_webhooks_aiohttp.py",
            "tests/webhooks/test_webhooks_asgi.py",
            "tests/webhooks/test_webhooks_wsgi.py",
        ),
        # Quickest first (a kill stops the run): then 300 trickling clients against a server
        # in a child process, and the fake's retries of a 3 s callback.
        child_process_tests=(
            "tests/webhooks/test_webhooks_dedupe.py",
            "tests/webhooks/test_webhook_docs.py",
            "tests/webhooks/test_webhooks_recipes.py",
            "tests/webhooks/test_webhooks_reliability.py",
            "tests/webhooks/test_webhooks_receiving.py",
            "tests/webhooks/test_webhooks_slow_clients.py",
            "tests/webhooks/test_webhooks_fake_deliveries.py",
        ),
        equivalent=(
            # Only callables get here (the receiver checks on_event, handoff and the guard's
            # methods), and every callable has __call__: the default is never used.
            (
                "_is_async",
                'getattr(function, "__call__", )  # noqa: B004 - a callable object\'s method',
            ),
            # settle and settle_sync read `done` for its truth: None releases, as False does.
            ("WebhookGate.handle_sync", "self.settle_sync(webhook.key, done=None)"),
            ("WebhookGate.handle", "await self.settle(webhook.key, done=None)"),
            ("WebhookGate._dispatch", "await self.settle(webhook.key, done=None)"),
            # Read for their truth only (`if not self._metrics_broken`, `if self.closed`).
            ("WebhookGate.__init__", "self._metrics_broken = None"),
            ("WebhookGate.__init__", "self.closed = None"),
            # Inflating one byte more past the cap: the length check after it refuses the
            # same bodies (more than max_body_size bytes), and the memory bound stays.
            ("WebhookGate._decode", "body = inflater.decompress(raw, self.max_body_size + 2)"),
            # Only parsed events get here, and every event class has both attributes.
            (
                "event_type",
                'return getattr(event, "event_type", ) or getattr(event, "record_type", None)',
            ),
            (
                "event_type",
                'return getattr(event, "event_type", None) or getattr(event, "record_type", )',
            ),
        ),
        constants=(
            ("TELNYX_ACK_WINDOW = 2.0", "TELNYX_ACK_WINDOW = 2.5"),
            ("TELNYX_ACK_WINDOW = 2.0", "TELNYX_ACK_WINDOW = 1.5"),
            ('"identity", "gzip", "deflate")', '"identity", "gzip")'),
            ('"identity", "gzip", "deflate")', '"identity", "deflate")'),
            ('("", "identity", "gzip"', '("", "gzip"'),
            ('_RETRY_LATER = (("Retry-After", "1"),)', '_RETRY_LATER = (("Retry-After", "2"),)'),
            ('_CLOSE = (("Connection", "close"),)', '_CLOSE = (("Connection", "keep-alive"),)'),
            ("DISCONNECT_LOG_INTERVAL = 60.0", "DISCONNECT_LOG_INTERVAL = 61.0"),
            ("DISCONNECT_LOG_INTERVAL = 60.0", "DISCONNECT_LOG_INTERVAL = 59.0"),
        ),
        # The defaults the receiver builds the gate with.
        constants_elsewhere=(
            (
                "telnyx_messaging/webhooks/_receiver.py",
                "DEFAULT_MAX_BODY_SIZE = 256 * 1024",
                "DEFAULT_MAX_BODY_SIZE = 256 * 1024 + 1",
            ),
            (
                "telnyx_messaging/webhooks/_receiver.py",
                "DEFAULT_MAX_BODY_SIZE = 256 * 1024",
                "DEFAULT_MAX_BODY_SIZE = 256 * 1024 - 1",
            ),
            (
                "telnyx_messaging/webhooks/_receiver.py",
                "DEFAULT_BODY_TIMEOUT = 10.0",
                "DEFAULT_BODY_TIMEOUT = 11.0",
            ),
        ),
    ),
    "journal": Target(
        "telnyx_messaging/_bulk/_journal.py",
        ("tests/bulk/test_journal_pins.py", "tests/bulk/test_bulk_reliability.py"),
        # SIGKILL-and-resume in child processes, send-bulk's journal, and the rest of bulk's
        # tests (paced on real clocks: minutes for every mutant of a widely used function).
        child_process_tests=(
            "tests/bulk/test_bulk.py",
            "tests/bulk/test_bulk_crash_property.py",
            "tests/cli/test_send_bulk_cli.py",
            "tests/cli/test_send_bulk_campaign_identity.py",
        ),
        # SQLite reads its keywords and names without regard to case (not its 'strings').
        case_blind=(
            r'"(SELECT|INSERT|UPDATE|BEGIN|COMMIT|ROLLBACK|PRAGMA)\b|\bWHERE idx\b|\) VALUES \('
        ),
        equivalent=(
            # The temporary file's random part: any length names a file nobody else makes.
            (
                "Journal._create",
                'folder, f".{os.path.basename(self.path)}.{os.getpid()}.'
                '{uuid.uuid4().hex[:9]}.new"',
            ),
            # Python's implicit transactions never start: every statement that writes runs
            # inside an explicit BEGIN ... COMMIT.
            ("Journal._create", "db = sqlite3.connect(temporary, )"),
            ("Journal.__init__", "db = sqlite3.connect(self.path, timeout=0, )"),
            # Codec names ignore case; json.dumps reads ensure_ascii for its truth.
            ("encode_row", '"UTF-8", "surrogatepass"'),
            (
                "encode_row",
                'return json.dumps(data, sort_keys=True, separators=(",", ":"), '
                "ensure_ascii=None).encode(",
            ),
        ),
        constants=(
            ('FORMAT = "2"', 'FORMAT = "3"'),
            ("FLUSH_SECONDS = 0.5", "FLUSH_SECONDS = 0.6"),
            ("FLUSH_SECONDS = 0.5", "FLUSH_SECONDS = 0.4"),
            ("FLUSH_ROWS = 256", "FLUSH_ROWS = 255"),
            ("FLUSH_ROWS = 256", "FLUSH_ROWS = 257"),
            ("5b0f4c52-7a43-4d6e-9a7e-2f1c3e8d9b61", "5b0f4c52-7a43-4d6e-9a7e-2f1c3e8d9b62"),
            ('b"SQLite format 3\\x00"', 'b"SQLite format 3 "'),
            ('_TABLES = {"meta", "rows"}', '_TABLES = {"meta", "rows", "runs"}'),
            ("idx INTEGER PRIMARY KEY", "idx INTEGER"),
        ),
    ),
    "pacing": Target(
        "telnyx_messaging/_bulk/_pacing.py",
        # The Pacer on a virtual clock: under a second for every mutant.
        ("tests/bulk/test_pacer.py", "tests/bulk/test_pacing_pins.py"),
        # Real time against FakeTelnyx (minutes per mutant), several processes drawing on one
        # Redis budget: only against the survivors.
        child_process_tests=(
            "tests/bulk/test_pacing.py",
            "tests/bulk/test_bulk.py",
            "tests/cli/test_send_bulk_pacing.py",
            "tests/redis/test_redis_pacing.py",
        ),
        equivalent=(
            # The exact-name lookup is a fast path: the case-blind scan after it finds the
            # same header.
            ("_header_number", "value = None"),
            ("_header_number", "value = headers.get(None)"),
            # Every budget is noted when it is made, and leaves _latest only here.
            ("Pacer._forget_idle_senders", "self._latest.pop(key, )"),
            # pace() of a budget never cut is (its cap, False) and changes nothing; the flag
            # is not read.
            (
                "Pacer._note",
                "rate, _ = scope.pace(self._clock()) if (scope.rate is not None) or True"
                " else (scope.cap(), False)",
            ),
            (
                "Pacer._note",
                "rate, _ = scope.pace(self._clock()) if scope.rate is not None"
                " else (scope.cap(), True)",
            ),
            # A missing wait_seconds read as 1.0 (or a first last_wait of 1.0) is not past
            # QUEUED_SECONDS, and any wait past it is above 0 and 1.0 alike.
            ("Pacer.went_through", "wait = wait_seconds or 1.0"),
            ("_Scope.__init__", "self.last_wait = 1.0"),
            # wait_turn, the only maker of a Turn, sets sent_at before returning it.
            ("Turn.__init__", "self.sent_at = None"),
            ("Turn.__init__", "self.sent_at = 1.0"),
            # Read only once a cut set the pace, and a cut sets them too.
            ("_Scope.__init__", "self.grew_at = None"),
            ("_Scope.__init__", "self.grew_at = 1.0"),
            ("_Scope.__init__", f"self.cut_to = None  {_CUT_TO}"),
            ("_Scope.__init__", f"self.cut_to = 1.0  {_CUT_TO}"),
            # "" is falsy: cap() skips it as it skips None, and the probe only clears it again.
            (
                "_Scope.__init__",
                'self.limit: float | None = ""  # the x-ratelimit-limit a 429 named',
            ),
            ("_Scope.pace", 'self.limit = ""'),
            # None is falsy: `if reached:` reads it as False.
            ("_Scope.pace", "reached = None"),
        ),
        constants=(
            ("DEFAULT_MAX_PAUSE = 300.0", "DEFAULT_MAX_PAUSE = 301.0"),
            ("DEFAULT_MAX_PAUSE = 300.0", "DEFAULT_MAX_PAUSE = 299.0"),
            ("HEADROOM = 0.95", "HEADROOM = 0.96"),
            ("DEEPEST_CUT = 0.5", "DEEPEST_CUT = 0.6"),
            ("SHALLOWEST_CUT = 0.9", "SHALLOWEST_CUT = 0.8"),
            ("CUT_INTERVAL = 1.0", "CUT_INTERVAL = 1.1"),
            ("CUT_INTERVAL = 1.0", "CUT_INTERVAL = 0.9"),
            ("QUEUED_SECONDS = 1.0", "QUEUED_SECONDS = 1.1"),
            ("QUEUED_SECONDS = 1.0", "QUEUED_SECONDS = 0.9"),
            ("QUEUE_DECREASE = 0.7", "QUEUE_DECREASE = 0.8"),
            ("RAMP = 0.1", "RAMP = 0.2"),
            ("PROBE_AFTER = 30.0", "PROBE_AFTER = 31.0"),
            ("PROBE_AFTER = 30.0", "PROBE_AFTER = 29.0"),
            ("DEFAULT_HOLD = 1.0", "DEFAULT_HOLD = 2.0"),
            ('{"40318", "40011"}', '{"40318"}'),
            ('{"40318", "40011"}', '{"40011"}'),
            ('RATE_LIMITED = "10011"', 'RATE_LIMITED = "10012"'),
            ("UNPACED = 1_000_000.0", "UNPACED = 100_000.0"),
            ("_CHANGES_KEPT = 100", "_CHANGES_KEPT = 101"),
            ("MAX_SENDER_BUCKETS = MAX_BUDGET_KEYS", "MAX_SENDER_BUCKETS = MAX_BUDGET_KEYS + 1"),
            ("MAX_SENDER_BUCKETS = MAX_BUDGET_KEYS", "MAX_SENDER_BUCKETS = MAX_BUDGET_KEYS - 1"),
        ),
    ),
}

# The lock files of the modules this process runs (see `run`), open until it ends.
_LOCKS: list[IO[str]] = []

# What mutmut's exit codes mean for the score: a timeout or a type error is a caught mutant.
CAUGHT = {"killed", "timeout", "caught by type check", "segfault"}


def _config_for(target: Target) -> str:
    """pyproject.toml with [tool.mutmut] narrowed to one module and its tests."""
    text = (ROOT / "pyproject.toml").read_text()
    shared = tomllib.loads(text)["tool"]["mutmut"]
    settings = {
        **shared,
        "only_mutate": [target.path],
        "timeout_multiplier": target.timeout_multiplier,
        "pytest_add_cli_args_test_selection": [
            t for t in target.tests if (ROOT / t.split("::")[0]).exists()
        ],
    }
    # Drop the shared table (up to the next one) and write this module's in its place.
    text = re.sub(r"(?ms)^\[tool\.mutmut\]\n.*?(?=^\[)", "", text + "\n[end]\n")[: -len("[end]\n")]
    lines = ["[tool.mutmut]"]
    for key, value in settings.items():
        lines.append(f"{key} = {_toml(value)}")
    return text + "\n" + "\n".join(lines) + "\n"


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    raise TypeError(f"no TOML for {value!r}")


def _prepare(name: str, target: Target) -> Path:
    """A fresh work directory: links to the sources, this module's configuration."""
    work = WORK / name
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    for entry in ("telnyx_messaging", "tests", "docs", "README.md", "CHANGELOG.md", "mkdocs.yml"):
        if (ROOT / entry).exists():
            (work / entry).symlink_to(ROOT / entry)
    (work / "pyproject.toml").write_text(_config_for(target))
    # Made now, not by mutmut: the tests' PYTHONPATH names it, and a directory missing when
    # Python starts is remembered as missing (the original package would be tested instead).
    (work / "mutants").mkdir()
    return work


def _mutmut(work: Path, *args: str) -> None:
    subprocess.run(  # noqa: S603 - our own interpreter and mutmut's command line
        [sys.executable, "-c", "from mutmut.__main__ import cli; cli()", *args],
        cwd=work,
        env={**os.environ, "PYTHONPATH": str(work / "mutants")},
        check=True,
    )


# Every mutant's status, and the diff of those not caught, in one process (one `mutmut show`
# per survivor costs a second each). Uses mutmut's own modules: the session pins its version.
_REPORT = """
import json, sys
from mutmut.mutation.data import SourceFileMutationData
from mutmut.mutation.diff_apply import get_diff_for_mutant
from mutmut.stats import status_by_exit_code
from mutmut.utils.file_utils import walk_mutatable_files
caught = set(sys.argv[1:])
report = {}
for path in walk_mutatable_files():
    data = SourceFileMutationData(path=path)
    data.load()
    for name, code in data.exit_code_by_key.items():
        status = status_by_exit_code[code]
        diff = "" if status in caught else get_diff_for_mutant(name, path=data.path)
        report[name] = [status, diff]
print(json.dumps(report))
"""


def _report(work: Path) -> dict[str, tuple[str, str]]:
    """Each mutant's status and (unless caught) its diff."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and mutmut's modules
        [sys.executable, "-c", _REPORT, *sorted(CAUGHT)],
        cwd=work,
        env={**os.environ, "PYTHONPATH": str(work / "mutants")},
        check=True,
        text=True,
        stdout=subprocess.PIPE,
    )
    return {name: (status, diff) for name, (status, diff) in json.loads(done.stdout).items()}


def _added_line(diff: str) -> str:
    """The mutated line of a mutant's diff, stripped (how ``equivalent=`` names a mutant)."""
    return " / ".join(line.strip() for line in _changed_lines(diff, "+"))


def _changed_lines(diff: str, sign: str) -> list[str]:
    """The lines a mutant's diff removes (``sign`` "-") or adds ("+"), unstripped."""
    return [
        line[1:]
        for line in diff.splitlines()
        if line.startswith(sign) and not line.startswith(sign * 3)
    ]


def _case_only(diff: str, pattern: str) -> bool:
    """Whether the mutant only changed the case of a line matching ``pattern``."""
    removed, added = _changed_lines(diff, "-"), _changed_lines(diff, "+")
    return (
        bool(pattern)
        and len(removed) == len(added) >= 1
        and all(re.search(pattern, line) for line in removed)
        and all(
            a != b and a.lower() == b.lower() and _quoted(a) == _quoted(b)
            for a, b in zip(removed, added, strict=True)
        )
    )


def _quoted(line: str) -> list[str]:
    """The 'strings' inside a line of SQL, whose case SQLite does not ignore."""
    return re.findall(r"'[^']*'", line)


def _function(mutant: str) -> str:
    # telnyx_messaging._http.retry.x_backoff_seconds__mutmut_7 -> backoff_seconds;
    # ...xǁPublicKeysǁ_check__mutmut_1 -> PublicKeys._check
    local = mutant.rsplit(".", 1)[-1].rsplit("__mutmut_", 1)[0]
    return local.removeprefix("x_").removeprefix("xǁ").replace("ǁ", ".")


def _killed_in_a_child(work: Path, target: Target, mutant: str) -> bool:
    """Whether the child-process tests fail with ``mutant`` switched on."""
    # Exit code 1 is a failing test; anything else (a test id that moved, no tests) is not a kill.
    return _pytest(work, target.child_process_tests, mutant) == 1


def _child_tests_pass(work: Path, target: Target) -> bool:
    """Whether the child-process tests pass with no mutant (if not, they cannot judge any)."""
    if _pytest(work, target.child_process_tests) == 0:
        return True
    print(
        "  the child-process tests do not pass as they are (a test moved or was renamed?): "
        f"{' '.join(target.child_process_tests)}; survivors are not run against them",
        flush=True,
    )
    return False


def _pytest(work: Path, tests: Sequence[str], mutant: str = "") -> int:
    """Run ``tests`` on the mutated copy (``mutant`` switched on, or none); the exit code."""
    mutants = work / "mutants"
    done = subprocess.run(  # noqa: S603 - our own interpreter and pytest
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *tests],
        cwd=mutants,
        # No bytecode: a constant edited and put back within one second, at the same size,
        # would leave a cached module Python still takes for the source.
        env={
            **os.environ,
            "PYTHONPATH": str(mutants),
            "MUTANT_UNDER_TEST": mutant,
            "PYTHONDONTWRITEBYTECODE": "1",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    return done.returncode


def _constants(work: Path, target: Target) -> tuple[int, list[str]]:
    """Edit each constant in turn and run the tests: (edits caught, the edits that survived)."""
    edits = [(target.path, text, replacement) for text, replacement in target.constants]
    edits += target.constants_elsewhere
    tests = [t for t in target.tests if (work / "mutants" / t.split("::")[0]).exists()]
    caught, survived = 0, []
    for path, text, replacement in edits:
        source = work / "mutants" / path
        original = source.read_text()
        if text not in original:
            survived.append(f"{text!r} not found in {path}: update the constants of this target")
            continue
        source.write_text(original.replace(text, replacement, 1))
        try:
            # 1: a test failed; 2: collection failed (the edit broke an import). Not 3 to 5
            # (pytest's own error, usage, no tests): those say nothing of the edit.
            failed = _pytest(work, tests) in (1, 2)
        finally:
            source.write_text(original)
        if failed:
            caught += 1
        else:
            survived.append(f"{text} -> {replacement}")
    return caught, survived


def run(
    name: str,
    target: Target,
    max_children: int,
    only: Sequence[str] = (),
    recheck: Sequence[str] = (),
) -> tuple[int, int, int]:
    """Mutate one module; print its score and survivors. Returns (caught, counted, equivalent).

    ``only``: mutant name patterns (``*x_backoff_seconds*``) to test, instead of all.
    ``recheck``: test files written since the last run of this module: instead of mutating
    again, run each of that run's survivors against them (seconds each, not a whole run).
    """
    print(f"\n=== {name}: {target.path}", flush=True)
    work = WORK / name
    # Two runs of one module share its directory: the second would rebuild it, or edit its
    # constants, under the first one's tests. Held until this process ends.
    WORK.mkdir(parents=True, exist_ok=True)
    lock = (WORK / f"{name}.lock").open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise SystemExit(f"another run of {name} is going in {work}; wait for it") from None
    _LOCKS.append(lock)
    if recheck:
        if not (work / "mutants" / "mutmut-stats.json").exists():
            raise SystemExit(f"no earlier run of {name} in {work}: run it without --recheck")
        # The tests as they are now, over mutmut's copy of them.
        shutil.copytree(ROOT / "tests", work / "mutants" / "tests", dirs_exist_ok=True)
    else:
        work = _prepare(name, target)
        _mutmut(work, "run", "--max-children", str(max_children), *only)
    report = {
        mutant: result
        for mutant, result in _report(work).items()
        if not only or any(fnmatch.fnmatch(mutant, pattern) for pattern in only)
    }
    equivalent = set(target.equivalent)
    caught = counted = skipped = 0
    with_children: bool | None = None  # whether the child-process tests can judge: asked once
    survivors: list[tuple[str, str, str]] = []
    for mutant, (status, diff) in sorted(report.items()):
        if status in CAUGHT:
            caught += 1
            counted += 1
            continue
        key = (_function(mutant), _added_line(diff))
        if key in equivalent or _case_only(diff, target.case_blind):
            skipped += 1
            continue
        if recheck and _pytest(work, recheck, mutant) == 1:
            caught += 1
            counted += 1
            print(f"  killed by a test written since: {mutant}")
            continue
        if with_children is None and target.child_process_tests:
            with_children = _child_tests_pass(work, target)
        if with_children and _killed_in_a_child(work, target, mutant):
            caught += 1
            counted += 1
            print(f"  killed by a child-process test: {mutant}")
            continue
        counted += 1
        survivors.append((mutant, status, diff))
    for mutant, status, diff in survivors:
        print(f"\n--- {status}: {mutant}\n{diff.strip()}")
    if survivors:
        print(
            "\nEach survivor: write a test that fails with it (a behaviour a user would notice), "
            f"then `--recheck TEST_FILE` ({name} unchanged) or run {name} again; or, if no "
            "test could tell it apart, add it to the target's equivalent= with the reason, "
            "and to docs/testing.md (see its 'Mutation testing' section)."
        )
    score = 100.0 * caught / counted if counted else 100.0
    print(
        f"\n{name}: {score:.1f}% ({caught} of {counted} mutants caught; "
        f"{skipped} equivalent not counted; {len(survivors)} survived)",
        flush=True,
    )
    if target.constants or target.constants_elsewhere:
        edits_caught, edits_survived = _constants(work, target)
        for line in edits_survived:
            print(f"--- a constant edit survived: {line}")
        edits = len(target.constants) + len(target.constants_elsewhere)
        print(f"{name}: {edits_caught} of {edits} constant edits caught", flush=True)
    return caught, counted, skipped


def main(argv: list[str] | None = None) -> int:
    # See the module docstring: pytest, and the children it starts, must be interruptible.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("modules", nargs="*", help=f"any of {', '.join(TARGETS)} (default: all)")
    parser.add_argument("--max-children", type=int, default=1, help="mutants tested at once")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="PATTERN",
        help="test only the mutants whose names match (repeatable), e.g. '*x_backoff_seconds*'",
    )
    parser.add_argument(
        "--recheck",
        action="append",
        default=[],
        metavar="TESTS",
        help="run the last run's survivors against these tests (repeatable), not a new run",
    )
    args = parser.parse_args(argv)
    unknown = set(args.modules) - set(TARGETS)
    if unknown:
        parser.error(f"unknown module(s) {sorted(unknown)}: choose from {', '.join(TARGETS)}")
    scores = []
    for name in args.modules or list(TARGETS):
        target = TARGETS[name]
        if not (ROOT / target.path).exists():
            print(f"\n=== {name}: {target.path} does not exist yet, skipped")
            continue
        caught, counted, skipped = run(name, target, args.max_children, args.only, args.recheck)
        scores.append((name, caught, counted, skipped))
    print("\nmodule      score   caught/counted  equivalent")
    for name, caught, counted, skipped in scores:
        score = 100.0 * caught / counted if counted else 100.0
        print(f"{name:<10} {score:5.1f}%   {caught:>4}/{counted:<4}      {skipped:>4}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
