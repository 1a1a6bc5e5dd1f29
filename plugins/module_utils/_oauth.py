# -*- coding: utf-8 -*-
# Copyright: contributors to the azdo.auth collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Logic of azdo.auth.ado_oauth_token: obtain, refresh and rotate Entra ID and Azure DevOps OAuth tokens.

The rules that keep a rotated refresh token from being lost:

* a stored access token valid for at least ``min_validity`` (plus a clock-skew margin) is kept, with no
  call to the token endpoint;
* otherwise the entry's lock is taken and the store read again, so of many forks sharing an entry only
  the first calls the token endpoint (single flight);
* the new pair is written to the store before the task reports success; if that write fails, the pair
  goes to a 0600 recovery file and the task fails naming the file and the command that restores it.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import hashlib
import json
import os
import time
import uuid

from ansible_collections.azdo.auth.plugins.module_utils._client import AdoConfigError, AdoError, HttpTransport
from ansible_collections.azdo.auth.plugins.module_utils._diagnosis import diagnose_token_error
from ansible_collections.azdo.auth.plugins.module_utils._runner import ModuleFailure
from ansible_collections.azdo.auth.plugins.module_utils._stores import (
    SECRET_FIELDS, STORE_OPTIONS, StoreError, build_entry, iso_utc, open_store, parse_iso, store_argspec,
    utc_now)

CRYPTOGRAPHY_IMPORT_ERROR = None
try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding
except ImportError as exc:  # pragma: no cover - exercised only without cryptography
    x509 = None
    CRYPTOGRAPHY_IMPORT_ERROR = exc

ADO_SCOPE = '499b84ac-1321-427f-aa17-267ca6975798/.default'
DEFAULT_AUTHORITY = 'https://login.microsoftonline.com'
LEGACY_TOKEN_URL = 'https://app.vssps.visualstudio.com/oauth2/token'
ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
LEGACY_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:jwt-bearer'
CLOCK_SKEW = 60
RECOVERY_PREFIX = 'azdo-auth-recovery-'

MODULE_SPEC = dict(
    argument_spec=dict(
        provider=dict(type='str', default='entra', choices=['entra', 'azure_devops']),
        flow=dict(type='str', choices=['client_credentials', 'refresh_token', 'authorization_code']),
        tenant_id=dict(type='str'),
        client_id=dict(type='str'),
        client_secret=dict(type='str', no_log=True),
        client_certificate=dict(type='path'),
        client_certificate_password=dict(type='str', no_log=True),
        client_assertion=dict(type='str', no_log=True),
        client_assertion_file=dict(type='path'),
        refresh_token=dict(type='str', no_log=True),
        code=dict(type='str', no_log=True),
        redirect_uri=dict(type='str'),
        scope=dict(type='str'),
        token_url=dict(type='str', no_log=False),
        authority_host=dict(type='str', default=DEFAULT_AUTHORITY),
        validate_certs=dict(type='bool', default=True),
        ca_path=dict(type='path'),
        timeout=dict(type='int', default=30),
        retries=dict(type='int', default=3),
        retry_max_delay=dict(type='int', default=60),
        allow_http=dict(type='bool', default=False),
        store=store_argspec(required=False),
        name=dict(type='str'),
        min_validity=dict(type='int', default=600),
        force=dict(type='bool', default=False),
        return_token=dict(type='bool', default=False),
        recovery_dir=dict(type='path'),
    ),
    mutually_exclusive=[('client_secret', 'client_certificate', 'client_assertion', 'client_assertion_file')],
    required_together=[('store', 'name')],
)

# Store options that hold secrets: never written into a recovery file.
_STORE_SECRET_OPTIONS = tuple(k for k, v in STORE_OPTIONS.items() if v.get('no_log'))


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode('ascii')


def build_client_assertion(client_id, audience, pem_path, password=None, now=None):
    """A certificate-signed JWT client assertion (RS256) for the Entra token endpoint."""
    if x509 is None:
        raise AdoConfigError('client_certificate needs the Python package cryptography: %s' % CRYPTOGRAPHY_IMPORT_ERROR)
    try:
        with open(pem_path, 'rb') as handle:
            pem = handle.read()
    except (IOError, OSError) as exc:
        raise AdoConfigError('Cannot read client_certificate %s: %s' % (pem_path, exc.strerror or exc))
    try:
        key = serialization.load_pem_private_key(pem, password.encode('utf-8') if password else None)
        cert = x509.load_pem_x509_certificate(pem)
    except (ValueError, TypeError) as exc:
        raise AdoConfigError('client_certificate %s must be a PEM file with the certificate and its unencrypted private '
                             'key (or set client_certificate_password): %s' % (pem_path, str(exc).split('\n', 1)[0]))
    der = cert.public_bytes(serialization.Encoding.DER)
    now = int(now if now is not None else time.time())
    header = {'alg': 'RS256', 'typ': 'JWT', 'x5t': _b64url(hashlib.sha1(der).digest()),  # nosec - thumbprint, not security
              'x5t#S256': _b64url(hashlib.sha256(der).digest())}
    payload = {'aud': audience, 'iss': client_id, 'sub': client_id, 'jti': str(uuid.uuid4()),
               'nbf': now, 'iat': now, 'exp': now + 600}
    signing_input = '%s.%s' % (_b64url(json.dumps(header, separators=(',', ':')).encode()),
                               _b64url(json.dumps(payload, separators=(',', ':')).encode()))
    signature = key.sign(signing_input.encode('ascii'), padding.PKCS1v15(), hashes.SHA256())
    return '%s.%s' % (signing_input, _b64url(signature))


def default_flow(provider):
    return 'client_credentials' if provider == 'entra' else 'refresh_token'


def token_url(params):
    if params.get('token_url'):
        return params['token_url']
    if params['provider'] == 'azure_devops':
        return LEGACY_TOKEN_URL
    return '%s/%s/oauth2/v2.0/token' % ((params.get('authority_host') or DEFAULT_AUTHORITY).rstrip('/'), params['tenant_id'])


def validate(params):
    """Input checks that need no network; raises AdoConfigError."""
    provider = params['provider']
    flow = params.get('flow') or default_flow(provider)
    if provider == 'azure_devops' and flow == 'client_credentials':
        raise AdoConfigError('provider azure_devops has no client_credentials flow: use refresh_token or '
                             'authorization_code, or a Microsoft Entra service principal (provider entra).')
    if not params.get('client_id'):
        raise AdoConfigError('client_id is required.')
    if provider == 'entra' and not params.get('tenant_id') and not params.get('token_url'):
        raise AdoConfigError('tenant_id is required for provider entra (or give token_url).')
    if provider == 'azure_devops' and not params.get('client_secret'):
        raise AdoConfigError('provider azure_devops needs client_secret (the app secret, sent as client_assertion).')
    if provider == 'entra' and flow == 'client_credentials' and not any(
            params.get(k) for k in ('client_secret', 'client_certificate', 'client_assertion', 'client_assertion_file')):
        raise AdoConfigError('flow client_credentials needs client_secret, client_certificate, client_assertion or '
                             'client_assertion_file.')
    if flow == 'authorization_code' and not params.get('code'):
        raise AdoConfigError('flow authorization_code needs code (the one-time authorization code).')
    if flow == 'authorization_code' and not params.get('redirect_uri'):
        raise AdoConfigError('flow authorization_code needs redirect_uri (as registered for the app).')
    if flow == 'refresh_token' and not params.get('refresh_token') and not params.get('store'):
        raise AdoConfigError('flow refresh_token needs refresh_token, or store and name holding one.')
    if params.get('min_validity', 0) < 0:
        raise AdoConfigError('min_validity must be zero or more seconds.')
    return flow


def token_form(params, flow, refresh_token, now=None):
    """(url, form fields, secret field names) of the token request."""
    url = token_url(params)
    provider = params['provider']
    if provider == 'azure_devops':
        form = {'client_assertion_type': ASSERTION_TYPE, 'client_assertion': params['client_secret'],
                'redirect_uri': params.get('redirect_uri') or ''}
        if flow == 'authorization_code':
            form.update(grant_type=LEGACY_GRANT_TYPE, assertion=params['code'])
        else:
            form.update(grant_type='refresh_token', assertion=refresh_token)
        return url, form, ('client_assertion', 'assertion')
    form = {'client_id': params['client_id'], 'scope': params.get('scope') or ADO_SCOPE}
    if params.get('client_secret'):
        form['client_secret'] = params['client_secret']
    elif params.get('client_certificate'):
        form.update(client_assertion_type=ASSERTION_TYPE, client_assertion=build_client_assertion(
            params['client_id'], url, params['client_certificate'], params.get('client_certificate_password'), now))
    elif params.get('client_assertion') or params.get('client_assertion_file'):
        assertion = params.get('client_assertion')
        if not assertion:
            try:
                with open(params['client_assertion_file']) as handle:
                    assertion = handle.read().strip()
            except (IOError, OSError) as exc:
                raise AdoConfigError('Cannot read client_assertion_file %s: %s' % (params['client_assertion_file'],
                                                                                   exc.strerror or exc))
        form.update(client_assertion_type=ASSERTION_TYPE, client_assertion=assertion)
    if flow == 'client_credentials':
        form['grant_type'] = 'client_credentials'
    elif flow == 'authorization_code':
        form.update(grant_type='authorization_code', code=params['code'], redirect_uri=params['redirect_uri'])
    else:
        form.update(grant_type='refresh_token', refresh_token=refresh_token)
    return url, form, ('client_secret', 'client_assertion', 'code', 'refresh_token')


def parse_token_answer(data, now):
    """Normalised token fields from a 200 answer of either provider (expires_in may be a string)."""
    if not isinstance(data, dict) or not data.get('access_token'):
        raise ModuleFailure('The token endpoint answered 200 without an access_token.')
    try:
        expires_in = int(float(data.get('expires_in') or 3600))
    except (TypeError, ValueError):
        raise ModuleFailure('The token endpoint answered an expires_in that is not a number.')
    token_type = data.get('token_type') or 'Bearer'
    if token_type.lower() in ('jwt-bearer', 'bearer'):
        token_type = 'Bearer'  # Azure DevOps OAuth says jwt-bearer, but the API wants Authorization: Bearer
    return {
        'access_token': data['access_token'],
        'refresh_token': data.get('refresh_token'),
        'token_type': token_type,
        'scope': data.get('scope'),
        'expires_at': iso_utc(now + datetime.timedelta(seconds=expires_in)),
    }


def seconds_left(entry, now):
    expires = parse_iso((entry or {}).get('expires_at'))
    if expires is None:
        return None
    return int((expires - now).total_seconds())


def is_fresh(entry, min_validity, now):
    """A stored access token that stays valid for min_validity seconds plus the clock-skew margin."""
    left = seconds_left(entry, now)
    return bool(entry and entry.get('access_token') and left is not None and left >= min_validity + CLOCK_SKEW)


def _result(entry, store, name, version, renewed, changed, return_token, now, requests):
    result = {
        'changed': changed,
        'renewed': renewed,
        'expires_at': (entry or {}).get('expires_at'),
        'expires_in': seconds_left(entry, now),
        'token_type': (entry or {}).get('token_type'),
        'scope': (entry or {}).get('scope'),
        'fingerprint': (entry or {}).get('fingerprint'),
        'store': {'backend': store.backend, 'name': name, 'version': version} if store else None,
        'token_requests': requests,
    }
    if return_token:
        result['access_token'] = (entry or {}).get('access_token')
    return result


def write_recovery(directory, params, entry):
    """Write the new pair to a 0600 file; returns (path, restore command)."""
    directory = directory or os.getcwd()
    stamp = utc_now().strftime('%Y%m%dT%H%M%SZ')
    path = os.path.join(directory, '%s%s-%s.json' % (RECOVERY_PREFIX, params['name'], stamp))
    store_spec = dict((k, v) for k, v in (params.get('store') or {}).items()
                      if k not in _STORE_SECRET_OPTIONS and v is not None)
    content = {
        'recovery_name': params['name'],
        'recovery_store': store_spec,
        'recovery_secret': dict((k, entry[k]) for k in SECRET_FIELDS if entry.get(k)),
        'recovery_metadata': dict((k, entry[k]) for k in ('token_type', 'scope', 'expires_at') if entry.get(k)),
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, 'w') as handle:
        json.dump(content, handle, indent=2, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    command = ('ansible localhost -m azdo.auth.ado_token_store -e @%s -a \'{"store": "{{ recovery_store }}", '
               '"name": "{{ recovery_name }}", "secret": "{{ recovery_secret }}", "metadata": "{{ recovery_metadata }}"}\''
               % path)
    return path, command


def _open(params, store_factory):
    if not params.get('store'):
        return None
    return (store_factory or open_store)(params['store'])


def run(params, check_mode, warn, store_factory=None, recovery_dir=None, sleep=time.sleep):
    """Renew when needed; store before reporting success; never lose a rotated refresh token."""
    try:
        flow = validate(params)
    except AdoConfigError as err:
        raise ModuleFailure(str(err))
    if params['provider'] == 'azure_devops' and warn:
        warn('Azure DevOps OAuth (provider azure_devops) is deprecated by Microsoft in favour of Microsoft Entra ID; '
             'see docs/choosing-an-auth-method.md for the migration path.')
    name = params.get('name')
    now = utc_now()
    try:
        store = _open(params, store_factory)
        current = store.get(name) if store else None
    except StoreError as err:
        raise ModuleFailure('Cannot read the token store: %s' % err, error_kind=err.kind)
    min_validity = params.get('min_validity', 600)
    if store and not params.get('force') and is_fresh(current, min_validity, now):
        return _result(current, store, name, store.version(name), False, False, params.get('return_token'), now, 0)
    if check_mode:
        return _result(current, store, name, store.version(name) if store else None, False, True, False, now, 0)

    lock = store.lock(name, (params.get('store') or {}).get('lock_timeout') or 30) if store else contextlib.nullcontext()
    try:
        with lock:
            if store:
                current = store.get(name)  # another fork may have renewed while we waited (single flight)
                if not params.get('force') and is_fresh(current, min_validity, utc_now()):
                    return _result(current, store, name, store.version(name), False, False,
                                   params.get('return_token'), now, 0)
            refresh_token = params.get('refresh_token') or (current or {}).get('refresh_token')
            if flow == 'refresh_token' and not refresh_token:
                raise ModuleFailure('flow refresh_token: no refresh_token given and none stored under %r. Run the '
                                    'authorization_code flow once to bootstrap it.' % name)
            fresh_entry = _call_token_endpoint(params, flow, refresh_token, sleep)
            if not fresh_entry.get('refresh_token') and flow == 'refresh_token':
                fresh_entry['refresh_token'] = refresh_token  # Entra may keep the refresh token unchanged
            entry = build_entry(dict((k, fresh_entry[k]) for k in ('access_token', 'refresh_token') if fresh_entry.get(k)),
                                dict((k, fresh_entry[k]) for k in ('token_type', 'scope', 'expires_at') if fresh_entry.get(k)))
            if not store:
                return _result(entry, None, name, None, True, True, params.get('return_token'), utc_now(), 1)
            try:
                outcome = store.put(name, entry)
            except (StoreError, OSError) as err:
                path, command = write_recovery(params.get('recovery_dir') or recovery_dir, params, entry)
                raise ModuleFailure(
                    'A new token was obtained (the old refresh token may now be consumed) but writing it to the %s store '
                    'failed: %s. The new pair was saved to %s (mode 0600). Restore it with: %s (add '
                    '--vault-password-file or VAULT_TOKEN as the store needs), then delete the file.'
                    % (store.backend, err, path, command), recovery_file=path, renewed=True, token_requests=1,
                    fingerprint=entry.get('fingerprint'))
    except StoreError as err:
        raise ModuleFailure('Token store: %s' % err, error_kind=err.kind)
    return _result(entry, store, name, outcome['version'], True, True, params.get('return_token'), utc_now(), 1)


def _call_token_endpoint(params, flow, refresh_token, sleep):
    try:
        transport = HttpTransport(validate_certs=params.get('validate_certs', True), ca_path=params.get('ca_path'),
                                  timeout=params.get('timeout') or 30, retries=params.get('retries', 3),
                                  retry_max_delay=params.get('retry_max_delay') or 60, sleep=sleep)
        url, form, secret_fields = token_form(params, flow, refresh_token, now=time.time())
        if not url.lower().startswith('https://') and not (params.get('allow_http') and url.lower().startswith('http://')):
            raise AdoConfigError('token endpoint %s must use https (set allow_http: true only for a test endpoint).'
                                 % url.split('?', 1)[0])
        response = transport.post_form(url, form, secret_fields, idempotent=flow == 'client_credentials')
    except AdoError as err:
        raise ModuleFailure('Token request failed: %s' % err)
    try:
        data = json.loads(response.text.lstrip('\ufeff')) if response.text.strip() else None
    except ValueError:
        data = None
    if 200 <= response.status_code < 300 and not isinstance(data, dict):
        # A proxy's or sign-in page (200/203 HTML), or an answer cut short: not a token answer.
        raise ModuleFailure('Token request to %s failed: it answered HTTP %d with %s instead of a JSON token answer: a '
                            'proxy or sign-in page, or a truncated answer. Check token_url / authority_host and any proxy '
                            'between the controller and the identity provider.' % (
                                url.split('?', 1)[0], response.status_code,
                                'an empty body' if not response.text.strip() else 'a body of %d bytes (%s)' % (
                                    len(response.content),
                                    (response.headers.get('Content-Type') or 'no content type').split(';')[0])),
                            token_requests=1)
    if response.status_code != 200:
        diagnosis = diagnose_token_error(response.status_code, data)
        raise ModuleFailure('Token request to %s failed: %s %s Fix: %s' % (
            url.split('?', 1)[0], diagnosis['code'], transport.redact(diagnosis['message']), diagnosis['remediation']),
            diagnosis=dict(diagnosis, message=transport.redact(diagnosis['message'])), token_requests=1)
    return parse_token_answer(data, utc_now())
