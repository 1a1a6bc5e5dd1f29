# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark: playbooks/iis_auth.yml over N hosts (appcmd simulator, local connection), converge vs re-run.

    python bench/iis_auth.py [--hosts 50] [--forks 10]

Each host gets its own copy of the sample applicationHost.config, broken (Basic on, Anonymous on, Windows off), and
its own appcmd wrapper pointing the simulator at it. Prints the wall time of the converging run and of the idempotent
re-run (changed=0). Figures, not assertions.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIM = ROOT / 'tests' / 'appcmd' / 'appcmd.py'
SAMPLE = ROOT / 'tests' / 'appcmd' / 'applicationHost.config'
BREAK = [
    ['basicAuthentication', '/enabled:true'],
    ['anonymousAuthentication', '/enabled:true'],
    ['windowsAuthentication', '/enabled:false'],
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--hosts', type=int, default=50)
    parser.add_argument('--forks', type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix='bench-iis-') as tmp:
        work = Path(tmp)
        lines = ['[ado_servers]']
        for number in range(args.hosts):
            config = work / ('h%02d.config' % number)
            shutil.copy(SAMPLE, config)
            wrapper = work / ('appcmd-h%02d' % number)
            wrapper.write_text('#!/bin/sh\nAPPCMD_SIM_CONFIG=%s exec %s %s "$@"\n' % (config, sys.executable, SIM))
            wrapper.chmod(0o700)
            for section, flag in BREAK:
                subprocess.run([str(wrapper), 'set', 'config', 'Azure DevOps Server',
                                '/section:system.webServer/security/authentication/' + section, flag, '/commit:apphost'],
                               check=True, capture_output=True)
            lines.append('h%02d ansible_connection=local ansible_python_interpreter=%s iis_auth_appcmd_path=%s'
                         % (number, sys.executable, wrapper))
        inventory = work / 'hosts.ini'
        inventory.write_text('\n'.join(lines) + '\n')
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / '.cache' / 'collections'), ANSIBLE_NOCOLOR='1',
                   PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get('PATH', ''))
        cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), str(ROOT / 'playbooks' / 'iis_auth.yml'),
               '-i', str(inventory), '--forks', str(args.forks)]
        timings = []
        for label in ('converge', 're-run'):
            started = time.perf_counter()
            completed = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
            elapsed = time.perf_counter() - started
            if completed.returncode != 0:
                sys.stderr.write(completed.stdout[-3000:])
                raise SystemExit('%s failed' % label)
            changed = sum(int(n) for n in re.findall(r'changed=(\d+)', completed.stdout))
            timings.append((label, elapsed, changed))
    print('iis_auth benchmark: %d hosts, forks %d, %d cores' % (args.hosts, args.forks, os.cpu_count()))
    for label, elapsed, changed in timings:
        print('%-10s %8.2f s  changed tasks: %d' % (label, elapsed, changed))
    print('re-run / converge: %.2f' % (timings[1][1] / timings[0][1]))


if __name__ == '__main__':
    main()
