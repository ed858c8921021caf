"""The packaged OpenAPI spec: the fake's routes, its request checks and the shape of its answers.

``_spec/telnyx-messaging-openapi.json`` is the messaging part of Telnyx's published OpenAPI 3.1
spec (team-telnyx/openapi ``openapi/spec3.yml``, 2026-07-16), shipped inside the package so
the fake needs nothing outside it. Where real Telnyx and the spec disagree, the fake follows
Telnyx; each such place is one `Deviation` below, applied to the spec when it is loaded, and
listed in docs/testing.md ("Where the fake follows Telnyx, not the spec").
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import attrs

from telnyx_messaging.testing._schema import FormatCheck, Violation, iter_violations
from telnyx_messaging.testing._wire import (
    RecordedRequest,
    bad_parameter,
    invalid,
    missing,
    parse_datetime,
)

__all__ = ["DEVIATIONS", "Deviation", "Operation", "Spec", "load_spec", "raw_spec"]

SPEC_FILE = "telnyx-messaging-openapi.json"


@attrs.frozen
class Deviation:
    """One place where the fake follows Telnyx rather than the spec: ``value`` replaces the
    node at JSON pointer ``pointer`` of the spec."""

    pointer: str
    value: Any
    reason: str


_UPDATE = "/components/schemas/UpdatePhoneNumberMessagingSettingsRequest/properties"
_TO_STATUS = "/components/schemas/OutboundMessagePayload/properties/to/items/properties/status"
_ERRORS = {"$ref": "#/components/schemas/messaging_Errors"}
_JSON = "content/application~1json/schema"

DEVIATIONS = (
    Deviation(
        f"{_UPDATE}/messaging_product/type",
        ["string", "null"],
        "null keeps the current value, as the property's own description says",
    ),
    Deviation(
        f"{_UPDATE}/messaging_profile_id/type",
        ["string", "null"],
        "null keeps the current value, as the property's own description says",
    ),
    Deviation(
        f"{_TO_STATUS}/enum",
        [
            "scheduled",
            "queued",
            "sending",
            "sent",
            "cancelled",
            "expired",
            "sending_failed",
            "delivery_unconfirmed",
            "delivered",
            "delivery_failed",
        ],
        "a scheduled send answers status 'scheduled' and a cancelled one reads back "
        "'cancelled' (the statuses of OutboundMessagePayloadCancelled)",
    ),
    *(
        Deviation(
            f"/paths/{path}/responses/{status}/{_JSON}",
            _ERRORS,
            "every Telnyx error body is {'errors': [...]}, not a bare error object",
        )
        for path, status in (
            ("~1messages~1{id}/delete", "403"),
            ("~1messages~1{id}/delete", "404"),
            ("~1messaging_optouts/get", "400"),
            ("~1messaging_optouts/get", "401"),
        )
    ),
)

# What Telnyx means by a valid address: E.164 (a "+", a country code not starting with 0,
# 15 digits at most) or a short code. The spec only says x-format "address". The form only,
# as the client checks it (_args.phone_number): whether the number exists is the carrier's.
_E164 = re.compile(r"\+[1-9][0-9]{0,14}")
_SHORT_CODE = re.compile(r"[0-9]{3,8}")


def is_address(value: str) -> bool:
    """Whether ``value`` is an E.164 number or a short code, as Telnyx takes for ``to``."""
    return bool(_E164.fullmatch(value) or _SHORT_CODE.fullmatch(value))


def _is_date_time(value: str) -> bool:
    return parse_datetime(value) is not None


def _is_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


#: Formats a request is checked for (Telnyx answers 422 to a bad date or URL).
REQUEST_FORMATS: Mapping[str, FormatCheck] = {"date-time": _is_date_time, "url": _is_url}
#: Formats the fake's own answers and webhooks are held to.
ANSWER_FORMATS: Mapping[str, FormatCheck] = {**REQUEST_FORMATS, "uuid": _is_uuid}


@attrs.frozen
class Operation:
    """One operation of the spec: where it lives and what it takes."""

    method: str
    template: str
    operation_id: str
    pattern: re.Pattern[str]
    body_schema: Any
    query: Mapping[str, Any]  # query parameter name as sent -> its schema
    responses: Mapping[str, Any]


def _pattern(template: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{[^/]+?\\\}", "([^/]+)", re.escape(template)))


class Spec:
    """The loaded spec, with the lookups the fake needs."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        operations = [
            self._operation(method, template, entry)
            for template, methods in document["paths"].items()
            for method, entry in methods.items()
        ]
        # Fixed paths first: /messages/schedule must not match /messages/{id}.
        self.operations = sorted(operations, key=lambda op: "{" in op.template)

    def _resolve(self, node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node and len(node) == 1:
            node = self.pointer(node["$ref"][1:])
        return node

    def pointer(self, pointer: str) -> Any:
        node: Any = self.document
        for part in pointer.lstrip("/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def _operation(self, method: str, template: str, entry: dict[str, Any]) -> Operation:
        body = entry.get("requestBody", {}).get("content", {}).get("application/json", {})
        query: dict[str, Any] = {}
        for parameter in map(self._resolve, entry.get("parameters", ())):
            if parameter["in"] != "query":
                continue
            schema = self._resolve(parameter["schema"])
            if parameter.get("style") == "deepObject" or schema.get("type") == "object":
                for name, sub in schema.get("properties", {}).items():
                    query[f"{parameter['name']}[{name}]"] = sub
            else:
                query[parameter["name"]] = schema
        return Operation(
            method=method.upper(),
            template=template,
            operation_id=entry["operationId"],
            pattern=_pattern(template),
            body_schema=body.get("schema"),
            query=query,
            responses={
                status: self._resolve(answer) for status, answer in entry["responses"].items()
            },
        )

    def match(self, method: str, path: str) -> tuple[Operation | None, list[str], str]:
        """The operation for ``method path``, the methods the path allows, and its path id."""
        allowed: list[str] = []
        for op in self.operations:
            found = op.pattern.fullmatch(path)
            if found is None:
                continue
            ident = found.group(1) if found.groups() else ""
            if op.method == method:
                return op, allowed, ident
            allowed.append(op.method)
        return None, allowed, ""

    def response_schema(self, op: Operation, status: int) -> Any:
        """The schema of ``op``'s answer with ``status`` (exact, then ``4XX``), or None."""
        for key in (str(status), f"{str(status)[0]}XX"):
            if key in op.responses:
                return op.responses[key]["content"]["application/json"]["schema"]
        return None

    def violations(
        self, instance: Any, schema: Any, formats: Mapping[str, FormatCheck] = ANSWER_FORMATS
    ) -> Iterator[Violation]:
        """Every violation of ``schema`` by ``instance``; refs resolve in this spec."""
        return iter_violations(instance, schema, root=self.document, formats=formats)

    def check_query(self, op: Operation, request: RecordedRequest) -> None:
        """Answer 400 naming the parameter unless each known query parameter fits the spec."""
        for name, value in request.query:
            schema = op.query.get(name)
            if schema is None:
                continue  # Telnyx ignores parameters it does not know
            found = next(self.violations(_coerce(value, schema), schema, REQUEST_FORMATS), None)
            if found is not None:
                raise bad_parameter(name, f"'{name}' {found.message}; got {value!r}.")

    def check_body(self, op: Operation, body: Any) -> None:
        """Answer 422 with a pointer at the first field of ``body`` that breaks the spec."""
        found = next(self.violations(body, op.body_schema, REQUEST_FORMATS), None)
        if found is None:
            return
        if found.keyword == "required":
            raise missing(found.pointer)
        raise invalid(found.pointer, f"'{found.pointer[1:]}' {found.message}.")


def _coerce(value: str, schema: Any) -> Any:
    """A query string value as the JSON type its schema declares, where it reads as one.

    Only integers: the spec's one boolean parameter is a string with x-format boolean."""
    if schema.get("type") == "integer" and re.fullmatch(r"-?[0-9]+", value):
        return int(value)
    return value


@cache
def raw_spec() -> dict[str, Any]:
    """The spec exactly as shipped (parse once; callers must not change it)."""
    text = resources.files(__package__).joinpath("_spec", SPEC_FILE).read_text("utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


@cache
def load_spec() -> Spec:
    """The spec with `DEVIATIONS` applied: what the fake serves and checks against."""
    document = copy.deepcopy(raw_spec())
    spec = Spec(document)
    for deviation in DEVIATIONS:
        parent, _, name = deviation.pointer.rpartition("/")
        spec.pointer(parent)[name.replace("~1", "/").replace("~0", "~")] = deviation.value
    return Spec(document)
