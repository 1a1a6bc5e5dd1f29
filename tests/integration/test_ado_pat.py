# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""azdo.auth.ado_pat and azdo.auth.ado_pat_info through ansible-playbook against the emulator's lifecycle and
Token Admin APIs, plus inventory paging and 429 backoff with no lost results."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.azdo.auth.plugins.module_utils import _client, _pat_info
from ansible_collections.azdo.auth.plugins.module_utils._runner import call
from tests.emulator import load_fixture_data, start_emulator

from .conftest import ROOT, assert_no_secret


def inventory_fixture(users=0, pats_per_user=0):
    fixture = copy.deepcopy(load_fixture_data())
    fixture['pat_policy'] = {'block_full_scope': True, 'max_lifespan_days': 366}
    fixture['large_groups'] = []  # the inventory below is the organization's user list
    for number in range(users):
        key = 'inv-user-%03d' % number
        fixture['identities'][key] = {'display_name': 'Inventory User %03d' % number,
                                      'unique_name': 'user%03d@fabrikam.example' % number}
        for index in range(pats_per_user):
            fixture['credentials']['%s-pat-%d' % (key, index)] = {
                'token': 'inv%03d%d' % (number, index) + 'x' * 44, 'owner': key, 'display_name': 'pat-%d' % index,
                'scopes': ['app_token'] if index == 0 else ['vso.code'], 'valid_from': '2026-01-01',
                'valid_to': '2027-06-01' if index == 2 else '2026-12-31'}
    return fixture


@pytest.fixture(scope='module')
def pat_emulator():
    with start_emulator(mode='hosted', server_version='cloud', state=inventory_fixture(12, 3)) as emulator:
        yield emulator


def test_pat_lifecycle_and_inventory(run_playbook, pat_emulator, onprem, credentials, tmp_path):
    blocker = tmp_path / 'not-a-directory'
    blocker.write_text('x')
    recovery = tmp_path / 'recovery'
    recovery.mkdir()
    extra = {'target': 'ado_pat', 'hosted_url': pat_emulator.url, 'onprem_url': onprem.url,
             'user_token': credentials['alice_entra'], 'good_pat': credentials['good'],
             'store_file': str(tmp_path / 'tokens.vault.yml'), 'broken_store_file': str(blocker / 'tokens.vault.yml'),
             'recovery_dir': str(recovery), 'expected_min_tokens': 36}
    password = tmp_path / 'vault-pass'
    password.write_text('pat-it-password')
    run = run_playbook(ROOT / 'tests' / 'integration' / 'run_target.yml', extra, verbosity=4,
                       extra_args=('--vault-password-file', str(password), '--diff'))
    assert run.rc == 0, run.tail()
    assert 'Traceback' not in run.output
    assert_no_secret(run.output, list(credentials.values()) + ['pat-it-password'])
    files = list(recovery.iterdir())
    assert len(files) == 1 and oct(files[0].stat().st_mode & 0o777) == '0o600'


def test_inventory_pages_concurrently_and_loses_nothing_under_429(pat_emulator, credentials):
    params = {'url': pat_emulator.url, 'access_token': credentials['alice_entra'], 'allow_http': True, 'owner': 'all',
              'concurrency': 4, 'page_size': 2, 'expiring_within_days': 30, 'include_revoked': False, 'timeout': 10,
              'retries': 3, 'retry_max_delay': 1, 'validate_certs': True}
    _client.reset_caches()
    failed, quiet = call(_pat_info.run, params, False, None)
    assert not failed, quiet
    pat_emulator.faults([{'path': 'tokenadmin', 'status': 429, 'retry_after': '1', 'count': 3}])
    _client.reset_caches()
    failed, throttled = call(_pat_info.run, params, False, None)
    assert not failed, throttled
    assert throttled['tokens'] == quiet['tokens']
    assert throttled['requests'] == quiet['requests'] + 3
    assert quiet['summary']['by_owner']['user005@fabrikam.example'] == 3
    assert quiet['summary']['full_scope'] >= 12
