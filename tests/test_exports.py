"""Keep the public surface honest (httpx's test_exported_members, for us)."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import telnyx_messaging

PUBLIC_MODULES = ["telnyx_messaging", "telnyx_messaging.testing", "telnyx_messaging.webhooks"]


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_is_sorted_and_importable(name: str) -> None:
    """Every name in __all__ exists, and __all__ is sorted so additions are easy to review."""
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported)
    for member in exported:
        assert hasattr(module, member), member


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_everything_public_is_exported(name: str) -> None:
    """Classes and functions a public module defines or re-exports are listed in __all__."""
    module = importlib.import_module(name)
    public = {
        attr
        for attr, value in vars(module).items()
        if not attr.startswith("_")
        and getattr(value, "__module__", "").startswith("telnyx_messaging")
        and (isinstance(value, type) or callable(value))
    }
    assert public <= set(module.__all__)


def test_version_comes_from_package_metadata() -> None:
    """__version__ is the installed distribution's version."""
    from importlib.metadata import version

    assert telnyx_messaging.__version__ == version("telnyx-messaging")


def test_import_is_light() -> None:
    """Importing the package pulls in neither the retry library nor PyNaCl until needed."""
    code = (
        "import sys, telnyx_messaging; "
        "print(sorted(m for m in ('stamina', 'tenacity', 'nacl') if m in sys.modules))"
    )
    out = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
