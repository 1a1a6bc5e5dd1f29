#!/usr/bin/env python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""A stand-in for IIS ``appcmd.exe`` that reads and writes a real applicationHost.config file.

Same command line, output (``/xml`` with ``<appcmd><CONFIG ...>`` / ``<SITE ...>`` elements, or the
text form), error lines (``ERROR ( message:... )`` on stdout) and exit codes as appcmd.exe for the
subset the azdo.auth collection uses. See README.md next to this file.

    APPCMD_SIM_CONFIG=/tmp/applicationHost.config python3 appcmd.py list config "Azure DevOps Server/tfs" \\
        /section:system.webServer/security/authentication/windowsAuthentication /config:* /xml

Configuration file: ``$APPCMD_SIM_CONFIG`` (default: applicationHost.config next to this script).
Fault injection: ``$APPCMD_SIM_DENY`` or a file ``<config>.deny`` containing ``read``, ``write`` or
``all`` makes appcmd fail as a non-elevated user does.
"""

from __future__ import annotations

import os
import re
import sys
import xml.etree.ElementTree as ET

APPHOST = 'MACHINE/WEBROOT/APPHOST'

# Exit codes: appcmd exits with the Win32 code of the failure (the low word of the HRESULT).
EXIT_OK = 0
EXIT_ACCESS_DENIED = 5            # 0x80070005
EXIT_INVALID_DATA = 13            # 0x8007000D, configuration file not well formed
EXIT_LOCK_VIOLATION = 33          # 0x80070021
EXIT_INVALID_PARAMETER = 87       # 0x80070057
EXIT_ALREADY_EXISTS = 183         # 0x800700B7
EXIT_NOT_FOUND = 1168             # 0x80070490
EXIT_ELEMENT_NOT_FOUND = 4312     # 0x800710D8

LOCK_TEXT = ('This configuration section cannot be used at this path. This happens when the section is locked at a '
             'parent level. Locking is either by default (overrideModeDefault="Deny"), or set explicitly by a location '
             'tag with overrideMode="Deny" or the legacy allowOverride="false".')

BOOL = ('true', 'false')
LOGON_METHODS = ('Interactive', 'Batch', 'Network', 'ClearText')
EP_FLAGS = ('None', 'Proxy', 'NoServiceNameCheck', 'AllowDotlessSpn', 'ProxyCohosting')

# The schema of the sections the simulator knows (IIS_schema.xml, IIS 10): attributes in schema
# order as (name, type, default, choices), child elements, and collections.
PROVIDERS = {'attributes': [], 'elements': {},
             'collection': {'add': 'add', 'remove': 'remove', 'clear': 'clear', 'key': 'value'}}
EXTENDED_PROTECTION = {'attributes': [('tokenChecking', 'enum', 'None', ('None', 'Allow', 'Require')),
                                      ('flags', 'flags', 'None', EP_FLAGS)],
                       'elements': {},
                       'collection': {'add': 'spn', 'remove': 'removeSpn', 'clear': 'clearSpns', 'key': 'name'}}
SCHEMA = {
    'system.webServer/security/authentication/windowsAuthentication': {
        'attributes': [('enabled', 'bool', 'false', BOOL), ('authPersistNonNTLM', 'bool', 'true', BOOL),
                       ('authPersistSingleRequest', 'bool', 'false', BOOL), ('useKernelMode', 'bool', 'true', BOOL),
                       ('useAppPoolCredentials', 'bool', 'false', BOOL)],
        'elements': {'extendedProtection': EXTENDED_PROTECTION, 'providers': PROVIDERS},
        'element_order': ('extendedProtection', 'providers'),
    },
    'system.webServer/security/authentication/anonymousAuthentication': {
        'attributes': [('enabled', 'bool', 'true', BOOL), ('userName', 'str', 'IUSR', None), ('password', 'str', '', None),
                       ('logonMethod', 'enum', 'ClearText', LOGON_METHODS)],
        'elements': {},
    },
    'system.webServer/security/authentication/basicAuthentication': {
        'attributes': [('enabled', 'bool', 'false', BOOL), ('realm', 'str', '', None), ('defaultLogonDomain', 'str', '', None),
                       ('logonMethod', 'enum', 'ClearText', LOGON_METHODS)],
        'elements': {},
    },
    'system.webServer/security/authentication/digestAuthentication': {
        'attributes': [('enabled', 'bool', 'false', BOOL), ('realm', 'str', '', None)],
        'elements': {},
    },
}


class AppcmdError(Exception):
    def __init__(self, message, code, hresult=None):
        super(AppcmdError, self).__init__(message)
        self.message = message
        self.code = code
        self.hresult = hresult

    def render(self):
        if self.hresult:
            return 'ERROR ( hresult:%s, message:%s\n )' % (self.hresult, self.message)
        return 'ERROR ( message:%s )' % self.message


def out(text):
    """appcmd prints CRLF line endings."""
    sys.stdout.write(text.replace('\r\n', '\n').replace('\n', '\r\n'))
    if not text.endswith('\n'):
        sys.stdout.write('\r\n')


# ---------------------------------------------------------------------------------------------
# Command line


class Command(object):
    """``appcmd <verb> <object> [identifier] [/param:value ...] [/+path.[k='v']] [/-path.[k='v']]``."""

    def __init__(self, argv):
        self.verb = argv[0].lower() if argv else ''
        self.obj = argv[1].lower() if len(argv) > 1 else ''
        self.identifier = None
        self.params = []      # (name, value or None) in order
        self.ops = []         # ('+' or '-', path, {key: value}) in order
        for arg in argv[2:]:
            if arg[:1] in ('/', '-') and len(arg) > 1:
                body = arg[1:]
                if body[:1] in ('+', '-'):
                    self.ops.append(parse_op(body[0], body[1:]))
                    continue
                name, sep, value = split_param(body)
                self.params.append((name, value if sep else None))
            elif self.identifier is None:
                self.identifier = arg
            else:
                raise AppcmdError('Unexpected argument "%s".  Replace with -? for help.' % arg, EXIT_INVALID_PARAMETER)

    def get(self, name, default=None):
        for key, value in self.params:
            if key.lower() == name.lower():
                return value if value is not None else ''
        return default

    def has(self, name):
        return any(key.lower() == name.lower() for key, dummy in self.params)


def split_param(body):
    """'extendedProtection.tokenChecking:Require' -> (name, ':', value); ':' inside [...] does not split."""
    depth = 0
    for index, char in enumerate(body):
        if char == '[':
            depth += 1
        elif char == ']':
            depth -= 1
        elif char == ':' and depth == 0:
            return body[:index], ':', body[index + 1:]
    return body, '', ''


_OP_RE = re.compile(r"^(?P<path>[A-Za-z0-9_.]*?)\.?\[(?P<keys>.*)\]$")
_KEY_RE = re.compile(r"\s*(?P<name>[A-Za-z0-9_]+)\s*=\s*'(?P<value>[^']*)'\s*(,|$)")


def parse_op(sign, body):
    match = _OP_RE.match(body)
    if not match:
        raise AppcmdError('Unknown attribute "%s".  Replace with -? for help.' % body, EXIT_INVALID_PARAMETER)
    keys = {}
    rest = match.group('keys')
    position = 0
    while position < len(rest):
        key = _KEY_RE.match(rest, position)
        if not key:
            raise AppcmdError('Malformed collection indexer "[%s]".' % rest, EXIT_INVALID_PARAMETER)
        keys[key.group('name')] = key.group('value')
        position = key.end()
    return sign, match.group('path'), keys


# ---------------------------------------------------------------------------------------------
# applicationHost.config


def config_file():
    return os.environ.get('APPCMD_SIM_CONFIG') or os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                               'applicationHost.config')


def denied(operation):
    mode = os.environ.get('APPCMD_SIM_DENY', '').strip().lower()
    marker = config_file() + '.deny'
    if not mode and os.path.exists(marker):
        with open(marker, encoding='utf-8') as handle:
            mode = handle.read().strip().lower() or 'all'
    return mode == 'all' or mode == operation


def load():
    path = config_file()
    if denied('read'):
        raise AppcmdError('Configuration error\nFilename: redirection.config\nLine Number: 0\nDescription: Cannot read '
                          'configuration file due to insufficient permissions\n\n.', EXIT_ACCESS_DENIED)
    parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True))
    try:
        return ET.parse(path, parser=parser)
    except ET.ParseError as exc:
        raise AppcmdError('Configuration error\nFilename: %s\nLine Number: %s\nDescription: Configuration file is not '
                          'well-formed XML\n\n.' % (path, exc.position[0]), EXIT_INVALID_DATA)
    except OSError as exc:
        raise AppcmdError('Configuration error\nFilename: %s\nLine Number: 0\nDescription: Cannot read configuration file '
                          '(%s)\n\n.' % (path, exc.strerror), EXIT_NOT_FOUND)


def save(tree):
    if denied('write'):
        raise AppcmdError('Failed to commit configuration changes.\n\nAccess is denied.\n', EXIT_ACCESS_DENIED,
                          hresult='80070005')
    ET.indent(tree, space='    ')
    path = config_file()
    # Keep the XML declaration and the comments before <configuration> as they are (ElementTree
    # holds only the root element), like IIS does when it rewrites the file.
    with open(path, encoding='utf-8-sig') as handle:
        original = handle.read()
    start = original.find('<configuration')
    prolog = original[:start] if start > 0 else '<?xml version="1.0" encoding="UTF-8"?>\n'
    temporary = path + '.tmp'
    with open(temporary, 'w', encoding='utf-8', newline='\n') as handle:
        handle.write(prolog + ET.tostring(tree.getroot(), encoding='unicode') + '\n')
    os.replace(temporary, path)


def resolve_section(name):
    if not name:
        raise AppcmdError('Missing required parameter "section".  Replace with -? for help.', EXIT_INVALID_PARAMETER)
    wanted = name.strip().lower()
    for section in SCHEMA:
        if section.lower() == wanted or section.rsplit('/', 1)[1].lower() == wanted:
            return section
    raise AppcmdError('Unknown config section "%s".  Replace with ? for help.' % name, EXIT_INVALID_PARAMETER)


def override_mode_default(root, section):
    group = root.find('configSections')
    parts = section.split('/')
    for part in parts[:-1]:
        if group is None:
            return 'Allow'
        group = next((child for child in group.findall('sectionGroup') if child.get('name') == part), None)
    if group is None:
        return 'Allow'
    declared = next((child for child in group.findall('section') if child.get('name') == parts[-1]), None)
    return (declared.get('overrideModeDefault') if declared is not None else None) or 'Allow'


def sites(root):
    container = root.find('system.applicationHost/sites')
    return container.findall('site') if container is not None else []


def find_site(root, name):
    for site in sites(root):
        if (site.get('name') or '').lower() == name.lower():
            return site
    return None


def split_path(identifier):
    """'MACHINE/WEBROOT/APPHOST/Site/tfs/' or 'Site/tfs' -> ['Site', 'tfs']; None or '' -> []."""
    text = (identifier or '').replace('\\', '/').strip()
    if text.upper().startswith(APPHOST):
        text = text[len(APPHOST):]
    return [segment for segment in text.split('/') if segment and segment != '.']


def check_site(root, segments):
    if segments and find_site(root, segments[0]) is None:
        raise AppcmdError('Cannot find SITE object with identifier "%s".' % segments[0], EXIT_NOT_FOUND)


def location_segments(location):
    return split_path(location.get('path', ''))


def same_path(left, right):
    return [segment.lower() for segment in left] == [segment.lower() for segment in right]


def section_element(parent, section, create=False):
    node = parent
    for part in section.split('/'):
        child = node.find(part)
        if child is None:
            if not create:
                return None
            child = ET.SubElement(node, part)
        node = child
    return node


def levels(root, section, segments):
    """The section elements that apply at a path, from the server level down."""
    found = []
    global_element = section_element(root, section)
    if global_element is not None:
        found.append(global_element)
    for depth in range(0, len(segments) + 1):
        for location in root.findall('location'):
            if same_path(location_segments(location), segments[:depth]):
                element = section_element(location, section)
                if element is not None:
                    found.append(element)
    return found


def locked_by_parent(root, section, segments):
    """The <location> above the path that locks the section (overrideMode="Deny" / allowOverride="false")."""
    for depth in range(0, len(segments)):
        for location in root.findall('location'):
            if not same_path(location_segments(location), segments[:depth]):
                continue
            deny = (location.get('overrideMode') or '').lower() == 'deny' or (location.get('allowOverride') or '').lower() == 'false'
            if deny and section_element(location, section) is not None:
                return location
    return None


# ---------------------------------------------------------------------------------------------
# The effective configuration


def new_node():
    return {'attributes': {}, 'elements': {}, 'items': []}


def merge(node, element, schema):
    for key, value in element.attrib.items():
        node['attributes'][key] = value
    for name, child_schema in schema.get('elements', {}).items():
        child = element.find(name)
        if child is not None:
            merge(node['elements'].setdefault(name, new_node()), child, child_schema)
    collection = schema.get('collection')
    if collection:
        key = collection['key']
        for child in list(element):
            if not isinstance(child.tag, str):
                continue
            if child.tag == collection['clear']:
                node['items'] = []
            elif child.tag == collection['remove']:
                node['items'] = [item for item in node['items'] if item.get(key, '').lower() != child.get(key, '').lower()]
            elif child.tag == collection['add']:
                node['items'] = [item for item in node['items'] if item.get(key, '').lower() != child.get(key, '').lower()]
                node['items'].append(dict(child.attrib))


def effective(root, section, segments):
    schema = SCHEMA[section]
    node = new_node()
    for element in levels(root, section, segments):
        merge(node, element, schema)
    return node


def _escape(value):
    return (value.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;').replace('"', '&quot;'))


def _attributes(node, schema, all_values):
    pairs = []
    known = set()
    for name, dummy_kind, default, dummy_choices in schema['attributes']:
        known.add(name)
        if name in node['attributes']:
            pairs.append((name, node['attributes'][name]))
        elif all_values:
            pairs.append((name, default))
    for name, value in node['attributes'].items():
        if name not in known:
            pairs.append((name, value))
    return ''.join(' %s="%s"' % (name, _escape(value)) for name, value in pairs)


def render_node(tag, node, schema, all_values, indent, step):
    """Lines of one element with its children, empty elements self-closed."""
    pad = ' ' * indent
    head = '%s<%s%s' % (pad, tag, _attributes(node, schema, all_values))
    body = []
    order = schema.get('element_order') or tuple(schema.get('elements', {}))
    for name in order:
        child_schema = schema['elements'][name]
        body.extend(render_node(name, node['elements'].get(name, new_node()), child_schema, all_values, indent + step, step))
    collection = schema.get('collection')
    if collection:
        for item in node['items']:
            body.append('%s<%s%s />' % (' ' * (indent + step), collection['add'],
                                        ''.join(' %s="%s"' % (key, _escape(value)) for key, value in item.items())))
    if not body:
        return [head + ' />']
    return [head + '>'] + body + ['%s</%s>' % (pad, tag)]


def list_config(command):
    tree = load()
    root = tree.getroot()
    segments = split_path(command.identifier)
    check_site(root, segments)
    section = resolve_section(command.get('section'))
    node = effective(root, section, segments)
    all_values = (command.get('config') or '') == '*'
    config_path = '/'.join([APPHOST] + segments)
    if command.has('xml'):
        exact = [location for location in root.findall('location') if same_path(location_segments(location), segments)
                 and location.get('overrideMode')]
        override = exact[-1].get('overrideMode') if exact and segments else 'Inherit'
        locked = 'true' if locked_by_parent(root, section, segments) is not None else 'false'
        lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<appcmd>',
                 '    <CONFIG CONFIG.SECTION="%s" path="%s" overrideMode="%s" locked="%s">'
                 % (section, _escape(config_path), override, locked)]
        lines.extend(render_node(section.replace('/', '-'), node, SCHEMA[section], all_values, 8, 4))
        lines.extend(['    </CONFIG>', '</appcmd>'])
        out('\n'.join(lines))
        return EXIT_OK
    parts = section.split('/')
    lines = []
    for depth, part in enumerate(parts[:-1]):
        lines.append('%s<%s>' % ('  ' * depth, part))
    lines.extend(render_node(parts[-1], node, SCHEMA[section], all_values, 2 * (len(parts) - 1), 2))
    for depth in range(len(parts) - 2, -1, -1):
        lines.append('%s</%s>' % ('  ' * depth, parts[depth]))
    out('\n'.join(lines))
    return EXIT_OK


def list_site(command):
    root = load().getroot()
    wanted = command.identifier or command.get('name') or command.get('site.name')
    chosen = sites(root)
    if wanted:
        chosen = [site for site in chosen if (site.get('name') or '').lower() == wanted.lower()]
        if not chosen:
            raise AppcmdError('Cannot find SITE object with identifier "%s".' % wanted, EXIT_NOT_FOUND)
    with_config = command.has('config')
    lines = []
    if command.has('xml'):
        lines.extend(['<?xml version="1.0" encoding="UTF-8"?>', '<appcmd>'])
    for site in chosen:
        bindings = ','.join('%s/%s' % (binding.get('protocol'), binding.get('bindingInformation'))
                            for binding in site.findall('bindings/binding'))
        state = 'Stopped' if (site.get('serverAutoStart') or '').lower() == 'false' else 'Started'
        if not command.has('xml'):
            lines.append('SITE "%s" (id:%s,bindings:%s,state:%s)' % (site.get('name'), site.get('id'), bindings, state))
            continue
        head = '    <SITE SITE.NAME="%s" SITE.ID="%s" bindings="%s" state="%s"' % (
            _escape(site.get('name') or ''), site.get('id'), _escape(bindings), state)
        if not with_config:
            lines.append(head + ' />')
            continue
        copy = ET.fromstring(ET.tostring(site))
        copy.tail = None
        ET.indent(copy, space='    ', level=2)
        raw = ET.tostring(copy, encoding='unicode').rstrip()
        lines.extend([head + '>', '        ' + raw, '    </SITE>'])
    if command.has('xml'):
        lines.append('</appcmd>')
    out('\n'.join(lines) if lines else '')
    return EXIT_OK


# ---------------------------------------------------------------------------------------------
# Changes


def _canonical(value, kind, choices, attribute):
    if kind == 'bool':
        lowered = value.strip().lower()
        if lowered not in BOOL:
            raise AppcmdError('Invalid boolean value "%s" for attribute "%s".' % (value, attribute), EXIT_INVALID_PARAMETER)
        return lowered
    if kind == 'enum':
        for choice in choices:
            if choice.lower() == value.strip().lower():
                return choice
        raise AppcmdError('Invalid enumeration value "%s" for attribute "%s".' % (value, attribute), EXIT_INVALID_PARAMETER)
    if kind == 'flags':
        result = []
        for flag in value.split(','):
            match = [choice for choice in choices if choice.lower() == flag.strip().lower()]
            if not match:
                raise AppcmdError('Invalid flags value "%s" for attribute "%s".' % (value, attribute), EXIT_INVALID_PARAMETER)
            result.append(match[0])
        return ','.join(result)
    return value


def set_attribute(element, schema, dotted, value):
    node_schema = schema
    node = element
    parts = dotted.split('.')
    for part in parts[:-1]:
        names = {name.lower(): name for name in node_schema.get('elements', {})}
        if part.lower() not in names:
            raise AppcmdError('Unknown attribute "%s".  Replace with -? for help.' % dotted, EXIT_INVALID_PARAMETER)
        name = names[part.lower()]
        node_schema = node_schema['elements'][name]
        child = node.find(name)
        node = child if child is not None else ET.SubElement(node, name)
    for name, kind, dummy_default, choices in node_schema['attributes']:
        if name.lower() == parts[-1].lower():
            node.set(name, _canonical(value, kind, choices, dotted))
            return
    raise AppcmdError('Unknown attribute "%s".  Replace with -? for help.' % dotted, EXIT_INVALID_PARAMETER)


def apply_op(root, section, segments, element, op):
    sign, dotted, keys = op
    schema = SCHEMA[section]
    node_schema = schema
    node = element
    path = []
    for part in [part for part in dotted.split('.') if part]:
        names = {name.lower(): name for name in node_schema.get('elements', {})}
        if part.lower() not in names:
            raise AppcmdError('Unknown attribute "%s".  Replace with -? for help.' % dotted, EXIT_INVALID_PARAMETER)
        name = names[part.lower()]
        path.append(name)
        node_schema = node_schema['elements'][name]
        child = node.find(name)
        node = child if child is not None else ET.SubElement(node, name)
    collection = node_schema.get('collection')
    if not collection:
        raise AppcmdError('Unknown attribute "%s".  Replace with -? for help.' % dotted, EXIT_INVALID_PARAMETER)
    key = collection['key']
    if key not in keys:
        raise AppcmdError('New %s object missing required attributes. Cannot add or remove a collection element '
                          'without its key attribute \'%s\'.' % (collection['add'], key), EXIT_INVALID_PARAMETER)
    wanted = keys[key].lower()
    current = effective(root, section, segments)
    for name in path:
        current = current['elements'].get(name, new_node())
    present = any(item.get(key, '').lower() == wanted for item in current['items'])
    if sign == '+':
        if present:
            raise AppcmdError("Cannot add duplicate collection entry of type '%s' with unique key attribute '%s' set to '%s'"
                              % (collection['add'], key, keys[key]), EXIT_ALREADY_EXISTS)
        added = ET.SubElement(node, collection['add'])
        for name, value in keys.items():
            added.set(name, value)
        return
    if not present:
        raise AppcmdError('Cannot find requested collection element.', EXIT_ELEMENT_NOT_FOUND)
    for child in [child for child in node.findall(collection['add']) if child.get(key, '').lower() == wanted]:
        node.remove(child)
    still = effective(root, section, segments)
    for name in path:
        still = still['elements'].get(name, new_node())
    if any(item.get(key, '').lower() == wanted for item in still['items']):
        removed = ET.SubElement(node, collection['remove'])
        removed.set(key, keys[key])


def target_location(root, section, segments):
    """The <location> a /commit:apphost write for this path goes to (created at the end if missing)."""
    candidates = [location for location in root.findall('location') if same_path(location_segments(location), segments)]
    for location in reversed(candidates):
        if section_element(location, section) is not None:
            return location
    for location in candidates:
        if (location.get('overrideMode') or '').lower() != 'deny':
            return location
    location = ET.SubElement(root, 'location')
    location.set('path', '/'.join(segments))
    return location


def set_config(command):
    tree = load()
    root = tree.getroot()
    segments = split_path(command.identifier)
    check_site(root, segments)
    section = resolve_section(command.get('section'))
    commit = (command.get('commit') or '').strip()
    if commit.lower() not in ('apphost', APPHOST.lower()):
        if override_mode_default(root, section).lower() == 'deny' and segments:
            raise AppcmdError('Failed to commit configuration changes.\n\n' + LOCK_TEXT, EXIT_LOCK_VIOLATION, hresult='80070021')
        raise AppcmdError('This simulator writes applicationHost.config only: add /commit:apphost.', EXIT_INVALID_PARAMETER)
    if segments and locked_by_parent(root, section, segments) is not None:
        raise AppcmdError('Failed to commit configuration changes.\n\n' + LOCK_TEXT, EXIT_LOCK_VIOLATION, hresult='80070021')
    parent = target_location(root, section, segments) if segments else root
    element = section_element(parent, section, create=True)
    reserved = ('section', 'commit', 'xml', 'text', 'config', 'in')
    for name, value in command.params:
        if name.lower() in reserved:
            continue
        set_attribute(element, SCHEMA[section], name, value or '')
    for op in command.ops:
        apply_op(root, section, segments, element, op)
    save(tree)
    out('Applied configuration changes to section "%s" for "%s" at configuration commit path "%s"'
        % (section, '/'.join([APPHOST] + segments), APPHOST))
    return EXIT_OK


def lock_config(command, lock):
    tree = load()
    root = tree.getroot()
    segments = split_path(command.identifier)
    check_site(root, segments)
    section = resolve_section(command.get('section'))
    mode = 'Deny' if lock else 'Allow'
    existing = None
    for location in root.findall('location'):
        if same_path(location_segments(location), segments):
            element = section_element(location, section)
            if element is not None:
                existing = element
                section_element(location, section.rsplit('/', 1)[0]).remove(element)
    holder = next((location for location in root.findall('location') if same_path(location_segments(location), segments)
                   and (location.get('overrideMode') or '') == mode), None)
    if holder is None:
        holder = ET.SubElement(root, 'location')
        holder.set('path', '/'.join(segments))
        holder.set('overrideMode', mode)
    container = section_element(holder, section.rsplit('/', 1)[0], create=True)
    container.append(existing if existing is not None else ET.Element(section.rsplit('/', 1)[1]))
    save(tree)
    out('%s section "%s" at configuration path "%s".' % ('Locked' if lock else 'Unlocked', section,
                                                         '/'.join([APPHOST] + segments)))
    return EXIT_OK


USAGE = """General purpose IIS command line administration tool (azdo.auth test simulator).

APPCMD (command) (object-type) <identifier> < /parameter1:value1 ... >

Supported here:
  list config [<path>] /section:<name> [/config[:*]] [/xml]
  set config [<path>] /section:<name> [/attr:value ...] [/+coll.[key='v'] ...] [/-coll.[key='v'] ...] /commit:apphost
  lock config | unlock config [<path>] /section:<name>
  list site [<name>] [/config[:*]] [/xml]
"""


def main(argv):
    if not argv or argv[0] in ('/?', '-?', '/help'):
        out(USAGE)
        return EXIT_OK
    try:
        command = Command(argv)
        handler = {
            ('list', 'config'): list_config,
            ('set', 'config'): set_config,
            ('lock', 'config'): lambda cmd: lock_config(cmd, True),
            ('unlock', 'config'): lambda cmd: lock_config(cmd, False),
            ('list', 'site'): list_site,
            ('list', 'sites'): list_site,
        }.get((command.verb, command.obj))
        if handler is None:
            raise AppcmdError('The command "%s" is not supported on object "%s".' % (command.verb, command.obj),
                              EXIT_INVALID_PARAMETER)
        return handler(command)
    except AppcmdError as exc:
        out(exc.render())
        return exc.code


if __name__ == '__main__':
    try:
        sys.exit(main(sys.argv[1:]))
    except BrokenPipeError:
        sys.exit(EXIT_OK)
