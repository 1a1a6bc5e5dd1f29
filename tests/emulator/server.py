"""HTTP plumbing and the request pipeline of the emulator.

Pipeline of one request (``EmulatorApp.handle``):

1. ``/_emulator/...`` -> control API (no auth, not logged).
2. Fault injection: the first pending fault matching the path (and method)
   may delay, drop the connection or answer instead of the application.
3. Raw routes (identity-provider style endpoints added by area modules).
4. onprem + ``iis_basic_auth``: IIS answers every ``Basic`` request itself
   (401 HTML, ``Server: Microsoft-IIS/10.0``, no ``X-TFS-*``/``X-VSS-*``).
5. Host resolution: organisation / collection / cloud host prefix; an
   unknown organisation or collection is a 404 ``HostNotFoundException``.
6. Authentication (skipped by routes declared ``auth=False``):
   anonymous -> hosted 203 sign-in page (401 with
   ``X-TFS-FedAuthRedirect: Suppress``), onprem 401; bad / expired / revoked
   credential -> 401 empty body; TF401444, VS403463, TF400813 from the
   identity's flags.
7. Routing (404 / 405 after authentication, like the service).
8. Scope check (under-scoped -> 401 empty body), then the api-version check.
9. The area handler.

Every response from the "application" carries ``X-TFS-ProcessId``,
``X-VSS-E2EID``, ``ActivityId`` and ``X-TFS-Session``.
"""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import sys
import time
import traceback
import urllib.parse
import uuid
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from . import apiversion, auth, control
from .areas import register_all
from .faults import FaultQueue, fault_response
from .requestlog import RequestLog
from .routing import RequestContext, Route, Router
from .state import Collection, State, parse_datetime
from .wire import Response, not_found, vss_error

IIS_SERVER = "Microsoft-IIS/10.0"

_FRAMEWORK = "Microsoft.TeamFoundation.Framework.Server"


class EmulatorApp:
    """The emulated service: state, configuration, router, faults and request log."""

    def __init__(self, state: State, mode: str, server_version: str, base: str = "") -> None:
        if mode not in ("hosted", "onprem"):
            raise ValueError(f"mode must be hosted or onprem, not {mode!r}")
        if server_version not in apiversion.SERVER_VERSIONS:
            raise ValueError(f"unknown server version {server_version!r}")
        self.state = state
        self.mode = mode
        self.base = base
        self.config: dict[str, Any] = {"iis_basic_auth": False, "server_version": server_version, "now": None,
                                       "latency": 0}
        self.router = Router()
        register_all(self.router)
        self.faults = FaultQueue()
        self.log = RequestLog()
        self.process_id = str(uuid.uuid4())

    # -- configuration and URLs ---------------------------------------

    def configure(self, **changes: Any) -> None:
        """Apply validated runtime configuration changes."""
        self.config.update(changes)

    @property
    def server_version(self) -> str:
        """The emulated server version (``cloud``, ``2022.1``, ...)."""
        return str(self.config["server_version"])

    def now(self) -> dt.datetime:
        """Current time (or the configured ``now``)."""
        configured = parse_datetime(self.config.get("now"))
        return configured or dt.datetime.now(dt.timezone.utc)

    def deployment_url(self, host: str = "app") -> str:
        """URL without the collection segment (hosted root / onprem virtual directory)."""
        if self.mode == "hosted":
            return self.base if host == "app" else f"{self.base}/_hosts/{host}"
        vdir = self.state.virtual_directory
        return f"{self.base}/{vdir}" if vdir else self.base

    def collection_url(self, collection: Collection, host: str = "app") -> str:
        """URL of a collection (onprem) or of the organisation on a host (hosted)."""
        name = urllib.parse.quote(collection.name, safe="")
        return f"{self.deployment_url(host)}/{name}"

    @property
    def primary_url(self) -> str:
        """The collection URL printed at start-up."""
        if self.mode == "hosted":
            return self.collection_url(self.state.org_collection)
        return self.collection_url(self.state.first_collection())

    # -- pipeline -----------------------------------------------------

    def handle(self, method: str, raw_path: str, headers: Message, body: bytes) -> Response:
        """Answer one request."""
        split = urllib.parse.urlsplit(raw_path)
        path = split.path or "/"
        query = urllib.parse.parse_qs(split.query, keep_blank_values=True)
        if path.lower().startswith(control.PREFIX) or path.lower() == control.PREFIX.rstrip("/"):
            response = control.handle(self, method, path, body)
            response.ado = False
            return response

        ctx = RequestContext(app=self, method=method, path=path, query=query, headers=headers, body=body)
        organization = self.state.organization if self.mode == "hosted" else None
        ctx.auth = auth.resolve(headers.get("Authorization"), self.state, self.now(), organization)
        ctx.api_version = apiversion.requested_version(query, headers.get("Accept"))
        activity_id = str(uuid.uuid4())

        if self.config.get("latency"):
            time.sleep(float(self.config["latency"]))  # per request, in the handler thread: concurrent calls overlap
        fault = self.faults.take(method, path)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        is_fault = fault is not None and fault.answers
        try:
            if is_fault:
                response = fault_response(fault, self.base, activity_id)
            else:
                response = self._dispatch(ctx)
        except Exception:  # pylint: disable=broad-exception-caught
            traceback.print_exc(file=sys.stderr)
            response = vss_error(500, f"TF400898: An Internal Error Occurred. Activity Id: {activity_id}.",
                                 "Exception", "System.Exception, mscorlib", event_id=0)
        self._finish_headers(response, headers, activity_id)
        self.log.record({
            "method": method,
            "path": path,
            "query": query,
            "status": None if response.drop else response.status,
            "auth": ctx.auth.kind,
            "identity": ctx.auth.identity_key if ctx.auth.outcome == auth.OK else None,
            "api_version": ctx.api_version,
            "fault": is_fault,
            "host": ctx.host if ctx.level else None,
        })
        return response

    def _finish_headers(self, response: Response, request_headers: Message, activity_id: str) -> None:
        if response.drop:
            return
        if self.mode == "onprem":
            response.headers.append(("Server", IIS_SERVER))
            response.headers.append(("X-Powered-By", "ASP.NET"))
        if response.ado:
            session = request_headers.get("X-TFS-Session") or str(uuid.uuid4())
            response.headers.extend([
                ("X-TFS-ProcessId", self.process_id),
                ("ActivityId", activity_id),
                ("X-TFS-Session", session),
                ("X-VSS-E2EID", str(uuid.uuid4())),
                ("X-Content-Type-Options", "nosniff"),
            ])

    def _before_application(self, ctx: RequestContext) -> Response | None:
        """Raw routes, IIS Basic interception and host resolution."""
        raw = self.router.match_raw(ctx.method, ctx.path)
        if raw is not None:
            route, params = raw
            ctx.level, ctx.params = "raw", params
            return route.handler(ctx)
        authorization = ctx.headers.get("Authorization") or ""
        if (self.mode == "onprem" and self.config.get("iis_basic_auth")
                and authorization.strip().lower().startswith("basic")):
            return auth.iis_basic_rejection("127.0.0.1")
        return self._resolve(ctx)

    def _dispatch(self, ctx: RequestContext) -> Response:
        early = self._before_application(ctx)
        if early is not None:
            return early

        method = "GET" if ctx.method == "HEAD" else ctx.method
        route, params, others = self.router.match(method, self.mode, ctx.level, ctx.host, ctx.rel_path)
        ctx.route, ctx.params = route, params

        if route is not None and not route.auth:
            error = apiversion.check(ctx.api_version, self.server_version, ctx.method, route.version_required)
            return error or route.handler(ctx)

        denied = self._authenticate(ctx)
        if denied is not None:
            return denied
        if route is None:
            return self._no_route(ctx, method, others)
        return self._authorize_and_call(ctx, route)

    def _authorize_and_call(self, ctx: RequestContext, route: Route) -> Response:
        """Scope check, then api-version check, then the handler."""
        if not auth.scope_satisfied(auth.granted_scopes(ctx.auth), route.scope):
            return auth.unauthorized(self.mode, self.base, self.state.tenant_id)
        error = apiversion.check(ctx.api_version, self.server_version, ctx.method, route.version_required)
        return error or route.handler(ctx)

    def _authenticate(self, ctx: RequestContext) -> Response | None:
        result = ctx.auth
        tenant = self.state.tenant_id
        if result.outcome == auth.ANONYMOUS:
            suppress = (ctx.headers.get("X-TFS-FedAuthRedirect") or "").strip().lower() == "suppress"
            return auth.anonymous_response(self.mode, self.base, tenant, suppress)
        if result.outcome != auth.OK or result.identity is None:
            return auth.unauthorized(self.mode, self.base, tenant)
        identity = result.identity
        if identity.service_principal_not_in_org:
            return auth.principal_not_in_org(identity, self.mode, self.base, tenant)
        if identity.conditional_access_blocked:
            return auth.conditional_access_failed()
        if ctx.collection is not None and not identity.member_of(ctx.collection.name):
            return auth.not_member(identity, self.mode, self.base, tenant)
        return None

    def _resolve(self, ctx: RequestContext) -> Response | None:
        """Fill level / host / collection / rel_path, or return a 404."""
        segments = ctx.path.split("/")[1:]
        if segments and segments[-1] == "":
            segments.pop()
        host = "app"
        if self.mode == "hosted":
            if (len(segments) >= 2 and segments[0].lower() == "_hosts"
                    and segments[1].lower() in self.router.cloud_hosts):
                host = segments[1].lower()
                segments = segments[2:]
        else:
            vdir = self.state.virtual_directory
            if vdir:
                if not segments or segments[0].lower() != vdir.lower():
                    return self._host_not_found(urllib.parse.unquote(segments[0]) if segments else "")
                segments = segments[1:]
        ctx.host = host
        if segments and segments[0].lower() == "_apis":
            ctx.level = "deployment"
            ctx.host_url = self.deployment_url(host)
            ctx.rel_path = "/".join(segments)
            return None
        name = urllib.parse.unquote(segments[0]) if segments else ""
        if self.mode == "hosted":
            collection = self.state.org_collection if name.lower() == self.state.organization.lower() else None
        else:
            collection = self.state.collection(name) if name else None
        if collection is None:
            return self._host_not_found(name)
        ctx.level = "collection"
        ctx.collection = collection
        ctx.host_url = self.collection_url(collection, host)
        ctx.rel_path = "/".join(segments[1:])
        return None

    def _host_not_found(self, name: str) -> Response:
        what = "organization" if self.mode == "hosted" else "project collection"
        url = f"{self.deployment_url()}/{name}" if name else self.deployment_url()
        message = (
            f"TF400324: Team Foundation services are not available from server {url}. "
            f"Technical information (for administrator): The {what} '{name}' was not found."
        )
        return not_found(message, "HostNotFoundException", f"{_FRAMEWORK}.HostNotFoundException, {_FRAMEWORK}")

    def _no_route(self, ctx: RequestContext, method: str, others: list[Route]) -> Response:
        same_host = [r for r in others if r.served(self.mode, ctx.level, ctx.host)]
        if same_host:
            allowed = sorted({r.method for r in same_host})
            response = vss_error(405, f"The requested resource does not support http method '{method}'.",
                                 "HttpException", "System.Web.HttpException, System.Web")
            response.add_header("Allow", ", ".join(allowed))
            return response
        if others:
            message = f"API resource location {others[0].location_id} is not registered on {ctx.host_url}/."
            return not_found(message, "VssResourceNotFoundException")
        message = (
            f"The controller for path '{ctx.path}' was not found or does not implement IController."
        )
        return vss_error(404, message, "HttpException", "System.Web.HttpException, System.Web", event_id=0)


class _RequestHandler(BaseHTTPRequestHandler):
    """Feeds requests to :class:`EmulatorApp` and writes its responses."""

    protocol_version = "HTTP/1.1"
    timeout = 60
    server: "EmulatorHTTPServer"

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
        response = self.server.app.handle(self.command, self.path, self.headers, body)
        if response.drop:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.send_response_only(response.status)
        self.send_header("Date", self.date_time_string())
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD" and response.body:
            self.wfile.write(response.body)
        if self.server.verbose:
            self.log_request(response.status, len(response.body))

    do_GET = _serve
    do_HEAD = _serve
    do_POST = _serve
    do_PUT = _serve
    do_PATCH = _serve
    do_DELETE = _serve
    do_OPTIONS = _serve


class EmulatorHTTPServer(ThreadingHTTPServer):
    """Threaded HTTP(S) server bound to 127.0.0.1."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, app: EmulatorApp, context: ssl.SSLContext | None = None,
                 verbose: bool = False) -> None:
        self.app = app
        self.verbose = verbose
        super().__init__(("127.0.0.1", port), _RequestHandler)
        if context is not None:
            self.socket = context.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)
        scheme = "https" if context is not None else "http"
        app.base = f"{scheme}://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, ssl.SSLError, socket.timeout, TimeoutError)):
            return
        super().handle_error(request, client_address)
