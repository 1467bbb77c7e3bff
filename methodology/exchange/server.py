"""The PACT v3.0.3 host system as a Starlette application (``pcf serve`` runs it under uvicorn).

Endpoints (spec ``paths`` and ``components/securitySchemes``): ``POST /auth/token`` (OAuth2 client credentials,
RFC 6749 section 4.4; client authentication by HTTP Basic or form fields), ``GET /.well-known/openid-configuration``
(its ``token_endpoint``), ``GET /3/footprints`` (filters and ``limit`` with an RFC 8288 ``Link: <...>; rel="next"``
whose host is the request's), ``GET /3/footprints/{id}`` and ``POST /3/events``. Errors are the spec's ``Error``
object ``{"code", "message"}`` with its codes: ``BadRequest`` (400, and 401 for a missing or unknown token),
``TokenExpired`` (401), ``AccessDenied`` (403), ``NotFound`` (404), ``NotImplemented`` (501), ``InternalError``
(500); the token endpoint answers with RFC 6749's ``{"error": ...}``. Tokens are random, kept only as their
sha256 with the client and expiry; neither tokens nor secrets are logged.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import logging
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlencode

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from methodology.errors import MethodologyError
from methodology.exchange import events
from methodology.exchange.credentials import Client, Credentials, load_credentials
from methodology.exchange.footprints import BadCriterion, Criteria, FootprintStore, matches
from methodology.outputs.pact import FILE_NAME

log = logging.getLogger("pcf.serve")
MAX_PAGE = 1000  # footprints per response when no smaller limit is asked; more come by the Link header


def error(status: int, code: str, message: str, headers: dict | None = None) -> JSONResponse:
    """The spec's ``Error`` body."""
    return JSONResponse({"code": code, "message": message}, status_code=status, headers=headers)


def _oauth_error(status: int, code: str, description: str) -> JSONResponse:
    headers = {"Cache-Control": "no-store"} | ({"WWW-Authenticate": 'Basic realm="pact"'} if status == 401 else {})
    return JSONResponse({"error": code, "error_description": description}, status_code=status, headers=headers)


@dataclass
class Tokens:
    """Access tokens issued: sha256 of the token -> (client id, expiry on ``clock``)."""

    lifetime: int
    clock: Callable[[], float] = time.monotonic
    _issued: dict[str, tuple[str, float]] = field(default_factory=dict)

    def issue(self, client_id: str) -> str:
        now = self.clock()
        self._issued = {k: v for k, v in self._issued.items() if v[1] > now - 3600}  # forget long-expired ones
        token = secrets.token_urlsafe(32)
        self._issued[hashlib.sha256(token.encode()).hexdigest()] = (client_id, now + self.lifetime)
        return token

    def check(self, token: str) -> tuple[str | None, bool]:
        """(client id or None when unknown, whether expired)."""
        found = self._issued.get(hashlib.sha256(token.encode()).hexdigest())
        if found is None:
            return None, False
        return found[0], found[1] <= self.clock()


def _basic(request: Request) -> tuple[str, str] | None:
    auth = request.headers.get("authorization", "")
    if not auth.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(auth[6:].strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


class Host:
    """The handlers, over a footprint store, the clients and the tokens issued."""

    def __init__(self, store: FootprintStore, credentials: Credentials, *, clock: Callable[[], float] = time.monotonic,
                 deliver=events.deliver, max_page: int = MAX_PAGE):
        self.store, self.credentials, self.max_page, self.deliver = store, credentials, max_page, deliver
        self.tokens = Tokens(credentials.token_lifetime_seconds, clock)
        self.tasks: set[asyncio.Task] = set()

    async def token(self, request: Request) -> Response:
        # RFC 6749 section 4.4.2: application/x-www-form-urlencoded (parsed here: no multipart parser needed)
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
        basic = _basic(request)
        client_id, secret = basic if basic else (form.get("client_id"), form.get("client_secret"))
        if form.get("grant_type") is None:
            return _oauth_error(400, "invalid_request", "grant_type is missing (expected client_credentials)")
        if form.get("grant_type") != "client_credentials":
            return _oauth_error(400, "unsupported_grant_type", "only grant_type=client_credentials is supported")
        if not client_id or secret is None:
            return _oauth_error(401, "invalid_client", "client authentication is missing (HTTP Basic expected)")
        client = self.credentials.client(str(client_id))
        if client is None or not await run_in_threadpool(client.accepts, str(secret)):
            log.warning("token refused: unknown client or wrong secret for client id %r", str(client_id)[:64])
            return _oauth_error(401, "invalid_client", "unknown client or wrong secret")
        log.info("token issued to client %s", client.client_id)
        return JSONResponse({"access_token": self.tokens.issue(client.client_id), "token_type": "bearer",
                             "expires_in": self.tokens.lifetime}, headers={"Cache-Control": "no-store"})

    async def openid(self, request: Request) -> Response:
        base = f"{request.url.scheme}://{request.url.netloc}"
        return JSONResponse({"issuer": base, "token_endpoint": f"{base}/auth/token",
                             "grant_types_supported": ["client_credentials"],
                             "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                             "response_types_supported": ["token"],
                             "scopes_supported": ["footprint:list", "footprint:read"]})

    def client_of(self, request: Request) -> Client | Response:
        """The client a request's bearer token was issued to, else the spec's 401 error."""
        auth = request.headers.get("authorization", "")
        challenge = {"WWW-Authenticate": 'Bearer realm="pact", error="invalid_token"'}
        if not auth.lower().startswith("bearer ") or not auth[7:].strip():
            return error(401, "BadRequest", "missing access token (Authorization: Bearer ...)",
                         {"WWW-Authenticate": 'Bearer realm="pact"'})
        client_id, expired = self.tokens.check(auth[7:].strip())
        if client_id is None:
            return error(401, "BadRequest", "invalid access token", challenge)
        if expired:
            return error(401, "TokenExpired", "the access token has expired: take a new one at /auth/token", challenge)
        return self.credentials.client(client_id)

    async def list_footprints(self, request: Request) -> Response:
        client = self.client_of(request)
        if isinstance(client, Response):
            return client
        q = request.query_params
        try:
            crit = Criteria.parse(q.getlist)
            limit = _whole(q.get("limit"), "limit", 1) or self.max_page
            offset = _whole(q.get("offset"), "offset", 0) or 0
        except BadCriterion as exc:
            return error(400, "BadRequest", str(exc))
        found = [fp for fp in self.store.footprints() if matches(fp, crit)]
        page, headers = found[offset:offset + min(limit, self.max_page)], {}
        if offset + len(page) < len(found):
            kept = [(k, v) for k, v in q.multi_items() if k not in ("limit", "offset")]
            query = urlencode([*kept, ("limit", str(limit)), ("offset", str(offset + len(page)))])
            headers["Link"] = f'<{request.url.scheme}://{request.url.netloc}{request.url.path}?{query}>; rel="next"'
        return JSONResponse({"data": page}, headers=headers)

    async def get_footprint(self, request: Request) -> Response:
        client = self.client_of(request)
        if isinstance(client, Response):
            return client
        fid = request.path_params["id"]
        try:
            uuid.UUID(fid)
        except ValueError:
            return error(400, "BadRequest", f"id: found {fid[:80]!r}; expected a UUID")
        fp = self.store.get(fid)
        if fp is None:
            return error(404, "NotFound", f"no footprint with id {fid}")
        return JSONResponse({"data": fp})

    async def post_event(self, request: Request) -> Response:
        client = self.client_of(request)
        if isinstance(client, Response):
            return client
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media not in (events.MEDIA_TYPE, "application/json"):
            return error(400, "BadRequest", f"Content-Type: found {media or 'none'!r}; expected {events.MEDIA_TYPE}")
        try:
            body = json.loads(await request.body())
        except ValueError as exc:
            return error(400, "BadRequest", f"the body is not JSON: {exc}")
        try:
            event = events.check(body)
            crit = events.criteria(event) if event["type"] == events.CREATED else None
        except ValueError as exc:  # BadEvent, BadCriterion
            return error(400, "BadRequest", f"invalid event: {exc}")
        if crit is None:
            log.info("event %s (%s) from client %s accepted", str(event["id"])[:80], event["type"], client.client_id)
            return Response(status_code=200)
        endpoint = client.endpoint_for(events.reply_url(event["source"]))
        if endpoint is None:
            return error(403, "AccessDenied", f"source {event['source'][:200]!r} is not an events endpoint "
                         f"configured for client {client.client_id}: no reply can be sent there")
        own = f"//{request.url.netloc}/3/events"
        task = asyncio.create_task(self._fulfil(event, crit, endpoint, own))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        log.info("request %s from client %s accepted; reply to %s", str(event["id"])[:80], client.client_id,
                 endpoint.url)
        return Response(status_code=200)

    async def _fulfil(self, request_event: dict, crit: Criteria, endpoint, own_source: str) -> None:
        found = [fp for fp in self.store.footprints() if matches(fp, crit)]
        await self.deliver(events.reply(request_event, found, own_source), endpoint)

    async def not_implemented(self, request: Request) -> Response:
        return error(501, "NotImplemented", f"{request.method} {request.url.path}: this host implements PACT v3 "
                     "(/3/footprints, /3/events) only")


def _whole(text: str | None, name: str, least: int) -> int | None:
    if text is None:
        return None
    if not text.isdigit() or int(text) < least:
        raise BadCriterion(f"{name}: found {text[:40]!r}; expected a whole number >= {least}")
    return int(text)


async def _http_error(request: Request, exc: HTTPException) -> Response:
    if exc.status_code == 404:
        return error(404, "NotFound", f"no such endpoint: {request.url.path}")
    if exc.status_code == 405:
        return error(501, "NotImplemented", f"{request.method} {request.url.path} is not implemented")
    return error(exc.status_code, "BadRequest", str(exc.detail))


async def _internal(request: Request, exc: Exception) -> Response:
    log.exception("internal error on %s %s", request.method, request.url.path)
    return error(500, "InternalError", "internal error (logged by the host)")


def create_app(store: FootprintStore, credentials: Credentials, **options) -> Starlette:
    """The application; ``options`` go to ``Host`` (``clock``, ``deliver``, ``max_page``) for tests."""
    host = Host(store, credentials, **options)
    app = Starlette(routes=[
        Route("/auth/token", host.token, methods=["POST"]),
        Route("/.well-known/openid-configuration", host.openid, methods=["GET"]),
        Route("/3/footprints", host.list_footprints, methods=["GET"]),
        Route("/3/footprints/{id}", host.get_footprint, methods=["GET"]),
        Route("/3/events", host.post_event, methods=["POST"]),
        Route("/2/{rest:path}", host.not_implemented, methods=["GET", "POST"]),
    ], exception_handlers={HTTPException: _http_error, Exception: _internal})
    app.state.host = host
    return app


class ServeError(MethodologyError):
    """``pcf serve`` cannot start as asked (the message says why)."""


LOOPBACK = ("127.0.0.1", "::1", "localhost")


def serve(runs: str | Path, credentials: str | Path, *, host: str = "127.0.0.1", port: int = 8443,
          tls_cert: str | None = None, tls_key: str | None = None, callback_ca: str | None = None) -> None:
    """Serve the footprints under ``runs`` until interrupted. The spec asks for HTTPS: without a certificate the
    server only listens on the loopback interface (behind a TLS-terminating proxy, or for tests)."""
    import functools

    import uvicorn

    if (tls_cert is None) != (tls_key is None):
        raise ServeError("--tls-cert and --tls-key go together (a PEM certificate and its private key)")
    if tls_cert is None and host not in LOOPBACK:
        raise ServeError(f"--host {host}: without --tls-cert/--tls-key the PACT API listens only on the loopback "
                         "interface (PACT requires HTTPS)")
    if not Path(runs).is_dir():
        raise ServeError(f"{runs}: not a folder (expected the runs folder holding the {FILE_NAME} files)")
    creds = load_credentials(credentials)
    store = FootprintStore(Path(runs))
    log.info("serving %d footprint(s) from %s to %d client(s)", len(store.footprints()), runs, len(creds.clients))
    deliver = functools.partial(events.deliver, verify=callback_ca or True)
    app = create_app(store, creds, deliver=deliver)
    uvicorn.run(app, host=host, port=port, ssl_certfile=tls_cert, ssl_keyfile=tls_key, log_level="info",
                server_header=False)
