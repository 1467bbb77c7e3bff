"""The PACT v3.0.3 data-exchange API (``pcf serve``, ``methodology.exchange``): a real uvicorn on the loopback
interface (a random free port) serving PACT files written from the shipped enterprises, exercised with httpx.
The expectations are the spec's (standards/pact/spec/pact-openapi-v3.0.3.yaml): the OAuth2 client-credentials
token endpoint, ListFootprints filters (OR within a criterion, AND between) and pagination by the ``Link``
header, GetFootprint, the Action Events endpoint with its asynchronous RequestFulfilled/RequestRejected answer,
and the ``Error`` bodies and codes."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import re
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import jsonschema
import pytest
import uvicorn
import yaml
from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from methodology.exchange import events
from methodology.exchange.credentials import CredentialsError, hash_secret, load_credentials, secret_matches
from methodology.exchange.footprints import FootprintStore
from methodology.exchange.server import create_app
from methodology.outputs import pact
from methodology.study import Study

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "standards" / "pact" / "spec" / "pact-openapi-v3.0.3.yaml"
# one enterprise of each industry shipped (whatever industries there are), plus a second of the first industry
INDUSTRIES = sorted(p for p in (ROOT / "parameters").iterdir() if p.is_dir() and any(p.glob("*.yaml")))
ENTERPRISES = [sorted(d.glob("*.yaml"))[0] for d in INDUSTRIES] + [sorted(INDUSTRIES[0].glob("*.yaml"))[1]]
SECRET, ENV_SECRET = "s3cret-for-tests-" + uuid.uuid4().hex, "env-secret-" + uuid.uuid4().hex
CE = {"Content-Type": "application/cloudevents+json; charset=UTF-8"}


@pytest.fixture(scope="module")
def official():
    doc = yaml.safe_load(SPEC.read_text(encoding="utf-8"))

    def validator(ref):
        return jsonschema.Draft202012Validator(
            {"$schema": "https://json-schema.org/draft/2020-12/schema", "components": doc["components"], "$ref": ref},
            format_checker=jsonschema.FormatChecker())
    return {"footprint": validator("#/components/schemas/ProductFootprint"),
            "error": validator("#/components/schemas/Error")}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A runs folder as runs leave it: <enterprise>/<product>/pact-v3.0.3.json, and one file edited by hand."""
    root = tmp_path_factory.mktemp("runs")
    for path in ENTERPRISES:
        fp = pact.validated_v3(Study.prepare(path).calculate_without_brightway())
        out = root / path.stem / "product"
        out.mkdir(parents=True)
        (out / pact.FILE_NAME).write_text(json.dumps(fp), encoding="utf-8")
    broken = root / "edited-by-hand" / "product"
    broken.mkdir(parents=True)
    fp["id"], fp["pcf"]["fossilGhgEmissions"] = str(uuid.uuid4()), "a lot"
    (broken / pact.FILE_NAME).write_text(json.dumps(fp), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def written(runs):
    """The footprints the runs wrote and the host must serve (the edited file is not one)."""
    return {fp["id"]: fp for fp in (json.loads(p.read_text()) for p in sorted(runs.rglob(pact.FILE_NAME)))
            if not pact.problems_v3(fp)}


@contextlib.contextmanager
def running(app, **ssl):
    """uvicorn serving ``app`` in a thread on 127.0.0.1 and a free port; yields the port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="off", **ssl))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture(scope="module")
def receiver():
    """A data recipient's events endpoint (and its token endpoint) recording what the host sends it."""
    got: list[tuple[dict, dict]] = []

    async def token(request):
        return JSONResponse({"access_token": "receiver-token", "token_type": "bearer"})

    async def inbox(request):
        got.append((dict(request.headers), json.loads(await request.body())))
        return Response(status_code=200)

    app = Starlette(routes=[Route("/auth/token", token, methods=["POST"]), Route("/3/events", inbox, methods=["POST"])])
    with running(app) as port:
        yield f"http://127.0.0.1:{port}", got


class Clock:
    now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture(scope="module")
def setup(runs, receiver, tmp_path_factory, monkeypatch_module):
    base, _ = receiver
    creds = tmp_path_factory.mktemp("creds") / "clients.yaml"
    monkeypatch_module.setenv("PCF_TEST_CUSTOMER_B", ENV_SECRET)
    monkeypatch_module.setenv("PCF_TEST_RECEIVER", "receiver-secret")
    creds.write_text(yaml.safe_dump({"token_lifetime_seconds": 60, "clients": [
        {"client_id": "customer-a", "secret_hash": hash_secret(SECRET),
         "events_endpoints": [{"url": f"{base}/3/events", "client_id": "host", "secret_env": "PCF_TEST_RECEIVER"}]},
        {"client_id": "customer-b", "secret_env": "PCF_TEST_CUSTOMER_B"}]}), encoding="utf-8")
    clock = Clock()
    deliver = functools.partial(events.deliver, attempts=2, first_wait=0.05)
    app = create_app(FootprintStore(runs), load_credentials(creds), clock=clock, deliver=deliver)
    with running(app) as port:
        yield {"base": f"http://127.0.0.1:{port}", "clock": clock, "creds": creds}


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def token(base, client="customer-a", secret=SECRET) -> str:
    r = httpx.post(f"{base}/auth/token", data={"grant_type": "client_credentials"}, auth=(client, secret))
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


@pytest.fixture(scope="module")
def api(setup):
    return httpx.Client(base_url=setup["base"], headers={"Authorization": f"Bearer {token(setup['base'])}"})


# --- authentication -----------------------------------------------------------------------------------------


def test_token_by_basic_auth_and_by_form_and_from_an_environment_secret(setup):
    base = setup["base"]
    r = httpx.post(f"{base}/auth/token", data={"grant_type": "client_credentials"}, auth=("customer-a", SECRET))
    body = r.json()
    assert r.status_code == 200 and body["token_type"] == "bearer" and body["expires_in"] == 60
    assert r.headers["cache-control"] == "no-store" and len(body["access_token"]) >= 32
    r = httpx.post(f"{base}/auth/token", data={"grant_type": "client_credentials", "client_id": "customer-a",
                                               "client_secret": SECRET})
    assert r.status_code == 200
    assert token(base, "customer-b", ENV_SECRET)
    discovery = httpx.get(f"{base}/.well-known/openid-configuration").json()
    assert discovery["token_endpoint"] == f"{base}/auth/token"


@pytest.mark.parametrize(("data", "auth", "status", "code"), [
    ({"grant_type": "client_credentials"}, ("customer-a", "wrong"), 401, "invalid_client"),
    ({"grant_type": "client_credentials"}, ("nobody", SECRET), 401, "invalid_client"),
    ({"grant_type": "client_credentials"}, ("customer-b", SECRET), 401, "invalid_client"),
    ({"grant_type": "client_credentials"}, None, 401, "invalid_client"),
    ({"grant_type": "password"}, ("customer-a", SECRET), 400, "unsupported_grant_type"),
    ({}, ("customer-a", SECRET), 400, "invalid_request"),
], ids=["wrong-secret", "unknown-client", "other-clients-secret", "no-credentials", "wrong-grant", "no-grant"])
def test_token_refused(setup, data, auth, status, code):
    r = httpx.post(f"{setup['base']}/auth/token", data=data, auth=auth)
    assert (r.status_code, r.json()["error"]) == (status, code)
    assert "access_token" not in r.json()


UNKNOWN_ID = "5b0e3c7a-2f4d-4f1e-9a63-0c8d2e7b1f40"  # fixed: pytest-xdist workers must collect the same ids


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer not-a-token-we-issued", "Basic abc"])
@pytest.mark.parametrize(("method", "path"), [("GET", "/3/footprints"), ("GET", f"/3/footprints/{UNKNOWN_ID}"),
                                              ("POST", "/3/events")])
def test_every_action_needs_a_valid_token(setup, official, header, method, path):
    r = httpx.request(method, setup["base"] + path, headers={"Authorization": header} if header else {})
    assert r.status_code == 401 and r.json()["code"] == "BadRequest"
    assert official["error"].is_valid(r.json()) and "bearer" in r.headers["www-authenticate"].lower()


def test_an_expired_token_is_refused_with_token_expired(setup):
    tok = token(setup["base"])
    headers = {"Authorization": f"Bearer {tok}"}
    assert httpx.get(f"{setup['base']}/3/footprints", headers=headers).status_code == 200
    setup["clock"].now += 61  # the file's token_lifetime_seconds is 60
    try:
        r = httpx.get(f"{setup['base']}/3/footprints", headers=headers)
        assert (r.status_code, r.json()["code"]) == (401, "TokenExpired")
        fresh = {"Authorization": f"Bearer {token(setup['base'])}"}
        assert httpx.get(f"{setup['base']}/3/footprints", headers=fresh).status_code == 200
    finally:
        setup["clock"].now -= 61


def test_client_secrets_are_stored_hashed_and_the_file_is_checked(tmp_path, monkeypatch):
    h = hash_secret("abc")
    assert "abc" not in h and secret_matches("abc", h) and not secret_matches("abd", h)
    assert hash_secret("abc") != h  # salted
    bad = tmp_path / "clients.yaml"
    monkeypatch.delenv("PCF_TEST_UNSET", raising=False)
    bad.write_text(yaml.safe_dump({"clients": [{"client_id": "a", "secret_hash": h, "secret_env": "X"},
                                               {"client_id": "b", "secret": "plain"}]}))
    with pytest.raises(CredentialsError) as exc:
        load_credentials(bad)
    fields = [p.field for p in exc.value.problems]
    assert any(f.startswith("clients[0]") for f in fields) and any("clients[1]" in f for f in fields), fields
    bad.write_text(yaml.safe_dump({"clients": [{"client_id": "a", "secret_env": "PCF_TEST_UNSET"}]}))
    with pytest.raises(CredentialsError, match=r"clients\[0\]\.secret_env: found PCF_TEST_UNSET \(not set\)"):
        load_credentials(bad)


# --- ListFootprints and GetFootprint --------------------------------------------------------------------------


def test_list_serves_exactly_the_valid_files_the_runs_wrote(api, written, official):
    r = api.get("/3/footprints")
    assert r.status_code == 200 and "link" not in r.headers
    data = r.json()["data"]
    assert {fp["id"] for fp in data} == set(written) and len(data) == len(written) == len(ENTERPRISES)
    assert all(official["footprint"].is_valid(fp) for fp in data)
    assert {fp["id"]: fp for fp in data} == written  # served as written, field for field


@pytest.mark.parametrize("limit", [1, 2, 3])
def test_pagination_by_link_header(api, setup, written, limit):
    seen, url, pages = [], f"/3/footprints?limit={limit}", 0
    while url:
        r = api.get(url)
        assert r.status_code == 200 and len(r.json()["data"]) <= limit
        seen += [fp["id"] for fp in r.json()["data"]]
        pages += 1
        link = r.headers.get("link")
        if link is None:
            break
        m = re.fullmatch(r'<(https?://[^/>]+)(/3/footprints\?[^>]+)>; rel="next"', link)
        assert m and m.group(1) == setup["base"], link  # absolute, with the request's host
        url = m.group(2)
        assert api.get(url).json() == api.get(url).json()  # a pagination link can be called more than once
    assert sorted(seen) == sorted(written) and pages == -(-len(written) // limit)


def test_pagination_keeps_the_filters(api, written):
    geo = next(iter(written.values()))["pcf"]["geographyCountrySubdivision"][:2]  # the country, CN
    r = api.get("/3/footprints", params={"geography": geo, "limit": 1})
    assert f"geography={geo}" in r.headers["link"]


def test_get_footprint_and_unknown_or_malformed_ids(api, written, official):
    fid, fp = next(iter(written.items()))
    r = api.get(f"/3/footprints/{fid}")
    assert r.status_code == 200 and r.json() == {"data": fp}
    r = api.get("/3/footprints/00000000-0000-0000-0000-000000000000")
    assert (r.status_code, r.json()["code"]) == (404, "NotFound") and official["error"].is_valid(r.json())
    r = api.get("/3/footprints/not-a-uuid")
    assert (r.status_code, r.json()["code"]) == (400, "BadRequest")


def _ids(api, **params) -> set[str]:
    r = api.get("/3/footprints", params=params)
    assert r.status_code == 200, r.text
    return {fp["id"] for fp in r.json()["data"]}


def test_filters_by_product_company_geography_status(api, written):
    fps = list(written.values())
    one, other = fps[0], fps[1]
    assert _ids(api, productId=one["productIds"][0].upper()) == {one["id"]}  # case-insensitive
    assert _ids(api, productId=[one["productIds"][0], other["productIds"][0]]) == {one["id"], other["id"]}  # OR
    assert _ids(api, companyId=[one["companyIds"][0], "urn:bogus:company:x"]) == {
        fp["id"] for fp in fps if fp["companyIds"] == one["companyIds"]}
    sub = one["pcf"]["geographyCountrySubdivision"]
    assert _ids(api, geography=sub.lower()) == {fp["id"] for fp in fps
                                                if fp["pcf"]["geographyCountrySubdivision"] == sub}
    assert _ids(api, geography=sub.split("-")[0]) == set(written)  # a country holds its subdivisions
    assert _ids(api, geography="XX") == set()
    assert _ids(api, status="active") == set(written) and _ids(api, status="Deprecated") == set()
    assert _ids(api, productId=one["productIds"][0], companyId=other["companyIds"][0]) == (
        {one["id"]} if one["companyIds"] == other["companyIds"] else set())  # AND between criteria
    assert _ids(api, classification="urn:bogus:classification:x") == set()
    assert _ids(api, classification="") == set(written)  # an empty value filters nothing
    cpc = one["productClassifications"][0]  # the product's UN CPC URN (standards/pact/cpc-v2.1.yaml)
    assert cpc.startswith("urn:pact:productclassification:un-cpc:") and _ids(api, classification=cpc.upper()) == {
        fp["id"] for fp in fps if cpc in fp.get("productClassifications", [])}


def test_filters_by_validity_period(api, written):
    """No footprint states a validity period, so it is three years from the reference period's end (spec)."""
    fp = next(iter(written.values()))
    end = fp["pcf"]["referencePeriodEnd"]  # e.g. 2025-01-01T00:00:00Z
    year = int(end[:4])
    same_end = {f["id"] for f in written.values() if f["pcf"]["referencePeriodEnd"] == end}
    assert fp["id"] in _ids(api, validOn=end) and fp["id"] in _ids(api, validOn=f"{year + 3}{end[4:]}")
    assert fp["id"] not in _ids(api, validOn=f"{year + 3}{end[4:16]}:01Z")  # a second after the three years
    assert _ids(api, validOn="1900-01-01T00:00:00Z") == set()
    assert same_end <= _ids(api, validAfter=f"{year - 1}{end[4:]}") and _ids(api, validAfter=end) & same_end == set()
    assert same_end <= _ids(api, validBefore=f"{year + 3}-12-31T00:00:00Z")
    assert _ids(api, validBefore=f"{year + 3}{end[4:]}") & same_end == set()


@pytest.mark.parametrize("params", [{"validOn": "yesterday"}, {"validAfter": "2025-13-01T00:00:00Z"},
                                    {"limit": "0"}, {"limit": "many"}, {"offset": "-1"},
                                    {"validOn": ["2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z"]}])
def test_malformed_filters_are_bad_requests(api, official, params):
    r = api.get("/3/footprints", params=params)
    assert (r.status_code, r.json()["code"]) == (400, "BadRequest") and official["error"].is_valid(r.json())
    assert next(iter(params)) in r.json()["message"]


def test_unknown_actions(api):
    assert (api.get("/3/nothing").status_code, api.get("/3/nothing").json()["code"]) == (404, "NotFound")
    r = api.post("/3/footprints")
    assert (r.status_code, r.json()["code"]) == (501, "NotImplemented")
    r = api.get("/2/footprints")
    assert (r.status_code, r.json()["code"]) == (501, "NotImplemented")


# --- Action Events ---------------------------------------------------------------------------------------------


def _event(type_, data, source="https://example.com/3/events", **extra):
    return {"type": f"org.wbcsd.pact.ProductFootprint.{type_}.3", "specversion": "1.0", "id": str(uuid.uuid4()),
            "source": source, "time": "2026-12-07T00:00:00Z", "data": data, **extra}


def _await_reply(got, request_id, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for headers, body in got:
            if body.get("data", {}).get("requestEventId") == request_id:
                return headers, body
        time.sleep(0.05)
    raise AssertionError(f"no reply to {request_id} within {seconds} s")


def test_request_created_is_fulfilled_asynchronously(api, receiver, written, official):
    base, got = receiver
    fp = next(iter(written.values()))
    ev = _event("RequestCreatedEvent", {"productId": fp["productIds"], "comment": "this year's please"},
                source=base)  # a host only: the reply goes to its /3/events
    r = api.post("/3/events", content=json.dumps(ev), headers=CE)
    assert r.status_code == 200 and r.content == b""
    headers, reply = _await_reply(got, ev["id"])
    assert reply["type"] == events.FULFILLED and reply["specversion"] == "1.0" and reply["source"].endswith("/3/events")
    assert [p["id"] for p in reply["data"]["pfs"]] == [fp["id"]] and reply["data"]["pfs"][0] == fp
    assert all(official["footprint"].is_valid(p) for p in reply["data"]["pfs"])
    assert headers["authorization"] == "Bearer receiver-token"  # taken from the receiver's /auth/token
    assert headers["content-type"].startswith("application/cloudevents+json")


def test_request_without_a_match_is_rejected_asynchronously(api, receiver, official):
    base, got = receiver
    ev = _event("RequestCreatedEvent", {"productId": ["urn:pact:null"]}, source=f"{base}/3/events")
    assert api.post("/3/events", content=json.dumps(ev), headers=CE).status_code == 200
    _, reply = _await_reply(got, ev["id"])
    assert reply["type"] == events.REJECTED and official["error"].is_valid(reply["data"]["error"])
    assert reply["data"]["error"]["code"] == "NotFound"


def test_a_request_whose_source_is_not_configured_is_refused(api, setup):
    ev = _event("RequestCreatedEvent", {"productId": ["urn:x"]}, source="https://elsewhere.example/3/events")
    r = api.post("/3/events", content=json.dumps(ev), headers=CE)
    assert (r.status_code, r.json()["code"]) == (403, "AccessDenied")
    other = {"Authorization": f"Bearer {token(setup['base'], 'customer-b', ENV_SECRET)}", **CE}
    ev = _event("RequestCreatedEvent", {"productId": ["urn:x"]}, source="https://example.com/3/events")
    assert httpx.post(f"{setup['base']}/3/events", content=json.dumps(ev), headers=other).status_code == 403


@pytest.mark.parametrize(("type_", "data"), [("PublishedEvent", {"pfIds": [str(uuid.uuid4())]}),
                                             ("RequestRejectedEvent", {"requestEventId": "x", "error": {
                                                 "code": "NotFound", "message": "none"}})])
def test_other_events_are_validated_and_acknowledged(api, type_, data):
    r = api.post("/3/events", content=json.dumps(_event(type_, data)), headers=CE)
    assert r.status_code == 200 and r.content == b""


@pytest.mark.parametrize(("body", "where"), [
    (_event("PublishedEvent", {"pfIds": ["urn:gtin:4712345060507"]}), "pfIds"),
    (_event("PublishedEvent", {"pfIds": "not-a-list"}), "pfIds"),
    ({k: v for k, v in _event("PublishedEvent", {"pfIds": []}).items() if k != "source"}, "source"),
    (_event("PublishedEvent", {"pfIds": []}, time="noon"), "time"),
    (_event("SomethingEvent", {}), "type"),
    (_event("RequestFulfilledEvent", {"requestEventId": "x", "pfs": []}), "pfs"),
    (_event("RequestRejectedEvent", {"requestEventId": "x", "error": {"code": "Oops", "message": "m"}}), "code"),
    (_event("RequestCreatedEvent", {"validOn": "tomorrow"}), "validOn"),
    ("{not json", "JSON"), ([1, 2], "object"),
], ids=["pfIds-not-uuid", "pfIds-not-list", "no-source", "bad-time", "unknown-type", "empty-pfs", "bad-error-code",
        "bad-date", "not-json", "not-object"])
def test_malformed_events_are_bad_requests(api, official, body, where):
    content = body if isinstance(body, str) else json.dumps(body)
    r = api.post("/3/events", content=content, headers=CE)
    assert (r.status_code, r.json()["code"]) == (400, "BadRequest") and official["error"].is_valid(r.json())
    assert where.lower() in r.json()["message"].lower(), r.json()["message"]


def test_events_need_the_cloudevents_media_type(api):
    ev = _event("PublishedEvent", {"pfIds": []})
    r = api.post("/3/events", content=json.dumps(ev), headers={"Content-Type": "text/plain"})
    assert (r.status_code, r.json()["code"]) == (400, "BadRequest") and "cloudevents" in r.json()["message"]


# --- secrets, TLS, the command line ----------------------------------------------------------------------------


def test_no_secret_or_token_is_logged(runs, setup, caplog):
    with caplog.at_level(logging.DEBUG):
        tok = token(setup["base"])
        httpx.get(f"{setup['base']}/3/footprints", headers={"Authorization": f"Bearer {tok}"})
        httpx.post(f"{setup['base']}/auth/token", data={"grant_type": "client_credentials"},
                   auth=("customer-a", SECRET + "x"))
    text = caplog.text
    assert "token issued to client customer-a" in text and "token refused" in text  # the log is captured
    assert SECRET not in text and tok not in text and ENV_SECRET not in text


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    subprocess.run([shutil.which("openssl") or "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                    "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem")], check=True, capture_output=True)
    return d / "cert.pem", d / "key.pem"


def test_https_serves_and_plain_http_gets_nothing(runs, setup, certificate, written):
    cert, key = certificate
    app = create_app(FootprintStore(runs), load_credentials(setup["creds"]))
    with running(app, ssl_certfile=str(cert), ssl_keyfile=str(key)) as port:
        base = f"https://127.0.0.1:{port}"
        with httpx.Client(verify=ssl.create_default_context(cafile=str(cert))) as http:
            tok = http.post(f"{base}/auth/token", data={"grant_type": "client_credentials"},
                            auth=("customer-a", SECRET)).json()["access_token"]
            r = http.get(f"{base}/3/footprints?limit=1", headers={"Authorization": f"Bearer {tok}"})
            assert r.status_code == 200 and r.headers["link"].startswith(f"<{base}/3/footprints?")
        with pytest.raises(httpx.HTTPError):
            httpx.post(f"http://127.0.0.1:{port}/auth/token", data={"grant_type": "client_credentials"},
                       auth=("customer-a", SECRET), timeout=5)


def test_cli_hash_secret_and_refusals(runs, setup):
    pcf = [sys.executable, "-m", "methodology"]
    r = subprocess.run([*pcf, "serve", "--hash-secret"], input="top secret\n", capture_output=True, text=True)
    assert r.returncode == 0 and secret_matches("top secret", r.stdout.strip()) and "top secret" not in r.stdout
    r = subprocess.run([*pcf, "serve", str(runs), "--credentials", str(setup["creds"]), "--host", "0.0.0.0"],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "loopback" in r.stderr and "HTTPS" in r.stderr
    r = subprocess.run([*pcf, "serve", str(runs / "missing"), "--credentials", str(setup["creds"])],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "not a folder" in r.stderr
