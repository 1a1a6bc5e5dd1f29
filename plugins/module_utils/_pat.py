# -*- coding: utf-8 -*-
# Copyright: contributors to the azdo.auth collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Logic of azdo.auth.ado_pat: the calling user's own PATs, kept by display name (Azure DevOps Services).

The lifecycle API (``_apis/tokens/pats``, 7.1-preview.1) lives on the organisation's vssps host, found
through the resource-areas API, and accepts only a user's Microsoft Entra access token. A new secret is
shown once: it is written to the store before anything else happens, and on regenerate the old PAT is
revoked only after the new one is stored.
"""

from __future__ import annotations

import datetime

from ansible_collections.azdo.auth.plugins.module_utils._argspec import client_from_params, connection_spec
from ansible_collections.azdo.auth.plugins.module_utils._client import AREA_TOKENS, AdoConfigError, AdoError, AdoHttpError
from ansible_collections.azdo.auth.plugins.module_utils._diagnosis import diagnose, pat_token_error
from ansible_collections.azdo.auth.plugins.module_utils._oauth import write_recovery
from ansible_collections.azdo.auth.plugins.module_utils._runner import ModuleFailure
from ansible_collections.azdo.auth.plugins.module_utils._stores import (
    StoreError, build_entry, iso_utc, open_store, parse_iso, store_argspec, utc_now)

API_VERSION = '7.1-preview.1'
FULL_SCOPE = 'app_token'

MODULE_SPEC = dict(
    argument_spec=connection_spec(
        display_name=dict(type='str', required=True),
        scope=dict(type='list', elements='str'),
        allow_full_scope=dict(type='bool', default=False),
        valid_to=dict(type='str'),
        valid_days=dict(type='int'),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        renew_before_days=dict(type='int', default=7),
        renew_strategy=dict(type='str', default='extend', choices=['extend', 'regenerate']),
        store=store_argspec(required=False),
        name=dict(type='str'),
        delete_from_store=dict(type='bool', default=False),
        recovery_dir=dict(type='path'),
    ),
    mutually_exclusive=[('pat', 'access_token'), ('valid_to', 'valid_days')],
    required_together=[('store', 'name')],
    required_if=[('state', 'present', ('scope',))],
)

_FORBIDDEN_HINT = ('The PAT lifecycle API accepts only a user\'s Microsoft Entra access token (access_token): a PAT, a '
                   'service principal or managed identity token, or a client-credentials token gets 403. Obtain a '
                   'delegated token for a user (scope 499b84ac-1321-427f-aa17-267ca6975798/.default).')


def normalise_scope(scope, allow_full_scope):
    parts = sorted(set(p for item in (scope or []) for p in str(item).replace(',', ' ').split() if p))
    if not parts:
        raise AdoConfigError('scope must list at least one scope, such as vso.code or vso.build.')
    if FULL_SCOPE in parts:
        if not allow_full_scope:
            raise AdoConfigError('scope app_token gives full access to everything the user can reach; set '
                                 'allow_full_scope: true to request it on purpose.')
        if len(parts) > 1:
            raise AdoConfigError('scope app_token (full access) cannot be combined with other scopes.')
    return parts


def desired_valid_to(params, now):
    if params.get('valid_to'):
        try:
            return parse_iso(iso_utc(params['valid_to']))
        except StoreError as err:
            raise AdoConfigError(str(err).replace('expires_at', 'valid_to'))
    days = params.get('valid_days') or 30
    if days <= 0:
        raise AdoConfigError('valid_days must be a positive number of days.')
    return now + datetime.timedelta(days=days)


def pat_view(token):
    if not token:
        return None
    return {
        'authorization_id': token.get('authorizationId'),
        'display_name': token.get('displayName'),
        'scope': sorted((token.get('scope') or '').split()),
        'valid_from': token.get('validFrom'),
        'valid_to': token.get('validTo'),
        'target_accounts': token.get('targetAccounts'),
    }


class PatApi(object):
    """The calls of the lifecycle API, each through the shared client; logical errors become ModuleFailure."""

    def __init__(self, client):
        self.client = client
        self.base = None

    def _call(self, method, params=None, body=None):
        if self.base is None:
            self.base = self.client.area_url(AREA_TOKENS)
        try:
            data = self.client.request(method, '_apis/tokens/pats', params=params, json_body=body, api_version=API_VERSION,
                                       base_url=self.base)
        except AdoHttpError as err:
            if err.status in (401, 403) or err.kind == 'signin':
                raise ModuleFailure('%s Server said: %s' % (_FORBIDDEN_HINT, err), http_status=err.status)
            raise ModuleFailure(str(err), diagnosis=diagnose(err, 'api'))
        except AdoError as err:
            raise ModuleFailure(str(err), diagnosis=diagnose(err, 'api'))
        return data

    def _checked(self, data):
        error = (data or {}).get('patTokenError') or 'none'
        if error != 'none':
            raise ModuleFailure('PAT lifecycle API: %s (patTokenError %s)' % (pat_token_error(error), error),
                                pat_token_error=error)
        return (data or {}).get('patToken')

    def list_active(self):
        tokens, params = [], {'displayFilterOption': 'active', '$top': 100}
        for dummy in range(1000):
            data = self._call('GET', params=dict(params)) or {}
            tokens.extend(data.get('patTokens') or [])
            if not data.get('continuationToken'):
                return tokens
            params['continuationToken'] = data['continuationToken']
        raise ModuleFailure('The PAT list did not end after 1000 pages.')

    def create(self, display_name, scope, valid_to):
        return self._checked(self._call('POST', body={'displayName': display_name, 'scope': ' '.join(scope),
                                                      'validTo': iso_utc(valid_to), 'allOrgs': False}))

    def update(self, authorization_id, scope=None, valid_to=None):
        body = {'authorizationId': authorization_id}
        if scope is not None:
            body['scope'] = ' '.join(scope)
        if valid_to is not None:
            body['validTo'] = iso_utc(valid_to)
        return self._checked(self._call('PUT', body=body))

    def revoke(self, authorization_id):
        self._call('DELETE', params={'authorizationId': authorization_id})


def _store_new_secret(params, store, token, warn, recovery_dir):
    """Write a new PAT to the store first; on failure keep it in a recovery file and fail."""
    entry = build_entry(token['token'], {'scope': token.get('scope'), 'expires_at': token.get('validTo'),
                                         'labels': {'authorization_id': token.get('authorizationId'),
                                                    'display_name': token.get('displayName')}})
    try:
        store.put(params['name'], entry)
    except (StoreError, OSError) as err:
        path, command = write_recovery(params.get('recovery_dir') or recovery_dir, params, entry)
        raise ModuleFailure(
            'The new PAT %s was created but writing it to the %s store failed: %s. Its secret was saved to %s (mode '
            '0600); the previous PAT, if any, was not revoked. Restore it with: %s (add --vault-password-file or '
            'VAULT_TOKEN as the store needs), then delete the file.'
            % (token.get('authorizationId'), store.backend, err, path, command), recovery_file=path,
            pat=pat_view(token), stored=False)
    return entry['fingerprint']


def run(params, check_mode, warn, store_factory=None, recovery_dir=None):
    """Create, keep, renew, re-scope or revoke the PAT called ``display_name``."""
    now = utc_now()
    try:
        client = client_from_params(params, warn=warn)
        scope = normalise_scope(params.get('scope'), params.get('allow_full_scope')) if params['state'] == 'present' else None
        valid_to = desired_valid_to(params, now) if params['state'] == 'present' else None
        if params.get('renew_before_days', 7) < 0:
            raise AdoConfigError('renew_before_days must be zero or more.')
        store = (store_factory or open_store)(params['store']) if params.get('store') else None
    except AdoConfigError as err:
        raise ModuleFailure(str(err))
    except StoreError as err:
        raise ModuleFailure('Token store: %s' % err, error_kind=err.kind)
    try:
        data = client.get_connection_data()
    except AdoError as err:
        raise ModuleFailure(str(err), diagnosis=diagnose(err, 'connect', client.auth_method, client.token_hint))
    if data.get('deploymentType') == 'onPremises':
        raise ModuleFailure('The PAT lifecycle API (_apis/tokens/pats) exists only in Azure DevOps Services; %s is an '
                            'Azure DevOps Server. Create PATs there in the web UI (User settings > Personal access '
                            'tokens); azdo.auth.ado_pat_info can list them where the Token Admin API exists.' % client.url)
    api = PatApi(client)
    matches = [t for t in api.list_active() if t.get('displayName') == params['display_name']]
    result = {'changed': False, 'action': 'none', 'pat': None, 'stored': False, 'fingerprint': None}
    if len(matches) > 1 and params['state'] == 'present':
        raise ModuleFailure('%d PATs are named %r; ado_pat keeps one PAT per display name. Revoke the extra ones (state '
                            'absent revokes them all) or rename them: %s'
                            % (len(matches), params['display_name'],
                               ', '.join('%s (valid to %s)' % (t.get('authorizationId'), t.get('validTo')) for t in matches)),
                            pats=[pat_view(t) for t in matches])
    current = matches[0] if matches else None
    before = pat_view(current)

    if params['state'] == 'absent':
        if matches:
            result.update(changed=True, action='revoked', pat=before, revoked=[pat_view(t) for t in matches])
            if not check_mode:
                for token in matches:
                    api.revoke(token['authorizationId'])
        if store and params.get('delete_from_store'):
            try:
                outcome = store.delete(params['name'], check_mode=check_mode)
            except StoreError as err:
                raise ModuleFailure('Token store: %s' % err, error_kind=err.kind, **result)
            result['changed'] = result['changed'] or outcome['changed']
        result['diff'] = {'before': before, 'after': None}
        result['requests'] = client.request_count
        return result

    if current is None or params.get('renew_strategy') == 'regenerate' and _expiring(current, params, now):
        if not store:
            raise ModuleFailure('Creating a PAT needs store and name: the service shows the secret only once, so it must '
                                'be kept right away.')
        action = 'created' if current is None else 'regenerated'
        result.update(changed=True, action=action)
        if check_mode:
            result['pat'] = before
        else:
            token = api.create(params['display_name'], scope, valid_to)
            result['fingerprint'] = _store_new_secret(params, store, token, warn, recovery_dir)
            result['stored'] = True
            if current is not None:
                api.revoke(current['authorizationId'])  # only after the new secret is safely stored
            result['pat'] = pat_view(token)
    else:
        scope_changed = sorted((current.get('scope') or '').split()) != scope
        expiring = _expiring(current, params, now)
        if scope_changed or expiring:
            result.update(changed=True, action='scope_updated' if scope_changed else 'extended')
            if check_mode:
                result['pat'] = before
            else:
                updated = api.update(current['authorizationId'], scope=scope if scope_changed else None,
                                     valid_to=valid_to if expiring else None)
                result['pat'] = pat_view(updated)
                _refresh_store_metadata(params, store, updated)
        else:
            result['pat'] = before
        if store:
            try:
                stored = store.describe(params['name'])
            except StoreError as err:
                raise ModuleFailure('Token store: %s' % err, error_kind=err.kind)
            result['stored'] = stored is not None
            result['fingerprint'] = (stored or {}).get('fingerprint')
    result['diff'] = {'before': before, 'after': result['pat']}
    result['requests'] = client.request_count
    return result


def _expiring(token, params, now):
    valid_to = parse_iso(iso_utc(token.get('validTo'))) if token.get('validTo') else None
    return valid_to is None or valid_to - now <= datetime.timedelta(days=params.get('renew_before_days', 7))


def _refresh_store_metadata(params, store, token):
    """Same secret, new scope or expiry: keep the stored entry's metadata true."""
    if not store or not token:
        return
    try:
        existing = store.get(params['name'])
        if existing and existing.get('value'):
            store.put(params['name'], build_entry(existing['value'], {
                'scope': token.get('scope'), 'expires_at': token.get('validTo'), 'labels': existing.get('labels')}))
    except StoreError as err:
        raise ModuleFailure('The PAT was updated but its store entry could not be: %s' % err, error_kind=err.kind,
                            pat=pat_view(token))
