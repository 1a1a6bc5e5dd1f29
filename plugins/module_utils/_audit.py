# -*- coding: utf-8 -*-
# Copyright: contributors to the azdo.auth collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Logic of azdo.auth.ado_audit_report: audit items, the report, and its JSON / Markdown / HTML forms.

An audit item compares what is declared with what is real::

    {area, target, declared, actual, status: ok|drift|error, finding, remediation}

Items come either finished, or as a *check*: ``{area, target, declared, result}`` where ``result`` is
the registered result of the read-only module that looked (``ado_iis_auth`` in report-only mode,
``ado_group_membership`` with ``state: query``, ``ado_pat_check`` with ``fail_on_invalid: false``,
``ado_pat_info``, ``ado_token_info``); ``build_items`` turns checks into items (one check may give
several items). Only fields that are known to be secret-free are copied from a result.

The report and its three renderings are pure functions of their input: the same report gives the
same bytes, and ``run`` writes a file only when its content changes (``generated_at`` aside: when
nothing else changed, the previous report, time included, is kept as it is).
"""

from __future__ import annotations

import datetime
import html
import json
import math
import os
import re
import tempfile

from ansible_collections.azdo.auth.plugins.module_utils._runner import ModuleFailure

SCHEMA_VERSION = 1
STATUSES = ('ok', 'drift', 'error')
ITEM_KEYS = ('area', 'target', 'declared', 'actual', 'status', 'finding', 'remediation')
FILES = (('json', 'audit.json'), ('markdown', 'audit.md'), ('html', 'audit.html'))
DEFAULT_TITLE = 'Azure DevOps authentication audit'

# name -> (title, what is compared); the report lists areas in this order, unknown areas after them.
AREAS = (
    ('iis_auth', 'IIS authentication',
     'Authentication modes of the IIS site of each Azure DevOps Server host (azdo.auth.ado_iis_auth, report only) '
     'against its iis_auth_* variables (the azdo.auth.iis_auth baseline by default).'),
    ('group_membership', 'Collection group membership',
     'Direct memberships declared in collection_access_collections against the collection '
     '(azdo.auth.ado_group_membership, state query).'),
    ('credentials', 'Credentials',
     'Each declared credential against its collection: valid, required scopes, project '
     '(azdo.auth.ado_pat_check, fail_on_invalid false).'),
    ('pat_inventory', 'PAT inventory',
     'Personal access tokens of the organization: expired, expiring, full-scope and long-lived tokens '
     '(azdo.auth.ado_pat_info).'),
    ('stored_tokens', 'Stored token freshness',
     'Entries of token_vault_credentials in their stores: present, not expired, not about to expire '
     '(azdo.auth.ado_token_info; fingerprints and metadata only).'),
)
AREA_TITLES = dict((name, title) for name, title, dummy in AREAS)
AREA_DESCRIPTIONS = dict((name, text) for name, dummy, text in AREAS)

MODULE_SPEC = dict(
    argument_spec=dict(
        items=dict(type='list', elements='dict', required=True),
        report_dir=dict(type='path', required=True),
        fail_on_drift=dict(type='bool', default=False),
        fail_on_error=dict(type='bool', default=False),
        title=dict(type='str', default=DEFAULT_TITLE),
        expiry_warning_days=dict(type='int', default=14),
        skipped=dict(type='list', elements='dict', default=[]),
    ),
)


# ---------------------------------------------------------------------------------------------
# time


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def parse_time(value):
    """Aware UTC datetime from an ISO 8601 text (``Z``, offset, no zone or a bare date); None if not one."""
    if value in (None, ''):
        return None
    if isinstance(value, datetime.datetime):
        moment = value
    else:
        text = str(value).strip()
        if re.match(r'^\d{4}-\d{2}-\d{2}$', text):
            text += 'T00:00:00'
        text = re.sub(r'[zZ]$', '+00:00', text)
        text = re.sub(r'(\.\d{6})\d+', r'\1', text)  # .NET writes 7 digits of fractions
        try:
            moment = datetime.datetime.fromisoformat(text)
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc)


def iso(moment):
    return moment.astimezone(datetime.timezone.utc).replace(microsecond=0).strftime('%Y-%m-%dT%H:%M:%SZ')


def _iso_or_text(value):
    moment = parse_time(value)
    return iso(moment) if moment else value


# ---------------------------------------------------------------------------------------------
# items


def make_item(area, target, declared, actual, status, finding='', remediation=''):
    return {'area': area, 'target': target, 'declared': declared, 'actual': actual, 'status': status,
            'finding': finding or '', 'remediation': remediation or ''}


def _truthy(value):
    if isinstance(value, str):
        return value.strip().lower() in ('1', 'true', 'yes', 'on')
    return bool(value)


def _failure(result):
    """The failure message of a registered result, or None when it did not fail."""
    if result.get('unreachable'):
        return 'Host unreachable: %s' % (result.get('msg') or 'no connection')
    if result.get('failed'):
        return str(result.get('msg') or 'The check failed without a message.')
    return None


def _same(declared, actual):
    if isinstance(declared, bool) or isinstance(actual, bool):
        return actual is not None and _truthy(declared) == _truthy(actual)
    if isinstance(declared, (list, tuple)):
        return isinstance(actual, (list, tuple)) and [str(v).lower() for v in declared] == [str(v).lower() for v in actual]
    if isinstance(declared, str) and isinstance(actual, str):
        return declared.lower() == actual.lower()
    return declared == actual


def _show(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (list, tuple)):
        return '[%s]' % ', '.join(str(v) for v in value)
    return str(value)


IIS_SECTIONS = (
    ('windows_authentication', 'Windows'),
    ('anonymous_authentication', 'Anonymous'),
    ('basic_authentication', 'Basic'),
    ('digest_authentication', 'Digest'),
)
IIS_FINDING_SECTIONS = {
    'BASIC_AUTH_ENABLED': 'basic_authentication',
    'ANONYMOUS_ENABLED': 'anonymous_authentication',
    'WINDOWS_AUTH_DISABLED': 'windows_authentication',
    'WINDOWS_AUTH_NO_PROVIDERS': 'windows_authentication',
    'NO_NEGOTIATE_PROVIDER': 'windows_authentication',
    'EXTENDED_PROTECTION_REQUIRED_BEHIND_PROXY': 'windows_authentication',
    'DIGEST_AUTH_ENABLED': 'digest_authentication',
}
IIS_REMEDIATION = ('Converge the host with the azdo.auth.iis_auth role (playbooks/iis_auth.yml; add --check --diff to '
                   'preview), or change its iis_auth_* variables if the declaration is what is wrong.')


def iis_items(check):
    """One item per authentication section of a host: declared iis_auth_* values against ado_iis_auth's ``before``."""
    host = str(check.get('target') or '')
    result = check.get('result') or {}
    declared = check.get('declared') or {}
    if result.get('skipped'):
        return []
    failure = _failure(result)
    if failure:
        return [make_item('iis_auth', host, declared, {}, 'error', failure,
                          'Check that the host is reachable over its connection, that the connection user is a local '
                          'Administrator and that appcmd.exe exists (iis_auth_appcmd_path).')]
    before = result.get('before') or {}
    where = result.get('config_path') or host
    by_section = {}
    for finding in result.get('findings') or []:
        section = IIS_FINDING_SECTIONS.get(finding.get('code'))
        if section:
            by_section.setdefault(section, []).append(finding)
    items = []
    for section, label in IIS_SECTIONS:
        wanted = dict((key, value) for key, value in (declared.get(section) or {}).items() if value is not None)
        have = dict(before.get(section) or {})
        findings = by_section.get(section, [])
        actual = dict(have)
        if findings:
            actual['findings'] = [f.get('code') for f in findings]
        differences = ['%s is %s, declared %s' % (key, _show(have.get(key)), _show(value))
                       for key, value in sorted(wanted.items()) if not _same(value, have.get(key))]
        messages = [str(f.get('message') or f.get('code')) for f in findings]
        target = '%s: %s (%s)' % (host, where, label) if host and host != where else '%s (%s)' % (where, label)
        if differences:
            finding = '%s authentication: %s.' % (label, '; '.join(differences))
            if messages:
                finding += ' ' + ' '.join(messages)
            items.append(make_item('iis_auth', target, wanted, actual, 'drift', finding, IIS_REMEDIATION))
        else:
            finding = ('As declared, but: ' + ' '.join(messages)) if messages else ''
            items.append(make_item('iis_auth', target, wanted, actual, 'ok', finding))
    return items


PCVU_SID_SUFFIX = '-0-0-0-0-3'


def membership_items(check):
    """One item per declared membership (``declared.state`` present or absent: a direct membership)."""
    result = check.get('result') or {}
    declared = dict(check.get('declared') or {})
    declared.setdefault('state', 'present')
    target = str(check.get('target') or '%s in %s' % (declared.get('member'), declared.get('group')))
    if result.get('skipped'):
        return []
    failure = _failure(result)
    if failure:
        return [make_item('group_membership', target, declared, {}, 'error', failure,
                          'Fix the member or group name of the declaration (a UPN, DOMAIN\\name, [Scope]\\Name or a '
                          'descriptor), or the credential: reading needs vso.graph (cloud) or vso.identity (server).')]
    group = result.get('group') or {}
    member = result.get('member') or {}
    path = list(result.get('path') or [])
    actual = {'direct': bool(result.get('direct')), 'is_member': bool(result.get('is_member')), 'path': path,
              'group': group.get('name'), 'member': member.get('name'), 'api': result.get('api')}
    group_name = group.get('name') or declared.get('group')
    member_name = member.get('name') or declared.get('member')
    through = ' -> '.join(path)
    converge = ('Converge the declaration with the azdo.auth.collection_access role (playbooks/collection_access.yml), '
                'which %s the direct membership, or change the declaration.')
    if declared['state'] == 'absent':
        if actual['direct']:
            return [make_item('group_membership', target, declared, actual, 'drift',
                              '%s is a direct member of %s; declared absent.' % (member_name, group_name),
                              converge % 'removes')]
        note = ('Not a direct member, but still a member through %s.' % through) if actual['is_member'] else ''
        return [make_item('group_membership', target, declared, actual, 'ok', note)]
    if actual['direct']:
        return [make_item('group_membership', target, declared, actual, 'ok')]
    if actual['is_member']:
        finding = '%s is a member of %s only through %s, not directly as declared.' % (member_name, group_name, through)
    else:
        finding = '%s is not a member of %s.' % (member_name, group_name)
        if str(group.get('sid') or '').endswith(PCVU_SID_SUFFIX):
            finding += (' It is in no group of the collection: every request it makes gets 401 TF400813 '
                        '(NOT_COLLECTION_MEMBER).')
    return [make_item('group_membership', target, declared, actual, 'drift', finding, converge % 'adds')]


# Diagnoses that say the audit could not look, rather than that the credential is wrong.
CHECK_ERRORS = ('CONNECTION_ERROR', 'TLS_ERROR', 'SERVER_ERROR', 'RATE_LIMITED')


def credential_items(check):
    """One item per declared credential and collection, from ado_pat_check (fail_on_invalid: false)."""
    result = check.get('result') or {}
    declared = check.get('declared') or {}
    target = str(check.get('target') or '')
    if result.get('skipped'):
        return []
    failure = _failure(result)
    if failure:
        return [make_item('credentials', target, declared, {}, 'error', failure,
                          'Check the credential declaration: its url, and its pat, access_token or store entry.')]
    diagnosis = result.get('diagnosis') or {}
    user = result.get('authenticated_user') or {}
    server = result.get('server') or {}
    actual = {'valid': bool(result.get('valid')), 'diagnosis': diagnosis.get('code'),
              'user': user.get('unique_name') or user.get('display_name'),
              'deployment_type': result.get('deployment_type'), 'product': server.get('product')}
    if result.get('scopes'):
        actual['scopes'] = dict(result['scopes'])
    if diagnosis.get('error_code'):
        actual['error_code'] = diagnosis['error_code']
    if actual['valid']:
        return [make_item('credentials', target, declared, actual, 'ok')]
    status = 'error' if diagnosis.get('code') in CHECK_ERRORS else 'drift'
    return [make_item('credentials', target, declared, actual, status,
                      diagnosis.get('message') or 'The credential does not work.', diagnosis.get('remediation'))]


def _owner_name(owner):
    if isinstance(owner, dict):
        for key in ('unique_name', 'principal_name', 'mail_address', 'display_name', 'descriptor', 'id'):
            if owner.get(key):
                return str(owner[key])
        return '-'
    return str(owner) if owner else '-'


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def pat_inventory_items(check):
    """One item per personal access token listed by ado_pat_info, against the declared token policy."""
    result = check.get('result') or {}
    declared = dict(check.get('declared') or {})
    where = str(check.get('target') or '')
    if result.get('skipped'):
        return []
    failure = _failure(result)
    if failure:
        return [make_item('pat_inventory', where, declared, {}, 'error', failure,
                          'Listing personal access tokens needs a Microsoft Entra token of a user (the PAT lifecycle API '
                          'refuses PATs and service principals) or, for every user, an organization administrator '
                          '(Token Admin).')]
    expiring_days = _int_or_none(declared.get('expiring_days'))
    max_days = _int_or_none(declared.get('max_lifetime_days'))
    allow_full = _truthy(declared.get('allow_full_scope'))
    tokens = list(result.get('tokens') or [])
    if not tokens:
        return [make_item('pat_inventory', where, declared, {'tokens': 0}, 'ok', 'No personal access token.')]
    items = []
    for token in tokens:
        owner = _owner_name(token.get('owner'))
        name = token.get('display_name') or token.get('name') or token.get('authorization_id') or '-'
        valid_to = _iso_or_text(token.get('valid_to'))
        valid_from = _iso_or_text(token.get('valid_from'))
        left = _int_or_none(token.get('expires_in_days'))
        actual = {'owner': owner, 'scope': token.get('scope'), 'valid_from': valid_from, 'expires_at': valid_to,
                  'expires_in_days': left, 'is_expired': bool(token.get('is_expired')),
                  'is_full_scope': bool(token.get('is_full_scope'))}
        if token.get('is_revoked'):
            actual['is_revoked'] = True
        problems, fixes = [], []
        if actual.get('is_revoked'):
            items.append(make_item('pat_inventory', '%s: %s' % (owner, name), declared, actual, 'ok',
                                   'Token %s is revoked.' % name))
            continue
        if actual['is_expired']:
            problems.append('expired on %s' % valid_to)
            fixes.append('revoke or delete the expired token')
        elif left is not None and expiring_days is not None and left <= expiring_days:
            problems.append('expires in %d day(s), on %s' % (left, valid_to))
            fixes.append('renew it before it expires (and update every place that uses it)')
        if actual['is_full_scope'] and not allow_full:
            problems.append('full access (all scopes)')
            fixes.append('replace it with a token limited to the scopes it needs')
        lifetime = None
        start, end = parse_time(valid_from), parse_time(valid_to)
        if start and end:
            lifetime = int((end - start).total_seconds() // 86400)
        if max_days is not None:
            long_lived = (lifetime if lifetime is not None else left or 0) > max_days
        else:
            long_lived = bool(token.get('long_lived'))
        if long_lived and not actual['is_expired']:
            problems.append('long-lived (%s%s)' % ('valid %d days' % lifetime if lifetime is not None else '%s days left' % left,
                                                   ', more than %d' % max_days if max_days is not None else ''))
            fixes.append('shorten its lifetime to at most %s days' % max_days if max_days else 'shorten its lifetime')
        status = 'drift' if problems else 'ok'
        finding = ('Token %s: %s.' % (name, '; '.join(problems))) if problems else ''
        remediation = (fixes[0][0].upper() + '; '.join(fixes)[1:] + '.') if fixes else ''
        items.append(make_item('pat_inventory', '%s: %s' % (owner, name), declared, actual, status, finding, remediation))
    return items


def stored_token_items(check):
    """One item per entry listed by ado_token_info, against min_validity / max_age_days."""
    result = check.get('result') or {}
    declared_all = check.get('declared') or {}
    if result.get('skipped'):
        return []
    failure = _failure(result)
    if failure:
        return [make_item('stored_tokens', str(check.get('target') or ''), declared_all, {}, 'error', failure,
                          'Check the store settings (backend, url or path, credentials of the vault) and that the '
                          'controller can reach it.')]
    backend = (result.get('store') or {}).get('backend') or '-'
    renew = ('Run the azdo.auth.token_vault role (playbooks/rotate_tokens.yml) for it, and schedule it so it runs more '
             'often than the token lives.')
    items = []
    for token in result.get('tokens') or []:
        name = str(token.get('name'))
        declared = dict(declared_all.get(name) or {}) if isinstance(declared_all.get(name), dict) else dict(declared_all)
        target = '%s (%s)' % (name, backend)
        if not token.get('exists'):
            items.append(make_item('stored_tokens', target, declared, {'exists': False}, 'drift',
                                   'No entry %s in the %s store.' % (name, backend), renew))
            continue
        age = _int_or_none(token.get('age'))
        expires_in = _int_or_none(token.get('expires_in'))
        actual = {'exists': True, 'fingerprint': token.get('fingerprint'), 'expires_at': token.get('expires_at'),
                  'updated_at': token.get('updated_at'),
                  'age_days': age // 86400 if age is not None else None,
                  'expires_in_days': expires_in // 86400 if expires_in is not None else None,
                  'version': token.get('version'), 'labels': token.get('labels') or {},
                  'token_type': token.get('token_type'), 'scope': token.get('scope')}
        min_validity = _int_or_none(declared.get('min_validity'))
        max_age = _int_or_none(declared.get('max_age_days'))
        problems = []
        if expires_in is not None and expires_in <= 0:
            problems.append('expired at %s' % token.get('expires_at'))
        elif expires_in is not None and min_validity is not None and expires_in < min_validity:
            problems.append('close to expiry: expires at %s, within its minimum validity of %d s; the next token_vault '
                            'run renews it' % (token.get('expires_at'), min_validity))
        if max_age and age is not None and age > max_age * 86400:
            problems.append('last renewed at %s, more than %d days ago' % (token.get('updated_at'), max_age))
        if problems:
            items.append(make_item('stored_tokens', target, declared, actual, 'drift',
                                   'Entry %s: %s.' % (name, '; '.join(problems)), renew))
        else:
            items.append(make_item('stored_tokens', target, declared, actual, 'ok'))
    return items


BUILDERS = {
    'iis_auth': iis_items,
    'group_membership': membership_items,
    'credentials': credential_items,
    'pat_inventory': pat_inventory_items,
    'stored_tokens': stored_token_items,
}


def _json_safe(value):
    return json.loads(json.dumps(value, default=str))


def check_item(item):
    """A finished item, validated and reduced to the schema's keys."""
    area = item.get('area')
    if not area or not isinstance(area, str):
        raise ModuleFailure('Every audit item needs an area (a non-empty string): %s' % json.dumps(item, default=str)[:300])
    status = item.get('status')
    if status not in STATUSES:
        raise ModuleFailure('Audit item %s / %s has status %r; it must be one of %s.'
                            % (area, item.get('target'), status, ', '.join(STATUSES)))
    return make_item(area, str(item.get('target') if item.get('target') is not None else ''),
                     _json_safe(item.get('declared') if item.get('declared') is not None else {}),
                     _json_safe(item.get('actual') if item.get('actual') is not None else {}),
                     status, str(item.get('finding') or ''), str(item.get('remediation') or ''))


def build_items(entries):
    """Finished items and checks (``result`` instead of ``status``) -> the list of items."""
    items = []
    for entry in entries or []:
        if not isinstance(entry, dict):
            raise ModuleFailure('Every audit item must be a mapping, not %r.' % type(entry).__name__)
        if 'status' in entry or 'result' not in entry:
            items.append(check_item(entry))
            continue
        builder = BUILDERS.get(entry.get('area'))
        if builder is None:
            raise ModuleFailure('Audit check of area %r: only %s checks can be evaluated (give a status for other areas).'
                                % (entry.get('area'), ', '.join(sorted(BUILDERS))))
        items.extend(check_item(item) for item in builder(entry))
    return items


# ---------------------------------------------------------------------------------------------
# the report


def area_order(items):
    known = [name for name, dummy, dummy2 in AREAS]
    seen = []
    for item in items:
        if item['area'] not in seen:
            seen.append(item['area'])
    return [name for name in known if name in seen] + [name for name in seen if name not in known]


def summarize(items):
    by_status = dict((status, 0) for status in STATUSES)
    by_area = {}
    for item in items:
        by_status[item['status']] += 1
        counts = by_area.setdefault(item['area'], dict([(status, 0) for status in STATUSES] + [('total', 0)]))
        counts[item['status']] += 1
        counts['total'] += 1
    return {'total': len(items), 'by_status': by_status, 'by_area': by_area}


def build_report(items, generated_at, title=DEFAULT_TITLE, skipped=None):
    """The report: items grouped by area (in the order of AREAS), the summary, and what was not checked."""
    order = area_order(items)
    ordered = [item for area in order for item in items if item['area'] == area]
    return {
        'schema_version': SCHEMA_VERSION,
        'title': title or DEFAULT_TITLE,
        'generated_at': generated_at,
        'summary': summarize(ordered),
        'areas': [{'name': area, 'title': AREA_TITLES.get(area, area)} for area in order],
        'skipped': [{'area': str(entry.get('area') or ''), 'reason': str(entry.get('reason') or '')}
                    for entry in skipped or []],
        'items': ordered,
    }


def without_time(report):
    return dict((key, value) for key, value in report.items() if key != 'generated_at')


def render_json(report):
    return json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False) + '\n'


def summary_lines(report):
    """A short plain-text summary (what the role prints and `make audit-demo` shows)."""
    summary = report['summary']
    counts = summary['by_status']
    lines = ['%s, %s: %d checks - %s' % (report.get('title') or DEFAULT_TITLE, report.get('generated_at'),
                                         summary['total'], ', '.join('%s %d' % (s, counts.get(s, 0)) for s in STATUSES))]
    for area in report.get('areas') or []:
        by = summary['by_area'].get(area['name']) or {}
        lines.append('  %-28s %s' % (area['title'], '  '.join('%s %-3d' % (s, by.get(s, 0)) for s in STATUSES)))
    for entry in report.get('skipped') or []:
        lines.append('  %-28s not checked: %s' % (AREA_TITLES.get(entry['area'], entry['area']), entry['reason']))
    return lines


# -- shared formatting -------------------------------------------------------------------------------


def format_value(value):
    """One line of text for a declared / actual value (mappings as key: value pairs)."""
    if value is None:
        return '-'
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, dict):
        if not value:
            return '-'
        return '; '.join('%s: %s' % (key, format_value(val)) for key, val in value.items())
    if isinstance(value, (list, tuple)):
        return ', '.join(format_value(val) for val in value) if value else '[]'
    return str(value) if value != '' else '""'


def expiry_rows(report):
    """Items with a parseable ``actual.expires_at``: (seconds left at generated_at, item), soonest first."""
    now = parse_time(report.get('generated_at')) or utc_now()
    rows = []
    for item in report.get('items') or []:
        actual = item.get('actual') if isinstance(item.get('actual'), dict) else {}
        moment = parse_time(actual.get('expires_at'))
        if moment is None:
            continue
        rows.append(((moment - now).total_seconds(), item, iso(moment)))
    rows.sort(key=lambda row: (row[0], row[1]['area'], row[1]['target']))
    return rows


def describe_left(seconds):
    if seconds <= 0:
        days = int(-seconds // 86400)
        return 'expired %d d ago' % days if days else 'expired %d h ago' % int(-seconds // 3600)
    if seconds < 2 * 86400:
        return 'in %d h' % int(seconds // 3600)
    if seconds >= 730 * 86400:
        return 'in %d years' % int(seconds // (365 * 86400))
    return 'in %d d' % int(seconds // 86400)


def expiry_class(seconds, warning_days):
    if seconds <= 0:
        return 'expired'
    if seconds <= warning_days * 86400:
        return 'soon'
    return 'later'


HORIZON_DAYS = 365.0


def bar_width(seconds):
    """Width in percent on a logarithmic scale of days up to a year: a few days stay visible next to months."""
    if seconds <= 0:
        return 3.0
    days = min(seconds / 86400.0, HORIZON_DAYS)
    return round(max(1.5, 100.0 * math.log1p(days) / math.log1p(HORIZON_DAYS)), 1)


# -- Markdown ------------------------------------------------------------------------------------------


def _md(value):
    text = format_value(value) if not isinstance(value, str) else value
    text = html.escape(text, quote=False)
    return text.replace('|', '\\|').replace('`', '\\`').replace('\r', ' ').replace('\n', ' ').strip() or '-'


def render_markdown(report, warning_days=14):
    summary = report['summary']
    lines = ['# %s' % _md(report.get('title') or DEFAULT_TITLE), '',
             'Generated at %s. Read-only audit: declared state (inventory variables) against what is real. '
             'Tokens are named by fingerprint; no secret is in this report.' % _md(report.get('generated_at')), '',
             '## Summary', '',
             '**%d checks: %s**' % (summary['total'], ', '.join('%d %s' % (summary['by_status'].get(s, 0), s)
                                                                for s in STATUSES)), '',
             '| area | ok | drift | error | total |', '| --- | ---: | ---: | ---: | ---: |']
    for area in report.get('areas') or []:
        by = summary['by_area'].get(area['name']) or {}
        lines.append('| %s | %d | %d | %d | %d |' % (_md(area['title']), by.get('ok', 0), by.get('drift', 0),
                                                     by.get('error', 0), by.get('total', 0)))
    lines.append('| **all** | %d | %d | %d | %d |' % (summary['by_status'].get('ok', 0), summary['by_status'].get('drift', 0),
                                                      summary['by_status'].get('error', 0), summary['total']))
    if report.get('skipped'):
        lines += ['', 'Not checked:', '']
        lines += ['- %s: %s' % (_md(AREA_TITLES.get(entry['area'], entry['area'])), _md(entry['reason']))
                  for entry in report['skipped']]
    rows = expiry_rows(report)
    if rows:
        lines += ['', '## Expiry', '', 'Soonest first; relative to the time of the report.', '',
                  '| expires at | when | status | area | target |', '| --- | --- | --- | --- | --- |']
        for seconds, item, moment in rows:
            marker = {'expired': '**EXPIRED**', 'soon': '**SOON**'}.get(expiry_class(seconds, warning_days), '')
            lines.append('| %s | %s %s | %s | %s | %s |' % (moment, describe_left(seconds), marker, item['status'],
                                                            _md(AREA_TITLES.get(item['area'], item['area'])),
                                                            _md(item['target'])))
    for area in report.get('areas') or []:
        lines += ['', '## %s' % _md(area['title']), '']
        if area['name'] in AREA_DESCRIPTIONS:
            lines += [_md(AREA_DESCRIPTIONS[area['name']]), '']
        lines += ['| status | target | declared | actual | finding | remediation |',
                  '| --- | --- | --- | --- | --- | --- |']
        for item in report['items']:
            if item['area'] != area['name']:
                continue
            status = item['status'] if item['status'] == 'ok' else '**%s**' % item['status']
            lines.append('| %s | %s | %s | %s | %s | %s |' % (status, _md(item['target']), _md(item['declared']),
                                                              _md(item['actual']), _md(item['finding']),
                                                              _md(item['remediation'])))
    return '\n'.join(lines) + '\n'


# -- HTML ----------------------------------------------------------------------------------------------


def _h(value):
    return html.escape(value if isinstance(value, str) else format_value(value), quote=True)


CSS = """
:root { --ok: #2e7d32; --drift: #c2410c; --error: #b91c1c; --soon: #d97706; --later: #2e7d32;
        --expired: #b91c1c; --ink: #1f2933; --muted: #52606d; --line: #d9e2ec; --bg: #f5f7fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: var(--ink); background: var(--bg); }
header, main, footer { max-width: 1240px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 24px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 0 0 12px; }
.meta, .desc, footer { color: var(--muted); }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 18px 20px; margin: 18px 0; }
.tiles { display: flex; gap: 12px; flex-wrap: wrap; margin-bottom: 16px; }
.tile { flex: 1 1 160px; border-radius: 8px; padding: 12px 16px; color: #fff; }
.tile .count { display: block; font-size: 30px; font-weight: 700; line-height: 1.1; }
.tile .label { text-transform: uppercase; letter-spacing: .06em; font-size: 12px; }
.tile.total { background: #334e68; } .tile.ok { background: var(--ok); }
.tile.drift { background: var(--drift); } .tile.error { background: var(--error); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 6px 8px; border-bottom: 1px solid var(--line); }
th { background: #f0f4f8; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding-bottom: 6px; }
table.items { table-layout: fixed; }
table.items col.status { width: 70px; } table.items col.target { width: 17%; } table.items col.declared { width: 15%; }
table.items col.actual { width: 22%; } table.items col.finding { width: 25%; }
table.items td { overflow-wrap: anywhere; }
table.items td.kv { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
tr.status-drift td:first-child { box-shadow: inset 4px 0 0 var(--drift); }
tr.status-error td:first-child { box-shadow: inset 4px 0 0 var(--error); }
.pill { display: inline-block; border-radius: 999px; padding: 1px 9px; color: #fff; font-size: 12px; font-weight: 600; }
.pill.ok { background: var(--ok); } .pill.drift { background: var(--drift); } .pill.error { background: var(--error); }
.zero { color: #9aa5b1; }
.timeline { display: grid; grid-template-columns: minmax(180px, 32%) 1fr 190px; gap: 6px 12px; align-items: center; }
.timeline .name { overflow-wrap: anywhere; }
.track { position: relative; height: 16px; background: #eef2f6; border-radius: 4px; overflow: hidden; }
.bar { height: 100%; border-radius: 4px; }
.track.expired { background: repeating-linear-gradient(45deg, #fde8e8, #fde8e8 6px, #f8c9c9 6px, #f8c9c9 12px); }
.bar.expired { background: var(--expired); }
.bar.soon { background: var(--soon); } .bar.later { background: var(--later); opacity: .75; }
.when { font-variant-numeric: tabular-nums; }
.when.expired, .when.soon { font-weight: 700; } .when.expired { color: var(--expired); } .when.soon { color: var(--soon); }
.scale { position: relative; height: 18px; font-size: 11px; color: var(--muted); }
.scale span { position: absolute; transform: translateX(-50%); white-space: nowrap; }
.legend span { margin-right: 14px; } .legend i { display: inline-block; width: 12px; height: 12px; border-radius: 3px;
  vertical-align: -1px; margin-right: 4px; }
ul.skipped { margin: 8px 0 0; padding-left: 18px; color: var(--muted); }
@media print { body { background: #fff; } section { break-inside: avoid; border: none; } }
"""

TICKS = ((0, 'now'), (7, '7 d'), (30, '30 d'), (90, '90 d'), (365, '1 year'))


def _html_timeline(report, warning_days):
    rows = expiry_rows(report)
    if not rows:
        return []
    out = ['<section id="expiry" aria-labelledby="expiry-heading">',
           '<h2 id="expiry-heading">Expiry timeline</h2>',
           '<p class="desc">Credentials and stored tokens with a known expiry, soonest first. Bars grow with the time '
           'left (logarithmic scale up to a year); expired ones have a hatched red track, soon-to-expire ones (within %d '
           'days) an orange bar.</p>'
           % warning_days,
           '<p class="legend"><span><i style="background:var(--expired)"></i>expired</span>'
           '<span><i style="background:var(--soon)"></i>expires within %d days</span>'
           '<span><i style="background:var(--later)"></i>later</span></p>' % warning_days,
           '<div class="timeline">', '<div></div><div class="scale">']
    for days, label in TICKS:
        position = 0.0 if not days else round(100.0 * math.log1p(days) / math.log1p(HORIZON_DAYS), 1)
        out.append('<span style="left:%s%%">%s</span>' % (min(max(position, 2.0), 96.0), _h(label)))
    out.append('</div><div></div>')
    for seconds, item, moment in rows:
        css = expiry_class(seconds, warning_days)
        out.append('<div class="name">%s<br><small class="meta">%s &middot; %s</small></div>'
                   % (_h(item['target']), _h(AREA_TITLES.get(item['area'], item['area'])), _h(item['status'])))
        out.append('<div class="track %s" title="%s"><div class="bar %s" style="width:%s%%"></div></div>'
                   % (css, _h(moment), css, bar_width(seconds)))
        out.append('<div class="when %s">%s<br><small class="meta">%s</small></div>'
                   % (css, _h(describe_left(seconds)), _h(moment)))
    out += ['</div>', '</section>']
    return out


def render_html(report, warning_days=14):
    """A self-contained page: inline CSS, no script, no external asset; every value HTML-escaped."""
    summary = report['summary']
    title = report.get('title') or DEFAULT_TITLE
    out = ['<!DOCTYPE html>', '<html lang="en">', '<head>', '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           '<meta name="generator" content="azdo.auth.ado_audit_report">',
           '<title>%s</title>' % _h(title), '<style>%s</style>' % CSS, '</head>', '<body>',
           '<header><h1>%s</h1><p class="meta">Generated at %s &middot; %d checks &middot; read-only audit of the declared '
           'state (inventory variables) against what is real. Tokens are named by fingerprint; no secret is in this '
           'report.</p></header>' % (_h(title), _h(report.get('generated_at')), summary['total']),
           '<main>', '<section id="summary" aria-labelledby="summary-heading">',
           '<h2 id="summary-heading">Summary</h2>', '<div class="tiles">',
           '<div class="tile total"><span class="count">%d</span><span class="label">checks</span></div>' % summary['total']]
    for status in STATUSES:
        out.append('<div class="tile %s"><span class="count">%d</span><span class="label">%s</span></div>'
                   % (status, summary['by_status'].get(status, 0), status))
    out += ['</div>', '<table class="summary" id="summary-by-area">', '<caption>Checks by area</caption>',
            '<thead><tr><th>area</th><th class="num">ok</th><th class="num">drift</th><th class="num">error</th>'
            '<th class="num">total</th></tr></thead>', '<tbody>']
    for area in report.get('areas') or []:
        by = summary['by_area'].get(area['name']) or {}
        cells = ''.join('<td class="num%s">%d</td>' % ('' if by.get(s, 0) else ' zero', by.get(s, 0)) for s in STATUSES)
        out.append('<tr><td><a href="#area-%s">%s</a></td>%s<td class="num">%d</td></tr>'
                   % (_h(area['name']), _h(area['title']), cells, by.get('total', 0)))
    out += ['</tbody>', '<tfoot><tr><th>all areas</th>%s<th class="num">%d</th></tr></tfoot>'
            % (''.join('<th class="num">%d</th>' % summary['by_status'].get(s, 0) for s in STATUSES), summary['total']),
            '</table>']
    if report.get('skipped'):
        out.append('<ul class="skipped">')
        out += ['<li>%s: not checked - %s</li>' % (_h(AREA_TITLES.get(entry['area'], entry['area'])), _h(entry['reason']))
                for entry in report['skipped']]
        out.append('</ul>')
    out.append('</section>')
    out += _html_timeline(report, warning_days)
    for area in report.get('areas') or []:
        name = area['name']
        by = summary['by_area'].get(name) or {}
        out += ['<section id="area-%s" class="area" aria-labelledby="heading-%s">' % (_h(name), _h(name)),
                '<h2 id="heading-%s">%s</h2>' % (_h(name), _h(area['title']))]
        if name in AREA_DESCRIPTIONS:
            out.append('<p class="desc">%s</p>' % _h(AREA_DESCRIPTIONS[name]))
        out += ['<table class="items" id="table-%s">' % _h(name),
                '<caption>%s: %s</caption>' % (_h(area['title']), _h(', '.join('%d %s' % (by.get(s, 0), s) for s in STATUSES))),
                '<colgroup><col class="status"><col class="target"><col class="declared"><col class="actual">'
                '<col class="finding"><col class="remediation"></colgroup>',
                '<thead><tr><th>status</th><th>target</th><th>declared</th><th>actual</th><th>finding</th>'
                '<th>remediation</th></tr></thead>', '<tbody>']
        for item in report['items']:
            if item['area'] != name:
                continue
            out.append('<tr class="status-%s"><td><span class="pill %s">%s</span></td><td>%s</td><td class="kv">%s</td>'
                       '<td class="kv">%s</td><td>%s</td><td>%s</td></tr>'
                       % (_h(item['status']), _h(item['status']), _h(item['status']), _h(item['target']),
                          _h(item['declared']), _h(item['actual']), _h(item['finding'] or ''),
                          _h(item['remediation'] or '')))
        out += ['</tbody>', '</table>', '</section>']
    out += ['</main>', '<footer><p>Written by azdo.auth.ado_audit_report, schema version %d (docs/audit-report.md of the '
            'collection). The same report always renders to the same bytes.</p></footer>' % SCHEMA_VERSION,
            '</body>', '</html>']
    return '\n'.join(out) + '\n'


# ---------------------------------------------------------------------------------------------
# files


def _read(path):
    try:
        with open(path, 'rb') as handle:
            return handle.read()
    except OSError:  # missing, a directory, not readable: treated as absent (the write then says why it fails)
        return None


def previous_time(directory, report):
    """generated_at of the report on disk when everything else is the same, else None."""
    data = _read(os.path.join(directory, 'audit.json'))
    if data is None:
        return None
    try:
        old = json.loads(data.decode('utf-8'))
    except ValueError:
        return None
    if not isinstance(old, dict) or not old.get('generated_at'):
        return None
    if without_time(old) != _json_safe(without_time(report)):
        return None
    return old['generated_at']


def write_atomic(path, data, mode=0o644):
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), suffix='.tmp', dir=directory)
    try:
        with os.fdopen(fd, 'wb') as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def run(params, check_mode, warn, basedir=None, now=None):
    """Build the report from the items, write the files that change, fail on drift / error if asked."""
    directory = os.path.expanduser(params['report_dir'])
    if not os.path.isabs(directory) and basedir:
        directory = os.path.join(basedir, directory)
    directory = os.path.abspath(directory)
    warning_days = params.get('expiry_warning_days')
    warning_days = 14 if warning_days is None else warning_days
    items = build_items(params['items'])
    report = build_report(items, None, params.get('title'), params.get('skipped'))
    report['generated_at'] = previous_time(directory, report) or iso(now or utc_now())
    # The report as audit.json holds it (sorted keys): the other two renderings are the same from the file.
    report = json.loads(render_json(report))
    contents = {'json': render_json(report), 'markdown': render_markdown(report, warning_days),
                'html': render_html(report, warning_days)}
    files, written = {}, []
    for kind, filename in FILES:
        path = os.path.join(directory, filename)
        files[kind] = path
        data = contents[kind].encode('utf-8')
        if _read(path) != data:
            written.append(filename)
            if not check_mode:
                try:
                    os.makedirs(directory, exist_ok=True)
                    write_atomic(path, data)
                except OSError as exc:
                    raise ModuleFailure('Cannot write the audit report %s: %s.' % (path, exc.strerror or exc),
                                        files=files, summary=report['summary'])
    deviations = [dict((key, item[key]) for key in ('area', 'target', 'status', 'finding'))
                  for item in report['items'] if item['status'] != 'ok']
    result = {'changed': bool(written), 'report_dir': directory, 'files': files, 'written': written,
              'generated_at': report['generated_at'], 'summary': report['summary'],
              'summary_lines': summary_lines(report), 'deviations': deviations}
    counts = report['summary']['by_status']
    reasons = []
    if params.get('fail_on_drift') and counts['drift']:
        reasons.append('%d item(s) drift from the declaration' % counts['drift'])
    if params.get('fail_on_error') and counts['error']:
        reasons.append('%d item(s) could not be checked' % counts['error'])
    if reasons:
        raise ModuleFailure('Audit: %s; see %s.' % (' and '.join(reasons), files['html']), **result)
    return result
