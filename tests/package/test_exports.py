"""Keep the public surface honest (httpx's test_exported_members, for us)."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import telnyx_messaging

PUBLIC_MODULES = [
    "telnyx_messaging",
    "telnyx_messaging.telemetry",
    "telnyx_messaging.testing",
    "telnyx_messaging.webhooks",
]


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


def _modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``code``."""
    script = f"import sys\n{code}\nprint('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    return set(out.split())


#: What a webhook receiver must never pay for: the HTTP client and everything under it, and
#: importlib.metadata (about 100 modules, for a version string).
CLIENT_SIDE = (
    "aiohttp",
    "importlib.metadata",
    "multidict",
    "yarl",
    "stamina",
    "telnyx_messaging._client",
    "telnyx_messaging._http.codec",
    "telnyx_messaging._http.loop",
    "telnyx_messaging._resources",
    "telnyx_messaging._http.transports.aiohttp",
    "telnyx_messaging.testing",
)


def test_webhook_only_import_loads_no_http_client() -> None:
    """`from telnyx_messaging import webhooks` and unwrap load neither aiohttp nor the client."""
    loaded = _modules_after("from telnyx_messaging import webhooks\nwebhooks.unwrap")
    assert "telnyx_messaging.webhooks" in loaded
    assert "nacl" in loaded  # verification itself is loaded, so the check above is not vacuous
    dragged = sorted(m for m in loaded if any(m == c or m.startswith(c + ".") for c in CLIENT_SIDE))
    assert dragged == []


def test_bare_package_import_loads_nothing_heavy() -> None:
    """`import telnyx_messaging` alone loads no aiohttp, attrs or cattrs: names resolve on use."""
    loaded = _modules_after("import telnyx_messaging")
    assert {"aiohttp", "attrs", "cattrs", "nacl", "importlib.metadata"} & loaded == set()


def test_a_client_reads_no_package_metadata() -> None:
    """The User-Agent's version is a constant: building a client imports no importlib.metadata
    (about 100 modules, ~6 ms of every client's import)."""
    loaded = _modules_after(
        "from telnyx_messaging import AsyncClient\nAsyncClient(api_key='KEY_x').messages"
    )
    assert "aiohttp" in loaded  # the client itself was built, so the check is not vacuous
    assert "importlib.metadata" not in loaded


def test_client_names_still_import_the_client() -> None:
    """Asking for AsyncClient loads the client and aiohttp, and no webhook code."""
    loaded = _modules_after("from telnyx_messaging import AsyncClient")
    assert {"telnyx_messaging._client", "aiohttp"} <= loaded
    assert "telnyx_messaging.webhooks" not in loaded


@pytest.mark.parametrize("submodule", ["webhooks", "testing"])
def test_public_submodules_are_attributes_of_the_package(submodule: str) -> None:
    """`import telnyx_messaging` then `telnyx_messaging.webhooks.unwrap` works, as documented."""
    code = (
        f"import telnyx_messaging\nm = telnyx_messaging.{submodule}\n"
        f"assert m.__name__ == 'telnyx_messaging.{submodule}'"
    )
    _modules_after(code)


def test_dir_lists_every_public_name() -> None:
    """dir(telnyx_messaging) offers every exported name and the public submodules."""
    assert set(telnyx_messaging.__all__) | {"webhooks", "testing"} <= set(dir(telnyx_messaging))


def test_unknown_attribute_is_an_attribute_error() -> None:
    """A misspelt name fails as AttributeError (so hasattr and getattr defaults work)."""
    with pytest.raises(AttributeError, match="AsyncClinet"):
        telnyx_messaging.AsyncClinet  # type: ignore[attr-defined]  # noqa: B018


def test_lazy_table_matches_type_checking_imports() -> None:
    """Type checkers import each lazy name from the module it resolves from; all are exported."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(telnyx_messaging))
    checked: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for stmt in node.body:
                if isinstance(stmt, ast.ImportFrom) and stmt.module != "telnyx_messaging":
                    module = str(stmt.module).removeprefix("telnyx_messaging")
                    checked.update({a.name: module for a in stmt.names})
    lazy = telnyx_messaging._LAZY_NAMES  # type: ignore[attr-defined]
    assert checked == lazy
    assert set(lazy) == set(telnyx_messaging.__all__)


def test_submodule_attribute_is_the_module(monkeypatch: pytest.MonkeyPatch) -> None:
    """telnyx_messaging.testing resolves to the submodule even before anything imported it."""
    import telnyx_messaging.testing as testing

    monkeypatch.delattr(telnyx_messaging, "testing")
    assert telnyx_messaging.testing is testing
