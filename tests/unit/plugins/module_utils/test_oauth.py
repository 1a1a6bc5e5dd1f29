# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of plugins/module_utils/_oauth.py and the token-endpoint diagnosis table."""

from __future__ import annotations

import base64
import datetime
import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from ansible_collections.azdo.auth.plugins.module_utils import _oauth
from ansible_collections.azdo.auth.plugins.module_utils._client import AdoConfigError
from ansible_collections.azdo.auth.plugins.module_utils._diagnosis import diagnose_token_error
from ansible_collections.azdo.auth.plugins.module_utils._runner import ModuleFailure
from ansible_collections.azdo.auth.plugins.module_utils._stores import build_entry

NOW = datetime.datetime(2026, 11, 23, 12, 0, tzinfo=datetime.timezone.utc)


def params(**overrides):
    base = {'provider': 'entra', 'flow': None, 'tenant_id': 't1', 'client_id': 'c1', 'client_secret': 's3cr3t-value',
            'authority_host': 'https://login.example', 'min_validity': 600, 'store': None}
    base.update(overrides)
    return base


def _unb64(text):
    return base64.urlsafe_b64decode(text + '=' * (-len(text) % 4))


def test_certificate_assertion_is_a_verifiable_rs256_jwt(tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'sp')])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(NOW - datetime.timedelta(days=1))
            .not_valid_after(NOW + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM) + key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path = tmp_path / 'sp.pem'
    path.write_bytes(pem)
    assertion = _oauth.build_client_assertion('c1', 'https://login.example/t1/oauth2/v2.0/token', str(path), now=1000)
    head, body, signature = assertion.split('.')
    header, claims = json.loads(_unb64(head)), json.loads(_unb64(body))
    assert header['alg'] == 'RS256' and header['x5t'] and header['x5t#S256']
    assert claims['aud'] == 'https://login.example/t1/oauth2/v2.0/token'
    assert claims['iss'] == claims['sub'] == 'c1'
    assert claims['exp'] - claims['nbf'] == 600
    cert.public_key().verify(_unb64(signature), ('%s.%s' % (head, body)).encode(), padding.PKCS1v15(), hashes.SHA256())


def test_certificate_problems_are_clear(tmp_path):
    with pytest.raises(AdoConfigError, match='Cannot read client_certificate'):
        _oauth.build_client_assertion('c1', 'aud', str(tmp_path / 'missing.pem'))
    bad = tmp_path / 'bad.pem'
    bad.write_text('not a pem')
    with pytest.raises(AdoConfigError, match='must be a PEM file'):
        _oauth.build_client_assertion('c1', 'aud', str(bad))


@pytest.mark.parametrize('overrides, fragment', [
    (dict(provider='azure_devops', flow='client_credentials'), 'no client_credentials flow'),
    (dict(client_id=None), 'client_id is required'),
    (dict(tenant_id=None), 'tenant_id is required'),
    (dict(client_secret=None), 'needs client_secret, client_certificate'),
    (dict(flow='authorization_code'), 'needs code'),
    (dict(flow='authorization_code', code='c'), 'needs redirect_uri'),
    (dict(flow='refresh_token'), 'needs refresh_token, or store'),
    (dict(provider='azure_devops', client_secret=None, refresh_token='r'), 'needs client_secret'),
])
def test_validate_refuses(overrides, fragment):
    with pytest.raises(AdoConfigError) as err:
        _oauth.validate(params(**overrides))
    assert fragment in str(err.value)


def test_forms_of_both_providers():
    url, form, secret_fields = _oauth.token_form(params(), 'client_credentials', None)
    assert url == 'https://login.example/t1/oauth2/v2.0/token'
    assert form == {'client_id': 'c1', 'scope': _oauth.ADO_SCOPE, 'client_secret': 's3cr3t-value',
                    'grant_type': 'client_credentials'}
    assert 'client_secret' in secret_fields
    url, form, secret_fields = _oauth.token_form(params(provider='azure_devops', redirect_uri='https://cb'), 'refresh_token', 'rt-1')
    assert url == _oauth.LEGACY_TOKEN_URL
    assert form['grant_type'] == 'refresh_token' and form['assertion'] == 'rt-1'
    assert form['client_assertion'] == 's3cr3t-value'
    assert form['client_assertion_type'] == _oauth.ASSERTION_TYPE
    assert set(secret_fields) == {'client_assertion', 'assertion'}
    dummy, form, dummy2 = _oauth.token_form(params(provider='azure_devops', redirect_uri='https://cb', code='one'),
                                            'authorization_code', None)
    assert form['grant_type'] == _oauth.LEGACY_GRANT_TYPE and form['assertion'] == 'one'


def test_legacy_answer_with_string_expiry_and_jwt_bearer_type():
    fields = _oauth.parse_token_answer({'access_token': 'a', 'token_type': 'jwt-bearer', 'expires_in': '3599',
                                        'refresh_token': 'r', 'scope': 'vso.code'}, NOW)
    assert fields['token_type'] == 'Bearer'
    assert fields['expires_at'] == '2026-11-23T12:59:59Z'
    with pytest.raises(ModuleFailure, match='without an access_token'):
        _oauth.parse_token_answer({'error': 'x'}, NOW)
    with pytest.raises(ModuleFailure, match='not a number'):
        _oauth.parse_token_answer({'access_token': 'a', 'expires_in': 'soon'}, NOW)


def test_freshness_allows_for_clock_skew():
    entry = build_entry({'access_token': 'a'}, {'expires_at': NOW + datetime.timedelta(seconds=700)})
    assert _oauth.is_fresh(entry, 600, NOW)
    assert not _oauth.is_fresh(entry, 650, NOW)  # 650 + 60 s margin > 700
    assert not _oauth.is_fresh(build_entry({'refresh_token': 'r'}, {'expires_at': NOW}), 0, NOW)
    assert not _oauth.is_fresh(None, 0, NOW)


@pytest.mark.parametrize('status, body, code', [
    (401, {'error': 'invalid_client', 'error_description': 'AADSTS7000215: Invalid client secret provided.',
           'error_codes': [7000215]}, 'INVALID_CLIENT_SECRET'),
    (401, {'error': 'invalid_client', 'error_description': 'AADSTS7000222: expired', 'error_codes': [7000222]},
     'CLIENT_SECRET_EXPIRED'),
    (400, {'error': 'invalid_request', 'error_description': "AADSTS90002: Tenant 'x' not found."}, 'TENANT_NOT_FOUND'),
    (400, {'error': 'unauthorized_client', 'error_codes': [700016]}, 'APP_NOT_FOUND'),
    (400, {'error': 'invalid_grant', 'error_codes': [700082]}, 'REFRESH_TOKEN_EXPIRED'),
    (400, {'error': 'invalid_grant', 'error_codes': [54005]}, 'CODE_ALREADY_USED'),
    (400, {'error': 'invalid_client', 'error_codes': [70021]}, 'NO_FEDERATED_CREDENTIAL'),
    (400, {'error': 'invalid_grant', 'error_codes': [53003]}, 'CONDITIONAL_ACCESS'),
    (400, {'Error': 'invalid_grant', 'ErrorDescription': 'The refresh token has already been used.'}, 'REFRESH_TOKEN_INVALID'),
    (401, {'Error': 'invalid_client', 'ErrorDescription': 'The client assertion is not valid.'}, 'INVALID_CLIENT'),
    (500, None, 'TOKEN_ENDPOINT_UNAVAILABLE'),
    (429, {'error': 'throttled'}, 'TOKEN_ENDPOINT_UNAVAILABLE'),
    (418, None, 'TOKEN_REQUEST_FAILED'),
])
def test_token_errors(status, body, code):
    diagnosis = diagnose_token_error(status, body)
    assert diagnosis['code'] == code
    assert diagnosis['remediation']
    assert diagnosis['http_status'] == status


def test_recovery_file_holds_the_pair_but_no_store_secret(tmp_path):
    entry = build_entry({'access_token': 'at', 'refresh_token': 'rt'}, {'token_type': 'Bearer'})
    path, command = _oauth.write_recovery(str(tmp_path), {'name': 'pair', 'store': {
        'backend': 'hashicorp_vault', 'url': 'https://vault.example', 'token': 'vault-token-value', 'secret_id': None}},
        entry)
    content = json.loads(open(path).read())
    assert content['recovery_secret'] == {'access_token': 'at', 'refresh_token': 'rt'}
    assert content['recovery_store'] == {'backend': 'hashicorp_vault', 'url': 'https://vault.example'}
    assert 'vault-token-value' not in open(path).read()
    assert path in command and 'azdo.auth.ado_token_store' in command


def test_refresh_is_never_sent_twice_after_a_server_error(monkeypatch):
    """A legacy refresh the server may have processed (then failed) must not be repeated: it would consume the new
    refresh token and lose it."""
    sent = []

    class Transport(object):
        def __init__(self, **kwargs):
            pass

        def post_form(self, url, form, secret_fields=(), idempotent=False):
            sent.append((form['grant_type'], idempotent))
            raise _oauth.AdoError('down')

    monkeypatch.setattr(_oauth, 'HttpTransport', Transport)
    for flow, grant in (('refresh_token', 'refresh_token'), ('client_credentials', 'client_credentials')):
        with pytest.raises(ModuleFailure):
            _oauth._call_token_endpoint(params(provider='entra', refresh_token='r'), flow, 'r', None)
    assert sent == [('refresh_token', False), ('client_credentials', True)]
