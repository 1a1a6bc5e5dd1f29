# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of plugins/module_utils/_pat_check.py: flow, round trips and results."""

from __future__ import annotations

import pytest

from ansible_collections.azdo.auth.plugins.module_utils._client import AREA_PACKAGING, AdoConfigError
from ansible_collections.azdo.auth.plugins.module_utils._pat_check import SCOPE_PROBES, check_credential, run, validate_scopes
from ansible_collections.azdo.auth.plugins.module_utils._runner import ModuleFailure, call

from .conftest import ADO_HEADERS, make_response, vss_error

USER = {'id': 'u-1', 'descriptor': 'Microsoft.IdentityModel.Claims.ClaimsIdentity;fabrikam\\svc',
        'providerDisplayName': 'Build Service', 'properties': {'Account': {'$type': 'System.String', '$value': 'svc@fabrikam.example'}}}


def connection_data(deployment='hosted', instance='i-1', deployment_id='d-1', user=None):
    return make_response(200, {'authenticatedUser': user or USER, 'authorizedUser': user or USER, 'instanceId': instance,
                               'deploymentId': deployment_id, 'deploymentType': deployment}, ADO_HEADERS)


OK = make_response(200, {'count': 1, 'value': [{}]}, ADO_HEADERS)
DENIED = make_response(401, '', ADO_HEADERS)


def test_valid_credential_costs_one_request(client_factory):
    client = client_factory([connection_data()])
    result = check_credential(client)
    assert result['valid'] is True
    assert result['diagnosis']['code'] == 'OK'
    assert result['requests'] == 1
    assert result['authenticated_user'] == {'id': 'u-1', 'display_name': 'Build Service',
                                            'unique_name': 'svc@fabrikam.example', 'descriptor': USER['descriptor']}
    assert result['server'] == {'api_version': '7.1', 'product': 'Azure DevOps Services', 'instance_id': 'i-1'}


def test_each_scope_and_project_costs_one_more(client_factory):
    client = client_factory([connection_data(), make_response(200, {'id': 'p1', 'name': 'Web'}, ADO_HEADERS), OK, DENIED])
    result = check_credential(client, ['vso.code', 'vso.build'], 'Web')
    assert result['requests'] == 4
    assert result['scopes'] == {'vso.code': True, 'vso.build': False}
    assert result['project'] == {'id': 'p1', 'name': 'Web'}
    assert result['diagnosis']['code'] == 'MISSING_SCOPE'
    assert 'vso.build' in result['diagnosis']['message']
    assert result['valid'] is False


def test_probe_on_another_host_looks_the_host_up_once(client_factory):
    area = make_response(200, {'id': AREA_PACKAGING, 'locationUrl': 'https://feeds.example/fabrikam'}, ADO_HEADERS)
    client = client_factory([connection_data(), area, OK])
    result = check_credential(client, ['vso.packaging'])
    assert result['valid']
    assert client.transport.calls[2]['url'] == 'https://feeds.example/fabrikam/_apis/packaging/feeds'


def test_deployment_level_url_is_collection_not_found(client_factory):
    client = client_factory([connection_data('onPremises', 'same', 'same')], url='https://ado.example.com/tfs')
    result = check_credential(client)
    assert result['diagnosis']['code'] == 'COLLECTION_NOT_FOUND'
    assert 'DefaultCollection' in result['diagnosis']['message']


def test_anonymous_identity_is_not_success(client_factory):
    anonymous = {'id': 'aa', 'descriptor': 'Microsoft.TeamFoundation.UnauthenticatedIdentity;S-1-0-0'}
    client = client_factory([connection_data(user=anonymous)])
    assert check_credential(client)['diagnosis']['code'] == 'ANONYMOUS_REDIRECT'


def test_project_not_found_and_unscoped_project(client_factory):
    missing = make_response(404, vss_error('TF200016: The following project does not exist: Nope.'), ADO_HEADERS)
    result = check_credential(client_factory([connection_data(), missing]), [], 'Nope')
    assert result['diagnosis']['code'] == 'PROJECT_NOT_FOUND'
    assert 'Nope' in result['diagnosis']['message']
    result = check_credential(client_factory([connection_data(), DENIED]), [], 'Web')
    assert result['diagnosis']['code'] == 'MISSING_SCOPE'
    assert 'vso.project' in result['diagnosis']['message']


def test_remote_failure_during_probe_stops(client_factory):
    client = client_factory([connection_data(), make_response(503, '', {})], retries=0)
    result = check_credential(client, ['vso.code', 'vso.work'])
    assert result['diagnosis']['code'] == 'SERVER_ERROR'
    assert result['requests'] == 2


def test_on_prem_version_learned_from_first_probe(client_factory):
    too_new = make_response(400, vss_error('The requested REST API version of 7.1 is out of range for this server. '
                                           'The latest REST API version this server supports is 6.0.',
                                           'VssVersionOutOfRangeException'), ADO_HEADERS)
    client = client_factory([connection_data('onPremises'), too_new, OK, OK], url='https://ado.example.com/tfs/C')
    result = check_credential(client, ['vso.code', 'vso.work'])
    assert result['valid']
    assert result['server']['api_version'] == '6.0'
    assert result['server']['product'] == 'Azure DevOps Server 2020'
    assert result['requests'] == 4  # connectionData + one negotiation answer + two probes


def test_validate_scopes():
    assert validate_scopes(['vso.code', 'vso.code'], None) == ['vso.code']
    with pytest.raises(AdoConfigError, match='known scopes are'):
        validate_scopes(['vso.everything'], None)
    with pytest.raises(AdoConfigError, match='set project'):
        validate_scopes(['vso.release'], None)
    assert set(SCOPE_PROBES) >= {'vso.project', 'vso.code', 'vso.build', 'vso.work', 'vso.packaging', 'vso.identity',
                                 'vso.release', 'vso.variablegroups_read', 'vso.serviceendpoint', 'vso.agentpools'}


def test_run_fails_with_diagnosis_unless_told_not_to(monkeypatch, client_factory):
    client = client_factory([DENIED])
    monkeypatch.setattr('ansible_collections.azdo.auth.plugins.module_utils._pat_check.client_from_params',
                        lambda params, warn=None: client)
    params = {'url': 'https://dev.azure.com/fabrikam', 'pat': 'x' * 52, 'required_scopes': [], 'fail_on_invalid': True}
    failed, result = call(run, params, False, None)
    assert failed
    assert result['msg'].startswith('Credential check against https://dev.azure.com/fabrikam failed: INVALID_OR_EXPIRED')
    assert result['diagnosis']['code'] == 'INVALID_OR_EXPIRED'
    params['fail_on_invalid'] = False
    failed, result = call(run, params, True, None)
    assert not failed and result['valid'] is False and result['changed'] is False


def test_run_bad_input_is_a_clear_failure():
    with pytest.raises(ModuleFailure, match='plain http'):
        run({'url': 'http://ado.example.com/tfs/C', 'pat': 'x' * 52, 'required_scopes': []}, False, None)


def test_environment_credentials_apply_only_when_none_is_given(monkeypatch):
    from ansible_collections.azdo.auth.plugins.module_utils._argspec import client_from_params
    monkeypatch.setenv('AZURE_DEVOPS_EXT_PAT', 'e' * 52)
    monkeypatch.setenv('SYSTEM_ACCESSTOKEN', 'eyJ.env.token')
    base = {'url': 'https://dev.azure.com/fabrikam'}
    assert client_from_params(base).auth_method == 'pat'
    assert client_from_params(dict(base, access_token='eyJ.given.token')).auth_method == 'bearer'
    monkeypatch.delenv('AZURE_DEVOPS_EXT_PAT')
    assert client_from_params(base).auth_method == 'bearer'
