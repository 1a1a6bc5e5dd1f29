# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""`make demo` end to end: exit 0, the diagnosis table, the token store round trip, no secret in the output."""

from __future__ import annotations

import os
import subprocess
import sys

from .conftest import COLLECTIONS, ROOT, assert_no_secret


def test_demo_prints_the_table_and_reruns_without_change(credentials):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_NOCOLOR='1')
    completed = subprocess.run([sys.executable, '-m', 'tests.demo'], cwd=str(ROOT), env=env, capture_output=True,
                               text=True, timeout=300, check=False)
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-3000:]
    assert 'Summary: ado_pat_check against both emulators' in output
    for code in ('OK', 'INVALID_OR_EXPIRED', 'ANONYMOUS_REDIRECT', 'MISSING_SCOPE', 'NOT_COLLECTION_MEMBER',
                 'COLLECTION_NOT_FOUND'):
        assert code in output
    assert 'check with the PAT read back through the lookup: OK' in output
    assert 'Second run: store changed=False, token renewed=False' in output
    assert 'Token endpoint calls: first run 1, second run 0' in output
    assert 'Azure DevOps check with it: OK (as deploy-pipeline)' in output
    assert_no_secret(output, credentials.values())
