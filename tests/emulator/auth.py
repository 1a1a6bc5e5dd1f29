"""Authentication and authorisation as the service does it.

Credential forms (``Authorization`` header):

* ``Basic base64(user ":" secret)``, any user name (empty included): the
  secret must equal a seeded PAT -> that PAT's identity.
* ``Basic base64(secret)`` (no colon): not an accepted form -> anonymous.
* ``Bearer <token>``: the token must equal a seeded access token -> that
  identity. A PAT (or anything else) sent as Bearer -> anonymous.
* anything else / nothing -> anonymous.

Failures and what the caller sees are built here too (challenges, the hosted
203 sign-in page, the TF400813 / VS403463 / TF401444 errors, IIS Basic).

Scope model: a scope ``vso.code_write`` has family ``vso.code`` and rank 2.
Ranks: no suffix or ``_read`` = 1, ``_status`` = 1, ``_write`` = 2,
``_execute`` = 2, ``_manage`` = 3, ``_full`` = 4. A granted scope satisfies a
required one of the same family with an equal or lower rank; ``app_token``
(full access) satisfies everything.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass

from .state import Credential, Identity, State
from .wire import IIS_401_PAGE, Response, empty, html_response, signin_page, vss_error

FULL_ACCESS = "app_token"

_RANKS = {"_read": 1, "_status": 1, "_write": 2, "_execute": 2, "_manage": 3, "_full": 4}

# Outcomes of credential resolution.
OK = "ok"
ANONYMOUS = "anonymous"
INVALID = "invalid"


@dataclass
class AuthResult:
    """What the ``Authorization`` header amounted to.

    ``kind`` is what was sent (for the request log): ``pat`` (Basic with a
    colon), ``bearer``, ``basic-no-colon``, ``anonymous`` (no header) or
    ``other``. ``outcome`` is ``ok``, ``anonymous`` or ``invalid``.
    """

    kind: str
    outcome: str
    credential: Credential | None = None
    identity: Identity | None = None

    @property
    def identity_key(self) -> str | None:
        """Fixture key of the authenticated identity, if any."""
        return self.identity.key if self.identity else None


def scope_parts(scope: str) -> tuple[str, int]:
    """Split a scope into (family, rank)."""
    lowered = scope.strip().lower()
    for suffix, rank in _RANKS.items():
        if lowered.endswith(suffix):
            return lowered[: -len(suffix)], rank
    return lowered, 1


def scope_satisfied(granted: list[str] | None, required: str | None) -> bool:
    """True when ``granted`` (None = everything) covers ``required`` (None = nothing needed)."""
    if not required or granted is None:
        return True
    if any(scope.strip().lower() == FULL_ACCESS for scope in granted):
        return True
    family, rank = scope_parts(required)
    for scope in granted:
        g_family, g_rank = scope_parts(scope)
        if g_family == family and g_rank >= rank:
            return True
    return False


def resolve(header: str | None, state: State, now: dt.datetime, organization: str | None = None) -> AuthResult:
    """Resolve an ``Authorization`` header into an :class:`AuthResult`."""
    if not header or not header.strip():
        return AuthResult("anonymous", ANONYMOUS)
    scheme, _sep, value = header.strip().partition(" ")
    scheme = scheme.lower()
    value = value.strip()
    if scheme == "basic":
        return _resolve_basic(value, state, now, organization)
    if scheme == "bearer":
        credential = state.credential_by_secret(value, "access_token") if value else None
        if credential is None:
            return AuthResult("bearer", ANONYMOUS)
        if not credential.is_usable(now):
            return AuthResult("bearer", INVALID, credential)
        return _with_identity(AuthResult("bearer", OK, credential), state)
    return AuthResult("other", ANONYMOUS)


def _resolve_basic(value: str, state: State, now: dt.datetime, organization: str | None) -> AuthResult:
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return AuthResult("other", INVALID)
    if ":" not in decoded:
        return AuthResult("basic-no-colon", ANONYMOUS)
    secret = decoded.split(":", 1)[1]
    credential = state.credential_by_secret(secret, "pat") if secret else None
    usable = credential is not None and credential.is_usable(now)
    if usable and organization and credential.organizations:
        usable = organization.lower() in {org.lower() for org in credential.organizations}
    if not usable:
        return AuthResult("pat", INVALID, credential)
    return _with_identity(AuthResult("pat", OK, credential), state)


def _with_identity(result: AuthResult, state: State) -> AuthResult:
    identity = state.identity(result.credential.owner) if result.credential else None
    if identity is None or not identity.active:
        return AuthResult(result.kind, INVALID, result.credential)
    result.identity = identity
    return result


def granted_scopes(result: AuthResult) -> list[str] | None:
    """Scopes the credential carries (None = all)."""
    return result.credential.scopes if result.credential else None


# -- responses ---------------------------------------------------------


def challenge_headers(mode: str, base: str, tenant_id: str) -> list[tuple[str, str]]:
    """``WWW-Authenticate`` and related headers of an application 401."""
    if mode == "hosted":
        return [
            ("WWW-Authenticate", f"Bearer authorization_uri={base}/_hosts/login/{tenant_id}"),
            ("WWW-Authenticate", f"Basic realm=\"{base}/\""),
            ("WWW-Authenticate", "TFS-Federated"),
            ("X-TFS-FedAuthRealm", f"{base}/"),
            ("X-TFS-FedAuthIssuer", f"{base}/"),
            ("X-VSS-ResourceTenant", tenant_id),
            ("X-VSS-AuthorizationEndpoint", f"{base}/_hosts/vssps/"),
        ]
    host = base.split("://", 1)[-1].rsplit(":", 1)[0]
    return [
        ("WWW-Authenticate", "Bearer"),
        ("WWW-Authenticate", f"Basic realm=\"{host}\""),
        ("WWW-Authenticate", "Negotiate"),
        ("WWW-Authenticate", "NTLM"),
    ]


def unauthorized(mode: str, base: str, tenant_id: str) -> Response:
    """401 with an empty body (bad, expired, revoked or under-scoped credential; suppressed anonymous)."""
    return empty(401, challenge_headers(mode, base, tenant_id))


def anonymous_response(mode: str, base: str, tenant_id: str, suppress: bool) -> Response:
    """What an anonymous caller gets: hosted 203 + HTML unless suppressed, else 401."""
    if mode == "hosted" and not suppress:
        realm = base.split("://", 1)[-1]
        headers = [
            ("X-TFS-FedAuthRealm", f"{base}/"),
            ("X-TFS-FedAuthIssuer", f"{base}/"),
            ("X-TFS-FedAuthRedirect", f"{base}/_signin?realm={realm}"),
            ("X-VSS-ResourceTenant", tenant_id),
        ]
        return html_response(203, signin_page(base, realm), headers)
    return unauthorized(mode, base, tenant_id)


def not_member(identity: Identity, mode: str, base: str, tenant_id: str) -> Response:
    """401 TF400813: the identity is not in Project Collection Valid Users."""
    message = f"TF400813: The user '{identity.id}' is not authorized to access this resource."
    return vss_error(
        401, message, "UnauthorizedRequestException",
        "Microsoft.TeamFoundation.Framework.Server.UnauthorizedRequestException, "
        "Microsoft.TeamFoundation.Framework.Server",
        service_error=True, headers=challenge_headers(mode, base, tenant_id),
    )


def conditional_access_failed() -> Response:
    """403 VS403463: a conditional access policy blocked the sign-in."""
    message = (
        "VS403463: The conditional access policy defined by your Azure Active Directory "
        "administrator has failed."
    )
    return vss_error(
        403, message, "ConditionalAccessPolicyException",
        "Microsoft.VisualStudio.Services.Identity.ConditionalAccessPolicyException, "
        "Microsoft.VisualStudio.Services.WebApi",
        service_error=True,
    )


def principal_not_in_org(identity: Identity, mode: str, base: str, tenant_id: str) -> Response:
    """401 TF401444: the service principal was never added to the organisation."""
    who = identity.app_id or identity.id
    message = (
        f"TF401444: Please sign-in at least once as {tenant_id}\\{who} in a web browser "
        "to enable access to the service."
    )
    return vss_error(
        401, message, "UnauthorizedRequestException",
        "Microsoft.TeamFoundation.Framework.Server.UnauthorizedRequestException, "
        "Microsoft.TeamFoundation.Framework.Server",
        service_error=True, headers=challenge_headers(mode, base, tenant_id),
    )


def iis_basic_rejection(host: str) -> Response:
    """IIS answering a Basic credential itself (Basic authentication enabled on the site)."""
    headers = [
        ("WWW-Authenticate", f"Basic realm=\"{host}\""),
        ("WWW-Authenticate", "Negotiate"),
        ("WWW-Authenticate", "NTLM"),
    ]
    return html_response(401, IIS_401_PAGE, headers, ado=False)
