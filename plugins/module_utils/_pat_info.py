# -*- coding: utf-8 -*-
# Copyright: contributors to the azdo.auth collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Logic of azdo.auth.ado_pat_info: the PAT inventory of one user or of the whole organization (read-only).

``owner: me`` reads the lifecycle API; ``all`` (or a list of users) lists the organization's users with
Graph continuation-token paging and fetches each user's PATs from the Token Admin API concurrently,
through one shared client whose 429 gate makes every worker back off together. Results are sorted, so
the output does not depend on completion order.
"""

from __future__ import annotations

import concurrent.futures
import datetime

from ansible_collections.azdo.auth.plugins.module_utils._argspec import client_from_params, connection_spec
from ansible_collections.azdo.auth.plugins.module_utils._client import (
    AREA_GRAPH, AREA_TOKEN_ADMIN, AdoConfigError, AdoError, AdoHttpError)
from ansible_collections.azdo.auth.plugins.module_utils._diagnosis import diagnose
from ansible_collections.azdo.auth.plugins.module_utils._pat import FULL_SCOPE, PatApi
from ansible_collections.azdo.auth.plugins.module_utils._runner import ModuleFailure
from ansible_collections.azdo.auth.plugins.module_utils._stores import iso_utc, parse_iso, utc_now

MAX_CONCURRENCY = 32
LONG_LIVED_DAYS = 90

MODULE_SPEC = dict(
    argument_spec=connection_spec(
        owner=dict(type='raw', default='me'),
        expiring_within_days=dict(type='int', default=30),
        include_revoked=dict(type='bool', default=False),
        concurrency=dict(type='int', default=8),
        page_size=dict(type='int', default=100),
    ),
    mutually_exclusive=[('pat', 'access_token')],
)


def _when(text):
    if not text:
        return None
    try:
        return parse_iso(iso_utc(text))
    except Exception:  # an unparsable date is reported as unknown, not fatal
        return None


def token_row(owner, display_name, scope, valid_from, valid_to, authorization_id, now, revoked=False):
    start, end = _when(valid_from), _when(valid_to)
    scopes = sorted((scope or '').split())
    return {
        'owner': owner,
        'display_name': display_name,
        'scope': scopes,
        'valid_from': iso_utc(start) if start else None,
        'valid_to': iso_utc(end) if end else None,
        'expires_in_days': int((end - now).total_seconds() // 86400) if end else None,
        'is_full_scope': FULL_SCOPE in scopes,
        'is_expired': bool(end and end <= now),
        'is_revoked': revoked,
        'long_lived': bool(start and end and end - start > datetime.timedelta(days=LONG_LIVED_DAYS)),
        'authorization_id': authorization_id,
    }


def summarise(tokens, expiring_within_days):
    by_owner = {}
    for token in tokens:
        key = token['owner'].get('unique_name') or token['owner'].get('descriptor') or 'unknown'
        by_owner[key] = by_owner.get(key, 0) + 1
    return {
        'total': len(tokens),
        'expired': sum(1 for t in tokens if t['is_expired']),
        'expiring': sum(1 for t in tokens if not t['is_expired'] and t['expires_in_days'] is not None
                        and t['expires_in_days'] <= expiring_within_days),
        'full_scope': sum(1 for t in tokens if t['is_full_scope']),
        'long_lived': sum(1 for t in tokens if t['long_lived']),
        'by_owner': by_owner,
    }


def _fail(err, what):
    raise ModuleFailure('%s: %s' % (what, err), diagnosis=diagnose(err, 'api'))


def _my_tokens(client, now):
    api = PatApi(client)
    identity = (client.connection_data or {}).get('authenticatedUser') or {}
    account = ((identity.get('properties') or {}).get('Account') or {}).get('$value')
    owner = {'display_name': identity.get('providerDisplayName'), 'unique_name': account,
             'descriptor': identity.get('subjectDescriptor')}
    return [token_row(owner, t.get('displayName'), t.get('scope'), t.get('validFrom'), t.get('validTo'),
                      t.get('authorizationId'), now) for t in api.list_active()]


def _users(client, wanted):
    base = client.area_url(AREA_GRAPH)
    users = []
    try:
        for user in client.paged('_apis/graph/users', params={'subjectTypes': 'aad,msa,svc'}, api_version='7.1-preview.1',
                                 base_url=base):
            users.append({'display_name': user.get('displayName'), 'unique_name': user.get('principalName'),
                          'descriptor': user.get('descriptor')})
    except AdoError as err:
        _fail(err, 'Listing the organization\'s users (Graph) failed')
    if wanted is not None:
        lowered = set(w.lower() for w in wanted)
        found = [u for u in users if (u['unique_name'] or '').lower() in lowered]
        missing = sorted(lowered - set((u['unique_name'] or '').lower() for u in found))
        if missing:
            raise ModuleFailure('owner: no user %s in the organization.' % ', '.join(missing))
        users = found
    return users


def _admin_tokens(client, user, page_size, include_revoked, now):
    base = client.area_url(AREA_TOKEN_ADMIN)
    rows, params = [], {'pageSize': page_size, 'isPublic': 'false'}
    for dummy in range(10000):
        try:
            data = client.get('_apis/tokenadmin/personalaccesstokens/%s' % user['descriptor'], params=dict(params),
                              api_version='7.1-preview.1', base_url=base) or {}
        except AdoHttpError as err:
            if err.status in (401, 403):
                raise ModuleFailure('The Token Admin API refused the call (HTTP %s): listing other users\' PATs needs an '
                                    'organization administrator (Project Collection Administrators) and the scope '
                                    'vso.tokenadministration. Server said: %s' % (err.status, err), http_status=err.status)
            _fail(err, 'Listing the PATs of %s failed' % user['unique_name'])
        except AdoError as err:
            _fail(err, 'Listing the PATs of %s failed' % user['unique_name'])
        for token in data.get('value') or []:
            revoked = not token.get('isValid', True)
            if revoked and not include_revoked:
                continue
            rows.append(token_row(user, token.get('displayName'), token.get('scope'), token.get('validFrom'),
                                  token.get('validTo'), token.get('authorizationId'), now, revoked))
        if not data.get('continuationToken'):
            return rows
        params['continuationToken'] = data['continuationToken']
    raise ModuleFailure('The Token Admin list of %s did not end.' % user['unique_name'])


def inventory(client, owner, concurrency, page_size, include_revoked, now):
    """Sorted token rows for ``owner`` (me, all, or a list of user principal names)."""
    if owner == 'me':
        return _my_tokens(client, now)
    users = _users(client, None if owner == 'all' else owner)
    client.area_url(AREA_TOKEN_ADMIN)  # looked up once, before the workers start
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(users) or 1))) as pool:
        chunks = list(pool.map(lambda user: _admin_tokens(client, user, page_size, include_revoked, now), users))
    return [row for chunk in chunks for row in chunk]


def run(params, check_mode, warn):
    """ado_pat_info: read-only."""
    owner = params.get('owner') or 'me'
    if isinstance(owner, str) and owner not in ('me', 'all'):
        owner = [owner]
    if not isinstance(owner, (str, list)) or (isinstance(owner, list) and not all(isinstance(o, str) for o in owner)):
        raise ModuleFailure('owner must be me, all, or a list of user principal names.')
    concurrency = 8 if params.get('concurrency') is None else params['concurrency']
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise ModuleFailure('concurrency must be between 1 and %d.' % MAX_CONCURRENCY)
    page_size = 100 if params.get('page_size') is None else params['page_size']
    if not 1 <= page_size <= 1000:
        raise ModuleFailure('page_size must be between 1 and 1000.')
    try:
        client = client_from_params(params, warn=warn)
    except AdoConfigError as err:
        raise ModuleFailure(str(err))
    try:
        data = client.get_connection_data()
    except AdoError as err:
        raise ModuleFailure(str(err), diagnosis=diagnose(err, 'connect', client.auth_method, client.token_hint))
    if data.get('deploymentType') == 'onPremises':
        raise ModuleFailure('%s is Azure DevOps Server (api-version %s): the PAT lifecycle API does not exist there, and '
                            'this version of the collection reads PAT inventories from Azure DevOps Services only. List '
                            'PATs on the server in the web UI (Organization settings > Personal access tokens).'
                            % (client.url, client.server_api_version or 'unknown'))
    now = utc_now()
    tokens = inventory(client, owner, concurrency, page_size, params.get('include_revoked'), now)
    tokens.sort(key=lambda t: ((t['owner'].get('unique_name') or '').lower(), (t['display_name'] or '').lower(),
                               t['authorization_id'] or ''))
    return {'changed': False, 'tokens': tokens, 'summary': summarise(tokens, params.get('expiring_within_days', 30)),
            'requests': client.request_count}
