# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""`make demo`: start a cloud-mode and an on-premises emulator on 127.0.0.1, run playbooks/demo.yml
against them, print a readable summary, stop the emulators. Nothing outside the machine is contacted."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.emulator import start_emulator

ROOT = Path(__file__).resolve().parents[1]


def _secrets(emulator):
    return dict((key, entry['token']) for key, entry in emulator.fixture['credentials'].items())


def _entra(emulator):
    app = emulator.fixture['applications']['deploy-pipeline']
    return {'tenant_id': emulator.fixture['tenant_id'], 'authority_host': emulator.base + '/_hosts/login',
            'client_id': app['client_id'], 'client_secret': app['client_secret']}


def _token_calls(emulator):
    return len([r for r in emulator.requests() if '/oauth2/' in r['path']])


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


def _run_demo(cmd, env):
    """Run the demo playbook; returns (exit code, the PLAY RECAP 'changed=' count)."""
    completed = subprocess.run(cmd, cwd=str(ROOT), env=env, check=False, capture_output=True, text=True)
    sys.stdout.write(completed.stdout)
    sys.stderr.write(completed.stderr)
    changed = None
    for line in completed.stdout.splitlines():
        if line.startswith('localhost') and 'changed=' in line:
            changed = int(line.split('changed=')[1].split()[0])
    return completed.returncode, changed


def main():
    started = time.time()
    with start_emulator(mode='hosted', server_version='cloud') as cloud, \
            start_emulator(mode='onprem', server_version='2020') as onprem, \
            tempfile.TemporaryDirectory(prefix='azdo-demo-') as work:
        print('Azure DevOps Services emulator: %s' % cloud.url)
        print('Azure DevOps Server 2020 emulator: %s' % onprem.url)
        report = os.path.join(work, 'demo-report.json')
        vars_file = os.path.join(work, 'demo-vars.json')
        password_file = os.path.join(work, 'vault-password')
        with open(os.open(password_file, os.O_WRONLY | os.O_CREAT, 0o600), 'w', encoding='utf-8') as handle:
            handle.write(secrets.token_urlsafe(24))
        with open(os.open(vars_file, os.O_WRONLY | os.O_CREAT, 0o600), 'w', encoding='utf-8') as handle:
            json.dump({'demo_cloud_url': cloud.url, 'demo_onprem_url': onprem.url, 'demo_secrets': _secrets(cloud),
                       'demo_allow_http': True, 'demo_report': report,
                       'demo_store_file': os.path.join(work, 'demo-tokens.vault.yml'),
                       'demo_entra': _entra(cloud)}, handle)
        env = dict(os.environ)
        env.setdefault('ANSIBLE_COLLECTIONS_PATH', str(ROOT / '.cache' / 'collections'))
        cmd = [str(Path(sys.executable).with_name('ansible-playbook')), str(ROOT / 'playbooks' / 'demo.yml'),
               '-i', 'localhost,', '-e', 'ansible_connection=local', '-e', 'ansible_python_interpreter=%s' % sys.executable,
               '-e', '@%s' % vars_file, '--vault-password-file', password_file]
        cloud.reset_log()
        code, dummy = _run_demo(cmd, env)
        first_token_calls = _token_calls(cloud)
        if code != 0 or not os.path.exists(report):
            print('demo playbook failed (exit %d)' % code)
            return code or 1
        with open(report, encoding='utf-8') as handle:
            first = json.load(handle)
        print('\n== Second run of the same demo (nothing should change) ==')
        cloud.reset_log()
        code, changed_again = _run_demo(cmd, env)
        second_token_calls = _token_calls(cloud)
        if code != 0:
            print('second demo run failed (exit %d)' % code)
            return code
        with open(report, encoding='utf-8') as handle:
            second = json.load(handle)
        rows = first['pat_checks']
        print()
        print('Summary: ado_pat_check against both emulators')
        print(_table(rows))
        print()
        for row in rows:
            if not row['valid']:
                print('- %s @ %s: %s' % (row['item']['name'], row['url'], row['diagnosis']['remediation']))
        print()
        store = first['store']
        print('Token store (Ansible Vault file): demo-pipeline-pat stored=%s fingerprint=%s expires_at=%s; '
              'check with the PAT read back through the lookup: %s'
              % (store['changed'], store['fingerprint'], store['expires_at'], store['check_from_store']))
        entra = first['entra']
        print('Entra service principal token: renewed=%s fingerprint=%s expires_at=%s; Azure DevOps check with it: %s '
              '(as %s)' % (entra['renewed'], entra['fingerprint'], entra['expires_at'], entra['check'], entra['user']))
        print('Token endpoint calls: first run %d, second run %d' % (first_token_calls, second_token_calls))
        print('Second run: store changed=%s, token renewed=%s, tasks changed=%s (the report file is the only write)'
              % (second['store']['changed'], second['entra']['renewed'], changed_again))
        print()
        print('demo finished in %.1f s' % (time.time() - started))
    return 0


if __name__ == '__main__':
    sys.exit(main())
