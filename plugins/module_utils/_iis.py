# -*- coding: utf-8 -*-
# Copyright: contributors to the azdo.auth collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Logic of azdo.auth.ado_iis_auth: the IIS authentication model of an Azure DevOps Server / TFS site.

Everything here is pure Python on the controller: parse what ``appcmd.exe`` prints (its ``/xml``
output with ``CONFIG`` and ``SITE`` elements), model the desired state, diff it against the current
one, apply the security policy, and render the exact ``appcmd`` command lines for the shell of the
connection (PowerShell for WinRM/PSRP, cmd.exe or POSIX sh). The action plugin only runs the
rendered commands through the connection, via the ``execute`` callback given to ``run``.

appcmd facts encoded here (IIS 7.5 - 10):

- ``appcmd list config "<site>/<path>" /section:<section> /config:* /xml`` prints the effective
  section (inherited and default values included) as
  ``<appcmd><CONFIG CONFIG.SECTION="..." path="MACHINE/WEBROOT/APPHOST/..." overrideMode="..."
  locked="..."><system.webServer-security-authentication-<name> ...>`` (the section path with
  ``/`` replaced by ``-`` names the element). Errors are printed on stdout as
  ``ERROR ( message:... )`` or ``ERROR ( hresult:800700xx, message:... )`` with a non-zero exit code.
- The authentication sections are locked at the apphost level (``overrideModeDefault="Deny"``),
  so writes use ``/commit:apphost`` and land in ``<location path="...">`` elements of
  applicationHost.config.
- Collections are edited with ``/+providers.[value='NTLM']`` (appended at the end) and
  ``/-providers.[value='NTLM']``.
"""

from __future__ import annotations

import re
import shlex
import xml.etree.ElementTree as ET

from ansible_collections.azdo.auth.plugins.module_utils._runner import ModuleFailure

DEFAULT_SITE = 'Azure DevOps Server'
DEFAULT_APPCMD = r'%windir%\system32\inetsrv\appcmd.exe'

SECTION_ROOT = 'system.webServer/security/authentication/'

# Option name -> IIS section name, in the order sections are written (turn sign-in methods on
# before others are turned off, so a host never passes through "no authentication at all").
SECTIONS = (
    ('windows_authentication', 'windowsAuthentication'),
    ('anonymous_authentication', 'anonymousAuthentication'),
    ('basic_authentication', 'basicAuthentication'),
    ('digest_authentication', 'digestAuthentication'),
)
SECTION_NAMES = dict(SECTIONS)

TOKEN_CHECKING = ('None', 'Allow', 'Require')

# Option name -> (appcmd attribute path, type, schema default) of each managed attribute.
ATTRIBUTES = {
    'windows_authentication': (
        ('enabled', 'enabled', 'bool', False),
        ('use_kernel_mode', 'useKernelMode', 'bool', True),
        ('use_app_pool_credentials', 'useAppPoolCredentials', 'bool', False),
        ('extended_protection', 'extendedProtection.tokenChecking', 'token', 'None'),
    ),
    'anonymous_authentication': (
        ('enabled', 'enabled', 'bool', True),
    ),
    'basic_authentication': (
        ('enabled', 'enabled', 'bool', False),
        ('default_logon_domain', 'defaultLogonDomain', 'str', ''),
        ('realm', 'realm', 'str', ''),
    ),
    'digest_authentication': (
        ('enabled', 'enabled', 'bool', False),
    ),
}

MODULE_SPEC = dict(
    argument_spec=dict(
        site=dict(type='str', default=DEFAULT_SITE),
        path=dict(type='str', default=''),
        windows_authentication=dict(type='dict', options=dict(
            enabled=dict(type='bool'),
            providers=dict(type='list', elements='str'),
            use_kernel_mode=dict(type='bool'),
            use_app_pool_credentials=dict(type='bool'),
            extended_protection=dict(type='str', choices=list(TOKEN_CHECKING)),
        )),
        anonymous_authentication=dict(type='dict', options=dict(
            enabled=dict(type='bool'),
        )),
        basic_authentication=dict(type='dict', options=dict(
            enabled=dict(type='bool'),
            default_logon_domain=dict(type='str'),
            realm=dict(type='str'),
        )),
        digest_authentication=dict(type='dict', options=dict(
            enabled=dict(type='bool'),
        )),
        allow_insecure=dict(type='bool', default=False),
        appcmd_path=dict(type='str', default=DEFAULT_APPCMD),
    ),
)

SEVERITY_WARN = ('critical', 'high')

_PROVIDER_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9:._-]*$')
_ENV_REF_RE = re.compile(r'%([A-Za-z_][A-Za-z0-9_()]*)%')
_POSIX_NAME_RE = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$')
_CMD_SAFE_RE = re.compile(r'^[A-Za-z0-9_@+=:,./\\\[\]\'*%{}~#$-]+$')
_PASSWORD_ATTR_RE = re.compile(r'(password\s*=\s*)"[^"]*"', re.I)


class IisError(ModuleFailure):
    """A failure with a kind (for tests and callers) and the usual result keys."""

    def __init__(self, kind, msg, **result):
        super(IisError, self).__init__(msg, **result)
        self.kind = kind


# ---------------------------------------------------------------------------------------------
# Input


def _check_text(name, value):
    """Reject what no shell can pass to appcmd unchanged (double quotes, %, control characters)."""
    if value is None:
        return value
    value = str(value)
    if '"' in value or '%' in value or any(ord(char) < 32 for char in value):
        raise IisError('INVALID_ARGUMENT', '%s: %r contains a double quote, a %% sign or a control character; appcmd cannot be '
                                           'given such a value safely through PowerShell or cmd.exe.' % (name, value))
    if value.endswith('\\'):
        raise IisError('INVALID_ARGUMENT', '%s: %r ends with a backslash, which Windows command lines treat as an escape.'
                       % (name, value))
    return value


def normalize_path(path):
    """'/tfs/' -> 'tfs'; '' or '/' -> '' (the site root)."""
    path = (path or '').replace('\\', '/').strip()
    segments = [segment for segment in path.split('/') if segment]
    if any(segment in ('.', '..') for segment in segments):
        raise IisError('INVALID_ARGUMENT', 'path: %r must name an application or virtual directory under the site, '
                                           'without "." or ".." segments.' % path)
    return _check_text('path', '/'.join(segments))


def config_path(site, path):
    """The appcmd configuration path: 'Azure DevOps Server' or 'Azure DevOps Server/tfs'."""
    return site + ('/' + path if path else '')


def validate_site(site):
    site = (site or '').strip()
    if not site:
        raise IisError('INVALID_ARGUMENT', 'site: the IIS site name must not be empty (Azure DevOps Server installs use '
                                           '"Azure DevOps Server", TFS installs "Team Foundation Server").')
    if '/' in site or '\\' in site:
        raise IisError('INVALID_ARGUMENT', 'site: %r must be the IIS site name only; put the application or virtual '
                                           'directory in path.' % site)
    return _check_text('site', site)


def desired_state(params):
    """Per section, the attributes the task declares (unset options are left as they are)."""
    desired = {}
    for key, dummy in SECTIONS:
        options = params.get(key) or {}
        wanted = {}
        for option, dummy_attr, kind, dummy_default in ATTRIBUTES[key]:
            value = options.get(option)
            if value is None:
                continue
            if kind == 'str':
                value = _check_text('%s.%s' % (key, option), value)
            wanted[option] = value
        if key == 'windows_authentication' and options.get('providers') is not None:
            wanted['providers'] = validate_providers(options['providers'])
        if wanted:
            desired[key] = wanted
    return desired


def validate_providers(providers):
    seen = set()
    result = []
    for provider in providers:
        provider = str(provider).strip()
        if not _PROVIDER_RE.match(provider):
            raise IisError('INVALID_ARGUMENT', 'windows_authentication.providers: %r is not a provider name (for example '
                                               'Negotiate, NTLM, Negotiate:Kerberos).' % provider)
        if provider.lower() in seen:
            raise IisError('INVALID_ARGUMENT', 'windows_authentication.providers: %s is listed twice.' % provider)
        seen.add(provider.lower())
        result.append(provider)
    return result


# ---------------------------------------------------------------------------------------------
# Parsing appcmd output


def _xml_root(text, what):
    """Parse appcmd /xml output; refuses DTDs, tolerates noise before the XML declaration."""
    text = (text or '').lstrip('\ufeff')
    start = text.find('<?xml')
    if start < 0:
        start = text.find('<appcmd')
    if start < 0:
        raise IisError('UNEXPECTED_OUTPUT', 'appcmd printed no XML when asked to %s: %s' % (what, quote_output(text)))
    text = text[start:]
    if '<!DOCTYPE' in text or '<!ENTITY' in text:
        raise IisError('UNEXPECTED_OUTPUT', 'appcmd output for %s contains a DTD; refusing to parse it.' % what)
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise IisError('UNEXPECTED_OUTPUT', 'appcmd printed XML that cannot be parsed when asked to %s (%s): %s'
                       % (what, exc, quote_output(text)))
    if root.tag != 'appcmd':
        raise IisError('UNEXPECTED_OUTPUT', 'appcmd output for %s has no <appcmd> root element: %s' % (what, quote_output(text)))
    return root


def _child(element, name):
    """First child element named ``name`` (case-insensitive)."""
    for child in list(element):
        if isinstance(child.tag, str) and child.tag.lower() == name.lower():
            return child
    return None


def _attr(element, name):
    """Attribute value by case-insensitive name, or None."""
    if element is None:
        return None
    for key, value in element.attrib.items():
        if key.lower() == name.lower():
            return value
    return None


def _parse_bool(value, where):
    text = str(value).strip().lower()
    if text == 'true':
        return True
    if text == 'false':
        return False
    raise IisError('UNEXPECTED_OUTPUT', 'appcmd printed %r for %s, which is not a boolean.' % (value, where))


def _parse_token(value):
    for choice in TOKEN_CHECKING:
        if str(value).strip().lower() == choice.lower():
            return choice
    return str(value).strip()


def parse_section(text, key):
    """Parse ``list config ... /section:<key> /config:* /xml`` output.

    Returns ``(state, meta)``: the section's state as the module reports it, and the CONFIG
    element's ``path``, ``override_mode`` and ``locked``. Missing attributes take the IIS schema
    defaults, so output without ``/config:*`` parses too.
    """
    section = SECTION_ROOT + SECTION_NAMES[key]
    root = _xml_root(text, 'read the %s section' % SECTION_NAMES[key])
    config = None
    for candidate in root.findall('CONFIG'):
        if (_attr(candidate, 'CONFIG.SECTION') or '').lower() == section.lower():
            config = candidate
            break
    if config is None:
        raise IisError('UNEXPECTED_OUTPUT', 'appcmd printed no CONFIG element for %s: %s' % (section, quote_output(text)))
    element = _child(config, section.replace('/', '-'))
    if element is None:
        # Tolerate other spellings of the element name: take the first child.
        children = [child for child in list(config) if isinstance(child.tag, str)]
        element = children[0] if children else ET.Element('empty')
    state = {}
    for option, attribute, kind, default in ATTRIBUTES[key]:
        owner = element
        name = attribute
        if '.' in attribute:
            child_name, name = attribute.split('.', 1)
            owner = _child(element, child_name)
        raw = _attr(owner, name)
        if raw is None:
            value = default
        elif kind == 'bool':
            value = _parse_bool(raw, '%s %s' % (SECTION_NAMES[key], attribute))
        elif kind == 'token':
            value = _parse_token(raw)
        else:
            value = raw
        state[option] = value
    if key == 'windows_authentication':
        providers = _child(element, 'providers')
        state['providers'] = [_attr(add, 'value') for add in list(providers) if isinstance(add.tag, str)
                              and add.tag.lower() == 'add' and _attr(add, 'value')] if providers is not None else []
        flags = _attr(_child(element, 'extendedProtection'), 'flags')
        state['extended_protection_flags'] = flags.strip() if flags else 'None'
    meta = {
        'path': _attr(config, 'path') or '',
        'override_mode': _attr(config, 'overrideMode') or 'Inherit',
        'locked': str(_attr(config, 'locked') or 'false').strip().lower() == 'true',
    }
    return state, meta


def parse_site_paths(text, site):
    """Virtual paths ('/', '/tfs', '/tfs/docs') of the applications and virtual directories of a site."""
    root = _xml_root(text, 'list the site %s' % site)
    site_element = None
    for candidate in root.findall('SITE'):
        if (_attr(candidate, 'SITE.NAME') or '').lower() == site.lower():
            site_element = candidate
            break
    if site_element is None:
        raise IisError('SITE_NOT_FOUND', 'The IIS site "%s" was not found (appcmd listed no such SITE): %s'
                       % (site, quote_output(text)))
    paths = []
    config = _child(site_element, 'site')
    for application in (config.findall('application') if config is not None else []):
        app_path = '/' + (_attr(application, 'path') or '/').strip('/')
        for vdir in application.findall('virtualDirectory'):
            vdir_path = (_attr(vdir, 'path') or '/').strip('/')
            full = app_path.rstrip('/') + ('/' + vdir_path if vdir_path else '')
            full = full or '/'
            if full not in paths:
                paths.append(full)
        if app_path not in paths:
            paths.append(app_path)
    return paths


def path_exists(paths, path):
    wanted = '/' + path if path else '/'
    return any(candidate.lower() == wanted.lower() for candidate in paths)


def quote_output(text, limit=1500):
    """appcmd output for a message: stripped, passwords masked, bounded."""
    text = _PASSWORD_ATTR_RE.sub(r'\1"********"', (text or '').replace('\r\n', '\n').strip())
    if len(text) > limit:
        text = text[:limit] + ' [...]'
    return '"%s"' % text if text else '(no output)'


def classify_failure(rc, stdout, stderr):
    """Kind of an appcmd failure from its exit code and output."""
    text = '%s\n%s' % (stdout or '', stderr or '')
    lowered = text.lower()
    if 'error (' not in lowered and (rc in (127, 9009) or 'appcmd.exe not found' in lowered or 'is not recognized as' in lowered
                                     or 'no such file or directory' in lowered or ': not found' in lowered):
        return 'APPCMD_NOT_FOUND'
    if 'cannot find site object' in lowered:
        return 'SITE_NOT_FOUND'
    if '80070021' in lowered or 'cannot be used at this path' in lowered or 'lock violation' in lowered:
        return 'SECTION_LOCKED'
    if '80070005' in lowered or 'access is denied' in lowered or 'insufficient permissions' in lowered:
        return 'ACCESS_DENIED'
    return 'APPCMD_FAILED'


def failure_message(kind, what, appcmd_path, site, path, rc, stdout, stderr):
    """A message a person can act on, with what appcmd said."""
    said = stdout if (stdout or '').strip() else stderr
    if kind == 'APPCMD_NOT_FOUND':
        cause = ('appcmd.exe was not found at %s on the target: IIS (the Web Server role) is not installed on this host, '
                 'or appcmd_path points to the wrong place.' % appcmd_path)
        said = stderr if (stderr or '').strip() else stdout
    elif kind == 'SITE_NOT_FOUND':
        cause = ('The IIS site "%s" does not exist on this host. Azure DevOps Server installs name it "Azure DevOps Server", '
                 'TFS installs "Team Foundation Server"; set site to the name shown in IIS Manager.' % site)
    elif kind == 'SECTION_LOCKED':
        cause = ('The section is locked for %s by a parent <location overrideMode="Deny"> (or allowOverride="false") in '
                 'applicationHost.config, so it cannot be changed at this path. Unlock it at the parent level '
                 '(appcmd unlock config) or manage the setting at the level that locks it.' % config_path(site, path))
    elif kind == 'ACCESS_DENIED':
        cause = ('Access denied: appcmd needs a local Administrator with an elevated token to read and write '
                 'applicationHost.config. Connect as a member of the local Administrators group.')
    else:
        cause = 'appcmd failed (exit code %s).' % rc
    return 'Could not %s: %s appcmd said: %s' % (what, cause, quote_output(said))


# ---------------------------------------------------------------------------------------------
# Diff and policy


def plan_section(key, current, wanted):
    """``(after, attribute_changes, provider_ops)`` for one section.

    ``attribute_changes`` is an ordered list of ``(appcmd attribute, value)``; ``provider_ops`` of
    ``('-' or '+', provider)``. Providers are compared case-insensitively; the common prefix of
    the current and desired lists is kept, the rest is removed and re-added in the desired order
    (appcmd appends added entries at the end of the collection).
    """
    after = dict(current)
    changes = []
    for option, attribute, kind, dummy_default in ATTRIBUTES[key]:
        if option not in wanted:
            continue
        value = wanted[option]
        same = (str(current.get(option)).lower() == str(value).lower()) if kind == 'token' else current.get(option) == value
        if not same:
            changes.append((attribute, value))
        after[option] = value
    ops = []
    if key == 'windows_authentication' and 'providers' in wanted:
        have = list(current.get('providers') or [])
        want = list(wanted['providers'])
        if [item.lower() for item in have] != [item.lower() for item in want]:
            keep = 0
            while keep < min(len(have), len(want)) and have[keep].lower() == want[keep].lower():
                keep += 1
            ops.extend(('-', provider) for provider in have[keep:])
            ops.extend(('+', provider) for provider in want[keep:])
            after['providers'] = have[:keep] + want[keep:]
    return after, changes, ops


def plan(before, desired):
    """``(after, {key: (attribute_changes, provider_ops)})`` for every section that changes."""
    after = {}
    changes = {}
    for key, dummy in SECTIONS:
        section_after, attrs, ops = plan_section(key, before[key], desired.get(key, {}))
        after[key] = section_after
        if attrs or ops:
            changes[key] = (attrs, ops)
    return after, changes


def policy_violations(desired, after, where):
    """Why the declared state is refused (empty list: allowed)."""
    reasons = []
    basic = desired.get('basic_authentication', {})
    if basic.get('enabled') is True:
        reasons.append(
            'Basic authentication must stay off on %s: with Basic on, IIS tries to log every "Authorization: Basic" header on '
            'as a Windows account and answers 401 itself, so every personal access token (sent as Basic with an empty user '
            'name) is rejected before Azure DevOps Server sees it, and clients send reusable passwords with every request.'
            % where)
    anonymous = desired.get('anonymous_authentication', {})
    if anonymous.get('enabled') is True:
        reasons.append(
            'Anonymous authentication must stay off on %s: Azure DevOps Server does not support it; IIS stops challenging '
            'for Windows credentials, so every unauthenticated request reaches the server (exposing it), browsers and tools '
            'stop signing AD users in, and users and PAT clients see anonymous-user failures instead of their own identity.'
            % where)
    windows = desired.get('windows_authentication', {})
    if windows.get('enabled') is False:
        reasons.append(
            'Windows authentication must stay on on %s: without it Active Directory users (browsers, Visual Studio, git '
            'with NTLM/Kerberos) are locked out, and with no IIS authentication method left IIS answers 401 to every '
            'request, personal access tokens included.' % where)
    elif 'providers' in windows and not windows['providers'] and after['windows_authentication'].get('enabled'):
        reasons.append(
            'Windows authentication on %s needs at least one provider: with an empty provider list IIS offers no Windows '
            'sign-in, which locks Active Directory users out.' % where)
    return reasons


FINDINGS = {
    'BASIC_AUTH_ENABLED': 'high',
    'ANONYMOUS_ENABLED': 'high',
    'WINDOWS_AUTH_DISABLED': 'high',
    'WINDOWS_AUTH_NO_PROVIDERS': 'high',
    'NO_NEGOTIATE_PROVIDER': 'medium',
    'EXTENDED_PROTECTION_REQUIRED_BEHIND_PROXY': 'medium',
    'DIGEST_AUTH_ENABLED': 'low',
}


def findings(state, where):
    """What is wrong with a state, as ``[{code, severity, message}]`` (most severe first)."""
    found = []

    def add(code, message):
        found.append({'code': code, 'severity': FINDINGS[code], 'message': message})

    windows = state['windows_authentication']
    if state['basic_authentication'].get('enabled'):
        add('BASIC_AUTH_ENABLED', 'Basic authentication is enabled on %s: IIS answers requests that carry a personal access '
                                  'token (HTTP Basic with an empty user name) with 401 itself, so PATs fail, and clients send '
                                  'reusable credentials with every request. Disable it.' % where)
    if state['anonymous_authentication'].get('enabled'):
        add('ANONYMOUS_ENABLED', 'Anonymous authentication is enabled on %s: unsupported for Azure DevOps Server; IIS lets '
                                 'unauthenticated requests through and stops challenging users for Windows sign-in. '
                                 'Disable it.' % where)
    if not windows.get('enabled'):
        add('WINDOWS_AUTH_DISABLED', 'Windows authentication is disabled on %s: Active Directory users cannot sign in. '
                                     'Enable it with the providers Negotiate, NTLM.' % where)
    elif not windows.get('providers'):
        add('WINDOWS_AUTH_NO_PROVIDERS', 'Windows authentication on %s has no provider: no Windows sign-in is offered, so '
                                         'Active Directory users are locked out. Add Negotiate and NTLM.' % where)
    elif not any(provider.lower().startswith('negotiate') for provider in windows['providers']):
        add('NO_NEGOTIATE_PROVIDER', 'Windows authentication on %s offers %s but not Negotiate: Kerberos is never used, every '
                                     'sign-in falls back to NTLM. Put Negotiate first (Negotiate, NTLM).'
                                     % (where, ', '.join(windows['providers'])))
    flags = [flag.strip().lower() for flag in str(windows.get('extended_protection_flags') or '').split(',')]
    if windows.get('enabled') and str(windows.get('extended_protection')).lower() == 'require' and (
            'proxy' in flags or 'proxycohosting' in flags):
        add('EXTENDED_PROTECTION_REQUIRED_BEHIND_PROXY',
            'Extended Protection is Require on %s while its flags declare a proxy in the path: when the proxy or load '
            'balancer terminates TLS the client\'s channel binding token cannot match, and Windows sign-in through it fails '
            'with 401 unless the SPNs are listed. Use Allow (or None) behind a TLS-terminating proxy.' % where)
    if state['digest_authentication'].get('enabled'):
        add('DIGEST_AUTH_ENABLED', 'Digest authentication is enabled on %s: not part of the supported Azure DevOps Server '
                                   'baseline (Windows authentication only). Disable it.' % where)
    order = ('critical', 'high', 'medium', 'low')
    return sorted(found, key=lambda finding: order.index(finding['severity']))


# ---------------------------------------------------------------------------------------------
# appcmd command lines and their rendering for each shell


def read_site_args(site):
    return ['list', 'site', site, '/config:*', '/xml']


def read_section_args(cfg_path, key):
    return ['list', 'config', cfg_path, '/section:' + SECTION_ROOT + SECTION_NAMES[key], '/config:*', '/xml']


def _format_value(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


def write_args(cfg_path, key, attrs, ops):
    """The ``set config`` commands for one section: one per provider change, then one for the attributes."""
    section = '/section:' + SECTION_ROOT + SECTION_NAMES[key]
    commands = []
    for sign, provider in ops:
        commands.append(['set', 'config', cfg_path, section, "/%sproviders.[value='%s']" % (sign, provider), '/commit:apphost'])
    if attrs:
        commands.append(['set', 'config', cfg_path, section]
                        + ['/%s:%s' % (attribute, _format_value(value)) for attribute, value in attrs]
                        + ['/commit:apphost'])
    return commands


def _split_env(path):
    """``%windir%\\x`` -> [('env', 'windir'), ('text', '\\x')]."""
    parts = []
    position = 0
    for match in _ENV_REF_RE.finditer(path):
        if match.start() > position:
            parts.append(('text', path[position:match.start()]))
        parts.append(('env', match.group(1)))
        position = match.end()
    if position < len(path):
        parts.append(('text', path[position:]))
    return parts


def _ps_single(value):
    """A PowerShell single-quoted literal (the 4 single-quote characters are doubled)."""
    return "'" + re.sub(u"(['\u2018\u2019\u201a\u201b])", u'\\1\\1', value) + "'"


def _ps_double_text(value):
    """Text for a PowerShell double-quoted string: backtick-escape `, $ and the double-quote characters."""
    return re.sub(u'([`$"\u201c\u201d\u201e])', u'`\\1', value)


def _cmd_arg(value):
    if value and _CMD_SAFE_RE.match(value):
        return value
    return '"%s"' % value


def render_command(appcmd_path, args, shell_family):
    """The command line (or PowerShell script) that runs appcmd with ``args`` in a shell family.

    - ``powershell``: a script for the PowerShell shell plugin (``$env:`` for ``%VAR%``, single-quoted
      arguments, an explicit check that appcmd exists, and ``exit $LASTEXITCODE``).
    - ``cmd``: a cmd.exe command line (``%VAR%`` expanded by cmd.exe, double-quoted arguments).
    - anything else: a POSIX sh command line (``%VAR%`` becomes ``"${VAR}"``).
    """
    for arg in args:
        if '"' in arg or '\n' in arg or '\r' in arg or '\x00' in arg:
            raise IisError('INVALID_ARGUMENT', 'appcmd argument %r cannot be passed safely through a shell.' % arg)
    if '"' in appcmd_path or '\n' in appcmd_path:
        raise IisError('INVALID_ARGUMENT', 'appcmd_path %r contains a double quote or a line break.' % appcmd_path)
    parts = _split_env(appcmd_path)
    if shell_family == 'powershell':
        exe = '"%s"' % ''.join('${env:%s}' % value if kind == 'env' else _ps_double_text(value) for kind, value in parts)
        return '\n'.join([
            '$appcmd = %s' % exe,
            'if (-not (Test-Path -LiteralPath $appcmd -PathType Leaf)) {',
            '    [Console]::Error.WriteLine("appcmd.exe not found: $appcmd")',
            '    exit 9009',
            '}',
            '& $appcmd %s' % ' '.join(_ps_single(arg) for arg in args),
            'exit $LASTEXITCODE',
        ])
    if shell_family == 'cmd':
        return display_command(appcmd_path, args)
    exe = ''
    for kind, value in parts:
        if kind == 'env' and _POSIX_NAME_RE.match(value):
            exe += '"${%s}"' % value
        else:
            exe += shlex.quote('%' + value + '%' if kind == 'env' else value)
    return ' '.join([exe] + [shlex.quote(arg) for arg in args])


def display_command(appcmd_path, args):
    """The command as typed in an elevated cmd.exe prompt (what ``commands`` reports)."""
    exe = appcmd_path
    if not _CMD_SAFE_RE.match(exe):
        # A quoted program name must not open the line: cmd /c strips the first and last quote then.
        exe = 'call "%s"' % exe
    return ' '.join([exe] + [_cmd_arg(arg) for arg in args])


# ---------------------------------------------------------------------------------------------
# The module


def _run_appcmd(execute, request, args, what):
    rc, stdout, stderr = execute(args)
    if rc != 0:
        kind = classify_failure(rc, stdout, stderr)
        raise IisError(kind, failure_message(kind, what, request['appcmd_path'], request['site'], request['path'],
                                             rc, stdout, stderr), rc=rc)
    return stdout


def read_state(execute, request):
    """``(before, meta)`` of the four sections at the request's configuration path."""
    before = {}
    meta = {}
    for key, name in SECTIONS:
        output = _run_appcmd(execute, request, read_section_args(request['config_path'], key),
                             'read %s%s for %s' % (SECTION_ROOT, name, request['config_path']))
        before[key], meta[key] = parse_section(output, key)
    return before, meta


def section_diff(where, before, after, keys):
    return [{'before_header': '%s: %s (before)' % (where, SECTION_NAMES[key]),
             'after_header': '%s: %s (after)' % (where, SECTION_NAMES[key]),
             'before': before[key], 'after': after[key]} for key, dummy in SECTIONS if key in keys]


def run(params, check_mode, warn, execute):
    """Read, diff, check the policy and (unless check mode) apply; ``execute(args) -> (rc, stdout, stderr)``."""
    site = validate_site(params.get('site'))
    path = normalize_path(params.get('path'))
    appcmd_path = (params.get('appcmd_path') or DEFAULT_APPCMD).strip()
    request = {'site': site, 'path': path, 'config_path': config_path(site, path), 'appcmd_path': appcmd_path}
    where = '"%s"' % request['config_path']
    desired = desired_state(params)

    site_output = _run_appcmd(execute, request, read_site_args(site), 'list the IIS site "%s"' % site)
    paths = parse_site_paths(site_output, site)
    if not path_exists(paths, path):
        raise IisError('PATH_NOT_FOUND', 'The IIS site "%s" has no application or virtual directory "/%s"; it has: %s. '
                                         'Set path to one of them (for example tfs), or leave it empty for the site root.'
                       % (site, path, ', '.join(paths) or '(none)'))

    before, meta = read_state(execute, request)
    after, changes = plan(before, desired)
    result = {
        'changed': False,
        'config_path': request['config_path'],
        'before': before,
        'after': after,
        'commands': [],
        'findings': findings(after, where),
    }

    violations = policy_violations(desired, after, where)
    if violations and not params.get('allow_insecure'):
        result.update(after=before, findings=findings(before, where))
        raise IisError('POLICY', 'Refused by the security policy of azdo.auth.ado_iis_auth (nothing was changed; set '
                                 'allow_insecure: true only if you accept the consequences): ' + ' '.join(violations),
                       **result)
    for reason in violations:
        warn('allow_insecure is set, applying a state the policy refuses: ' + reason)

    locked = [SECTION_NAMES[key] for key in changes if meta[key]['locked']]
    if locked:
        result.update(after=before, findings=findings(before, where))
        raise IisError('SECTION_LOCKED', 'Could not change %s for %s: the section is locked at this path by a parent '
                                         '<location overrideMode="Deny"> (or allowOverride="false") in applicationHost.config; '
                                         'nothing was changed. Unlock it at the parent level (appcmd unlock config) or manage '
                                         'the setting there. appcmd reported: %s'
                       % (', '.join(locked), where, '; '.join('%s path="%s" overrideMode="%s" locked="true"'
                                                              % (SECTION_NAMES[key], meta[key]['path'], meta[key]['override_mode'])
                                                              for key in changes if meta[key]['locked'])), **result)

    writes = []
    for key, dummy in SECTIONS:
        if key in changes:
            writes.extend(write_args(request['config_path'], key, *changes[key]))
    result['commands'] = [display_command(appcmd_path, args) for args in writes]
    result['changed'] = bool(writes)
    if writes:
        result['diff'] = section_diff(request['config_path'], before, after, changes)

    if writes and not check_mode:
        done = []
        for args in writes:
            rc, stdout, stderr = execute(args)
            done.append(display_command(appcmd_path, args))
            if rc != 0:
                kind = classify_failure(rc, stdout, stderr)
                result.update(commands=done, changed=len(done) > 1)
                raise IisError(kind, failure_message(kind, 'change %s' % request['config_path'], appcmd_path, site, path,
                                                     rc, stdout, stderr)
                               + (' The commands before it were applied.' if len(done) > 1 else ' Nothing was changed.'),
                               **result)
        applied, dummy_meta = read_state(execute, request)
        mismatch = [SECTION_NAMES[key] for key in changes if applied[key] != after[key]]
        if mismatch:
            result.update(after=applied, findings=findings(applied, where))
            raise IisError('NOT_APPLIED', 'appcmd accepted the changes but IIS reports a different state afterwards for %s '
                                          '(a parent lock or an inherited value may override them): expected %s, got %s'
                           % (', '.join(mismatch), [after[key] for key in changes], [applied[key] for key in changes]),
                           **result)
        result['after'] = applied

    for finding in result['findings']:
        if finding['severity'] in SEVERITY_WARN:
            warn('%s: %s' % (finding['code'], finding['message']))
    return result
