"""Clients of the PACT API: who may take a token, and where the host may send its asynchronous replies.

A YAML file (``pcf serve --credentials FILE``), never code. Each client's secret is given either as a salted
scrypt hash (``secret_hash``, made by ``pcf serve --hash-secret`` from a secret read on standard input) or as the
name of an environment variable holding it (``secret_env``); the secret itself is never in the file nor logged.

.. code-block:: yaml

    token_lifetime_seconds: 3600
    clients:
      - client_id: customer-a
        secret_hash: "scrypt$16384$8$1$<salt hex>$<hash hex>"
        events_endpoints:               # where RequestFulfilled/RequestRejected events may be POSTed
          - url: https://pact.customer-a.example/3/events
            client_id: pcf-workbench    # optional: credentials to take a token from the receiver's /auth/token
            secret_env: CUSTOMER_A_CALLBACK_SECRET
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from methodology.errors import InputFileError, Problem
from methodology.schema.loading import parse_model, read_yaml

SCRYPT = {"n": 2**14, "r": 8, "p": 1}


class CredentialsError(InputFileError):
    """The credentials file of ``pcf serve`` is invalid."""


def hash_secret(secret: str) -> str:
    """A salted scrypt hash of a client secret: ``scrypt$n$r$p$salt$hash`` (hex)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode("utf-8"), salt=salt, dklen=32, **SCRYPT)
    return f"scrypt${SCRYPT['n']}${SCRYPT['r']}${SCRYPT['p']}${salt.hex()}${digest.hex()}"


def secret_matches(secret: str, stored: str) -> bool:
    """Whether ``secret`` is the one ``stored`` (a ``hash_secret`` value) was made from (constant time)."""
    _, n, r, p, salt, digest = stored.split("$")
    found = hashlib.scrypt(secret.encode("utf-8"), salt=bytes.fromhex(salt), dklen=32, n=int(n), r=int(r), p=int(p))
    return hmac.compare_digest(found, bytes.fromhex(digest))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EventsEndpoint(_Strict):
    """A receiver's Action Events endpoint the host may POST to, with the credentials it needs, if any."""

    url: str = Field(pattern=r"^https?://[^/]+(/.*)?$")
    client_id: str | None = None
    secret_env: str | None = None
    token_url: str | None = Field(None, pattern=r"^https?://[^/]+(/.*)?$")

    @model_validator(mode="after")
    def _both_or_neither(self):
        if (self.client_id is None) != (self.secret_env is None):
            raise ValueError("client_id and secret_env go together (credentials for the receiver's token endpoint)")
        return self

    def secret(self) -> str | None:
        return os.environ.get(self.secret_env) if self.secret_env else None


class Client(_Strict):
    client_id: str = Field(min_length=1, pattern=r"^[^:\s]+$")
    secret_hash: str | None = Field(None, pattern=r"^scrypt\$\d+\$\d+\$\d+\$[0-9a-f]+\$[0-9a-f]{64}$")
    secret_env: str | None = Field(None, min_length=1)
    events_endpoints: list[EventsEndpoint] = []

    @model_validator(mode="after")
    def _one_secret(self):
        if (self.secret_hash is None) == (self.secret_env is None):
            raise ValueError("exactly one of secret_hash (from pcf serve --hash-secret) or secret_env")
        return self

    def accepts(self, secret: str) -> bool:
        if self.secret_hash is not None:
            return secret_matches(secret, self.secret_hash)
        expected = os.environ.get(self.secret_env or "")
        return bool(expected) and hmac.compare_digest(secret.encode("utf-8"), expected.encode("utf-8"))

    def endpoint_for(self, url: str) -> EventsEndpoint | None:
        """The configured events endpoint ``url`` is (trailing slashes ignored), else None."""
        return next((e for e in self.events_endpoints if e.url.rstrip("/") == url.rstrip("/")), None)


class Credentials(_Strict):
    token_lifetime_seconds: int = Field(3600, ge=1, le=86400)
    clients: list[Client] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self):
        ids = [c.client_id for c in self.clients]
        if len(set(ids)) != len(ids):
            raise ValueError(f"client_id values must be unique, found {sorted(ids)}")
        return self

    def client(self, client_id: str) -> Client | None:
        return next((c for c in self.clients if c.client_id == client_id), None)


def load_credentials(path: str | Path) -> Credentials:
    """The credentials file, validated; every client given by ``secret_env`` must find its variable set."""
    creds = parse_model(Credentials, read_yaml(path, CredentialsError), path, CredentialsError)
    missing = [Problem(str(path), f"clients[{i}].secret_env", f"{c.secret_env} (not set)",
                       "the name of a set environment variable holding the client secret")
               for i, c in enumerate(creds.clients) if c.secret_env and not os.environ.get(c.secret_env)]
    if missing:
        raise CredentialsError(path, missing)
    return creds
