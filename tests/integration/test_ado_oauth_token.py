# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""azdo.auth.ado_oauth_token against the emulator's token endpoints: flows, rotation, single flight across
20 forks, the recovery file when the store fails, and a secret-leak scan of -vvvv output."""

from __future__ import annotations

import base64
import copy
import datetime
import hashlib
import hmac
import json
import os
import stat
import subprocess
import sys
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.emulator import load_fixture_data, start_emulator
from tests.utils.openbao import OpenBao

from .conftest import COLLECTIONS, ROOT, assert_no_secret

VAULT_PASSWORD = 'oauth-it-vault-password'
ROOT_TOKEN = 'oauth-it-root-token'


def _certificate(common_name):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return cert_pem, key_pem


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode()


def _federated_assertion(federated):
    header = _b64url(json.dumps({'alg': 'HS256', 'typ': 'JWT'}).encode())
    now = int(time.time())
    payload = _b64url(json.dumps({'iss': federated['issuer'], 'sub': federated['subject'], 'aud': federated['audience'],
                                  'iat': now, 'nbf': now, 'exp': now + 600}).encode())
    signature = hmac.new(federated['signing_key'].encode(), ('%s.%s' % (header, payload)).encode(), hashlib.sha256).digest()
    return '%s.%s.%s' % (header, payload, _b64url(signature))


@pytest.fixture(scope='module')
def oauth_env(tmp_path_factory):
    work = tmp_path_factory.mktemp('oauth')
    fixture = copy.deepcopy(load_fixture_data())
    cert_pem, key_pem = _certificate('deploy-pipeline')
    other_cert, other_key = _certificate('not-registered')
    fixture['applications']['deploy-pipeline']['certificates'] = [cert_pem]
    (work / 'sp.pem').write_text(cert_pem + key_pem)
    (work / 'other.pem').write_text(other_cert + other_key)
    (work / 'vault-pass').write_text(VAULT_PASSWORD)
    with start_emulator(mode='hosted', server_version='cloud', state=fixture) as emulator:
        apps = fixture['applications']
        yield {
            'emulator': emulator,
            'work': work,
            'fixture': fixture,
            'vars': {
                'hosted_url': emulator.url,
                'authority_host': emulator.base + '/_hosts/login',
                'legacy_token_url': emulator.base + '/_hosts/app.vssps/oauth2/token',
                'tenant_id': fixture['tenant_id'],
                'apps': {'sp': apps['deploy-pipeline'], 'outside': apps['deploy-pipeline-new'],
                         'expired': apps['expired-secret-app'], 'legacy': apps['legacy-app']},
                'certificate_pem': str(work / 'sp.pem'),
                'unregistered_pem': str(work / 'other.pem'),
                'federated_assertion': _federated_assertion(apps['deploy-pipeline']['federated'][0]),
            },
            'secrets': [apps[a]['client_secret'] for a in apps] + apps['legacy-app']['codes'] + [key_pem.split('\n')[1]],
        }


def token_calls(emulator):
    return [r for r in emulator.requests() if '/oauth2/' in r['path']]


def issued_tokens(text):
    """Every access/refresh token the emulator could have issued that appears in text (for the leak scan)."""
    return [part for part in text.split() if part.startswith(('rt-', 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsImtpZCI6ImVtdWxhdG9yIn0'))]


def test_flows_through_ansible_playbook(run_playbook, oauth_env):
    emulator = oauth_env['emulator']
    emulator.reset_log()
    store_file = oauth_env['work'] / 'tokens.vault.yml'
    extra = dict(oauth_env['vars'], store_file=str(store_file), target='ado_oauth_token')
    run = run_playbook(ROOT / 'tests' / 'integration' / 'run_target.yml', extra, verbosity=4,
                       extra_args=('--vault-password-file', str(oauth_env['work'] / 'vault-pass')))
    assert run.rc == 0, run.tail()
    assert 'Traceback' not in run.output
    assert 'deprecated by Microsoft' in run.output
    assert_no_secret(run.output, oauth_env['secrets'] + [VAULT_PASSWORD])
    assert not issued_tokens(run.output)
    assert stat.S_IMODE(store_file.stat().st_mode) == 0o600


def _inventory(path, hosts):
    path.write_text('[workers]\n' + '\n'.join('w%02d ansible_connection=local ansible_python_interpreter=%s'
                                              % (i, sys.executable) for i in range(hosts)) + '\n')
    return path


def test_single_flight_across_twenty_forks(run_playbook, oauth_env, tmp_path):
    emulator = oauth_env['emulator']
    emulator.reset_log()
    inventory = _inventory(tmp_path / 'hosts.ini', 20)
    playbook = tmp_path / 'renew.yml'
    playbook.write_text('''
- hosts: workers
  gather_facts: false
  tasks:
    - azdo.auth.ado_oauth_token:
        tenant_id: "{{ tenant_id }}"
        authority_host: "{{ authority_host }}"
        allow_http: true
        client_id: "{{ apps.sp.client_id }}"
        client_secret: "{{ apps.sp.client_secret }}"
        store: {path: "%s"}
        name: shared-entry
      register: renewed
''' % (tmp_path / 'shared.vault.yml'))
    run = run_playbook(playbook, oauth_env['vars'], extra_args=(
        '-i', str(inventory), '--forks', '20', '--vault-password-file', str(oauth_env['work'] / 'vault-pass')))
    assert run.rc == 0, run.tail()
    assert len(token_calls(emulator)) == 1
    assert run.stdout.count('changed: [w') == 1
    assert run.stdout.count('ok: [w') == 19


def test_store_failure_writes_the_recovery_file_and_it_restores(run_playbook, oauth_env, tmp_path):
    with OpenBao(root_token=ROOT_TOKEN) as bao:
        bao.api('PUT', 'sys/policies/acl/read-only', json={'policy': 'path "secret/data/*" { capabilities = ["read"] }'})
        read_only = bao.api('POST', 'auth/token/create', json={'policies': ['read-only']}).json()['auth']['client_token']
        playbook = tmp_path / 'legacy.yml'
        playbook.write_text('''
- hosts: localhost
  gather_facts: false
  tasks:
    - azdo.auth.ado_oauth_token:
        provider: azure_devops
        flow: authorization_code
        client_id: "{{ apps.legacy.client_id }}"
        client_secret: "{{ apps.legacy.client_secret }}"
        code: "{{ apps.legacy.codes[1] }}"
        redirect_uri: "{{ apps.legacy.redirect_uri }}"
        token_url: "{{ legacy_token_url }}"
        allow_http: true
        store: {backend: hashicorp_vault, url: "{{ bao_url }}", token: "{{ bao_token }}", path: azdo}
        name: legacy-pair
        recovery_dir: "{{ recovery_dir }}"
''')
        recovery_dir = tmp_path / 'recovery'
        recovery_dir.mkdir()
        extra = dict(oauth_env['vars'], bao_url=bao.url, bao_token=read_only, recovery_dir=str(recovery_dir))
        run = run_playbook(playbook, extra, verbosity=3)
        assert run.rc != 0
        files = list(recovery_dir.iterdir())
        assert len(files) == 1
        recovery = files[0]
        assert stat.S_IMODE(recovery.stat().st_mode) == 0o600
        content = json.loads(recovery.read_text())
        assert content['recovery_secret']['refresh_token'].startswith('rt-')
        assert content['recovery_store'] == {'backend': 'hashicorp_vault', 'url': bao.url, 'path': 'azdo',
                                             'mount_point': 'secret', 'auth_method': 'token', 'lock_timeout': 30,
                                             'validate_certs': True, 'timeout': 30}
        assert str(recovery) in run.output and 'ansible localhost -m azdo.auth.ado_token_store' in run.output
        assert_no_secret(run.output, [content['recovery_secret']['refresh_token'], content['recovery_secret']['access_token'],
                                      read_only] + oauth_env['secrets'])
        # The one command from the message, run as printed, with a token that may write.
        command = run.output.split('Restore it with: ')[1].split(' (add --vault-password-file')[0]
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), VAULT_TOKEN=ROOT_TOKEN,
                   PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get('PATH', ''))
        restored = subprocess.run(command, shell=True, cwd=str(tmp_path), env=env, capture_output=True, text=True,
                                  timeout=120, check=False)
        assert restored.returncode == 0, restored.stdout + restored.stderr
        stored = bao.api('GET', 'secret/data/azdo/legacy-pair').json()['data']['data']
        assert stored['refresh_token'] == content['recovery_secret']['refresh_token']
        assert stored['token_type'] == 'Bearer'
