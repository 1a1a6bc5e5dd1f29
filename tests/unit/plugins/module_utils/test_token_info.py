# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""ado_token_info: freshness of stored tokens, from a real Ansible Vault file store, without a secret."""

from __future__ import annotations

import datetime
import json
import os

import pytest

from ansible.parsing.vault import VaultSecret

from ansible_collections.azdo.auth.plugins.module_utils import _token_info
from ansible_collections.azdo.auth.plugins.module_utils._runner import ModuleFailure, call
from ansible_collections.azdo.auth.plugins.module_utils._stores import build_entry, open_store
from ansible_collections.azdo.auth.plugins.plugin_utils._vault import AnsibleVaultCipher

PAT = 'q3w8e2r7t6y5u4i3o2p1a9s8d7f6g5h4j3k2l1z9x8c7v6b5n4m3'
ACCESS = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.payload.signature-unit-test'
REFRESH = 'refresh-token-unit-test-0123456789'
NOW = datetime.datetime(2026, 11, 24, 12, 0, 0, tzinfo=datetime.timezone.utc)


def factory(spec):
    cipher = AnsibleVaultCipher([('default', VaultSecret(b'unit-test-vault-password'))], None)
    return open_store(spec, vault_cipher=cipher)


@pytest.fixture
def store_spec(tmp_path):
    spec = {'backend': 'ansible_vault', 'path': str(tmp_path / 'tokens.vault.yml'), 'lock_timeout': 30}
    store = factory(spec)
    store.put('pipeline-pat', build_entry(PAT, {'expires_at': '2026-12-31T00:00:00Z', 'scope': 'vso.code',
                                                'labels': {'owner': 'platform'}}, now=NOW - datetime.timedelta(days=3)))
    store.put('deploy-sp', build_entry({'access_token': ACCESS, 'refresh_token': REFRESH, 'token_type': 'Bearer'},
                                       {'expires_at': '2026-11-24T11:00:00Z'}, now=NOW - datetime.timedelta(hours=2)))
    store.put('no-expiry', build_entry(PAT + 'x'))
    return spec


def run(spec, names, check_mode=False):
    return _token_info.run({'store': spec, 'names': names}, check_mode, print, store_factory=factory, now=NOW)


def test_describes_entries_without_a_secret(store_spec):
    result = run(store_spec, ['pipeline-pat', 'deploy-sp', 'missing', 'no-expiry'])
    assert result['changed'] is False
    assert result['store'] == {'backend': 'ansible_vault', 'location': store_spec['path']}
    pat, pair, missing, no_expiry = result['tokens']
    assert pat['exists'] and pat['fingerprint'] == build_entry(PAT)['fingerprint']
    assert pat['expires_at'] == '2026-12-31T00:00:00Z'
    assert pat['age'] == 3 * 86400
    assert pat['expires_in'] == int((datetime.datetime(2026, 12, 31, tzinfo=datetime.timezone.utc) - NOW).total_seconds())
    assert pat['is_expired'] is False
    assert pat['labels'] == {'owner': 'platform'} and pat['scope'] == 'vso.code' and pat['fields'] == ['value']
    assert pair['is_expired'] is True and pair['expires_in'] == -3600 and pair['token_type'] == 'Bearer'
    assert pair['fields'] == ['access_token', 'refresh_token'] and pair['version'] is None
    assert missing == dict(missing, name='missing', exists=False, fingerprint=None, expires_at=None)
    assert no_expiry['expires_in'] is None and no_expiry['is_expired'] is None
    assert result['missing'] == ['missing']
    text = json.dumps(result)
    for secret in (PAT, ACCESS, REFRESH):
        assert secret not in text


def test_reads_only(store_spec):
    before = os.stat(store_spec['path'])
    lock_before = os.stat(store_spec['path'] + '.lock').st_mtime_ns
    with open(store_spec['path'], 'rb') as handle:
        content = handle.read()
    run(store_spec, ['pipeline-pat', 'deploy-sp'])
    run(store_spec, ['pipeline-pat'], check_mode=True)
    after = os.stat(store_spec['path'])
    assert (before.st_mtime_ns, before.st_size) == (after.st_mtime_ns, after.st_size)
    with open(store_spec['path'], 'rb') as handle:
        assert handle.read() == content
    assert os.stat(store_spec['path'] + '.lock').st_mtime_ns == lock_before  # not even locked


def test_a_missing_store_file_means_missing_entries(tmp_path):
    spec = {'backend': 'ansible_vault', 'path': str(tmp_path / 'none.vault.yml'), 'lock_timeout': 30}
    result = run(spec, ['anything'])
    assert result['tokens'][0]['exists'] is False
    assert not os.path.exists(spec['path'])


def test_bad_name_and_bad_store_fail_clearly(store_spec, tmp_path):
    failed, result = call(_token_info.run, {'store': store_spec, 'names': ['bad name!']}, False, print,
                          store_factory=factory)
    assert failed and 'must be 1-127 characters' in result['msg']
    plain = tmp_path / 'plain.yml'
    plain.write_text('pipeline-pat: {value: %s}\n' % PAT)
    failed, result = call(_token_info.run, {'store': dict(store_spec, path=str(plain)), 'names': ['pipeline-pat']},
                          False, print, store_factory=factory)
    assert failed and result['error_kind'] == 'corrupt' and 'not an Ansible Vault' in result['msg']
    assert PAT not in json.dumps(result)


def test_module_spec_accepts_name_alias():
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
    validation = ArgumentSpecValidator(**_token_info.MODULE_SPEC).validate(
        {'store': {'path': 'tokens.vault.yml'}, 'name': 'pipeline-pat'})
    assert not validation.error_messages
    assert validation.validated_parameters['names'] == ['pipeline-pat']


def test_run_without_a_cipher_explains_the_controller(store_spec):
    with pytest.raises(ModuleFailure) as err:
        _token_info.run({'store': store_spec, 'names': ['pipeline-pat']}, False, print)
    assert 'controller' in err.value.msg
