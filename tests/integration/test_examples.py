# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The EXAMPLES block of every API module runs as written against the emulators (and a real OpenBao dev server).

Each module's EXAMPLES YAML is parsed with yaml.safe_load after substituting, in the YAML text, only the
environment-specific values:

* ``https://dev.azure.com/fabrikam`` -> the hosted emulator's URL,
* ``https://ado.example.com/tfs/DefaultCollection`` -> the onprem emulator's URL,
* ``https://vault.example.com:8200`` -> the OpenBao dev server's URL,
* local file paths of the examples (the Ansible Vault token files, the certificate file, the report
  directories) -> files in a temporary directory, so nothing is written into the checkout or /srv, /etc.

Plain-http emulators need ``allow_http: true``; it comes from ``module_defaults`` of the play (and, for the
legacy Azure DevOps OAuth tasks of ado_oauth_token, the emulator's token endpoint from a ``module_defaults`` of a
block wrapped around the task), never from the example tasks themselves. The variables the examples reference
are extra vars holding fixture credentials of the right kind; entries the examples look up with
azdo.auth.ado_token are seeded by a setup play first. The ado_group_membership examples run against emulators
whose directory also holds the identities they name (deploy-pipeline@fabrikam.example, EXAMPLE\\svc-build); the
ado_oauth_token examples against one whose tenant is the examples' tenant and whose app knows the certificate.

Not run here:

* ado_iis_auth - its examples configure IIS of an Azure DevOps Server host (appcmd on a Windows host); there
  is no IIS on the Linux test controller (tests/integration/test_ado_iis_auth.py covers the module with a fake
  appcmd).
* The ``azure_key_vault`` task of ado_token_store - it needs a real Azure Key Vault
  (https://kv-platform.vault.azure.net) and a workload identity of an Azure pipeline; the local Key Vault stub
  only serves TLS on 127.0.0.1 with a challenge resource the example's host name cannot match
  (tests/integration/test_store_azure_key_vault.py covers that backend).
"""

from __future__ import annotations

import ast
import base64
import copy
import datetime
import hashlib
import hmac
import json
import re
import time

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.emulator import load_fixture_data, start_emulator
from tests.utils.openbao import OpenBao

from .conftest import ROOT, assert_no_secret

VAULT_PASSWORD = 'examples-it-vault-password'
ROOT_TOKEN = 'examples-it-root-token'
HOSTED = 'https://dev.azure.com/fabrikam'
ONPREM = 'https://ado.example.com/tfs/DefaultCollection'
VAULT = 'https://vault.example.com:8200'
EXAMPLE_TENANT = '8a6b2c1d-0000-4000-8000-00000000aaaa'
# Task names of examples that cannot run here (see the module docstring).
SKIPPED_TASKS = {'Keep a PAT in Azure Key Vault with the workload identity of the pipeline'}

NON_GROUP = ['ado_oauth_token', 'ado_token_store', 'ado_token_info', 'ado_audit_report']
MODULES = ['ado_pat_check', 'ado_group_membership', 'ado_pat', 'ado_pat_info', 'ado_token_store',
           'ado_oauth_token', 'ado_token_info', 'ado_audit_report']


def examples_text(module):
    source = (ROOT / 'plugins' / 'modules' / ('%s.py' % module)).read_text(encoding='utf-8')
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(getattr(t, 'id', None) == 'EXAMPLES' for t in node.targets):
            return node.value.value
    raise AssertionError('%s has no EXAMPLES' % module)


def referenced_variables(text):
    """Top-level names used in Jinja expressions of the examples (minus lookups, filters and registered ones)."""
    names = set()
    for expression in re.findall(r'\{\{(.*?)\}\}', text):
        expression = re.sub(r"'[^']*'|\"[^\"]*\"", '', expression)
        expression = re.sub(r'\|\s*\w+', '', expression)
        for name in re.findall(r'(?<![\w.])([A-Za-z_]\w*)\b(?!\s*=[^=])', expression):
            names.add(name)
    keywords = {'lookup', 'if', 'else', 'not', 'none', 'item', 'and', 'or', 'in', 'is'}
    registered = set(re.findall(r'^\s*register:\s*(\w+)', text, re.M))
    return names - keywords - registered


def _certificate(common_name):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM).decode(),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode())


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode()


def _federated_assertion(federated):
    header = _b64url(json.dumps({'alg': 'HS256', 'typ': 'JWT'}).encode())
    now = int(time.time())
    payload = _b64url(json.dumps({'iss': federated['issuer'], 'sub': federated['subject'],
                                  'aud': federated['audience'], 'iat': now, 'nbf': now, 'exp': now + 600}).encode())
    signature = hmac.new(federated['signing_key'].encode(), ('%s.%s' % (header, payload)).encode(),
                         hashlib.sha256).digest()
    return '%s.%s.%s' % (header, payload, _b64url(signature))


@pytest.fixture(scope='module')
def bao():
    with OpenBao(root_token=ROOT_TOKEN) as server:
        yield server


@pytest.fixture(scope='module')
def oauth_setup(tmp_path_factory):
    """A hosted emulator whose tenant is the examples' tenant and whose deploy-pipeline app knows a certificate."""
    work = tmp_path_factory.mktemp('examples-oauth')
    fixture = copy.deepcopy(load_fixture_data())
    fixture['tenant_id'] = EXAMPLE_TENANT
    cert_pem, key_pem = _certificate('deploy-pipeline')
    fixture['applications']['deploy-pipeline']['certificates'] = [cert_pem]
    (work / 'deploy-sp.pem').write_text(cert_pem + key_pem)
    (work / 'deploy-sp.pem').chmod(0o600)
    with start_emulator(mode='hosted', server_version='cloud', state=fixture) as emulator:
        yield {'emulator': emulator, 'fixture': fixture, 'certificate': str(work / 'deploy-sp.pem'),
               'secrets': [a['client_secret'] for a in fixture['applications'].values()]
               + fixture['applications']['legacy-app']['codes'] + [key_pem.split('\n')[1]]}


def all_credentials():
    fixture = load_fixture_data()
    return {key: entry['token'] for section in ('credentials', 'graph_credentials')
            for key, entry in (fixture.get(section) or {}).items()}


@pytest.fixture(scope='module')
def directory_emulators():
    """Hosted and onprem emulators whose directories know the identities the ado_group_membership examples name."""
    fixture = copy.deepcopy(load_fixture_data())
    fixture['directory_users']['example_pipeline'] = {
        'id': '6d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6', 'display_name': 'Deploy Pipeline',
        'unique_name': 'deploy-pipeline@fabrikam.example'}
    fixture['directory_users']['example_svc_build'] = {
        'id': '7e2f3a4b-5c6d-4e7f-9081-92a3b4c5d6e7', 'display_name': 'svc-build', 'unique_name': 'svc-build',
        'domain': 'EXAMPLE'}
    for group in fixture['groups']:
        if group['name'] == 'Release Engineers':  # -> a collection member through a group
            group['members'] = list(group.get('members') or []) + ['example_pipeline']
    with start_emulator(mode='hosted', server_version='cloud', state=fixture) as hosted_emulator:
        with start_emulator(mode='onprem', server_version='2022.1', state=fixture) as onprem_emulator:
            yield hosted_emulator, onprem_emulator


def module_setup(module, creds, oauth):
    """(extra vars, setup tasks, extra module_defaults per non-group module) of one module's examples."""
    if module == 'ado_pat_check':
        return ({'pipeline_pat': creds['good'], 'build_pat': creds['code_write'], 'release_pat': creds['good'],
                 'entra_token': creds['sp_member']},
                [{'name': 'deploy-sp', 'secret': creds['sp_member'], 'metadata': {'token_type': 'Bearer'}}], {})
    if module == 'ado_group_membership':
        return ({'audit_pat': creds['graph_reader'], 'admin_pat': creds['full_access'],
                 'admin_entra_token': creds['alice_entra'], 'pipeline_pat': creds['full_access']}, [], {})
    if module == 'ado_pat':
        return ({}, [{'name': 'my-entra-user-token', 'secret': creds['alice_entra'],
                      'metadata': {'token_type': 'Bearer'}}], {})
    if module == 'ado_pat_info':
        return ({}, [{'name': 'org-admin-token', 'secret': creds['alice_entra'],
                      'metadata': {'token_type': 'Bearer'}}], {})
    if module == 'ado_token_store':
        return ({'new_pat': creds['code_write'],
                 'oauth': {'access_token': creds['sp_member'], 'refresh_token': 'rt-examples-refresh-token',
                           'expires_at': '2099-12-31T23:59:59Z'}},
                [{'name': 'old-pat', 'secret': creds['expired']}], {})
    if module == 'ado_token_info':
        return ({}, [{'name': 'pipeline-pat', 'secret': creds['good'],
                      'metadata': {'expires_at': '2099-12-31T23:59:59Z'}},
                     {'name': 'deploy-sp', 'secret': creds['sp_member'], 'backend': 'hashicorp_vault',
                      'metadata': {'token_type': 'Bearer', 'expires_at': '2099-12-31T23:59:59Z'}},
                     {'name': 'legacy-automation', 'backend': 'hashicorp_vault',
                      'secret': {'access_token': creds['alice_entra'], 'refresh_token': 'rt-examples-legacy'},
                      'metadata': {'token_type': 'Bearer', 'expires_at': '2099-12-31T23:59:59Z'}}], {})
    if module == 'ado_audit_report':
        return ({'vault_pipeline_pat': creds['good']}, [], {})
    if module == 'ado_oauth_token':
        legacy = oauth['fixture']['applications']['legacy-app']
        return ({'vault_legacy_app_secret': legacy['client_secret'], 'one_time_code': legacy['codes'][0]}, [],
                {'azdo.auth.ado_oauth_token': {'authority_host': oauth['emulator'].base + '/_hosts/login'}})
    raise AssertionError(module)


@pytest.mark.parametrize('module', MODULES)
def test_examples_run_as_written(module, run_playbook, hosted, onprem, bao, oauth_setup, directory_emulators,
                                 tmp_path):
    credentials = all_credentials()
    if module == 'ado_group_membership':
        hosted, onprem = directory_emulators
    hosted_url = oauth_setup['emulator'].url if module == 'ado_oauth_token' else hosted.url
    store_file = tmp_path / 'tokens.vault.yml'
    password_file = tmp_path / 'vault-pass'
    password_file.write_text(VAULT_PASSWORD)

    text = examples_text(module)
    for old, new in ((HOSTED, hosted_url), (ONPREM, onprem.url), (VAULT, bao.url),
                     ('group_vars/all/tokens.vault.yml', str(store_file)),
                     ('path: tokens.vault.yml', 'path: %s' % store_file),
                     ('/etc/azdo/deploy-sp.pem', oauth_setup['certificate']),
                     ('report_dir: audit-report', 'report_dir: %s' % (tmp_path / 'audit-report')),
                     ('/srv/audit/2026-11', str(tmp_path / 'audit-2026-11'))):
        text = text.replace(old, new)
    tasks = [task for task in yaml.safe_load(text) if task.get('name') not in SKIPPED_TASKS]
    assert tasks

    extra_vars, seeds, extra_defaults = module_setup(module, credentials, oauth_setup)
    if module == 'ado_pat_check':
        extra_vars['audit_pat'] = credentials['good']
    missing = referenced_variables(text) - set(extra_vars)
    assert not missing, 'the examples of %s use variables the test does not provide: %s' % (module, missing)

    if module == 'ado_oauth_token':
        token_url = oauth_setup['emulator'].base + '/_hosts/app.vssps/oauth2/token'
        wrapped = []
        for task in tasks:
            if (task.get('azdo.auth.ado_oauth_token') or {}).get('provider') == 'azure_devops':
                task = {'name': 'Emulator token endpoint for: %s' % task['name'], 'block': [task],
                        'module_defaults': {'azdo.auth.ado_oauth_token': {'token_url': token_url, 'allow_http': True}}}
            wrapped.append(task)
        tasks = wrapped

    defaults = {'group/azdo.auth.ado': {'allow_http': True}}
    for name in NON_GROUP:
        defaults['azdo.auth.%s' % name] = {}
    # Also per module: a block's module_defaults for the group (as in an example) replaces the play's.
    for name in ('ado_pat_check', 'ado_group_membership', 'ado_pat', 'ado_pat_info', 'ado_oauth_token'):
        defaults.setdefault('azdo.auth.%s' % name, {})['allow_http'] = True
    for name, values in extra_defaults.items():
        defaults[name].update(values)
    defaults = {key: value for key, value in defaults.items() if value}

    setup_tasks = []
    for seed in seeds:
        store = {'path': str(store_file)}
        if seed.get('backend') == 'hashicorp_vault':
            store = {'backend': 'hashicorp_vault', 'url': bao.url, 'path': 'azure-devops'}
        setup_tasks.append({'name': 'Seed %s' % seed['name'], 'azdo.auth.ado_token_store': {
            'store': store, 'name': seed['name'], 'secret': '{{ seed_%s }}' % seed['name'].replace('-', '_'),
            'metadata': seed.get('metadata') or {}}})
        extra_vars['seed_%s' % seed['name'].replace('-', '_')] = seed['secret']

    plays = []
    if setup_tasks:
        plays.append({'name': 'Seed the token stores', 'hosts': 'localhost', 'gather_facts': False,
                      'tasks': setup_tasks})
    plays.append({'name': 'EXAMPLES of %s' % module, 'hosts': 'localhost', 'gather_facts': False,
                  'module_defaults': defaults, 'tasks': tasks})
    playbook = tmp_path / ('examples-%s.yml' % module)
    playbook.write_text(yaml.safe_dump(plays, sort_keys=False), encoding='utf-8')

    env = {'VAULT_TOKEN': ROOT_TOKEN, 'VAULT_ADDR': bao.url, 'AZDO_AUTH_STORE_PATH': str(store_file),
           }
    if module == 'ado_oauth_token':
        app = oauth_setup['fixture']['applications']['deploy-pipeline']
        env.update({'AZURE_TENANT_ID': EXAMPLE_TENANT, 'AZURE_CLIENT_ID': app['client_id'],
                    'idToken': _federated_assertion(app['federated'][0])})
    run = run_playbook(playbook, extra_vars, verbosity=4, env=env,
                       extra_args=('--vault-password-file', str(password_file)))
    assert run.rc == 0, run.tail(120)
    assert 'Traceback' not in run.output
    assert_no_secret(run.output, list(credentials.values()) + oauth_setup['secrets'] + [VAULT_PASSWORD, ROOT_TOKEN])
