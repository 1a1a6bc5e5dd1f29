# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Integration fixtures: real emulators on 127.0.0.1 and real ansible-playbook runs."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.emulator import start_emulator
from tests.utils.leak_scan import find_leaks

ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = ROOT / '.cache' / 'collections'
FIXTURE = ROOT / 'tests' / 'emulator' / 'fixtures' / 'default.yml'


def _ensure_collection_link():
    link = COLLECTIONS / 'ansible_collections' / 'azdo' / 'auth'
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(ROOT, target_is_directory=True)


def fixture_credentials():
    with FIXTURE.open(encoding='utf-8') as handle:
        data = yaml.safe_load(handle)
    return {key: entry['token'] for key, entry in data['credentials'].items()}


def secret_forms(secrets):
    """Every form in which a secret must never show: raw, Basic ':'+secret, base64 of the secret."""
    forms = set()
    for secret in secrets:
        forms.add(secret)
        forms.add(base64.b64encode((':' + secret).encode()).decode())
        forms.add(base64.b64encode(secret.encode()).decode())
    return forms


def assert_no_secret(text, secrets):
    leaked = [form[:6] + '...' for form in secret_forms(secrets) if form in text]
    assert not leaked, 'secret material found in output (prefixes): %s' % leaked


class PlaybookRun(object):
    def __init__(self, completed):
        self.rc = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr
        self.output = completed.stdout + completed.stderr

    def tail(self, lines=80):
        return '\n'.join(self.output.splitlines()[-lines:])


@pytest.fixture(scope='session')
def credentials():
    return fixture_credentials()


@pytest.fixture(scope='session')
def run_playbook(tmp_path_factory):
    """Run ansible-playbook on localhost with the collection from this checkout."""
    _ensure_collection_link()
    work = tmp_path_factory.mktemp('playbooks')

    def runner(playbook, extra_vars=None, verbosity=0, check=False, env=None, extra_args=()):
        vars_file = work / ('vars-%d.json' % len(list(work.iterdir())))
        vars_file.write_text(json.dumps(extra_vars or {}), encoding='utf-8')
        vars_file.chmod(0o600)
        cmd = [str(Path(sys.executable).with_name('ansible-playbook')), str(playbook), '-i', 'localhost,',
               '-e', 'ansible_connection=local', '-e', 'ansible_python_interpreter=%s' % sys.executable,
               '-e', '@%s' % vars_file]
        # Every run is -vvvv at least: its output (JSON results, the default callback's format) is leak-scanned below.
        cmd.append('-' + 'v' * max(4, verbosity))
        if check:
            cmd.append('--check')
        cmd.extend(extra_args)
        run_env = dict(os.environ)
        run_env.update({
            'ANSIBLE_COLLECTIONS_PATH': str(COLLECTIONS),
            'ANSIBLE_ROLES_PATH': str(ROOT / 'tests' / 'integration' / 'targets'),
            'ANSIBLE_HOME': str(ROOT / '.cache' / 'ansible-home'),
            'ANSIBLE_LOCAL_TEMP': str(work / 'tmp'),
            'ANSIBLE_NOCOLOR': '1',
            'ANSIBLE_FORCE_COLOR': '0',
            'ANSIBLE_RETRY_FILES_ENABLED': '0',
            'ANSIBLE_DEPRECATION_WARNINGS': '0',
        })
        for name in ('AZURE_DEVOPS_EXT_PAT', 'SYSTEM_ACCESSTOKEN', 'AZDO_URL', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE'):
            run_env.pop(name, None)
        log_file = work / ('ansible-%d.log' % len(list(work.iterdir())))
        run_env['ANSIBLE_LOG_PATH'] = str(log_file)
        run_env.update(env or {})
        completed = subprocess.run(cmd, cwd=str(ROOT), env=run_env, capture_output=True, text=True, timeout=600,
                                   check=False)
        run = PlaybookRun(completed)
        logs = ROOT / '.cache' / 'test-logs'
        logs.mkdir(parents=True, exist_ok=True)
        name = Path(str(playbook)).stem + ('-' + str(extra_vars['target']) if (extra_vars or {}).get('target') else '')
        (logs / ('%s.log' % name)).write_text(run.output, encoding='utf-8')
        # Every playbook run of the suite is scanned: output, Ansible's log file and the extra vars stay secret-free
        # except for the vars file itself (which is where tests put the secrets).
        logged = log_file.read_text(encoding='utf-8', errors='replace') if log_file.exists() else ''
        leaks = find_leaks(run.output + logged)
        assert not leaks, 'secret material in the output of %s: %s' % (name, leaks)
        return run
    return runner


@pytest.fixture(scope='session')
def hosted():
    with start_emulator(mode='hosted', server_version='cloud') as emulator:
        yield emulator


@pytest.fixture(scope='session')
def onprem():
    with start_emulator(mode='onprem', server_version='2022.1') as emulator:
        yield emulator


@pytest.fixture(scope='session')
def onprem2019():
    with start_emulator(mode='onprem', server_version='2019') as emulator:
        yield emulator


@pytest.fixture(scope='session')
def hosted_tls():
    with start_emulator(mode='hosted', server_version='cloud', tls=True) as emulator:
        yield emulator


@pytest.fixture(scope='session')
def closed_url():
    """A URL on which nothing listens."""
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return 'http://127.0.0.1:%d/fabrikam' % port


@pytest.fixture
def target_vars(hosted, onprem, onprem2019, hosted_tls, closed_url, credentials):
    for emulator in (hosted, onprem, onprem2019, hosted_tls):
        emulator.clear_faults()
        emulator.reset_log()
        emulator.configure(iis_basic_auth=False)
    return {
        'hosted_url': hosted.url,
        'hosted_base': hosted.base,
        'onprem_url': onprem.url,
        'onprem_base': onprem.base,
        'onprem2019_url': onprem2019.url,
        'onprem2019_base': onprem2019.base,
        'tls_url': hosted_tls.url,
        'tls_ca': hosted_tls.ca_file,
        'closed_url': closed_url,
        'creds': credentials,
    }
