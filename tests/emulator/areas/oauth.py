"""Token endpoints of the identity providers (raw routes, not part of the Azure DevOps application).

* Microsoft Entra ID v2: ``POST {base}/_hosts/login/{tenant}/oauth2/v2.0/token`` —
  ``client_credentials`` with a client secret, a certificate-signed JWT assertion (RS256, verified
  against the certificates registered for the application) or a federated assertion (HS256 with the
  federated credential's key, standing in for the issuer's signature); ``authorization_code`` and
  ``refresh_token`` for applications acting for a user. Errors carry ``error``, ``error_description``
  (starting ``AADSTSnnnn:``) and ``error_codes`` as the live service does.
* Legacy Azure DevOps OAuth: ``POST {base}/_hosts/app.vssps/oauth2/token`` — code exchange
  (``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer``, the code in ``assertion``) and refresh
  (``grant_type=refresh_token``, the refresh token in ``assertion``), the app secret in
  ``client_assertion``. Refresh tokens rotate and are single use: a consumed one is refused with
  ``invalid_grant``. ``expires_in`` is a string and ``token_type`` is ``jwt-bearer`` (live behaviour).

Issued access tokens are registered as bearer credentials of the application's identity, so the
emulator's API accepts them. Applications come from the fixture's ``applications`` key.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import threading
import urllib.parse
import uuid
from typing import TYPE_CHECKING, Any

from ..state import Credential
from ..wire import Response, json_response

if TYPE_CHECKING:  # pragma: no cover
    from ..routing import RequestContext, Router

ADO_SCOPE = "499b84ac-1321-427f-aa17-267ca6975798/.default"
ASSERTION_TYPES = ("urn:ietf:params:oauth:client-assertion-type:jwt-bearer", "urn:ietf:params:oauth:grant-type:jwt-bearer")
ACCESS_TOKEN_LIFETIME = 3599

_LOCK = threading.RLock()


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _form(ctx: "RequestContext") -> dict[str, str]:
    parsed = urllib.parse.parse_qs(ctx.body.decode("utf-8", "replace"), keep_blank_values=True)
    return {key: values[0] for key, values in parsed.items()}


def _applications(ctx: "RequestContext") -> dict[str, dict[str, Any]]:
    apps = ctx.state.raw.get("applications") or {}
    return {str(entry.get("client_id", "")).lower(): dict(entry, key=key) for key, entry in apps.items()}


def _runtime(ctx: "RequestContext") -> dict[str, Any]:
    """Mutable per-emulator OAuth state: issued refresh tokens and redeemed codes."""
    with _LOCK:
        if not hasattr(ctx.app, "oauth_state"):
            ctx.app.oauth_state = {"refresh": {}, "redeemed": set()}
        return ctx.app.oauth_state


def entra_error(status: int, error: str, aadsts: int, text: str) -> Response:
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
    trace = str(uuid.uuid4())
    return json_response({
        "error": error,
        "error_description": f"AADSTS{aadsts}: {text}\r\nTrace ID: {trace}\r\nCorrelation ID: {uuid.uuid4()}\r\nTimestamp: {now}",
        "error_codes": [aadsts],
        "timestamp": now,
        "trace_id": trace,
        "correlation_id": str(uuid.uuid4()),
        "error_uri": f"/error?code={aadsts}",
    }, status)


def legacy_error(status: int, error: str, description: str) -> Response:
    return json_response({"Error": error, "ErrorDescription": description}, status)


def _jwt_like(claims: dict[str, Any]) -> str:
    header = _b64url(json.dumps({"typ": "JWT", "alg": "RS256", "kid": "emulator"}).encode())
    payload = _b64url(json.dumps(claims).encode())
    return f"{header}.{payload}.{_b64url(secrets.token_bytes(48))}"


def _mint_access_token(ctx: "RequestContext", app: dict[str, Any], scope: str) -> tuple[str, int]:
    now = ctx.app.now()
    claims = {"aud": "499b84ac-1321-427f-aa17-267ca6975798", "appid": app["client_id"], "scp": scope,
              "iat": int(now.timestamp()), "exp": int(now.timestamp()) + ACCESS_TOKEN_LIFETIME, "jti": str(uuid.uuid4())}
    token = _jwt_like(claims)
    ctx.state.add_credential(Credential(
        key="oauth-" + claims["jti"], type="access_token", token=token, owner=str(app["identity"]),
        display_name="oauth " + app["key"], scopes=None, valid_from=now,
        valid_to=now + dt.timedelta(seconds=ACCESS_TOKEN_LIFETIME)))
    return token, ACCESS_TOKEN_LIFETIME


def _issue_refresh(ctx: "RequestContext", app: dict[str, Any]) -> str:
    token = "rt-" + secrets.token_urlsafe(36)
    with _LOCK:
        _runtime(ctx)["refresh"][token] = {"app": app["key"], "used": False}
    return token


# -- certificate and federated assertions -------------------------------------------------------------

def _verify_certificate_assertion(app: dict[str, Any], assertion: str, audience: str, now: dt.datetime) -> int | None:
    """None when valid, else the AADSTS code to answer."""
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    try:
        head, body, signature = assertion.split(".")
        claims = json.loads(_b64url_decode(body))
    except ValueError:
        return 700027
    signed = f"{head}.{body}".encode("ascii")
    verified = False
    for pem in app.get("certificates") or []:
        cert = x509.load_pem_x509_certificate(pem.encode() if isinstance(pem, str) else pem)
        try:
            cert.public_key().verify(_b64url_decode(signature), signed, padding.PKCS1v15(), hashes.SHA256())
            verified = True
            break
        except InvalidSignature:
            continue
    if not verified:
        return 700027
    stamp = now.timestamp()
    if claims.get("aud") != audience or claims.get("iss") != app["client_id"] or claims.get("sub") != app["client_id"]:
        return 700027
    if not claims.get("nbf", 0) - 300 <= stamp <= claims.get("exp", 0):
        return 700024
    return None


def _verify_federated_assertion(app: dict[str, Any], assertion: str, now: dt.datetime) -> int | None:
    import hashlib
    import hmac

    try:
        head, body, signature = assertion.split(".")
        claims = json.loads(_b64url_decode(body))
    except ValueError:
        return 70021
    for federated in app.get("federated") or []:
        if claims.get("iss") != federated.get("issuer") or claims.get("sub") != federated.get("subject"):
            continue
        expected = hmac.new(str(federated.get("signing_key", "")).encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(_b64url(expected), signature):
            return 70021
        if claims.get("aud") != federated.get("audience", "api://AzureADTokenExchange"):
            return 70021
        if claims.get("exp", 0) < now.timestamp():
            return 700024
        return None
    return 70021


# -- Entra ID v2 ---------------------------------------------------------------------------------------

def entra_token(ctx: "RequestContext") -> Response:
    tenant = ctx.params.get("tenant", "")
    if tenant.lower() not in (ctx.state.tenant_id.lower(), "organizations", "common"):
        return entra_error(400, "invalid_request", 90002, f"Tenant '{tenant}' not found.")
    form = _form(ctx)
    app = _applications(ctx).get(form.get("client_id", "").lower())
    if app is None or app.get("provider", "entra") != "entra":
        return entra_error(400, "unauthorized_client", 700016,
                           f"Application with identifier '{form.get('client_id', '')}' was not found in the directory.")
    scope = form.get("scope", "")
    if ADO_SCOPE not in scope.split():
        return entra_error(400, "invalid_scope", 70011, f"The provided value for the input parameter 'scope' is not valid. "
                                                        f"The scope {scope} is not valid.")
    denied = _entra_client_auth(ctx, app, form)
    if denied is not None:
        return denied
    grant = form.get("grant_type")
    answer: dict[str, Any] = {"token_type": "Bearer"}
    if grant == "client_credentials":
        pass
    elif grant == "authorization_code":
        code = form.get("code", "")
        runtime = _runtime(ctx)
        if code not in (app.get("codes") or []):
            return entra_error(400, "invalid_grant", 70000, "The provided value for 'code' is not valid.")
        with _LOCK:
            if code in runtime["redeemed"]:
                return entra_error(400, "invalid_grant", 54005, "OAuth2 Authorization code was already redeemed.")
            runtime["redeemed"].add(code)
        answer["refresh_token"] = _issue_refresh(ctx, app)
    elif grant == "refresh_token":
        known = _runtime(ctx)["refresh"].get(form.get("refresh_token", ""))
        if known is None or known["app"] != app["key"]:
            return entra_error(400, "invalid_grant", 700082, "The refresh token has expired due to inactivity.")
        answer["refresh_token"] = _issue_refresh(ctx, app)  # Entra rotates but the old one stays usable
    else:
        return entra_error(400, "unsupported_grant_type", 70003, f"The app requested an unsupported grant type '{grant}'.")
    token, lifetime = _mint_access_token(ctx, app, ADO_SCOPE)
    answer.update(access_token=token, expires_in=lifetime, ext_expires_in=lifetime)
    if grant != "client_credentials":
        answer["scope"] = "499b84ac-1321-427f-aa17-267ca6975798/user_impersonation"
    return json_response(answer)


def _entra_client_auth(ctx: "RequestContext", app: dict[str, Any], form: dict[str, str]) -> Response | None:
    now = ctx.app.now()
    if form.get("client_secret"):
        if not secrets.compare_digest(form["client_secret"], str(app.get("client_secret", ""))):
            return entra_error(401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being "
                                                               "sent in the request is the client secret value, not the "
                                                               "client secret ID.")
        if app.get("client_secret_expired"):
            return entra_error(401, "invalid_client", 7000222, "The provided client secret keys are expired.")
        return None
    assertion = form.get("client_assertion")
    if assertion and form.get("client_assertion_type") in ASSERTION_TYPES:
        header = {}
        try:
            header = json.loads(_b64url_decode(assertion.split(".")[0]))
        except ValueError:
            pass
        if header.get("alg") == "RS256":
            audience = f"{ctx.base}{ctx.path}"
            failed = _verify_certificate_assertion(app, assertion, audience, now)
            if failed == 700024:
                return entra_error(401, "invalid_client", 700024, "Client assertion is not within its valid time range.")
            if failed:
                return entra_error(401, "invalid_client", 700027, "Client assertion failed signature validation.")
            return None
        failed = _verify_federated_assertion(app, assertion, now)
        if failed:
            return entra_error(400, "invalid_client", failed, "No matching federated identity record found for "
                                                              "presented assertion.")
        return None
    return entra_error(401, "invalid_client", 7000218, "The request body must contain the following parameter: "
                                                       "'client_assertion' or 'client_secret'.")


# -- legacy Azure DevOps OAuth -----------------------------------------------------------------------

def legacy_token(ctx: "RequestContext") -> Response:
    content_type = (ctx.headers.get("Content-Type") or "").lower()
    if "application/x-www-form-urlencoded" not in content_type:
        return legacy_error(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded.")
    form = _form(ctx)
    if form.get("client_assertion_type") not in ASSERTION_TYPES:
        return legacy_error(400, "invalid_request", "client_assertion_type is not valid.")
    app = next((a for a in _applications(ctx).values()
                if a.get("provider") == "azure_devops" and secrets.compare_digest(
                    str(a.get("client_secret", "")), form.get("client_assertion", ""))), None)
    if app is None:
        return legacy_error(401, "invalid_client", "The client assertion is not valid.")
    if app.get("redirect_uri") and form.get("redirect_uri") != app["redirect_uri"]:
        return legacy_error(400, "invalid_request", "The redirect_uri does not match the one registered for the app.")
    grant = form.get("grant_type")
    runtime = _runtime(ctx)
    if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
        code = form.get("assertion", "")
        with _LOCK:
            if code not in (app.get("codes") or []) or code in runtime["redeemed"]:
                return legacy_error(400, "invalid_grant", "The authorization code is not valid or was already used.")
            runtime["redeemed"].add(code)
    elif grant == "refresh_token":
        with _LOCK:
            known = runtime["refresh"].get(form.get("assertion", ""))
            if known is None or known["app"] != app["key"]:
                return legacy_error(400, "invalid_grant", "Invalid refresh token.")
            if known["used"]:
                return legacy_error(400, "invalid_grant", "The refresh token has already been used.")
            known["used"] = True
    else:
        return legacy_error(400, "unsupported_grant_type", f"grant_type {grant} is not supported.")
    token, lifetime = _mint_access_token(ctx, app, app.get("scope", "vso.profile"))
    return json_response({"access_token": token, "token_type": "jwt-bearer", "expires_in": str(lifetime),
                          "refresh_token": _issue_refresh(ctx, app), "scope": app.get("scope", "vso.profile")})


def register(router: "Router") -> None:
    """Register the token endpoints."""
    router.add_raw("POST", r"^/_hosts/login/(?P<tenant>[^/]+)/oauth2/v2\.0/token$", entra_token)
    router.add_raw("POST", r"^/_hosts/app\.vssps/oauth2/token$", legacy_token)
