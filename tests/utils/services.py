# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Start or stop the local parts a molecule scenario needs, detached from the calling process.

    python -m tests.utils.services start --dir DIR [--emulator hosted] [--onprem] [--openbao]
    python -m tests.utils.services stop --dir DIR

``start`` writes DIR/services.json: the emulator's URLs and fixture secrets, the OpenBao URL and root
token, and the process ids ``stop`` ends. ``--onprem`` adds an on-premises emulator beside the
``--emulator`` one (``onprem_url``, ``onprem_base``); ``--port`` / ``--onprem-port`` pin their ports
(default: any free port). Run from the repository root.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.emulator import load_fixture_data
from tests.utils.openbao import OpenBao

ROOT = Path(__file__).resolve().parents[2]


def _start_emulator(directory, mode, port=0):
    out = directory / ('emulator-%s.json' % mode)
    log = open(directory / ('emulator-%s.log' % mode), 'w')
    process = subprocess.Popen([sys.executable, '-m', 'tests.emulator', '--port', str(port), '--mode', mode],
                               cwd=str(ROOT), stdout=subprocess.PIPE, stderr=log, start_new_session=True, text=True)
    line = process.stdout.readline()
    if not line:
        process.wait()
        raise SystemExit('the emulator did not start%s; see %s' % (' on port %d' % port if port else '', log.name))
    info = json.loads(line)
    out.write_text(line)
    return info, process.pid


def _stop_pids(pids):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
        for dummy in range(50):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)


def start(directory, emulator_mode, with_openbao, with_onprem=False, port=0, onprem_port=0):
    directory.mkdir(parents=True, exist_ok=True)
    services = {'pids': []}
    try:
        _start_all(directory, services, emulator_mode, with_openbao, with_onprem, port, onprem_port)
    except BaseException:
        _stop_pids(services['pids'])  # nothing is left running when one part does not start
        raise
    path = directory / 'services.json'
    fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as handle:
        json.dump(services, handle)
    print(json.dumps({'services': str(path), 'pids': services['pids']}))


def _start_all(directory, services, emulator_mode, with_openbao, with_onprem, port, onprem_port):
    if with_onprem:
        info, pid = _start_emulator(directory, 'onprem', onprem_port)
        services['pids'].append(pid)
        services.update(onprem_url=info['url'], onprem_base=info['base'])
    if emulator_mode:
        info, pid = _start_emulator(directory, emulator_mode, port)
        fixture = load_fixture_data()
        services.update(emulator_url=info['url'], emulator_base=info['base'], tenant_id=fixture['tenant_id'],
                        applications=fixture.get('applications') or {},
                        credentials={k: v['token'] for k, v in fixture['credentials'].items()})
        services['pids'].append(pid)
    if with_openbao:
        token = secrets.token_urlsafe(18)
        bao = OpenBao(root_token=token)
        services.update(bao_url=bao.url, bao_token=token)
        services['pids'].append(bao.process.pid)
        bao.process = None  # keep it running after this helper exits


def stop(directory):
    path = directory / 'services.json'
    if not path.exists():
        return
    _stop_pids(json.loads(path.read_text()).get('pids', []))
    path.unlink()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('action', choices=['start', 'stop'])
    parser.add_argument('--dir', required=True, type=Path)
    parser.add_argument('--emulator', choices=['hosted', 'onprem'], default=None)
    parser.add_argument('--openbao', action='store_true')
    parser.add_argument('--onprem', action='store_true', help='also start an on-premises emulator (onprem_url)')
    parser.add_argument('--port', type=int, default=0, help='port of the --emulator one (default: any free port)')
    parser.add_argument('--onprem-port', type=int, default=0, help='port of the --onprem one (default: any free port)')
    args = parser.parse_args()
    if args.action == 'start':
        start(args.dir, args.emulator, args.openbao, args.onprem, args.port, args.onprem_port)
    else:
        stop(args.dir)


if __name__ == '__main__':
    main()
