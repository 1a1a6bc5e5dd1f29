"""Graph area (hosted only, on the ``vssps`` host): users, groups, memberships and friends.

Shapes follow SHAPES.md sections 2-4 (graph 7.1 spec and its examples):

=================================================  ===========================  =================
route (relative to the organisation on vssps)      what                         scope
=================================================  ===========================  =================
``GET _apis/graph/groups``                          paged group list             ``vso.graph``
``GET _apis/graph/groups/{descriptor}``             one group                    ``vso.graph``
``GET _apis/graph/users``                           paged user list              ``vso.graph``
``GET _apis/graph/users/{descriptor}``              one user                     ``vso.graph``
``POST _apis/graph/users?groupDescriptors=``        materialise a tenant user    ``vso.graph_manage``
``GET _apis/graph/serviceprincipals[/{d}]``         service principals (paged)   ``vso.graph``
``GET _apis/graph/Memberships/{subject}``           ``direction=up|down``        ``vso.graph``
``GET|HEAD _apis/graph/memberships/{s}/{c}``        200 membership / 404         ``vso.graph``
``PUT _apis/graph/memberships/{s}/{c}``             add (201)                    ``vso.graph_manage``
``DELETE _apis/graph/memberships/{s}/{c}``          remove (200; 404 if none)    ``vso.graph_manage``
``GET _apis/graph/membershipstates/{subject}``      ``{"active": true}``         ``vso.graph``
``GET _apis/graph/descriptors/{storageKey}``        descriptor of an id          ``vso.graph``
``GET _apis/graph/storagekeys/{descriptor}``        id of a descriptor           ``vso.graph``
``POST _apis/graph/subjectlookup``                  descriptors -> subjects map  ``vso.graph``
``POST _apis/graph/subjectquery``                   prefix search, max 100       ``vso.graph``
=================================================  ===========================  =================

Lists are wrapped ``{"count", "value"}``; the user, group and service principal
lists page through the ``X-MS-ContinuationToken`` response header (request
parameter ``continuationToken``; the last page has no header). The live
service has no documented page size (about 500 is reported for users); the
emulator uses ``graph_page_size`` from the fixture, default 500. Membership
lists are not paged (the generated clients read them as plain lists).

Users of the organisation are the identities that are in a group of it; a
tenant identity that is not (TF400813) can still be added by descriptor or
materialised with ``POST users``, which makes it a member: authentication
follows group membership (``State.sync_collection_membership``).

Changing a membership needs Project Collection Administrators (or, for a
project group, that project's Project Administrators): otherwise 403
``AccessCheckException``, as the service answers a caller without the
"Manage membership" permission.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from ..models import (GROUP_PREFIXES, USER_PREFIXES, b64url_decode, group_subject_descriptor, scope_descriptor,
                      split_subject_descriptor, subject_descriptor)
from ..wire import Response, bad_request, json_response, not_found, vss_error, wrapped

if TYPE_CHECKING:  # pragma: no cover
    from ..routing import RequestContext, Router
    from ..state import Directory, Group, Identity

GROUPS_LOCATION = "ebbe6af8-0b91-4c13-8cf1-777c14858188"
MEMBERSHIPS_LOCATION = "3fd2e6ca-fb30-443a-b579-95b19ed0934c"
MEMBERSHIPS_LIST_LOCATION = "e34b6394-6b30-4435-94a9-409a5eef3e31"
USERS_LOCATION = "005e26ec-6b77-4e4f-a986-b3827bf241f5"
STORAGE_KEYS_LOCATION = "eb85f8cc-f0f6-4264-a5b1-ffe2e4d4801f"
SUBJECT_LOOKUP_LOCATION = "4dd4d168-11f2-48c4-83e8-756fa0de027c"
MEMBERSHIP_STATES_LOCATION = "1ffe5c94-1144-4191-907b-d0211cad36a8"

DEFAULT_PAGE_SIZE = 500
SUBJECT_QUERY_LIMIT = 100
_GRAPH = "Microsoft.VisualStudio.Services.Graph"


# -- helpers --------------------------------------------------------------


def _directory(ctx: "RequestContext") -> "Directory":
    return ctx.state.directory_for(ctx.collection)


def _graph_base(ctx: "RequestContext") -> str:
    return f"{ctx.url_for('vssps')}/_apis/Graph"


def _links(ctx: "RequestContext", kind: str, descriptor: str, avatar: bool = False) -> dict[str, Any]:
    base = _graph_base(ctx)
    links = {
        "self": {"href": f"{base}/{kind}/{descriptor}"},
        "memberships": {"href": f"{base}/Memberships/{descriptor}"},
        "membershipState": {"href": f"{base}/MembershipStates/{descriptor}"},
        "storageKey": {"href": f"{base}/StorageKeys/{descriptor}"},
    }
    if avatar:
        links["avatar"] = {"href": f"{ctx.url_for('app')}/_apis/GraphProfile/MemberAvatars/{descriptor}"}
    return links


def user_json(ctx: "RequestContext", identity: "Identity") -> dict[str, Any]:
    """A GraphUser (or GraphServicePrincipal)."""
    descriptor = subject_descriptor(identity, ctx.app)
    if identity.is_service_principal:
        body = {
            "subjectKind": "servicePrincipal",
            "applicationId": identity.app_id,
            "domain": ctx.state.tenant_id,
            "principalName": identity.app_id,
            "mailAddress": "",
            "origin": "aad",
            "originId": identity.id,
            "displayName": identity.display_name,
            "_links": _links(ctx, "ServicePrincipals", descriptor),
            "url": f"{_graph_base(ctx)}/ServicePrincipals/{descriptor}",
            "descriptor": descriptor,
        }
        return body
    return {
        "subjectKind": "user",
        "metaType": "member",
        "directoryAlias": identity.unique_name.split("@", 1)[0],
        "domain": ctx.state.tenant_id,
        "principalName": identity.unique_name,
        "mailAddress": identity.unique_name,
        "origin": "aad",
        "originId": identity.id,
        "displayName": identity.display_name,
        "_links": _links(ctx, "Users", descriptor, avatar=True),
        "url": f"{_graph_base(ctx)}/Users/{descriptor}",
        "descriptor": descriptor,
    }


def group_json(ctx: "RequestContext", group: "Group") -> dict[str, Any]:
    """A GraphGroup."""
    descriptor = group_subject_descriptor(group)
    return {
        "subjectKind": "group",
        "description": group.description,
        "domain": group.domain,
        "principalName": group.principal_name,
        "mailAddress": None,
        "origin": "vsts",
        "originId": group.id,
        "displayName": group.name,
        "_links": _links(ctx, "Groups", descriptor),
        "url": f"{_graph_base(ctx)}/Groups/{descriptor}",
        "descriptor": descriptor,
    }


def subject_json(ctx: "RequestContext", subject: Any) -> dict[str, Any]:
    """User, service principal or group JSON."""
    if hasattr(subject, "sid"):
        return group_json(ctx, subject)
    return user_json(ctx, subject)


def _in_org(ctx: "RequestContext", identity: "Identity") -> bool:
    return not identity.service_principal_not_in_org and identity.member_of(ctx.collection.name)


def resolve_subject(ctx: "RequestContext", descriptor: str, tenant: bool = False) -> Any:
    """The Group or Identity behind a Graph descriptor, or None.

    Users must be in the organisation unless ``tenant`` (a tenant identity that
    can be added to a group by descriptor).
    """
    prefix, payload = split_subject_descriptor(descriptor)
    if prefix in GROUP_PREFIXES:
        return _directory(ctx).group_by_sid(payload)
    if prefix in USER_PREFIXES:
        identity = ctx.state.find_identity(payload)
        if identity is None or subject_descriptor(identity, ctx.app) != descriptor.strip():
            return None
        if identity.service_principal_not_in_org or not (tenant or _in_org(ctx, identity)):
            return None
        return identity
    return None


def _subject_id(subject: Any) -> str:
    return subject.id.lower()


def _subject_not_found(descriptor: str) -> Response:
    return not_found(f"The subject with descriptor '{descriptor}' could not be found.",
                     "GraphSubjectNotFoundException", f"{_GRAPH}.GraphSubjectNotFoundException, {_GRAPH}")


def _page(ctx: "RequestContext", items: list[Any]) -> Response:
    """One page of a list, with ``X-MS-ContinuationToken`` when more follow."""
    size = int(ctx.state.raw.get("graph_page_size") or DEFAULT_PAGE_SIZE)
    token = ctx.q("continuationToken")
    start = 0
    if token:
        decoded = b64url_decode(token) or ""
        if not decoded.startswith("offset:") or not decoded[7:].isdigit():
            return bad_request("The continuation token is not valid.", "InvalidContinuationTokenException")
        start = int(decoded[7:])
    page = items[start:start + size]
    headers = []
    if start + size < len(items):
        next_token = base64.urlsafe_b64encode(f"offset:{start + size}".encode()).decode().rstrip("=")
        headers.append(("X-MS-ContinuationToken", next_token))
    return wrapped([subject_json(ctx, item) for item in page], headers=headers)


def _org_identities(ctx: "RequestContext", service_principals: bool) -> list["Identity"]:
    return [ident for ident in ctx.state.identities.values()
            if ident.is_service_principal == service_principals and _in_org(ctx, ident)]


def _prefixes(ctx: "RequestContext") -> set[str] | None:
    value = ctx.q("subjectTypes")
    if not value:
        return None
    return {part.strip().lower() for part in value.split(",") if part.strip()}


def may_manage(ctx: "RequestContext", group: "Group") -> bool:
    """Project Collection Administrators (or the project's Project Administrators) manage a group."""
    directory = _directory(ctx)
    caller = ctx.identity
    if caller is None:
        return False
    if directory.is_member(caller.id, directory.administrators):
        return True
    if group.project is not None:
        admins = directory.builtin("Project Administrators", group.project)
        return admins is not None and directory.is_member(caller.id, admins)
    return False


def access_denied(ctx: "RequestContext", group: "Group") -> Response:
    """403 AccessCheckException: the caller may not manage the group's membership."""
    who = ctx.identity.display_name if ctx.identity else "The caller"
    message = (f"Access Denied: {who} needs the following permission(s) on the resource {group.principal_name} "
               "to perform this action: Manage membership")
    return vss_error(403, message, "AccessCheckException",
                     "Microsoft.VisualStudio.Services.Security.AccessCheckException, "
                     "Microsoft.VisualStudio.Services.WebApi")


def _membership_json(ctx: "RequestContext", member: Any, container: "Group") -> dict[str, Any]:
    base = _graph_base(ctx)
    member_d = subject_json(ctx, member)["descriptor"]
    container_d = group_subject_descriptor(container)
    member_kind = "Groups" if hasattr(member, "sid") else "Users"
    return {
        "containerDescriptor": container_d,
        "memberDescriptor": member_d,
        "_links": {
            "self": {"href": f"{base}/Memberships/{member_d}/{container_d}"},
            "member": {"href": f"{base}/{member_kind}/{member_d}"},
            "container": {"href": f"{base}/Groups/{container_d}"},
        },
    }


# -- handlers -------------------------------------------------------------


def list_groups(ctx: "RequestContext") -> Response:
    """``GET _apis/graph/groups`` (``scopeDescriptor``, ``subjectTypes``, ``continuationToken``)."""
    groups = list(_directory(ctx).groups.values())
    scope = ctx.q("scopeDescriptor")
    if scope:
        prefix, scope_id = split_subject_descriptor(scope)
        if prefix != "scp" or not scope_id:
            return bad_request(f"Invalid scope descriptor: {scope}", "InvalidSubjectTypeException")
        if scope_id.lower() == ctx.collection.id.lower():
            groups = [g for g in groups if g.collection_level]
        else:
            groups = [g for g in groups if g.project is not None and g.project.id.lower() == scope_id.lower()]
    prefixes = _prefixes(ctx)
    if prefixes is not None:
        groups = [g for g in groups if "vssgp" in prefixes]
    return _page(ctx, groups)


def get_group(ctx: "RequestContext") -> Response:
    """``GET _apis/graph/groups/{descriptor}``."""
    group = resolve_subject(ctx, ctx.params["descriptor"])
    if group is None or not hasattr(group, "sid"):
        return _subject_not_found(ctx.params["descriptor"])
    return json_response(group_json(ctx, group))


def list_users(ctx: "RequestContext") -> Response:
    """``GET _apis/graph/users`` (``subjectTypes`` such as ``aad,msa``; paged)."""
    users = _org_identities(ctx, service_principals=False)
    prefixes = _prefixes(ctx)
    if prefixes is not None:
        users = [u for u in users if subject_descriptor(u, ctx.app).split(".", 1)[0] in prefixes]
    return _page(ctx, users)


def get_user(ctx: "RequestContext") -> Response:
    """``GET _apis/graph/users/{descriptor}``."""
    user = resolve_subject(ctx, ctx.params["descriptor"])
    if user is None or hasattr(user, "sid") or user.is_service_principal:
        return _subject_not_found(ctx.params["descriptor"])
    return json_response(user_json(ctx, user))


def create_user(ctx: "RequestContext") -> Response:
    """``POST _apis/graph/users?groupDescriptors=``: bring a tenant user into the organisation."""
    try:
        body = ctx.json() or {}
    except ValueError:
        return bad_request("The request body is not valid JSON.")
    directory = _directory(ctx)
    groups = []
    for descriptor in (ctx.q("groupDescriptors") or "").split(","):
        if descriptor.strip():
            group = resolve_subject(ctx, descriptor.strip())
            if group is None or not hasattr(group, "sid"):
                return _subject_not_found(descriptor.strip())
            groups.append(group)
    principal = str(body.get("principalName") or "").strip()
    origin_id = str(body.get("originId") or "").strip()
    if not principal and not origin_id:
        return bad_request("Either principalName or originId must be specified.", "InvalidGraphRequestException")
    identity = (ctx.state.identity_by_unique_name(principal) if principal else ctx.state.find_identity(origin_id))
    if identity is None or identity.is_service_principal or identity.service_principal_not_in_org:
        wanted = principal or origin_id
        return not_found(f"The user '{wanted}' was not found in the directory of this organization.",
                         "GraphSubjectNotFoundException", f"{_GRAPH}.GraphSubjectNotFoundException, {_GRAPH}")
    for group in groups or [directory.valid_users]:
        if not may_manage(ctx, group):
            return access_denied(ctx, group)
    with ctx.state.lock:
        for group in groups or [directory.valid_users]:
            directory.add_member(group, identity.id)
        ctx.state.sync_collection_membership(ctx.collection)
    body = user_json(ctx, identity)
    return json_response(body, 201, headers=[("Location", body["url"])])


def list_service_principals(ctx: "RequestContext") -> Response:
    """``GET _apis/graph/serviceprincipals`` (paged)."""
    return _page(ctx, _org_identities(ctx, service_principals=True))


def get_service_principal(ctx: "RequestContext") -> Response:
    """``GET _apis/graph/serviceprincipals/{descriptor}``."""
    principal = resolve_subject(ctx, ctx.params["descriptor"])
    if principal is None or hasattr(principal, "sid") or not principal.is_service_principal:
        return _subject_not_found(ctx.params["descriptor"])
    return json_response(user_json(ctx, principal))


def list_memberships(ctx: "RequestContext") -> Response:
    """``GET _apis/graph/Memberships/{subject}?direction=up|down&depth=1``."""
    descriptor = ctx.params["subject"]
    # A descriptor stays valid after its last group membership is gone: a tenant user simply has none.
    subject = resolve_subject(ctx, descriptor, tenant=True)
    if subject is None:
        return _subject_not_found(descriptor)
    direction = (ctx.q("direction") or "up").strip().lower()
    if direction not in ("up", "down", "unknown"):
        return bad_request(f"The value '{direction}' is not valid for direction.")
    directory = _directory(ctx)
    values = []
    if direction == "down":
        if hasattr(subject, "sid"):
            for member_id in subject.members:
                member = directory.group(member_id) or ctx.state.find_identity(member_id)
                if member is not None:
                    values.append(_membership_json(ctx, member, subject))
    else:
        for group in directory.parents(_subject_id(subject)):
            values.append(_membership_json(ctx, subject, group))
    for value in values:
        value.pop("_links", None)
    return wrapped(values)


def _pair(ctx: "RequestContext", tenant: bool = False) -> tuple[Any, Any, Response | None]:
    member = resolve_subject(ctx, ctx.params["subject"], tenant=tenant)
    if member is None:
        return None, None, _subject_not_found(ctx.params["subject"])
    container = resolve_subject(ctx, ctx.params["container"])
    if container is None or not hasattr(container, "sid"):
        return None, None, _subject_not_found(ctx.params["container"])
    return member, container, None


def _membership_not_found(ctx: "RequestContext") -> Response:
    return not_found(f"The membership of '{ctx.params['subject']}' in '{ctx.params['container']}' "
                     "does not exist.", "GraphMembershipNotFoundException",
                     f"{_GRAPH}.GraphMembershipNotFoundException, {_GRAPH}")


def get_membership(ctx: "RequestContext") -> Response:
    """``GET|HEAD _apis/graph/memberships/{subject}/{container}``: 200 or 404."""
    member, container, error = _pair(ctx, tenant=True)
    if error is not None:
        return error
    if _subject_id(member) not in container.members:
        return _membership_not_found(ctx)
    return json_response(_membership_json(ctx, member, container))


def add_membership(ctx: "RequestContext") -> Response:
    """``PUT _apis/graph/memberships/{subject}/{container}`` -> 201."""
    member, container, error = _pair(ctx, tenant=True)
    if error is not None:
        return error
    directory = _directory(ctx)
    if hasattr(member, "sid") and (member is container or _subject_id(container) in directory.descendants(member)):
        return bad_request(f"Adding {member.principal_name} to {container.principal_name} would create a cycle.",
                           "GraphBadRequestException")
    if not may_manage(ctx, container):
        return access_denied(ctx, container)
    with ctx.state.lock:
        directory.add_member(container, _subject_id(member))
        ctx.state.sync_collection_membership(ctx.collection)
    return json_response(_membership_json(ctx, member, container), 201)


def remove_membership(ctx: "RequestContext") -> Response:
    """``DELETE _apis/graph/memberships/{subject}/{container}`` -> 200 (404 when not a member)."""
    member, container, error = _pair(ctx)
    if error is not None:
        return error
    if not may_manage(ctx, container):
        return access_denied(ctx, container)
    directory = _directory(ctx)
    with ctx.state.lock:
        if not directory.remove_member(container, _subject_id(member)):
            return _membership_not_found(ctx)
        ctx.state.sync_collection_membership(ctx.collection)
    return Response(200)


def membership_state(ctx: "RequestContext") -> Response:
    """``GET _apis/graph/membershipstates/{subject}``."""
    descriptor = ctx.params["subject"]
    subject = resolve_subject(ctx, descriptor)
    if subject is None:
        return _subject_not_found(descriptor)
    base = _graph_base(ctx)
    kind = "Groups" if hasattr(subject, "sid") else "Users"
    return json_response({"active": True, "_links": {
        "self": {"href": f"{base}/MembershipStates/{descriptor}"},
        "member": {"href": f"{base}/{kind}/{descriptor}"}}})


def get_descriptor(ctx: "RequestContext") -> Response:
    """``GET _apis/graph/descriptors/{storageKey}``: user, group or scope id -> descriptor."""
    key = ctx.params["storage_key"].strip().lower()
    directory = _directory(ctx)
    descriptor = None
    identity = ctx.state.find_identity(key)
    if identity is not None and _in_org(ctx, identity):
        descriptor = subject_descriptor(identity, ctx.app)
    elif directory.group(key) is not None:
        descriptor = group_subject_descriptor(directory.group(key))
    elif key == ctx.collection.id.lower() or any(p.id.lower() == key for p in ctx.collection.projects):
        descriptor = scope_descriptor(key)
    if descriptor is None:
        return not_found(f"The storage key '{key}' could not be resolved to a descriptor.",
                         "StorageKeyNotFoundException", f"{_GRAPH}.StorageKeyNotFoundException, {_GRAPH}")
    base = _graph_base(ctx)
    return json_response({"value": descriptor, "_links": {
        "self": {"href": f"{base}/Descriptors/{key}"},
        "storageKey": {"href": f"{base}/StorageKeys/{descriptor}"},
        "subject": {"href": f"{base}/Users/{descriptor}"}}})


def get_storage_key(ctx: "RequestContext") -> Response:
    """``GET _apis/graph/storagekeys/{descriptor}``: descriptor -> id."""
    descriptor = ctx.params["descriptor"]
    prefix, payload = split_subject_descriptor(descriptor)
    value = None
    if prefix == "scp" and payload:
        value = payload
    else:
        subject = resolve_subject(ctx, descriptor)
        value = subject.id if subject is not None else None
    if value is None:
        return _subject_not_found(descriptor)
    base = _graph_base(ctx)
    return json_response({"value": value, "_links": {
        "self": {"href": f"{base}/StorageKeys/{descriptor}"},
        "descriptor": {"href": f"{base}/Descriptors/{value}"}}})


def lookup_subjects(ctx: "RequestContext") -> Response:
    """``POST _apis/graph/subjectlookup``: ``{"count", "value": {descriptor: subject}}`` (unknown ones left out)."""
    try:
        body = ctx.json() or {}
    except ValueError:
        return bad_request("The request body is not valid JSON.")
    keys = body.get("lookupKeys")
    if not isinstance(keys, list):
        return bad_request("lookupKeys is required.", "InvalidGraphRequestException")
    found = {}
    for entry in keys:
        descriptor = str((entry or {}).get("descriptor") or "")
        subject = resolve_subject(ctx, descriptor) if descriptor else None
        if subject is not None:
            found[descriptor] = subject_json(ctx, subject)
    return json_response({"count": len(found), "value": found})


def query_subjects(ctx: "RequestContext") -> Response:
    """``POST _apis/graph/subjectquery``: prefix search on names, at most 100 subjects."""
    try:
        body = ctx.json() or {}
    except ValueError:
        return bad_request("The request body is not valid JSON.")
    query = str(body.get("query") or "").strip().lower()
    if not query:
        return bad_request("The query must not be empty.", "InvalidGraphRequestException")
    kinds = {str(k).strip().lower() for k in body.get("subjectKind") or ["user", "group"]}
    candidates: list[Any] = []
    if "user" in kinds:
        candidates += _org_identities(ctx, service_principals=False)
    if "serviceprincipal" in kinds:
        candidates += _org_identities(ctx, service_principals=True)
    if "group" in kinds:
        candidates += list(_directory(ctx).groups.values())
    found = []
    for subject in candidates:
        data = subject_json(ctx, subject)
        names = (data.get("displayName"), data.get("principalName"), data.get("mailAddress"))
        if any(name and name.lower().startswith(query) for name in names):
            found.append(data)
            if len(found) >= SUBJECT_QUERY_LIMIT:
                break
    return wrapped(found)


def register(router: "Router") -> None:
    """Register the Graph routes (hosted, vssps host)."""
    read = {"scope": "vso.graph", "cloud_host": "vssps", "onprem": False}
    write = {"scope": "vso.graph_manage", "cloud_host": "vssps", "onprem": False}
    router.add("GET", "_apis/graph/groups", list_groups, location_id=GROUPS_LOCATION, **read)
    router.add("GET", "_apis/graph/groups/{descriptor}", get_group, location_id=GROUPS_LOCATION, **read)
    router.add("GET", "_apis/graph/users", list_users, location_id=USERS_LOCATION, **read)
    router.add("POST", "_apis/graph/users", create_user, location_id=USERS_LOCATION, **write)
    router.add("GET", "_apis/graph/users/{descriptor}", get_user, location_id=USERS_LOCATION, **read)
    router.add("GET", "_apis/graph/serviceprincipals", list_service_principals, **read)
    router.add("GET", "_apis/graph/serviceprincipals/{descriptor}", get_service_principal, **read)
    router.add("GET", "_apis/graph/Memberships/{subject}", list_memberships,
               location_id=MEMBERSHIPS_LIST_LOCATION, **read)
    router.add("GET", "_apis/graph/memberships/{subject}/{container}", get_membership,
               location_id=MEMBERSHIPS_LOCATION, **read)
    router.add("PUT", "_apis/graph/memberships/{subject}/{container}", add_membership,
               location_id=MEMBERSHIPS_LOCATION, **write)
    router.add("DELETE", "_apis/graph/memberships/{subject}/{container}", remove_membership,
               location_id=MEMBERSHIPS_LOCATION, **write)
    router.add("GET", "_apis/graph/membershipstates/{subject}", membership_state,
               location_id=MEMBERSHIP_STATES_LOCATION, **read)
    router.add("GET", "_apis/graph/descriptors/{storage_key}", get_descriptor, **read)
    router.add("GET", "_apis/graph/storagekeys/{descriptor}", get_storage_key,
               location_id=STORAGE_KEYS_LOCATION, **read)
    router.add("POST", "_apis/graph/subjectlookup", lookup_subjects, location_id=SUBJECT_LOOKUP_LOCATION, **read)
    router.add("POST", "_apis/graph/subjectquery", query_subjects, **read)
