# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""AzureKeyVaultStore through the real azure-keyvault-secrets / azure-identity clients against the local stub."""

from __future__ import annotations

import json
import re
import secrets
import socket
import time

import pytest

from ansible_collections.azdo.auth.plugins.module_utils._stores import StoreError, build_entry, open_store
from ansible_collections.azdo.auth.plugins.module_utils._stores.azure_key_vault import CONTENT_TYPE
from tests.emulator.keyvault import start_keyvault

# Every secret value used below, to prove none of them ever shows in an error message or in the stub's stats.
SECRETS = set()


def secret_value(prefix):
    value = '%s-%s' % (prefix, secrets.token_hex(12))
    SECRETS.add(value)
    return value


def assert_clean(text):
    leaked = [value[:6] + '...' for value in SECRETS if value in text]
    assert not leaked, 'secret material in %r (prefixes %s)' % (text[:80], leaked)


def store_error(call, *args, **kwargs):
    with pytest.raises(StoreError) as info:
        call(*args, **kwargs)
    assert_clean(str(info.value))
    return info.value


@pytest.fixture(scope='module')
def keyvault(tmp_path_factory):
    stub = start_keyvault(cert_dir=tmp_path_factory.mktemp('keyvault-tls'))
    SECRETS.add(stub.client_secret)
    yield stub
    stub.stop()


@pytest.fixture(scope='module')
def store(keyvault):
    return open_store(keyvault.store_spec())


def versions(keyvault, name):
    return (keyvault.stats()['secrets'].get(name) or {}).get('versions', 0)


def token_entry(access_token, refresh_token, **metadata):
    return build_entry({'access_token': access_token, 'refresh_token': refresh_token}, metadata)


def test_put_get_and_idempotent_put(keyvault, store):
    access, refresh = secret_value('access'), secret_value('refresh')
    metadata = dict(token_type='Bearer', scope='vso.code vso.build', expires_at='2031-06-30T12:00:00Z',
                    labels={'team': 'platform', 'env': 'prod'})
    entry = token_entry(access, refresh, **metadata)

    first = store.put('pipeline-oauth', entry)
    assert first['changed'] and first['before'] is None
    assert re.match(r'^[0-9a-f]{32}$', first['version'])
    assert versions(keyvault, 'pipeline-oauth') == 1
    assert store.get('pipeline-oauth') == entry
    assert store.version('pipeline-oauth') == first['version']

    # The same entry a minute later (only updated_at differs): nothing is written.
    time.sleep(1)
    again = store.put('pipeline-oauth', token_entry(access, refresh, **metadata))
    assert not again['changed']
    assert again['version'] == first['version']
    assert versions(keyvault, 'pipeline-oauth') == 1

    # A rotated secret: exactly one new version.
    rotated = token_entry(secret_value('access'), refresh, **metadata)
    changed = store.put('pipeline-oauth', rotated)
    assert changed['changed'] and changed['version'] != first['version']
    assert versions(keyvault, 'pipeline-oauth') == 2
    assert store.get('pipeline-oauth') == rotated
    assert store.describe('pipeline-oauth')['version'] == changed['version']


def test_mapping_to_value_tags_and_expiry(store):
    entry = token_entry(secret_value('access'), secret_value('refresh'), scope='vso.tokens',
                        expires_at='2030-02-03T04:05:06Z', labels={'owner': 'infra'})
    store.put('mapping-check', entry)
    secret = store.client.get_secret('mapping-check')
    assert secret.properties.content_type == CONTENT_TYPE
    assert secret.value == json.dumps({'access_token': entry['access_token'], 'refresh_token': entry['refresh_token']},
                                      sort_keys=True, separators=(',', ':'))
    assert secret.properties.tags == {'scope': 'vso.tokens', 'fingerprint': entry['fingerprint'],
                                      'updated_at': entry['updated_at'], 'expires_at': '2030-02-03T04:05:06Z',
                                      'label-owner': 'infra'}
    # expires_at round-trips into the secret's exp attribute (epoch seconds on the wire).
    assert secret.properties.expires_on.isoformat() == '2030-02-03T04:05:06+00:00'

    later = dict(entry, expires_at='2030-12-31T00:00:00Z')
    assert store.put('mapping-check', later)['changed']
    assert store.client.get_secret('mapping-check').properties.expires_on.isoformat() == '2030-12-31T00:00:00+00:00'
    assert store.get('mapping-check')['expires_at'] == '2030-12-31T00:00:00Z'


def test_labels_round_trip(keyvault, store):
    labels = {'team': 'platform', 'cost-centre': '4711', 'note': 'rotated by the pipeline', 'empty': ''}
    entry = build_entry(secret_value('pat'), {'labels': labels})
    store.put('labelled', entry)
    assert store.get('labelled')['labels'] == labels
    # An empty labels mapping is the same as none: no tag, no new version on the next run.
    plain = build_entry(secret_value('pat'), {'labels': {}})
    store.put('unlabelled', plain)
    assert 'labels' not in store.get('unlabelled')
    assert not store.put('unlabelled', dict(plain))['changed']
    assert versions(keyvault, 'unlabelled') == 1


def test_check_mode_writes_nothing(keyvault, store):
    entry = build_entry(secret_value('pat'))
    outcome = store.put('check-mode-entry', entry, check_mode=True)
    assert outcome['changed']
    assert versions(keyvault, 'check-mode-entry') == 0
    assert store.get('check-mode-entry') is None


def test_delete_is_soft_delete(keyvault, store):
    entry = build_entry(secret_value('pat'))
    store.put('short-lived', entry)
    outcome = store.delete('short-lived')
    assert outcome['changed'] and outcome['before'] == entry
    assert store.get('short-lived') is None
    assert not store.delete('short-lived')['changed']
    assert keyvault.stats()['secrets']['short-lived']['deleted'] is True

    err = store_error(store.put, 'short-lived', entry)
    assert err.kind == 'conflict'
    assert 'soft-delete' in err.message and 'recover' in err.message and 'purge' in err.message

    store.client.purge_deleted_secret('short-lived')
    assert store.put('short-lived', entry)['changed']
    assert versions(keyvault, 'short-lived') == 1


def test_wrong_client_secret_is_auth(keyvault):
    wrong = secret_value('wrong')
    err = store_error(open_store(keyvault.store_spec(client_secret=wrong)).get, 'anything')
    assert err.kind == 'auth'
    assert 'AADSTS7000215' in err.message and 'client secret is wrong' in err.message


def test_default_azure_credential_from_the_environment(keyvault, monkeypatch):
    # No client settings in the spec: DefaultAzureCredential signs in with the AZURE_* variables
    # (its first link); authority_host and ca_path still apply.
    for variable in ('AZURE_CLIENT_CERTIFICATE_PATH', 'AZURE_USERNAME', 'AZURE_FEDERATED_TOKEN_FILE'):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv('AZURE_TENANT_ID', keyvault.tenant_id)
    monkeypatch.setenv('AZURE_CLIENT_ID', keyvault.client_id)
    monkeypatch.setenv('AZURE_CLIENT_SECRET', keyvault.client_secret)
    store = open_store(keyvault.store_spec(tenant_id=None, client_id=None, client_secret=None))
    entry = build_entry(secret_value('pat'))
    assert store.put('from-environment', entry)['changed']
    assert store.get('from-environment') == entry


def test_denied_writes(keyvault, store):
    entry = build_entry(secret_value('pat'))
    store.put('guarded', entry)
    keyvault.configure(deny_writes=True)
    try:
        err = store_error(store.put, 'guarded', build_entry(secret_value('pat')))
        assert err.kind == 'denied'
        assert 'Key Vault Secrets Officer' in err.message and 'access policy' in err.message
        assert store_error(store.delete, 'guarded').kind == 'denied'
        assert store.get('guarded') == entry  # reading is still allowed
    finally:
        keyvault.configure(deny_writes=False)
    assert versions(keyvault, 'guarded') == 1
    assert keyvault.stats()['denied_writes'] >= 2


def test_unreachable_vault_is_bounded(keyvault):
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        port = probe.getsockname()[1]
    spec = keyvault.store_spec(vault_url='https://127.0.0.1:%d' % port, timeout=2)
    started = time.monotonic()
    err = store_error(open_store(spec).get, 'anything')
    assert err.kind == 'unreachable' and 'unreachable' in err.message
    assert time.monotonic() - started < 15


def test_tls_without_the_ca_is_unreachable_with_a_hint(keyvault):
    err = store_error(open_store(keyvault.store_spec(ca_path=None, timeout=2)).get, 'anything')
    assert err.kind == 'unreachable' and 'store.ca_path' in err.message


@pytest.mark.parametrize('name', ['team_pat', 'team.pat'])
def test_names_key_vault_cannot_hold_are_refused(keyvault, store, name):
    before = keyvault.stats()['requests']
    err = store_error(store.put, name, build_entry(secret_value('pat')))
    assert err.kind == 'config'
    assert 'letters, digits and "-"' in err.message and 'team-pat' in err.message
    assert keyvault.stats()['requests'] == before


def test_tag_limits_are_refused_before_writing(keyvault, store):
    err = store_error(store.put, 'tag-limits', build_entry(secret_value('pat'), {'labels': {'note': 'x' * 300}}))
    assert err.kind == 'config' and '256' in err.message
    many = dict(('l%d' % index, 'v') for index in range(14))
    err = store_error(store.put, 'tag-limits', build_entry(secret_value('pat'), {'labels': many}))
    assert err.kind == 'config' and '15' in err.message
    err = store_error(store.put, 'tag-limits', build_entry(secret_value('pat'), {'labels': many}), check_mode=True)
    assert err.kind == 'config'
    assert versions(keyvault, 'tag-limits') == 0


def test_secret_not_written_by_the_collection_is_left_alone(keyvault, store):
    store.client.set_secret('someone-elses', secret_value('other'))
    err = store_error(store.get, 'someone-elses')
    assert err.kind == 'corrupt' and 'not written by azdo.auth' in err.message
    assert store_error(store.put, 'someone-elses', build_entry(secret_value('pat'))).kind == 'corrupt'
    assert versions(keyvault, 'someone-elses') == 1


def test_settings_are_checked(keyvault):
    assert store_error(open_store, {'backend': 'azure_key_vault'}).kind == 'config'
    assert store_error(open_store, keyvault.store_spec(vault_url='http://127.0.0.1:1')).kind == 'config'
    err = store_error(open_store, keyvault.store_spec(tenant_id=None))
    assert err.kind == 'config' and 'store.tenant_id' in err.message
    assert store_error(open_store, keyvault.store_spec(ca_path='/nonexistent/ca.pem')).kind == 'config'


def test_stub_stats_hold_no_secret(keyvault):
    stats = keyvault.stats()
    assert stats['requests'] > 0 and stats['tokens_issued'] > 0
    assert_clean(json.dumps(stats))
