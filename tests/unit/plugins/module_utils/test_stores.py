# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Store entries and the ansible_vault file backend, with real Ansible Vault encryption."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import stat
import time

import pytest
import yaml

from ansible.parsing.vault import VaultSecret

from ansible_collections.azdo.auth.plugins.module_utils._stores import (
    StoreError, build_entry, comparable, iso_utc, main_secret, open_store, public_view)
from ansible_collections.azdo.auth.plugins.plugin_utils._vault import AnsibleVaultCipher

PASSWORD = b'unit-test-vault-password'
PAT = 'x2k7b9d3m4n5p6q7r8s9t2v3w4y5z6a7b8c9d2e3f4g5h6j7k8m9'


def cipher(password=PASSWORD, vault_id=None):
    return AnsibleVaultCipher([(vault_id or 'default', VaultSecret(password))], vault_id)


def file_store(path, password=PASSWORD, **spec):
    return open_store(dict({'backend': 'ansible_vault', 'path': str(path), 'lock_timeout': 30}, **spec),
                      vault_cipher=cipher(password))


# -- entries ---------------------------------------------------------------------------------------

def test_build_entry_from_string_and_mapping():
    entry = build_entry(PAT, {'expires_at': '2026-12-31', 'labels': {'team': 'platform'}, 'scope': 'vso.code'})
    assert entry['value'] == PAT
    assert entry['expires_at'] == '2026-12-31T00:00:00Z'
    assert len(entry['fingerprint']) == 12 and entry['fingerprint'] == build_entry(PAT)['fingerprint']
    assert entry['labels'] == {'team': 'platform'}
    pair = build_entry({'access_token': 'a.b.c', 'refresh_token': 'r1', 'token_type': 'Bearer'})
    assert main_secret(pair) == 'a.b.c'
    assert pair['token_type'] == 'Bearer'


@pytest.mark.parametrize('secret, metadata, fragment', [
    ('', None, 'empty'),
    ({'password': 'x'}, None, 'unknown field'),
    ({'scope': 'vso.code'}, None, 'no secret field'),
    (42, None, 'string or a mapping'),
    (PAT, {'owner': 'x'}, 'metadata has unknown field'),
    (PAT, {'expires_at': 'next tuesday'}, 'not an ISO 8601'),
    (PAT, {'labels': 'x'}, 'labels must be a mapping'),
])
def test_build_entry_refuses(secret, metadata, fragment):
    with pytest.raises(StoreError) as err:
        build_entry(secret, metadata)
    assert fragment in str(err.value)
    assert PAT not in str(err.value)


def test_iso_utc_forms():
    assert iso_utc('2026-01-31T12:00:00+02:00') == '2026-01-31T10:00:00Z'
    assert iso_utc(0) == '1970-01-01T00:00:00Z'
    assert iso_utc(None) is None


def test_public_view_has_no_secret():
    view = public_view(build_entry({'access_token': 'at-secret', 'refresh_token': 'rt-secret'}, {'scope': 's'}))
    assert 'at-secret' not in str(view) and 'rt-secret' not in str(view)
    assert view['fields'] == ['access_token', 'refresh_token']


def test_updated_at_alone_is_not_a_change():
    first = build_entry(PAT, {'scope': 'a'}, now=1000)
    second = build_entry(PAT, {'scope': 'a'}, now=2000)
    assert first['updated_at'] != second['updated_at']
    assert comparable(first) == comparable(second)


# -- the file store ----------------------------------------------------------------------------------

def test_put_get_delete_and_file_mode(tmp_path):
    path = tmp_path / 'tokens.vault.yml'
    store = file_store(path)
    result = store.put('pipeline-pat', build_entry(PAT))
    assert result['changed'] is True
    raw = path.read_bytes()
    assert raw.startswith(b'$ANSIBLE_VAULT;1.1;AES256')
    assert PAT.encode() not in raw
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert store.get('pipeline-pat')['value'] == PAT
    assert store.describe('pipeline-pat')['fingerprint'] == build_entry(PAT)['fingerprint']
    assert store.delete('pipeline-pat')['changed'] is True
    assert store.get('pipeline-pat') is None
    assert store.delete('pipeline-pat')['changed'] is False


def test_second_put_writes_nothing(tmp_path):
    path = tmp_path / 'tokens.vault.yml'
    store = file_store(path)
    store.put('a', build_entry(PAT, {'scope': 'vso.code'}, now=1000))
    before = (path.read_bytes(), path.stat().st_mtime_ns, path.stat().st_ino)
    time.sleep(0.01)
    result = store.put('a', build_entry(PAT, {'scope': 'vso.code'}, now=2000))
    assert result['changed'] is False
    assert (path.read_bytes(), path.stat().st_mtime_ns, path.stat().st_ino) == before


def test_check_mode_predicts_without_writing(tmp_path):
    path = tmp_path / 'tokens.vault.yml'
    store = file_store(path)
    assert store.put('a', build_entry(PAT), check_mode=True)['changed'] is True
    assert not path.exists()
    store.put('a', build_entry(PAT))
    assert store.put('a', build_entry(PAT), check_mode=True)['changed'] is False
    assert store.put('a', build_entry(PAT + 'x'), check_mode=True)['changed'] is True
    assert store.get('a')['value'] == PAT


def test_wrong_password_is_clear_and_never_overwrites(tmp_path):
    path = tmp_path / 'tokens.vault.yml'
    file_store(path).put('a', build_entry(PAT))
    before = path.read_bytes()
    wrong = file_store(path, password=b'not-the-password')
    with pytest.raises(StoreError) as err:
        wrong.put('b', build_entry('other-secret-value'))
    assert err.value.kind == 'auth'
    assert 'wrong vault password' in str(err.value)
    assert path.read_bytes() == before


def test_plain_file_is_not_overwritten(tmp_path):
    path = tmp_path / 'tokens.yml'
    path.write_text('a: {value: plain}\n')
    with pytest.raises(StoreError) as err:
        file_store(path).put('b', build_entry(PAT))
    assert err.value.kind == 'corrupt'
    assert path.read_text() == 'a: {value: plain}\n'


@pytest.mark.skipif(os.geteuid() == 0, reason='root ignores file permissions')
def test_permission_denied_is_clear(tmp_path):
    directory = tmp_path / 'ro'
    directory.mkdir()
    directory.chmod(0o500)
    with pytest.raises(StoreError) as err:
        file_store(directory / 'tokens.vault.yml').put('a', build_entry(PAT))
    assert err.value.kind == 'denied'


def test_permission_denied_on_unwritable_path(tmp_path):
    blocker = tmp_path / 'not-a-dir'
    blocker.write_text('x')
    with pytest.raises(StoreError) as err:
        file_store(blocker / 'tokens.vault.yml').put('a', build_entry(PAT))
    assert err.value.kind == 'denied'
    assert 'Cannot' in str(err.value)


def test_missing_vault_secret_and_unknown_vault_id():
    with pytest.raises(StoreError, match='No vault secret is loaded'):
        AnsibleVaultCipher([], None)
    with pytest.raises(StoreError, match="Vault id 'prod' is not loaded"):
        AnsibleVaultCipher([('dev', VaultSecret(b'x'))], 'prod')


def test_vault_id_is_written_in_the_header(tmp_path):
    path = tmp_path / 'tokens.vault.yml'
    store = open_store({'backend': 'ansible_vault', 'path': str(path), 'lock_timeout': 5},
                       vault_cipher=cipher(vault_id='prod'))
    store.put('a', build_entry(PAT))
    assert path.read_bytes().startswith(b'$ANSIBLE_VAULT;1.2;AES256;prod')


def test_invalid_names_are_refused(tmp_path):
    with pytest.raises(StoreError, match='must be 1-127 characters'):
        file_store(tmp_path / 't.yml').put('../etc/passwd', build_entry(PAT))


def test_relative_path_uses_basedir(tmp_path):
    store = open_store({'backend': 'ansible_vault', 'path': 'group_vars/tokens.vault.yml'}, vault_cipher=cipher(),
                       basedir=str(tmp_path))
    assert store.location() == str(tmp_path / 'group_vars' / 'tokens.vault.yml')


def test_module_side_cannot_use_the_file_store(tmp_path):
    with pytest.raises(StoreError, match='controller only'):
        open_store({'backend': 'ansible_vault', 'path': str(tmp_path / 'x')})


# -- concurrency and crash safety ------------------------------------------------------------------------

def _writer(path, index):
    store = file_store(path)
    store.put('entry-%02d' % index, build_entry('secret-value-%02d' % index))


def test_twenty_concurrent_writers_lose_nothing(tmp_path):
    path = tmp_path / 'tokens.vault.yml'
    context = multiprocessing.get_context('fork')
    workers = [context.Process(target=_writer, args=(str(path), i)) for i in range(20)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert all(worker.exitcode == 0 for worker in workers)
    store = file_store(path)
    for index in range(20):
        assert store.get('entry-%02d' % index)['value'] == 'secret-value-%02d' % index
    assert not [name for name in os.listdir(tmp_path) if name.endswith('.tmp')]


def _write_forever(path):
    store = file_store(path)
    counter = 0
    while True:
        counter += 1
        store.put('entry', build_entry('generation-%06d' % counter))


def test_killed_writer_leaves_old_or_new_file(tmp_path):
    path = tmp_path / 'tokens.vault.yml'
    file_store(path).put('entry', build_entry('generation-000000'))
    context = multiprocessing.get_context('fork')
    rng = random.Random(7)
    seen = set()
    for dummy in range(15):
        writer = context.Process(target=_write_forever, args=(str(path),))
        writer.start()
        time.sleep(rng.uniform(0.05, 0.3))
        os.kill(writer.pid, signal.SIGKILL)
        writer.join(10)
        plaintext = cipher().decrypt(path.read_bytes())
        value = yaml.safe_load(plaintext)['entry']['value']
        assert value.startswith('generation-')
        seen.add(value)
    assert len(seen) > 1  # the writer really wrote between kills
