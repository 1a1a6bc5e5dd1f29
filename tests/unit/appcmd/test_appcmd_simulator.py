# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The appcmd simulator: appcmd's command line, XML and text output, errors and exit codes, on a real file."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ansible_collections.azdo.auth.plugins.module_utils import _iis

HERE = Path(__file__).resolve().parents[3] / 'tests' / 'appcmd'
SIMULATOR = HERE / 'appcmd.py'
SAMPLE = HERE / 'applicationHost.config'
SITE = 'Azure DevOps Server'
WINDOWS = 'system.webServer/security/authentication/windowsAuthentication'
SAMPLE_DIGEST = hashlib.sha256(SAMPLE.read_bytes()).hexdigest()


def posix_rc(code):
    """Exit codes above 255 (1168, 4312) reach a POSIX parent truncated to their low byte."""
    return code if os.name == 'nt' else code & 0xFF


@pytest.fixture
def config(tmp_path):
    copy = tmp_path / 'applicationHost.config'
    shutil.copyfile(SAMPLE, copy)
    return copy


@pytest.fixture
def appcmd(config):
    def run(*args, via_python=False, env=None):
        run_env = dict(os.environ, APPCMD_SIM_CONFIG=str(config),
                       PATH=os.pathsep.join([os.path.dirname(sys.executable), os.environ.get('PATH', '')]))
        run_env.pop('APPCMD_SIM_DENY', None)
        run_env.update(env or {})
        command = [sys.executable, str(SIMULATOR)] if via_python else [str(SIMULATOR)]
        # Bytes, not text mode: universal newlines would hide appcmd's CRLF line endings.
        completed = subprocess.run(command + list(args), capture_output=True, env=run_env, check=False)
        return completed.returncode, completed.stdout.decode('utf-8'), completed.stderr.decode('utf-8')
    return run


def section_state(appcmd, key, path=SITE + '/tfs'):
    rc, stdout, stderr = appcmd('list', 'config', path, '/section:' + _iis.SECTION_ROOT + _iis.SECTION_NAMES[key], '/config:*', '/xml')
    assert rc == 0, stdout + stderr
    return _iis.parse_section(stdout, key)


def test_the_simulator_is_an_executable_script():
    assert os.access(SIMULATOR, os.X_OK)
    # The shebang ansible-test's sanity test accepts; "python" is the interpreter of any virtualenv.
    assert SIMULATOR.read_text(encoding='utf-8').startswith('#!/usr/bin/env python\n')


@pytest.mark.parametrize('via_python', [False, True])
def test_list_config_xml_is_appcmd_output(appcmd, via_python):
    rc, stdout, stderr = appcmd('list', 'config', SITE + '/tfs', '/section:' + WINDOWS, '/config:*', '/xml', via_python=via_python)
    assert (rc, stderr) == (0, '')
    lines = stdout.split('\r\n')
    assert lines[:3] == [
        '<?xml version="1.0" encoding="UTF-8"?>', '<appcmd>',
        '    <CONFIG CONFIG.SECTION="%s" path="MACHINE/WEBROOT/APPHOST/Azure DevOps Server/tfs" overrideMode="Inherit" '
        'locked="false">' % WINDOWS]
    assert lines[3] == ('        <system.webServer-security-authentication-windowsAuthentication enabled="true" '
                        'authPersistNonNTLM="true" authPersistSingleRequest="false" useKernelMode="true" useAppPoolCredentials="false">')
    assert lines[4:9] == ['            <extendedProtection tokenChecking="None" flags="None" />', '            <providers>',
                          '                <add value="Negotiate" />', '                <add value="NTLM" />', '            </providers>']
    assert lines[-3:] == ['    </CONFIG>', '</appcmd>', '']


def test_the_sample_is_the_supported_baseline(appcmd):
    for path in (SITE, SITE + '/tfs', 'MACHINE/WEBROOT/APPHOST/Azure DevOps Server/tfs/'):
        windows, meta = section_state(appcmd, 'windows_authentication', path)
        assert windows['enabled'] is True and windows['providers'] == ['Negotiate', 'NTLM']
        assert meta['locked'] is False
        assert section_state(appcmd, 'anonymous_authentication', path)[0] == {'enabled': False}
        assert section_state(appcmd, 'basic_authentication', path)[0]['enabled'] is False
        assert section_state(appcmd, 'digest_authentication', path)[0] == {'enabled': False}
    # Server level: the IIS defaults (Anonymous on, Windows off).
    assert section_state(appcmd, 'anonymous_authentication', '')[0] == {'enabled': True}
    assert section_state(appcmd, 'windows_authentication', '')[0]['enabled'] is False


def test_without_config_star_only_set_values_are_shown(appcmd):
    rc, stdout, dummy = appcmd('list', 'config', SITE, '-section:anonymousAuthentication', '/xml')
    assert rc == 0
    assert '<system.webServer-security-authentication-anonymousAuthentication enabled="false" userName="IUSR" />' in stdout
    rc, stdout, dummy = appcmd('list', 'config', SITE, '/section:anonymousAuthentication', '/config:*', '/xml')
    assert 'enabled="false" userName="IUSR" password="" logonMethod="ClearText" />' in stdout


def test_text_output(appcmd):
    rc, stdout, dummy = appcmd('list', 'config', SITE + '/tfs', '/section:windowsAuthentication')
    assert rc == 0
    assert stdout.split('\r\n')[:6] == ['<system.webServer>', '  <security>', '    <authentication>',
                                        '      <windowsAuthentication enabled="true">', '        <extendedProtection />',
                                        '        <providers>']


def test_list_site(appcmd):
    rc, stdout, dummy = appcmd('list', 'sites')
    assert rc == 0
    assert stdout.split('\r\n')[:2] == ['SITE "Default Web Site" (id:1,bindings:http/*:8080:,state:Stopped)',
                                        'SITE "Azure DevOps Server" (id:2,bindings:http/*:80:,https/*:443:,state:Started)']
    rc, stdout, dummy = appcmd('list', 'site', SITE, '/config:*', '/xml')
    assert rc == 0
    assert '    <SITE SITE.NAME="Azure DevOps Server" SITE.ID="2" bindings="http/*:80:,https/*:443:" state="Started">' in stdout
    assert _iis.parse_site_paths(stdout, SITE) == ['/', '/tfs']
    rc, stdout, dummy = appcmd('list', 'site', SITE, '/xml')
    assert stdout.split('\r\n')[2].endswith('state="Started" />')


@pytest.mark.parametrize('args', [
    ('list', 'site', 'Nope'),
    ('list', 'config', 'Nope/tfs', '/section:windowsAuthentication', '/xml'),
    ('set', 'config', 'Nope', '/section:basicAuthentication', '/enabled:false', '/commit:apphost'),
])
def test_unknown_site(appcmd, args):
    rc, stdout, dummy = appcmd(*args)
    assert rc == posix_rc(1168)
    assert stdout == 'ERROR ( message:Cannot find SITE object with identifier "Nope". )\r\n'


def test_set_config_writes_a_location_and_keeps_the_file_intact(appcmd, config):
    rc, stdout, dummy = appcmd('set', 'config', SITE + '/tfs', '/section:' + WINDOWS, "/-providers.[value='Negotiate']",
                               '/commit:apphost')
    assert rc == 0
    assert stdout == ('Applied configuration changes to section "%s" for "MACHINE/WEBROOT/APPHOST/Azure DevOps Server/tfs" at '
                      'configuration commit path "MACHINE/WEBROOT/APPHOST"\r\n' % WINDOWS)
    assert appcmd('set', 'config', SITE + '/tfs', '/section:' + WINDOWS, "/+providers.[value='Negotiate']",
                  '/extendedProtection.tokenChecking:allow', '/useKernelMode:False', '/commit:apphost')[0] == 0
    windows, dummy = section_state(appcmd, 'windows_authentication')
    assert windows['providers'] == ['NTLM', 'Negotiate']
    assert windows['extended_protection'] == 'Allow' and windows['use_kernel_mode'] is False
    # The site root keeps its own state.
    assert section_state(appcmd, 'windows_authentication', SITE)[0]['providers'] == ['Negotiate', 'NTLM']
    text = config.read_text(encoding='utf-8')
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<!--\n    Sample applicationHost.config')
    root = ET.fromstring(text)
    location = [loc for loc in root.findall('location') if loc.get('path') == 'Azure DevOps Server/tfs']
    assert len(location) == 1
    providers = location[0].find('system.webServer/security/authentication/windowsAuthentication/providers')
    assert [(child.tag, child.get('value')) for child in providers] == [('remove', 'Negotiate'), ('add', 'Negotiate')]
    assert location[0].find('system.webServer/security/authentication/windowsAuthentication').get('useKernelMode') == 'false'


def test_removing_an_entry_added_at_the_same_level_deletes_it(appcmd, config):
    assert appcmd('set', 'config', SITE, '/section:' + WINDOWS, "/+providers.[value='Negotiate:Kerberos']", '/commit:apphost')[0] == 0
    assert section_state(appcmd, 'windows_authentication', SITE)[0]['providers'] == ['Negotiate', 'NTLM', 'Negotiate:Kerberos']
    assert appcmd('set', 'config', SITE, '/section:' + WINDOWS, "/-providers.[value='negotiate:kerberos']", '/commit:apphost')[0] == 0
    assert section_state(appcmd, 'windows_authentication', SITE)[0]['providers'] == ['Negotiate', 'NTLM']
    assert 'Kerberos' not in config.read_text(encoding='utf-8')


@pytest.mark.parametrize('args, code, message', [
    (("/+providers.[value='NTLM']",), 183,
     "ERROR ( message:Cannot add duplicate collection entry of type 'add' with unique key attribute 'value' set to 'NTLM' )"),
    (("/-providers.[value='Kerberos']",), 4312, 'ERROR ( message:Cannot find requested collection element. )'),
    (('/bogus:true',), 87, 'ERROR ( message:Unknown attribute "bogus".  Replace with -? for help. )'),
    (('/enabled:maybe',), 87, 'ERROR ( message:Invalid boolean value "maybe" for attribute "enabled". )'),
    (('/extendedProtection.tokenChecking:Always',), 87,
     'ERROR ( message:Invalid enumeration value "Always" for attribute "extendedProtection.tokenChecking". )'),
])
def test_set_config_errors_change_nothing(appcmd, config, args, code, message):
    before = config.read_bytes()
    rc, stdout, dummy = appcmd('set', 'config', SITE + '/tfs', '/section:windowsAuthentication', '/enabled:false', *args,
                               '/commit:apphost')
    assert rc == posix_rc(code)
    assert stdout == message + '\r\n'
    assert config.read_bytes() == before


def test_unknown_section(appcmd):
    rc, stdout, dummy = appcmd('list', 'config', SITE, '/section:system.webServer/nope', '/xml')
    assert rc == 87
    assert stdout == 'ERROR ( message:Unknown config section "system.webServer/nope".  Replace with ? for help. )\r\n'


def test_section_locked_at_apphost_level_needs_commit_apphost(appcmd):
    rc, stdout, dummy = appcmd('set', 'config', SITE + '/tfs', '/section:basicAuthentication', '/enabled:true')
    assert rc == 33
    assert stdout.startswith('ERROR ( hresult:80070021, message:Failed to commit configuration changes.\r\n\r\nThis '
                             'configuration section cannot be used at this path. This happens when the section is locked at '
                             'a parent level.')
    assert stdout.endswith('\r\n )\r\n')


def test_section_locked_by_a_parent_location(appcmd, config):
    rc, stdout, dummy = appcmd('lock', 'config', SITE, '/section:windowsAuthentication')
    assert rc == 0
    assert stdout == 'Locked section "%s" at configuration path "MACHINE/WEBROOT/APPHOST/Azure DevOps Server".\r\n' % WINDOWS
    windows, meta = section_state(appcmd, 'windows_authentication')
    assert meta['locked'] is True and windows['enabled'] is True
    assert section_state(appcmd, 'windows_authentication', SITE)[1]['locked'] is False
    before = config.read_bytes()
    rc, stdout, dummy = appcmd('set', 'config', SITE + '/tfs', '/section:windowsAuthentication', '/enabled:false', '/commit:apphost')
    assert rc == 33 and 'hresult:80070021' in stdout
    assert config.read_bytes() == before
    assert appcmd('unlock', 'config', SITE, '/section:windowsAuthentication')[0] == 0
    assert section_state(appcmd, 'windows_authentication')[1]['locked'] is False


@pytest.mark.parametrize('how', ['env', 'marker'])
def test_access_denied(appcmd, config, how):
    env = {'APPCMD_SIM_DENY': 'read'} if how == 'env' else {}
    if how == 'marker':
        Path(str(config) + '.deny').write_text('read\n', encoding='utf-8')
    rc, stdout, dummy = appcmd('list', 'site', env=env)
    assert rc == 5
    assert stdout == ('ERROR ( message:Configuration error\r\nFilename: redirection.config\r\nLine Number: 0\r\nDescription: '
                      'Cannot read configuration file due to insufficient permissions\r\n\r\n. )\r\n')
    if how == 'marker':
        Path(str(config) + '.deny').write_text('write\n', encoding='utf-8')
    else:
        env = {'APPCMD_SIM_DENY': 'write'}
    assert appcmd('list', 'site', env=env)[0] == 0
    before = config.read_bytes()
    rc, stdout, dummy = appcmd('set', 'config', SITE, '/section:basicAuthentication', '/enabled:true', '/commit:apphost', env=env)
    assert rc == 5
    assert stdout.startswith('ERROR ( hresult:80070005, message:Failed to commit configuration changes.\r\n\r\nAccess is denied.')
    assert config.read_bytes() == before


def test_unsupported_command_and_help(appcmd):
    rc, stdout, dummy = appcmd('delete', 'site', SITE)
    assert rc == 87 and stdout.startswith('ERROR ( message:The command "delete" is not supported on object "site". )')
    rc, stdout, dummy = appcmd('/?')
    assert rc == 0 and 'list config' in stdout


def test_broken_config_file(appcmd, config):
    config.write_text('<configuration><oops></configuration>', encoding='utf-8')
    rc, stdout, dummy = appcmd('list', 'site')
    assert rc == 13 and 'Configuration file is not well-formed XML' in stdout


def test_the_sample_was_not_modified():
    assert hashlib.sha256(SAMPLE.read_bytes()).hexdigest() == SAMPLE_DIGEST
