# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/audit.yml (role azdo.auth.auth_audit) against the drifted estate of the role's molecule scenario.

The estate (roles/auth_audit/molecule/default/inventory.yml, drifted by prepare.yml) runs here on the
module's own emulators: the audit must report every drift, change nothing - only GET/HEAD requests reach the
emulators, the token file and the appcmd simulator's configuration keep their bytes and modification
time, with --check and without - and write the report only when it changes. `make audit-demo` is run
twice: the second run produces the same JSON.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys

import pytest

from tests.emulator import start_emulator

from .conftest import ROOT, assert_no_secret, fixture_credentials

ESTATE = ROOT / 'roles' / 'auth_audit' / 'molecule' / 'default'
PLAYBOOK = ROOT / 'playbooks' / 'audit.yml'


@pytest.fixture(scope='module')
def emulators():
    """Emulators of this module only: other tests change memberships and PATs of the session's."""
    with start_emulator(mode='hosted', server_version='cloud') as hosted, \
            start_emulator(mode='onprem', server_version='2022.1') as onprem:
        yield hosted, onprem


@pytest.fixture
def estate(tmp_path, emulators):
    """The estate on this module's emulators: services.json as tests.utils.services writes it (no OpenBao)."""
    hosted, onprem = emulators
    directory = tmp_path / 'estate'
    directory.mkdir()
    services = {'emulator_url': hosted.url, 'emulator_base': hosted.base, 'onprem_url': onprem.url,
                'onprem_base': onprem.base, 'tenant_id': hosted.fixture['tenant_id'],
                'applications': hosted.fixture['applications'],
                'credentials': dict((k, v['token']) for k, v in hosted.fixture['credentials'].items())}
    (directory / 'services.json').write_text(json.dumps(services), encoding='utf-8')
    env = {'AUDIT_ESTATE_DIR': str(directory), 'APPCMD_SIM_CONFIG': str(directory / 'applicationHost.config'),
           'ANSIBLE_VAULT_PASSWORD_FILE': str(ESTATE / 'vault_password.py'),
           # appcmd.py and vault_password.py start with "#!/usr/bin/env python"
           'PATH': os.pathsep.join([os.path.dirname(sys.executable), os.environ.get('PATH', '')])}
    return {'dir': directory, 'env': env, 'emulators': (hosted, onprem), 'report': tmp_path / 'report',
            'files': (directory / 'tokens.vault.yml', directory / 'applicationHost.config')}


def inventory_args():
    return ('-i', str(ESTATE / 'inventory.yml'))


def snapshot(paths):
    return [(path.read_bytes(), os.stat(str(path)).st_mtime_ns) for path in paths]


def methods(emulators):
    return sorted(set(entry['method'] for emulator in emulators for entry in emulator.requests()))


def test_audit_reports_the_drift_and_changes_nothing(run_playbook, estate):
    prepared = run_playbook(ESTATE / 'prepare.yml', env=estate['env'], extra_args=inventory_args())
    assert prepared.rc == 0, prepared.tail()
    before = snapshot(estate['files'])
    for emulator in estate['emulators']:
        emulator.reset_log()
    report_vars = {'audit_report_dir': str(estate['report'])}

    checked = run_playbook(PLAYBOOK, report_vars, verbosity=4, check=True, env=estate['env'], extra_args=inventory_args())
    # Fails on the drift by default, after writing the report (also under --check: audit_write_in_check_mode).
    assert checked.rc == 2, checked.tail()
    assert 'Audit: 14 drift, 1 error of 24 checks' in checked.output
    assert_no_secret(checked.output, list(fixture_credentials().values()))
    assert methods(estate['emulators']) in (['GET'], ['GET', 'HEAD'])
    assert snapshot(estate['files']) == before

    report = json.loads((estate['report'] / 'audit.json').read_text(encoding='utf-8'))
    assert report['summary']['by_status'] == {'ok': 9, 'drift': 14, 'error': 1}
    assert dict((area, counts['total']) for area, counts in report['summary']['by_area'].items()) == {
        'iis_auth': 4, 'group_membership': 5, 'credentials': 6, 'pat_inventory': 6, 'stored_tokens': 3}
    statuses = dict((item['target'], item['status']) for item in report['items'])
    assert statuses['ado-server-01: Azure DevOps Server (Basic)'] == 'drift'
    assert statuses['release-sp (ansible_vault)'] == 'drift' and statuses['deploy-sp (ansible_vault)'] == 'ok'
    assert statuses['admin@fabrikam.example: full-access'] == 'drift'
    for name in ('audit.md', 'audit.html'):
        assert (estate['report'] / name).stat().st_size > 1000
    stamps = [os.stat(str(estate['report'] / name)).st_mtime_ns for name in ('audit.json', 'audit.md', 'audit.html')]

    # Without --check: the same reads, still nothing changed, and the unchanged report is not rewritten.
    for emulator in estate['emulators']:
        emulator.reset_log()
    real = run_playbook(PLAYBOOK, dict(report_vars, audit_fail_on_drift=False, audit_fail_on_error=False),
                        env=estate['env'], extra_args=inventory_args())
    assert real.rc == 0, real.tail()
    assert 'changed=0' in real.output
    assert methods(estate['emulators']) in (['GET'], ['GET', 'HEAD'])
    assert snapshot(estate['files']) == before
    assert stamps == [os.stat(str(estate['report'] / name)).st_mtime_ns
                      for name in ('audit.json', 'audit.md', 'audit.html')]


def test_check_mode_can_write_nothing_at_all(run_playbook, estate):
    prepared = run_playbook(ESTATE / 'prepare.yml', env=estate['env'], extra_args=inventory_args())
    assert prepared.rc == 0, prepared.tail()
    run = run_playbook(PLAYBOOK, {'audit_report_dir': str(estate['report']), 'audit_write_in_check_mode': False,
                                  'audit_fail_on_drift': False, 'audit_fail_on_error': False},
                       check=True, env=estate['env'], extra_args=inventory_args())
    assert run.rc == 0, run.tail()
    assert not estate['report'].exists()
    assert '24 checks - ok 9, drift 14, error 1' in run.output


def test_areas_without_a_declaration_are_skipped(run_playbook, tmp_path):
    report_dir = tmp_path / 'report'
    run = run_playbook(PLAYBOOK, {'audit_report_dir': str(report_dir)})
    assert run.rc == 0, run.tail()
    report = json.loads((report_dir / 'audit.json').read_text(encoding='utf-8'))
    assert report['items'] == [] and report['summary']['total'] == 0
    assert [entry['area'] for entry in report['skipped']] == [
        'iis_auth', 'group_membership', 'credentials', 'pat_inventory', 'stored_tokens']


def test_a_module_that_is_not_installed_skips_its_area_only(run_playbook, estate, tmp_path):
    """A collection copy without ado_pat_info (as before it existed): the other areas are checked as usual."""
    listed = subprocess.run(['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], cwd=str(ROOT),
                            capture_output=True, check=True).stdout.decode().split('\0')
    copy = tmp_path / 'collections' / 'ansible_collections' / 'azdo' / 'auth'
    for name in listed:
        if not name or name.endswith('/ado_pat_info.py') or not (ROOT / name).is_file():
            continue
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(str(ROOT / name), str(copy / name))
    env = dict(estate['env'], ANSIBLE_COLLECTIONS_PATH=str(tmp_path / 'collections'))
    prepared = run_playbook(ESTATE / 'prepare.yml', env=env, extra_args=inventory_args())
    assert prepared.rc == 0, prepared.tail()
    run = run_playbook(PLAYBOOK, {'audit_report_dir': str(estate['report']), 'audit_fail_on_drift': False,
                                  'audit_fail_on_error': False}, env=env, extra_args=inventory_args())
    assert run.rc == 0, run.tail()
    report = json.loads((estate['report'] / 'audit.json').read_text(encoding='utf-8'))
    assert report['skipped'] == [{'area': 'pat_inventory', 'reason': 'the module azdo.auth.ado_pat_info is not installed'}]
    assert sorted(report['summary']['by_area']) == ['credentials', 'group_membership', 'iis_auth', 'stored_tokens']
    assert report['summary']['total'] == 18


def _free_port():
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def make_audit_demo(directory, ports):
    env = dict(os.environ)
    for name in ('MAKEFLAGS', 'MFLAGS', 'MAKELEVEL'):
        env.pop(name, None)
    completed = subprocess.run(['make', '-s', 'audit-demo', 'AUDIT_DEMO_DIR=%s' % directory,
                                'AUDIT_DEMO_PORT=%d' % ports[0], 'AUDIT_DEMO_ONPREM_PORT=%d' % ports[1]],
                               cwd=str(ROOT), env=env, capture_output=True, text=True, timeout=600, check=False)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return completed.stdout


def test_make_audit_demo_twice_gives_the_same_report(tmp_path):
    directory = tmp_path / 'audit-demo'
    ports = (_free_port(), _free_port())
    first = make_audit_demo(directory, ports)
    assert '24 checks - ok 9, drift 14, error 1' in first
    assert 'PAT inventory' in first and 'audit.html' in first
    report = json.loads((directory / 'audit.json').read_text(encoding='utf-8'))
    second_out = make_audit_demo(directory, ports)
    again = json.loads((directory / 'audit.json').read_text(encoding='utf-8'))
    report.pop('generated_at')
    again.pop('generated_at')
    assert again == report
    assert '24 checks' in second_out
    assert_no_secret(first + second_out, list(fixture_credentials().values()))
