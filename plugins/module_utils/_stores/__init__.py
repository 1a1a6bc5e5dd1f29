# -*- coding: utf-8 -*-
# Copyright: contributors to the azdo.auth collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one store interface: where the collection keeps credentials (get / put / delete / describe).

An entry is a flat mapping of secret fields (``value``, or ``access_token``/``refresh_token``...) and
plain metadata (``token_type``, ``scope``, ``expires_at``, ``updated_at``, ``fingerprint``, ``labels``).
A put writes only when something other than ``updated_at`` differs, so re-running a play leaves
files, KV versions and Key Vault versions untouched. Backends live beside this file; ``open_store``
picks one from the ``store`` option (documented in doc_fragments/store.py).
"""

from __future__ import annotations

import datetime
import hashlib
import os
import re
import tempfile

from ansible_collections.azdo.auth.plugins.module_utils._client import fingerprint

SECRET_FIELDS = ('value', 'access_token', 'refresh_token', 'client_secret', 'id_token')
METADATA_FIELDS = ('token_type', 'scope', 'expires_at', 'labels')
SYSTEM_FIELDS = ('updated_at', 'fingerprint')
BACKENDS = ('ansible_vault', 'hashicorp_vault', 'azure_key_vault')

_NAME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]{0,126}$')


class StoreError(Exception):
    """A store failure a person can act on. ``kind``: config, locked, auth, denied, unreachable,
    not_found, conflict, corrupt, unsupported. Never carries a secret."""

    def __init__(self, message, kind='error'):
        super(StoreError, self).__init__(message)
        self.message = message
        self.kind = kind

    def __str__(self):
        return self.message


STORE_OPTIONS = dict(
    backend=dict(type='str', default='ansible_vault', choices=list(BACKENDS)),
    path=dict(type='str'),
    vault_id=dict(type='str'),
    lock_timeout=dict(type='int', default=30),
    url=dict(type='str'),
    mount_point=dict(type='str', default='secret'),
    auth_method=dict(type='str', default='token', choices=['token', 'approle', 'jwt']),
    token=dict(type='str', no_log=True),
    role_id=dict(type='str'),
    secret_id=dict(type='str', no_log=True),
    role=dict(type='str'),
    jwt=dict(type='str', no_log=True),
    namespace=dict(type='str'),
    validate_certs=dict(type='bool', default=True),
    ca_path=dict(type='path'),
    timeout=dict(type='int', default=30),
    vault_url=dict(type='str'),
    tenant_id=dict(type='str'),
    client_id=dict(type='str'),
    client_secret=dict(type='str', no_log=True),
    authority_host=dict(type='str'),
)


def store_argspec(required=True):
    """The ``store`` option: a dict with the suboptions above."""
    return dict(type='dict', required=required, options=STORE_OPTIONS)


# -- entries -------------------------------------------------------------------------------------

def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def iso_utc(value):
    """ISO 8601 UTC ('2026-01-31T12:00:00Z') from a datetime, an epoch number or an ISO string."""
    if value is None or value == '':
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        moment = datetime.datetime.fromtimestamp(value, datetime.timezone.utc)
    elif isinstance(value, datetime.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
    else:
        text = str(value).strip()
        if re.match(r'^\d{4}-\d{2}-\d{2}$', text):
            text += 'T00:00:00'
        text = text.replace('Z', '+00:00').replace('z', '+00:00')
        try:
            moment = datetime.datetime.fromisoformat(text)
        except ValueError:
            raise StoreError('expires_at %r is not an ISO 8601 date-time (for example 2026-12-31T23:59:59Z).' % (value,),
                             'config')
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.timezone.utc)
    moment = moment.astimezone(datetime.timezone.utc).replace(microsecond=0)
    return moment.strftime('%Y-%m-%dT%H:%M:%SZ')


def parse_iso(text):
    """datetime (UTC) from an ISO 8601 string written by iso_utc(); None for None."""
    if not text:
        return None
    return datetime.datetime.fromisoformat(str(text).replace('Z', '+00:00')).astimezone(datetime.timezone.utc)


def main_secret(entry):
    """The secret a lookup returns by default and the fingerprint is computed from."""
    for field in ('value', 'access_token', 'refresh_token', 'client_secret'):
        if entry.get(field):
            return entry[field]
    return None


def build_entry(secret, metadata=None, now=None):
    """A normalised entry from a secret (string or mapping of secret fields) and metadata."""
    if isinstance(secret, str):
        if not secret:
            raise StoreError('secret is empty.', 'config')
        fields = {'value': secret}
    elif isinstance(secret, dict):
        unknown = sorted(set(secret) - set(SECRET_FIELDS) - set(METADATA_FIELDS))
        if unknown:
            raise StoreError('secret has unknown field(s) %s; secret fields are %s, metadata fields %s.'
                             % (', '.join(unknown), ', '.join(SECRET_FIELDS), ', '.join(METADATA_FIELDS)), 'config')
        fields = dict((k, str(v)) for k, v in secret.items() if k in SECRET_FIELDS and v not in (None, ''))
        metadata = dict(dict((k, v) for k, v in secret.items() if k in METADATA_FIELDS), **(metadata or {}))
        if not fields:
            raise StoreError('secret has no secret field (%s).' % ', '.join(SECRET_FIELDS), 'config')
    else:
        raise StoreError('secret must be a string or a mapping of secret fields.', 'config')
    entry = dict(fields)
    for key, value in (metadata or {}).items():
        if key not in METADATA_FIELDS:
            raise StoreError('metadata has unknown field %r; metadata fields are %s.' % (key, ', '.join(METADATA_FIELDS)),
                             'config')
        if value in (None, ''):
            continue
        if key == 'expires_at':
            value = iso_utc(value)
        elif key == 'labels':
            if not isinstance(value, dict):
                raise StoreError('metadata.labels must be a mapping of strings.', 'config')
            value = dict((str(k), str(v)) for k, v in value.items())
        else:
            value = str(value)
        entry[key] = value
    entry['fingerprint'] = fingerprint(main_secret(entry))
    entry['updated_at'] = iso_utc(now or utc_now())
    return entry


def comparable(entry):
    """What decides whether a put writes: everything but updated_at."""
    return dict((k, v) for k, v in (entry or {}).items() if k != 'updated_at')


def public_view(entry):
    """Metadata and fingerprint only: safe for results, diffs and reports."""
    if entry is None:
        return None
    view = dict((k, entry[k]) for k in METADATA_FIELDS + SYSTEM_FIELDS if k in entry)
    view['fields'] = sorted(k for k in entry if k in SECRET_FIELDS)
    return view


def validate_name(name):
    if not name or not _NAME_RE.match(str(name)):
        raise StoreError('name %r must be 1-127 characters of letters, digits, ".", "_" or "-", starting with a letter '
                         'or digit.' % (name,), 'config')
    return str(name)


# -- the interface --------------------------------------------------------------------------------

class TokenStore(object):
    """get / put / delete / describe; put writes only when the entry really changes."""

    backend = None

    def location(self):
        """Where the store lives (for messages and lock names); never a secret."""
        raise NotImplementedError

    def get(self, name):
        """The entry, or None when it does not exist."""
        raise NotImplementedError

    def write(self, name, entry, current):
        """Write ``entry`` over ``current`` (None when new); returns the new version (or None)."""
        raise NotImplementedError

    def remove(self, name, current):
        """Delete an existing entry."""
        raise NotImplementedError

    def version(self, name):
        """Backend version of the entry when it has one (KV v2 version, Key Vault version id)."""
        return None

    def put(self, name, entry, check_mode=False):
        """Store ``entry`` under ``name`` unless an equal entry is there. Returns changed, version, before."""
        name = validate_name(name)
        current = self.get(name)
        if current is not None and comparable(current) == comparable(entry):
            return {'changed': False, 'version': self.version(name), 'before': current}
        if check_mode:
            return {'changed': True, 'version': self.version(name), 'before': current}
        version = self.write(name, entry, current)
        return {'changed': True, 'version': version, 'before': current}

    def delete(self, name, check_mode=False):
        name = validate_name(name)
        current = self.get(name)
        if current is None:
            return {'changed': False, 'before': None}
        if not check_mode:
            self.remove(name, current)
        return {'changed': True, 'before': current}

    def describe(self, name):
        entry = self.get(validate_name(name))
        if entry is None:
            return None
        view = public_view(entry)
        view['version'] = self.version(name)
        return view

    def lock(self, name, timeout=30):
        """A controller-wide lock for one entry (single flight across forks and parallel runs)."""
        from ansible_collections.azdo.auth.plugins.module_utils._stores._locks import entry_lock
        key = hashlib.sha256(('%s|%s|%s' % (self.backend, self.location(), name)).encode('utf-8')).hexdigest()[:24]
        return entry_lock(os.path.join(tempfile.gettempdir(), 'azdo-auth-locks'), key, timeout, self.location())


def open_store(spec, vault_cipher=None, basedir=None):
    """The store for a validated ``store`` option. ``vault_cipher`` and ``basedir`` come from the controller."""
    spec = dict(spec or {})
    backend = spec.get('backend') or 'ansible_vault'
    if backend == 'ansible_vault':
        from ansible_collections.azdo.auth.plugins.module_utils._stores.ansible_vault import AnsibleVaultStore
        return AnsibleVaultStore(spec, vault_cipher, basedir)
    if backend == 'hashicorp_vault':
        from ansible_collections.azdo.auth.plugins.module_utils._stores.hashicorp_vault import HashiCorpVaultStore
        return HashiCorpVaultStore(spec)
    if backend == 'azure_key_vault':
        from ansible_collections.azdo.auth.plugins.module_utils._stores.azure_key_vault import AzureKeyVaultStore
        return AzureKeyVaultStore(spec)
    raise StoreError('store.backend must be one of %s, not %r.' % (', '.join(BACKENDS), backend), 'config')
