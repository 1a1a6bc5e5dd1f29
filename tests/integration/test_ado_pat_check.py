# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""azdo.auth.ado_pat_check through ansible-playbook against the emulators, with a secret-leak scan."""

from __future__ import annotations

from .conftest import ROOT, assert_no_secret


def test_every_diagnosis_code_through_ansible_playbook(run_playbook, target_vars, credentials, hosted, onprem):
    run = run_playbook(ROOT / 'tests' / 'integration' / 'run_target.yml', dict(target_vars, target='ado_pat_check'),
                       verbosity=4)
    assert run.rc == 0, run.tail()
    assert 'failed=0' in run.stdout
    assert 'Traceback' not in run.output
    # -vvvv output and the emulators' request logs carry no secret, nor its Basic header form.
    assert_no_secret(run.output, credentials.values())
    for emulator in (hosted, onprem):
        assert_no_secret(str(emulator.requests()), credentials.values())


def test_env_fallbacks_for_url_and_pat_with_debug_output(run_playbook, hosted, credentials, tmp_path):
    playbook = tmp_path / 'env.yml'
    playbook.write_text('''
- hosts: localhost
  gather_facts: false
  tasks:
    - azdo.auth.ado_pat_check:
        allow_http: true
      register: from_env
    - ansible.builtin.assert:
        that:
          - from_env.valid
          - from_env.authenticated_user.unique_name == 'admin@fabrikam.example'
''', encoding='utf-8')
    run = run_playbook(playbook, env={'AZDO_URL': hosted.url, 'AZURE_DEVOPS_EXT_PAT': credentials['good'],
                                      'ANSIBLE_DEBUG': '1'}, verbosity=4)
    assert run.rc == 0, run.tail()
    assert_no_secret(run.output, credentials.values())
