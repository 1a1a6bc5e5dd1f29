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
