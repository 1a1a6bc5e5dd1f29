#!/usr/bin/env python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Vault password of the audit estate's token file, for ANSIBLE_VAULT_PASSWORD_FILE / --vault-password-file.

Random, created on first use and kept (mode 0600) in the estate directory: $AUDIT_ESTATE_DIR, else
molecule's ephemeral directory.
"""

from __future__ import annotations

import os
import secrets
import sys


def main():
    directory = os.environ.get('AUDIT_ESTATE_DIR') or os.environ.get('MOLECULE_EPHEMERAL_DIRECTORY')
    if not directory:
        sys.exit('vault_password.py: set AUDIT_ESTATE_DIR to the estate directory')
    path = os.path.join(directory, 'vault-password')
    os.makedirs(directory, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, 'w') as handle:
            handle.write(secrets.token_urlsafe(24))
    with open(path, encoding='utf-8') as handle:
        sys.stdout.write(handle.read().strip() + '\n')


if __name__ == '__main__':
    main()
