"""Core area: team projects (scope ``vso.project``).

* ``GET _apis/projects`` - wrapped ``TeamProjectReference`` list; ``$top``,
  ``$skip`` and ``continuationToken`` (the next skip, also returned in the
  ``x-ms-continuationtoken`` header when a page is cut).
* ``GET _apis/projects/{projectId}`` - ``TeamProject`` by name
  (case-insensitive) or id; a missing project is 404 TF200016.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..models import project_reference
from ..routing import invalid_query
from ..state import stable_uuid
from ..wire import Response, json_response, wrapped

if TYPE_CHECKING:  # pragma: no cover
    from ..routing import RequestContext, Router


def list_projects(ctx: "RequestContext") -> Response:
    """``GET _apis/projects``."""
    projects = ctx.collection.projects
    values = {}
    for name in ("$top", "$skip", "continuationToken"):
        try:
            values[name] = ctx.q_int(name)
        except ValueError:
            return invalid_query(name, ctx.q(name))
        if values[name] is not None and values[name] < 0:
            return invalid_query(name, ctx.q(name))
    skip = values["$skip"] or values["continuationToken"] or 0
    top = values["$top"] if values["$top"] is not None else 100
    page = projects[skip:skip + top]
    headers = []
    if skip + top < len(projects):
        headers.append(("x-ms-continuationtoken", str(skip + top)))
    items = [project_reference(project, ctx.collection, ctx.app) for project in page]
    return wrapped(items, headers=headers)


def get_project(ctx: "RequestContext") -> Response:
    """``GET _apis/projects/{projectId}``."""
    project, missing = ctx.project_or_404(ctx.params["project_id"])
    if missing is not None:
        return missing
    collection_url = ctx.app.collection_url(ctx.collection)
    body = project_reference(project, ctx.collection, ctx.app)
    body["_links"] = {
        "self": {"href": body["url"]},
        "collection": {"href": f"{collection_url}/_apis/projectCollections/{ctx.collection.id}"},
        "web": {"href": f"{collection_url}/{project.name}"},
    }
    team_id = stable_uuid("team", project.id)
    body["defaultTeam"] = {
        "id": team_id,
        "name": f"{project.name} Team",
        "url": f"{collection_url}/_apis/projects/{project.id}/teams/{team_id}",
    }
    if (ctx.q("includeCapabilities") or "").lower() == "true":
        body["capabilities"] = {
            "versioncontrol": {"sourceControlType": "Git", "gitEnabled": "True", "tfvcEnabled": "False"},
            "processTemplate": {"templateName": project.process},
        }
    return json_response(body)


def register(router: "Router") -> None:
    """Register the core routes."""
    router.add("GET", "_apis/projects", list_projects, scope="vso.project")
    router.add("GET", "_apis/projects/{project_id}", get_project, scope="vso.project")
