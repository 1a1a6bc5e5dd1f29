# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The secret-leak scanner used by every playbook run of the integration tests and by `make molecule`.

A secret is any credential seeded in the emulator's fixture (PATs, access tokens, client secrets,
authorization codes), in any form a leak takes: raw, Basic ``base64(":" + secret)``, base64 of the secret,
plus tokens the emulator mints at run time (recognised by their shape) and any extra secret a test adds.

    python -m tests.utils.leak_scan FILE...     # exit 1 and name the files that leak
"""

from __future__ import annotations

import base64
import re
import sys
from pathlib import Path

import yaml

FIXTURE = Path(__file__).resolve().parents[1] / 'emulator' / 'fixtures' / 'default.yml'
# Access tokens minted by the emulator's token endpoints (their JWT header) and its refresh tokens.
ISSUED = re.compile(r'eyJ0eXAiOiAiSldUIiwgImFsZyI6ICJSUzI1NiIsICJraWQiOiAiZW11bGF0b3IifQ[A-Za-z0-9_.-]*'
                    r'|eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsImtpZCI6ImVtdWxhdG9yIn0[A-Za-z0-9_.-]*'
                    r'|\brt-[A-Za-z0-9_-]{40,}')


def known_secrets():
    """Every secret the default fixture seeds."""
    data = yaml.safe_load(FIXTURE.read_text(encoding='utf-8'))
    secrets = set()
    for section in ('credentials', 'graph_credentials'):
        for entry in (data.get(section) or {}).values():
            secrets.add(str(entry['token']))
    for app in (data.get('applications') or {}).values():
        if app.get('client_secret'):
            secrets.add(str(app['client_secret']))
        secrets.update(str(code) for code in app.get('codes') or [])
        for federated in app.get('federated') or []:
            if federated.get('signing_key'):
                secrets.add(str(federated['signing_key']))
    return secrets


def forms(secret):
    return {secret, base64.b64encode((':' + secret).encode()).decode(), base64.b64encode(secret.encode()).decode()}


def find_leaks(text, extra=()):
    """Short descriptions (never the secret) of what leaks in ``text``."""
    leaks = []
    for secret in known_secrets() | set(s for s in extra if s):
        for form in forms(secret):
            if len(form) >= 8 and form in text:
                leaks.append('%s... (%d chars)' % (form[:4], len(form)))
    for match in ISSUED.finditer(text):
        leaks.append('issued token %s... (%d chars)' % (match.group(0)[:4], len(match.group(0))))
    return leaks


def main(paths):
    bad = 0
    for path in paths:
        leaks = find_leaks(Path(path).read_text(encoding='utf-8', errors='replace'))
        if leaks:
            bad += 1
            print('LEAK in %s: %s' % (path, ', '.join(sorted(set(leaks)))))
    print('leak scan: %d file(s) scanned, %d with secrets' % (len(paths), bad))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
