# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every diagnosis code, reached from recorded Azure DevOps answers through the real client."""

from __future__ import annotations

import pytest
import requests

from ansible_collections.azdo.auth.plugins.module_utils._client import AdoError
from ansible_collections.azdo.auth.plugins.module_utils._diagnosis import CODES, classify, describe, diagnose, failure_message

from .conftest import ADO_HEADERS, make_response, vss_error

IIS_401 = make_response(401, '<html><head><title>401 - Unauthorized: Access is denied due to invalid credentials.</title>',
                        {'Content-Type': 'text/html', 'Server': 'Microsoft-IIS/10.0',
                         'WWW-Authenticate': 'Basic realm="ado.example.com", Negotiate, NTLM'})
ADO_401 = make_response(401, '', dict(ADO_HEADERS, **{'WWW-Authenticate': 'Bearer authorization_uri=https://login.example/, Basic realm="x"'}))
TF400813 = make_response(401, vss_error("TF400813: The user 'a1' is not authorized to access this resource.",
                                        'UnauthorizedRequestException'),
                         dict(ADO_HEADERS, **{'X-TFS-ServiceError': 'TF400813%3A%20The%20user%20is%20not%20authorized'}))
VS403463 = make_response(403, vss_error('VS403463: The conditional access policy defined by your Azure Active Directory '
                                        'administrator has failed.', 'ConditionalAccessPolicyException'), ADO_HEADERS)
TF401444 = make_response(401, vss_error('TF401444: Please sign-in at least once as a1 in a web browser to enable access '
                                        'to the service.', 'UnauthorizedRequestException'), ADO_HEADERS)
OUT_OF_RANGE = make_response(400, vss_error('The requested REST API version of 7.1 is out of range for this server. '
                                            'The latest REST API version this server supports is 5.0.',
                                            'VssVersionOutOfRangeException'), ADO_HEADERS)
PROJECT_404 = make_response(404, vss_error('TF200016: The following project does not exist: Nope.',
                                           'ProjectDoesNotExistWithNameException'), ADO_HEADERS)
HOST_404 = make_response(404, vss_error('TF400324: Team Foundation services are not available: collection not found.',
                                        'HostNotFoundException'), ADO_HEADERS)
SIGN_IN_203 = make_response(203, '<html><title>Azure DevOps Services | Sign In</title></html>', {'Content-Type': 'text/html'})
THROTTLED = make_response(429, '', dict(ADO_HEADERS, **{'Retry-After': '1'}))
DOWN = make_response(503, '<html>Service Unavailable</html>', {'Content-Type': 'text/html'})
MALFORMED = make_response(200, '{"authenticatedUser": {"id": ', {'Content-Type': 'application/json'})

CASES = [
    # (answer, stage, client kwargs, expected code)
    (ADO_401, 'connect', {}, 'INVALID_OR_EXPIRED'),
    (SIGN_IN_203, 'connect', {}, 'ANONYMOUS_REDIRECT'),
    (ADO_401, 'connect', {'access_token': 'p' * 52}, 'ANONYMOUS_REDIRECT'),
    (TF400813, 'connect', {}, 'NOT_COLLECTION_MEMBER'),
    (VS403463, 'connect', {}, 'CONDITIONAL_ACCESS'),
    (TF401444, 'connect', {'access_token': 'eyJ0eXAi.eyJzdWIi.c2ln'}, 'SERVICE_PRINCIPAL_NOT_IN_ORG'),
    (ADO_401, 'scope', {}, 'MISSING_SCOPE'),
    (PROJECT_404, 'project', {}, 'PROJECT_NOT_FOUND'),
    (HOST_404, 'connect', {}, 'COLLECTION_NOT_FOUND'),
    (OUT_OF_RANGE, 'api', {'api_version': '7.1'}, 'API_VERSION_UNSUPPORTED'),
    (IIS_401, 'connect', {}, 'IIS_BASIC_AUTH_INTERCEPTS'),
    (requests.exceptions.SSLError('certificate verify failed: self signed certificate'), 'connect', {}, 'TLS_ERROR'),
    (requests.exceptions.ConnectionError('Connection refused'), 'connect', {}, 'CONNECTION_ERROR'),
    (THROTTLED, 'connect', {}, 'RATE_LIMITED'),
    (DOWN, 'connect', {}, 'SERVER_ERROR'),
    (MALFORMED, 'connect', {}, 'SERVER_ERROR'),
]


@pytest.mark.parametrize('answer, stage, kwargs, expected', CASES, ids=[c[3] + '-' + c[1] for c in CASES])
def test_recorded_answer_gives_code(client_factory, answer, stage, kwargs, expected):
    client = client_factory([answer], retries=0, **kwargs)
    with pytest.raises(AdoError) as err:
        client.get('_apis/connectionData', api_version='7.1' if stage == 'api' else None)
    diagnosis = diagnose(err.value, stage, auth_method=client.auth_method, token_hint=client.token_hint,
                         project='Nope', scopes=['vso.build'])
    assert diagnosis['code'] == expected
    assert diagnosis['remediation']
    assert '(unknown)' not in diagnosis['message']


def test_every_code_is_reachable_and_documented():
    reached = {case[3] for case in CASES} | {'OK'}
    assert reached == set(CODES)
    with open('docs/troubleshooting-401.md', encoding='utf-8') as handle:
        guide = handle.read()
    for code in CODES:
        assert '`%s`' % code in guide, code


def test_describe_fills_context_and_detail():
    result = describe('MISSING_SCOPE', http_status=401, scopes=['vso.code', 'vso.build'], detail='HTTP 401')
    assert result['message'].startswith('The credential is valid but lacks the scope needed for: vso.code, vso.build.')
    assert 'Server said: HTTP 401' in result['message']
    assert result['http_status'] == 401


def test_iis_needs_missing_ado_headers():
    # The same challenge sent by Azure DevOps itself (X-TFS headers present) is a plain invalid credential.
    assert classify('http', status=401, has_ado_headers=True, www_authenticate=['basic']) == 'INVALID_OR_EXPIRED'
    assert classify('http', status=401, has_ado_headers=False, www_authenticate=['basic']) == 'IIS_BASIC_AUTH_INTERCEPTS'
    assert classify('http', status=401, has_ado_headers=False, www_authenticate=['negotiate']) == 'INVALID_OR_EXPIRED'


def test_failure_message_names_cause_and_fix():
    text = failure_message('Credential check failed', describe('TLS_ERROR'))
    assert text.startswith('Credential check failed: TLS_ERROR ')
    assert 'Fix: ' in text
