#!/usr/bin/env bash
# Run WBCSD's PACT conformance test suite (wbcsd/pact-conformance-service, its V3.0 test cases) offline against
# `pcf serve` over HTTPS on the loopback interface, and print its pass and fail counts.
#
#   scripts/pact-conformance.sh SUITE_CHECKOUT RUNS_FOLDER [SECONDS_TO_WAIT_FOR_CALLBACKS]
#
# SUITE_CHECKOUT: a checkout of the suite OUTSIDE this project with its npm dependencies installed once
#   (`cd SUITE_CHECKOUT && npm ci`); nothing is fetched here. The suite is not part of this project: it is
#   neither copied nor committed. RUNS_FOLDER: a runs folder holding the pact-v3.0.3.json files runs wrote
#   (`pcf run` / `pcf batch`); the suite needs at least two footprints (it follows a pagination link).
#
# What it does, all on 127.0.0.1 with random free ports:
#   1. a self-signed certificate for 127.0.0.1 (openssl), which node is told to trust (NODE_EXTRA_CA_CERTS);
#   2. a credentials file with a random client secret stored hashed (`pcf serve --hash-secret`), whose client may
#      have replies sent to the listener of step 4;
#   3. `pcf serve RUNS_FOLDER --tls-cert --tls-key` (uvicorn);
#   4. a small driver (written into the checkout as src/scripts/pcf-workbench-run.ts, removed afterwards) that
#      does what the suite's own CLI (src/scripts/run-tests-cli.ts) does, with its in-memory ConsoleTestStorage,
#      and in the same process listens for the host's asynchronous events on /3/events and /auth/token with the
#      suite's own EventHandler, as the suite's server (src/server.ts) does, so test cases 13 and 14.B are
#      judged instead of staying pending; the suite's CONFORMANCE_API (the `source` of its requests) points
#      at that listener.
# The counts printed are the suite's results, by mandatory and optional case (not its final status line).
set -euo pipefail

suite=${1:?usage: $0 SUITE_CHECKOUT RUNS_FOLDER [SECONDS_TO_WAIT_FOR_CALLBACKS]}
runs=${2:?usage: $0 SUITE_CHECKOUT RUNS_FOLDER [SECONDS_TO_WAIT_FOR_CALLBACKS]}
wait_callbacks=${3:-30}
here=$(cd "$(dirname "$0")/.." && pwd)
pcf=${PCF:-$here/.venv/bin/pcf}
python=${PYTHON:-$here/.venv/bin/python}
suite=$(cd "$suite" && pwd)
runs=$(cd "$runs" && pwd)
[ -f "$suite/src/test-cases/v3-test-cases.ts" ] || { echo "$suite: not a pact-conformance-service checkout" >&2; exit 1; }
[ -d "$suite/node_modules" ] || { echo "$suite/node_modules missing: run 'npm ci' in the checkout once" >&2; exit 1; }
case "$here" in "$suite"*) echo "the suite must be checked out outside the project" >&2; exit 1;; esac

work=$(mktemp -d)
driver="$suite/src/scripts/pcf-workbench-run.ts"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -f "$driver"
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { "$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
host_port=$(free_port)
listen_port=$(free_port)
while [ "$listen_port" = "$host_port" ]; do listen_port=$(free_port); done

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
secret=$("$python" -c 'import secrets; print(secrets.token_urlsafe(24))')
hash=$(printf '%s\n' "$secret" | "$pcf" serve --hash-secret)
cat > "$work/clients.yaml" <<EOF
token_lifetime_seconds: 3600
clients:
  - client_id: pact-conformance
    secret_hash: "$hash"
    events_endpoints:
      - url: http://127.0.0.1:$listen_port/3/events
EOF

"$pcf" serve "$runs" --credentials "$work/clients.yaml" --host 127.0.0.1 --port "$host_port" \
  --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" > "$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  curl -s --cacert "$work/cert.pem" -o /dev/null "https://127.0.0.1:$host_port/.well-known/openid-configuration" \
    && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
  sleep 0.2
done

cat > "$driver" <<'EOF'
// Written by PCF Workbench's scripts/pact-conformance.sh, removed after the run: the suite's CLI flow with its
// in-memory storage, plus its event listener in the same process so the asynchronous cases are judged.
import express from "express";
import { TestRunWorker } from "../services/test-run-worker";
import { ConsoleTestStorage } from "../services/console-test-storage";
import { EventHandler } from "../services/event-handler";
import { ApiVersion, TestCaseResultStatus, TestResult } from "../services/types";

async function main() {
  const [baseUrl, clientId, clientSecret, listenPort, waitSeconds] = process.argv.slice(2);
  const storage = new ConsoleTestStorage();
  const handler = new EventHandler(storage);
  const app = express();
  app.use(express.json({ type: ["application/json", "application/cloudevents+json"] }));
  app.post("/auth/token", async (req, res) => {
    try { res.json(await handler.authenticate(handler.parseBasicAuth(req.headers.authorization))); }
    catch (e) { res.status(401).json({ error: "invalid_client" }); }
  });
  app.post("/3/events", async (req, res) => {
    try { await handler.processEvent(req.body, req.url); res.status(200).send(); }
    catch (e) { console.error(`listener: ${e.message}`); res.status(400).json({ code: "BadRequest", message: `${e.message}` }); }
  });
  const listener = app.listen(Number(listenPort), "127.0.0.1");
  const run = await new TestRunWorker(storage).startTestRun({
    baseUrl, clientId, clientSecret, version: "V3.0" as ApiVersion, organizationName: "PCF Workbench (local run)",
    adminEmail: "cli@example.com", adminName: "CLI User",
  } as any);
  let results: TestResult[] = run.results;
  const deadline = Date.now() + Number(waitSeconds) * 1000;
  while (results.some((r) => r.status === TestCaseResultStatus.PENDING) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    results = (await storage.getTestRunWithResults(run.testRunId)).results;
  }
  listener.close();
  console.log("\n=== PACT conformance V3.0 results (pcf-workbench-run) ===");
  for (const r of results) {
    console.log(`${r.status}\t${r.mandatory ? "mandatory" : "optional"}\t${r.name}` +
      (r.errorMessage && (r.status !== TestCaseResultStatus.SUCCESS || r.errorMessage.includes("Warning"))
        ? `\n\t${r.errorMessage.slice(0, 400)}` : ""));
  }
  const n = (m: boolean, s: TestCaseResultStatus) => results.filter((r) => r.mandatory === m && r.status === s).length;
  const S = TestCaseResultStatus;
  console.log(`mandatory: ${n(true, S.SUCCESS)} passed, ${n(true, S.FAILURE)} failed, ${n(true, S.PENDING)} pending`);
  console.log(`optional: ${n(false, S.SUCCESS)} passed, ${n(false, S.FAILURE)} failed, ${n(false, S.PENDING)} pending`);
  console.log(`conformance: ${n(true, S.SUCCESS) + n(false, S.SUCCESS)} passed, ${n(true, S.FAILURE) + n(false, S.FAILURE) + n(true, S.PENDING) + n(false, S.PENDING)} failed`);
  process.exit(n(true, S.FAILURE) + n(true, S.PENDING) === 0 ? 0 : 1);
}
main().catch((e) => { console.error(e); process.exit(1); });
EOF

cd "$suite"
status=0
NODE_EXTRA_CA_CERTS="$work/cert.pem" NODE_ENV=development LOG_OUTPUT=console PORT="$listen_port" \
  DB_CONNECTION_STRING=unused CONFORMANCE_API="http://127.0.0.1:$listen_port" \
  JWT_SECRET="$("$python" -c 'import secrets; print(secrets.token_hex(16))')" TESTCASE_TIMEOUT=10000 \
  npx --no-install ts-node --transpile-only "$driver" "https://127.0.0.1:$host_port" pact-conformance "$secret" \
  "$listen_port" "$wait_callbacks" > "$work/suite.log" 2>&1 || status=$?
sed -n '/=== PACT conformance V3.0 results/,$p' "$work/suite.log"
if ! grep -q '^mandatory: ' "$work/suite.log"; then
  echo "the suite did not finish; its output:" >&2
  tail -40 "$work/suite.log" >&2
fi
if grep -q "$secret" "$work/serve.log"; then echo "the client secret appears in the server log" >&2; status=1; fi
echo "(pcf serve log: $(wc -l < "$work/serve.log") lines)"
exit "$status"
