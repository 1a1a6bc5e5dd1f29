# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The leak scanner finds every form of a seeded secret, and every playbook is exercised by a scanned test."""

from __future__ import annotations

import base64
from pathlib import Path

from tests.utils.leak_scan import ISSUED, find_leaks, known_secrets

ROOT = Path(__file__).resolve().parents[3]


def test_finds_raw_basic_and_base64_forms():
    secret = sorted(known_secrets())[0]
    assert find_leaks('before %s after' % secret)
    assert find_leaks('Authorization: Basic %s' % base64.b64encode((':' + secret).encode()).decode())
    assert find_leaks(base64.b64encode(secret.encode()).decode())
    assert not find_leaks('nothing secret here: fingerprint 3f1a9c0b7d2e, ******** and the word start-up')
    assert find_leaks('x', extra=['my-extra-secret']) == [] and find_leaks('my-extra-secret', extra=['my-extra-secret'])


def test_finds_tokens_the_emulator_mints():
    minted = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsImtpZCI6ImVtdWxhdG9yIn0.eyJhIjoxfQ.c2ln'
    assert ISSUED.search(minted)
    assert find_leaks('token: rt-' + 'a' * 48)


def test_every_playbook_is_run_by_a_scanned_test():
    """A new playbook must be exercised by an integration test (whose runs are all leak-scanned)."""
    sources = ''.join(path.read_text(encoding='utf-8') for path in (ROOT / 'tests' / 'integration').glob('test_*.py'))
    sources += (ROOT / 'tests' / 'demo.py').read_text(encoding='utf-8')
    demo = (ROOT / 'playbooks' / 'demo.yml').read_text(encoding='utf-8')
    for playbook in sorted((ROOT / 'playbooks').glob('*.yml')):
        covered = "'%s'" % playbook.name in sources or 'import_playbook: %s' % playbook.name in demo
        assert covered, '%s is not run by any integration test' % playbook.name
