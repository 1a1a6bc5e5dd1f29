"""PAT lifecycle (``_apis/tokens/pats``, 7.1-preview.1) and Token Admin (``_apis/tokenadmin``) areas.

Both live on the organisation's ``vssps`` host in the cloud. The lifecycle API works for the calling
user only and only with a user's Microsoft Entra access token: a PAT or a service principal gets 403
with ``InvalidAccessException`` "The requested operation is not allowed." (live behaviour). Logical
errors come back as HTTP 200 with ``patTokenError`` set. PATs created here are real emulator
credentials: they authenticate against the other areas.

Policy comes from the fixture's ``pat_policy`` (``block_full_scope``, ``block_global``,
``max_lifespan_days``); an identity with ``pat_access_denied: true`` gets ``accessDenied``. Token Admin
lists any user's PATs for identities with ``org_admin: true`` (others get 401, as the spec says), paged
with ``pageSize`` and a ``continuationToken`` field.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import string
from typing import TYPE_CHECKING, Any

from ..models import split_subject_descriptor
from ..state import Credential, format_datetime, parse_datetime, stable_uuid
from ..wire import Response, bad_request, empty, json_response, not_found, vss_error

if TYPE_CHECKING:  # pragma: no cover
    from ..routing import RequestContext, Router

PAGE_LIMIT = 100
_ALPHABET = string.ascii_lowercase + "234567"


def _not_allowed() -> Response:
    return vss_error(403, "The requested operation is not allowed.", "InvalidAccessException",
                     "Microsoft.TeamFoundation.Framework.Server.InvalidAccessException, Microsoft.TeamFoundation.Framework.Server")


def _caller(ctx: "RequestContext"):
    """The user calling the lifecycle API, or None when the credential kind is not allowed."""
    identity = ctx.identity
    if ctx.auth is None or ctx.auth.kind != "bearer" or identity is None or identity.is_service_principal:
        return None
    return identity


def _pat_json(ctx: "RequestContext", cred: Credential, with_token: bool = False) -> dict[str, Any]:
    return {
        "authorizationId": cred.authorization_id,
        "displayName": cred.display_name,
        "scope": " ".join(cred.scopes or []),
        "targetAccounts": None if cred.extra.get("all_orgs") else [ctx.state.organization_id],
        "token": cred.token if with_token else None,
        "validFrom": format_datetime(cred.valid_from),
        "validTo": format_datetime(cred.valid_to),
    }


def _result(token: dict[str, Any] | None, error: str = "none") -> Response:
    return json_response({"patToken": token, "patTokenError": error})


def _user_pats(ctx: "RequestContext", owner_key: str) -> list[Credential]:
    creds = [c for c in ctx.state.credentials.values() if c.type == "pat" and c.owner == owner_key]
    return sorted(creds, key=lambda c: (c.display_name.lower(), c.authorization_id))


def _find(ctx: "RequestContext", owner_key: str, authorization_id: str | None) -> Credential | None:
    for cred in _user_pats(ctx, owner_key):
        if authorization_id and cred.authorization_id.lower() == authorization_id.lower():
            return cred
    return None


def _policy_error(ctx: "RequestContext", identity, scope: str, valid_to: dt.datetime | None, all_orgs: bool) -> str | None:
    policy = ctx.state.raw.get("pat_policy") or {}
    if identity.extra.get("pat_access_denied"):
        return "accessDenied"
    if not scope.strip() or any(not (part == "app_token" or part.startswith("vso.")) for part in scope.split()):
        return "invalidScope"
    if valid_to is not None and valid_to <= ctx.app.now():
        return "invalidValidTo"
    if policy.get("block_full_scope") and "app_token" in scope.split():
        return "fullScopePatPolicyViolation"
    if policy.get("block_global") and all_orgs:
        return "globalPatPolicyViolation"
    days = policy.get("max_lifespan_days")
    if days and valid_to is not None and valid_to > ctx.app.now() + dt.timedelta(days=int(days)):
        return "patLifespanPolicyViolation"
    return None


def list_or_get(ctx: "RequestContext") -> Response:
    identity = _caller(ctx)
    if identity is None:
        return _not_allowed()
    authorization_id = ctx.q("authorizationId")
    if authorization_id:
        cred = _find(ctx, identity.key, authorization_id)
        return _result(_pat_json(ctx, cred)) if cred else _result(None, "authorizationNotFound")
    now = ctx.app.now()
    option = (ctx.q("displayFilterOption") or "active").lower()
    creds = _user_pats(ctx, identity.key)
    if option == "active":
        creds = [c for c in creds if c.is_usable(now)]
    elif option == "revoked":
        creds = [c for c in creds if c.revoked]
    elif option == "expired":
        creds = [c for c in creds if not c.revoked and c.is_expired(now)]
    top = min(int(ctx.q("$top") or PAGE_LIMIT), PAGE_LIMIT)
    start = int(base64.urlsafe_b64decode((ctx.q("continuationToken") or "") + "==").decode() or 0) \
        if ctx.q("continuationToken") else 0
    page = creds[start:start + top]
    token = base64.urlsafe_b64encode(str(start + top).encode()).decode() if start + top < len(creds) else ""
    return json_response({"continuationToken": token, "patTokens": [_pat_json(ctx, c) for c in page]})


def _body(ctx: "RequestContext") -> dict[str, Any] | None:
    try:
        data = json.loads(ctx.body.decode("utf-8") or "{}")
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def create(ctx: "RequestContext") -> Response:
    identity = _caller(ctx)
    if identity is None:
        return _not_allowed()
    data = _body(ctx)
    if data is None:
        return bad_request("The request body is not valid JSON.", "JsonReaderException")
    if not str(data.get("displayName") or "").strip():
        return _result(None, "displayNameRequired")
    valid_to = parse_datetime(data.get("validTo")) or ctx.app.now() + dt.timedelta(days=30)
    scope = str(data.get("scope") or "")
    error = _policy_error(ctx, identity, scope, valid_to, bool(data.get("allOrgs")))
    if error:
        return _result(None, error)
    token = "".join(secrets.choice(_ALPHABET) for dummy in range(52))
    key = "pat-" + secrets.token_hex(8)
    cred = Credential(key=key, type="pat", token=token, owner=identity.key, display_name=str(data["displayName"]),
                      scopes=scope.split(), valid_from=ctx.app.now(), valid_to=valid_to,
                      authorization_id=stable_uuid("authorization", key), extra={"all_orgs": bool(data.get("allOrgs"))})
    ctx.state.add_credential(cred)
    return _result(_pat_json(ctx, cred, with_token=True))


def update(ctx: "RequestContext") -> Response:
    identity = _caller(ctx)
    if identity is None:
        return _not_allowed()
    data = _body(ctx)
    if data is None:
        return bad_request("The request body is not valid JSON.", "JsonReaderException")
    cred = _find(ctx, identity.key, str(data.get("authorizationId") or ""))
    if cred is None or cred.revoked:
        return _result(None, "authorizationNotFound")
    scope = str(data["scope"]) if data.get("scope") is not None else " ".join(cred.scopes or [])
    valid_to = parse_datetime(data.get("validTo")) if data.get("validTo") else cred.valid_to
    error = _policy_error(ctx, identity, scope, valid_to, bool(data.get("allOrgs", cred.extra.get("all_orgs"))))
    if error:
        return _result(None, error)
    with ctx.state.lock:
        cred.scopes = scope.split()
        cred.valid_to = valid_to
        if data.get("displayName"):
            cred.display_name = str(data["displayName"])
    return _result(_pat_json(ctx, cred))


def revoke(ctx: "RequestContext") -> Response:
    identity = _caller(ctx)
    if identity is None:
        return _not_allowed()
    cred = _find(ctx, identity.key, ctx.q("authorizationId"))
    if cred is None:
        return not_found("The personal access token was not found.", "SessionTokenNotFoundException")
    with ctx.state.lock:
        cred.revoked = True
    return empty(204)


# -- Token Admin ------------------------------------------------------------------------------------

def _session_token(ctx: "RequestContext", cred: Credential, identity) -> dict[str, Any]:
    zero = "00000000-0000-0000-0000-000000000000"
    return {
        "clientId": zero, "accessId": zero, "authorizationId": cred.authorization_id, "hostAuthorizationId": zero,
        "userId": identity.id, "validFrom": format_datetime(cred.valid_from), "validTo": format_datetime(cred.valid_to),
        "displayName": cred.display_name, "scope": " ".join(cred.scopes or []),
        "targetAccounts": None if cred.extra.get("all_orgs") else [ctx.state.organization_id],
        "token": None, "alternateToken": None, "isValid": not cred.revoked, "isPublic": False, "publicData": None,
        "source": None, "claims": None,
    }


def admin_list(ctx: "RequestContext") -> Response:
    caller = ctx.identity
    if caller is None or not caller.extra.get("org_admin"):
        return vss_error(401, "The user does not have permission to administrate tokens.", "UnauthorizedRequestException",
                         "Microsoft.TeamFoundation.Framework.Server.UnauthorizedRequestException, "
                         "Microsoft.TeamFoundation.Framework.Server")
    dummy, payload = split_subject_descriptor(ctx.params.get("descriptor", ""))
    identity = ctx.state.find_identity(payload) if payload else None
    if identity is None:
        return not_found("The user could not be found.", "UserNotFoundException")
    creds = [c for c in _user_pats(ctx, identity.key) if c.type == "pat"]
    size = max(1, min(int(ctx.q("pageSize") or 20), 1000))
    token = ctx.q("continuationToken")
    start = int(token.split("-")[-1], 16) if token else 0
    page = creds[start:start + size]
    following = None
    if start + size < len(creds):
        following = "00000000-0000-4000-8000-%012x" % (start + size)
    return json_response({"value": [_session_token(ctx, c, identity) for c in page], "continuationToken": following})


def register(router: "Router") -> None:
    """PAT lifecycle (cloud, vssps host) and Token Admin routes."""
    common = {"cloud_host": "vssps", "onprem": False, "scope": None}
    router.add("GET", "_apis/tokens/pats", list_or_get, **common)
    router.add("POST", "_apis/tokens/pats", create, **common)
    router.add("PUT", "_apis/tokens/pats", update, **common)
    router.add("DELETE", "_apis/tokens/pats", revoke, **common)
    router.add("GET", "_apis/tokenadmin/personalaccesstokens/{descriptor}", admin_list,
               cloud_host="vssps", onprem=False, scope="vso.tokenadministration")
