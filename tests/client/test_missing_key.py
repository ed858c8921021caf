"""The missing-key ConfigurationError names the entry point the user called (issue 23)."""

from __future__ import annotations

import pytest

from telnyx_messaging import AsyncClient, Client, ConfigurationError


async def test_async_client_names_itself() -> None:
    """AsyncClient() without a key says to pass AsyncClient(api_key=...)."""
    with pytest.raises(ConfigurationError, match=r"pass AsyncClient\(api_key=\.\.\.\) or set"):
        AsyncClient()


@pytest.mark.parametrize("key", [None, ""])
def test_sync_client_names_itself(key: str | None) -> None:
    """Client() without a key says Client(api_key=...), not the async class it wraps."""
    with pytest.raises(ConfigurationError) as refused:
        Client(api_key=key)
    assert "pass Client(api_key=...) or set the TELNYX_API_KEY" in str(refused.value)
    assert "AsyncClient" not in str(refused.value)


def test_a_key_from_the_environment_is_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    """TELNYX_API_KEY still counts for both clients."""
    monkeypatch.setenv("TELNYX_API_KEY", "KEY_from_env")
    with Client() as client:
        assert client.base_url.startswith("https://")
