# -*- coding: utf-8 -*-
# Copyright: contributors to the azdo.auth collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Ansible Vault encryption with the vault secrets the controller already loaded (controller only).

The ansible_vault token store receives an ``AnsibleVaultCipher``: the secrets given with --vault-id,
--vault-password-file or ANSIBLE_VAULT_PASSWORD_FILE, never a password of its own.
"""

from __future__ import annotations

from ansible.parsing.vault import VaultLib, is_encrypted

from ansible_collections.azdo.auth.plugins.module_utils._stores import StoreError


class AnsibleVaultCipher(object):
    """encrypt / decrypt / is_encrypted over the loaded vault secrets; ``vault_id`` picks the one to encrypt with."""

    def __init__(self, secrets, vault_id=None):
        secrets = list(secrets or [])
        if not secrets:
            raise StoreError('No vault secret is loaded: run with --vault-id, --vault-password-file or '
                             'ANSIBLE_VAULT_PASSWORD_FILE so the ansible_vault store can encrypt and decrypt.', 'auth')
        if vault_id:
            chosen = [item for item in secrets if item[0] == vault_id]
            if not chosen:
                raise StoreError('Vault id %r is not loaded (loaded: %s); pass --vault-id %s@SOURCE.'
                                 % (vault_id, ', '.join(sorted(set(str(i) for i, dummy in secrets))), vault_id), 'auth')
        else:
            chosen = secrets
        self.vault_id = vault_id
        self._encrypt_id, self._encrypt_secret = chosen[0]
        self._lib = VaultLib(secrets=secrets)

    @staticmethod
    def is_encrypted(data):
        return is_encrypted(data)

    def encrypt(self, data):
        vault_id = self._encrypt_id if self.vault_id else None
        return self._lib.encrypt(data, secret=self._encrypt_secret, vault_id=vault_id)

    def decrypt(self, data):
        return self._lib.decrypt(data)


def cipher_from_loader(loader, vault_id=None):
    """The cipher for a DataLoader (action plugins and lookups have one), or None without vault secrets."""
    vault = getattr(loader, '_vault', None)
    secrets = getattr(vault, 'secrets', None) or []
    if not secrets:
        return None
    return AnsibleVaultCipher(secrets, vault_id)
