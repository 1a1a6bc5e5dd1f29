# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark: playbooks/rotate_tokens.yml, first run vs re-run, against the emulator and a real OpenBao.

    python bench/rotate_tokens.py [--credentials 10]

Declares N Entra service principal credentials stored in OpenBao KV v2; prints token-endpoint calls, KV versions
written and wall time for the first run and for the re-run (target: 0 calls and 0 writes). Figures, not assertions.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# pylint: disable=wrong-import-position
from tests.emulator import start_emulator  # noqa: E402
from tests.utils.openbao import OpenBao  # noqa: E402


def kv_versions(bao, count):
    total = 0
    for number in range(count):
        answer = bao.api('GET', 'secret/metadata/azdo-bench/sp-%02d' % number)
        if answer.status_code == 200:
            total += answer.json()['data']['current_version']
    return total


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--credentials', type=int, default=10)
    args = parser.parse_args()
    with start_emulator(mode='hosted', server_version='cloud') as emulator, OpenBao(root_token='bench-root') as bao, \
            tempfile.TemporaryDirectory(prefix='bench-rotate-') as tmp:
        app = emulator.fixture['applications']['deploy-pipeline']
        credentials = [{'name': 'sp-%02d' % n, 'tenant_id': emulator.fixture['tenant_id'], 'client_id': app['client_id'],
                        'client_secret': app['client_secret'], 'authority_host': emulator.base + '/_hosts/login',
                        'store': {'backend': 'hashicorp_vault', 'url': bao.url, 'token': 'bench-root',
                                  'path': 'azdo-bench'}} for n in range(args.credentials)]
        vars_file = Path(tmp) / 'vars.json'
        vars_file.write_text(json.dumps({'token_vault_credentials': credentials, 'token_vault_allow_http': True}))
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / '.cache' / 'collections'), ANSIBLE_NOCOLOR='1')
        cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'),
               str(ROOT / 'playbooks' / 'rotate_tokens.yml'), '-i', 'localhost,', '-e', 'ansible_connection=local',
               '-e', '@%s' % vars_file]
        rows = []
        for label in ('first run', 're-run'):
            emulator.reset_log()
            versions = kv_versions(bao, args.credentials)
            started = time.perf_counter()
            completed = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
            elapsed = time.perf_counter() - started
            if completed.returncode != 0:
                sys.stderr.write(completed.stdout[-3000:])
                raise SystemExit('%s failed' % label)
            calls = len([r for r in emulator.requests() if '/oauth2/' in r['path']])
            rows.append((label, elapsed, calls, kv_versions(bao, args.credentials) - versions))
    print('rotate_tokens benchmark: %d credentials in OpenBao, %d cores' % (args.credentials, os.cpu_count()))
    print('%-10s %9s %15s %13s' % ('run', 'wall (s)', 'token calls', 'KV writes'))
    for label, elapsed, calls, writes in rows:
        print('%-10s %9.2f %15d %13d' % (label, elapsed, calls, writes))
    print('re-run / first run wall time: %.2f' % (rows[1][1] / rows[0][1]))


if __name__ == '__main__':
    main()
