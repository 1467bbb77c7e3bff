"""The Action Events endpoint's CloudEvents (PACT v3.0.3 ``/3/events``): checked against the spec's own schemas,
and the host's asynchronous answer to a ``RequestCreatedEvent``.

A ``RequestCreatedEvent`` carries ListFootprints criteria; the host accepts it (HTTP 200) when its ``source`` is
one of the requesting client's configured events endpoints, then POSTs a ``RequestFulfilledEvent`` with the
matching footprints, or a ``RequestRejectedEvent`` (code ``NotFound``) when none match, to that endpoint. Delivery
is retried with exponential backoff (the spec's SHOULD; here a bounded number of attempts, not 72 hours).
``PublishedEvent``, ``RequestFulfilledEvent`` and ``RequestRejectedEvent`` are validated and acknowledged: this
host holds no footprints of others to update.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
import logging
import ssl
import uuid
from urllib.parse import urlsplit

import httpx
import jsonschema
import yaml

from methodology.exchange.credentials import EventsEndpoint
from methodology.exchange.footprints import Criteria
from methodology.outputs import pact

log = logging.getLogger("pcf.serve")

PREFIX = "org.wbcsd.pact.ProductFootprint."
CREATED, FULFILLED, REJECTED, PUBLISHED = (f"{PREFIX}{t}.3" for t in
                                           ("RequestCreatedEvent", "RequestFulfilledEvent", "RequestRejectedEvent",
                                            "PublishedEvent"))
CRITERIA = ("productId", "companyId", "geography", "classification", "validOn", "validAfter", "validBefore", "status")
MEDIA_TYPE = "application/cloudevents+json"


class BadEvent(ValueError):
    """An event the spec's schemas refuse (the message names the field)."""


@functools.cache
def _validators() -> dict[str, jsonschema.Draft202012Validator]:
    doc = yaml.safe_load(pact.SPEC_FILE.read_text(encoding="utf-8"))
    comp = doc["components"]
    created_data = {"type": "object", "properties": {
        k: comp["parameters"][k]["schema"] for k in CRITERIA} | {"comment": {"type": "string"}}}
    data = {CREATED: created_data, **{t: comp["schemas"][n]["properties"]["data"] for t, n in
                                     ((FULFILLED, "RequestFulfilledEvent"), (REJECTED, "RequestRejectedEvent"),
                                      (PUBLISHED, "PublishedEvent"))}}

    def make(schema):
        return jsonschema.Draft202012Validator(
            {"$schema": "https://json-schema.org/draft/2020-12/schema", "components": comp, **schema},
            format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)

    base = {"$ref": "#/components/schemas/BaseEvent"}
    return {"base": make(base), **{t: make({"properties": {"data": s}}) for t, s in data.items()}}


def check(event: object) -> dict:
    """The event when it is a valid PACT v3 event of a known type, else ``BadEvent`` saying where it is not."""
    v = _validators()
    if not isinstance(event, dict):
        raise BadEvent("the body is not a JSON object (a CloudEvent in structured content mode)")
    problems = [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in v["base"].iter_errors(event)]
    if not problems and event["type"] not in v:
        problems = [f"type: found {event['type']!r}; expected one of {', '.join(sorted(k for k in v if k != 'base'))}"]
    if not problems:
        problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in v[event["type"]].iter_errors(event)]
    if problems:
        raise BadEvent("; ".join(sorted(problems)[:5]))
    return event


def criteria(event: dict) -> Criteria:
    """The ListFootprints criteria a RequestCreatedEvent asks for."""
    data = event["data"]

    def values(name: str) -> list[str]:
        v = data.get(name)
        return [] if v is None else [v] if isinstance(v, str) else [str(x) for x in v]

    return Criteria.parse(values)


def reply_url(source: str) -> str:
    """The events endpoint a reply goes to: the request's ``source`` (``//host/path`` taken as https), with
    ``/3/events`` added when it names only a host."""
    url = f"https:{source}" if source.startswith("//") else source
    parts = urlsplit(url)
    return url.rstrip("/") + "/3/events" if parts.path in ("", "/") else url


def reply(request: dict, footprints: list[dict], own_source: str) -> dict:
    """The RequestFulfilledEvent (footprints found) or RequestRejectedEvent (none) answering ``request``."""
    common = {"specversion": "1.0", "id": str(uuid.uuid4()), "source": own_source,
              "time": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    if footprints:
        return {"type": FULFILLED, **common, "data": {"requestEventId": request["id"], "pfs": footprints}}
    return {"type": REJECTED, **common, "data": {"requestEventId": request["id"], "error": {
        "code": "NotFound", "message": "No footprint matches the criteria of the request."}}}


async def _token(http: httpx.AsyncClient, endpoint: EventsEndpoint) -> str | None:
    if endpoint.client_id is None:
        return None
    parts = urlsplit(endpoint.url)
    url = endpoint.token_url or f"{parts.scheme}://{parts.netloc}/auth/token"
    r = await http.post(url, data={"grant_type": "client_credentials"},
                        auth=(endpoint.client_id, endpoint.secret() or ""))
    r.raise_for_status()
    return r.json()["access_token"]


async def deliver(event: dict, endpoint: EventsEndpoint, *, attempts: int = 5, first_wait: float = 1.0,
                  verify: bool | str | ssl.SSLContext = True) -> bool:
    """POST ``event`` to ``endpoint``, retrying with exponential backoff; whether it was accepted (2xx)."""
    wait = first_wait
    if isinstance(verify, str):  # a CA bundle
        verify = ssl.create_default_context(cafile=verify)
    async with httpx.AsyncClient(timeout=10.0, verify=verify) as http:
        for attempt in range(1, attempts + 1):
            try:
                token = await _token(http, endpoint)
                headers = {"Content-Type": f"{MEDIA_TYPE}; charset=UTF-8"}
                if token:
                    headers["Authorization"] = f"Bearer {token}"
                r = await http.post(endpoint.url, content=pact_json(event), headers=headers)
                if r.is_success:
                    log.info("event %s (%s) delivered to %s", event["id"], event["type"], endpoint.url)
                    return True
                log.warning("event %s to %s: HTTP %s (attempt %d of %d)", event["id"], endpoint.url,
                            r.status_code, attempt, attempts)
            except (httpx.HTTPError, KeyError, ValueError) as exc:
                log.warning("event %s to %s: %s (attempt %d of %d)", event["id"], endpoint.url,
                            type(exc).__name__, attempt, attempts)
            if attempt < attempts:
                await asyncio.sleep(wait)
                wait *= 2
    log.error("event %s to %s: abandoned after %d attempts", event["id"], endpoint.url, attempts)
    return False


def pact_json(obj: object) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode("utf-8")
