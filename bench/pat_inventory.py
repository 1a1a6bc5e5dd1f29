# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark: organization-wide PAT inventory, sequential script vs azdo.auth.ado_pat_info, in one run.

    python bench/pat_inventory.py [--users 500] [--pats 3] [--latency 0.02] [--concurrency 8]

Against the emulator with per-request latency: (a) the common script — list users (Graph, paged), then each
user's PATs one request at a time with plain requests; (b) ado_pat_info's logic with the given concurrency;
(c) (b) again with 429s injected, to show nothing is lost. Prints wall times, ratio, request counts and the
lower bound ceil(requests / concurrency) x latency. Figures, not assertions.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# pylint: disable=wrong-import-position
from ansible_collections.azdo.auth.plugins.module_utils import _client, _pat_info  # noqa: E402
from ansible_collections.azdo.auth.plugins.module_utils._runner import call  # noqa: E402
from tests.emulator import start_emulator  # noqa: E402
from tests.integration.test_ado_pat import inventory_fixture  # noqa: E402


def sequential(emulator, token):
    """What the common script does: list users, then each user's PATs, one request at a time."""
    session = requests.Session()
    session.headers.update({'Authorization': 'Bearer ' + token, 'X-TFS-FedAuthRedirect': 'Suppress'})
    vssps = emulator.host_url('vssps')
    users, params = [], {'api-version': '7.1-preview.1'}
    while True:
        answer = session.get(vssps + '/_apis/graph/users', params=params, timeout=30)
        users.extend(answer.json()['value'])
        following = answer.headers.get('X-MS-ContinuationToken')
        if not following:
            break
        params['continuationToken'] = following
    tokens = 0
    for user in users:
        page = {'api-version': '7.1-preview.1', 'pageSize': 100}
        while True:
            answer = session.get(vssps + '/_apis/tokenadmin/personalaccesstokens/' + user['descriptor'], params=page,
                                 timeout=30).json()
            tokens += sum(1 for t in answer['value'] if t.get('isValid', True))
            if not answer.get('continuationToken'):
                break
            page['continuationToken'] = answer['continuationToken']
    return tokens


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--users', type=int, default=500)
    parser.add_argument('--pats', type=int, default=3)
    parser.add_argument('--latency', type=float, default=0.02)
    parser.add_argument('--concurrency', type=int, default=8)
    args = parser.parse_args()
    fixture = inventory_fixture(args.users, args.pats)
    fixture['graph_page_size'] = 100
    token = fixture['credentials']['alice_entra']['token']
    with start_emulator(mode='hosted', server_version='cloud', state=fixture) as emulator:
        emulator.configure(latency=args.latency)
        params = {'url': emulator.url, 'access_token': token, 'allow_http': True, 'owner': 'all',
                  'concurrency': args.concurrency, 'page_size': 100, 'expiring_within_days': 30, 'include_revoked': False,
                  'timeout': 30, 'retries': 5, 'retry_max_delay': 2, 'validate_certs': True}
        emulator.reset_log()
        started = time.perf_counter()
        seq_tokens = sequential(emulator, token)
        seq_time = time.perf_counter() - started
        seq_requests = len(emulator.requests())

        _client.reset_caches()
        emulator.reset_log()
        started = time.perf_counter()
        failed, result = call(_pat_info.run, params, False, None)
        par_time = time.perf_counter() - started
        if failed:
            raise SystemExit(result['msg'])
        par_requests = result['requests']

        _client.reset_caches()
        emulator.faults([{'path': 'tokenadmin', 'status': 429, 'retry_after': '1', 'count': 20}])
        started = time.perf_counter()
        failed, throttled = call(_pat_info.run, params, False, None)
        thr_time = time.perf_counter() - started
        if failed:
            raise SystemExit(throttled['msg'])

    bound = math.ceil(par_requests / float(args.concurrency)) * args.latency
    print('pat_inventory benchmark: %d users x %d PATs, %.0f ms latency per request, concurrency %d'
          % (args.users, args.pats, args.latency * 1000, args.concurrency))
    print('(a) sequential script      : %7.2f s  %5d requests  %5d tokens' % (seq_time, seq_requests, seq_tokens))
    print('(b) ado_pat_info           : %7.2f s  %5d requests  %5d tokens' % (par_time, par_requests, len(result['tokens'])))
    print('    ratio (a)/(b)          : %7.1fx' % (seq_time / par_time))
    print('    lower bound            : %7.2f s  (ceil(requests / concurrency) x latency); (b) is %.2fx of it'
          % (bound, par_time / bound))
    print('(c) with 20 x 429 injected : %7.2f s  %5d requests  %5d tokens (same tokens: %s)'
          % (thr_time, throttled['requests'], len(throttled['tokens']), throttled['tokens'] == result['tokens']))


if __name__ == '__main__':
    main()
