"""JSON shapes shared by several areas (identities, project references).

Identity on the wire (connectionData and IMS): ``descriptor`` is a *string*
``"<IdentityType>;<identifier>"`` and ``properties`` is a property bag
``{name: {"$type", "$value"}}`` - the REST specs describe an object and a
``PropertiesCollection`` instead; the live service wins.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from .state import Collection, Identity, Project

if TYPE_CHECKING:  # pragma: no cover
    from .server import EmulatorApp

USER_TYPE = "Microsoft.IdentityModel.Claims.ClaimsIdentity"
SERVICE_PRINCIPAL_TYPE = "Microsoft.VisualStudio.Services.Claims.AadServicePrincipal"


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def _prop(value: Any, type_name: str = "System.String") -> dict[str, Any]:
    return {"$type": type_name, "$value": value}


def identity_domain(identity: Identity, app: "EmulatorApp") -> str:
    """Domain part of the identity descriptor (tenant id hosted, Windows domain onprem)."""
    if identity.domain:
        return identity.domain
    return app.state.tenant_id if app.mode == "hosted" or identity.is_service_principal else app.state.onprem_domain


def identity_descriptor(identity: Identity, app: "EmulatorApp") -> str:
    """The legacy identity descriptor string."""
    domain = identity_domain(identity, app)
    if identity.is_service_principal:
        return f"{SERVICE_PRINCIPAL_TYPE};{domain}\\{identity.app_id}"
    return f"{USER_TYPE};{domain}\\{identity.unique_name}"


def subject_descriptor(identity: Identity, app: "EmulatorApp") -> str:
    """The Graph subject descriptor (``aad.``/``aadsp.``/``win.`` + base64url)."""
    if identity.is_service_principal:
        return "aadsp." + _b64(identity.id)
    prefix = "aad." if app.mode == "hosted" else "win."
    return prefix + _b64(identity.id)


def identity_json(identity: Identity, app: "EmulatorApp", full: bool = False) -> dict[str, Any]:
    """An Identity as connectionData (``full=False``) or IMS (``full=True``) returns it."""
    domain = identity_domain(identity, app)
    account = identity.unique_name
    properties: dict[str, Any] = {"Account": _prop(account)}
    if full:
        schema = "ServicePrincipal" if identity.is_service_principal else "User"
        properties = {
            "SchemaClassName": _prop(schema),
            "Description": _prop(""),
            "Domain": _prop(domain),
            "Account": _prop(account),
            "DN": _prop(""),
            "Mail": _prop("" if identity.is_service_principal else identity.unique_name),
            "SpecialType": _prop("Generic"),
            "Alias": _prop(identity.unique_name.split("@", 1)[0]),
        }
        if identity.is_service_principal:
            properties["ApplicationId"] = _prop(identity.app_id)
    result: dict[str, Any] = {
        "id": identity.id,
        "descriptor": identity_descriptor(identity, app),
        "subjectDescriptor": subject_descriptor(identity, app),
        "providerDisplayName": identity.display_name,
        "customDisplayName": None,
        "isActive": identity.active,
        "isContainer": False,
        "members": [],
        "memberOf": [],
        "memberIds": [],
        "properties": properties,
        "resourceVersion": 2,
        "metaTypeId": 1 if identity.is_service_principal else 0,
    }
    if not full:
        result.pop("customDisplayName")
    return result


def project_reference(project: Project, collection: Collection, app: "EmulatorApp") -> dict[str, Any]:
    """A TeamProjectReference."""
    url = f"{app.collection_url(collection)}/_apis/projects/{project.id}"
    return {
        "id": project.id,
        "name": project.name,
        "description": project.description,
        "url": url,
        "state": "wellFormed",
        "revision": project.revision,
        "visibility": project.visibility,
        "lastUpdateTime": "2025-01-01T00:00:00Z",
    }


# -- groups, descriptors and storage keys (Graph / Identities areas) --------

GROUP_TYPE = "Microsoft.TeamFoundation.Identity"

# Graph descriptor prefixes of subjects whose payload is an identity id (users,
# service principals) and of groups (payload = the SID).
USER_PREFIXES = ("aad", "aadsp", "win", "msa", "svc")
GROUP_PREFIXES = ("vssgp", "aadgp")


def b64url_decode(value: str) -> str | None:
    """Decode the base64url payload of a descriptor (no padding); None when it is not base64 text."""
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None


def split_subject_descriptor(descriptor: str) -> tuple[str, str] | tuple[None, None]:
    """``vssgp.Uy0x...`` -> (``vssgp``, ``S-1-9-...``); (None, None) when malformed."""
    prefix, sep, payload = descriptor.strip().partition(".")
    if not sep or not payload:
        return None, None
    decoded = b64url_decode(payload)
    if decoded is None:
        return None, None
    return prefix.lower(), decoded


def group_descriptor(group: Any) -> str:
    """The identity descriptor of a group: ``Microsoft.TeamFoundation.Identity;S-1-9-...``."""
    return f"{GROUP_TYPE};{group.sid}"


def group_subject_descriptor(group: Any) -> str:
    """The Graph descriptor of a group: ``vssgp.`` + base64url(SID)."""
    return "vssgp." + _b64(group.sid)


def scope_descriptor(scope_id: str) -> str:
    """The Graph descriptor of a scope (organisation, collection or project): ``scp.`` + base64url(id)."""
    return "scp." + _b64(scope_id)


def group_identity_json(group: Any, directory: Any) -> dict[str, Any]:
    """A group as the Identities API returns it (SHAPES.md section 5, SearchPCVUByName-onprem.json)."""
    collection = directory.collection
    scope_id = group.project.id if group.project else collection.id
    properties = {
        "SchemaClassName": _prop("Group"),
        "Description": _prop(group.description),
        "Domain": _prop(group.domain),
        "Account": _prop(group.name),
        "SecurityGroup": _prop("SecurityGroup"),
        "SpecialType": _prop(group.special_type),
        "ScopeId": _prop(scope_id, "System.Guid"),
        "ScopeType": _prop("TeamProject" if group.project else "ServiceHost"),
        "LocalScopeId": _prop(scope_id, "System.Guid"),
        "SecuringHostId": _prop(collection.id, "System.Guid"),
        "ScopeName": _prop(group.scope_name),
        "GlobalScope": _prop("GlobalScope"),
        "VirtualPlugin": _prop(""),
    }
    return {
        "id": group.id,
        "descriptor": group_descriptor(group),
        "subjectDescriptor": group_subject_descriptor(group),
        "providerDisplayName": group.principal_name,
        "isActive": True,
        "isContainer": True,
        "members": [],
        "memberOf": [],
        "memberIds": [],
        "properties": properties,
        "resourceVersion": 2,
        "metaTypeId": 255,
    }
