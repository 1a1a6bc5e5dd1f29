# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Property-based fuzzing of the module_utils boundary: any input ends in a typed, clear error or a
documented normalisation, never a traceback, and fast."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.azdo.auth.plugins.module_utils import _client, _diagnosis, _oauth, _pat_check
from ansible_collections.azdo.auth.plugins.module_utils._client import AdoClient, AdoConfigError
from ansible_collections.azdo.auth.plugins.module_utils._runner import ModuleFailure, call
from ansible_collections.azdo.auth.plugins.module_utils._stores import StoreError, build_entry, validate_name

FAST = settings(max_examples=300, deadline=1000, suppress_health_check=[HealthCheck.too_slow])

text = st.text(max_size=200)
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
                           lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
                           max_leaves=12)
urls = st.one_of(text, st.builds(lambda scheme, host, path: '%s://%s/%s' % (scheme, host, path),
                                 st.sampled_from(['http', 'https', 'ftp', 'HTTPS', '']), text, text))


@FAST
@given(urls, st.booleans())
def test_normalize_url_returns_clean_url_or_config_error(url, allow_http):
    try:
        result = _client.normalize_url(url, allow_http)
    except AdoConfigError as err:
        assert str(err)
        return
    assert result.startswith(('https://', 'http://'))
    assert not any(ch.isspace() for ch in result)
    assert '@' not in result.split('/')[2]
    assert '/_apis' not in result.lower()
    assert allow_http or result.startswith('https://')


@FAST
@given(st.text(max_size=120))
def test_any_pat_is_sent_safely_or_refused(pat):
    try:
        client = AdoClient('https://dev.azure.com/fabrikam', pat=pat)
    except AdoConfigError as err:
        assert pat.strip() == '' or pat.strip() not in str(err) or len(pat.strip()) < 3
        return
    header = client._auth._value  # pylint: disable=protected-access
    assert '\n' not in header and '\r' not in header
    assert header.startswith('Basic ')
    assert client.redact(pat.strip()) == _client.REDACTED


@FAST
@given(st.text(max_size=300))
def test_error_bodies_never_crash_the_parser(body):
    message, type_key, dummy = _client.parse_error_body(body)
    assert message is None or isinstance(message, (str, int, float, list, dict, bool))
    assert type_key is None or type_key is not None


@FAST
@given(json_values)
def test_json_error_bodies_never_crash_the_parser(value):
    _client.parse_error_body(json.dumps(value))


@FAST
@given(st.sampled_from(['http', 'tls', 'connection', 'signin', 'response', 'error']),
       st.one_of(st.none(), st.integers(100, 599)), st.one_of(st.none(), st.sampled_from(['TF400813', 'VS403463', 'TF401444',
                                                                                         'TF123456'])),
       st.one_of(st.none(), text), st.booleans(), st.lists(st.sampled_from(['basic', 'bearer', 'negotiate', 'ntlm'])),
       st.sampled_from(['connect', 'project', 'scope', 'api']), st.sampled_from([None, 'pat', 'bearer', 'ntlm']),
       st.sampled_from([None, 'pat', 'jwt', 'other']))
def test_classify_always_names_a_known_code(kind, status, tf_code, type_key, ado, www, stage, method, hint):
    code = _diagnosis.classify(kind, status, tf_code, type_key, ado, www, stage, method, hint)
    assert code in _diagnosis.CODES


@FAST
@given(st.one_of(st.none(), st.integers(100, 599)), json_values)
def test_token_errors_always_explained(status, body):
    diagnosis = _diagnosis.diagnose_token_error(status, body)
    assert diagnosis['code'] and diagnosis['remediation'] and diagnosis['message']


@FAST
@given(st.one_of(text, st.dictionaries(text, json_values, max_size=5), json_values),
       st.one_of(st.none(), st.dictionaries(text, json_values, max_size=4)))
def test_store_entries_are_built_or_refused(secret, metadata):
    try:
        entry = build_entry(secret, metadata)
    except StoreError as err:
        assert err.kind == 'config'
        return
    assert entry['fingerprint'] and entry['updated_at'].endswith('Z')


@FAST
@given(text)
def test_store_names_are_validated(name):
    try:
        assert validate_name(name) == name
    except StoreError as err:
        assert err.kind == 'config'


@FAST
@given(st.lists(st.one_of(text, st.sampled_from(sorted(_pat_check.SCOPE_PROBES))), max_size=20),
       st.one_of(st.none(), text))
def test_scope_lists_are_validated(scopes, project):
    try:
        result = _pat_check.validate_scopes(scopes, project)
    except AdoConfigError as err:
        assert 'required_scopes' in str(err)
        return
    assert len(result) == len(set(result))
    assert all(scope in _pat_check.SCOPE_PROBES for scope in result)


@FAST
@given(st.fixed_dictionaries({}, optional={
    'provider': st.sampled_from(['entra', 'azure_devops']),
    'flow': st.sampled_from([None, 'client_credentials', 'refresh_token', 'authorization_code']),
    'tenant_id': st.one_of(st.none(), text), 'client_id': st.one_of(st.none(), text),
    'client_secret': st.one_of(st.none(), text), 'code': st.one_of(st.none(), text),
    'redirect_uri': st.one_of(st.none(), text), 'refresh_token': st.one_of(st.none(), text),
    'min_validity': st.integers(-10, 10 ** 6)}))
def test_oauth_inputs_fail_before_any_request(params):
    params.setdefault('provider', 'entra')
    params.setdefault('min_validity', 600)
    params['store'] = None
    params['token_url'] = 'https://login.invalid/token'  # .invalid never resolves: a request would fail loudly
    try:
        _oauth.validate(params)
    except AdoConfigError as err:
        assert str(err)


def test_pat_check_run_with_huge_and_odd_inputs():
    params = {'url': 'https://dev.azure.com/fabrikam', 'pat': 'x' * 52, 'required_scopes': ['vso.unknown'] * 5000}
    failed, result = call(_pat_check.run, params, False, None)
    assert failed and 'vso.unknown' in result['msg']
    failed, result = call(_pat_check.run, dict(params, required_scopes=[], url='https://u:p@dev.azure.com/x'), False, None)
    assert failed and 'embed credentials' in result['msg']
    try:
        _pat_check.run(dict(params, required_scopes=[], pat='tok\nen'), False, None)
    except ModuleFailure as err:
        assert 'white space or control' in err.msg
