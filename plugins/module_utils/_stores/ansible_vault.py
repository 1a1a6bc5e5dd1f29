# -*- coding: utf-8 -*-
# Copyright: contributors to the azdo.auth collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Store backend: one YAML file (entry name -> entry), the whole file encrypted with Ansible Vault.

The cipher (encrypt/decrypt with the vault secrets the controller loaded) is handed in by the
controller-side plugin. Writes hold a lock, go to a temporary file in the same directory, are
fsync'ed and renamed over the old file (mode 0600): readers and a killed writer only ever see the
old or the new file. A file that cannot be decrypted is an error and is never overwritten.
"""

from __future__ import annotations

import os
import tempfile

from ansible_collections.azdo.auth.plugins.module_utils._stores import StoreError, TokenStore
from ansible_collections.azdo.auth.plugins.module_utils._stores._locks import file_lock

try:
    import yaml
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core
    yaml = None

HEADER = '# azdo.auth token store: entry name -> entry. Edit with ansible-vault edit.\n'


class AnsibleVaultStore(TokenStore):
    backend = 'ansible_vault'

    def __init__(self, spec, cipher, basedir=None):
        path = spec.get('path')
        if not path:
            raise StoreError('store.path is required for the ansible_vault backend: the encrypted YAML file to use.',
                             'config')
        path = os.path.expanduser(str(path))
        if not os.path.isabs(path) and basedir:
            path = os.path.join(basedir, path)
        self.path = os.path.abspath(path)
        if cipher is None:
            raise StoreError('The ansible_vault store runs on the controller only (it needs the vault secrets the '
                             'controller loaded): use it through the azdo.auth action plugins or lookups.', 'unsupported')
        self.cipher = cipher
        self.lock_timeout = spec.get('lock_timeout') or 30

    def location(self):
        return self.path

    # -- file level ----------------------------------------------------------------------------

    def _read_all(self):
        try:
            with open(self.path, 'rb') as handle:
                data = handle.read()
        except FileNotFoundError:
            return {}
        except PermissionError:
            raise StoreError('Permission denied reading %s.' % self.path, 'denied')
        except IsADirectoryError:
            raise StoreError('%s is a directory, not a vault file.' % self.path, 'config')
        if not data.strip():
            return {}
        if not self.cipher.is_encrypted(data):
            raise StoreError('%s is not an Ansible Vault encrypted file; refusing to read or overwrite it.' % self.path,
                             'corrupt')
        try:
            plaintext = self.cipher.decrypt(data)
        except Exception as exc:  # the cipher raises the vault library's own errors
            raise StoreError('Cannot decrypt %s with the loaded vault secret(s)%s: wrong vault password or vault id '
                             '(%s). The file was not changed.'
                             % (self.path, ' for vault id %s' % self.cipher.vault_id if self.cipher.vault_id else '',
                                type(exc).__name__), 'auth')
        try:
            content = yaml.safe_load(plaintext) or {}
        except yaml.YAMLError:
            raise StoreError('%s decrypts but is not YAML; fix it with ansible-vault edit.' % self.path, 'corrupt')
        if not isinstance(content, dict):
            raise StoreError('%s must hold a mapping of entry name -> entry.' % self.path, 'corrupt')
        return content

    def _write_all(self, content):
        directory = os.path.dirname(self.path)
        try:
            os.makedirs(directory, exist_ok=True)
        except OSError as exc:
            raise StoreError('Cannot create the directory %s: %s.' % (directory, exc.strerror or exc), 'denied')
        plaintext = HEADER + yaml.safe_dump(content, default_flow_style=False, sort_keys=True)
        ciphertext = self.cipher.encrypt(plaintext.encode('utf-8'))
        try:
            fd, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(self.path), suffix='.tmp', dir=directory)
        except OSError as exc:
            raise StoreError('Cannot write in %s: %s.' % (directory, exc.strerror or exc), 'denied')
        try:
            with os.fdopen(fd, 'wb') as handle:
                os.fchmod(handle.fileno(), 0o600)
                handle.write(ciphertext)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
            dir_fd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as exc:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise StoreError('Cannot write %s: %s. The previous file is unchanged.' % (self.path, exc.strerror or exc),
                             'denied')

    # -- the interface ----------------------------------------------------------------------------

    def get(self, name):
        entry = self._read_all().get(name)
        return dict(entry) if isinstance(entry, dict) else None

    def _locked(self):
        return file_lock(self.path + '.lock', self.lock_timeout, self.path)

    def put(self, name, entry, check_mode=False):
        # Read-compare-write under the lock, so parallel writers never lose an update.
        if check_mode:
            return super(AnsibleVaultStore, self).put(name, entry, check_mode=True)
        with self._locked():
            return super(AnsibleVaultStore, self).put(name, entry)

    def delete(self, name, check_mode=False):
        if check_mode:
            return super(AnsibleVaultStore, self).delete(name, check_mode=True)
        with self._locked():
            return super(AnsibleVaultStore, self).delete(name)

    def write(self, name, entry, current):
        content = self._read_all()
        content[name] = entry
        self._write_all(content)
        return None

    def remove(self, name, current):
        content = self._read_all()
        content.pop(name, None)
        self._write_all(content)
