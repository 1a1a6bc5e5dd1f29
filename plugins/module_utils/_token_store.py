# -*- coding: utf-8 -*-
# Copyright: contributors to the azdo.auth collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Logic of azdo.auth.ado_token_store: put or delete one credential in a store, idempotently."""

from __future__ import annotations

from ansible_collections.azdo.auth.plugins.module_utils._runner import ModuleFailure
from ansible_collections.azdo.auth.plugins.module_utils._stores import (
    StoreError, build_entry, open_store, public_view, store_argspec)

MODULE_SPEC = dict(
    argument_spec=dict(
        store=store_argspec(),
        name=dict(type='str', required=True),
        secret=dict(type='raw', no_log=True),
        metadata=dict(type='dict', default={}),
        state=dict(type='str', default='present', choices=['present', 'absent']),
    ),
    required_if=[('state', 'present', ('secret',))],
)


def store_result(store, name, version, entry):
    return {
        'store': {'backend': store.backend, 'name': name, 'version': version},
        'fingerprint': (entry or {}).get('fingerprint'),
        'expires_at': (entry or {}).get('expires_at'),
    }


def run(params, check_mode, warn, store_factory=None):
    """Put (state=present) or delete (state=absent) one entry; writes only when it changes."""
    try:
        store = (store_factory or open_store)(params['store'])
        name = params['name']
        if params['state'] == 'absent':
            outcome = store.delete(name, check_mode=check_mode)
            result = store_result(store, name, None, None)
            result.update(changed=outcome['changed'],
                          diff={'before': public_view(outcome['before']), 'after': None})
            return result
        entry = build_entry(params['secret'], params.get('metadata'))
        outcome = store.put(name, entry, check_mode=check_mode)
    except StoreError as err:
        raise ModuleFailure(str(err), error_kind=err.kind)
    kept = entry if outcome['changed'] else outcome['before']
    result = store_result(store, name, outcome['version'], kept)
    result.update(changed=outcome['changed'],
                  diff={'before': public_view(outcome['before']), 'after': public_view(kept)})
    return result
