"""Local HTTPS stub of the Azure Key Vault secrets REST API, with the Microsoft Entra endpoints azure-identity needs.

One HTTPS port on 127.0.0.1 serves:

* Entra (``authority_host`` = the stub's origin): ``GET /{tenant}/v2.0/.well-known/openid-configuration`` and
  ``POST /{tenant}/oauth2/v2.0/token`` (client credentials with the seeded client id / secret -> bearer token;
  wrong secret -> 401 ``invalid_client`` AADSTS7000215, unknown client -> 400 AADSTS700016, unknown tenant ->
  400 AADSTS90002).
* The vault (``vault_url`` = the stub's origin), api-version 7.x / dated versions, JSON shapes of the REST reference:
  ``PUT /secrets/{name}`` (a new 32-hex version each time), ``GET /secrets/{name}[/{version}]``,
  ``GET /secrets/{name}/versions``, ``GET /secrets``, ``DELETE /secrets/{name}`` (soft-delete: the name stays
  taken, a PUT answers 409 ``ObjectIsDeletedButRecoverable``), ``GET|DELETE /deletedsecrets/{name}`` (read /
  purge), ``POST /deletedsecrets/{name}/recover``, ``GET /deletedsecrets``. Secret names are case-insensitive,
  like the service. Every call without a token this stub issued gets the 401 bearer challenge.
* Control (no auth, never shows a secret value): ``GET /_stub/stats`` (request count, versions per secret),
  ``GET|POST /_stub/config`` (``{"deny_writes": true}`` makes PUT / DELETE / purge answer 403 Forbidden).

The challenge's ``resource`` follows the service's rule: the vault's host without its first label
(``https://kv.vault.azure.net`` -> ``https://vault.azure.net``), here ``https://0.0.1:{port}`` for
``https://127.0.0.1:{port}``. azure-keyvault-secrets accepts a challenge only when the vault host is a
strict subdomain of the resource, so the stub's own origin would be refused (verify_challenge_resource).

Run from the repository root::

    python -m tests.emulator.keyvault --port 0 [--cert-dir DIR] [--watch-stdin]

It prints one JSON line ``{"vault_url", "ca_file", "authority_host", "tenant_id", "client_id",
"client_secret", "pid"}`` and serves until SIGTERM / SIGINT (or end of stdin with ``--watch-stdin``).
From Python, ``start_keyvault()`` runs it in a subprocess. Standard library only (plus ``tls.py``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import secrets
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

__all__ = ["KeyVaultStub", "KeyVaultProcess", "start_keyvault", "main"]

REPO_ROOT = Path(__file__).resolve().parents[2]

NAME_RE = re.compile(r"^[0-9a-zA-Z-]{1,127}$")
MAX_TAGS = 15
MAX_TAG_NAME = 512
MAX_TAG_VALUE = 256
MAX_VALUE_BYTES = 25 * 1024
MAX_CONTENT_TYPE = 255
RECOVERABLE_DAYS = 90
TOKEN_LIFETIME = 3599
API_VERSION_RE = re.compile(r"^(7\.[0-9]+(-preview)?|20[0-9]{2}-[0-9]{2}-[0-9]{2}(-preview)?)$")

Reply = tuple[int, dict[str, str], bytes]


def _now() -> int:
    return int(time.time())


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Reply:
    merged = {"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-cache"}
    merged.update(headers or {})
    return status, merged, json.dumps(body).encode("utf-8")


def _kv_error(status: int, code: str, message: str, inner: str | None = None,
              headers: dict[str, str] | None = None) -> Reply:
    """Key Vault's error body: ``{"error": {"code", "message"[, "innererror": {"code"}]}}``."""
    error: dict[str, Any] = {"code": code, "message": message}
    if inner:
        error["innererror"] = {"code": inner}
    return _json(status, {"error": error}, headers)


def _aad_error(status: int, error: str, aadsts: int, description: str) -> Reply:
    """Entra ID's OAuth error body (``error``, ``error_description`` with the AADSTS code, ``error_codes``)."""
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
    trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
    return _json(status, {
        "error": error,
        "error_description": f"AADSTS{aadsts}: {description} Trace ID: {trace} Correlation ID: {correlation} "
                             f"Timestamp: {stamp}",
        "error_codes": [aadsts],
        "timestamp": stamp,
        "trace_id": trace,
        "correlation_id": correlation,
    })


class KeyVaultStub:
    """State and request handling of one stub vault (thread-safe)."""

    def __init__(self, tenant_id: str | None = None, client_id: str | None = None,
                 client_secret: str | None = None) -> None:
        self.tenant_id = tenant_id or str(uuid.uuid4())
        self.client_id = client_id or str(uuid.uuid4())
        self.client_secret = client_secret or secrets.token_urlsafe(24)
        self.base = ""
        self.config: dict[str, Any] = {"deny_writes": False}
        self._lock = threading.Lock()
        self._secrets: dict[str, dict[str, Any]] = {}
        self._tokens: dict[str, dict[str, Any]] = {}
        self.counters = {"requests": 0, "token_requests": 0, "tokens_issued": 0, "challenges": 0,
                         "denied_writes": 0}

    # -- URLs ---------------------------------------------------------

    @property
    def resource(self) -> str:
        """The challenge resource: the vault host without its first label, port kept."""
        parsed = urllib.parse.urlsplit(self.base)
        host = (parsed.hostname or "").split(".", 1)[-1]
        return f"{parsed.scheme}://{host}:{parsed.port}"

    def _secret_id(self, name: str, version: str | None = None) -> str:
        return f"{self.base}/secrets/{name}" + (f"/{version}" if version else "")

    # -- dispatch -----------------------------------------------------

    def handle(self, method: str, target: str, headers: Any, body: bytes) -> Reply:
        """Answer one request."""
        url = urllib.parse.urlsplit(target)
        path = urllib.parse.unquote(url.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if path.startswith("/_stub/"):
            return self._control(method, path, body)
        with self._lock:
            self.counters["requests"] += 1
        parts = [part for part in path.split("/") if part]
        if len(parts) == 4 and parts[1:] == ["v2.0", ".well-known", "openid-configuration"] and method == "GET":
            return self._openid_configuration(parts[0])
        if len(parts) == 4 and parts[1:] == ["oauth2", "v2.0", "token"] and method == "POST":
            return self._token(parts[0], body)
        if not parts or parts[0] not in ("secrets", "deletedsecrets"):
            return _kv_error(404, "NotFound", f"The requested path {path} was not found.")
        denied = self._authenticate(headers.get("Authorization") or "")
        if denied:
            return denied
        version = query.get("api-version")
        if not version:
            return _kv_error(400, "BadParameter", "The 'api-version' query parameter is missing.")
        if not API_VERSION_RE.match(version):
            return _kv_error(400, "BadParameter", f"The specified version ({version}) is not recognized.")
        with self._lock:
            return self._vault(method, parts, body)

    # -- Entra ID -----------------------------------------------------

    def _openid_configuration(self, tenant: str) -> Reply:
        if tenant.lower() not in (self.tenant_id.lower(), "organizations", "common"):
            return _aad_error(400, "invalid_tenant", 90002, f"Tenant '{tenant}' not found.")
        root = f"{self.base}/{self.tenant_id}"
        return _json(200, {
            "token_endpoint": f"{root}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": f"{root}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{root}/v2.0",
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": f"{self.base}/oidc/userinfo",
            "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{root}/oauth2/v2.0/logout",
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "tid", "ver"],
            "kerberos_endpoint": f"{root}/kerberos",
            "tenant_region_scope": None,
            "cloud_instance_name": "stub.local",
            "cloud_graph_host_name": "graph.stub.local",
            "msgraph_host": "graph.stub.local",
            "rbac_url": "https://pas.stub.local",
        })

    def _token(self, tenant: str, body: bytes) -> Reply:
        with self._lock:
            self.counters["token_requests"] += 1
        form = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace")))
        if tenant.lower() != self.tenant_id.lower():
            return _aad_error(400, "invalid_tenant", 90002, f"Tenant '{tenant}' not found. Check to make sure you "
                              "have the correct tenant ID and are signing into the correct cloud.")
        if form.get("grant_type") != "client_credentials":
            return _aad_error(400, "unsupported_grant_type", 70003,
                              "The app requested an unsupported grant type (the stub serves client_credentials).")
        if form.get("client_id") != self.client_id:
            return _aad_error(400, "unauthorized_client", 700016,
                              f"Application with identifier '{form.get('client_id')}' was not found in the directory "
                              f"'{self.tenant_id}'.")
        if "client_secret" not in form:
            return _aad_error(401, "invalid_client", 7000218, "The request body must contain the following parameter: "
                              "'client_assertion' or 'client_secret'.")
        if not secrets.compare_digest(form["client_secret"].encode(), self.client_secret.encode()):
            return _aad_error(401, "invalid_client", 7000215,
                              "Invalid client secret provided. Ensure the secret being sent in the request is the client "
                              f"secret value, not the client secret ID, for a secret added to app '{self.client_id}'.")
        scope = form.get("scope") or ""
        if not scope.endswith("/.default"):
            return _aad_error(400, "invalid_scope", 1002012, f"The provided value for scope {scope} is not valid. "
                              "Client credential flows must have a scope value with /.default suffixed to the resource "
                              "identifier (application ID URI).")
        token = "kvstub." + secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = {"audience": scope[:-len("/.default")], "expires": _now() + TOKEN_LIFETIME}
            self.counters["tokens_issued"] += 1
        return _json(200, {"token_type": "Bearer", "expires_in": TOKEN_LIFETIME, "ext_expires_in": TOKEN_LIFETIME,
                           "access_token": token})

    # -- vault --------------------------------------------------------

    def _challenge(self, message: str) -> Reply:
        with self._lock:
            self.counters["challenges"] += 1
        header = f'Bearer authorization="{self.base}/{self.tenant_id}", resource="{self.resource}"'
        return _kv_error(401, "Unauthorized", message, headers={"WWW-Authenticate": header})

    def _authenticate(self, authorization: str) -> Reply | None:
        scheme, token = (authorization.split(" ", 1) + [""])[:2]
        if scheme.lower() != "bearer" or not token.strip():
            return self._challenge("AKV10000: Request is missing a Bearer or PoP token.")
        with self._lock:
            issued = self._tokens.get(token.strip())
        if issued is None:
            return self._challenge("AKV10032: Invalid issuer. The token was not issued by this authority.")
        if issued["expires"] <= _now():
            return self._challenge("AKV10022: The access token has expired.")
        if issued["audience"].rstrip("/").lower() != self.resource.lower():
            return self._challenge(f"AKV10022: Invalid audience. Expected {self.resource}, found: {issued['audience']}.")
        return None

    def _forbidden(self, permission: str) -> Reply:
        self.counters["denied_writes"] += 1
        return _kv_error(403, "Forbidden",
                         f"The user, group or application 'appid={self.client_id};iss={self.base}/{self.tenant_id}/' "
                         f"does not have secrets {permission} permission on key vault 'stub;location=local'.",
                         "AccessDenied")

    def _vault(self, method: str, parts: list[str], body: bytes) -> Reply:  # pylint: disable=too-many-return-statements
        collection, rest = parts[0], parts[1:]
        if collection == "secrets":
            if not rest:
                return self._list(method, deleted=False)
            name = rest[0]
            if len(rest) == 1 and method == "PUT":
                return self._set(name, body)
            if len(rest) == 1 and method == "DELETE":
                return self._delete(name)
            if len(rest) == 2 and rest[1] == "versions" and method == "GET":
                return self._versions(name)
            if len(rest) <= 2 and method == "GET":
                return self._get(name, rest[1] if len(rest) == 2 else None)
            if len(rest) == 2 and method == "PATCH":
                return _kv_error(501, "NotImplemented", "Updating secret attributes is not implemented by the stub.")
        else:
            if not rest:
                return self._list(method, deleted=True)
            name = rest[0]
            if len(rest) == 1 and method == "GET":
                return self._get_deleted(name)
            if len(rest) == 1 and method == "DELETE":
                return self._purge(name)
            if len(rest) == 2 and rest[1] == "recover" and method == "POST":
                return self._recover(name)
        return _kv_error(405, "MethodNotAllowed", f"The method {method} is not allowed on this resource.")

    def _record(self, name: str) -> dict[str, Any] | None:
        return self._secrets.get(name.lower())

    def _bundle(self, record: dict[str, Any], version: dict[str, Any], with_value: bool = True) -> dict[str, Any]:
        bundle: dict[str, Any] = {}
        if with_value:
            bundle["value"] = version["value"]
        if version.get("contentType") is not None:
            bundle["contentType"] = version["contentType"]
        bundle["id"] = self._secret_id(record["name"], version["version"])
        bundle["attributes"] = dict(version["attributes"])
        if version.get("tags") is not None:
            bundle["tags"] = dict(version["tags"])
        return bundle

    def _deleted_bundle(self, record: dict[str, Any]) -> dict[str, Any]:
        bundle = self._bundle(record, record["versions"][-1], with_value=False)
        bundle.update(recoveryId=f"{self.base}/deletedsecrets/{record['name']}",
                      deletedDate=record["deleted"], scheduledPurgeDate=record["deleted"] + RECOVERABLE_DAYS * 86400)
        return bundle

    @staticmethod
    def _not_found(name: str, version: str | None = None) -> Reply:
        what = f"{name}/{version}" if version else name
        return _kv_error(404, "SecretNotFound", f"A secret with (name/id) {what} was not found in this key vault. If "
                         "you recently deleted this secret you may be able to recover it using the correct recovery "
                         "command.")

    def _validate_set(self, name: str, request: Any) -> Reply | None:
        if not NAME_RE.match(name):
            return _kv_error(400, "BadParameter", "The request URI contains an invalid name: " + name[:140])
        if not isinstance(request, dict) or not isinstance(request.get("value"), str):
            return _kv_error(400, "BadParameter", "Property value is required and must be a string.")
        if len(request["value"].encode("utf-8")) > MAX_VALUE_BYTES:
            return _kv_error(400, "BadParameter", "Secret value is too long: the limit is 25 KB.")
        tags = request.get("tags")
        if tags is not None:
            if not isinstance(tags, dict) or len(tags) > MAX_TAGS:
                return _kv_error(400, "BadParameter", "Property has invalid value (at most 15 tags).")
            for key, value in tags.items():
                if not isinstance(value, str) or len(key) > MAX_TAG_NAME or len(value) > MAX_TAG_VALUE:
                    return _kv_error(400, "BadParameter", "Property has invalid value (tag names up to 512, values "
                                     "up to 256 characters).")
        content_type = request.get("contentType")
        if content_type is not None and (not isinstance(content_type, str) or len(content_type) > MAX_CONTENT_TYPE):
            return _kv_error(400, "BadParameter", "Property contentType has invalid value.")
        attributes = request.get("attributes") or {}
        if not isinstance(attributes, dict) or any(
                attributes.get(key) is not None and not isinstance(attributes[key], int) for key in ("exp", "nbf")):
            return _kv_error(400, "BadParameter", "Property attributes has invalid value.")
        return None

    def _set(self, name: str, body: bytes) -> Reply:
        if self.config["deny_writes"]:
            return self._forbidden("set")
        try:
            request = json.loads(body.decode("utf-8") or "null")
        except ValueError:
            return _kv_error(400, "BadParameter", "The request body is not valid JSON.")
        invalid = self._validate_set(name, request)
        if invalid:
            return invalid
        record = self._record(name)
        if record is not None and record["deleted"] is not None:
            return _kv_error(409, "Conflict", f"Secret {record['name']} is currently in a deleted but recoverable "
                             "state, and its name cannot be reused; in this state, the secret can only be recovered or "
                             "purged.", "ObjectIsDeletedButRecoverable")
        if record is None:
            record = {"name": name, "versions": [], "deleted": None}
            self._secrets[name.lower()] = record
        now = _now()
        given = request.get("attributes") or {}
        attributes: dict[str, Any] = {"enabled": given.get("enabled", True) is not False}
        for key in ("nbf", "exp"):
            if given.get(key) is not None:
                attributes[key] = given[key]
        attributes.update(created=now, updated=now, recoveryLevel="Recoverable+Purgeable",
                          recoverableDays=RECOVERABLE_DAYS)
        version = {"version": uuid.uuid4().hex, "value": request["value"], "contentType": request.get("contentType"),
                   "tags": request.get("tags"), "attributes": attributes}
        record["versions"].append(version)
        return _json(200, self._bundle(record, version))

    def _get(self, name: str, version_id: str | None) -> Reply:
        record = self._record(name)
        if record is None or record["deleted"] is not None or not record["versions"]:
            return self._not_found(name, version_id)
        if not version_id:
            version = record["versions"][-1]
        else:
            found = [item for item in record["versions"] if item["version"] == version_id.lower()]
            if not found:
                return self._not_found(name, version_id)
            version = found[0]
        if not version["attributes"]["enabled"]:
            return _kv_error(403, "Forbidden", "Operation get is not allowed on a disabled secret.", "SecretDisabled")
        return _json(200, self._bundle(record, version))

    def _item(self, record: dict[str, Any], version: dict[str, Any], with_version: bool) -> dict[str, Any]:
        item = self._bundle(record, version, with_value=False)
        if not with_version:
            item["id"] = self._secret_id(record["name"])
        return item

    def _versions(self, name: str) -> Reply:
        record = self._record(name)
        items = []
        if record is not None and record["deleted"] is None:
            items = [self._item(record, version, True) for version in record["versions"]]
        return _json(200, {"value": items, "nextLink": None})

    def _list(self, method: str, deleted: bool) -> Reply:
        if method != "GET":
            return _kv_error(405, "MethodNotAllowed", f"The method {method} is not allowed on this resource.")
        items = []
        for record in sorted(self._secrets.values(), key=lambda item: item["name"].lower()):
            if (record["deleted"] is not None) != deleted or not record["versions"]:
                continue
            if deleted:
                item = self._deleted_bundle(record)
                item["id"] = self._secret_id(record["name"])
            else:
                item = self._item(record, record["versions"][-1], False)
            items.append(item)
        return _json(200, {"value": items, "nextLink": None})

    def _delete(self, name: str) -> Reply:
        if self.config["deny_writes"]:
            return self._forbidden("delete")
        record = self._record(name)
        if record is None or record["deleted"] is not None:
            return self._not_found(name)
        record["deleted"] = _now()
        return _json(200, self._deleted_bundle(record))

    def _get_deleted(self, name: str) -> Reply:
        record = self._record(name)
        if record is None or record["deleted"] is None:
            return _kv_error(404, "SecretNotFound", f"Deleted Secret not found: {name}")
        return _json(200, self._deleted_bundle(record))

    def _purge(self, name: str) -> Reply:
        if self.config["deny_writes"]:
            return self._forbidden("purge")
        record = self._record(name)
        if record is None or record["deleted"] is None:
            return _kv_error(404, "SecretNotFound", f"Deleted Secret not found: {name}")
        del self._secrets[name.lower()]
        return 204, {}, b""

    def _recover(self, name: str) -> Reply:
        if self.config["deny_writes"]:
            return self._forbidden("recover")
        record = self._record(name)
        if record is None or record["deleted"] is None:
            return _kv_error(404, "SecretNotFound", f"Deleted Secret not found: {name}")
        record["deleted"] = None
        return _json(200, self._bundle(record, record["versions"][-1], with_value=False))

    # -- control ------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Counters and, per secret, its version count and deleted state (never a value or a token)."""
        with self._lock:
            return {
                **self.counters,
                "secrets": {record["name"]: {"versions": len(record["versions"]), "deleted": record["deleted"] is not None}
                            for record in self._secrets.values()},
                "config": dict(self.config),
            }

    def _control(self, method: str, path: str, body: bytes) -> Reply:
        if path == "/_stub/stats" and method == "GET":
            return _json(200, self.stats())
        if path == "/_stub/config" and method == "GET":
            return _json(200, dict(self.config))
        if path == "/_stub/config" and method == "POST":
            try:
                changes = json.loads(body.decode("utf-8") or "{}")
            except ValueError:
                return _json(400, {"message": "body must be a JSON object"})
            if not isinstance(changes, dict) or set(changes) - set(self.config) \
                    or not all(isinstance(value, bool) for value in changes.values()):
                return _json(400, {"message": f"config keys are {sorted(self.config)} (booleans)"})
            with self._lock:
                self.config.update(changes)
                return _json(200, dict(self.config))
        return _json(404, {"message": f"unknown control endpoint {method} {path}"})


# -- HTTP plumbing ------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60
    server: "KeyVaultHTTPServer"

    def setup(self) -> None:
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()

    def log_message(self, format: str, *args: Any) -> None:  # pylint: disable=redefined-builtin
        if self.server.verbose:
            super().log_message(format, *args)

    def _serve(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        body = self.rfile.read(length) if length > 0 else b""
        status, headers, payload = self.server.stub.handle(self.command, self.path, self.headers, body)
        self.send_response_only(status)
        self.send_header("Date", self.date_time_string())
        self.send_header("x-ms-request-id", str(uuid.uuid4()))
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = _serve


class KeyVaultHTTPServer(ThreadingHTTPServer):
    """Threaded HTTPS server on 127.0.0.1 serving one :class:`KeyVaultStub`."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, stub: KeyVaultStub, context: ssl.SSLContext, verbose: bool = False) -> None:
        self.stub = stub
        self.verbose = verbose
        super().__init__(("127.0.0.1", port), _Handler)
        self.socket = context.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)
        stub.base = f"https://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError, socket.timeout, TimeoutError)):
            return
        super().handle_error(request, client_address)


def build_parser() -> argparse.ArgumentParser:
    """The CLI argument parser."""
    parser = argparse.ArgumentParser(prog="python -m tests.emulator.keyvault",
                                     description="Local HTTPS stub of the Azure Key Vault secrets REST API.")
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0 = any free port)")
    parser.add_argument("--cert-dir", default=None,
                        help="where to write ca.pem / server.pem / server-key.pem (default: a temp dir, removed at exit)")
    parser.add_argument("--verbose", action="store_true", help="access log on stderr")
    parser.add_argument("--watch-stdin", action="store_true",
                        help="stop when stdin reaches end of file (the parent process went away)")
    return parser


def _watch_stdin(stop: threading.Event) -> None:
    try:
        fileno = sys.stdin.fileno()
        while os.read(fileno, 4096):
            pass
    except (OSError, ValueError):
        pass
    stop.set()


def main(argv: list[str] | None = None) -> int:
    """Serve until a signal (or end of stdin with --watch-stdin); return the exit status."""
    from . import tls  # pylint: disable=import-outside-toplevel  # cryptography only when serving

    args = build_parser().parse_args(argv)
    temp_dir = None
    cert_dir = args.cert_dir
    if cert_dir is None:
        temp_dir = cert_dir = tempfile.mkdtemp(prefix="azdo-keyvault-tls-")
    ca_path, cert_path, key_path = tls.generate(cert_dir)
    stub = KeyVaultStub()
    httpd = KeyVaultHTTPServer(args.port, stub, tls.server_context(cert_path, key_path), verbose=args.verbose)
    stop = threading.Event()

    def _on_signal(_signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    if args.watch_stdin:
        threading.Thread(target=_watch_stdin, args=(stop,), daemon=True).start()
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    info = {"vault_url": stub.base, "ca_file": str(Path(ca_path).resolve()), "authority_host": stub.base,
            "tenant_id": stub.tenant_id, "client_id": stub.client_id, "client_secret": stub.client_secret,
            "pid": os.getpid()}
    sys.stdout.write(json.dumps(info) + "\n")
    sys.stdout.flush()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        httpd.shutdown()
        httpd.server_close()
        if temp_dir:
            shutil.rmtree(temp_dir, ignore_errors=True)
    return 0


# -- the subprocess helper --------------------------------------------------------------------


class KeyVaultStartError(RuntimeError):
    """The stub process did not come up."""


class KeyVaultProcess:
    """A running stub: its start-up line as attributes, control helpers and ``stop()``."""

    def __init__(self, process: subprocess.Popen, info: dict[str, Any]) -> None:
        self.process = process
        self.info = info
        self.vault_url: str = info["vault_url"]
        self.ca_file: str = info["ca_file"]
        self.authority_host: str = info["authority_host"]
        self.tenant_id: str = info["tenant_id"]
        self.client_id: str = info["client_id"]
        self.client_secret: str = info["client_secret"]
        self.pid: int = info["pid"]

    def store_spec(self, **overrides: Any) -> dict[str, Any]:
        """A ``store`` option for the azure_key_vault backend pointing at this stub."""
        spec = {"backend": "azure_key_vault", "vault_url": self.vault_url, "tenant_id": self.tenant_id,
                "client_id": self.client_id, "client_secret": self.client_secret,
                "authority_host": self.authority_host, "ca_path": self.ca_file, "validate_certs": True, "timeout": 10}
        spec.update(overrides)
        return spec

    def _control(self, method: str, name: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(f"{self.vault_url}/_stub/{name}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        context = ssl.create_default_context(cafile=self.ca_file)
        with urllib.request.urlopen(request, timeout=10, context=context) as response:  # nosec - local stub
            return json.loads(response.read().decode("utf-8"))

    def stats(self) -> dict[str, Any]:
        """``GET /_stub/stats``."""
        return self._control("GET", "stats")

    def configure(self, **changes: Any) -> dict[str, Any]:
        """``POST /_stub/config`` (``deny_writes``)."""
        return self._control("POST", "config", changes)

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout``; return the exit status."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()
        return self.process.returncode

    def __enter__(self) -> "KeyVaultProcess":
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.stop()


def start_keyvault(cert_dir: str | os.PathLike[str] | None = None, timeout: float = 20.0,
                   verbose: bool = False) -> KeyVaultProcess:
    """Start ``python -m tests.emulator.keyvault`` and wait for its start-up line (usable as a context manager)."""
    command = [sys.executable, "-m", "tests.emulator.keyvault", "--port", "0", "--watch-stdin"]
    command += ["--cert-dir", str(cert_dir)] if cert_dir else []
    command += ["--verbose"] if verbose else []
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    process = subprocess.Popen(  # pylint: disable=consider-using-with  # lives until stop()
        command, cwd=str(REPO_ROOT), env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        if not select.select([process.stdout], [], [], timeout)[0]:
            raise KeyVaultStartError(f"the Key Vault stub printed nothing within {timeout} s")
        line = process.stdout.readline()
        if not line:
            raise KeyVaultStartError(f"the Key Vault stub exited with status {process.wait()}")
        return KeyVaultProcess(process, json.loads(line))
    except (KeyVaultStartError, ValueError):
        process.kill()
        process.wait()
        raise


if __name__ == "__main__":
    sys.exit(main())
