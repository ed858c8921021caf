"""The built distributions hold what users need and nothing else (``nox -s package``).

``nox -s package`` builds the sdist and the wheel (``python -m build``), checks them with
``twine check --strict`` and runs this file with ``TELNYX_DIST_DIR`` pointing at them; without
it these tests skip, as the contract tests do without Prism.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PACKAGE = ROOT / "telnyx_messaging"
DIST = os.environ.get("TELNYX_DIST_DIR")

pytestmark = pytest.mark.skipif(not DIST, reason="set TELNYX_DIST_DIR (nox -s package does)")


def _one(pattern: str) -> Path:
    assert DIST
    (found,) = Path(DIST).glob(pattern)
    return found


def _wheel_names() -> set[str]:
    with zipfile.ZipFile(_one("*.whl")) as wheel:
        return set(wheel.namelist())


def test_the_wheel_ships_every_module_and_data_file() -> None:
    """Every file of the package in the checkout (code, py.typed, the fake's data) is in it."""
    expected = {
        str(path.relative_to(ROOT))
        for path in PACKAGE.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }
    assert "telnyx_messaging/py.typed" in expected
    assert "telnyx_messaging/testing/_spec/telnyx-messaging-openapi.json" in expected
    assert expected <= _wheel_names()


def test_the_wheel_ships_no_tests() -> None:
    """No test module, conftest or test data ends up installed in site-packages."""
    names = _wheel_names()
    tops = {name.split("/", 1)[0] for name in names}
    assert tops <= {"telnyx_messaging", *(n.split("/")[0] for n in names if ".dist-info/" in n)}
    assert not [n for n in names if Path(n).name.startswith(("test_", "conftest"))]


def test_the_wheel_carries_the_license() -> None:
    """The MIT license text travels in the wheel's metadata."""
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in _wheel_names())


def test_the_sdist_can_rebuild_and_test_everything() -> None:
    """The sdist holds the tests, docs, scripts, license and changelog as well as the code."""
    with tarfile.open(_one("*.tar.gz")) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    for needed in (
        "LICENSE",
        "CHANGELOG.md",
        "README.md",
        "mkdocs.yml",
        "noxfile.py",
        "pyproject.toml",
        "scripts/generate_sync.py",
        "tests/conftest.py",
        "docs/index.md",
        "telnyx_messaging/py.typed",
    ):
        assert needed in names, needed


def test_the_demo_runs_from_the_wheel_in_a_fresh_venv(tmp_path: Path) -> None:
    """pip install the wheel into a new venv; the demo and the sync client run from it."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)  # noqa: S603
    python = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
    install = [str(python), "-m", "pip", "install", "--quiet", str(_one("*.whl"))]
    subprocess.run(install, check=True)  # noqa: S603
    # Run outside the checkout, so only the installed copy can be imported.
    demo = subprocess.run(  # noqa: S603
        [str(python), "-m", "telnyx_messaging", "demo"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    assert "messages with send_many" in demo.stdout
    assert "Every message's lifecycle closed." in demo.stdout
    where = subprocess.run(  # noqa: S603
        [str(python), "-c", "import telnyx_messaging as t; print(t.__file__, t.Client)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert str(venv) in where.stdout
