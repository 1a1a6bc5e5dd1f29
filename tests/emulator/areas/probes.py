"""Scope probe routes: small, plausible answers from areas whose only job here
is to tell whether a credential carries a scope.

=============================================  ==========================  ========
route (relative to the collection URL)          scope                       hosted
=============================================  ==========================  ========
``_apis/git/repositories``                      ``vso.code``                app
``{project}/_apis/git/repositories``            ``vso.code``                app
``_apis/build/resourceusage``                   ``vso.build``               app
``_apis/wit/fields``                            ``vso.work``                app
``_apis/packaging/feeds``                       ``vso.packaging``           feeds
``{project}/_apis/release/definitions``         ``vso.release``             vsrm
``{project}/_apis/distributedtask/variablegroups``  ``vso.variablegroups_read``  app
``{project}/_apis/serviceendpoint/endpoints``   ``vso.serviceendpoint``     app
``_apis/distributedtask/pools``                 ``vso.agentpools``          app
=============================================  ==========================  ========
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..state import Collection, Project, stable_uuid
from ..wire import Response, json_response, wrapped

if TYPE_CHECKING:  # pragma: no cover
    from ..routing import RequestContext, Router


def _project_ref(ctx: "RequestContext", project: Project) -> dict[str, Any]:
    return {
        "id": project.id,
        "name": project.name,
        "url": f"{ctx.app.collection_url(ctx.collection)}/_apis/projects/{project.id}",
        "state": "wellFormed",
        "visibility": project.visibility,
    }


def _repository(ctx: "RequestContext", collection: Collection, project: Project) -> dict[str, Any]:
    url = ctx.app.collection_url(collection)
    repo_id = stable_uuid("repository", project.id)
    return {
        "id": repo_id,
        "name": project.name,
        "url": f"{url}/{project.id}/_apis/git/repositories/{repo_id}",
        "project": _project_ref(ctx, project),
        "defaultBranch": "refs/heads/main",
        "size": 4096,
        "remoteUrl": f"{url}/{project.name}/_git/{project.name}",
        "webUrl": f"{url}/{project.name}/_git/{project.name}",
        "isDisabled": False,
    }


def git_repositories(ctx: "RequestContext") -> Response:
    """``GET [{project}/]_apis/git/repositories``."""
    if "project" in ctx.params:
        project, missing = ctx.project_or_404(ctx.params["project"])
        if missing is not None:
            return missing
        projects = [project]
    else:
        projects = ctx.collection.projects
    return wrapped([_repository(ctx, ctx.collection, project) for project in projects])


def build_resource_usage(_ctx: "RequestContext") -> Response:
    """``GET _apis/build/resourceusage``."""
    return json_response({"distributedTaskAgents": 1, "paidPrivateAgentSlots": 0, "totalUsage": 0,
                          "xamlControllers": 0})


def wit_fields(ctx: "RequestContext") -> Response:
    """``GET _apis/wit/fields``."""
    url = ctx.app.collection_url(ctx.collection)
    fields = [
        ("ID", "System.Id", "integer"),
        ("Title", "System.Title", "string"),
        ("State", "System.State", "string"),
        ("Assigned To", "System.AssignedTo", "identity"),
    ]
    return wrapped([
        {"name": name, "referenceName": ref, "type": kind, "readOnly": ref == "System.Id",
         "url": f"{url}/_apis/wit/fields/{ref}"}
        for name, ref, kind in fields
    ])


def packaging_feeds(ctx: "RequestContext") -> Response:
    """``GET _apis/packaging/feeds``."""
    feed_id = stable_uuid("feed", ctx.collection.id)
    return wrapped([{
        "id": feed_id,
        "name": f"{ctx.collection.name}-packages",
        "url": f"{ctx.host_url}/_apis/packaging/feeds/{feed_id}",
        "upstreamEnabled": True,
        "hideDeletedPackageVersions": True,
        "capabilities": "defaultCapabilities",
    }])


def _project_scoped(ctx: "RequestContext") -> tuple[Project | None, Response | None]:
    return ctx.project_or_404(ctx.params["project"])


def release_definitions(ctx: "RequestContext") -> Response:
    """``GET {project}/_apis/release/definitions``."""
    project, missing = _project_scoped(ctx)
    if missing is not None:
        return missing
    return wrapped([{
        "id": 1,
        "name": f"{project.name} release",
        "path": "\\",
        "revision": 3,
        "url": f"{ctx.host_url}/{project.id}/_apis/Release/definitions/1",
    }])


def variable_groups(ctx: "RequestContext") -> Response:
    """``GET {project}/_apis/distributedtask/variablegroups``."""
    project, missing = _project_scoped(ctx)
    if missing is not None:
        return missing
    return wrapped([{
        "id": 1,
        "name": "shared-settings",
        "type": "Vsts",
        "description": "",
        "isShared": False,
        "variables": {"environment": {"value": "test"}, "apiKey": {"isSecret": True, "value": None}},
        "variableGroupProjectReferences": [
            {"name": "shared-settings", "projectReference": {"id": project.id, "name": project.name}}
        ],
    }])


def service_endpoints(ctx: "RequestContext") -> Response:
    """``GET {project}/_apis/serviceendpoint/endpoints``."""
    project, missing = _project_scoped(ctx)
    if missing is not None:
        return missing
    endpoint_id = stable_uuid("endpoint", project.id)
    return wrapped([{
        "id": endpoint_id,
        "name": "deploy-connection",
        "type": "azurerm",
        "url": ctx.base,
        "authorization": {"scheme": "WorkloadIdentityFederation", "parameters": {}},
        "isShared": False,
        "isReady": True,
        "owner": "Library",
        "serviceEndpointProjectReferences": [
            {"name": "deploy-connection", "projectReference": {"id": project.id, "name": project.name}}
        ],
    }])


def agent_pools(ctx: "RequestContext") -> Response:
    """``GET _apis/distributedtask/pools``."""
    pools = [{"id": 1, "name": "Default", "isHosted": False, "poolType": "automation", "size": 1}]
    if ctx.app.mode == "hosted":
        pools.append({"id": 9, "name": "Azure Pipelines", "isHosted": True, "poolType": "automation", "size": 0})
    return wrapped(pools)


def register(router: "Router") -> None:
    """Register the probe routes."""
    router.add("GET", "_apis/git/repositories", git_repositories, scope="vso.code")
    router.add("GET", "{project}/_apis/git/repositories", git_repositories, scope="vso.code")
    router.add("GET", "_apis/build/resourceusage", build_resource_usage, scope="vso.build")
    router.add("GET", "_apis/wit/fields", wit_fields, scope="vso.work")
    router.add("GET", "_apis/packaging/feeds", packaging_feeds, scope="vso.packaging", cloud_host="feeds")
    router.add("GET", "{project}/_apis/release/definitions", release_definitions, scope="vso.release",
               cloud_host="vsrm")
    router.add("GET", "{project}/_apis/distributedtask/variablegroups", variable_groups,
               scope="vso.variablegroups_read")
    router.add("GET", "{project}/_apis/serviceendpoint/endpoints", service_endpoints,
               scope="vso.serviceendpoint")
    router.add("GET", "_apis/distributedtask/pools", agent_pools, scope="vso.agentpools")
