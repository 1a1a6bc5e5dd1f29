# -*- coding: utf-8 -*-
# Copyright: contributors to the azdo.auth collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one table of authentication failure causes: HTTP answers -> diagnosis code + remediation.

Pure and table-driven: ``diagnose()`` reads the attributes of a client error (status, TF/VS code,
headers, kind) and never performs I/O. docs/troubleshooting-401.md explains every code.
"""

from __future__ import annotations

# code -> (what happened, what to do). ``{...}`` fields are filled from the context.
CODES = {
    'OK': (
        'The credential authenticated and every requested check passed.',
        'Nothing to do.'),
    'INVALID_OR_EXPIRED': (
        'The server rejected the credential with HTTP 401: the token is wrong, expired or revoked.',
        'Create or renew the personal access token (User settings > Personal access tokens) or obtain a new '
        'access token, make sure the whole value was copied, and update the stored secret.'),
    'ANONYMOUS_REDIRECT': (
        'The service treated the call as anonymous: the credential was not sent in a form it accepts.',
        'Send a PAT as HTTP Basic with an empty user name, base64(":" + PAT): pass it as pat (not access_token, '
        'not Bearer, not pre-encoded). Pass OAuth/Entra access tokens as access_token.'),
    'NOT_COLLECTION_MEMBER': (
        'TF400813: the identity authenticated but is not a member of this collection/organization '
        '(Project Collection Valid Users).',
        'Give the identity access to the collection: add it to a group of the collection, such as a project\'s '
        'Readers or Contributors (Project Collection Valid Users is made of the members of every collection group; '
        'in the cloud, add the user to the organization first), for example with azdo.auth.ado_group_membership '
        'or the collection_access role; or use the URL of the collection the identity belongs to.'),
    'CONDITIONAL_ACCESS': (
        'VS403463: a Microsoft Entra conditional access policy blocked the call.',
        'Run from a network/device the policy allows, or ask the Entra administrator to exempt this automation '
        'identity (prefer a service principal or managed identity for automation).'),
    'SERVICE_PRINCIPAL_NOT_IN_ORG': (
        'TF401444: the service principal or managed identity has a valid token but was never added to the '
        'organization.',
        'Add the service principal to the organization (Organization settings > Users > Add users, or the '
        'Service Principal Entitlements API) and give it an access level, then retry.'),
    'MISSING_SCOPE': (
        'The credential is valid but lacks the scope needed for: {scopes}.',
        'Edit the personal access token and add the missing scopes ({scopes}), or create a new token with them.'),
    'PROJECT_NOT_FOUND': (
        'The project {project} does not exist in this collection, or the identity cannot see it.',
        'Check the project name or id and the collection URL, and that the identity has at least Reader '
        'access to the project.'),
    'COLLECTION_NOT_FOUND': (
        'The URL does not point at an organization or collection.',
        'Use the full collection URL: https://dev.azure.com/ORGANIZATION in the cloud, '
        'https://SERVER/tfs/COLLECTION (or https://SERVER/COLLECTION without the tfs virtual directory) on '
        'Azure DevOps Server.'),
    'API_VERSION_UNSUPPORTED': (
        'The server does not support the REST api-version that was requested.',
        'Remove api_version to let the collection negotiate it, or set one the server supports '
        '(Azure DevOps Server 2019: 5.0, 2020: 6.0, 2022: 7.0, 2022.1+: 7.1).'),
    'IIS_BASIC_AUTH_INTERCEPTS': (
        'IIS answered 401 itself, challenging for Basic authentication, before Azure DevOps Server saw the '
        'request: IIS Basic authentication is enabled on the site and tries to log the PAT on as a Windows '
        'user.',
        'Disable Basic authentication on the Azure DevOps Server site in IIS (keep Windows authentication on, '
        'Anonymous off), for example with the azdo.auth.iis_auth role. Azure DevOps Server validates PATs itself.'),
    'TLS_ERROR': (
        'The TLS connection failed: the server certificate is not trusted or does not match the host name.',
        'Install the issuing CA on the controller or point ca_path at it; use the host name the certificate '
        'was issued for. Set validate_certs: false only for a throw-away test server.'),
    'CONNECTION_ERROR': (
        'The server could not be reached or did not answer in time.',
        'Check the URL, DNS, proxy settings and firewall, and that the server is up; raise timeout for a '
        'slow server.'),
    'RATE_LIMITED': (
        'The service throttled the calls (HTTP 429) and kept doing so after the allowed retries.',
        'Retry later, lower the number of parallel calls (forks, concurrency), or raise retries; the '
        'Retry-After header says how long to wait.'),
    'SERVER_ERROR': (
        'The server failed to answer properly (HTTP 5xx, or a malformed answer) after the allowed retries.',
        'Retry later; if it persists, check the server health (event log of Azure DevOps Server, '
        'status.dev.azure.com for the cloud) or a proxy between the controller and the server.'),
}

_TF_CODES = {
    'TF400813': 'NOT_COLLECTION_MEMBER',
    'VS403463': 'CONDITIONAL_ACCESS',
    'TF401444': 'SERVICE_PRINCIPAL_NOT_IN_ORG',
}


class _Default(dict):
    def __missing__(self, key):
        return '(unknown)'


def describe(code, http_status=None, error_code=None, detail=None, **context):
    """The diagnosis mapping returned by modules: code, message, remediation, http_status, error_code."""
    message, remediation = CODES[code]
    fields = _Default((k, ', '.join(v) if isinstance(v, (list, tuple)) else v) for k, v in context.items())
    message = message.format_map(fields)
    remediation = remediation.format_map(fields)
    if detail:
        message = '%s Server said: %s' % (message, detail)
    return {
        'code': code,
        'message': message,
        'remediation': remediation,
        'http_status': http_status,
        'error_code': error_code,
    }


def classify(kind, status=None, tf_code=None, type_key=None, has_ado_headers=True, www_authenticate=(),
             stage='connect', auth_method=None, token_hint=None):
    """The diagnosis code for one failure. Pure: every input is a plain value.

    ``stage`` is what was being done: ``connect`` (connectionData, validity), ``project`` (reading the
    project), ``scope`` (a scope probe) or ``api`` (any other call).
    """
    wrong_form = auth_method == 'bearer' and token_hint == 'pat'
    if kind == 'tls':
        return 'TLS_ERROR'
    if kind == 'connection':
        return 'CONNECTION_ERROR'
    if kind == 'response':
        return 'SERVER_ERROR'
    if kind == 'signin':
        return 'ANONYMOUS_REDIRECT'
    if tf_code in _TF_CODES:
        return _TF_CODES[tf_code]
    if status == 400 and type_key in ('VssVersionOutOfRangeException', 'VssInvalidPreviewVersionException'):
        return 'API_VERSION_UNSUPPORTED'
    if status == 429:
        return 'RATE_LIMITED'
    if status is not None and status >= 500:
        return 'SERVER_ERROR'
    if status == 401:
        if not has_ado_headers and 'basic' in [w.lower() for w in www_authenticate]:
            return 'IIS_BASIC_AUTH_INTERCEPTS'
        if wrong_form:
            return 'ANONYMOUS_REDIRECT'
        if stage in ('scope', 'project'):
            return 'MISSING_SCOPE'
        return 'INVALID_OR_EXPIRED'
    if status == 403:
        if stage in ('scope', 'project'):
            return 'MISSING_SCOPE'
        return 'INVALID_OR_EXPIRED'
    if status == 404:
        if stage == 'project':
            return 'PROJECT_NOT_FOUND'
        if stage == 'connect':
            return 'COLLECTION_NOT_FOUND'
    return 'SERVER_ERROR'


def diagnose(err, stage='connect', auth_method=None, token_hint=None, **context):
    """Diagnosis mapping for an exception raised by the client (AdoError or subclass)."""
    code = classify(
        getattr(err, 'kind', 'error'), status=getattr(err, 'status', None), tf_code=getattr(err, 'tf_code', None),
        type_key=getattr(err, 'type_key', None), has_ado_headers=getattr(err, 'has_ado_headers', True),
        www_authenticate=getattr(err, 'www_authenticate', ()), stage=stage, auth_method=auth_method,
        token_hint=token_hint)
    detail = str(err)
    if code == 'ANONYMOUS_REDIRECT' and auth_method == 'bearer' and token_hint == 'pat':
        detail = 'the access_token looks like a personal access token but was sent as Bearer. ' + detail
    return describe(code, http_status=getattr(err, 'status', None), error_code=getattr(err, 'tf_code', None)
                    or getattr(err, 'type_key', None), detail=detail, **context)


def failure_message(subject, diagnosis):
    """One line a person can act on: what failed, the likely cause, the fix."""
    return '%s: %s %s Fix: %s' % (subject, diagnosis['code'], diagnosis['message'], diagnosis['remediation'])


# --------------------------------------------------------------------------------------------
# Token endpoint failures: Microsoft Entra ID v2 (AADSTS codes) and the legacy Azure DevOps OAuth endpoint.
# --------------------------------------------------------------------------------------------

_RE_AUTHORIZE = ('Authorise again once with flow: authorization_code and a new code, then let the play refresh it '
                 'on schedule (before it expires).')

# AADSTS number -> (code, what happened, what to do)
TOKEN_ERRORS = {
    7000215: ('INVALID_CLIENT_SECRET', 'The client secret is wrong.',
              'Use the secret value (not its id) of the app registration, or create a new secret under Certificates & '
              'secrets and update the stored client_secret.'),
    7000222: ('CLIENT_SECRET_EXPIRED', 'The client secret has expired.',
              'Create a new client secret for the app registration and update the stored client_secret; prefer a '
              'certificate or a federated credential, which do not need rotating secrets.'),
    7000218: ('MISSING_CLIENT_CREDENTIAL', 'The request carried neither a client secret nor a client assertion.',
              'Set client_secret, client_certificate or client_assertion.'),
    700016: ('APP_NOT_FOUND', 'The application (client_id) was not found in the tenant.',
             'Check client_id and tenant_id; the app must be registered in (or consented to) that tenant.'),
    90002: ('TENANT_NOT_FOUND', 'The tenant was not found.',
            'Check tenant_id (the directory id or a verified domain of the Microsoft Entra tenant).'),
    70011: ('INVALID_SCOPE', 'The scope is not valid.',
            'For Azure DevOps use scope 499b84ac-1321-427f-aa17-267ca6975798/.default (the Azure DevOps application id).'),
    500011: ('RESOURCE_NOT_IN_TENANT', 'Azure DevOps is not known as a resource in this tenant.',
             'Use scope 499b84ac-1321-427f-aa17-267ca6975798/.default and check that the tenant is connected to the '
             'organization.'),
    700027: ('CERTIFICATE_NOT_REGISTERED', 'The client assertion is signed with a key that is not registered on the app.',
             'Upload the certificate (public part) to the app registration, or point client_certificate at the PEM '
             'whose certificate is registered.'),
    700024: ('ASSERTION_TIME_INVALID', 'The client assertion is outside its validity period.',
             'Check the controller clock (NTP): the assertion is valid for ten minutes from now.'),
    70021: ('NO_FEDERATED_CREDENTIAL', 'No federated credential of the app matches the assertion (issuer, subject, '
                                       'audience).',
            'Add a federated identity credential to the app with the issuer and subject of the pipeline token (for '
            'example subject sc://ORG/PROJECT/CONNECTION) and audience api://AzureADTokenExchange.'),
    70008: ('REFRESH_TOKEN_EXPIRED', 'The refresh token or authorization code has expired.', _RE_AUTHORIZE),
    700082: ('REFRESH_TOKEN_EXPIRED', 'The refresh token expired after a long time without use.', _RE_AUTHORIZE),
    54005: ('CODE_ALREADY_USED', 'The authorization code was already redeemed: a code works once.',
            'Obtain a new code from the authorize URL and run the authorization_code flow again.'),
    53003: ('CONDITIONAL_ACCESS', 'A conditional access policy blocked the token request.',
            'Ask the Entra administrator to allow this workload (conditional access for workload identities), or run '
            'from an allowed network.'),
}

# OAuth 'error' value -> (code, what happened, what to do), when no AADSTS code decides.
OAUTH_ERRORS = {
    'invalid_grant': ('REFRESH_TOKEN_INVALID',
                      'The refresh token or code was rejected: expired, revoked, or already used (Azure DevOps OAuth '
                      'refresh tokens are single use; a consumed one is refused).',
                      _RE_AUTHORIZE + ' If another job refreshed the same token, read the new pair from the store instead.'),
    'invalid_client': ('INVALID_CLIENT', 'The client credentials (client id, secret or assertion) were rejected.',
                       'Check client_id and the client secret or certificate of the app registration.'),
    'unauthorized_client': ('UNAUTHORIZED_CLIENT', 'The app may not use this grant type.',
                            'Enable the flow for the app registration, or use the flow it allows.'),
    'invalid_scope': ('INVALID_SCOPE', 'The scope is not valid for this app.',
                      'Request only scopes the app was registered with.'),
    'invalid_request': ('INVALID_REQUEST', 'The token endpoint refused the request as malformed.',
                        'Check redirect_uri (it must match the app registration exactly) and the other flow settings.'),
    'unsupported_grant_type': ('UNSUPPORTED_GRANT_TYPE', 'The endpoint does not support this flow.',
                               'Use a flow the provider supports (client_credentials, refresh_token, authorization_code).'),
    'temporarily_unavailable': ('TOKEN_ENDPOINT_UNAVAILABLE', 'The identity provider is temporarily unavailable.',
                                'Retry later.'),
}


def diagnose_token_error(status, body):
    """Diagnosis mapping for a token endpoint error answer (Entra ``error``/``error_codes`` or legacy
    ``Error``/``ErrorDescription``). ``body`` is the parsed JSON (or None)."""
    body = body if isinstance(body, dict) else {}
    error = body.get('error') or body.get('Error')
    description = body.get('error_description') or body.get('ErrorDescription') or ''
    codes = body.get('error_codes') or []
    aadsts = None
    for number in list(codes) + [description]:
        text = str(number)
        if text.startswith('AADSTS'):
            text = text[6:]
        digits = ''.join(ch for ch in text.split(':', 1)[0] if ch.isdigit())
        if digits and int(digits) in TOKEN_ERRORS:
            aadsts = int(digits)
            break
    if aadsts is not None:
        code, message, remediation = TOKEN_ERRORS[aadsts]
        error_code = 'AADSTS%d' % aadsts
    elif error in OAUTH_ERRORS:
        code, message, remediation = OAUTH_ERRORS[error]
        error_code = error
    elif status == 429 or (isinstance(status, int) and status >= 500):
        # Throttling or a server/proxy fault that outlasted the retries: not the client settings.
        code, message, remediation = OAUTH_ERRORS['temporarily_unavailable']
        message = '%s (HTTP %s, after the allowed retries).' % (message.rstrip('.'), status)
        remediation = 'Retry later, or raise retries; Retry-After is honoured up to retry_max_delay.'
        error_code = error
    else:
        code, message, remediation = ('TOKEN_REQUEST_FAILED', 'The token endpoint refused the request (HTTP %s).' % status,
                                      'Read the provider message below and check the client settings.')
        error_code = error
    first_line = ' '.join(str(description).split('\r\n', 1)[0].split())[:300]
    if first_line:
        message = '%s Provider said: %s' % (message, first_line)
    return {'code': code, 'message': message, 'remediation': remediation, 'http_status': status,
            'error_code': error_code}


# --------------------------------------------------------------------------------------------
# PAT lifecycle API: logical errors arrive as HTTP 200 with patTokenError set.
# --------------------------------------------------------------------------------------------

PAT_TOKEN_ERRORS = {
    'fullScopePatPolicyViolation': 'The organization policy forbids full-scoped PATs: request explicit scopes instead of '
                                   'app_token.',
    'globalPatPolicyViolation': 'The organization policy forbids PATs valid for all organizations (global PATs are retired).',
    'patLifespanPolicyViolation': 'valid_to is beyond the maximum PAT lifetime the organization policy allows: choose an '
                                  'earlier date or fewer valid_days.',
    'invalidValidTo': 'valid_to is not a valid expiry date (it must be in the future).',
    'invalidExpirationDate': 'valid_to is not a valid expiry date (it must be in the future and within the policy).',
    'expiredPatCannotBeExtended': 'An expired PAT cannot be extended: use renew_strategy regenerate.',
    'accessDenied': 'The identity may not manage PATs (access denied by the organization).',
    'invalidScope': 'A scope is not valid: use scopes such as vso.code or vso.build, or app_token with allow_full_scope.',
    'displayNameRequired': 'display_name is required.',
    'invalidDisplayName': 'display_name is not valid.',
    'authorizationNotFound': 'The PAT was not found (revoked or deleted meanwhile).',
    'tokenNotFound': 'The PAT was not found (revoked or deleted meanwhile).',
    'disablePatCreationPolicyViolation': 'The organization policy blocks creating PATs.',
    'globalPATCreationBlocked': 'Creating global PATs is blocked.',
    'userIdRequired': 'The call did not identify a user: use a user\'s Microsoft Entra access token.',
    'invalidUserType': 'This kind of identity cannot own PATs: use a user\'s Microsoft Entra access token.',
}


def pat_token_error(code):
    """A clear sentence for a patTokenError value (any value the service may add included)."""
    return PAT_TOKEN_ERRORS.get(code, 'The PAT lifecycle API refused the request (patTokenError %s).' % code)
