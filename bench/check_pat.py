# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark: check N credentials against the emulator, three ways, in one run.

    python bench/check_pat.py [--credentials 200]

(a) what teams write today: ansible.builtin.uri in a loop, one connectionData call per credential;
(b) azdo.auth.ado_pat_check in a loop (the action plugin runs in-process on the controller);
(c) azdo.auth.ado_pat_check with the credentials list option, checked concurrently.
Prints wall times, ratios and HTTP requests per credential (counted by the emulator). Figures, not assertions.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.emulator import load_fixture_data, start_emulator  # noqa: E402  pylint: disable=wrong-import-position

PLAY_URI = '''
- hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.uri:
        url: "{{ url }}/_apis/connectionData"
        headers:
          Authorization: "Basic {{ (':' ~ pats[item]) | b64encode }}"
          X-TFS-FedAuthRedirect: Suppress
        status_code: [200, 203, 401]
      loop: "{{ range(pats | length) | list }}"
      no_log: true
'''
PLAY_LOOP = '''
- hosts: localhost
  gather_facts: false
  tasks:
    - azdo.auth.ado_pat_check:
        url: "{{ url }}"
        pat: "{{ pats[item] }}"
        allow_http: true
        fail_on_invalid: false
      loop: "{{ range(pats | length) | list }}"
      loop_control:
        label: "{{ item }}"
'''
PLAY_LIST = '''
- hosts: localhost
  gather_facts: false
  tasks:
    - azdo.auth.ado_pat_check:
        url: "{{ url }}"
        allow_http: true
        fail_on_invalid: false
        concurrency: 8
        credentials: "{{ credential_list }}"
'''


def run_play(text, extra, work, env):
    playbook = work / ('play-%s.yml' % secrets.token_hex(4))
    playbook.write_text(text)
    vars_file = work / ('vars-%s.json' % secrets.token_hex(4))
    vars_file.write_text(json.dumps(extra))
    cmd = [str(Path(sys.executable).with_name('ansible-playbook')), str(playbook), '-i', 'localhost,',
           '-e', 'ansible_connection=local', '-e', 'ansible_python_interpreter=%s' % sys.executable, '-e', '@%s' % vars_file]
    started = time.perf_counter()
    completed = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout[-3000:] + completed.stderr[-2000:])
        raise SystemExit('playbook failed')
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--credentials', type=int, default=200)
    args = parser.parse_args()
    fixture = copy.deepcopy(load_fixture_data())
    pats = [secrets.token_hex(26) for dummy in range(args.credentials)]
    for index, pat in enumerate(pats):
        fixture['credentials']['bench-%03d' % index] = {
            'token': pat, 'owner': 'alice', 'scopes': ['vso.code'], 'valid_to': '2099-01-01'}
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / '.cache' / 'collections'), ANSIBLE_NOCOLOR='1')
    with start_emulator(mode='hosted', server_version='cloud', state=fixture) as emulator, \
            tempfile.TemporaryDirectory(prefix='bench-check-pat-') as tmp:
        work = Path(tmp)
        extra = {'url': emulator.url, 'pats': pats,
                 'credential_list': [{'name': 'c%03d' % i, 'pat': pat} for i, pat in enumerate(pats)]}
        rows = []
        for label, play in (('ansible.builtin.uri loop', PLAY_URI), ('ado_pat_check loop', PLAY_LOOP),
                            ('ado_pat_check credentials list', PLAY_LIST)):
            emulator.reset_log()
            elapsed = run_play(play, extra, work, env)
            requests = len(emulator.requests())
            rows.append((label, elapsed, requests))
        baseline = rows[0][1]
        print('check_pat benchmark: %d credentials, %d cores' % (args.credentials, os.cpu_count()))
        print('%-34s %10s %10s %14s' % ('method', 'wall (s)', 'vs uri', 'requests/cred'))
        for label, elapsed, requests in rows:
            print('%-34s %10.2f %9.1fx %14.2f' % (label, elapsed, baseline / elapsed, requests / float(args.credentials)))


if __name__ == '__main__':
    main()
