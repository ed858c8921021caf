"""FakeTelnyx over real loopback HTTP, spoken to with a plain aiohttp client (not the SDK)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from yarl import URL

from telnyx_messaging.testing import (
    Disconnect,
    FakeTelnyx,
    Hang,
    RecordedRequest,
    Respond,
    Truncate,
)
from telnyx_messaging.testing._openapi import raw_spec

SPEC = raw_spec()
SCHEMAS = SPEC["components"]["schemas"]
SMS = {"from": "+18445550001", "to": "+13125550002", "text": "Hello, World!"}


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelnyx]:
    # Sends stay queued: these tests pin the answers; test_fake_lifecycle.py what follows.
    async with FakeTelnyx(send_seconds=3600) as server:
        yield server


@pytest.fixture
async def http(fake: FakeTelnyx) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {fake.api_key}"}) as s:
        yield s


async def call(
    http: aiohttp.ClientSession, fake: FakeTelnyx, method: str, path: str, **kwargs: Any
) -> tuple[int, Any]:
    """Send one request below the fake's /v2 and return (status, parsed JSON body or None)."""
    url = URL(fake.base_url + path, encoded=True)
    async with http.request(method, url, **kwargs) as response:
        return response.status, await response.json(content_type=None)


def properties(schema: str) -> set[str]:
    return set(SCHEMAS[schema]["properties"])


# --- lifecycle and auth


async def test_lifecycle_is_forgiving() -> None:
    """base_url needs a started fake; start is a no-op when serving and close can run twice."""
    server = FakeTelnyx(api_key="KEY_other")
    with pytest.raises(RuntimeError, match="not serving"):
        _ = server.base_url
    await server.start()
    url = server.base_url
    await server.start()
    assert server.base_url == url
    assert url.startswith("http://127.0.0.1:")
    assert url.endswith("/v2")
    await server.close()
    await server.close()
    with pytest.raises(RuntimeError):
        _ = server.base_url


async def test_taken_port_fails_start(fake: FakeTelnyx) -> None:
    """start() raises when the port is taken and leaves nothing open."""
    port = URL(fake.base_url).port
    assert port is not None
    with pytest.raises(OSError, match="in use"):
        await FakeTelnyx(port=port).start()


@pytest.mark.parametrize("authorization", [None, "Bearer KEY_wrong", "KEY_fake_test_key"])
async def test_bad_or_missing_key_is_401(fake: FakeTelnyx, authorization: str | None) -> None:
    """Without `Bearer <api_key>` every route answers Telnyx's 401 error body."""
    headers = {} if authorization is None else {"Authorization": authorization}
    async with aiohttp.ClientSession(headers=headers) as anonymous:
        status, body = await call(anonymous, fake, "POST", "/messages", json=SMS)
    assert status == 401
    assert body == {
        "errors": [
            {
                "code": "10009",
                "title": "Authentication failed",
                "detail": "The API key looks malformed or is invalid. "
                "Check the key in the Mission Control Portal.",
            }
        ]
    }
    assert fake.messages == {}


async def test_every_answer_has_a_request_id(http: aiohttp.ClientSession, fake: FakeTelnyx) -> None:
    """Answers carry a fresh x-request-id, as Telnyx's do, errors included."""
    ids = []
    for path in ("/messaging_optouts", "/messaging_optouts", "/nothing"):
        async with http.get(fake.base_url + path) as answer:
            ids.append(answer.headers["x-request-id"])
    assert len(set(ids)) == 3


async def test_unknown_route_is_404(http: aiohttp.ClientSession, fake: FakeTelnyx) -> None:
    """Paths the spec does not have, or outside /v2, answer a Telnyx 404."""
    status, body = await call(http, fake, "GET", "/nothing/here")
    assert (status, body["errors"][0]["code"]) == (404, "10005")
    outside = str(URL(fake.base_url).with_path("/messages"))
    async with http.post(outside, json=SMS) as response:
        assert response.status == 404
    assert fake.messages == {}


async def test_wrong_method_is_405(http: aiohttp.ClientSession, fake: FakeTelnyx) -> None:
    """A known path with a method it does not serve answers 405."""
    status, body = await call(http, fake, "PUT", "/messaging_optouts")
    assert status == 405
    assert "GET" in body["errors"][0]["detail"]


# --- recording


async def test_requests_are_recorded_raw(http: aiohttp.ClientSession, fake: FakeTelnyx) -> None:
    """RecordedRequest keeps the raw path without /v2, decoded query, headers, body and key."""
    await call(
        http,
        fake,
        "PATCH",
        "/phone_numbers/%2B13125551000/messaging?a=1&b=x%20y",
        data=b'{"tags": ["t"]}',
        headers={"Idempotency-Key": "k-1", "X-Trace": "abc"},
    )
    await call(http, fake, "POST", "/messages", data=b"\xff not json")
    patch, garbage = fake.requests
    assert patch == RecordedRequest(
        method="PATCH",
        path="/phone_numbers/%2B13125551000/messaging",
        query=(("a", "1"), ("b", "x y")),
        headers=patch.headers,
        body=b'{"tags": ["t"]}',
        json={"tags": ["t"]},
        idempotency_key="k-1",
    )
    assert patch.query_dict == {"a": "1", "b": "x y"}
    assert patch.headers["x-trace"] == "abc"
    assert (garbage.body, garbage.json, garbage.idempotency_key) == (b"\xff not json", None, None)


# --- sending


async def test_send_answers_every_schema_property(
    http: aiohttp.ClientSession, fake: FakeTelnyx
) -> None:
    """POST /messages answers a full OutboundMessagePayload, queued, and stores it."""
    status, body = await call(http, fake, "POST", "/messages", json=SMS)
    message = body["data"]
    assert status == 200
    assert set(message) == properties("OutboundMessagePayload")
    assert message["type"] == "SMS"
    assert message["from"] == {
        "phone_number": "+18445550001",
        "carrier": "Telnyx",
        "line_type": "VoIP",
    }
    assert message["to"] == [
        {
            "phone_number": "+13125550002",
            "status": "queued",
            "carrier": "T-MOBILE USA, INC.",
            "line_type": "Wireless",
        }
    ]
    assert (message["parts"], message["num_chars"], message["subject"]) == (1, 13, None)
    assert message["cost"] == {"amount": "0.0040", "currency": "USD"}
    assert message["received_at"].endswith("+00:00")
    assert "." in message["received_at"]
    assert fake.messages == {message["id"]: message}


async def test_send_with_media_and_profile(http: aiohttp.ClientSession, fake: FakeTelnyx) -> None:
    """Media make an MMS, long text makes parts, and a profile alone sends from its number."""
    request = {
        "to": "+13125550002",
        "messaging_profile_id": "profile-1",
        "text": "x" * 161,
        "media_urls": ["https://example.com/a.png"],
        "subject": "Hi",
    }
    _, body = await call(http, fake, "POST", "/messages", json=request)
    message = body["data"]
    assert (message["type"], message["parts"], message["subject"]) == ("MMS", 2, "Hi")
    assert message["from"]["phone_number"] == "+18445550001"
    assert message["messaging_profile_id"] == "profile-1"
    assert message["media"] == [
        {"url": "https://example.com/a.png", "content_type": None, "sha256": None, "size": None}
    ]


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"to": None}, "/to"),
        ({"to": ["+13125550002"]}, "/to"),
        ({"from": None}, "/from"),
        ({"text": None}, "/text"),
        ({"media_urls": "https://example.com/a.png", "text": None}, "/media_urls"),
    ],
)
async def test_send_validation_is_422(
    http: aiohttp.ClientSession, fake: FakeTelnyx, change: dict[str, Any], pointer: str
) -> None:
    """A send without to, sender or content (or with mistyped ones) is a 422 naming the field."""
    request = {key: value for key, value in {**SMS, **change}.items() if value is not None}
    status, body = await call(http, fake, "POST", "/messages", json=request)
    assert status == 422
    assert body["errors"][0]["source"] == {"pointer": pointer}
    assert isinstance(body["errors"][0]["code"], str)
    assert fake.messages == {}


@pytest.mark.parametrize("payload", [b"[1, 2]", b"not json", b""])
async def test_body_not_an_object_is_400(
    http: aiohttp.ClientSession, fake: FakeTelnyx, payload: bytes
) -> None:
    """A body that is not a JSON object is a 400."""
    status, body = await call(http, fake, "POST", "/messages", data=payload)
    assert (status, body["errors"][0]["code"]) == (400, "10015")


@pytest.mark.parametrize("path", ["/messages", "/messages/schedule"])
async def test_send_at_schedules(http: aiohttp.ClientSession, fake: FakeTelnyx, path: str) -> None:
    """With send_at the message is scheduled and keeps send_at."""
    request = {**SMS, "send_at": "2030-01-01T00:00:00Z"}
    status, body = await call(http, fake, "POST", path, json=request)
    assert status == 200
    assert body["data"]["to"][0]["status"] == "scheduled"
    assert fake.messages[body["data"]["id"]]["send_at"] == "2030-01-01T00:00:00Z"


async def test_schedule_requires_send_at(http: aiohttp.ClientSession, fake: FakeTelnyx) -> None:
    """POST /messages/schedule without send_at is a 422."""
    status, body = await call(http, fake, "POST", "/messages/schedule", json=SMS)
    assert (status, body["errors"][0]["source"]) == (422, {"pointer": "/send_at"})


@pytest.mark.parametrize(
    ("path", "dropped"),
    [
        ("/messages/long_code", "from"),
        ("/messages/short_code", "from"),
        ("/messages/number_pool", "messaging_profile_id"),
    ],
)
async def test_sender_specific_sends(
    http: aiohttp.ClientSession, fake: FakeTelnyx, path: str, dropped: str
) -> None:
    """long_code and short_code need from; number_pool needs messaging_profile_id."""
    request = {**SMS, "messaging_profile_id": "profile-1"}
    status, _ = await call(http, fake, "POST", path, json=request)
    assert status == 200
    del request[dropped]
    status, body = await call(http, fake, "POST", path, json=request)
    assert (status, body["errors"][0]["source"]) == (422, {"pointer": f"/{dropped}"})


async def test_group_mms(http: aiohttp.ClientSession, fake: FakeTelnyx) -> None:
    """A group MMS is one MMS message with one `to` entry per number; no numbers is a 422."""
    request = {**SMS, "to": ["+13125550002", "+13125550003"]}
    status, body = await call(http, fake, "POST", "/messages/group_mms", json=request)
    assert status == 200
    assert body["data"]["type"] == "MMS"
    assert [to["phone_number"] for to in body["data"]["to"]] == request["to"]
    status, body = await call(http, fake, "POST", "/messages/group_mms", json={**SMS, "to": []})
    assert (status, body["errors"][0]["source"]) == (422, {"pointer": "/to"})


async def test_whatsapp(http: aiohttp.ClientSession, fake: FakeTelnyx) -> None:
    """WhatsApp answers the WhatsappResponse shape with the message body as sent."""
    content = {"type": "text", "text": {"body": "hi"}}
    request = {"from": "+13125551234", "to": "+13125550002", "whatsapp_message": content}
    status, body = await call(http, fake, "POST", "/messages/whatsapp", json=request)
    data = body["data"]
    assert status == 200
    assert set(data) == set(SCHEMAS["WhatsappResponse"]["properties"]["data"]["properties"])
    assert (data["type"], data["body"], data["encoding"]) == ("WHATSAPP", content, "utf-8")
    assert data["to"][0]["status"] == "queued"
    assert fake.messages[data["id"]] == data
    del request["whatsapp_message"]
    status, body = await call(http, fake, "POST", "/messages/whatsapp", json=request)
    assert (status, body["errors"][0]["source"]) == (422, {"pointer": "/whatsapp_message"})


async def test_get_message(http: aiohttp.ClientSession, fake: FakeTelnyx) -> None:
    """GET /messages/{id} decodes the id and answers the stored message, or a 404."""
    _, sent = await call(http, fake, "POST", "/messages", json=SMS)
    message_id = sent["data"]["id"]
    encoded = "".join(f"%{ord(char):02X}" for char in message_id)
    status, body = await call(http, fake, "GET", f"/messages/{encoded}")
    assert (status, body) == (200, sent)
    status, body = await call(http, fake, "GET", "/messages/unknown")
    assert (status, body["errors"][0]["title"]) == (404, "Resource not found")


async def test_cancel_scheduled_message(http: aiohttp.ClientSession, fake: FakeTelnyx) -> None:
    """DELETE cancels a scheduled message and answers it without the data envelope."""
    request = {**SMS, "send_at": "2030-01-01T00:00:00Z"}
    _, sent = await call(http, fake, "POST", "/messages/schedule", json=request)
    message_id = sent["data"]["id"]
    status, body = await call(http, fake, "DELETE", f"/messages/{message_id}")
    assert status == 200
    assert body["id"] == message_id
    assert body["to"][0]["status"] == "cancelled"
    assert fake.messages[message_id]["to"][0]["status"] == "cancelled"


async def test_cancel_refusals(http: aiohttp.ClientSession, fake: FakeTelnyx) -> None:
    """Cancelling an unknown message is a 404, and a message that is not scheduled a 422."""
    status, _ = await call(http, fake, "DELETE", "/messages/unknown")
    assert status == 404
    _, sent = await call(http, fake, "POST", "/messages", json=SMS)
    status, _ = await call(http, fake, "DELETE", f"/messages/{sent['data']['id']}")
    assert status == 422


# --- idempotency


async def test_idempotency_key_replays_the_answer(
    http: aiohttp.ClientSession, fake: FakeTelnyx
) -> None:
    """A repeated Idempotency-Key gets the same answer and creates nothing new."""
    key = {"Idempotency-Key": "send-1"}
    first = await call(http, fake, "POST", "/messages", json=SMS, headers=key)
    again = await call(http, fake, "POST", "/messages", json=SMS, headers=key)
    assert first == again
    assert list(fake.messages) == [first[1]["data"]["id"]]
    assert fake.seen_idempotency_keys == {"send-1"}
    await call(http, fake, "POST", "/messages", json=SMS, headers={"Idempotency-Key": "send-2"})
    assert len(fake.messages) == 2


async def test_rejected_request_is_not_remembered(
    http: aiohttp.ClientSession, fake: FakeTelnyx
) -> None:
    """A 422 under a key is not replayed: the corrected retry with that key is processed."""
    key = {"Idempotency-Key": "send-1"}
    status, _ = await call(http, fake, "POST", "/messages", json={"to": "+1"}, headers=key)
    assert status == 422
    status, _ = await call(http, fake, "POST", "/messages", json=SMS, headers=key)
    assert status == 200
    assert len(fake.messages) == 1


async def test_idempotency_key_ignored_outside_messages(
    http: aiohttp.ClientSession, fake: FakeTelnyx
) -> None:
    """Only message creation honours the key: two bulk updates make two orders."""
    request = {"messaging_profile_id": "p", "numbers": ["+13125551000"]}
    key = {"Idempotency-Key": "bulk-1"}
    _, first = await call(
        http, fake, "POST", "/messaging_numbers_bulk_updates", json=request, headers=key
    )
    _, again = await call(
        http, fake, "POST", "/messaging_numbers_bulk_updates", json=request, headers=key
    )
    assert first["data"]["order_id"] != again["data"]["order_id"]
    assert fake.seen_idempotency_keys == frozenset()


# --- opt-outs


async def test_optouts_page(http: aiohttp.ClientSession, fake: FakeTelnyx) -> None:
    """Opt-outs are seeded OptOutItems, paged 20 by default with Telnyx's meta."""
    status, body = await call(http, fake, "GET", "/messaging_optouts")
    assert status == 200
    assert body["meta"] == {
        "page_number": 1,
        "page_size": 20,
        "total_pages": 3,
        "total_results": 45,
    }
    assert all(set(item) == properties("OptOutItem") for item in body["data"])
    assert body["data"][0]["keyword"] == "STOP"
    _, last = await call(http, fake, "GET", "/messaging_optouts?page[number]=3&page[size]=20")
    assert len(last["data"]) == 5
    assert body["data"] == fake.optout_items[:20]


async def test_optout_filters(http: aiohttp.ClientSession, fake: FakeTelnyx) -> None:
    """Opt-outs filter on profile, from and a created_at window, and can redact `to`."""
    first = fake.optout_items[0]
    params = {
        "filter[messaging_profile_id]": first["messaging_profile_id"],
        "filter[from]": first["from"],
        "created_at[gte]": "2025-12-30T00:00:00Z",
        "created_at[lte]": "2026-01-01T00:00:00",
        "redaction_enabled": "true",
        "page[size]": "250",
    }
    _, body = await call(http, fake, "GET", "/messaging_optouts", params=params)
    expected = [
        item
        for item in fake.optout_items
        if item["messaging_profile_id"] == first["messaging_profile_id"]
        and item["from"] == first["from"]
        and "2025-12-30" <= item["created_at"] <= "2026-01-01T00:00:00.000+00:00"
    ]
    assert [item["created_at"] for item in body["data"]] == [
        item["created_at"] for item in expected
    ]
    assert 0 < len(expected) < len(fake.optout_items)
    assert body["data"][0]["to"] == first["to"][:-4] + "****"


@pytest.mark.parametrize(
    "query",
    ["page[size]=0", "page[size]=251", "page[number]=0", "page[number]=x", "created_at[gte]=soon"],
)
async def test_bad_list_parameters_are_400(
    http: aiohttp.ClientSession, fake: FakeTelnyx, query: str
) -> None:
    """Page numbers below 1, sizes outside 1..250 and bad dates are a 400 naming the parameter."""
    status, body = await call(http, fake, "GET", f"/messaging_optouts?{query}")
    assert status == 400
    assert body["errors"][0]["source"] == {"parameter": query.split("=")[0]}


# --- phone numbers


async def test_phone_numbers_list(http: aiohttp.ClientSession, fake: FakeTelnyx) -> None:
    """Phone numbers carry every schema property and page like the other lists."""
    status, body = await call(http, fake, "GET", "/phone_numbers/messaging?page[size]=25")
    assert status == 200
    assert body["meta"]["total_results"] == 30
    assert len(body["data"]) == 25
    assert all(set(item) == properties("PhoneNumberWithMessagingSettings") for item in body["data"])
    assert {item["type"] for item in body["data"]} == {"longcode", "tollfree"}


async def test_phone_number_filters(http: aiohttp.ClientSession, fake: FakeTelnyx) -> None:
    """Filters on profile, exact numbers, substring and type combine; sort orders by number."""
    numbers = fake.phone_number_settings
    profile = numbers[0]["messaging_profile_id"]
    params = {"filter[messaging_profile_id]": profile, "filter[type]": "longcode"}
    _, body = await call(http, fake, "GET", "/phone_numbers/messaging", params=params)
    assert body["data"]
    assert all(
        item["messaging_profile_id"] == profile and item["type"] == "longcode"
        for item in body["data"]
    )
    exact = f"{numbers[0]['phone_number']},{numbers[5]['phone_number']},+10000000000"
    params = {"filter[phone_number]": exact, "sort[phone_number]": "desc"}
    _, body = await call(http, fake, "GET", "/phone_numbers/messaging", params=params)
    assert [item["id"] for item in body["data"]] == [numbers[5]["id"], numbers[0]["id"]]
    params = {"filter[phone_number][contains]": "888", "sort[phone_number]": "asc"}
    _, body = await call(http, fake, "GET", "/phone_numbers/messaging", params=params)
    phones = [item["phone_number"] for item in body["data"]]
    assert phones == sorted(phones)
    assert all("888" in phone for phone in phones)


async def test_bad_sort_is_400(http: aiohttp.ClientSession, fake: FakeTelnyx) -> None:
    """A sort other than asc or desc is a 400."""
    status, _ = await call(http, fake, "GET", "/phone_numbers/messaging?sort[phone_number]=up")
    assert status == 400


async def test_get_phone_number_by_id_or_number(
    http: aiohttp.ClientSession, fake: FakeTelnyx
) -> None:
    """A number is found by its id or its percent-encoded E.164 form; unknown is a 404."""
    number = fake.phone_number_settings[3]
    by_id = await call(http, fake, "GET", f"/phone_numbers/{number['id']}/messaging")
    encoded = number["phone_number"].replace("+", "%2B")
    by_number = await call(http, fake, "GET", f"/phone_numbers/{encoded}/messaging")
    assert by_id == by_number == (200, {"data": number})
    status, _ = await call(http, fake, "GET", "/phone_numbers/404/messaging")
    assert status == 404


async def test_update_phone_number(http: aiohttp.ClientSession, fake: FakeTelnyx) -> None:
    """PATCH sets the given settings, leaves null or absent ones, and bumps updated_at."""
    number = fake.phone_number_settings[0]
    before = dict(number)
    request = {"messaging_profile_id": "new-profile", "messaging_product": None, "tags": ["vip"]}
    status, body = await call(
        http, fake, "PATCH", f"/phone_numbers/{number['id']}/messaging", json=request
    )
    assert status == 200
    assert body["data"]["messaging_profile_id"] == "new-profile"
    assert body["data"]["tags"] == ["vip"]
    assert body["data"]["messaging_product"] == before["messaging_product"]
    assert body["data"]["updated_at"] > before["updated_at"]
    status, body = await call(
        http, fake, "PATCH", f"/phone_numbers/{number['id']}/messaging", json={}
    )
    assert (status, body["data"]["tags"]) == (200, ["vip"])
    status, _ = await call(
        http, fake, "PATCH", f"/phone_numbers/{number['id']}/messaging", json={"tags": "vip"}
    )
    assert status == 422
    status, body = await call(
        http,
        fake,
        "PATCH",
        f"/phone_numbers/{number['id']}/messaging",
        json={"messaging_profile_id": ""},
    )
    assert (status, body["data"]["messaging_profile_id"]) == (200, None)


async def test_mobile_phone_numbers(http: aiohttp.ClientSession, fake: FakeTelnyx) -> None:
    """Mobile numbers page and are found by id; unknown is a 404."""
    _, body = await call(http, fake, "GET", "/mobile_phone_numbers/messaging?page[size]=5")
    assert body["meta"] == {"page_number": 1, "page_size": 5, "total_pages": 3, "total_results": 12}
    first = body["data"][0]
    assert set(first) == properties("MobilePhoneNumberWithMessagingSettings")
    assert await call(http, fake, "GET", f"/mobile_phone_numbers/{first['id']}/messaging") == (
        200,
        {"data": first},
    )
    status, _ = await call(http, fake, "GET", "/mobile_phone_numbers/404/messaging")
    assert status == 404


async def test_bulk_update(http: aiohttp.ClientSession, fake: FakeTelnyx) -> None:
    """A bulk update assigns the profile to known numbers and reports unknown ones as failed."""
    known = fake.phone_number_settings[2]["phone_number"]
    request = {"messaging_profile_id": "bulk-profile", "numbers": [known, "+10000000000"]}
    status, body = await call(http, fake, "POST", "/messaging_numbers_bulk_updates", json=request)
    update = body["data"]
    assert status == 200
    assert set(update) == properties("BulkMessagingSettingsUpdatePhoneNumbers")
    assert (update["success"], update["pending"], update["failed"]) == (
        [known],
        [],
        ["+10000000000"],
    )
    assert fake.phone_number_settings[2]["messaging_profile_id"] == "bulk-profile"
    assert fake.bulk_updates == {update["order_id"]: update}
    path = f"/messaging_numbers_bulk_updates/{update['order_id']}"
    assert await call(http, fake, "GET", path) == (200, body)
    status, _ = await call(http, fake, "GET", "/messaging_numbers_bulk_updates/unknown")
    assert status == 404


async def test_bulk_update_needs_numbers(http: aiohttp.ClientSession, fake: FakeTelnyx) -> None:
    """A bulk update without numbers is a 422."""
    request = {"messaging_profile_id": "bulk-profile", "numbers": []}
    status, body = await call(http, fake, "POST", "/messaging_numbers_bulk_updates", json=request)
    assert (status, body["errors"][0]["source"]) == (422, {"pointer": "/numbers"})


# --- faults


async def test_respond_replaces_the_answer(http: aiohttp.ClientSession, fake: FakeTelnyx) -> None:
    """Respond answers its status, JSON and headers instead, and stores nothing."""
    fake.fail_next(Respond(429, json={"errors": []}, headers={"Retry-After": "2"}))
    async with http.post(fake.base_url + "/messages", json=SMS) as response:
        assert response.status == 429
        assert response.headers["Retry-After"] == "2"
        assert await response.json() == {"errors": []}
    assert fake.messages == {}
    assert len(fake.requests) == 1


async def test_respond_with_raw_body(http: aiohttp.ClientSession, fake: FakeTelnyx) -> None:
    """Respond can send a non-JSON body, or no body at all."""
    html = Respond(502, body=b"<html>Bad gateway</html>", content_type="text/html; charset=utf-8")
    fake.fail_next(html, Respond(503))
    async with http.get(fake.base_url + "/messaging_optouts") as response:
        assert (response.status, response.content_type) == (502, "text/html")
        assert await response.read() == b"<html>Bad gateway</html>"
    async with http.get(fake.base_url + "/messaging_optouts") as response:
        assert (response.status, await response.read()) == (503, b"")


async def test_disconnect_before_processing(http: aiohttp.ClientSession, fake: FakeTelnyx) -> None:
    """Disconnect closes the connection unanswered and creates nothing."""
    fake.fail_next(Disconnect())
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await call(http, fake, "POST", "/messages", json=SMS, headers={"Idempotency-Key": "k"})
    assert fake.messages == {}
    assert fake.requests[0].json == SMS


async def test_lost_answer_then_retry_sends_once(
    http: aiohttp.ClientSession, fake: FakeTelnyx
) -> None:
    """After Disconnect(after_processing=True) the message exists; the keyed retry replays it."""
    fake.fail_next(Disconnect(after_processing=True))
    key = {"Idempotency-Key": "k"}
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await call(http, fake, "POST", "/messages", json=SMS, headers=key)
    assert len(fake.messages) == 1
    status, body = await call(http, fake, "POST", "/messages", json=SMS, headers=key)
    assert status == 200
    assert list(fake.messages) == [body["data"]["id"]]


async def test_truncate(http: aiohttp.ClientSession, fake: FakeTelnyx) -> None:
    """Truncate processes the request but cuts the body short of its Content-Length."""
    fake.fail_next(Truncate())
    async with http.post(fake.base_url + "/messages", json=SMS) as response:
        assert response.status == 200
        with pytest.raises(aiohttp.ClientPayloadError):
            await response.read()
    assert len(fake.messages) == 1


async def test_hang_delays_then_answers(http: aiohttp.ClientSession, fake: FakeTelnyx) -> None:
    """Hang waits before answering normally, long enough to trip a client timeout."""
    fake.fail_next(Hang(0.2), Hang(0.05))
    with pytest.raises(asyncio.TimeoutError):
        await call(http, fake, "GET", "/messaging_optouts", timeout=aiohttp.ClientTimeout(0.05))
    started = time.monotonic()
    status, _ = await call(http, fake, "GET", "/messaging_optouts")
    assert status == 200
    assert time.monotonic() - started >= 0.05


async def test_close_cuts_a_hang_short() -> None:
    """Closing the fake ends a pending Hang at once and drops its connection."""
    server = FakeTelnyx()
    arrived = asyncio.Event()

    def hang(_: RecordedRequest) -> Hang:
        arrived.set()
        return Hang(60)

    server.fault_hook = hang
    await server.start()
    headers = {"Authorization": f"Bearer {server.api_key}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        pending = asyncio.ensure_future(call(http, server, "POST", "/messages", json=SMS))
        await arrived.wait()
        started = time.monotonic()
        await server.close()
        # Far below the 60 s hang, and far above what a loaded CI box adds to a prompt close.
        assert time.monotonic() - started < 10
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await pending
    assert server.messages == {}


async def test_fail_next_filters_and_order(http: aiohttp.ClientSession, fake: FakeTelnyx) -> None:
    """Queued faults hit only matching method and path, one per request, in order."""
    fake.fail_next(Respond(500), Respond(502), method="post", path="/messages")
    assert (await call(http, fake, "GET", "/messaging_optouts"))[0] == 200
    assert (await call(http, fake, "POST", "/messages/long_code", json=SMS))[0] == 200
    assert (await call(http, fake, "POST", "/messages", json=SMS))[0] == 500
    assert (await call(http, fake, "POST", "/messages", json=SMS))[0] == 502
    assert (await call(http, fake, "POST", "/messages", json=SMS))[0] == 200


async def test_fault_hook_after_queue(http: aiohttp.ClientSession, fake: FakeTelnyx) -> None:
    """fault_hook decides for every request that no queued fault took."""
    seen: list[str] = []

    def hook(request: RecordedRequest) -> Respond | None:
        seen.append(request.path)
        return Respond(418) if request.path == "/messaging_optouts" else None

    fake.fault_hook = hook
    fake.fail_next(Respond(500))
    assert (await call(http, fake, "GET", "/messaging_optouts"))[0] == 500
    assert (await call(http, fake, "GET", "/messaging_optouts"))[0] == 418
    assert (await call(http, fake, "GET", "/phone_numbers/messaging"))[0] == 200
    assert seen == ["/messaging_optouts", "/phone_numbers/messaging"]


def test_the_fake_imports_nothing_from_the_client_side() -> None:
    """testing/ stays an honest oracle: of the SDK it imports only the error tree and signatures."""
    import ast

    import telnyx_messaging.testing as testing

    allowed = {"telnyx_messaging._errors", "telnyx_messaging.webhooks._signature"}
    root = Path(testing.__file__).parent
    for module in root.rglob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                if name.startswith("telnyx_messaging") and not name.startswith(
                    "telnyx_messaging.testing"
                ):
                    assert name in allowed, f"{module.name} imports {name}"


def test_the_spec_ships_inside_the_package() -> None:
    """The fake reads its spec from package data, so an installed wheel needs nothing else."""
    from importlib import resources

    spec = resources.files("telnyx_messaging.testing").joinpath(
        "_spec", "telnyx-messaging-openapi.json"
    )
    assert spec.is_file()
    assert json.loads(spec.read_text("utf-8"))["openapi"].startswith("3.1")


# --- every answer in Telnyx's shape (issue 23)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/v2/messages/a%0Ab", 404),  # aiohttp's router answered text/plain here
        ("GET", "/v2/messages/%0A", 404),
        ("PUT", "/v2/messages/a%0Ab", 405),
        ("GET", "/nowhere%0A", 404),
        ("PATCH", "/v2/messages", 405),
    ],
)
async def test_every_refusal_is_telnyx_json(
    http: aiohttp.ClientSession, fake: FakeTelnyx, method: str, path: str, status: int
) -> None:
    """Paths aiohttp's router could not match still get Telnyx's JSON error body."""
    url = URL(fake.base_url.removesuffix("/v2") + path, encoded=True)
    async with http.request(method, url) as answer:
        assert answer.status == status
        assert answer.content_type == "application/json"
        (error,) = (await answer.json())["errors"]
        assert set(error) >= {"code", "title", "detail"}


async def test_a_bug_in_the_fake_is_still_a_telnyx_500(
    http: aiohttp.ClientSession, fake: FakeTelnyx, caplog: pytest.LogCaptureFixture
) -> None:
    """An exception inside the fake answers 500 in Telnyx's shape and is logged."""

    def broken(request: RecordedRequest) -> None:
        raise RuntimeError("boom")

    fake.fault_hook = broken
    status, body = await call(http, fake, "GET", "/messages/x")
    assert status == 500
    assert body["errors"][0]["detail"] == "The fake failed: RuntimeError: boom"
    assert "FakeTelnyx failed on a request" in caplog.text
