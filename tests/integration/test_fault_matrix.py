# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fault matrix: every controller-side module and plugin that makes network calls, against injected faults.

One row per (module, fault). A row runs the module's ``run()`` in-process through ``_runner.call`` (what the
action plugin does, without the process start-up), or, for a representative subset, a generated one-task
playbook through ansible-playbook with -vvvv. Every row checks:

* bounded wall time: ``stalls x timeout + retries x retry_max_delay + slack``, where ``stalls`` counts the
  attempts the fault holds until the timeout (0 for faults that answer at once) and the options are kept
  small (retries 1 or 2, retry_max_delay 1, timeout 2); rows that must wait for Retry-After also have a
  lower bound;
* the outcome (success after retries, or failure) with a clear message: the diagnosis code or the error
  text naming the cause; no traceback; no secret in the result or the playbook output;
* for writes, no partial state: a group membership is either fully added or unchanged, a store entry keeps
  its old value and KV version, a new token or PAT that cannot be stored ends in a 0600 recovery file;
* for redirects to another host (127.0.0.1 and localhost are different hosts, so is another port): a
  recorder server on 127.0.0.1 receives no credential (Authorization, X-Vault-Token, client secret).

Faults come from the emulator's fault injection, or from a small fault proxy (tests/utils/fault_proxy.py)
in front of the emulator and of a real OpenBao dev server for what the emulator cannot do: a body cut short
of its Content-Length, a body trickled past the timeout, faults on Vault. Emulators, OpenBao and the proxies
are this module's own, and faults are cleared after every row. The measured times are written to
.cache/test-logs/fault_matrix.json and .md (docs/security.md, "Results", summarises them).
"""

from __future__ import annotations

import json
import re
import socket
import stat
import time

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.azdo.auth.plugins.module_utils import (
    _client, _membership, _oauth, _pat, _pat_check, _pat_info, _token_store)
from ansible_collections.azdo.auth.plugins.module_utils._runner import call
from ansible_collections.azdo.auth.plugins.module_utils._stores import build_entry, open_store
from tests.emulator import start_emulator
from tests.emulator.faults import http_date
from tests.utils.fault_proxy import FaultServer
from tests.utils.openbao import OpenBao

from .conftest import ROOT, assert_no_secret, fixture_credentials

TIMEOUT = 2          # timeout of every row
MAX_DELAY = 1        # retry_max_delay of every row
SLACK = 1.5          # the work itself: requests, process-local set-up
PLAYBOOK_SLACK = 1.0  # a task's own overhead in ansible-playbook (measured around the task)
TRICKLE = 0.3        # seconds between two bytes of a trickled body
ROOT_TOKEN = 'fault-matrix-root-token'
KV_PATH = 'fault-matrix'
GROUP = '[Payments]\\Readers'
MEMBER = 'release.dev@fabrikam.example'     # not a direct member of GROUP in the default fixture
NESTED_GROUP = 'Project Collection Valid Users'  # MEMBER is in it through Release Engineers

RESULTS = []
MODULES = {
    'pat_check': ('azdo.auth.ado_pat_check', _pat_check),
    'membership': ('azdo.auth.ado_group_membership', _membership),
    'oauth': ('azdo.auth.ado_oauth_token', _oauth),
    'token_store': ('azdo.auth.ado_token_store', _token_store),
    'pat': ('azdo.auth.ado_pat', _pat),
    'pat_info': ('azdo.auth.ado_pat_info', _pat_info),
    'lookup': ('lookup azdo.auth.ado_token', None),
}
# hvac makes one attempt: the Vault-backed rows have no retries.
NO_RETRIES = ('token_store', 'lookup')


# --------------------------------------------------------------------------------------------
# The environment: emulators, OpenBao, fault proxies, a recorder
# --------------------------------------------------------------------------------------------

class Env(object):
    pass


def _closed_port():
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


@pytest.fixture(scope='module')
def fm(tmp_path_factory):
    env = Env()
    env.work = tmp_path_factory.mktemp('fault-matrix')
    with start_emulator(mode='hosted', server_version='cloud') as emu, \
            start_emulator(mode='hosted', server_version='cloud', tls=True) as tls, \
            OpenBao(root_token=ROOT_TOKEN) as bao, FaultServer(emu.base) as proxy, FaultServer(bao.url) as bao_proxy, \
            FaultServer() as recorder:
        env.emu, env.tls, env.bao, env.proxy, env.bao_proxy, env.recorder = emu, tls, bao, proxy, bao_proxy, recorder
        env.org = emu.url.rsplit('/', 1)[1]
        env.closed = 'http://127.0.0.1:%d' % _closed_port()
        env.creds = fixture_credentials()
        env.app = emu.fixture['applications']['deploy-pipeline']
        env.tenant = emu.fixture['tenant_id']
        env.secrets = list(env.creds.values()) + [a['client_secret'] for a in emu.fixture['applications'].values()
                                                  if a.get('client_secret')] + [ROOT_TOKEN]
        yield env
    _write_results()


@pytest.fixture(autouse=True)
def _clean(fm, monkeypatch):
    """Nothing leaks from one row to the next: faults, proxy rules, records, caches, CA variables."""
    for name in ('REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'VAULT_ADDR', 'VAULT_TOKEN', 'AZURE_DEVOPS_EXT_PAT',
                 'SYSTEM_ACCESSTOKEN', 'AZDO_URL'):
        monkeypatch.delenv(name, raising=False)
    yield
    _reset(fm)


def _clear_faults(fm):
    """Stop injecting (before a row's state is read back); the records stay."""
    fm.emu.clear_faults()
    fm.proxy.clear_rules()
    fm.bao_proxy.clear_rules()


def _reset(fm):
    """After every row: no fault, rule, record or cache is left for the next one."""
    fm.emu.clear_faults()
    fm.emu.reset_log()
    for server in (fm.proxy, fm.bao_proxy, fm.recorder):
        server.clear()
    _client.reset_caches()
    _membership.reset_cache()


def _write_results():
    logs = ROOT / '.cache' / 'test-logs'
    logs.mkdir(parents=True, exist_ok=True)
    rows = sorted(RESULTS, key=lambda r: r['case'])
    (logs / 'fault_matrix.json').write_text(json.dumps(rows, indent=1), encoding='utf-8')
    lines = ['| case | via | outcome | measured s | bound s |', '| --- | --- | --- | ---: | ---: |']
    for row in rows:
        lines.append('| %s | %s | %s | %.2f | %.1f |' % (row['case'], row['via'], row['outcome'], row['elapsed'],
                                                         row['bound']))
    (logs / 'fault_matrix.md').write_text('\n'.join(lines) + '\n', encoding='utf-8')


# --------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------

def emu(**fault):
    """A fault of the emulator's fault injection (POST /_emulator/faults)."""
    return ('emu', fault)


def proxy(**rule):
    """A rule of the fault proxy in front of the emulator (the row's target must be 'proxy')."""
    return ('proxy', rule)


def vault(**rule):
    """A rule of the fault proxy in front of OpenBao."""
    return ('bao', rule)


def row(module, fault, faults=(), ok=False, code=None, text=None, via='inproc', target='emu', params=None,
        stalls=0, retries=1, min_time=0.0, state=None, recorder=False, trickle=False, marks=()):
    case = dict(module=module, fault=fault, faults=list(faults), ok=ok, code=code, text=text, via=via, target=target,
                params=dict(params or {}), stalls=stalls, retries=0 if module in NO_RETRIES else retries,
                min_time=min_time, state=state, recorder=recorder, trickle=trickle)
    case['id'] = '%s-%s' % (module, fault)
    return pytest.param(case, id=case['id'], marks=marks)


CD = r'/_apis/connectionData$'
GROUPS = r'/_apis/graph/groups$'
MEMBERSHIPS = r'/_apis/graph/memberships/'
TOKEN = r'/oauth2/v2\.0/token$'
PATS = r'/_apis/tokens/pats$'
KV_DATA = r'/v1/secret/data/' + KV_PATH + '/'
REDIRECT_LOCALHOST = '{rec_localhost}/redirected'
REDIRECT_OTHER_PORT = '{rec_ip}/redirected'

CASES = [
    # ---- azdo.auth.ado_pat_check -----------------------------------------------------------------
    row('pat_check', '429-retry-after-seconds', [emu(path=CD, status=429, retry_after='30')], ok=True, code='OK',
        min_time=0.9),
    row('pat_check', '429-retry-after-http-date', [emu(path=CD, status=429, retry_after='{http_date:3}')], ok=True,
        code='OK', min_time=0.9),
    row('pat_check', '429-persistent', [emu(path=CD, status=429, retry_after='1', count=-1)], code='RATE_LIMITED',
        text='HTTP 429', retries=2, min_time=1.8),
    row('pat_check', '500-then-success', [emu(path=CD, status=500)], ok=True, code='OK'),
    row('pat_check', '502-then-success', [emu(path=CD, status=502)], ok=True, code='OK'),
    row('pat_check', '503-then-success', [emu(path=CD, status=503)], ok=True, code='OK'),
    row('pat_check', '503-persistent', [emu(path=CD, status=503, count=-1)], code='SERVER_ERROR', text='HTTP 503'),
    row('pat_check', 'connection-reset', [emu(path=CD, drop=True, count=-1)], code='CONNECTION_ERROR',
        text='could not be reached after 2 attempt'),
    row('pat_check', 'connection-reset-once', [emu(path=CD, drop=True)], ok=True, code='OK'),
    row('pat_check', 'read-timeout', [emu(path=CD, delay=TIMEOUT + 1, count=-1)], code='CONNECTION_ERROR',
        text='did not answer within 2 s', stalls=2),
    row('pat_check', 'slow-once-then-success', [emu(path=CD, delay=TIMEOUT + 1)], ok=True, code='OK', stalls=1),
    row('pat_check', 'slow-body-past-timeout', [proxy(path=CD, trickle=TRICKLE, count=-1)], target='proxy',
        code='CONNECTION_ERROR', text='did not arrive in full within 2 s', stalls=2, trickle=True),
    row('pat_check', 'malformed-json', [emu(path=CD, malformed_json=True, count=-1)], code='SERVER_ERROR',
        text='not valid JSON'),
    row('pat_check', 'html-200', [emu(path=CD, html=True, status=200, count=-1)], code='ANONYMOUS_REDIRECT',
        text='answered 200 with an HTML'),
    row('pat_check', 'html-203', [emu(path=CD, html=True, status=203, count=-1)], code='ANONYMOUS_REDIRECT',
        text='answered 203 with an HTML'),
    row('pat_check', 'truncated-content-length', [proxy(path=CD, truncate=True, count=-1)], target='proxy',
        code='CONNECTION_ERROR', text='cut short'),
    row('pat_check', 'truncated-once-then-success', [proxy(path=CD, truncate=True)], target='proxy', ok=True,
        code='OK'),
    row('pat_check', 'tls-untrusted', target='tls', code='TLS_ERROR', text='TLS handshake'),
    row('pat_check', 'tls-ca-path', target='tls_ca', ok=True, code='OK'),
    row('pat_check', 'tls-ca-path-beats-REQUESTS_CA_BUNDLE', target='tls_ca_env', ok=True, code='OK'),
    row('pat_check', 'redirect-to-localhost', [emu(path=CD, status=302, headers={'Location': REDIRECT_LOCALHOST},
                                                   count=-1)],
        code='SERVER_ERROR', text='another host; credentials are not sent there', recorder=True, via='playbook'),
    row('pat_check', 'redirect-to-other-port', [emu(path=CD, status=307, headers={'Location': REDIRECT_OTHER_PORT},
                                                    count=-1)],
        code='SERVER_ERROR', text='another host', recorder=True),

    # ---- azdo.auth.ado_group_membership (state query and present) -------------------------------
    row('membership', 'query-429-then-success', [emu(path=GROUPS, status=429, retry_after='1')], ok=True,
        params={'state': 'query'}, min_time=0.9),
    row('membership', 'query-503-persistent', [emu(path=GROUPS, status=503, count=-1)], text='answered HTTP 503',
        params={'state': 'query'}),
    row('membership', 'query-connection-reset', [emu(path=GROUPS, drop=True, count=-1)], text='could not be reached',
        params={'state': 'query'}),
    row('membership', 'query-malformed-json', [emu(path=GROUPS, malformed_json=True, count=-1)], text='not valid JSON',
        params={'state': 'query'}),
    row('membership', 'query-html-203', [emu(path=GROUPS, html=True, status=203, count=-1)],
        text='HTML sign-in page', params={'state': 'query'}),
    row('membership', 'query-truncated-content-length', [proxy(path=GROUPS, truncate=True, count=-1)], target='proxy',
        text='cut short', params={'state': 'query'}),
    row('membership', 'query-redirect-to-localhost', [emu(path=GROUPS, status=302,
                                                          headers={'Location': REDIRECT_LOCALHOST}, count=-1)],
        text='another host', params={'state': 'query'}, recorder=True),
    row('membership', 'query-tls-untrusted', target='tls', code='TLS_ERROR', params={'state': 'query'}),
    row('membership', 'present-503-persistent', [emu(path=MEMBERSHIPS, method='PUT', status=503, count=-1)],
        text='answered HTTP 503', params={'state': 'present'}, state='unchanged', via='playbook'),
    row('membership', 'present-503-then-success', [emu(path=MEMBERSHIPS, method='PUT', status=503)], ok=True,
        params={'state': 'present'}, state='applied'),
    row('membership', 'present-connection-reset', [emu(path=MEMBERSHIPS, method='PUT', drop=True, count=-1)],
        text='could not be reached', params={'state': 'present'}, state='unchanged'),
    row('membership', 'present-malformed-json', [emu(path=MEMBERSHIPS, method='PUT', malformed_json=True, count=-1)],
        text='not valid JSON', params={'state': 'present'}, state='unchanged'),
    # The server applies the change, the answer comes too late or cut short: the task fails, the change is whole,
    # and a re-run converges without a change.
    row('membership', 'present-timeout-after-apply', [emu(path=MEMBERSHIPS, method='PUT', delay=TIMEOUT + 1,
                                                          count=2)],
        text='did not answer within 2 s', params={'state': 'present'}, state='whole', stalls=2),
    row('membership', 'present-truncated-after-apply', [proxy(path=MEMBERSHIPS, method='PUT', truncate=True,
                                                              count=-1)],
        target='proxy', text='cut short', params={'state': 'present'}, state='whole'),

    # ---- azdo.auth.ado_oauth_token (Entra client credentials at the emulator's token endpoint) ---
    row('oauth', '429-retry-after-seconds', [emu(path=TOKEN, status=429, retry_after='30')], ok=True, min_time=0.9),
    row('oauth', '429-retry-after-http-date', [emu(path=TOKEN, status=429, retry_after='{http_date:3}')], ok=True,
        min_time=0.9),
    row('oauth', '429-persistent', [emu(path=TOKEN, status=429, retry_after='1', count=-1)],
        code='TOKEN_ENDPOINT_UNAVAILABLE', text='HTTP 429', min_time=0.9),
    row('oauth', '500-then-success', [emu(path=TOKEN, status=500)], ok=True),
    row('oauth', '502-then-success', [emu(path=TOKEN, status=502)], ok=True),
    row('oauth', '503-then-success', [emu(path=TOKEN, status=503)], ok=True),
    row('oauth', '503-persistent', [emu(path=TOKEN, status=503, count=-1)], code='TOKEN_ENDPOINT_UNAVAILABLE',
        text='HTTP 503'),
    row('oauth', 'connection-reset', [emu(path=TOKEN, drop=True, count=-1)], text='could not be reached'),
    row('oauth', 'read-timeout', [emu(path=TOKEN, delay=TIMEOUT + 1, count=-1)], text='did not answer within 2 s',
        stalls=2),
    row('oauth', 'malformed-json', [emu(path=TOKEN, malformed_json=True, count=-1)],
        text='instead of a JSON token answer'),
    row('oauth', 'html-200', [emu(path=TOKEN, html=True, status=200, count=-1)], text='HTTP 200 .*text/html'),
    row('oauth', 'html-203', [emu(path=TOKEN, html=True, status=203, count=-1)], text='HTTP 203 .*text/html'),
    row('oauth', 'truncated-content-length', [proxy(path=TOKEN, truncate=True, count=-1)], target='proxy',
        text='cut short'),
    row('oauth', 'tls-untrusted', target='tls', text='TLS handshake'),
    row('oauth', 'tls-ca-path', target='tls_ca', ok=True),
    row('oauth', 'redirect-to-localhost', [emu(path=TOKEN, status=307, headers={'Location': REDIRECT_LOCALHOST},
                                               count=-1)],
        text='another host', recorder=True),
    # A new token that cannot be stored: the task fails, the old entry stays, the new pair is in a 0600 file.
    row('oauth', 'store-write-503', [vault(path=KV_DATA, method='POST', status=503, count=-1,
                                           body={'errors': ['Vault is sealed']})],
        text='recovery|saved to', params={'store': 'bao_proxy'}, state='recovered', via='playbook'),

    # ---- azdo.auth.ado_token_store with the hashicorp_vault backend (OpenBao behind the fault proxy) ----
    row('token_store', 'write-503', [vault(path=KV_DATA, method='POST', status=503, count=-1,
                                           body={'errors': ['Vault is sealed']})],
        text='sealed or failing', state='unchanged'),
    row('token_store', 'write-500', [vault(path=KV_DATA, method='POST', status=500, count=-1,
                                           body={'errors': ['internal error']})],
        text='sealed or failing', state='unchanged'),
    row('token_store', 'write-429', [vault(path=KV_DATA, method='POST', status=429, count=-1,
                                           headers={'Retry-After': '1'}, body={'errors': ['rate limited']})],
        text='RateLimitExceeded', state='unchanged'),
    row('token_store', 'write-connection-reset', [vault(path=KV_DATA, method='POST', drop=True, count=-1)],
        text='unreachable', state='unchanged', via='playbook'),
    row('token_store', 'read-hangs', [vault(path=KV_DATA, method='GET', hang=True, count=-1)], text='ReadTimeout',
        state='unchanged', stalls=1),
    row('token_store', 'read-slow-body-past-timeout', [vault(path=KV_DATA, method='GET', trickle=TRICKLE, count=-1)],
        text='ReadTimeout', state='unchanged', stalls=1, trickle=True),
    row('token_store', 'read-truncated-content-length', [vault(path=KV_DATA, method='GET', truncate=True, count=-1)],
        text='ChunkedEncodingError', state='unchanged'),
    row('token_store', 'read-malformed-json', [vault(path=KV_DATA, method='GET', status=200, count=-1,
                                                     body='{"data": {"data": {"value": "x')],
        text='not Vault JSON', state='unchanged'),
    row('token_store', 'read-html-200', [vault(path=KV_DATA, method='GET', status=200, count=-1,
                                               headers={'Content-Type': 'text/html'}, body='<html>Sign in</html>')],
        text='not Vault JSON .text/html', state='unchanged'),
    row('token_store', 'write-redirect-to-localhost', [vault(path=KV_DATA, method='POST', status=307, count=-1,
                                                             headers={'Location': REDIRECT_LOCALHOST})],
        text='another host', state='unchanged', recorder=True),
    row('token_store', 'read-redirect-to-other-port', [vault(path=KV_DATA, method='GET', status=307, count=-1,
                                                             headers={'Location': REDIRECT_OTHER_PORT})],
        text='another host', state='unchanged', recorder=True),
    row('token_store', 'unreachable', target='closed', text='unreachable'),

    # ---- lookup azdo.auth.ado_token with the hashicorp_vault backend -----------------------------
    row('lookup', 'read-hangs', [vault(path=KV_DATA, method='GET', hang=True, count=-1)], text='ReadTimeout',
        stalls=1, via='playbook'),
    row('lookup', 'read-redirect-to-localhost', [vault(path=KV_DATA, method='GET', status=307, count=-1,
                                                       headers={'Location': REDIRECT_LOCALHOST})],
        text='another host', recorder=True, via='playbook'),

    # ---- azdo.auth.ado_pat (a user's Entra token; the new secret goes to OpenBao) ----------------
    row('pat', 'list-429-then-success', [emu(path=PATS, method='GET', status=429, retry_after='1')], ok=True,
        min_time=0.9, state='created'),
    row('pat', 'create-503-persistent', [emu(path=PATS, method='POST', status=503, count=-1)], text='HTTP 503',
        state='nothing', via='playbook'),
    row('pat', 'create-connection-reset', [emu(path=PATS, method='POST', drop=True, count=-1)],
        text='could not be reached', state='nothing'),
    row('pat', 'create-html-203', [emu(path=PATS, method='POST', html=True, status=203, count=-1)],
        text='HTML sign-in page', state='nothing'),
    row('pat', 'list-redirect-to-localhost', [emu(path=PATS, method='GET', status=302, count=-1,
                                                  headers={'Location': REDIRECT_LOCALHOST})],
        text='another host', state='nothing', recorder=True),
    row('pat', 'store-write-503', [vault(path=KV_DATA, method='POST', status=503, count=-1,
                                         body={'errors': ['Vault is sealed']})],
        text='saved to', params={'store': 'bao_proxy'}, state='recovered'),

    # ---- azdo.auth.ado_pat_info ---------------------------------------------------------------
    row('pat_info', 'list-429-then-success', [emu(path=PATS, status=429, retry_after='1')], ok=True, min_time=0.9,
        via='playbook'),
    row('pat_info', 'list-503-persistent', [emu(path=PATS, status=503, count=-1)], code='SERVER_ERROR',
        text='HTTP 503'),
    row('pat_info', 'list-malformed-json', [emu(path=PATS, malformed_json=True, count=-1)], code='SERVER_ERROR',
        text='not valid JSON'),
    row('pat_info', 'list-truncated-content-length', [proxy(path=PATS, truncate=True, count=-1)], target='proxy',
        code='CONNECTION_ERROR', text='cut short'),
]


def bound(case, playbook=False):
    """The wall-time bound of a row, from its options: stalls x timeout + retries x retry_max_delay + slack."""
    stall = TIMEOUT + (TRICKLE + 0.2 if case['trickle'] else 0)
    return case['stalls'] * stall + case['retries'] * MAX_DELAY + SLACK + (PLAYBOOK_SLACK if playbook else 0)


# --------------------------------------------------------------------------------------------
# Building a row's parameters
# --------------------------------------------------------------------------------------------

def _fill(value, fm):
    """Placeholders: {rec_localhost}/{rec_ip} (the recorder under another host name / port), {http_date:N}."""
    if isinstance(value, dict):
        return dict((k, _fill(v, fm)) for k, v in value.items())
    if isinstance(value, list):
        return [_fill(v, fm) for v in value]
    if isinstance(value, str):
        match = re.match(r'^\{http_date:(\d+)\}$', value)
        if match:
            return http_date(int(match.group(1)))
        return value.replace('{rec_localhost}', 'http://localhost:%d' % fm.recorder.port).replace(
            '{rec_ip}', 'http://127.0.0.1:%d' % fm.recorder.port)
    return value


def inject(fm, case):
    for where, spec in case['faults']:
        spec = _fill(spec, fm)
        if where == 'emu':
            fm.emu.faults([spec])
        elif where == 'proxy':
            fm.proxy.add(**spec)
        else:
            fm.bao_proxy.add(**spec)


def base_url(fm, target):
    """Where the row's module talks to: the emulator, the fault proxy in front of it, or the TLS emulator."""
    if target == 'proxy':
        return fm.proxy.url
    if target.startswith('tls'):
        return fm.tls.base
    return fm.emu.base


def connection(fm, case, monkeypatch):
    target = case['target']
    params = {'url': '%s/%s' % (base_url(fm, target), fm.org), 'allow_http': True, 'retries': case['retries'],
              'retry_max_delay': MAX_DELAY, 'timeout': TIMEOUT}
    if target in ('tls_ca', 'tls_ca_env'):
        params['ca_path'] = fm.tls.ca_file
    if target == 'tls_ca_env':
        # A CA bundle in the environment that does not trust the server: ca_path must still win.
        import certifi  # pylint: disable=import-outside-toplevel
        monkeypatch.setenv('REQUESTS_CA_BUNDLE', certifi.where())
    return params


def store_spec(fm, where='bao'):
    url = {'bao': fm.bao.url, 'bao_proxy': fm.bao_proxy.url, 'closed': fm.closed}[where]
    return {'backend': 'hashicorp_vault', 'url': url, 'token': ROOT_TOKEN, 'path': KV_PATH, 'mount_point': 'secret',
            'auth_method': 'token', 'timeout': TIMEOUT}


def entry_name(case):
    return re.sub(r'[^A-Za-z0-9-]', '-', case['id'])[:100]


def direct_store(fm):
    return open_store(store_spec(fm, 'bao'))


def kv_version(fm, name):
    answer = fm.bao.api('GET', 'secret/metadata/%s/%s' % (KV_PATH, name))
    return answer.json()['data']['current_version'] if answer.status_code == 200 else None


# --------------------------------------------------------------------------------------------
# Running a row: in-process or through ansible-playbook
# --------------------------------------------------------------------------------------------

def run_inproc(module, params, context=None):
    validation = ArgumentSpecValidator(**module.MODULE_SPEC).validate(params)
    assert not validation.error_messages, validation.error_messages
    checked = json.loads(json.dumps(validation.validated_parameters))
    _client.reset_caches()
    _membership.reset_cache()
    warnings = []
    started = time.monotonic()
    failed, result = call(module.run, checked, False, warnings.append, **(context or {}))
    elapsed = time.monotonic() - started
    return failed, result, elapsed, json.dumps(result, default=str) + '\n'.join(warnings)


def run_playbook_case(run_playbook, fm, case, fqcn, args):
    """One generated playbook: the module (or the lookup) between two clock readings, the result to a file."""
    work = fm.work / case['id']
    work.mkdir(exist_ok=True)
    result_file = work / 'result.json'
    if fqcn.startswith('lookup '):
        task = {'ansible.builtin.set_fact': {
            'fm_value': "{{ lookup('%s', fm_args.name, store=fm_args.store) | length }}" % fqcn.split()[1]}}
    else:
        task = {fqcn: dict((key, "{{ fm_args[%r] }}" % key) for key in args)}
    task.update({'name': case['id'], 'register': 'fm_result', 'ignore_errors': True})
    playbook = [{
        'name': 'Fault matrix row %s' % case['id'],
        'hosts': 'localhost',
        'gather_facts': False,
        'tasks': [
            {'name': 'Start the clock', 'ansible.builtin.set_fact': {'fm_t0': '{{ now().timestamp() }}'}},
            task,
            {'name': 'Save the outcome', 'ansible.builtin.copy': {
                'dest': str(result_file), 'mode': '0600',
                'content': "{{ {'elapsed': now().timestamp() - (fm_t0 | float), 'result': fm_result} | to_json }}"}},
        ],
    }]
    path = work / ('fault-matrix-%s.yml' % case['id'])
    path.write_text(yaml.safe_dump(playbook, sort_keys=False), encoding='utf-8')
    started = time.monotonic()
    run = run_playbook(path, {'fm_args': args}, verbosity=4)
    wall = time.monotonic() - started
    assert run.rc == 0, run.tail()
    assert 'Traceback' not in run.output, run.tail()
    outcome = json.loads(result_file.read_text(encoding='utf-8'))
    result = outcome['result']
    # ansible-core 2.19 marks a failed task without a traceback as '(traceback unavailable)'
    assert 'most recent call last' not in str(result.get('exception') or ''), result.get('exception')
    # The whole ansible-playbook run, start-up included, stays bounded too.
    assert wall <= bound(case, playbook=True) + 20, wall
    return bool(result.get('failed')), result, outcome['elapsed'], run.output


def execute(run_playbook, fm, case, fqcn, module, args, context=None):
    if case['via'] == 'playbook':
        return run_playbook_case(run_playbook, fm, case, fqcn, args)
    return run_inproc(module, args, context)


# --------------------------------------------------------------------------------------------
# Per-module parameters and state checks
# --------------------------------------------------------------------------------------------

def _membership_direct(fm):
    failed, result, dummy, dummy2 = run_inproc(_membership, {
        'url': fm.emu.url, 'pat': fm.creds['full_access'], 'allow_http': True, 'group': GROUP, 'member': MEMBER,
        'state': 'query', 'recursive': False, 'timeout': 10})
    assert not failed, result
    return result['is_member']


def _wait_for_puts(fm, count, limit=TIMEOUT + 2):
    """Wait until the emulator has answered ``count`` membership PUTs (its log records a request once answered)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if len([r for r in fm.emu.requests() if r['method'] == 'PUT' and 'memberships' in r['path']]) >= count:
            return
        time.sleep(0.1)


def _pats_named(fm, name):
    failed, result, dummy, dummy2 = run_inproc(_pat_info, {
        'url': fm.emu.url, 'access_token': fm.creds['alice_entra'], 'allow_http': True, 'timeout': 10})
    assert not failed, result
    return [t for t in result['tokens'] if t['display_name'] == name]


def prepare(fm, case, monkeypatch, tmp_path):
    """(args, context, check) for the row: ``check(failed, result)`` verifies the state afterwards."""
    module = case['module']
    name = entry_name(case)
    conn = connection(fm, case, monkeypatch)
    context = {}
    check = None

    if module == 'pat_check':
        args = dict(conn, pat=fm.creds['good'])

    elif module == 'membership':
        state = case['params'].get('state', 'query')
        args = dict(conn, pat=fm.creds['full_access'], state=state, group=GROUP if state != 'query' else NESTED_GROUP,
                    member=MEMBER)
        if state != 'query':
            before = _membership_direct(fm)
            assert before is False, 'the row needs %s outside %s' % (MEMBER, GROUP)

            def check(failed, result):
                _clear_faults(fm)
                after = _membership_direct(fm)
                if case['state'] == 'unchanged':
                    assert after is False, 'a failed change left a partial state'
                elif case['state'] == 'applied':
                    assert after is True and result['changed']
                else:  # 'whole': applied by the server although the answer failed; a re-run converges
                    _wait_for_puts(fm, 2)  # late answers land before the state is read
                    after = _membership_direct(fm)
                    again_failed, again, dummy, dummy2 = run_inproc(_membership, dict(args, url=fm.emu.url, timeout=10))
                    assert not again_failed, again
                    assert again['changed'] is (not after) and _membership_direct(fm) is True
                # leave the member outside again for the next row (which checks it first)
                run_inproc(_membership, dict(args, url=fm.emu.url, state='absent', timeout=10))

    elif module == 'oauth':
        args = {'provider': 'entra', 'tenant_id': fm.tenant, 'client_id': fm.app['client_id'],
                'client_secret': fm.app['client_secret'], 'authority_host': base_url(fm, case['target']) + '/_hosts/login',
                'allow_http': True, 'retries': case['retries'], 'retry_max_delay': MAX_DELAY, 'timeout': TIMEOUT}
        if case['target'] == 'tls_ca':
            args['ca_path'] = fm.tls.ca_file
        if case['params'].get('store'):
            old = build_entry({'access_token': 'old-access-token-%s' % name, 'refresh_token': 'old-refresh-%s' % name},
                              {'expires_at': '2020-01-01T00:00:00Z'})
            direct_store(fm).put(name, old)
            version = kv_version(fm, name)
            recovery = tmp_path / 'recovery'
            recovery.mkdir()
            args.update(store=store_spec(fm, case['params']['store']), name=name, recovery_dir=str(recovery))
            fm.secrets.extend([old['access_token'], old['refresh_token']])

            def check(failed, result):
                _clear_faults(fm)
                kept = direct_store(fm).get(name)
                assert kept['fingerprint'] == old['fingerprint'] and kv_version(fm, name) == version, \
                    'the old entry was changed'
                files = list(recovery.iterdir())
                if case['state'] == 'recovered':
                    assert len(files) == 1 and stat.S_IMODE(files[0].stat().st_mode) == 0o600
                    assert str(files[0]) in result['msg'] and result['recovery_file'] == str(files[0])
                    saved = json.loads(files[0].read_text())
                    assert saved['recovery_secret']['access_token'] and 'token' not in saved['recovery_store']
                    fm.secrets.append(saved['recovery_secret']['access_token'])
                else:
                    assert not files

    elif module in ('token_store', 'lookup'):
        old = build_entry('old-secret-value-%s' % name)
        direct_store(fm).put(name, old)
        version = kv_version(fm, name)
        where = 'closed' if case['target'] == 'closed' else 'bao_proxy'
        args = {'store': store_spec(fm, where), 'name': name}
        if module == 'token_store':
            args['secret'] = 'new-secret-value-%s' % name
            fm.secrets.append(args['secret'])
        fm.secrets.append(old['value'])

        def check(failed, result):
            _clear_faults(fm)
            kept = direct_store(fm).get(name)
            assert kept['value'] == old['value'] and kv_version(fm, name) == version, 'the old entry was changed'

    elif module == 'pat':
        recovery = tmp_path / 'recovery'
        recovery.mkdir()
        where = case['params'].get('store', 'bao')
        args = dict(conn, access_token=fm.creds['alice_entra'], display_name=name, scope=['vso.code'], valid_days=30,
                    store=store_spec(fm, where), name=name, recovery_dir=str(recovery))

        def check(failed, result):
            _clear_faults(fm)
            created = _pats_named(fm, name)
            stored = direct_store(fm).get(name)
            files = list(recovery.iterdir())
            if case['state'] == 'nothing':
                assert not created and stored is None and not files, 'a failed create left a partial state'
            elif case['state'] == 'created':
                assert len(created) == 1 and stored is not None and not files
                assert stored['fingerprint'] == result['fingerprint']
            else:  # 'recovered': the PAT exists, the store has nothing, the secret is in a 0600 file
                assert len(created) == 1 and stored is None
                assert len(files) == 1 and stat.S_IMODE(files[0].stat().st_mode) == 0o600
                assert str(files[0]) in result['msg']
                fm.secrets.append(json.loads(files[0].read_text())['recovery_secret']['value'])
            if stored:
                fm.secrets.append(stored['value'])

    elif module == 'pat_info':
        args = dict(conn, access_token=fm.creds['alice_entra'])

    else:  # pragma: no cover
        raise AssertionError(module)

    if module in ('oauth', 'pat'):
        context['recovery_dir'] = str(tmp_path)
    return args, context, check


# --------------------------------------------------------------------------------------------
# The test
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize('case', CASES)
def test_fault(case, fm, run_playbook, monkeypatch, tmp_path):
    fqcn, module = MODULES[case['module']]
    args, context, check = prepare(fm, case, monkeypatch, tmp_path)
    inject(fm, case)
    failed, result, elapsed, output = execute(run_playbook, fm, case, fqcn, module, args, context)
    limit = bound(case, playbook=case['via'] == 'playbook')
    RESULTS.append({'case': case['id'], 'module': fqcn, 'via': case['via'], 'outcome': 'failed' if failed else 'ok',
                    'code': (result.get('diagnosis') or {}).get('code') if isinstance(result.get('diagnosis'), dict)
                    else None, 'elapsed': round(elapsed, 2), 'bound': round(limit, 2),
                    'retries': case['retries'], 'stalls': case['stalls']})
    message = result.get('msg') or ''

    # 1. bounded wall time (and Retry-After honoured where the row waits for it)
    assert elapsed <= limit, '%.2f s > bound %.2f s: %s' % (elapsed, limit, message)
    assert elapsed >= case['min_time'], '%.2f s < %.2f s: Retry-After was not honoured' % (elapsed, case['min_time'])
    # 2. the outcome, with a clear message and no traceback
    assert failed is (not case['ok']), result
    assert 'Traceback' not in output and 'Traceback' not in message
    if case['code']:
        diagnosis = result.get('diagnosis') or {}
        assert diagnosis.get('code') == case['code'], result
        if failed:
            assert case['code'] in message or diagnosis['code'] == case['code']
    if case['text']:
        assert re.search(case['text'], message), message
    if failed:
        assert len(message) > 30, message
        if case['module'] == 'pat_check':
            assert 'Fix:' in message, message
    elif case['module'] == 'membership' and case['params'].get('state') == 'query':
        assert result['is_member'] is True, result
    # 3. credentials never followed a redirect to another host
    if case['recorder']:
        assert not fm.recorder.credentials_seen(), fm.recorder.credentials_seen()
        assert not fm.recorder.requests, 'the client followed a redirect to another host: %s' % fm.recorder.requests
    # 4. writes: no partial state (the checks also learn the secrets a row created)
    if check is not None:
        check(failed, result)
    # 5. no secret anywhere in what the task returned or printed
    assert_no_secret(output, fm.secrets)


def test_every_module_has_a_playbook_row_and_the_matrix_is_complete():
    cases = [param.values[0] for param in CASES]
    for module in MODULES:
        assert any(c['module'] == module and c['via'] == 'playbook' for c in cases), module
    for module in ('pat_check', 'membership', 'oauth'):
        faults = ' '.join(c['fault'] for c in cases if c['module'] == module)
        for fault in ('429-retry-after-seconds', '503-persistent', 'connection-reset', 'malformed-json', 'html-203',
                      'truncated-content-length', 'tls-untrusted', 'redirect-to-localhost'):
            if module == 'membership' and fault == '429-retry-after-seconds':
                fault = 'query-429-then-success'
            assert fault in faults, (module, fault)
