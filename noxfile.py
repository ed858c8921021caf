"""Every check CI runs, one session per concern: ``pip install nox && nox``.

- ``lint``: ruff check + ruff format --check, import-linter's architecture contracts, and the
  generated sync module is up to date
- ``typecheck``: mypy --strict on the package and on the API-usage files in tests/typing/
- ``pyright``: basedpyright --strict on the same usage files, so both checkers users run agree
- ``tests``: pytest (warnings are errors) with branch coverage >= 95%, contract tests included:
  the session installs Prism from npm (pinned) and the tests start and stop it themselves.
- ``docs``: the documentation site (MkDocs), built in strict mode: a warning fails it.
- ``package``: build the sdist and wheel, ``twine check --strict`` them, then install the wheel
  into a fresh venv and run the demo from it (tests/package/test_packaging.py).
- ``compat`` (not run by default): the suite on Python 3.10 to 3.13, where installed.
- ``bench`` (not run by default): the benchmarks in ``benchmarks/``.
- ``mutation`` (not run by default, minutes per module): mutmut over the pure core, the score
  per module and the surviving mutants (``nox -s mutation -- retry signature``).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nox

nox.options.sessions = ["lint", "typecheck", "pyright", "tests", "docs", "package"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True

ROOT = Path(__file__).parent
PRISM_VERSION = "5.16.0"  # @stoplight/prism-cli; bump deliberately, the contract tests pin it
PRISM_DIR = ROOT / ".nox" / f"prism-{PRISM_VERSION}"


def _prism(session: nox.Session) -> Path:
    """Install Prism (once) into .nox and return the path to its binary."""
    binary = PRISM_DIR / "node_modules" / ".bin" / "prism"
    if not binary.exists():
        if shutil.which("npm") is None:
            session.error("npm is needed for the contract tests (Prism); install Node.js 18+")
        PRISM_DIR.mkdir(parents=True, exist_ok=True)
        session.run(
            "npm",
            "install",
            "--prefix",
            str(PRISM_DIR),
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            f"@stoplight/prism-cli@{PRISM_VERSION}",
            external=True,
        )
    return binary


@nox.session
def lint(session: nox.Session) -> None:
    """ruff: lint and formatting."""
    session.install("ruff==0.17.6", "import-linter==2.16")  # pinned: rules change in releases
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.install("-e", ".")
    session.run("lint-imports")  # the architecture's contracts, in pyproject.toml
    session.run("python", "scripts/generate_sync.py", "--check")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package, and on the files that use the public API as users do."""
    # The Flask and Django views, and send-bulk's progress bar (rich), import their optional
    # library inside a function, and telnyx_messaging.redis imports redis-py: mypy needs them
    # installed to check those imports the same way on every machine.
    session.install("-e", ".[flask,django,cli,phonenumbers,redis,otel]", "mypy==2.4.1")
    session.run("mypy", "--strict", "telnyx_messaging")
    session.run("mypy", "--strict", "tests/typing/")


@nox.session
def pyright(session: nox.Session) -> None:
    """basedpyright --strict on the usage files (configured in pyproject.toml)."""
    session.install("-e", ".", "basedpyright==1.40.2")  # pinned: new rules arrive in releases
    session.run("basedpyright")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site; strict mode turns every warning into a failure."""
    session.install("-e", ".[docs]")
    site = Path(session.create_tmp()) / "site"
    session.run(
        "mkdocs", "build", "--strict", "--site-dir", str(site), env={"NO_MKDOCS_2_WARNING": "1"}
    )


@nox.session
def tests(session: nox.Session) -> None:
    """pytest with branch coverage (fail under 95%), contract tests against Prism included."""
    session.install("-e", ".[tests]")
    prism = _prism(session)
    session.run(
        "pytest",
        "--cov",
        "--cov-branch",
        "--cov-report=term-missing",
        "--cov-fail-under=95",
        *session.posargs,
        env={
            "PRISM_BIN": str(prism),
            "TELNYX_REQUIRE_CONTRACT": "1",
            # .ci/run installs redis-server: the Redis tests must run, not skip.
            "TELNYX_REQUIRE_REDIS": "1" if os.environ.get("CI") else "",
        },
    )


@nox.session
def package(session: nox.Session) -> None:
    """Build sdist + wheel, twine check them, install the wheel in a fresh venv, run the demo."""
    session.install("-e", ".[tests]", "build", "twine")
    dist = Path(session.create_tmp()) / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    session.run("python", "-m", "build", "--outdir", str(dist))
    session.run("twine", "check", "--strict", *(str(p) for p in sorted(dist.iterdir())))
    session.run(
        "pytest",
        "tests/package/test_packaging.py",
        "-p",
        "no:cacheprovider",
        "--no-cov",
        env={"TELNYX_DIST_DIR": str(dist)},
    )


@nox.session(python=["3.10", "3.11", "3.12", "3.13"])
def compat(session: nox.Session) -> None:
    """The test suite on every supported Python (not in the default run: CI has only 3.11)."""
    session.install("-e", ".[tests]")
    session.run("pytest", "-q", "-m", "not contract", *session.posargs)


@nox.session
def contract(session: nox.Session) -> None:
    """Only the contract tests: every endpoint against Prism serving the OpenAPI spec."""
    session.install("-e", ".[tests]")
    prism = _prism(session)
    session.run(
        "pytest",
        "-m",
        "contract",
        *session.posargs,
        env={"PRISM_BIN": str(prism), "TELNYX_REQUIRE_CONTRACT": "1"},
    )


@nox.session
def bench(session: nox.Session) -> None:
    """The benchmarks: client CPU per send and webhook verify+parse, against their floors."""
    session.install("-e", ".", "telnyx>=4,<5")
    for script in sorted((ROOT / "benchmarks").glob("bench_*.py")):
        session.run("python", str(script), *session.posargs, env=dict(os.environ))


@nox.session
def mutation(session: nox.Session) -> None:
    """Mutation testing of the pure core, one module at a time (scripts/mutation.py).

    ``nox -s mutation`` runs every module; ``nox -s mutation -- retry signature`` some of
    them; ``-- --max-children 2`` tests two mutants at once (one by default: it is CPU-bound).
    """
    session.install("-e", ".[tests]", "mutmut==3.8.1")  # pinned: mutants change in releases
    session.run("python", "scripts/mutation.py", *session.posargs)
