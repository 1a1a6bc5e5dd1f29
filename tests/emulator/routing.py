"""A small router and the request context handlers receive.

Routes are declared by the area modules (``tests/emulator/areas``) with a
template relative to a *host URL*:

* ``level="collection"`` (default): relative to the collection URL
  (hosted ``{base}/{org}`` or a cloud host prefix ``{base}/_hosts/{host}/{org}``;
  onprem ``{base}/{vdir}/{Collection}``).
* ``level="deployment"``: relative to the deployment root (hosted ``{base}``,
  onprem ``{base}/{vdir}``), i.e. a URL without the collection segment.

``cloud_host`` names the hosted host that serves the route (``app`` = the
organisation URL, ``vssps``, ``feeds``, ``vsrm``, ... or ``*`` for all); on
premises every route is served by the collection. ``hosted``/``onprem``
switch a route off in one mode.

Raw routes (:meth:`Router.add_raw`) match the absolute path before any host
resolution or authentication; they are for endpoints that are not part of the
Azure DevOps application (token endpoints of identity providers).
"""

from __future__ import annotations

import json
import re
import urllib.parse
from dataclasses import dataclass, field
from email.message import Message
from typing import TYPE_CHECKING, Any, Callable

from .state import Collection, Project, stable_uuid
from .wire import Response, bad_request, not_found

if TYPE_CHECKING:  # pragma: no cover
    from .auth import AuthResult
    from .server import EmulatorApp

Handler = Callable[["RequestContext"], Response]

_PARAM_RE = re.compile(r"\{(\w+)\}")


def compile_template(template: str) -> re.Pattern[str]:
    """Turn ``_apis/projects/{project}`` into a case-insensitive regex with named groups."""
    parts = []
    position = 0
    for match in _PARAM_RE.finditer(template):
        parts.append(re.escape(template[position:match.start()]))
        parts.append(f"(?P<{match.group(1)}>[^/]+)")
        position = match.end()
    parts.append(re.escape(template[position:]))
    return re.compile("^" + "".join(parts) + "$", re.IGNORECASE)


@dataclass
class Route:
    """One API route."""

    method: str
    template: str
    handler: Handler
    scope: str | None = None
    auth: bool = True
    level: str = "collection"
    cloud_host: str = "app"
    hosted: bool = True
    onprem: bool = True
    version_required: bool = True
    location_id: str = ""
    pattern: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        self.method = self.method.upper()
        self.template = self.template.strip("/")
        self.pattern = compile_template(self.template)
        if not self.location_id:
            self.location_id = stable_uuid("location", self.method, self.template.lower())

    def served(self, mode: str, level: str, host: str) -> bool:
        """True when this route answers on the given mode / level / host."""
        if self.level != level:
            return False
        if mode == "hosted":
            return self.hosted and self.cloud_host in ("*", host)
        return self.onprem


@dataclass
class RawRoute:
    """A route matched against the absolute path (no host, auth or version handling)."""

    method: str
    pattern: re.Pattern[str]
    handler: Handler


class Router:
    """Routes by method, level, host and path."""

    def __init__(self) -> None:
        self.routes: list[Route] = []
        self.raw_routes: list[RawRoute] = []
        self.cloud_hosts: set[str] = set()

    def add(self, method: str, template: str, handler: Handler, **options: Any) -> Route:
        """Register a route; see :class:`Route` for the options."""
        route = Route(method, template, handler, **options)
        self.routes.append(route)
        if route.cloud_host not in ("app", "*"):
            self.cloud_hosts.add(route.cloud_host)
        return route

    def add_raw(self, method: str, regex: str, handler: Handler) -> RawRoute:
        """Register a raw route (regex on the absolute path, case-insensitive)."""
        route = RawRoute(method.upper(), re.compile(regex, re.IGNORECASE), handler)
        self.raw_routes.append(route)
        return route

    def add_cloud_host(self, name: str) -> None:
        """Declare a hosted host prefix (``/_hosts/{name}/{org}``) even without routes yet."""
        self.cloud_hosts.add(name)

    def match_raw(self, method: str, path: str) -> tuple[RawRoute, dict[str, str]] | None:
        """Find a raw route for an absolute path."""
        for route in self.raw_routes:
            if route.method in (method, "*"):
                match = route.pattern.match(path)
                if match:
                    return route, {k: urllib.parse.unquote(v) for k, v in match.groupdict().items() if v}
        return None

    def match(self, method: str, mode: str, level: str, host: str,
              rel_path: str) -> tuple[Route | None, dict[str, str], list[Route]]:
        """Return (route, params, other) for a relative path.

        ``other`` lists routes with the same path served elsewhere (another
        method or another host) so the caller can answer 405 / 404 precisely.
        """
        rel = rel_path.strip("/")
        others: list[Route] = []
        for route in self.routes:
            match = route.pattern.match(rel)
            if not match:
                continue
            if route.method == method and route.served(mode, level, host):
                params = {k: urllib.parse.unquote(v) for k, v in match.groupdict().items()}
                return route, params, others
            if route.level == level:
                others.append(route)
        return None, {}, others


@dataclass
class RequestContext:
    """Everything a route handler needs about one request."""

    app: "EmulatorApp"
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Message
    body: bytes
    level: str = ""  # "", "raw", "deployment" or "collection"
    host: str = "app"
    collection: Collection | None = None
    host_url: str = ""
    rel_path: str = ""
    params: dict[str, str] = field(default_factory=dict)
    auth: "AuthResult | None" = None
    api_version: str | None = None
    route: Route | None = None

    # -- convenience ------------------------------------------------------

    @property
    def state(self):
        """The emulator :class:`~tests.emulator.state.State`."""
        return self.app.state

    @property
    def mode(self) -> str:
        """``hosted`` or ``onprem``."""
        return self.app.mode

    @property
    def base(self) -> str:
        """``http(s)://127.0.0.1:<port>``."""
        return self.app.base

    @property
    def identity(self):
        """The authenticated identity, or None."""
        return self.auth.identity if self.auth else None

    def q(self, name: str, default: str | None = None) -> str | None:
        """First value of a query parameter (name matched case-insensitively)."""
        lowered = name.lower()
        for key, values in self.query.items():
            if key.lower() == lowered and values:
                return values[0]
        return default

    def q_int(self, name: str, default: int | None = None) -> int | None:
        """Integer query parameter; raises ValueError on garbage."""
        value = self.q(name)
        if value is None or value == "":
            return default
        return int(value)

    def json(self) -> Any:
        """The request body parsed as JSON (None when empty)."""
        if not self.body:
            return None
        return json.loads(self.body.decode("utf-8-sig"))

    def url_for(self, host: str = "app") -> str:
        """URL of this collection on another host (hosted) or the collection URL (onprem)."""
        if self.collection is None:
            return self.app.deployment_url(host)
        return self.app.collection_url(self.collection, host)

    def project_or_404(self, name_or_id: str) -> tuple[Project | None, Response | None]:
        """Look a project up; return (project, None) or (None, 404 response)."""
        project = self.collection.project(name_or_id) if self.collection else None
        if project is None:
            return None, project_not_found(name_or_id)
        return project, None


def project_not_found(name: str) -> Response:
    """404 TF200016 for a missing project."""
    message = (
        f"TF200016: The following project does not exist: {name}. Verify that the name of the project is "
        "correct and that the project exists on the specified Azure DevOps Server."
    )
    return not_found(
        message, "ProjectDoesNotExistWithNameException",
        "Microsoft.TeamFoundation.Core.WebApi.ProjectDoesNotExistWithNameException, "
        "Microsoft.TeamFoundation.Core.WebApi",
    )


def invalid_query(name: str, value: str | None) -> Response:
    """400 for a query parameter that does not parse."""
    return bad_request(f"The value '{value}' is not valid for {name}.", "InvalidArgumentValueException",
                       "Microsoft.TeamFoundation.Core.WebApi.InvalidArgumentValueException, "
                       "Microsoft.TeamFoundation.Core.WebApi")
