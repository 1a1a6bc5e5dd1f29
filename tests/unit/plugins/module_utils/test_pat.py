# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of plugins/module_utils/_pat.py and _pat_info.py (pure parts and the patTokenError mapping)."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.azdo.auth.plugins.module_utils import _pat, _pat_info
from ansible_collections.azdo.auth.plugins.module_utils._client import AdoConfigError
from ansible_collections.azdo.auth.plugins.module_utils._diagnosis import PAT_TOKEN_ERRORS
from ansible_collections.azdo.auth.plugins.module_utils._runner import ModuleFailure

NOW = datetime.datetime(2026, 11, 23, tzinfo=datetime.timezone.utc)


def test_scope_is_normalised_and_full_scope_guarded():
    assert _pat.normalise_scope(['vso.code', 'vso.build vso.code'], False) == ['vso.build', 'vso.code']
    with pytest.raises(AdoConfigError, match='allow_full_scope'):
        _pat.normalise_scope(['app_token'], False)
    assert _pat.normalise_scope(['app_token'], True) == ['app_token']
    with pytest.raises(AdoConfigError, match='cannot be combined'):
        _pat.normalise_scope(['app_token', 'vso.code'], True)
    with pytest.raises(AdoConfigError, match='at least one scope'):
        _pat.normalise_scope([], False)


def test_valid_to_from_date_or_days():
    assert _pat.desired_valid_to({'valid_to': '2027-01-31'}, NOW).isoformat() == '2027-01-31T00:00:00+00:00'
    assert _pat.desired_valid_to({'valid_days': 10}, NOW) == NOW + datetime.timedelta(days=10)
    assert _pat.desired_valid_to({}, NOW) == NOW + datetime.timedelta(days=30)
    with pytest.raises(AdoConfigError, match='valid_to'):
        _pat.desired_valid_to({'valid_to': 'soon'}, NOW)
    with pytest.raises(AdoConfigError, match='positive'):
        _pat.desired_valid_to({'valid_days': -1}, NOW)


@pytest.mark.parametrize('error', sorted(PAT_TOKEN_ERRORS) + ['someFutureError'])
def test_every_pat_token_error_is_a_clear_failure(error):
    api = _pat.PatApi(client=None)
    with pytest.raises(ModuleFailure) as failure:
        api._checked({'patToken': None, 'patTokenError': error})  # pylint: disable=protected-access
    assert error in failure.value.msg
    assert failure.value.result['pat_token_error'] == error
    assert api._checked({'patToken': {'a': 1}, 'patTokenError': 'none'}) == {'a': 1}  # pylint: disable=protected-access


def test_expiring_uses_renew_before_days():
    token = {'validTo': (NOW + datetime.timedelta(days=5)).isoformat()}
    assert _pat._expiring(token, {'renew_before_days': 7}, NOW)  # pylint: disable=protected-access
    assert not _pat._expiring(token, {'renew_before_days': 3}, NOW)  # pylint: disable=protected-access


def test_inventory_rows_and_summary():
    owner = {'display_name': 'A', 'unique_name': 'a@fabrikam.example', 'descriptor': 'aad.x'}
    rows = [
        _pat_info.token_row(owner, 'full', 'app_token', '2026-01-01', '2026-12-31', 'id1', NOW),
        _pat_info.token_row(owner, 'old', 'vso.code', '2025-01-01', '2025-02-01', 'id2', NOW),
        _pat_info.token_row(owner, 'soon', 'vso.code vso.build', '2026-11-01', '2026-11-30', 'id3', NOW),
        _pat_info.token_row(owner, 'no dates', 'vso.code', None, 'not a date', 'id4', NOW),
    ]
    assert rows[0]['is_full_scope'] and rows[0]['long_lived'] and not rows[0]['is_expired']
    assert rows[1]['is_expired'] and rows[1]['expires_in_days'] < 0
    assert rows[2]['scope'] == ['vso.build', 'vso.code'] and rows[2]['expires_in_days'] == 7
    assert rows[3]['valid_to'] is None and rows[3]['expires_in_days'] is None
    summary = _pat_info.summarise(rows, 30)
    assert summary == {'total': 4, 'expired': 1, 'expiring': 1, 'full_scope': 1, 'long_lived': 1,
                       'by_owner': {'a@fabrikam.example': 4}}


@pytest.mark.parametrize('params, fragment', [
    ({'owner': 42}, 'owner must be'),
    ({'owner': 'all', 'concurrency': 0}, 'concurrency must be between'),
    ({'owner': 'all', 'page_size': 5000}, 'page_size must be between'),
])
def test_inventory_input_is_checked_before_any_request(params, fragment):
    with pytest.raises(ModuleFailure, match=fragment):
        _pat_info.run(dict(params, url='https://dev.azure.com/fabrikam', access_token='eyJ.a.b'), False, None)
