"""Location area: ``connectionData``, ``resourceAreas`` and ``OPTIONS _apis``.

No REST spec covers these (see SHAPES.md section 1); shapes follow the
generated clients.

* ``GET {collection}/_apis/connectionData`` - who is calling, instance id,
  deployment type, access mappings. Any valid credential, no scope, no
  api-version needed. Served on every host.
* ``GET {deployment}/_apis/connectionData`` - the same at deployment level
  (URL without the collection segment): ``instanceId == deploymentId``, which
  is how a client notices a missing collection segment.
* ``GET .../_apis/resourceAreas/{areaId}`` - ``{"id","name","locationUrl"}``;
  no authentication. Hosted: Graph, IMS, Tokens, TokenAdmin and Profile live
  on the ``vssps`` host, Packaging on ``feeds``, Release on ``vsrm``,
  everything else on the organisation URL. Onprem: every area is the
  collection URL.
* ``GET .../_apis/resourceAreas`` - the wrapped list.
* ``OPTIONS .../_apis`` - wrapped ``ApiResourceLocation`` list (what the
  generated clients use to negotiate versions).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import apiversion
from ..models import identity_json
from ..wire import Response, json_response, not_found, wrapped

if TYPE_CHECKING:  # pragma: no cover
    from ..routing import RequestContext, Router

CONNECTION_DATA_LOCATION = "00d9565f-ed9c-4a06-9a50-00e7896ccab4"
RESOURCE_AREAS_LOCATION = "e81700f7-3be2-46de-8624-2eb35882fcaa"

# Service owners (service instance types) of the hosted application and of vssps.
TFS_SERVICE_OWNER = "00025394-6065-48ca-87d9-7f5672854ef7"
SPS_SERVICE_OWNER = "951917ac-a960-4999-8464-e3f0aa25b381"

# area id -> (name, hosted host)
AREAS: dict[str, tuple[str, str]] = {
    "79134c72-4a58-4b42-976c-04e7115f32bf": ("core", "app"),
    "4e080c62-fa21-4fbc-8fef-2a10a2b38049": ("git", "app"),
    "5d6898bb-45ec-463f-95f9-54d49c71752e": ("build", "app"),
    "5264459e-e5e0-4bd8-b118-0985e68a4ec5": ("wit", "app"),
    "a85b8835-c1a1-4aac-ae97-1c3d0ba72dbd": ("distributedtask", "app"),
    "1814ab31-2f4f-4a9f-8761-f4d77dc5a5d7": ("serviceendpoint", "app"),
    "bb1e7ec9-e901-4b68-999a-de7012b920f8": ("Graph", "vssps"),
    "8a3d49b8-91f0-46ef-b33d-dda338c25db3": ("IMS", "vssps"),
    "55967393-20ef-45c6-a96c-b5d5d5986a9a": ("Tokens", "vssps"),
    "af68438b-ed04-4407-9eb6-f1dbae3f922e": ("TokenAdmin", "vssps"),
    "8ccfef3d-2b87-4e99-8ccb-66e343d2daa8": ("Profile", "vssps"),
    "7ab4e64e-c4d8-4f50-ae73-5ef2e21642a5": ("Packaging", "feeds"),
    "efc2f575-36ef-48e9-b672-0c6fb4a48ac5": ("Release", "vsrm"),
}


def register_area(area_id: str, name: str, cloud_host: str = "app") -> None:
    """Make a resource area known (for area modules added later)."""
    AREAS[area_id.lower()] = (name, cloud_host)


def _area_url(ctx: "RequestContext", cloud_host: str) -> str:
    if ctx.app.mode == "onprem":
        return ctx.url_for("app")
    if ctx.collection is None:
        account = ctx.q("accountName")
        if account and account.lower() == ctx.state.organization.lower():
            return ctx.app.collection_url(ctx.state.org_collection, cloud_host)
        host_id = ctx.q("hostId")
        if host_id and host_id.lower() == ctx.state.organization_id.lower():
            return ctx.app.collection_url(ctx.state.org_collection, cloud_host)
        return ctx.app.deployment_url(cloud_host)
    return ctx.url_for(cloud_host)


def _area_json(ctx: "RequestContext", area_id: str) -> dict[str, Any]:
    name, cloud_host = AREAS[area_id]
    return {"id": area_id, "name": name, "locationUrl": _area_url(ctx, cloud_host)}


def resource_area(ctx: "RequestContext") -> Response:
    """``GET _apis/resourceAreas/{areaId}``."""
    area_id = ctx.params["area_id"].strip("{}").lower()
    if ctx.collection is None and ctx.app.mode == "hosted":
        account = ctx.q("accountName")
        if account and account.lower() != ctx.state.organization.lower():
            return not_found(f"The organization '{account}' was not found.", "AccountNotFoundException")
    if area_id not in AREAS:
        return not_found(f"The resource area {area_id} was not found.", "ResourceAreaNotFoundException")
    return json_response(_area_json(ctx, area_id))


def resource_areas(ctx: "RequestContext") -> Response:
    """``GET _apis/resourceAreas``."""
    return wrapped([_area_json(ctx, area_id) for area_id in AREAS])


def _location_service_data(ctx: "RequestContext") -> dict[str, Any]:
    owner = SPS_SERVICE_OWNER if ctx.host == "vssps" else TFS_SERVICE_OWNER
    relative = ctx.host_url[len(ctx.base):] if ctx.host_url.startswith(ctx.base) else ""
    return {
        "serviceOwner": owner,
        "defaultAccessMappingMoniker": "PublicAccessMapping",
        "lastChangeId": 1024,
        "lastChangeId64": 1024,
        "clientCacheFresh": False,
        "clientCacheTimeToLive": 3600,
        "accessMappings": [
            {
                "displayName": "Public Access Mapping",
                "moniker": "PublicAccessMapping",
                "accessPoint": ctx.base,
                "serviceOwner": owner,
                "virtualDirectory": relative.strip("/"),
            }
        ],
        "serviceDefinitions": [],
    }


def connection_data(ctx: "RequestContext") -> Response:
    """``GET _apis/connectionData`` (collection or deployment level)."""
    state = ctx.state
    hosted = ctx.app.mode == "hosted"
    deployment_id = state.hosted_deployment_id if hosted else state.onprem_deployment_id
    instance_id = deployment_id if ctx.collection is None else ctx.collection.id
    user = identity_json(ctx.identity, ctx.app)
    relative = ctx.host_url[len(ctx.base):] if ctx.host_url.startswith(ctx.base) else ""
    data = {
        "authenticatedUser": user,
        "authorizedUser": user,
        "instanceId": instance_id,
        "deploymentId": deployment_id,
        "deploymentType": "hosted" if hosted else "onPremises",
        "locationServiceData": _location_service_data(ctx),
        "webApplicationRelativeDirectory": relative.rstrip("/") + "/",
    }
    return json_response(data)


def options_apis(ctx: "RequestContext") -> Response:
    """``OPTIONS _apis``: the ApiResourceLocation list for this host."""
    newest = apiversion.max_version(ctx.app.server_version)
    released = f"{newest[0]}.{newest[1]}"
    locations = []
    seen = set()
    for route in ctx.app.router.routes:
        if route.method == "OPTIONS" or not route.served(ctx.app.mode, ctx.level, ctx.host):
            continue
        if route.location_id in seen:
            continue
        seen.add(route.location_id)
        parts = [p for p in route.template.split("/") if p and not p.startswith("{")]
        area = parts[1] if len(parts) > 1 else "location"
        resource = parts[2] if len(parts) > 2 else area
        locations.append({
            "id": route.location_id,
            "area": area,
            "resourceName": resource,
            "routeTemplate": route.template,
            "resourceVersion": 1,
            "minVersion": "1.0",
            "maxVersion": released,
            "releasedVersion": released,
        })
    return wrapped(locations)


def register(router: "Router") -> None:
    """Register the location routes."""
    for level in ("collection", "deployment"):
        router.add("GET", "_apis/connectionData", connection_data, level=level, cloud_host="*",
                   location_id=CONNECTION_DATA_LOCATION)
        router.add("GET", "_apis/resourceAreas/{area_id}", resource_area, level=level, cloud_host="*",
                   auth=False, location_id=RESOURCE_AREAS_LOCATION)
        router.add("GET", "_apis/resourceAreas", resource_areas, level=level, cloud_host="*", auth=False,
                   location_id=RESOURCE_AREAS_LOCATION)
        router.add("OPTIONS", "_apis", options_apis, level=level, cloud_host="*", auth=False)
