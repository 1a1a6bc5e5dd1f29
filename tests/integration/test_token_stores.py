# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Token stores against real parts: an OpenBao dev server and Ansible Vault files, through the store
classes and through ansible-playbook (ado_token_store, ado_token lookup), with a secret-leak scan."""

from __future__ import annotations

import pytest

from ansible_collections.azdo.auth.plugins.module_utils._stores import StoreError, build_entry, open_store
from tests.utils.openbao import OpenBao

from .conftest import ROOT, assert_no_secret

DEMO = {
    'demo_pat': 'q7v3k2m9d4n8b6c5x1z2a3s4d5f6g7h8j9k2l3m4n5b6v7c8x9z2',
    'demo_pat_2': 'w2e3r4t5y6u7i8o9p2a3s4d5f6g7h8j9k2l3z4x5c6v7b8n9m2q3',
    'demo_access_token': 'eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiJkZW1vIn0.c2lnbmF0dXJlLWRlbW8',
    'demo_refresh_token': 'refresh-3b9c1f0e7d2a4c8e9f1a2b3c4d5e6f7a',
}
VAULT_PASSWORD = 'integration-vault-password-71'
ROOT_TOKEN = 'it-root-token-5c2d'


@pytest.fixture(scope='module')
def bao():
    with OpenBao(root_token=ROOT_TOKEN) as server:
        yield server


def kv_version(bao, path):
    answer = bao.api('GET', 'secret/metadata/%s' % path)
    return answer.json()['data']['current_version'] if answer.status_code == 200 else None


def bao_store(bao, **extra):
    spec = {'backend': 'hashicorp_vault', 'url': bao.url, 'token': ROOT_TOKEN, 'path': 'azdo-unit', 'mount_point': 'secret',
            'auth_method': 'token', 'validate_certs': True, 'timeout': 5}
    spec.update(extra)
    return open_store(spec)


def test_kv_put_get_delete_and_no_new_version_on_rerun(bao):
    store = bao_store(bao)
    assert store.put('pat-a', build_entry(DEMO['demo_pat'], {'scope': 'vso.code'}, now=1))['version'] == 1
    assert store.put('pat-a', build_entry(DEMO['demo_pat'], {'scope': 'vso.code'}, now=2))['changed'] is False
    assert kv_version(bao, 'azdo-unit/pat-a') == 1
    assert store.put('pat-a', build_entry(DEMO['demo_pat_2'], {'scope': 'vso.code'}))['version'] == 2
    assert kv_version(bao, 'azdo-unit/pat-a') == 2
    assert store.get('pat-a')['value'] == DEMO['demo_pat_2']
    assert store.describe('pat-a')['version'] == 2
    assert store.delete('pat-a')['changed'] is True
    assert store.get('pat-a') is None
    assert kv_version(bao, 'azdo-unit/pat-a') is None


def test_kv_concurrent_writer_is_detected_not_overwritten(bao):
    first, second = bao_store(bao), bao_store(bao)
    first.put('shared', build_entry('value-0'))
    assert second.get('shared')['value'] == 'value-0'  # second read version 1
    first.put('shared', build_entry('value-1'))       # first writes version 2
    with pytest.raises(StoreError) as err:
        second.write('shared', build_entry('value-2'), None)  # second writes with cas=1
    assert err.value.kind == 'conflict'
    assert first.get('shared')['value'] == 'value-1'


def test_kv_approle_login_and_policy_denial(bao):
    policy_rw = 'path "secret/data/azdo-app/*" { capabilities = ["create", "read", "update", "delete"] }\n' \
                'path "secret/metadata/azdo-app/*" { capabilities = ["read", "delete"] }'
    policy_ro = 'path "secret/data/azdo-app/*" { capabilities = ["read"] }'
    assert bao.api('POST', 'sys/auth/approle', json={'type': 'approle'}).status_code in (200, 204)
    bao.api('PUT', 'sys/policies/acl/azdo-rw', json={'policy': policy_rw})
    bao.api('PUT', 'sys/policies/acl/azdo-ro', json={'policy': policy_ro})
    bao.api('POST', 'auth/approle/role/azdo', json={'token_policies': 'azdo-rw'})
    role_id = bao.api('GET', 'auth/approle/role/azdo/role-id').json()['data']['role_id']
    secret_id = bao.api('POST', 'auth/approle/role/azdo/secret-id').json()['data']['secret_id']
    store = bao_store(bao, auth_method='approle', role_id=role_id, secret_id=secret_id, token=None, path='azdo-app')
    assert store.put('pat-b', build_entry(DEMO['demo_pat']))['changed'] is True
    with pytest.raises(StoreError) as err:
        bao_store(bao, auth_method='approle', role_id=role_id, secret_id='wrong-secret-id', token=None, path='azdo-app')
    assert err.value.kind in ('auth', 'error') and 'wrong-secret-id' not in str(err.value)
    read_only = bao.api('POST', 'auth/token/create', json={'policies': ['azdo-ro']}).json()['auth']['client_token']
    with pytest.raises(StoreError) as err:
        bao_store(bao, token=read_only, path='azdo-app').put('pat-c', build_entry(DEMO['demo_pat']))
    assert err.value.kind == 'denied'
    assert 'permission denied' in str(err.value)


def test_kv_unreachable_and_missing_settings(closed_url):
    with pytest.raises(StoreError) as err:
        open_store({'backend': 'hashicorp_vault', 'url': closed_url, 'token': 't', 'timeout': 2,
                    'auth_method': 'token'}).get('x')
    assert err.value.kind == 'unreachable'
    with pytest.raises(StoreError, match='store.url'):
        open_store({'backend': 'hashicorp_vault', 'token': 't', 'auth_method': 'token'})


def test_token_store_and_lookup_through_ansible_playbook(run_playbook, bao, tmp_path, closed_url, monkeypatch):
    monkeypatch.delenv('VAULT_ADDR', raising=False)
    password_file = tmp_path / 'vault-pass'
    password_file.write_text(VAULT_PASSWORD)
    store_file = tmp_path / 'tokens.vault.yml'
    extra = dict(DEMO, store_file=str(store_file), bao_url=bao.url, bao_token=ROOT_TOKEN, closed_url=closed_url,
                 target='ado_token_store')
    run = run_playbook(ROOT / 'tests' / 'integration' / 'run_target.yml', extra, verbosity=4,
                       extra_args=('--vault-password-file', str(password_file), '--diff'))
    assert run.rc == 0, run.tail()
    assert 'Traceback' not in run.output
    assert_no_secret(run.output, list(DEMO.values()) + [VAULT_PASSWORD, ROOT_TOKEN])


def test_wrong_vault_password_is_clear_and_leaves_the_file(run_playbook, tmp_path):
    good = tmp_path / 'good-pass'
    good.write_text(VAULT_PASSWORD)
    bad = tmp_path / 'bad-pass'
    bad.write_text('not-the-password')
    store_file = tmp_path / 'tokens.vault.yml'
    playbook = tmp_path / 'put.yml'
    playbook.write_text('''
- hosts: localhost
  gather_facts: false
  tasks:
    - azdo.auth.ado_token_store:
        store: {path: "%s"}
        name: pipeline-pat
        secret: "{{ demo_pat }}"
''' % store_file)
    first = run_playbook(playbook, DEMO, extra_args=('--vault-password-file', str(good)))
    assert first.rc == 0, first.tail()
    before = store_file.read_bytes()
    second = run_playbook(playbook, dict(DEMO, demo_pat=DEMO['demo_pat_2']), verbosity=3,
                          extra_args=('--vault-password-file', str(bad)))
    assert second.rc != 0
    assert 'wrong vault password' in second.output
    assert store_file.read_bytes() == before
    assert_no_secret(second.output, list(DEMO.values()) + [VAULT_PASSWORD])
    none = run_playbook(playbook, DEMO)
    assert none.rc != 0
    assert 'No vault secret is loaded' in none.output
