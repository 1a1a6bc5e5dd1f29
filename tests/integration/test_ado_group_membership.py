# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""azdo.auth.ado_group_membership through ansible-playbook against the emulators, with a secret-leak scan.

The shared session emulators (hosted, onprem, onprem2019) are only read here: ado_pat_check's tests expect
their TF400813 user to stay outside. Changes go to emulators of this module alone.
"""

from __future__ import annotations

import json
import re

import pytest
import yaml

from tests.emulator import load_fixture_data, start_emulator

from .conftest import FIXTURE, ROOT, assert_no_secret


def all_credentials():
    """Every credential of the fixture, the group membership ones included."""
    with FIXTURE.open(encoding='utf-8') as handle:
        data = yaml.safe_load(handle)
    found = {}
    for section in ('credentials', 'graph_credentials'):
        found.update((key, entry['token']) for key, entry in (data.get(section) or {}).items())
    return found


@pytest.fixture(scope='module')
def writable():
    """Emulators this module may change: hosted, onprem, and an organisation with German group names."""
    german = load_fixture_data()
    german['organization_locale'] = 'de'
    with start_emulator(mode='hosted') as hosted, start_emulator(mode='onprem') as onprem, \
            start_emulator(mode='hosted', state=german) as hosted_de:
        yield {'hosted': hosted, 'onprem': onprem, 'german': hosted_de}


def test_group_membership_through_ansible_playbook(run_playbook, target_vars, hosted, onprem, writable):
    creds = all_credentials()
    extra = dict(target_vars, target='ado_group_membership', gm_creds=creds,
                 gm_hosted_url=writable['hosted'].url, gm_onprem_url=writable['onprem'].url,
                 gm_german_url=writable['german'].url)
    run = run_playbook(ROOT / 'tests' / 'integration' / 'run_target.yml', extra, verbosity=4)
    assert run.rc == 0, run.tail(120)
    assert 'failed=0' in run.stdout
    assert 'Traceback' not in run.output
    # --diff output of the tasks that asked for it
    assert '-    "direct_member": false,\n+    "direct_member": true,' in run.stdout
    # no secret in -vvvv output, nor in what the emulators saw
    assert_no_secret(run.output, creds.values())
    for emulator in [hosted, onprem] + list(writable.values()):
        assert_no_secret(str(emulator.requests()), creds.values())
    # the shared emulators were only read: every write attempt there (missing scope, no permission) was refused
    writes = [e for emulator in (hosted, onprem) for e in emulator.requests()
              if e['method'] in ('PUT', 'DELETE') or (e['method'] == 'POST' and e['path'].endswith('/graph/users'))]
    assert writes and all(e['status'] in (401, 403) for e in writes)
    counts = json.loads(re.search(r'REQUEST-COUNTS (\{[^}]*\})', run.stdout).group(1).replace('\\"', '"'))
    (ROOT / '.cache' / 'test-logs').mkdir(parents=True, exist_ok=True)
    (ROOT / '.cache' / 'test-logs' / 'group_membership_request_counts.json').write_text(json.dumps(counts, indent=1))
    assert counts['nested_hosted'] <= 7 and counts['large_nested_hosted'] <= 7
    # the Graph host was found through the resource-areas API, never assumed
    paths = [entry['path'] for entry in writable['hosted'].requests()]
    assert any('/_apis/resourceAreas/bb1e7ec9-e901-4b68-999a-de7012b920f8' in p for p in paths)
    assert all('/_hosts/vssps/' in p for p in paths if '/graph/' in p)


def test_emulator_state_after_the_round_trip(writable):
    """The round trip left the TF400813 user outside again, in both modes."""
    for emulator in (writable['hosted'], writable['onprem']):
        import requests  # pylint: disable=import-outside-toplevel
        response = requests.get('%s/_apis/connectionData' % emulator.url, auth=('', all_credentials()['outsider']),
                                timeout=10)
        assert response.status_code == 401
        assert 'TF400813' in response.json()['message']


def test_collection_access_playbook_audits_then_converges(run_playbook):
    """playbooks/collection_access.yml on premises: --check reports every deviation and fails, a run converges."""
    import requests  # pylint: disable=import-outside-toplevel
    creds = all_credentials()
    with start_emulator(mode='onprem') as emulator:
        extra = {
            'collection_access_pat': creds['full_access'],
            'collection_access_allow_http': True,
            'collection_access_collections': [{'url': emulator.url, 'memberships': [
                {'member': 'FABRIKAM\\contractor', 'group': '[Payments]\\Readers'},
                {'member': 'deploy-pipeline', 'group': 'Project Collection Build Service Accounts'},
                {'member': 'payments.auditor@fabrikam.example', 'group': '[Payments]\\Readers', 'state': 'absent'},
            ]}],
        }
        playbook = ROOT / 'playbooks' / 'collection_access.yml'

        def outsider():
            return requests.get('%s/_apis/connectionData' % emulator.url, auth=('', creds['outsider']),
                                timeout=10).status_code

        audit = run_playbook(playbook, extra, verbosity=4, check=True)
        assert audit.rc != 0
        assert '2 declared membership(s) deviate' in audit.output
        assert 'drift   present FABRIKAM\\\\contractor in [Payments]\\\\Readers' in audit.stdout
        assert 'drift   absent  payments.auditor@fabrikam.example' in audit.stdout
        assert outsider() == 401  # the audit changed nothing
        converge = run_playbook(playbook, extra, verbosity=4)
        assert converge.rc == 0, converge.tail()
        assert 'changed=1' in converge.stdout and outsider() == 200
        again = run_playbook(playbook, extra, check=True)
        assert again.rc == 0, again.tail()
        for run in (audit, converge, again):
            assert_no_secret(run.output, creds.values())
            assert 'Traceback' not in run.output
