# -*- coding: utf-8 -*-
# Copyright: contributors to the azdo.auth collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Logic of azdo.auth.ado_token_info: what a token store holds about named entries, never a secret.

Reads each entry through the store interface's ``describe()`` (metadata, fingerprint and backend
version; the secret fields are dropped there) and adds how old the entry is and how long it has
left. Nothing is written, locked or renewed.
"""

from __future__ import annotations

from ansible_collections.azdo.auth.plugins.module_utils._runner import ModuleFailure
from ansible_collections.azdo.auth.plugins.module_utils._stores import (
    StoreError, open_store, parse_iso, store_argspec, utc_now, validate_name)

MODULE_SPEC = dict(
    argument_spec=dict(
        store=store_argspec(),
        names=dict(type='list', elements='str', required=True, aliases=['name']),
    ),
)


def _parse(text):
    try:
        return parse_iso(text)
    except (TypeError, ValueError):
        return None


def describe_entry(store, name, now):
    """One entry of the result: ``exists`` and, when it does, its public metadata with age and time left."""
    view = store.describe(validate_name(name))
    if view is None:
        return {'name': name, 'exists': False, 'fingerprint': None, 'expires_at': None, 'updated_at': None,
                'age': None, 'expires_in': None, 'is_expired': None, 'labels': {}, 'version': None,
                'token_type': None, 'scope': None, 'fields': []}
    expires = _parse(view.get('expires_at'))
    updated = _parse(view.get('updated_at'))
    expires_in = int((expires - now).total_seconds()) if expires else None
    return {
        'name': name,
        'exists': True,
        'fingerprint': view.get('fingerprint'),
        'expires_at': view.get('expires_at'),
        'updated_at': view.get('updated_at'),
        'age': int((now - updated).total_seconds()) if updated else None,
        'expires_in': expires_in,
        'is_expired': (expires_in <= 0) if expires_in is not None else None,
        'labels': dict(view.get('labels') or {}),
        'version': view.get('version'),
        'token_type': view.get('token_type'),
        'scope': view.get('scope'),
        'fields': list(view.get('fields') or []),
    }


def run(params, check_mode, warn, store_factory=None, now=None):
    """Describe every named entry; read-only, so check mode changes nothing either."""
    moment = now or utc_now()
    try:
        store = (store_factory or open_store)(params['store'])
        tokens = [describe_entry(store, str(name), moment) for name in params['names']]
        location = store.location()
    except StoreError as err:
        raise ModuleFailure(str(err), error_kind=err.kind)
    return {
        'changed': False,
        'store': {'backend': store.backend, 'location': location},
        'tokens': tokens,
        'missing': [token['name'] for token in tokens if not token['exists']],
    }
