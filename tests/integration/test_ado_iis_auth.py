# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""azdo.auth.ado_iis_auth and playbooks/iis_auth.yml through ansible-playbook against the appcmd simulator.

The real action plugin runs over ``ansible_connection: local`` (an ``sh`` shell), with ``appcmd_path``
pointing at tests/appcmd/appcmd.py, which edits a temporary copy of the sample applicationHost.config.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from .conftest import ROOT, assert_no_secret

SIMULATOR = ROOT / 'tests' / 'appcmd' / 'appcmd.py'
SAMPLE = ROOT / 'tests' / 'appcmd' / 'applicationHost.config'
AUTH = 'system.webServer/security/authentication/'
SAMPLE_DIGEST = hashlib.sha256(SAMPLE.read_bytes()).hexdigest()


@pytest.fixture
def simulator(tmp_path):
    config = tmp_path / 'applicationHost.config'
    shutil.copyfile(SAMPLE, config)
    return {
        'vars': {'appcmd_path': str(SIMULATOR), 'sim_config': str(config), 'sim_sample': str(SAMPLE)},
        # The simulator's shebang is "#!/usr/bin/env python": put this interpreter first on PATH.
        'env': {'APPCMD_SIM_CONFIG': str(config),
                'PATH': os.pathsep.join([os.path.dirname(sys.executable), os.environ.get('PATH', '')])},
        'config': config,
    }


def appcmd(simulator, *args):
    completed = subprocess.run([str(SIMULATOR)] + list(args), capture_output=True, text=True, check=False,
                               env=simulator['env'])
    assert completed.returncode == 0, completed.stdout
    return completed.stdout


def location_auth(config, path):
    """The authentication settings written in <location path=...> of the configuration file."""
    root = ET.parse(str(config)).getroot()
    found = {}
    for location in root.findall('location'):
        if location.get('path') == path:
            for section in location.findall('system.webServer/security/authentication/*'):
                found[section.tag] = dict(section.attrib)
    return found


def break_site(simulator):
    appcmd(simulator, 'set', 'config', 'Azure DevOps Server', '/section:' + AUTH + 'basicAuthentication', '/enabled:true',
           '/commit:apphost')
    appcmd(simulator, 'set', 'config', 'Azure DevOps Server', '/section:' + AUTH + 'anonymousAuthentication', '/enabled:true',
           '/commit:apphost')
    appcmd(simulator, 'set', 'config', 'Azure DevOps Server', '/section:' + AUTH + 'windowsAuthentication', '/enabled:false',
           '/commit:apphost')


def test_every_scenario_through_ansible_playbook(run_playbook, simulator):
    """Report-only, refusals, check mode, converge with diff, idempotence, allow_insecure and every error case."""
    run = run_playbook(ROOT / 'tests' / 'integration' / 'run_target.yml', dict(simulator['vars'], target='ado_iis_auth'),
                       env=simulator['env'])
    assert run.rc == 0, run.tail()
    assert 'failed=0' in run.stdout
    assert 'Traceback' not in run.output
    # Report-only mode warns about each high-severity finding.
    for code in ('BASIC_AUTH_ENABLED', 'ANONYMOUS_ENABLED', 'WINDOWS_AUTH_DISABLED'):
        assert '[WARNING]: %s: ' % code in run.output
    # The task with diff: true shows a before/after per section.
    assert 'before: Azure DevOps Server: basicAuthentication (before)' in run.stdout
    assert 'after: Azure DevOps Server: basicAuthentication (after)' in run.stdout
    # The sample itself is never touched.
    assert hashlib.sha256(SAMPLE.read_bytes()).hexdigest() == SAMPLE_DIGEST


def test_check_mode_and_diff_of_the_playbook_change_nothing(run_playbook, simulator):
    break_site(simulator)
    before = simulator['config'].read_bytes()
    run = run_playbook(ROOT / 'playbooks' / 'iis_auth.yml', dict(iis_auth_hosts='localhost',
                                                                 iis_auth_appcmd_path=str(SIMULATOR)),
                       env=simulator['env'], check=True, extra_args=('--diff',))
    assert run.rc == 0, run.tail()
    assert 'changed=1' in run.stdout
    assert '-    "enabled": true' in run.stdout and '+    "enabled": false' in run.stdout
    assert simulator['config'].read_bytes() == before


def test_playbook_converges_a_broken_host_and_verifies_a_pat(run_playbook, simulator, onprem, credentials):
    """The infra team's job: broken site -> baseline, then a PAT checked from the controller with a diagnosis."""
    onprem.reset_log()
    break_site(simulator)
    extra = dict(iis_auth_hosts='localhost', iis_auth_appcmd_path=str(SIMULATOR), iis_auth_verify_url=onprem.url,
                 iis_auth_verify_pat=credentials['good'], iis_auth_verify_allow_http=True)
    run = run_playbook(ROOT / 'playbooks' / 'iis_auth.yml', extra, env=simulator['env'], verbosity=2)
    assert run.rc == 0, run.tail()
    assert 'changed=1' in run.stdout and 'failed=0' in run.stdout
    assert '%s: OK - ' % onprem.url in run.stdout
    assert_no_secret(run.output, credentials.values())
    written = location_auth(simulator['config'], 'Azure DevOps Server')
    assert written['basicAuthentication']['enabled'] == 'false'
    assert written['anonymousAuthentication']['enabled'] == 'false'
    assert written['windowsAuthentication']['enabled'] == 'true'
    # Second run: nothing to change, so no PAT check either.
    again = run_playbook(ROOT / 'playbooks' / 'iis_auth.yml', extra, env=simulator['env'])
    assert again.rc == 0, again.tail()
    assert 'changed=0' in again.stdout
    check_task = again.stdout.split('TASK [azdo.auth.iis_auth : Check the credential against the collection URL]')[1]
    assert 'skipping: [localhost]' in check_task.split('TASK [')[0]


def test_playbook_fails_when_the_pat_does_not_work_after_the_change(run_playbook, simulator, onprem, credentials):
    break_site(simulator)
    extra = dict(iis_auth_hosts='localhost', iis_auth_appcmd_path=str(SIMULATOR), iis_auth_verify_url=onprem.url,
                 iis_auth_verify_pat=credentials['expired'], iis_auth_verify_allow_http=True)
    run = run_playbook(ROOT / 'playbooks' / 'iis_auth.yml', extra, env=simulator['env'])
    assert run.rc != 0
    assert 'INVALID_OR_EXPIRED' in run.output
    assert 'The credential does not work against %s after the IIS change' % onprem.url in run.output
    assert_no_secret(run.output, credentials.values())


def test_report_only_playbook_is_read_only(run_playbook, simulator):
    break_site(simulator)
    before = simulator['config'].read_bytes()
    run = run_playbook(ROOT / 'playbooks' / 'iis_auth.yml', dict(iis_auth_hosts='localhost', iis_auth_appcmd_path=str(SIMULATOR),
                                                                 iis_auth_report_only=True), env=simulator['env'])
    assert run.rc == 0, run.tail()
    assert 'changed=0' in run.stdout
    assert 'HIGH BASIC_AUTH_ENABLED: Basic authentication is enabled on' in run.stdout
    assert simulator['config'].read_bytes() == before
