# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""`make demo`: start a cloud-mode and an on-premises emulator on 127.0.0.1, run playbooks/demo.yml
against them, print a readable summary, stop the emulators. Nothing outside the machine is contacted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.emulator import start_emulator

ROOT = Path(__file__).resolve().parents[1]


def _secrets(emulator):
    return dict((key, entry['token']) for key, entry in emulator.fixture['credentials'].items())


def _table(rows):
    header = ('CREDENTIAL', 'COLLECTION', 'USER', 'VALID', 'DIAGNOSIS', 'REQ')
    body = []
    for row in rows:
        user = (row.get('authenticated_user') or {}).get('unique_name') or '-'
        body.append((row['item']['name'], row['url'], user, 'yes' if row['valid'] else 'no',
                     row['diagnosis']['code'], str(row.get('requests', ''))))
    widths = [max(len(str(line[i])) for line in [header] + body) for i in range(len(header))]
    lines = ['  '.join(str(cell).ljust(width) for cell, width in zip(line, widths)) for line in [header] + body]
    lines.insert(1, '  '.join('-' * width for width in widths))
    return '\n'.join(lines)


def main():
    started = time.time()
    with start_emulator(mode='hosted', server_version='cloud') as cloud, \
            start_emulator(mode='onprem', server_version='2020') as onprem, \
            tempfile.TemporaryDirectory(prefix='azdo-demo-') as work:
        print('Azure DevOps Services emulator: %s' % cloud.url)
        print('Azure DevOps Server 2020 emulator: %s' % onprem.url)
        report = os.path.join(work, 'pat_checks.json')
        vars_file = os.path.join(work, 'demo-vars.json')
        with open(os.open(vars_file, os.O_WRONLY | os.O_CREAT, 0o600), 'w', encoding='utf-8') as handle:
            json.dump({'demo_cloud_url': cloud.url, 'demo_onprem_url': onprem.url, 'demo_secrets': _secrets(cloud),
                       'demo_allow_http': True, 'demo_report': report}, handle)
        env = dict(os.environ)
        env.setdefault('ANSIBLE_COLLECTIONS_PATH', str(ROOT / '.cache' / 'collections'))
        cmd = [str(Path(sys.executable).with_name('ansible-playbook')), str(ROOT / 'playbooks' / 'demo.yml'),
               '-i', 'localhost,', '-e', 'ansible_connection=local', '-e', 'ansible_python_interpreter=%s' % sys.executable,
               '-e', '@%s' % vars_file]
        completed = subprocess.run(cmd, cwd=str(ROOT), env=env, check=False)
        if completed.returncode != 0 or not os.path.exists(report):
            print('demo playbook failed (exit %d)' % completed.returncode)
            return completed.returncode or 1
        with open(report, encoding='utf-8') as handle:
            rows = json.load(handle)
        print()
        print('Summary: ado_pat_check against both emulators')
        print(_table(rows))
        print()
        for row in rows:
            if not row['valid']:
                print('- %s @ %s: %s' % (row['item']['name'], row['url'], row['diagnosis']['remediation']))
        print()
        print('demo finished in %.1f s' % (time.time() - started))
    return 0


if __name__ == '__main__':
    sys.exit(main())
