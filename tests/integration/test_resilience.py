# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Crash and concurrency safety: a token-store writer killed at random points, and two rotate_tokens runs
at the same time sharing a single-use refresh token."""

from __future__ import annotations

import copy
import datetime
import json
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time

import yaml
from ansible.parsing.vault import VaultSecret

from ansible_collections.azdo.auth.plugins.module_utils._stores import build_entry, open_store
from ansible_collections.azdo.auth.plugins.plugin_utils._vault import AnsibleVaultCipher
from tests.emulator import load_fixture_data, start_emulator

from .conftest import COLLECTIONS, ROOT, assert_no_secret

PASSWORD = 'resilience-vault-password'


def _cipher():
    return AnsibleVaultCipher([('default', VaultSecret(PASSWORD.encode()))])


def _store(path):
    return open_store({'backend': 'ansible_vault', 'path': str(path), 'lock_timeout': 30}, vault_cipher=_cipher())


def _writer(path, start, count):
    store = _store(path)
    for number in range(start, start + count):
        store.put('entry', build_entry('generation-%06d' % number))


def _generation(path):
    return int(yaml.safe_load(_cipher().decrypt(path.read_bytes()))['entry']['value'].split('-')[1])


def test_writer_killed_at_random_points_of_200_writes(tmp_path):
    """Each round starts a writer for 200 writes and SIGKILLs it at a random moment: the file always decrypts to a
    complete generation (the old or the new one), and the next writer carries on."""
    path = tmp_path / 'tokens.vault.yml'
    _store(path).put('entry', build_entry('generation-000000'))
    context = multiprocessing.get_context('fork')
    rng = random.Random(1123)
    seen, start = [], 1
    for dummy in range(12):
        writer = context.Process(target=_writer, args=(str(path), start, 200))
        writer.start()
        deadline = time.time() + 20
        while time.time() < deadline and _generation(path) < start:  # let it write at least once, however busy
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.3))
        os.kill(writer.pid, signal.SIGKILL)
        writer.join(10)
        value = yaml.safe_load(_cipher().decrypt(path.read_bytes()))['entry']['value']
        assert value.startswith('generation-')
        number = int(value.split('-')[1])
        assert start <= number < start + 200
        seen.append(number)
        start += 200
    assert len(set(seen)) == 12  # every round's writer wrote, and was killed mid-run


def test_two_rotate_tokens_runs_at_once_renew_exactly_once(tmp_path):
    """Two ansible-playbook runs of playbooks/rotate_tokens.yml at the same time, forks 20, sharing a legacy Azure DevOps
    OAuth entry whose access token is about to expire: one renewal, no refresh token lost, a usable pair stored."""
    fixture = copy.deepcopy(load_fixture_data())
    app = fixture['applications']['legacy-app']
    store_file = tmp_path / 'tokens.vault.yml'
    password_file = tmp_path / 'vault-pass'
    password_file.write_text(PASSWORD)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_NOCOLOR='1',
               ANSIBLE_HOME=str(ROOT / '.cache' / 'ansible-home'))
    with start_emulator(mode='hosted', server_version='cloud', state=fixture) as emulator:
        credential = {'name': 'legacy-automation', 'provider': 'azure_devops', 'client_id': app['client_id'],
                      'client_secret': app['client_secret'], 'redirect_uri': app['redirect_uri'],
                      'token_url': emulator.base + '/_hosts/app.vssps/oauth2/token', 'store': {'path': str(store_file)}}
        bootstrap = dict(credential, flow='authorization_code', code=app['codes'][0])
        vars_file = tmp_path / 'vars.json'

        def play(credentials, forks, extra=()):
            vars_file.write_text(json.dumps({'token_vault_credentials': credentials, 'token_vault_allow_http': True}))
            return subprocess.Popen(
                [str(os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')),
                 str(ROOT / 'playbooks' / 'rotate_tokens.yml'), '-i', 'localhost,', '-e', 'ansible_connection=local',
                 '-e', '@%s' % vars_file, '--vault-password-file', str(password_file), '--forks', str(forks)] + list(extra),
                cwd=str(tmp_path), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

        first = play([bootstrap], 1)
        output = first.communicate(timeout=120)[0]
        assert first.returncode == 0, output[-3000:]
        # Make the stored access token look about to expire, so both runs want to renew it.
        store = _store(store_file)
        entry = store.get('legacy-automation')
        soon = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=30)
        store.put('legacy-automation', build_entry({'access_token': entry['access_token'],
                                                    'refresh_token': entry['refresh_token']},
                                                   {'token_type': 'Bearer', 'expires_at': soon}))
        emulator.reset_log()
        runs = [play([credential], 20), play([credential], 20)]
        outputs = [run.communicate(timeout=180)[0] for run in runs]
        assert [run.returncode for run in runs] == [0, 0], '\n'.join(o[-2000:] for o in outputs)
        token_calls = [r for r in emulator.requests() if '/oauth2/' in r['path']]
        assert len(token_calls) == 1
        assert token_calls[0]['status'] == 200
        renewed = _store(store_file).get('legacy-automation')
        assert renewed['refresh_token'] != entry['refresh_token']
        # The stored pair is usable: its refresh token is the live one (the old one is consumed).
        final = play([dict(credential, force=True)], 1)
        final_output = final.communicate(timeout=120)[0]
        assert final.returncode == 0, final_output[-3000:]
        assert [r['status'] for r in emulator.requests() if '/oauth2/' in r['path']] == [200, 200]
        for text in outputs + [final_output]:
            assert_no_secret(text, [app['client_secret'], entry['refresh_token'], renewed['refresh_token'],
                                    renewed['access_token'], PASSWORD])
