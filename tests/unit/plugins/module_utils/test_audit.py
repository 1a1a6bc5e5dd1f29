# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The audit report: items from checks, the summary, deterministic JSON / Markdown / HTML, and the writes."""

from __future__ import annotations

import datetime
import json
import os

import pytest

from ansible_collections.azdo.auth.plugins.module_utils import _audit
from ansible_collections.azdo.auth.plugins.module_utils._runner import ModuleFailure, call

NOW = datetime.datetime(2026, 11, 24, 12, 0, 0, tzinfo=datetime.timezone.utc)
SECRET = 'zq7kx2m9v4b8n3c6x1z5a0s9d8f7g6h5j4k3l2p1o0i9u8y7t6r5'

BASELINE = {
    'windows_authentication': {'enabled': True, 'providers': ['Negotiate', 'NTLM'], 'use_kernel_mode': None},
    'anonymous_authentication': {'enabled': False},
    'basic_authentication': {'enabled': False, 'realm': None},
    'digest_authentication': {'enabled': False},
}
BEFORE = {
    'windows_authentication': {'enabled': True, 'providers': ['Negotiate', 'NTLM'], 'use_kernel_mode': True},
    'anonymous_authentication': {'enabled': False},
    'basic_authentication': {'enabled': True, 'default_logon_domain': '', 'realm': ''},
    'digest_authentication': {'enabled': False},
}


def iis_check(before=None, findings=None, declared=None, **result):
    result.setdefault('config_path', 'Azure DevOps Server/tfs')
    result.setdefault('before', before or BEFORE)
    result.setdefault('findings', findings if findings is not None else [
        {'code': 'BASIC_AUTH_ENABLED', 'severity': 'high', 'message': 'Basic authentication is enabled.'}])
    return {'area': 'iis_auth', 'target': 'ado01', 'declared': declared or BASELINE, 'result': result}


def by_target(items):
    return dict((item['target'], item) for item in items)


# -- items from checks ----------------------------------------------------------------------------------


def test_iis_one_item_per_section_and_basic_drifts():
    items = _audit.build_items([iis_check()])
    assert [item['target'] for item in items] == ['ado01: Azure DevOps Server/tfs (%s)' % label
                                                  for label in ('Windows', 'Anonymous', 'Basic', 'Digest')]
    statuses = [item['status'] for item in items]
    assert statuses == ['ok', 'ok', 'drift', 'ok']
    basic = items[2]
    assert basic['declared'] == {'enabled': False}  # unset (None) settings are not compared
    assert basic['actual']['enabled'] is True and basic['actual']['findings'] == ['BASIC_AUTH_ENABLED']
    assert 'enabled is true, declared false' in basic['finding'] and 'Basic authentication is enabled.' in basic['finding']
    assert 'azdo.auth.iis_auth' in basic['remediation']
    assert items[0]['declared'] == {'enabled': True, 'providers': ['Negotiate', 'NTLM']}


def test_iis_provider_order_and_declared_insecure_state():
    before = dict(BEFORE, windows_authentication={'enabled': True, 'providers': ['NTLM', 'Negotiate']})
    items = by_target(_audit.build_items([iis_check(before=before, findings=[])]))
    assert items['ado01: Azure DevOps Server/tfs (Windows)']['status'] == 'drift'
    declared = dict(BASELINE, basic_authentication={'enabled': 'true'})
    items = by_target(_audit.build_items([iis_check(declared=declared)]))
    basic = items['ado01: Azure DevOps Server/tfs (Basic)']
    assert basic['status'] == 'ok' and basic['finding'].startswith('As declared, but: Basic authentication')


@pytest.mark.parametrize('result, fragment', [
    ({'failed': True, 'msg': 'appcmd.exe not found'}, 'appcmd.exe not found'),
    ({'unreachable': True, 'msg': 'ssh: connect timed out'}, 'Host unreachable: ssh: connect timed out'),
])
def test_iis_failure_is_one_error_item(result, fragment):
    items = _audit.build_items([{'area': 'iis_auth', 'target': 'ado01', 'declared': BASELINE, 'result': result}])
    assert len(items) == 1 and items[0]['status'] == 'error' and fragment in items[0]['finding']


def test_skipped_checks_give_no_item():
    assert _audit.build_items([{'area': 'credentials', 'target': 'x', 'result': {'skipped': True}}]) == []


def membership(state='present', **result):
    result.setdefault('group', {'name': '[fabrikam]\\Project Collection Valid Users', 'sid': 'S-1-9-1-2-0-0-0-0-3'})
    result.setdefault('member', {'name': 'contractor@partner.example'})
    return {'area': 'group_membership', 'target': 'contractor in PCVU',
            'declared': {'member': 'contractor@partner.example', 'group': 'Project Collection Valid Users',
                         'state': state}, 'result': result}


def test_membership_statuses():
    ok, nested, missing, leaver, gone, nested_absent = _audit.build_items([
        membership(direct=True, is_member=True, path=['a', 'b']),
        membership(direct=False, is_member=True, path=['contractor', '[fabrikam]\\Team', 'PCVU']),
        membership(direct=False, is_member=False, path=[]),
        membership('absent', direct=True, is_member=True, path=['a', 'b']),
        membership('absent', direct=False, is_member=False),
        membership('absent', direct=False, is_member=True, path=['contractor', 'T', 'PCVU']),
    ])
    assert ok['status'] == 'ok' and ok['finding'] == ''
    assert nested['status'] == 'drift' and 'only through contractor -> [fabrikam]\\Team -> PCVU' in nested['finding']
    assert missing['status'] == 'drift' and 'TF400813' in missing['finding'] and 'adds' in missing['remediation']
    assert leaver['status'] == 'drift' and 'declared absent' in leaver['finding'] and 'removes' in leaver['remediation']
    assert gone['status'] == 'ok'
    assert nested_absent['status'] == 'ok' and 'still a member through' in nested_absent['finding']
    error = _audit.build_items([membership(failed=True, msg="Group 'X' was not found")])[0]
    assert error['status'] == 'error' and error['actual'] == {}


def credential(**result):
    return {'area': 'credentials', 'target': 'pipeline-pat @ https://dev.azure.com/fabrikam',
            'declared': {'required_scopes': ['vso.code', 'vso.build']}, 'result': result}


def test_credential_statuses_and_no_secret_copied():
    ok, scope, unreachable, broken = _audit.build_items([
        credential(valid=True, diagnosis={'code': 'OK'}, authenticated_user={'unique_name': 'admin@fabrikam.example'},
                   scopes={'vso.code': True, 'vso.build': True}, deployment_type='hosted',
                   invocation={'module_args': {'pat': SECRET}}, item={'pat': SECRET}),
        credential(valid=False, diagnosis={'code': 'MISSING_SCOPE', 'message': 'lacks vso.build',
                                           'remediation': 'Add vso.build.'}, scopes={'vso.build': False}),
        credential(valid=False, diagnosis={'code': 'CONNECTION_ERROR', 'message': 'refused', 'remediation': 'r'}),
        credential(failed=True, msg='no entry pipeline-pat in the store'),
    ])
    assert ok['status'] == 'ok' and ok['actual']['user'] == 'admin@fabrikam.example'
    assert SECRET not in json.dumps(ok)
    assert scope['status'] == 'drift' and scope['finding'] == 'lacks vso.build' and scope['remediation'] == 'Add vso.build.'
    assert unreachable['status'] == 'error'
    assert broken['status'] == 'error' and 'no entry' in broken['finding']


def token(name, **fields):
    base = {'owner': {'unique_name': 'admin@fabrikam.example'}, 'display_name': name, 'scope': ['vso.code'],
            'valid_from': '2026-11-01T00:00:00Z', 'valid_to': '2026-12-01T00:00:00Z', 'expires_in_days': 7,
            'is_full_scope': False, 'is_expired': False, 'long_lived': False}
    base.update(fields)
    return base


def pat_check(tokens, **declared):
    policy = {'expiring_days': 5, 'max_lifetime_days': 90, 'allow_full_scope': False}
    policy.update(declared)
    return {'area': 'pat_inventory', 'target': 'https://dev.azure.com/fabrikam', 'declared': policy,
            'result': {'tokens': tokens, 'summary': {'total': len(tokens)}}}


def test_pat_inventory_policy():
    items = by_target(_audit.build_items([pat_check([
        token('ci'),
        token('soon', expires_in_days=3),
        token('old', valid_to='2024-01-01T00:00:00', valid_from='2023-01-01T00:00:00', is_expired=True, expires_in_days=-1058),
        token('everything', scope=['app_token'], is_full_scope=True),
        token('forever', valid_to='2099-12-31T00:00:00Z', expires_in_days=26700, long_lived=True),
        token('gone', is_revoked=True, is_full_scope=True),
    ])]))
    assert items['admin@fabrikam.example: ci']['status'] == 'ok'
    soon = items['admin@fabrikam.example: soon']
    assert soon['status'] == 'drift' and 'expires in 3 day(s)' in soon['finding'] and soon['remediation'].startswith('Renew')
    old = items['admin@fabrikam.example: old']
    assert old['status'] == 'drift' and 'expired on 2024-01-01T00:00:00Z' in old['finding'] and 'long-lived' not in old['finding']
    assert old['actual']['expires_at'] == '2024-01-01T00:00:00Z'
    assert 'full access' in items['admin@fabrikam.example: everything']['finding']
    assert 'long-lived (valid 26723 days, more than 90)' in items['admin@fabrikam.example: forever']['finding']
    gone = items['admin@fabrikam.example: gone']
    assert gone['status'] == 'ok' and gone['finding'] == 'Token gone is revoked.'


def test_pat_inventory_allowances_and_empty():
    items = _audit.build_items([pat_check([token('everything', is_full_scope=True)], allow_full_scope=True)])
    assert items[0]['status'] == 'ok'
    items = _audit.build_items([pat_check([token('module says', long_lived=True)], max_lifetime_days=None)])
    assert items[0]['status'] == 'drift' and 'long-lived (valid 30 days)' in items[0]['finding']
    items = _audit.build_items([pat_check([])])
    assert items[0]['status'] == 'ok' and items[0]['actual'] == {'tokens': 0}
    error = _audit.build_items([dict(pat_check([]), result={'failed': True, 'msg': '403'})])[0]
    assert error['status'] == 'error' and 'Entra token' in error['remediation']


def stored(**fields):
    base = {'name': 'deploy-sp', 'exists': True, 'fingerprint': '3f1a9c0b7d2e', 'expires_at': '2026-11-30T00:00:00Z',
            'updated_at': '2026-11-23T00:00:00Z', 'age': 86400 * 3 + 5, 'expires_in': 86400 * 6, 'labels': {},
            'version': 4, 'token_type': 'Bearer', 'scope': 's'}
    base.update(fields)
    return base


def test_stored_tokens():
    declared = {'deploy-sp': {'min_validity': 600, 'max_age_days': None}, 'close': {'min_validity': 172800},
                'old': {'min_validity': 600, 'max_age_days': 2}}
    check = {'area': 'stored_tokens', 'target': 'x', 'declared': declared,
             'result': {'store': {'backend': 'hashicorp_vault', 'location': 'https://vault secret/azdo'}, 'tokens': [
                 stored(), stored(name='close', expires_in=3600), stored(name='expired', expires_in=-1),
                 stored(name='old'), {'name': 'missing', 'exists': False}]}}
    ok, close, expired, old, missing = _audit.build_items([check])
    assert ok['target'] == 'deploy-sp (hashicorp_vault)' and ok['status'] == 'ok'
    assert ok['actual']['age_days'] == 3 and ok['actual']['expires_in_days'] == 6 and ok['declared']['min_validity'] == 600
    assert close['status'] == 'drift' and 'close to expiry' in close['finding'] and '172800 s' in close['finding']
    assert expired['status'] == 'drift' and 'expired at' in expired['finding']
    assert old['status'] == 'drift' and 'more than 2 days ago' in old['finding']
    assert missing['status'] == 'drift' and missing['actual'] == {'exists': False} and 'token_vault' in missing['remediation']


def test_finished_items_are_checked():
    item = _audit.build_items([{'area': 'change_control', 'target': 'window', 'status': 'drift', 'extra': 1}])[0]
    assert item == {'area': 'change_control', 'target': 'window', 'declared': {}, 'actual': {}, 'status': 'drift',
                    'finding': '', 'remediation': ''}
    for bad, fragment in (({'area': 'x', 'status': 'bad'}, "status 'bad'"), ({'status': 'ok'}, 'needs an area'),
                          ({'area': 'other', 'result': {}}, 'only credentials'), ('text', 'must be a mapping')):
        with pytest.raises(ModuleFailure) as err:
            _audit.build_items([bad])
        assert fragment in err.value.msg


# -- the report and its renderings ------------------------------------------------------------------------


def sample_items():
    return _audit.build_items([
        {'area': 'custom', 'target': 'z', 'status': 'ok'},
        credential(valid=False, diagnosis={'code': 'INVALID_OR_EXPIRED', 'message': 'expired <b>"x"</b> | y',
                                           'remediation': 'Renew & retry'}),
        iis_check(),
        {'area': 'stored_tokens', 'target': 's', 'declared': {'min_validity': 600},
         'result': {'store': {'backend': 'ansible_vault'}, 'tokens': [
             stored(name='near', expires_at='2026-11-25T00:00:00Z', expires_in=3600 * 12),
             stored(name='later', expires_at='2027-06-01T00:00:00Z', expires_in=86400 * 189),
             stored(name='past', expires_at='2026-11-01T00:00:00Z', expires_in=-86400 * 23)]}},
        {'area': 'credentials', 'target': '<script>alert("x")</script>', 'status': 'error', 'finding': 'a\nb'},
    ])


def test_report_summary_and_order():
    report = _audit.build_report(sample_items(), '2026-11-24T12:00:00Z', skipped=[{'area': 'pat_inventory', 'reason': 'r'}])
    assert [area['name'] for area in report['areas']] == ['iis_auth', 'credentials', 'stored_tokens', 'custom']
    assert [item['area'] for item in report['items']][:4] == ['iis_auth'] * 4
    assert report['summary'] == {
        'total': 10, 'by_status': {'ok': 6, 'drift': 3, 'error': 1},
        'by_area': {'iis_auth': {'ok': 3, 'drift': 1, 'error': 0, 'total': 4},
                    'credentials': {'ok': 0, 'drift': 1, 'error': 1, 'total': 2},
                    'stored_tokens': {'ok': 2, 'drift': 1, 'error': 0, 'total': 3},
                    'custom': {'ok': 1, 'drift': 0, 'error': 0, 'total': 1}}}
    assert report['skipped'] == [{'area': 'pat_inventory', 'reason': 'r'}]
    lines = _audit.summary_lines(report)
    assert lines[0].endswith('10 checks - ok 6, drift 3, error 1')
    assert any('PAT inventory' in line and 'not checked: r' in line for line in lines)


def test_renderings_are_deterministic_and_escaped():
    report = json.loads(_audit.render_json(_audit.build_report(sample_items(), '2026-11-24T12:00:00Z')))
    again = json.loads(_audit.render_json(_audit.build_report(sample_items(), '2026-11-24T12:00:00Z')))
    assert _audit.render_html(report) == _audit.render_html(again)
    assert _audit.render_markdown(report) == _audit.render_markdown(again)
    page = _audit.render_html(report)
    assert '<script>' not in page and '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;' in page
    assert '&lt;b&gt;&quot;x&quot;&lt;/b&gt; | y' in page and 'Renew &amp; retry' in page
    for external in ('<link', 'src=', '@import', 'url(', 'href="http', "href='http"):
        assert external not in page  # self-contained: the only links are to anchors of the page
    assert '<h2 id="summary-heading">Summary</h2>' in page
    for area in ('iis_auth', 'credentials', 'stored_tokens', 'custom'):
        assert '<table class="items" id="table-%s">' % area in page
    markdown = _audit.render_markdown(report)
    assert '&lt;script&gt;' in markdown and 'expired &lt;b&gt;"x"&lt;/b&gt; \\| y' in markdown and 'a b' in markdown
    assert '## Summary' in markdown and '| **all** | 6 | 3 | 1 | 10 |' in markdown


def test_expiry_timeline_puts_the_urgent_first():
    report = json.loads(_audit.render_json(_audit.build_report(sample_items(), '2026-11-24T12:00:00Z')))
    rows = _audit.expiry_rows(report)
    assert [item['target'] for dummy, item, dummy2 in rows] == ['past (ansible_vault)', 'near (ansible_vault)',
                                                                'later (ansible_vault)']
    assert [_audit.expiry_class(seconds, 14) for seconds, dummy, dummy2 in rows] == ['expired', 'soon', 'later']
    assert [_audit.describe_left(seconds) for seconds, dummy, dummy2 in rows] == ['expired 23 d ago', 'in 12 h', 'in 188 d']
    page = _audit.render_html(report)
    assert page.index('past (ansible_vault)') < page.index('near (ansible_vault)') < page.index('later (ansible_vault)')
    assert 'class="track expired"' in page and 'class="bar soon"' in page
    assert _audit.bar_width(-5) == 3.0 and _audit.bar_width(86400 * 365 * 3) == 100.0
    assert _audit.bar_width(3600) == 1.5 and 20 < _audit.bar_width(86400 * 3) < 30
    assert '| 2026-11-01T00:00:00Z | expired 23 d ago **EXPIRED** |' in _audit.render_markdown(report)


@pytest.mark.parametrize('value, expected', [
    ('2026-11-24T12:00:00Z', '2026-11-24T12:00:00Z'), ('2026-11-24T14:00:00+02:00', '2026-11-24T12:00:00Z'),
    ('2026-11-24', '2026-11-24T00:00:00Z'), ('2024-01-01T00:00:00.1234567', '2024-01-01T00:00:00Z'),
])
def test_parse_time(value, expected):
    assert _audit.iso(_audit.parse_time(value)) == expected


def test_parse_time_rejects_garbage():
    assert _audit.parse_time('soon') is None and _audit.parse_time(None) is None


# -- run: the files -----------------------------------------------------------------------------------------


def params(directory, items=None, **extra):
    values = {'items': items if items is not None else [credential(valid=True, diagnosis={'code': 'OK'})],
              'report_dir': str(directory), 'fail_on_drift': False, 'fail_on_error': False, 'title': None,
              'expiry_warning_days': 14, 'skipped': []}
    values.update(extra)
    return values


def test_run_writes_three_files_once(tmp_path):
    directory = tmp_path / 'report'
    first = _audit.run(params(directory), False, print, now=NOW)
    assert first['changed'] and first['written'] == ['audit.json', 'audit.md', 'audit.html']
    assert first['generated_at'] == '2026-11-24T12:00:00Z'
    stamps = dict((name, os.stat(str(directory / name)).st_mtime_ns) for name in ('audit.json', 'audit.md', 'audit.html'))
    later = NOW + datetime.timedelta(hours=5)
    second = _audit.run(params(directory), False, print, now=later)
    assert not second['changed'] and second['written'] == [] and second['generated_at'] == first['generated_at']
    assert stamps == dict((name, os.stat(str(directory / name)).st_mtime_ns) for name in stamps)
    report = json.loads((directory / 'audit.json').read_text(encoding='utf-8'))
    assert report['summary']['by_status'] == {'ok': 1, 'drift': 0, 'error': 0}
    # The files are what the renderers make of the JSON on disk.
    assert (directory / 'audit.html').read_text(encoding='utf-8') == _audit.render_html(report)
    assert (directory / 'audit.md').read_text(encoding='utf-8') == _audit.render_markdown(report)
    assert sorted(os.listdir(str(directory))) == ['audit.html', 'audit.json', 'audit.md']  # no temporary file left
    assert oct(os.stat(str(directory / 'audit.json')).st_mode & 0o777) == '0o644'


def test_run_rewrites_on_change_and_a_missing_file(tmp_path):
    _audit.run(params(tmp_path), False, print, now=NOW)
    (tmp_path / 'audit.md').unlink()
    again = _audit.run(params(tmp_path), False, print, now=NOW + datetime.timedelta(hours=1))
    assert again['written'] == ['audit.md'] and again['generated_at'] == '2026-11-24T12:00:00Z'
    drift = [credential(valid=False, diagnosis={'code': 'INVALID_OR_EXPIRED'})]
    changed = _audit.run(params(tmp_path, drift), False, print, now=NOW + datetime.timedelta(hours=2))
    assert changed['changed'] and changed['written'] == ['audit.json', 'audit.md', 'audit.html']
    assert changed['generated_at'] == '2026-11-24T14:00:00Z'
    assert changed['deviations'] == [{'area': 'credentials', 'target': 'pipeline-pat @ https://dev.azure.com/fabrikam',
                                      'status': 'drift', 'finding': 'The credential does not work.'}]


def test_check_mode_writes_nothing(tmp_path):
    result = _audit.run(params(tmp_path / 'new'), True, print, now=NOW)
    assert result['changed'] and result['written'] == ['audit.json', 'audit.md', 'audit.html']
    assert not (tmp_path / 'new').exists()


def test_relative_directory_is_relative_to_the_playbook(tmp_path):
    result = _audit.run(params('audit-report'), False, print, basedir=str(tmp_path), now=NOW)
    assert result['report_dir'] == str(tmp_path / 'audit-report') and (tmp_path / 'audit-report' / 'audit.json').exists()


def test_fail_on_drift_and_error_after_writing(tmp_path):
    items = [credential(valid=False, diagnosis={'code': 'MISSING_SCOPE'}),
             credential(valid=False, diagnosis={'code': 'TLS_ERROR'})]
    failed, result = call(_audit.run, params(tmp_path, items, fail_on_drift=True), False, print)
    assert failed and result['msg'].startswith('Audit: 1 item(s) drift from the declaration; see ')
    assert (tmp_path / 'audit.html').exists() and result['summary']['by_status']['error'] == 1
    failed, result = call(_audit.run, params(tmp_path, items, fail_on_error=True), False, print)
    assert failed and '1 item(s) could not be checked' in result['msg'] and not result['changed']
    failed, result = call(_audit.run, params(tmp_path, items), False, print)
    assert not failed


def test_unwritable_directory_fails_clearly(tmp_path):
    blocker = tmp_path / 'file'
    blocker.write_text('x')
    failed, result = call(_audit.run, params(blocker / 'report'), False, print)
    assert failed and result['msg'].startswith('Cannot write the audit report')
