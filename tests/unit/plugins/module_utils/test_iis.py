# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The IIS authentication model: parse appcmd XML, diff, policy, findings and command rendering per shell."""

from __future__ import annotations

import base64
import re
import shlex
import subprocess

import pytest

from ansible_collections.azdo.auth.plugins.module_utils import _iis

WINDOWS = 'system.webServer/security/authentication/windowsAuthentication'


def config_xml(section, element_attrs='', children='', locked='false', path='MACHINE/WEBROOT/APPHOST/Azure DevOps Server/tfs'):
    """appcmd ``list config ... /xml`` output as IIS 10 prints it (CRLF, 4-space indentation)."""
    tag = section.replace('/', '-')
    body = '        <%s%s />' % (tag, element_attrs) if not children else (
        '        <%s%s>\r\n%s\r\n        </%s>' % (tag, element_attrs, children, tag))
    return ('<?xml version="1.0" encoding="UTF-8"?>\r\n<appcmd>\r\n'
            '    <CONFIG CONFIG.SECTION="%s" path="%s" overrideMode="Inherit" locked="%s">\r\n%s\r\n    </CONFIG>\r\n</appcmd>\r\n'
            % (section, path, locked, body))


WINDOWS_FULL = config_xml(
    WINDOWS, ' enabled="true" authPersistNonNTLM="true" authPersistSingleRequest="false" useKernelMode="true" '
             'useAppPoolCredentials="false"',
    '            <extendedProtection tokenChecking="None" flags="None" />\r\n'
    '            <providers>\r\n                <add value="Negotiate" />\r\n                <add value="NTLM" />\r\n'
    '            </providers>')

SITE_XML = '''<?xml version="1.0" encoding="UTF-8"?>
<appcmd>
    <SITE SITE.NAME="Azure DevOps Server" SITE.ID="2" bindings="http/*:80:" state="Started">
        <site name="Azure DevOps Server" id="2">
            <application path="/" applicationPool="Azure DevOps Server">
                <virtualDirectory path="/" physicalPath="C:\\ADO\\Web Services" />
                <virtualDirectory path="/docs" physicalPath="C:\\docs" userName="svc" password="s3cret" />
            </application>
            <application path="/tfs" applicationPool="Azure DevOps Server">
                <virtualDirectory path="/" physicalPath="C:\\ADO\\Web Services" />
                <virtualDirectory path="/_static" physicalPath="C:\\static" />
            </application>
        </site>
    </SITE>
</appcmd>
'''


def state(windows=None, anonymous=False, basic=False, digest=False):
    windows_state = {'enabled': True, 'providers': ['Negotiate', 'NTLM'], 'use_kernel_mode': True,
                     'use_app_pool_credentials': False, 'extended_protection': 'None', 'extended_protection_flags': 'None'}
    windows_state.update(windows or {})
    return {'windows_authentication': windows_state, 'anonymous_authentication': {'enabled': anonymous},
            'basic_authentication': {'enabled': basic, 'default_logon_domain': '', 'realm': ''},
            'digest_authentication': {'enabled': digest}}


# ---------------------------------------------------------------------------------------------
# Parsing


def test_parse_windows_section_with_defaults_shown():
    parsed, meta = _iis.parse_section(WINDOWS_FULL, 'windows_authentication')
    assert parsed == {'enabled': True, 'use_kernel_mode': True, 'use_app_pool_credentials': False,
                      'extended_protection': 'None', 'extended_protection_flags': 'None', 'providers': ['Negotiate', 'NTLM']}
    assert meta == {'path': 'MACHINE/WEBROOT/APPHOST/Azure DevOps Server/tfs', 'override_mode': 'Inherit', 'locked': False}


def test_parse_keeps_provider_order_and_reads_extended_protection():
    text = config_xml(WINDOWS, ' enabled="True" useKernelMode="False" useAppPoolCredentials="True"',
                      '            <extendedProtection tokenChecking="require" flags="Proxy,NoServiceNameCheck">\r\n'
                      '                <spn name="HTTP/ado.example.com" />\r\n            </extendedProtection>\r\n'
                      '            <providers>\r\n                <add value="NTLM" />\r\n'
                      '                <add value="Negotiate:Kerberos" />\r\n                <add value="Negotiate" />\r\n'
                      '            </providers>', locked='true')
    parsed, meta = _iis.parse_section(text, 'windows_authentication')
    assert parsed['providers'] == ['NTLM', 'Negotiate:Kerberos', 'Negotiate']
    assert parsed['enabled'] is True and parsed['use_kernel_mode'] is False and parsed['use_app_pool_credentials'] is True
    assert parsed['extended_protection'] == 'Require'
    assert parsed['extended_protection_flags'] == 'Proxy,NoServiceNameCheck'
    assert meta['locked'] is True


def test_parse_applies_schema_defaults_when_attributes_are_missing():
    """Output without /config:* shows only what is set; the parser fills in the IIS schema defaults."""
    parsed, dummy = _iis.parse_section(config_xml(WINDOWS), 'windows_authentication')
    assert parsed == {'enabled': False, 'use_kernel_mode': True, 'use_app_pool_credentials': False,
                      'extended_protection': 'None', 'extended_protection_flags': 'None', 'providers': []}
    anonymous, dummy = _iis.parse_section(config_xml(_iis.SECTION_ROOT + 'anonymousAuthentication'), 'anonymous_authentication')
    assert anonymous == {'enabled': True}
    basic, dummy = _iis.parse_section(config_xml(_iis.SECTION_ROOT + 'basicAuthentication'), 'basic_authentication')
    assert basic == {'enabled': False, 'default_logon_domain': '', 'realm': ''}
    digest, dummy = _iis.parse_section(config_xml(_iis.SECTION_ROOT + 'digestAuthentication'), 'digest_authentication')
    assert digest == {'enabled': False}


@pytest.mark.parametrize('key, section, attrs, expected', [
    ('anonymous_authentication', 'anonymousAuthentication', ' enabled="true" userName="IUSR" password="x" logonMethod="ClearText"',
     {'enabled': True}),
    ('basic_authentication', 'basicAuthentication', ' enabled="true" realm="ADO" defaultLogonDomain="CONTOSO" logonMethod="ClearText"',
     {'enabled': True, 'default_logon_domain': 'CONTOSO', 'realm': 'ADO'}),
    ('digest_authentication', 'digestAuthentication', ' enabled="false" realm="r"', {'enabled': False}),
])
def test_parse_each_other_section(key, section, attrs, expected):
    parsed, dummy = _iis.parse_section(config_xml(_iis.SECTION_ROOT + section, attrs), key)
    assert parsed == expected


def test_parse_tolerates_noise_before_the_xml_declaration():
    parsed, dummy = _iis.parse_section('#< CLIXML\r\n' + WINDOWS_FULL, 'windows_authentication')
    assert parsed['providers'] == ['Negotiate', 'NTLM']


@pytest.mark.parametrize('text, expected', [
    ('', 'printed no XML'),
    ('<?xml version="1.0"?><appcmd><CONFIG', 'cannot be parsed'),
    ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><appcmd/>', 'DTD'),
    ('<?xml version="1.0"?><other/>', 'no <appcmd> root'),
    ('<?xml version="1.0"?><appcmd></appcmd>', 'no CONFIG element'),
    (config_xml(WINDOWS, ' enabled="maybe"'), 'not a boolean'),
])
def test_parse_rejects_unexpected_output(text, expected):
    with pytest.raises(_iis.IisError) as caught:
        _iis.parse_section(text, 'windows_authentication')
    assert caught.value.kind == 'UNEXPECTED_OUTPUT'
    assert expected in caught.value.msg


def test_site_paths_lists_applications_and_virtual_directories():
    paths = _iis.parse_site_paths(SITE_XML, 'azure devops server')
    assert paths == ['/', '/docs', '/tfs', '/tfs/_static']
    assert _iis.path_exists(paths, '') and _iis.path_exists(paths, 'TFS') and _iis.path_exists(paths, 'tfs/_static')
    assert not _iis.path_exists(paths, 'tfs/_apis')


def test_site_missing_from_the_listing():
    with pytest.raises(_iis.IisError) as caught:
        _iis.parse_site_paths(SITE_XML, 'Team Foundation Server')
    assert caught.value.kind == 'SITE_NOT_FOUND'


def test_quoted_output_masks_passwords():
    assert 's3cret' not in _iis.quote_output(SITE_XML)
    assert _iis.quote_output('') == '(no output)'
    assert _iis.quote_output('x' * 5000).endswith('[...]"')


# ---------------------------------------------------------------------------------------------
# Input


@pytest.mark.parametrize('path, expected', [('', ''), ('/', ''), ('/tfs/', 'tfs'), ('tfs\\_static', 'tfs/_static'), (None, '')])
def test_normalize_path(path, expected):
    assert _iis.normalize_path(path) == expected


@pytest.mark.parametrize('bad', ['../x', 'tfs/..', 'a"b', 'a%windir%'])
def test_normalize_path_rejects(bad):
    with pytest.raises(_iis.IisError):
        _iis.normalize_path(bad)


@pytest.mark.parametrize('bad', ['', '  ', 'Site/tfs', 'Site\\x', 'My "Site"'])
def test_validate_site_rejects(bad):
    with pytest.raises(_iis.IisError) as caught:
        _iis.validate_site(bad)
    assert caught.value.kind == 'INVALID_ARGUMENT'


def test_desired_state_keeps_only_declared_settings():
    params = {'windows_authentication': {'enabled': True, 'providers': [' Negotiate', 'NTLM'], 'use_kernel_mode': None,
                                         'use_app_pool_credentials': None, 'extended_protection': None},
              'anonymous_authentication': None, 'basic_authentication': {'enabled': None, 'realm': 'ADO', 'default_logon_domain': None},
              'digest_authentication': {'enabled': None}}
    assert _iis.desired_state(params) == {'windows_authentication': {'enabled': True, 'providers': ['Negotiate', 'NTLM']},
                                          'basic_authentication': {'realm': 'ADO'}}
    assert _iis.desired_state({}) == {}


@pytest.mark.parametrize('providers, expected', [
    (['Negotiate', 'negotiate'], 'listed twice'),
    (["NTLM']"], 'not a provider name'),
    (['NT LM'], 'not a provider name'),
])
def test_providers_validation(providers, expected):
    with pytest.raises(_iis.IisError) as caught:
        _iis.validate_providers(providers)
    assert expected in caught.value.msg


@pytest.mark.parametrize('value', ['a"b', '100%', 'line\nbreak', 'DOMAIN\\'])
def test_strings_no_shell_can_pass_are_refused(value):
    with pytest.raises(_iis.IisError):
        _iis.desired_state({'basic_authentication': {'realm': value}})


# ---------------------------------------------------------------------------------------------
# Diff


@pytest.mark.parametrize('have, want, ops, after', [
    (['Negotiate', 'NTLM'], ['Negotiate', 'NTLM'], [], ['Negotiate', 'NTLM']),
    (['Negotiate', 'NTLM'], ['negotiate', 'ntlm'], [], ['Negotiate', 'NTLM']),
    (['Negotiate', 'NTLM'], ['NTLM', 'Negotiate'],
     [('-', 'Negotiate'), ('-', 'NTLM'), ('+', 'NTLM'), ('+', 'Negotiate')], ['NTLM', 'Negotiate']),
    (['NTLM'], ['Negotiate', 'NTLM'], [('-', 'NTLM'), ('+', 'Negotiate'), ('+', 'NTLM')], ['Negotiate', 'NTLM']),
    (['Negotiate'], ['Negotiate', 'NTLM'], [('+', 'NTLM')], ['Negotiate', 'NTLM']),
    (['Negotiate', 'NTLM', 'Negotiate:Kerberos'], ['Negotiate', 'NTLM'], [('-', 'Negotiate:Kerberos')], ['Negotiate', 'NTLM']),
    ([], ['Negotiate', 'NTLM'], [('+', 'Negotiate'), ('+', 'NTLM')], ['Negotiate', 'NTLM']),
    (['Negotiate', 'NTLM'], [], [('-', 'Negotiate'), ('-', 'NTLM')], []),
])
def test_provider_plan_enforces_the_order(have, want, ops, after):
    section_after, changes, provider_ops = _iis.plan_section('windows_authentication', state({'providers': have})['windows_authentication'],
                                                             {'providers': want})
    assert provider_ops == ops
    assert changes == []
    assert section_after['providers'] == after


def test_windows_attribute_plan():
    current = state({'enabled': False})['windows_authentication']
    after, changes, ops = _iis.plan_section('windows_authentication', current, {
        'enabled': True, 'use_kernel_mode': True, 'use_app_pool_credentials': True, 'extended_protection': 'Require'})
    assert changes == [('enabled', True), ('useAppPoolCredentials', True), ('extendedProtection.tokenChecking', 'Require')]
    assert ops == []
    assert after['enabled'] is True and after['extended_protection'] == 'Require'


def test_token_checking_compares_case_insensitively():
    current = state({'extended_protection': 'Allow'})['windows_authentication']
    dummy, changes, dummy_ops = _iis.plan_section('windows_authentication', current, {'extended_protection': 'allow'})
    assert changes == []


@pytest.mark.parametrize('key, current, wanted, changes', [
    ('anonymous_authentication', {'enabled': True}, {'enabled': False}, [('enabled', False)]),
    ('anonymous_authentication', {'enabled': False}, {'enabled': False}, []),
    ('basic_authentication', {'enabled': True, 'default_logon_domain': '', 'realm': ''},
     {'enabled': False, 'default_logon_domain': 'CONTOSO', 'realm': ''}, [('enabled', False), ('defaultLogonDomain', 'CONTOSO')]),
    ('digest_authentication', {'enabled': True}, {'enabled': False}, [('enabled', False)]),
])
def test_other_sections_plan(key, current, wanted, changes):
    dummy, planned, ops = _iis.plan_section(key, current, wanted)
    assert planned == changes and ops == []


def test_plan_of_a_broken_site_to_the_baseline():
    before = state({'enabled': False, 'providers': ['NTLM']}, anonymous=True, basic=True, digest=True)
    desired = {'windows_authentication': {'enabled': True, 'providers': ['Negotiate', 'NTLM']},
               'anonymous_authentication': {'enabled': False}, 'basic_authentication': {'enabled': False},
               'digest_authentication': {'enabled': False}}
    after, changes = _iis.plan(before, desired)
    assert after == state()
    assert list(changes) == ['windows_authentication', 'anonymous_authentication', 'basic_authentication', 'digest_authentication']
    assert _iis.plan(after, desired)[1] == {}


# ---------------------------------------------------------------------------------------------
# Policy and findings


@pytest.mark.parametrize('desired, fragment', [
    ({'basic_authentication': {'enabled': True}}, 'personal access token'),
    ({'anonymous_authentication': {'enabled': True}}, 'unauthenticated request'),
    ({'windows_authentication': {'enabled': False}}, 'locked out'),
    ({'windows_authentication': {'providers': []}}, 'at least one provider'),
])
def test_policy_refuses_the_known_bad_states(desired, fragment):
    after, dummy = _iis.plan(state(), desired)
    reasons = _iis.policy_violations(desired, after, '"Azure DevOps Server/tfs"')
    assert len(reasons) == 1
    assert fragment in reasons[0]
    assert '"Azure DevOps Server/tfs"' in reasons[0]


def test_policy_allows_the_baseline_and_turning_bad_things_off():
    desired = {'windows_authentication': {'enabled': True, 'providers': ['Negotiate', 'NTLM']},
               'anonymous_authentication': {'enabled': False}, 'basic_authentication': {'enabled': False},
               'digest_authentication': {'enabled': True}}
    after, dummy = _iis.plan(state(basic=True, anonymous=True), desired)
    assert _iis.policy_violations(desired, after, 'x') == []
    # An empty provider list on a disabled Windows authentication is that setting's own refusal, not a second one.
    disabled = {'windows_authentication': {'enabled': False, 'providers': []}}
    assert len(_iis.policy_violations(disabled, _iis.plan(state(), disabled)[0], 'x')) == 1


@pytest.mark.parametrize('current, codes', [
    (state(), []),
    (state(basic=True), ['BASIC_AUTH_ENABLED']),
    (state(anonymous=True), ['ANONYMOUS_ENABLED']),
    (state({'enabled': False}), ['WINDOWS_AUTH_DISABLED']),
    (state({'providers': []}), ['WINDOWS_AUTH_NO_PROVIDERS']),
    (state({'providers': ['NTLM']}), ['NO_NEGOTIATE_PROVIDER']),
    (state({'providers': ['Negotiate:Kerberos']}), []),
    (state({'extended_protection': 'Require', 'extended_protection_flags': 'Proxy'}), ['EXTENDED_PROTECTION_REQUIRED_BEHIND_PROXY']),
    (state({'extended_protection': 'Require', 'extended_protection_flags': 'Proxy, ProxyCohosting'}),
     ['EXTENDED_PROTECTION_REQUIRED_BEHIND_PROXY']),
    (state({'extended_protection': 'Require', 'extended_protection_flags': 'None'}), []),
    (state({'extended_protection': 'Allow', 'extended_protection_flags': 'Proxy'}), []),
    (state(digest=True), ['DIGEST_AUTH_ENABLED']),
    (state({'enabled': False, 'providers': ['NTLM']}, anonymous=True, basic=True, digest=True),
     ['BASIC_AUTH_ENABLED', 'ANONYMOUS_ENABLED', 'WINDOWS_AUTH_DISABLED', 'DIGEST_AUTH_ENABLED']),
])
def test_findings(current, codes):
    found = _iis.findings(current, '"Azure DevOps Server"')
    assert [finding['code'] for finding in found] == codes
    for finding in found:
        assert set(finding) == {'code', 'severity', 'message'}
        assert finding['severity'] == _iis.FINDINGS[finding['code']]
        assert '"Azure DevOps Server"' in finding['message']


# ---------------------------------------------------------------------------------------------
# Command lines


def test_read_and_write_arguments():
    assert _iis.read_site_args('Azure DevOps Server') == ['list', 'site', 'Azure DevOps Server', '/config:*', '/xml']
    assert _iis.read_section_args('Azure DevOps Server/tfs', 'basic_authentication') == [
        'list', 'config', 'Azure DevOps Server/tfs', '/section:system.webServer/security/authentication/basicAuthentication',
        '/config:*', '/xml']
    writes = _iis.write_args('Azure DevOps Server/tfs', 'windows_authentication',
                             [('enabled', True), ('extendedProtection.tokenChecking', 'Allow')], [('-', 'NTLM'), ('+', 'NTLM')])
    section = '/section:' + WINDOWS
    assert writes == [
        ['set', 'config', 'Azure DevOps Server/tfs', section, "/-providers.[value='NTLM']", '/commit:apphost'],
        ['set', 'config', 'Azure DevOps Server/tfs', section, "/+providers.[value='NTLM']", '/commit:apphost'],
        ['set', 'config', 'Azure DevOps Server/tfs', section, '/enabled:true', '/extendedProtection.tokenChecking:Allow',
         '/commit:apphost'],
    ]
    assert _iis.write_args('Site', 'basic_authentication', [('realm', 'My Realm')], []) == [
        ['set', 'config', 'Site', '/section:system.webServer/security/authentication/basicAuthentication', '/realm:My Realm',
         '/commit:apphost']]


ARGS = ['set', 'config', 'Azure DevOps Server/tfs', '/section:' + WINDOWS, "/+providers.[value='NTLM']", '/realm:It\'s mine',
        '/config:*', '/commit:apphost']


def test_render_cmd():
    line = _iis.render_command(_iis.DEFAULT_APPCMD, ARGS, 'cmd')
    assert line == ('%windir%\\system32\\inetsrv\\appcmd.exe set config "Azure DevOps Server/tfs" /section:' + WINDOWS
                    + " /+providers.[value='NTLM'] \"/realm:It's mine\" /config:* /commit:apphost")
    # The program's arguments as the C runtime of appcmd.exe splits them (CommandLineToArgvW rules).
    assert windows_argv(line)[1:] == ARGS
    # A program path with spaces is quoted, but the line must not start with a quote (cmd /c would strip it).
    quoted = _iis.render_command('C:\\Program Files\\IIS\\appcmd.exe', ['list', 'site'], 'cmd')
    assert quoted == 'call "C:\\Program Files\\IIS\\appcmd.exe" list site'


def test_render_powershell():
    script = _iis.render_command(_iis.DEFAULT_APPCMD, ARGS, 'powershell')
    lines = script.split('\n')
    assert lines[0] == '$appcmd = "${env:windir}\\system32\\inetsrv\\appcmd.exe"'
    assert 'Test-Path -LiteralPath $appcmd' in lines[1]
    assert 'exit 9009' in script
    assert lines[-2] == ("& $appcmd 'set' 'config' 'Azure DevOps Server/tfs' '/section:%s' '/+providers.[value=''NTLM'']' "
                         "'/realm:It''s mine' '/config:*' '/commit:apphost'" % WINDOWS)
    assert lines[-1] == 'exit $LASTEXITCODE'
    assert powershell_single_quoted(lines[-2]) == ARGS


def test_render_powershell_escapes_the_program_path():
    script = _iis.render_command('%ProgramFiles(x86)%\\a$b`c\u2019d\\appcmd.exe', ['list', 'site'], 'powershell')
    assert script.split('\n', maxsplit=1)[0] == '$appcmd = "${env:ProgramFiles(x86)}\\a`$b``c\u2019d\\appcmd.exe"'
    assert "'\u2019'" not in _iis.render_command('x', ['it\u2019s'], 'powershell')
    assert "'it\u2019\u2019s'" in _iis.render_command('x', ['it\u2019s'], 'powershell')


def test_render_powershell_script_encodes_for_the_shell_plugin():
    from ansible.plugins.loader import shell_loader
    shell = shell_loader.get('powershell')
    script = _iis.render_command(_iis.DEFAULT_APPCMD, ['list', 'site'], 'powershell')
    encoded = shell._encode_script(script, as_list=False, strict_mode=False, preserve_rc=False)
    decoded = base64.b64decode(encoded.split(' ')[-1]).decode('utf-16-le')
    assert decoded.splitlines()[-1] == 'exit $LASTEXITCODE'
    assert "& $appcmd 'list' 'site'" in decoded


def test_render_sh_runs_in_a_real_shell(tmp_path):
    echo = tmp_path / 'echo args.sh'
    echo.write_text('#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n', encoding='utf-8')
    echo.chmod(0o755)
    line = _iis.render_command(str(echo), ARGS, 'sh')
    assert shlex.split(line)[1:] == ARGS
    completed = subprocess.run(['/bin/sh', '-c', line], capture_output=True, text=True, check=True)
    assert completed.stdout.splitlines() == ARGS


def test_render_sh_expands_windows_style_variables(tmp_path):
    script = tmp_path / 'appcmd'
    script.write_text('#!/bin/sh\necho "ran $1"\n', encoding='utf-8')
    script.chmod(0o755)
    line = _iis.render_command('%SIMDIR%/appcmd', ['list'], 'sh')
    assert line == '"${SIMDIR}"/appcmd list'
    completed = subprocess.run(['/bin/sh', '-c', line], capture_output=True, text=True, check=True,
                               env={'SIMDIR': str(tmp_path), 'PATH': '/usr/bin:/bin'})
    assert completed.stdout.strip() == 'ran list'


@pytest.mark.parametrize('family', ['cmd', 'powershell', 'sh'])
def test_render_refuses_what_cannot_be_quoted(family):
    with pytest.raises(_iis.IisError):
        _iis.render_command(_iis.DEFAULT_APPCMD, ['/realm:a"b'], family)
    with pytest.raises(_iis.IisError):
        _iis.render_command('C:\\x"y\\appcmd.exe', ['list'], family)


def windows_argv(line):
    """Split a command line as CommandLineToArgvW / the MS C runtime do (backslashes before quotes)."""
    args = []
    current = ''
    in_quotes = False
    have = False
    index = 0
    while index < len(line):
        char = line[index]
        if char == '\\':
            count = 0
            while index < len(line) and line[index] == '\\':
                count += 1
                index += 1
            if index < len(line) and line[index] == '"':
                current += '\\' * (count // 2)
                if count % 2:
                    current += '"'
                    index += 1
            else:
                current += '\\' * count
            have = True
            continue
        if char == '"':
            in_quotes = not in_quotes
            have = True
        elif char in ' \t' and not in_quotes:
            if have:
                args.append(current)
            current = ''
            have = False
        else:
            current += char
            have = True
        index += 1
    if have:
        args.append(current)
    return args


def powershell_single_quoted(line):
    """The single-quoted arguments of a PowerShell '& $appcmd ...' line, unescaped."""
    return [match.replace("''", "'") for match in re.findall(r"'((?:[^']|'')*)'", line)]


# ---------------------------------------------------------------------------------------------
# Failures


@pytest.mark.parametrize('rc, stdout, stderr, kind', [
    (9009, '', 'appcmd.exe not found: C:\\Windows\\system32\\inetsrv\\appcmd.exe', 'APPCMD_NOT_FOUND'),
    (127, '', 'sh: 1: /opt/appcmd: not found', 'APPCMD_NOT_FOUND'),
    (1, '', "'C:\\x\\appcmd.exe' is not recognized as an internal or external command,", 'APPCMD_NOT_FOUND'),
    (1168, 'ERROR ( message:Cannot find SITE object with identifier "Nope". )\r\n', '', 'SITE_NOT_FOUND'),
    (33, 'ERROR ( hresult:80070021, message:Failed to commit configuration changes.\r\n\r\nThis configuration section cannot '
         'be used at this path. This happens when the section is locked at a parent level.\r\n )', '', 'SECTION_LOCKED'),
    (5, 'ERROR ( message:Configuration error\r\nFilename: redirection.config\r\nLine Number: 0\r\nDescription: Cannot read '
        'configuration file due to insufficient permissions\r\n\r\n. )', '', 'ACCESS_DENIED'),
    (5, 'ERROR ( hresult:80070005, message:Failed to commit configuration changes.\r\n\r\nAccess is denied.\r\n\r\n )', '',
     'ACCESS_DENIED'),
    (87, 'ERROR ( message:Unknown attribute "x".  Replace with -? for help. )', '', 'APPCMD_FAILED'),
])
def test_classify_failure(rc, stdout, stderr, kind):
    assert _iis.classify_failure(rc, stdout, stderr) == kind
    message = _iis.failure_message(kind, 'read it', _iis.DEFAULT_APPCMD, 'Nope', 'tfs', rc, stdout, stderr)
    assert message.startswith('Could not read it: ')
    assert 'appcmd said: "' in message


# ---------------------------------------------------------------------------------------------
# run() against a scripted target


class FakeTarget(object):
    """Answers appcmd argument lists like a host would; records them."""

    def __init__(self, before, locked=(), fail_on=None, ignore_writes=False):
        self.state = before
        self.locked = set(locked)
        self.fail_on = fail_on
        self.ignore_writes = ignore_writes
        self.calls = []

    def __call__(self, args):
        self.calls.append(args)
        if args[:2] == ['list', 'site']:
            return 0, SITE_XML, ''
        if args[:2] == ['list', 'config']:
            key = next(key for key, name in _iis.SECTIONS if args[3].endswith('/' + name))
            return 0, self.render(key), ''
        if self.fail_on and self.fail_on in ' '.join(args):
            return 33, ('ERROR ( hresult:80070021, message:Failed to commit configuration changes.\r\n\r\nThis configuration '
                        'section cannot be used at this path.\r\n )'), ''
        if not self.ignore_writes:
            key = next(key for key, name in _iis.SECTIONS if args[3].endswith('/' + name))
            section = self.state[key]
            for arg in args[4:-1]:
                match = re.match(r"^/([+-])providers\.\[value='(.*)'\]$", arg)
                if match:
                    if match.group(1) == '+':
                        section['providers'].append(match.group(2))
                    else:
                        section['providers'].remove(match.group(2))
                    continue
                name, value = arg[1:].split(':', 1)
                option = next(option for option, attribute, dummy_kind, dummy in _iis.ATTRIBUTES[key] if attribute == name)
                section[option] = {'true': True, 'false': False}.get(value, value)
        return 0, 'Applied configuration changes to section', ''

    def render(self, key):
        section = self.state[key]
        attrs = ''
        children = ''
        for option, attribute, dummy_kind, dummy in _iis.ATTRIBUTES[key]:
            value = section[option]
            value = ('true' if value else 'false') if isinstance(value, bool) else value
            if '.' in attribute:
                children += '            <extendedProtection tokenChecking="%s" flags="%s" />\r\n' % (
                    value, section['extended_protection_flags'])
            else:
                attrs += ' %s="%s"' % (attribute, value)
        if key == 'windows_authentication':
            children += '            <providers>\r\n%s            </providers>' % ''.join(
                '                <add value="%s" />\r\n' % provider for provider in section['providers'])
        return config_xml(_iis.SECTION_ROOT + _iis.SECTION_NAMES[key], attrs, children.rstrip('\r\n'),
                          locked='true' if key in self.locked else 'false')


BASELINE = {'site': 'Azure DevOps Server', 'path': 'tfs', 'allow_insecure': False, 'appcmd_path': _iis.DEFAULT_APPCMD,
            'windows_authentication': {'enabled': True, 'providers': ['Negotiate', 'NTLM']},
            'anonymous_authentication': {'enabled': False}, 'basic_authentication': {'enabled': False},
            'digest_authentication': {'enabled': False}}


def broken():
    return state({'enabled': False, 'providers': ['NTLM']}, anonymous=True, basic=True)


def test_run_converges_a_broken_site_and_reads_it_back():
    target = FakeTarget(broken())
    warnings = []
    result = _iis.run(dict(BASELINE), False, warnings.append, target)
    assert result['changed'] is True
    assert result['after'] == state() and target.state == state()
    assert result['before'] == broken()
    assert result['findings'] == [] and warnings == []
    assert [entry['before_header'] for entry in result['diff']] == [
        'Azure DevOps Server/tfs: windowsAuthentication (before)', 'Azure DevOps Server/tfs: anonymousAuthentication (before)',
        'Azure DevOps Server/tfs: basicAuthentication (before)']
    assert result['commands'][0].endswith("/-providers.[value='NTLM'] /commit:apphost")
    assert result['commands'][-1].endswith('basicAuthentication /enabled:false /commit:apphost')
    # site, 4 reads, 6 writes (3 provider changes, Windows, Anonymous, Basic attributes), 4 reads back
    assert len(target.calls) == 1 + 4 + 6 + 4
    again = _iis.run(dict(BASELINE), False, warnings.append, target)
    assert again['changed'] is False and again['commands'] == [] and 'diff' not in again


def test_run_check_mode_predicts_and_changes_nothing():
    target = FakeTarget(broken())
    result = _iis.run(dict(BASELINE), True, [].append, target)
    assert result['changed'] is True and result['after'] == state() and len(result['commands']) == 6
    assert target.state == broken()
    assert all(call[0] == 'list' for call in target.calls)


def test_run_report_only_warns_about_the_current_state():
    target = FakeTarget(broken())
    warnings = []
    result = _iis.run({'site': 'Azure DevOps Server', 'path': '', 'appcmd_path': None}, False, warnings.append, target)
    assert result['changed'] is False and result['commands'] == []
    assert [finding['code'] for finding in result['findings']] == ['BASIC_AUTH_ENABLED', 'ANONYMOUS_ENABLED', 'WINDOWS_AUTH_DISABLED']
    assert len(warnings) == 3 and warnings[0].startswith('BASIC_AUTH_ENABLED: ')
    assert target.calls[1][2] == 'Azure DevOps Server'


def test_run_refuses_without_allow_insecure_and_changes_nothing():
    target = FakeTarget(state())
    params = dict(BASELINE, basic_authentication={'enabled': True}, anonymous_authentication={'enabled': True})
    with pytest.raises(_iis.IisError) as caught:
        _iis.run(params, False, [].append, target)
    assert caught.value.kind == 'POLICY'
    assert 'personal access token' in caught.value.msg and 'Anonymous' in caught.value.msg
    assert 'allow_insecure' in caught.value.msg
    assert caught.value.result['commands'] == [] and caught.value.result['after'] == state()
    assert all(call[0] == 'list' for call in target.calls)


def test_run_with_allow_insecure_applies_and_warns():
    target = FakeTarget(state())
    warnings = []
    result = _iis.run(dict(BASELINE, basic_authentication={'enabled': True}, allow_insecure=True), False, warnings.append, target)
    assert result['changed'] is True and target.state['basic_authentication']['enabled'] is True
    assert [finding['code'] for finding in result['findings']] == ['BASIC_AUTH_ENABLED']
    assert any(warning.startswith('allow_insecure is set') for warning in warnings)
    assert any(warning.startswith('BASIC_AUTH_ENABLED') for warning in warnings)


def test_run_path_not_found():
    with pytest.raises(_iis.IisError) as caught:
        _iis.run(dict(BASELINE, path='nope'), False, [].append, FakeTarget(state()))
    assert caught.value.kind == 'PATH_NOT_FOUND'
    assert '/, /docs, /tfs, /tfs/_static' in caught.value.msg


def test_run_locked_section_fails_before_any_write():
    target = FakeTarget(broken(), locked=['basic_authentication'])
    with pytest.raises(_iis.IisError) as caught:
        _iis.run(dict(BASELINE), False, [].append, target)
    assert caught.value.kind == 'SECTION_LOCKED'
    assert 'basicAuthentication' in caught.value.msg and 'nothing was changed' in caught.value.msg
    assert all(call[0] == 'list' for call in target.calls)


def test_run_failing_write_reports_what_ran():
    target = FakeTarget(broken(), fail_on='anonymousAuthentication')
    with pytest.raises(_iis.IisError) as caught:
        _iis.run(dict(BASELINE), False, [].append, target)
    assert caught.value.kind == 'SECTION_LOCKED'
    assert caught.value.result['changed'] is True
    assert len(caught.value.result['commands']) == 5
    assert 'The commands before it were applied.' in caught.value.msg


def test_run_detects_changes_iis_did_not_apply():
    with pytest.raises(_iis.IisError) as caught:
        _iis.run(dict(BASELINE), False, [].append, FakeTarget(broken(), ignore_writes=True))
    assert caught.value.kind == 'NOT_APPLIED'


@pytest.mark.parametrize('response, kind', [
    ((1168, 'ERROR ( message:Cannot find SITE object with identifier "Azure DevOps Server". )\r\n', ''), 'SITE_NOT_FOUND'),
    ((9009, '', 'appcmd.exe not found: C:\\Windows\\system32\\inetsrv\\appcmd.exe'), 'APPCMD_NOT_FOUND'),
    ((5, 'ERROR ( message:Configuration error\r\nDescription: Cannot read configuration file due to insufficient '
         'permissions\r\n. )', ''), 'ACCESS_DENIED'),
])
def test_run_errors_reading_the_site(response, kind):
    with pytest.raises(_iis.IisError) as caught:
        _iis.run(dict(BASELINE), False, [].append, lambda args: response)
    assert caught.value.kind == kind
    assert 'appcmd said: ' in caught.value.msg


# ---------------------------------------------------------------------------------------------
# The action plugin: the rendering it picks from the connection's shell


@pytest.mark.parametrize('shell_name', ['powershell', 'cmd', 'sh'])
def test_action_plugin_runs_appcmd_in_the_syntax_of_the_connection_shell(shell_name):
    from unittest.mock import MagicMock

    from ansible.plugins.loader import shell_loader

    from ansible_collections.azdo.auth.plugins.action.ado_iis_auth import ActionModule

    target = FakeTarget(broken())
    sent = []

    def low_level_execute_command(command, **kwargs):
        sent.append(command)
        if shell_name == 'powershell':
            assert command.startswith('PowerShell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand ')
            script = base64.b64decode(command.split(' ')[-1]).decode('utf-16-le')
            call_line = next(line for line in script.splitlines() if line.startswith('& $appcmd '))
            args = powershell_single_quoted(call_line)
        elif shell_name == 'cmd':
            args = windows_argv(command)[1:]
        else:
            args = shlex.split(command)[1:]
        rc, stdout, stderr = target(args)
        return {'rc': rc, 'stdout': stdout, 'stderr': stderr}

    task = MagicMock(async_val=0, check_mode=False, diff=False, action='azdo.auth.ado_iis_auth',
                     args={'path': 'tfs', 'windows_authentication': {'enabled': True, 'providers': ['Negotiate', 'NTLM']},
                           'anonymous_authentication': {'enabled': False}, 'basic_authentication': {'enabled': False},
                           'appcmd_path': '%windir%\\system32\\inetsrv\\appcmd.exe' if shell_name != 'sh' else '/opt/appcmd'})
    connection = MagicMock()
    connection._shell = shell_loader.get(shell_name)
    connection._shell.tmpdir = None
    action = ActionModule(task, connection, MagicMock(), MagicMock(), MagicMock(), None)
    action._low_level_execute_command = low_level_execute_command
    result = action.run(task_vars={})
    assert result.get('failed') is not True, result
    assert result['changed'] is True and target.state == state()
    assert len(sent) == 1 + 4 + 6 + 4
    assert result['commands'][0].startswith(task.args['appcmd_path'] + ' set config "Azure DevOps Server/tfs" ')


def test_action_plugin_reports_invalid_arguments():
    from unittest.mock import MagicMock

    from ansible_collections.azdo.auth.plugins.action.ado_iis_auth import ActionModule

    task = MagicMock(async_val=0, check_mode=False, action='azdo.auth.ado_iis_auth',
                     args={'windows_authentication': {'extended_protection': 'Sometimes'}})
    connection = MagicMock()
    connection._shell.tmpdir = None
    result = ActionModule(task, connection, MagicMock(), MagicMock(), MagicMock(), None).run(task_vars={})
    assert result['failed'] is True and result['msg'].startswith('Invalid arguments: ')
