# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection as users get it: `ansible-galaxy collection build`, install, the demo from the installed
copy, and the execution environment definition read the way ansible-builder reads it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest
import yaml
from ansible_builder.ee_schema import validate_schema

from .conftest import ROOT

BIN = Path(sys.executable).parent
MAX_TARBALL_BYTES = 2 * 1024 * 1024
# Path components and prefixes that must never reach the tarball (local tool state, caches, CI scratch).
FORBIDDEN_PARTS = frozenset(('.cache', '.venv', '.ansible', '__pycache__', '.git', '.ci', '.hypothesis',
                             '.pytest_cache'))
FORBIDDEN_PREFIXES = ('tests/output/', 'docs/reference/')
REQUIRED_FILES = ('MANIFEST.json', 'FILES.json', 'README.md', 'meta/runtime.yml', 'meta/execution-environment.yml',
                  'bindep.txt', 'requirements.txt', 'playbooks/demo.yml', 'tests/demo.py', 'tests/__init__.py',
                  'tests/emulator/__init__.py', 'tests/emulator/fixtures/default.yml')
CLEARED_ENV = ('PYTHONPATH', 'ANSIBLE_CONFIG', 'ANSIBLE_COLLECTIONS_PATHS', 'ANSIBLE_ROLES_PATH', 'AZURE_DEVOPS_EXT_PAT',
               'SYSTEM_ACCESSTOKEN', 'AZDO_URL', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE')


def _run(cmd, cwd=None, env=None, timeout=120):
    completed = subprocess.run([str(part) for part in cmd], cwd=str(cwd or ROOT), env=env, capture_output=True,
                               text=True, timeout=timeout, check=False)
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, '%s exited %d:\n%s' % (cmd[0], completed.returncode, output[-3000:])
    return output


def _isolated_env(work, collections):
    """Nothing of the checkout reachable: only the installed copy is on the collections path."""
    env = dict(os.environ)
    for name in CLEARED_ENV:
        env.pop(name, None)
    env.update({
        'PATH': os.pathsep.join([str(BIN), env.get('PATH', '')]),
        'ANSIBLE_COLLECTIONS_PATH': str(collections),
        'ANSIBLE_HOME': str(work / 'ansible-home'),
        'ANSIBLE_LOCAL_TEMP': str(work / 'ansible-tmp'),
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_FORCE_COLOR': '0',
        'PYTHONDONTWRITEBYTECODE': '1',
    })
    return env


def _pinned(requirement_file, name):
    for line in requirement_file.read_text(encoding='utf-8').splitlines():
        match = re.match(r'^%s==(\S+)' % re.escape(name), line.strip())
        if match:
            return match.group(1)
    raise AssertionError('%s is not pinned in %s' % (name, requirement_file.name))


@pytest.fixture(scope='module')
def work(tmp_path_factory):
    return tmp_path_factory.mktemp('packaging')


@pytest.fixture(scope='module')
def tarball(work):
    started = time.time()
    _run([BIN / 'ansible-galaxy', 'collection', 'build', '--output-path', work / 'dist', ROOT])
    built = list((work / 'dist').glob('azdo-auth-*.tar.gz'))
    assert len(built) == 1, built
    sys.stdout.write('\nbuilt %s (%d bytes) in %.1f s\n' % (built[0].name, built[0].stat().st_size, time.time() - started))
    return built[0]


@pytest.fixture(scope='module')
def installed(work, tarball):
    collections = work / 'collections'
    _run([BIN / 'ansible-galaxy', 'collection', 'install', '--force', tarball, '-p', collections],
         env=_isolated_env(work, collections))
    path = collections / 'ansible_collections' / 'azdo' / 'auth'
    assert (path / 'MANIFEST.json').is_file()
    return path


def test_tarball_holds_the_collection_and_no_local_state(tarball):
    with tarfile.open(str(tarball)) as archive:
        names = [member.name[2:] if member.name.startswith('./') else member.name for member in archive.getmembers()]
    offending = sorted(name for name in names
                       if FORBIDDEN_PARTS.intersection(name.split('/')) or name.endswith(('.pyc', '.pyo'))
                       or any((name + '/').startswith(prefix) for prefix in FORBIDDEN_PREFIXES))
    assert not offending, 'local state in the tarball: %s' % offending[:20]
    missing = [name for name in REQUIRED_FILES if name not in names]
    assert not missing, 'missing from the tarball: %s' % missing
    size = tarball.stat().st_size
    print('tarball size: %d bytes (%.0f KiB), %d entries' % (size, size / 1024.0, len(names)))
    assert size < MAX_TARBALL_BYTES, 'tarball is %d bytes' % size


def test_tarball_holds_nothing_git_ignores(tarball):
    """Whatever .gitignore keeps out of the repository (caches, generated docs, ...) stays out of the tarball too."""
    if not (ROOT / '.git').exists():
        pytest.skip('not a git checkout')
    listed = subprocess.run(['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], cwd=str(ROOT),
                            capture_output=True, check=True).stdout.decode('utf-8').split('\0')
    visible = set(name for name in listed if name)
    with tarfile.open(str(tarball)) as archive:
        files = [member.name for member in archive.getmembers() if member.isfile()]
    ignored = sorted(name for name in files if name not in visible and name not in ('MANIFEST.json', 'FILES.json'))
    assert not ignored, 'git-ignored files in the tarball: %s' % ignored[:20]


def test_demo_runs_from_the_installed_collection(work, installed):
    env = _isolated_env(work, installed.parents[2])
    listing = _run([BIN / 'ansible-galaxy', 'collection', 'list', 'azdo.auth'], cwd=installed, env=env)
    assert str(installed.parents[2]) in listing and str(ROOT) not in listing, listing
    started = time.time()
    completed = subprocess.run([sys.executable, '-m', 'tests.demo'], cwd=str(installed), env=env, capture_output=True,
                               text=True, timeout=300, check=False)
    output = completed.stdout + completed.stderr
    print('demo from the installed copy: exit %d in %.1f s' % (completed.returncode, time.time() - started))
    assert completed.returncode == 0, output[-3000:]
    assert 'Summary: ado_pat_check against both emulators' in output, output[-3000:]
    assert re.search(r'^CREDENTIAL +COLLECTION +USER +VALID +DIAGNOSIS', output, re.M), output[-3000:]
    for code in ('OK', 'INVALID_OR_EXPIRED', 'MISSING_SCOPE', 'NOT_COLLECTION_MEMBER'):
        assert code in output
    assert str(ROOT) not in output


def test_ee_definition_is_what_ansible_builder_introspects(work, installed):
    """The installed collection's meta/execution-environment.yml as an execution environment build reads it."""
    definition = yaml.safe_load((installed / 'meta' / 'execution-environment.yml').read_text(encoding='utf-8'))
    validate_schema(definition)
    assert definition['version'] == 3
    for key in ('python', 'system'):
        assert (installed / definition['dependencies'][key]).is_file(), definition['dependencies'][key]
    output = _run([BIN / 'ansible-builder', 'introspect', installed.parents[2]])
    data = yaml.safe_load(output)
    python = [line.split('#')[0].strip() for line in data['python']]
    expected = [line.strip() for line in (ROOT / 'requirements.txt').read_text(encoding='utf-8').splitlines()
                if line.strip() and not line.startswith('#') and not line.startswith('ansible-core')]
    assert python == expected
    assert not [line for line in python if line.startswith('ansible-core')]
    system = [line.split('#')[0].strip() for line in data['system']]
    assert system and all('[platform:rpm]' in line for line in system), system


def test_ee_build_context(work, installed, tarball):
    """`ansible-builder create` (no container engine needed) for an execution environment with this collection:
    the dependency files of meta/execution-environment.yml resolved against the collection root, as ansible-builder
    does for a collection, the ansible-core this collection is tested with, and the built tarball."""
    meta = yaml.safe_load((installed / 'meta' / 'execution-environment.yml').read_text(encoding='utf-8'))
    core = _pinned(ROOT / 'requirements.txt', 'ansible-core')
    assert 'ansible-core==%s' % core in (installed / 'meta' / 'execution-environment.yml').read_text(encoding='utf-8'), \
        'the example in meta/execution-environment.yml names another ansible-core than requirements.txt'
    definition = {
        'version': 3,
        'dependencies': {
            'ansible_core': {'package_pip': 'ansible-core==%s' % core},
            'ansible_runner': {'package_pip': 'ansible-runner'},
            'python_interpreter': {'package_system': 'python3.11', 'python_path': '/usr/bin/python3.11'},
            'python': str(installed / meta['dependencies']['python']),
            'system': str(installed / meta['dependencies']['system']),
            'galaxy': {'collections': [{'name': 'collections/%s' % tarball.name, 'type': 'file'}]},
        },
        'additional_build_files': [{'src': str(tarball), 'dest': 'collections'}],
    }
    ee_dir = work / 'ee'
    ee_dir.mkdir()
    ee_file = ee_dir / 'execution-environment.yml'
    ee_file.write_text(yaml.safe_dump(definition), encoding='utf-8')
    context = work / 'context'
    started = time.time()
    _run([BIN / 'ansible-builder', 'create', '-f', ee_file, '-c', context, '--output-filename', 'Containerfile'],
         cwd=ee_dir)
    print('ansible-builder create: %.1f s' % (time.time() - started))
    containerfile = (context / 'Containerfile').read_text(encoding='utf-8')
    build = context / '_build'
    assert (build / 'requirements.txt').read_text(encoding='utf-8') == \
        (installed / 'requirements.txt').read_text(encoding='utf-8')
    assert (build / 'bindep.txt').read_text(encoding='utf-8') == (installed / 'bindep.txt').read_text(encoding='utf-8')
    assert yaml.safe_load((build / 'requirements.yml').read_text(encoding='utf-8'))['collections'][0]['type'] == 'file'
    assert (build / 'collections' / tarball.name).is_file()
    assert 'ansible-core==%s' % core in containerfile
    assert 'introspect' in containerfile and 'ansible-galaxy collection install' in containerfile
