# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of plugins/module_utils/_client.py against recorded answers."""

from __future__ import annotations

import base64
import email.utils
import time

import pytest
import requests

from ansible_collections.azdo.auth.plugins.module_utils import _client
from ansible_collections.azdo.auth.plugins.module_utils._client import (
    AdoClient, AdoConfigError, AdoConnectionError, AdoHttpError, AdoResponseError, AdoSignInError, AdoTlsError,
    cap_version, normalize_url, parse_retry_after, parse_version, product_for)

from .conftest import ADO_HEADERS, make_response, vss_error

PAT = 'q' * 52


# -- URL handling ------------------------------------------------------------------------------

@pytest.mark.parametrize('given, expected', [
    ('https://dev.azure.com/fabrikam', 'https://dev.azure.com/fabrikam'),
    ('https://dev.azure.com/fabrikam/', 'https://dev.azure.com/fabrikam'),
    ('  https://dev.azure.com/fabrikam/_apis/projects ', 'https://dev.azure.com/fabrikam'),
    ('https://ado.example.com/tfs/DefaultCollection/_apis', 'https://ado.example.com/tfs/DefaultCollection'),
    ('HTTPS://ado.example.com:8443/tfs/Coll', 'https://ado.example.com:8443/tfs/Coll'),
])
def test_normalize_url(given, expected):
    assert normalize_url(given) == expected


@pytest.mark.parametrize('given, fragment', [
    ('dev.azure.com/fabrikam', 'has no scheme'),
    ('https://user:hunter2-pw@dev.azure.com/fabrikam', 'must not embed credentials'),
    ('http://ado.example.com/tfs/Coll', 'plain http'),
    ('ftp://ado.example.com/tfs', 'must use https'),
    ('https://dev.azure.com', 'has no organization'),
    ('', 'url is required'),
    ('https://ado.example.com/tfs/My Collection', 'white space'),
])
def test_normalize_url_refuses(given, fragment):
    with pytest.raises(AdoConfigError) as err:
        normalize_url(given)
    assert fragment in str(err.value)
    assert 'hunter2-pw' not in str(err.value)


def test_http_allowed_when_asked():
    assert normalize_url('http://127.0.0.1:8080/tfs/C', allow_http=True) == 'http://127.0.0.1:8080/tfs/C'


# -- authentication header -------------------------------------------------------------------

def test_pat_is_sent_as_basic_with_empty_user(client_factory):
    client = client_factory([make_response(200, {'ok': 1})], pat=PAT)
    client.get('_apis/connectionData')
    prepared = requests.Request('GET', 'https://x/', auth=client.transport.calls[0]['auth']).prepare()
    header = prepared.headers['Authorization']
    assert header == 'Basic ' + base64.b64encode((':' + PAT).encode()).decode()
    assert client.auth_method == 'pat'


def test_access_token_is_sent_as_bearer(client_factory):
    client = client_factory([make_response(200, {})], access_token='eyJhbGciOi.eyJzdWIiOi.c2ln')
    client.get('_apis/connectionData')
    prepared = requests.Request('GET', 'https://x/', auth=client.transport.calls[0]['auth']).prepare()
    assert prepared.headers['Authorization'] == 'Bearer eyJhbGciOi.eyJzdWIiOi.c2ln'
    assert client.token_hint == 'jwt'


def test_standard_headers_and_tls_on_every_request(client_factory):
    client = client_factory([make_response(200, {})], ca_path='/tmp/ca.pem')
    client.get('_apis/connectionData')
    call = client.transport.calls[0]
    assert call['verify'] == '/tmp/ca.pem'
    assert call['allow_redirects'] is False
    assert call['timeout'] == 30
    assert client.session.headers['X-TFS-FedAuthRedirect'] == 'Suppress'
    assert client.session.headers['Accept'] == 'application/json'


def test_validate_certs_false_is_passed_per_request(client_factory):
    client = client_factory([make_response(200, {})], validate_certs=False)
    client.get('_apis/connectionData')
    assert client.transport.calls[0]['verify'] is False


def test_pat_whitespace_is_trimmed_with_warning():
    warnings = []
    client = AdoClient('https://dev.azure.com/fabrikam', pat=PAT + '\n', warn=warnings.append)
    assert warnings and 'white space' in warnings[0]
    assert PAT not in warnings[0]
    assert client.redact('x %s y' % PAT) == 'x ******** y'


@pytest.mark.parametrize('kwargs, fragment', [
    (dict(pat=PAT, access_token='eyJ.a.b'), 'mutually exclusive'),
    (dict(), 'No credential'),
    (dict(pat='   '), 'is empty'),
    (dict(pat='abc\u00e9def'), 'non-ASCII'),
    (dict(pat='abc def'), 'white space or control'),
    (dict(auth_method='bearer', pat=PAT), 'needs access_token'),
    (dict(auth_method='ntlm', username='CORP\\svc'), 'needs username and password'),
    (dict(auth_method='kerberos', pat=PAT), 'auth_method must be one of'),
    (dict(pat=PAT, api_version='latest'), 'is not an api-version'),
])
def test_bad_credentials_input(kwargs, fragment):
    with pytest.raises(AdoConfigError) as err:
        AdoClient('https://dev.azure.com/fabrikam', **kwargs)
    assert fragment in str(err.value)


def test_ntlm_auth_object():
    client = AdoClient('https://ado.example.com/tfs/C', username='CORP\\svc', password='pw-secret-1')
    assert client.auth_method == 'ntlm'
    assert type(client._auth).__name__ == 'HttpNtlmAuth'
    assert client.redact('pw-secret-1') == '********'


# -- retries ------------------------------------------------------------------------------------

def test_retry_after_seconds_is_honoured(client_factory):
    client = client_factory([make_response(429, '', {'Retry-After': '7'}), make_response(200, {'v': 1})])
    assert client.get('_apis/projects') == {'v': 1}
    assert client.sleeps == [pytest.approx(7.0, abs=0.2)]
    assert client.request_count == 2


def test_retry_after_http_date_is_honoured(client_factory):
    when = email.utils.formatdate(time.time() + 20, usegmt=True)
    client = client_factory([make_response(503, '', {'Retry-After': when}), make_response(200, {})])
    client.get('_apis/projects')
    assert 15 <= client.sleeps[0] <= 21


def test_retry_after_is_capped(client_factory):
    client = client_factory([make_response(429, '', {'Retry-After': '3600'}), make_response(200, {})],
                            retry_max_delay=5)
    client.get('_apis/projects')
    assert client.sleeps == [pytest.approx(5.0, abs=0.2)]


def test_retries_are_bounded_then_error(client_factory):
    client = client_factory([make_response(503, 'down', {})], retries=2)
    with pytest.raises(AdoHttpError) as err:
        client.get('_apis/projects')
    assert err.value.status == 503
    assert client.request_count == 3
    assert len(client.sleeps) == 2


def test_connection_errors_are_retried_then_typed(client_factory):
    client = client_factory([requests.exceptions.ConnectionError('refused')], retries=1)
    with pytest.raises(AdoConnectionError) as err:
        client.get('_apis/connectionData')
    assert 'after 2 attempt' in str(err.value)


def test_tls_error_is_not_retried(client_factory):
    client = client_factory([requests.exceptions.SSLError('certificate verify failed')], retries=3)
    with pytest.raises(AdoTlsError):
        client.get('_apis/connectionData')
    assert client.request_count == 1


def test_retry_budget_is_shared_across_requests(client_factory):
    client = client_factory([make_response(500, '', {})], retries=1)
    client._retry_budget = 1
    with pytest.raises(AdoHttpError):
        client.get('a')
    with pytest.raises(AdoHttpError):
        client.get('b')
    assert client.request_count == 3  # 2 for the first call, 1 for the second (budget spent)


def test_parse_retry_after_forms():
    assert parse_retry_after('12') == 12.0
    assert parse_retry_after(None) is None
    assert parse_retry_after('soon') is None
    assert parse_retry_after(email.utils.formatdate(1000, usegmt=True), now=990) == 10.0


# -- answers that are not what they seem --------------------------------------------------------

def test_203_sign_in_page_is_a_failure(client_factory):
    client = client_factory([make_response(203, '<html>Sign in</html>', {'Content-Type': 'text/html'})])
    with pytest.raises(AdoSignInError) as err:
        client.get('_apis/connectionData')
    assert err.value.status == 203


def test_200_html_is_a_failure(client_factory):
    client = client_factory([make_response(200, '<html><body>Sign in</body></html>', {'Content-Type': 'text/html'})])
    with pytest.raises(AdoSignInError):
        client.get('_apis/connectionData')


def test_redirect_to_sign_in_is_a_failure(client_factory):
    client = client_factory([make_response(302, '', {'Location': 'https://app.vssps.visualstudio.com/_signin?realm=x'})])
    with pytest.raises(AdoSignInError) as err:
        client.get('_apis/connectionData')
    assert 'sign-in page' in str(err.value)


def test_redirect_to_other_host_is_not_followed(client_factory):
    client = client_factory([make_response(302, '', {'Location': 'https://evil.example.net/collect'})])
    with pytest.raises(AdoHttpError) as err:
        client.get('_apis/projects')
    assert client.request_count == 1
    assert 'another host' in str(err.value)
    # not a sign-in page: the credential was not refused, so not ANONYMOUS_REDIRECT
    assert not isinstance(err.value, AdoSignInError) and err.value.kind == 'http'


def test_redirect_to_same_host_is_followed(client_factory):
    client = client_factory([make_response(301, '', {'Location': '/fabrikam/_apis/projects2'}),
                             make_response(200, {'count': 0, 'value': []})])
    assert client.get('_apis/projects') == {'count': 0, 'value': []}
    assert client.transport.calls[1]['url'] == 'https://dev.azure.com/fabrikam/_apis/projects2'


def test_malformed_json_is_typed(client_factory):
    client = client_factory([make_response(200, '{"count": 1, "val', {'Content-Type': 'application/json'})])
    with pytest.raises(AdoResponseError) as err:
        client.get('_apis/projects')
    assert 'not valid JSON' in str(err.value)


def test_bom_is_stripped(client_factory):
    client = client_factory([make_response(200, '\ufeff{"a": 1}', {'Content-Type': 'application/json'})])
    assert client.get('x') == {'a': 1}


def test_vss_error_body_and_service_error_header(client_factory):
    body = vss_error("TF400813: The user 'abc' is not authorized to access this resource.", 'UnauthorizedRequestException')
    headers = dict(ADO_HEADERS, **{'X-TFS-ServiceError': 'TF400813%3A%20The%20user%20is%20not%20authorized'})
    client = client_factory([make_response(401, body, headers)])
    with pytest.raises(AdoHttpError) as err:
        client.get('_apis/connectionData')
    assert err.value.tf_code == 'TF400813'
    assert err.value.type_key == 'UnauthorizedRequestException'
    assert err.value.has_ado_headers


def test_service_error_header_alone_gives_code(client_factory):
    headers = dict(ADO_HEADERS, **{'X-TFS-ServiceError': 'VS403463%3A%20conditional%20access'})
    client = client_factory([make_response(403, '', headers)])
    with pytest.raises(AdoHttpError) as err:
        client.get('_apis/connectionData')
    assert err.value.tf_code == 'VS403463'


def test_errors_never_contain_the_secret(client_factory):
    body = vss_error('echo %s and %s' % (PAT, base64.b64encode((':' + PAT).encode()).decode()))
    client = client_factory([make_response(400, body, ADO_HEADERS)], pat=PAT)
    with pytest.raises(AdoHttpError) as err:
        client.get('x')
    assert PAT not in str(err.value)
    assert base64.b64encode((':' + PAT).encode()).decode() not in str(err.value)


# -- api-version negotiation ---------------------------------------------------------------------

OUT_OF_RANGE = vss_error('The requested REST API version of 7.1 is out of range for this server. '
                         'The latest REST API version this server supports is 5.0.', 'VssVersionOutOfRangeException')


def test_version_negotiated_once_per_server_and_cached(client_factory):
    client = client_factory([make_response(400, OUT_OF_RANGE, ADO_HEADERS), make_response(200, {'a': 1}),
                             make_response(200, {'b': 2})], url='https://ado.example.com/tfs/C')
    assert client.get('_apis/projects', api_version='7.1') == {'a': 1}
    assert client.transport.calls[0]['params']['api-version'] == '7.1'
    assert client.transport.calls[1]['params']['api-version'] == '5.0'
    assert client.server_api_version == '5.0'
    # A second client for the same server in the same run spends no round trip on it.
    other = client_factory([make_response(200, {'c': 3})], url='https://ado.example.com/tfs/C')
    other.get('_apis/git/repositories', api_version='7.1-preview.2')
    assert other.transport.calls[0]['params']['api-version'] == '5.0-preview'
    assert other.request_count == 1


def test_pinned_version_is_not_negotiated(client_factory):
    client = client_factory([make_response(400, OUT_OF_RANGE, ADO_HEADERS)], api_version='7.1')
    with pytest.raises(AdoHttpError) as err:
        client.get('_apis/projects', api_version='7.1')
    assert err.value.type_key == 'VssVersionOutOfRangeException'
    assert client.request_count == 1


def test_version_helpers():
    assert parse_version('7.1-preview.1') == (7, 1, '-preview.1')
    assert cap_version('7.1', '6.0') == '6.0'
    assert cap_version('7.1-preview.2', '6.0') == '6.0-preview'
    assert cap_version('5.0', '6.0') == '5.0'
    assert cap_version('7.1', None) == '7.1'
    with pytest.raises(ValueError):
        parse_version('seven')
    assert product_for('hosted', None) == 'Azure DevOps Services'
    assert product_for('onPremises', '6.0') == 'Azure DevOps Server 2020'
    assert product_for('onPremises', '7.1') == 'Azure DevOps Server 2022.1 or later'
    assert product_for('onPremises', '5.0') == 'Azure DevOps Server 2019'
    assert product_for('onPremises', None) is None


# -- paging and resource areas -------------------------------------------------------------------

def test_paging_by_header_and_by_field(client_factory):
    client = client_factory([
        make_response(200, {'value': [1, 2]}, {'X-MS-ContinuationToken': 'tok1'}),
        make_response(200, {'value': [3], 'continuationToken': 'tok2'}),
        make_response(200, {'value': [4]}),
    ])
    assert list(client.paged('_apis/graph/groups', api_version='7.1-preview.1')) == [1, 2, 3, 4]
    assert client.transport.calls[1]['params']['continuationToken'] == 'tok1'
    assert client.transport.calls[2]['params']['continuationToken'] == 'tok2'


def test_area_url_is_looked_up_once(client_factory):
    client = client_factory([make_response(200, {'id': _client.AREA_GRAPH, 'locationUrl': 'https://vssps.dev.azure.com/fabrikam/'})])
    assert client.area_url(_client.AREA_GRAPH) == 'https://vssps.dev.azure.com/fabrikam'
    assert client.area_url(_client.AREA_GRAPH) == 'https://vssps.dev.azure.com/fabrikam'
    assert client.request_count == 1


def test_area_url_falls_back_to_collection_on_404(client_factory):
    client = client_factory([make_response(404, vss_error('not found', 'ResourceAreaNotFound'), ADO_HEADERS)],
                            url='https://ado.example.com/tfs/C')
    assert client.area_url(_client.AREA_GRAPH) == 'https://ado.example.com/tfs/C'


def test_fingerprint():
    assert _client.fingerprint('abc') == 'ba7816bf8f01'
    assert _client.fingerprint(None) is None


def test_run_cache_shares_server_facts_across_processes(client_factory, tmp_path):
    path = str(tmp_path / 'facts.json')
    _client.use_run_cache(path)
    client = client_factory([make_response(400, OUT_OF_RANGE, ADO_HEADERS), make_response(200, {})],
                            url='https://ado.example.com/tfs/C')
    client.get('_apis/projects', api_version='7.1')
    with open(path) as handle:
        saved = handle.read()
    assert '5.0' in saved and 'a' * 52 not in saved
    _client.reset_caches()  # a new worker process of the same run
    _client.use_run_cache(path)
    other = client_factory([make_response(200, {})], url='https://ado.example.com/tfs/C')
    other.get('_apis/projects', api_version='7.1')
    assert other.transport.calls[0]['params']['api-version'] == '5.0'


def test_malformed_redirect_is_not_followed(client_factory):
    client = client_factory([make_response(302, '', {'Location': 'https://[broken/x'})])
    with pytest.raises(AdoHttpError):
        client.get('_apis/projects')
    assert client.request_count == 1


def test_post_is_not_retried_after_a_server_error(client_factory):
    client = client_factory([make_response(503, '', {}), make_response(200, {'created': 1})], retries=3)
    with pytest.raises(AdoHttpError):
        client.request('POST', '_apis/tokens/pats', json_body={'displayName': 'x'})
    assert client.request_count == 1


def test_post_is_retried_after_429(client_factory):
    client = client_factory([make_response(429, '', {'Retry-After': '1'}), make_response(200, {'created': 1})], retries=3)
    assert client.request('POST', '_apis/tokens/pats', json_body={'displayName': 'x'}) == {'created': 1}
    assert client.request_count == 2


def test_post_is_not_retried_after_a_dropped_connection(client_factory):
    client = client_factory([requests.exceptions.ConnectionError('reset by peer'), make_response(200, {})], retries=3)
    with pytest.raises(AdoConnectionError):
        client.request('POST', '_apis/tokens/pats', json_body={})
    assert client.request_count == 1
