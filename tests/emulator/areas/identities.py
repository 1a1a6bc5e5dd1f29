"""Identities area (IMS): read identities and groups, change group members.

Hosted: served on the ``vssps`` host; onprem: under the collection.

``GET _apis/identities`` (scope ``vso.identity``), see SHAPES.md section 5:
``identityIds`` (comma-separated ids), ``descriptors`` (comma-separated
descriptor strings), ``subjectDescriptors`` (Graph descriptors),
``searchFilter`` + ``filterValue`` (also the ``searchFactor`` + ``factorValue``
spelling): ``General`` (display name, account or unique name), ``AccountName``,
``DisplayName``, ``MailAddress``, ``LocalGroupName`` (groups only). Lookups by
id / descriptor return ``null`` for unknown entries, in request order, as the
service does. Groups are identities too (``isContainer: true``, descriptor
``Microsoft.TeamFoundation.Identity;<SID>``, ``providerDisplayName``
``[Scope]\\Name``). ``queryMembership``: ``None`` (default: empty
``members``/``memberOf``), ``Direct``, ``Expanded``, ``ExpandedUp``,
``ExpandedDown`` fill ``memberOf`` (groups the identity is in) and, for groups,
``members``/``memberIds``.

Onprem every account of the domain resolves (the server looks it up in Active
Directory), collection member or not; hosted only members of the organisation.

Group membership (the routes the generated clients use for every server since
TFS 2017; no REST spec covers them):

* ``GET _apis/groups?scopeIds=<collection or project id>&recurse=true`` -
  the groups of a scope (``recurse``: with the groups of its projects).
* ``GET _apis/identities/{containerId}/members`` - member descriptors.
* ``GET _apis/identities/{memberId}/membersOf`` - descriptors of the groups.
* ``PUT|DELETE _apis/identities/{containerId}/members/{memberId}`` - add or
  remove (scope ``vso.identity_manage``; answer ``true``/``false``). Ids are
  identity ids or descriptors. Changing a group needs Project Collection
  Administrators (or the project's Project Administrators): 403 otherwise.
  Authentication follows membership: adding an account to any group of the
  collection ends its TF400813.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..models import (GROUP_PREFIXES, GROUP_TYPE, USER_PREFIXES, group_descriptor, group_identity_json,
                      identity_descriptor, identity_domain, identity_json, split_subject_descriptor,
                      subject_descriptor)
from ..wire import Response, bad_request, json_response, not_found, wrapped
from .graph import access_denied, may_manage

if TYPE_CHECKING:  # pragma: no cover
    from ..routing import RequestContext, Router
    from ..state import Directory, Group, Identity

IDENTITIES_LOCATION = "28010c54-d0c0-4c89-a5b0-1c9e188b9fb7"
GROUPS_LOCATION = "5966283b-4196-4d57-9211-1b68f41ec1c2"
MEMBERS_LOCATION = "8ba35978-138e-41f8-8963-7b1ea2c5f775"
MEMBERS_OF_LOCATION = "22865b02-9e4a-479e-9e18-e35b8803b8a0"

_FILTERS = ("general", "accountname", "displayname", "mailaddress", "localgroupname")
_MEMBERSHIP = ("none", "direct", "expanded", "expandedup", "expandeddown")


def _is_visible(ctx: "RequestContext", ident: "Identity") -> bool:
    if ident.service_principal_not_in_org:
        return False
    return ctx.collection is None or ctx.app.mode == "onprem" or ident.member_of(ctx.collection.name)


def _visible(ctx: "RequestContext") -> list["Identity"]:
    return [ident for ident in ctx.state.identities.values() if _is_visible(ctx, ident)]


def _directory(ctx: "RequestContext") -> "Directory | None":
    return ctx.state.directory_for(ctx.collection) if ctx.collection else None


def _matches(ident: "Identity", ctx: "RequestContext", search: str, value: str) -> bool:
    wanted = value.strip().lower()
    account = ident.unique_name.lower()
    alias = account.split("@", 1)[0]
    domain_account = f"{identity_domain(ident, ctx.app)}\\{alias}".lower()
    display = ident.display_name.lower()
    if search == "localgroupname":
        return False
    if search == "accountname":
        return wanted in (account, alias, domain_account)
    if search == "displayname":
        return wanted == display
    if search == "mailaddress":
        return not ident.is_service_principal and wanted == account
    return wanted in (account, alias, domain_account, display)


def _group_matches(group: "Group", search: str, value: str) -> bool:
    wanted = value.strip().lower()
    if search == "mailaddress":
        return False
    if search == "accountname":
        return wanted == group.principal_name.lower()
    if search == "localgroupname":
        return wanted == group.name.lower()
    return wanted in (group.name.lower(), group.principal_name.lower())


def _descriptor_of(ctx: "RequestContext", subject_id: str) -> str | None:
    directory = _directory(ctx)
    group = directory.group(subject_id) if directory else None
    if group is not None:
        return group_descriptor(group)
    identity = ctx.state.find_identity(subject_id)
    return identity_descriptor(identity, ctx.app) if identity else None


def _render(ctx: "RequestContext", subject: Any, membership: str) -> dict[str, Any]:
    """Identity JSON of a user or group, with the requested membership data."""
    directory = _directory(ctx)
    if hasattr(subject, "sid"):
        data = group_identity_json(subject, directory)
    else:
        data = identity_json(subject, ctx.app, full=True)
    if directory is None or membership == "none":
        return data
    subject_id = subject.id.lower()
    if membership in ("direct", "expanded", "expandedup"):
        groups = directory.parents(subject_id) if membership == "direct" else directory.ancestors(subject_id)
        data["memberOf"] = [group_descriptor(group) for group in groups]
    if hasattr(subject, "sid") and membership in ("direct", "expanded", "expandeddown"):
        members = list(subject.members) if membership == "direct" else directory.descendants(subject)
        data["members"] = [d for d in (_descriptor_of(ctx, m) for m in members) if d]
        data["memberIds"] = list(members)
    return data


def _by_descriptor(ctx: "RequestContext", visible: list["Identity"]) -> Any:
    by_descriptor = {identity_descriptor(ident, ctx.app).lower(): ident for ident in visible}
    directory = _directory(ctx)

    def lookup(text: str) -> Any:
        text = text.strip()
        identity_type, _sep, identifier = text.partition(";")
        if identity_type.lower() == GROUP_TYPE.lower() and directory is not None:
            return directory.group_by_sid(identifier)
        return by_descriptor.get(text.lower())
    return lookup


def _by_subject_descriptor(ctx: "RequestContext", visible: list["Identity"], text: str) -> Any:
    prefix, payload = split_subject_descriptor(text)
    directory = _directory(ctx)
    if prefix in GROUP_PREFIXES and directory is not None:
        return directory.group_by_sid(payload)
    if prefix in USER_PREFIXES:
        identity = ctx.state.find_identity(payload)
        if (identity is not None and _is_visible(ctx, identity)
                and subject_descriptor(identity, ctx.app) == text.strip()):
            return identity
    return None


def _subject(ctx: "RequestContext", ref: str) -> Any:
    """A group or identity from an id or a descriptor (the member routes)."""
    directory = _directory(ctx)
    ref = ref.strip()
    if ";" in ref:
        return _by_descriptor(ctx, _visible(ctx))(ref)
    group = directory.group(ref) if directory else None
    if group is not None:
        return group
    identity = ctx.state.find_identity(ref)
    if identity is not None and _is_visible(ctx, identity):
        return identity
    return None


def read_identities(ctx: "RequestContext") -> Response:
    """``GET _apis/identities``."""
    membership = (ctx.q("queryMembership") or "none").strip().lower()
    if membership not in _MEMBERSHIP:
        return bad_request(f"The value '{membership}' is not valid for queryMembership.", "ArgumentException")
    visible = _visible(ctx)
    directory = _directory(ctx)

    def render(items: list[Any]) -> Response:
        return wrapped([_render(ctx, item, membership) if item is not None else None for item in items])

    ids = ctx.q("identityIds")
    if ids:
        by_id = {ident.id.lower(): ident for ident in visible}
        found = []
        for part in ids.split(","):
            if part.strip():
                key = part.strip().lower()
                found.append(by_id.get(key) or (directory.group(key) if directory else None))
        return render(found)
    descriptors = ctx.q("descriptors")
    if descriptors:
        lookup = _by_descriptor(ctx, visible)
        return render([lookup(part) for part in descriptors.split(",") if part.strip()])
    subject_descriptors = ctx.q("subjectDescriptors")
    if subject_descriptors:
        return render([_by_subject_descriptor(ctx, visible, part)
                       for part in subject_descriptors.split(",") if part.strip()])
    search = ctx.q("searchFilter") or ctx.q("searchFactor")
    value = ctx.q("filterValue") or ctx.q("factorValue")
    if search and value is not None:
        search = search.strip().lower()
        if search not in _FILTERS:
            return bad_request(f"Invalid search filter: {search}", "ArgumentException")
        found: list[Any] = [ident for ident in visible if _matches(ident, ctx, search, value)]
        if directory is not None:
            found += [group for group in directory.groups.values() if _group_matches(group, search, value)]
        return render(found)
    return bad_request(
        "Exactly one of descriptors, identityIds, subjectDescriptors, or searchFilter/filterValue "
        "must be specified.",
        "ArgumentException",
    )


def list_groups(ctx: "RequestContext") -> Response:
    """``GET _apis/groups?scopeIds=&recurse=``."""
    directory = _directory(ctx)
    recurse = (ctx.q("recurse") or "false").strip().lower() == "true"
    scope_ids = [part.strip().lower() for part in (ctx.q("scopeIds") or "").split(",") if part.strip()]
    groups = []
    for group in directory.groups.values():
        if not scope_ids:
            groups.append(group)
            continue
        for scope_id in scope_ids:
            if scope_id == ctx.collection.id.lower():
                if group.collection_level or (recurse and group.project is not None):
                    groups.append(group)
                    break
            elif group.project is not None and group.project.id.lower() == scope_id:
                groups.append(group)
                break
    return wrapped([group_identity_json(group, directory) for group in groups])


def _membership_target(ctx: "RequestContext") -> tuple[Any, Any, Response | None]:
    container = _subject(ctx, ctx.params["container_id"])
    if container is None or not hasattr(container, "sid"):
        return None, None, not_found(f"The group '{ctx.params['container_id']}' was not found.",
                                     "IdentityNotFoundException")
    member = _subject(ctx, ctx.params["member_id"])
    if member is None:
        return None, None, not_found(f"The identity '{ctx.params['member_id']}' was not found.",
                                     "IdentityNotFoundException")
    return container, member, None


def add_member(ctx: "RequestContext") -> Response:
    """``PUT _apis/identities/{containerId}/members/{memberId}`` -> ``true``."""
    container, member, error = _membership_target(ctx)
    if error is not None:
        return error
    directory = _directory(ctx)
    if hasattr(member, "sid") and (member is container or container.id in directory.descendants(member)):
        return bad_request(f"Adding {member.principal_name} to {container.principal_name} would create a cycle.",
                           "AddGroupMemberIllegalMemberException")
    if not may_manage(ctx, container):
        return access_denied(ctx, container)
    with ctx.state.lock:
        added = directory.add_member(container, member.id)
        ctx.state.sync_collection_membership(ctx.collection)
    return json_response(added or True)


def remove_member(ctx: "RequestContext") -> Response:
    """``DELETE _apis/identities/{containerId}/members/{memberId}`` -> ``true`` (``false``: was not a member)."""
    container, member, error = _membership_target(ctx)
    if error is not None:
        return error
    if not may_manage(ctx, container):
        return access_denied(ctx, container)
    directory = _directory(ctx)
    with ctx.state.lock:
        removed = directory.remove_member(container, member.id)
        ctx.state.sync_collection_membership(ctx.collection)
    return json_response(removed)


def read_members(ctx: "RequestContext") -> Response:
    """``GET _apis/identities/{containerId}/members`` (``queryMembership`` Direct or Expanded)."""
    container = _subject(ctx, ctx.params["container_id"])
    if container is None or not hasattr(container, "sid"):
        return not_found(f"The group '{ctx.params['container_id']}' was not found.", "IdentityNotFoundException")
    directory = _directory(ctx)
    expanded = (ctx.q("queryMembership") or "direct").strip().lower() != "direct"
    members = directory.descendants(container) if expanded else list(container.members)
    return wrapped([d for d in (_descriptor_of(ctx, m) for m in members) if d])


def read_members_of(ctx: "RequestContext") -> Response:
    """``GET _apis/identities/{memberId}/membersOf`` (``queryMembership`` Direct or Expanded)."""
    member = _subject(ctx, ctx.params["member_id"])
    if member is None:
        return not_found(f"The identity '{ctx.params['member_id']}' was not found.", "IdentityNotFoundException")
    directory = _directory(ctx)
    expanded = (ctx.q("queryMembership") or "direct").strip().lower() != "direct"
    groups = directory.ancestors(member.id) if expanded else directory.parents(member.id)
    return wrapped([group_descriptor(group) for group in groups])


def register(router: "Router") -> None:
    """Register the identities routes."""
    router.add("GET", "_apis/identities", read_identities, scope="vso.identity", cloud_host="vssps",
               location_id=IDENTITIES_LOCATION)
    router.add("GET", "_apis/groups", list_groups, scope="vso.identity", cloud_host="vssps",
               location_id=GROUPS_LOCATION)
    router.add("GET", "_apis/identities/{container_id}/members", read_members, scope="vso.identity",
               cloud_host="vssps", location_id=MEMBERS_LOCATION)
    router.add("PUT", "_apis/identities/{container_id}/members/{member_id}", add_member,
               scope="vso.identity_manage", cloud_host="vssps", location_id=MEMBERS_LOCATION)
    router.add("DELETE", "_apis/identities/{container_id}/members/{member_id}", remove_member,
               scope="vso.identity_manage", cloud_host="vssps", location_id=MEMBERS_LOCATION)
    router.add("GET", "_apis/identities/{member_id}/membersOf", read_members_of, scope="vso.identity",
               cloud_host="vssps", location_id=MEMBERS_OF_LOCATION)
