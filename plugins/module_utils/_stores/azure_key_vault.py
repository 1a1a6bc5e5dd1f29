# -*- coding: utf-8 -*-
# Copyright: contributors to the azdo.auth collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Store backend: Azure Key Vault secrets, through azure-keyvault-secrets and azure-identity.

Each entry is one Key Vault secret with the entry's name (Key Vault allows letters, digits and
``-`` only; other names are refused, never rewritten). The secret value is the JSON of the entry's
secret fields (sorted keys, content type ``application/vnd.azdo-auth.entry+json``); the metadata
lives in tags (``token_type``, ``scope``, ``fingerprint``, ``updated_at``, ``expires_at`` and one
``label-<key>`` tag per label) and ``expires_at`` also in the secret's ``expires_on``. Reading a
secret gives back exactly the entry that was written, so an unchanged entry creates no new version.
Deleting is Key Vault's delete: with soft-delete (on by default) the name stays taken until the
deleted secret is purged or recovered.
"""

from __future__ import annotations

import json
import logging
import os
import re

from ansible_collections.azdo.auth.plugins.module_utils._stores import (
    METADATA_FIELDS, SECRET_FIELDS, SYSTEM_FIELDS, StoreError, TokenStore, parse_iso)

AZURE_IMPORT_ERROR = None
try:
    from azure.core import exceptions as azure_errors
    from azure.identity import ClientSecretCredential, DefaultAzureCredential
    from azure.keyvault.secrets import SecretClient
except ImportError as exc:  # pragma: no cover - exercised only without the azure packages
    SecretClient = None
    AZURE_IMPORT_ERROR = exc
else:
    # The azure libraries log failed sign-ins as warnings; without a handler Python would print them
    # on the controller's stderr. Errors reach the user as StoreError messages instead.
    logging.getLogger('azure').addHandler(logging.NullHandler())

CONTENT_TYPE = 'application/vnd.azdo-auth.entry+json'
API_VERSION = '7.5'
TAG_FIELDS = ('token_type', 'scope', 'fingerprint', 'updated_at', 'expires_at')
LABEL_PREFIX = 'label-'
MAX_TAGS = 15
MAX_TAG_NAME = 512
MAX_TAG_VALUE = 256
MAX_VALUE_BYTES = 25 * 1024
RETRIES = 3

_SECRET_NAME_RE = re.compile(r'^[0-9a-zA-Z-]{1,127}$')
_AADSTS_HINTS = {
    'AADSTS7000215': 'the client secret is wrong (use the secret value, not the secret id)',
    'AADSTS7000222': 'the client secret has expired; create a new one',
    'AADSTS700016': 'the application (store.client_id) is not found in the tenant',
    'AADSTS90002': 'the tenant (store.tenant_id) is not found',
    'AADSTS900023': 'store.tenant_id is not a valid tenant id or domain',
}


class AzureKeyVaultStore(TokenStore):
    backend = 'azure_key_vault'

    def __init__(self, spec):
        if SecretClient is None:
            raise StoreError('The azure_key_vault store needs the Python packages azure-keyvault-secrets and '
                             'azure-identity on the controller: %s' % AZURE_IMPORT_ERROR, 'config')
        self.vault_url = (spec.get('vault_url') or '').strip().rstrip('/')
        if not re.match(r'^https://[^/?#\s]+$', self.vault_url):
            raise StoreError('store.vault_url is required for the azure_key_vault backend: the https URL of the vault, '
                             'for example https://<vault-name>.vault.azure.net (got %r).' % (spec.get('vault_url'),),
                             'config')
        ca_path = spec.get('ca_path')
        if ca_path:
            ca_path = os.path.expanduser(str(ca_path))
            if not os.path.isfile(ca_path):
                raise StoreError('store.ca_path %s is not a file: give the CA bundle (PEM) that issued the Key Vault '
                                 'and sign-in server certificates.' % ca_path, 'config')
        self.timeout = int(spec.get('timeout') or 30)
        self.authority_host = spec.get('authority_host') or None
        self._secrets = tuple(s for s in (spec.get('client_secret'),) if s)
        # Every HTTP call (sign-in and vault) verifies TLS the same way and is bounded in time.
        options = dict(connection_verify=ca_path or spec.get('validate_certs') is not False,
                       connection_timeout=self.timeout, read_timeout=self.timeout,
                       retry_total=RETRIES, retry_backoff_max=min(self.timeout, 30))
        try:
            credential = self._credential(spec, options)
            self.client = SecretClient(self.vault_url, credential, api_version=API_VERSION, **options)
        except ValueError as err:
            raise StoreError('Invalid azure_key_vault store settings: %s' % self._scrub(err), 'config')
        self._versions = {}
        self._foreign_tags = {}

    def _credential(self, spec, options):
        tenant_id, client_id = spec.get('tenant_id'), spec.get('client_id')
        extra = {}
        if self.authority_host:
            # A custom authority (sovereign or private cloud) is used as given: no instance discovery
            # through the public cloud, which such hosts cannot answer.
            extra = dict(authority=self.authority_host, disable_instance_discovery=True)
        if spec.get('client_secret'):
            missing = [key for key in ('tenant_id', 'client_id') if not spec.get(key)]
            if missing:
                raise StoreError('store.client_secret needs %s as well (the service principal\'s tenant and '
                                 'application id).' % ' and '.join('store.' + key for key in missing), 'config')
            return ClientSecretCredential(tenant_id, client_id, spec['client_secret'], **dict(options, **extra))
        if tenant_id:
            raise StoreError('store.tenant_id is used with store.client_id and store.client_secret (a service principal). '
                             'Without a client secret DefaultAzureCredential is used: it takes the tenant from '
                             'AZURE_TENANT_ID or the identity itself; remove store.tenant_id.', 'config')
        if client_id:
            # A user-assigned managed identity or workload identity application.
            extra.update(managed_identity_client_id=client_id, workload_identity_client_id=client_id)
        return DefaultAzureCredential(**dict(options, **extra))

    def location(self):
        return self.vault_url

    # -- mapping ----------------------------------------------------------------------------------

    @staticmethod
    def _secret_name(name):
        if not _SECRET_NAME_RE.match(str(name)):
            raise StoreError('name %r cannot be a Key Vault secret name: Key Vault allows only letters, digits and "-" '
                             '(1-127 characters); "." and "_" are not allowed. Choose a name such as %r.'
                             % (name, re.sub(r'[^0-9a-zA-Z-]', '-', str(name))[:127]), 'config')
        return str(name)

    def _payload(self, name, entry, foreign=None):
        """(value, tags, expires_on) for ``entry``; refuses what Key Vault would reject."""
        unknown = sorted(set(entry) - set(SECRET_FIELDS) - set(METADATA_FIELDS) - set(SYSTEM_FIELDS))
        if unknown:
            raise StoreError('entry %s has unknown field(s) %s.' % (name, ', '.join(unknown)), 'config')
        fields = dict((key, str(entry[key])) for key in SECRET_FIELDS if entry.get(key) not in (None, ''))
        if not fields:
            raise StoreError('entry %s has no secret field (%s).' % (name, ', '.join(SECRET_FIELDS)), 'config')
        value = json.dumps(fields, sort_keys=True, separators=(',', ':'))
        if len(value.encode('utf-8')) > MAX_VALUE_BYTES:
            raise StoreError('entry %s is too large for a Key Vault secret (%d bytes of JSON; the limit is 25 KB).'
                             % (name, len(value.encode('utf-8'))), 'config')
        tags = dict(foreign or {})
        for key in TAG_FIELDS:
            if entry.get(key) not in (None, ''):
                tags[key] = str(entry[key])
        for key, label in sorted((entry.get('labels') or {}).items()):
            tags[LABEL_PREFIX + str(key)] = str(label)
        for key, text in sorted(tags.items()):
            what = 'label %r' % key[len(LABEL_PREFIX):] if key.startswith(LABEL_PREFIX) else 'tag %r' % key
            if len(key) > MAX_TAG_NAME:
                raise StoreError('entry %s: %s makes a tag name of %d characters; Key Vault allows %d.'
                                 % (name, what[:80], len(key), MAX_TAG_NAME), 'config')
            if len(text) > MAX_TAG_VALUE:
                raise StoreError('entry %s: %s is %d characters long; Key Vault tag values are limited to %d characters. '
                                 'Shorten it.' % (name, what[:80], len(text), MAX_TAG_VALUE), 'config')
        if len(tags) > MAX_TAGS:
            raise StoreError('entry %s needs %d tags (metadata and one per label) but Key Vault allows %d on a secret; '
                             'use fewer labels.' % (name, len(tags), MAX_TAGS), 'config')
        return value, tags, parse_iso(entry.get('expires_at'))

    def _entry(self, name, secret):
        """The entry a secret holds (the inverse of _payload)."""
        properties = secret.properties
        if properties.content_type != CONTENT_TYPE:
            raise StoreError('Key Vault secret %s in %s was not written by azdo.auth (content type %r, expected %s); '
                             'refusing to read or overwrite it. Use another entry name.'
                             % (name, self.vault_url, properties.content_type, CONTENT_TYPE), 'corrupt')
        try:
            fields = json.loads(secret.value or '')
        except ValueError:
            fields = None
        if not isinstance(fields, dict) or not fields or set(fields) - set(SECRET_FIELDS) \
                or not all(isinstance(text, str) for text in fields.values()):
            raise StoreError('Key Vault secret %s in %s does not hold an azdo.auth entry (its value is not a JSON '
                             'object of %s); refusing to overwrite it.' % (name, self.vault_url, ', '.join(SECRET_FIELDS)),
                             'corrupt')
        tags = dict(properties.tags or {})
        entry = dict(fields)
        for key in TAG_FIELDS:
            if key in tags:
                entry[key] = tags[key]
        labels = dict((key[len(LABEL_PREFIX):], text) for key, text in tags.items() if key.startswith(LABEL_PREFIX))
        if labels:
            entry['labels'] = labels
        # Tags someone else added (in the portal, by policy...) are kept on the next version.
        self._foreign_tags[name] = dict((key, text) for key, text in tags.items()
                                        if key not in TAG_FIELDS and not key.startswith(LABEL_PREFIX))
        return entry

    # -- errors -----------------------------------------------------------------------------------

    def _scrub(self, text, secrets=()):
        text = ' '.join(str(text).split())
        for secret in tuple(secrets) + self._secrets:
            if secret and len(secret) >= 4:
                text = text.replace(secret, '********')
        return text[:300]

    def _error(self, exc, doing, secrets=()):
        if isinstance(exc, StoreError):
            return exc
        detail = self._scrub(exc, secrets)
        # TLS failures arrive as ServiceRequestError from the vault and as ClientAuthenticationError from the sign-in.
        if 'CERTIFICATE_VERIFY_FAILED' in detail or 'SSLError' in type(getattr(exc, 'inner_exception', None)).__name__:
            return StoreError('Cannot %s: TLS verification failed talking to %s or its sign-in authority (set '
                              'store.ca_path to the CA that issued the server certificate).' % (doing, self.vault_url),
                              'unreachable')
        if isinstance(exc, azure_errors.ClientAuthenticationError):
            return self._auth_error(exc, doing, detail)
        if isinstance(exc, (azure_errors.ServiceRequestError, azure_errors.ServiceResponseError)):
            return StoreError('Cannot %s: %s (or its sign-in authority) is unreachable (%s; check store.vault_url, DNS, '
                              'the vault\'s firewall or private endpoint and proxies).'
                              % (doing, self.vault_url, type(exc).__name__), 'unreachable')
        if isinstance(exc, azure_errors.HttpResponseError):
            return self._http_error(exc, doing, detail)
        if isinstance(exc, ValueError):
            return StoreError('Cannot %s: %s' % (doing, detail), 'config')
        return StoreError('Cannot %s: %s: %s' % (doing, type(exc).__name__, detail[:200]), 'error')

    def _auth_error(self, exc, doing, detail):
        if type(exc).__name__ == 'CredentialUnavailableError':
            return StoreError('Cannot %s: no Azure credential is available. Set store.tenant_id, store.client_id and '
                              'store.client_secret (a service principal), or run where DefaultAzureCredential finds '
                              'one (AZURE_* environment variables, workload identity, managed identity, Azure CLI '
                              'login).' % doing, 'auth')
        code = re.search(r'AADSTS\d+', detail)
        if code:
            sentence = re.search(r'AADSTS\d+:[^.]*\.', detail)
            hint = _AADSTS_HINTS.get(code.group(0)) or (sentence.group(0) if sentence else code.group(0))
            return StoreError('Cannot %s: Microsoft Entra ID refused to sign in to %s: %s (%s).'
                              % (doing, self.vault_url, hint, code.group(0)), 'auth')
        status = getattr(exc, 'status_code', None)
        if status == 401:
            return StoreError('Cannot %s: %s rejected the access token (401). Check that the vault is in the tenant of '
                              'the identity (store.tenant_id) and store.authority_host.' % (doing, self.vault_url), 'auth')
        return StoreError('Cannot %s: the Azure credential could not sign in: %s' % (doing, detail[:200]), 'auth')

    def _http_error(self, exc, doing, detail):
        status = exc.status_code
        error = getattr(exc, 'error', None)
        code = getattr(error, 'code', None) or ''
        message = self._scrub(getattr(error, 'message', None) or exc.reason or '')[:200]
        if status == 409:
            if 'ObjectIsDeletedButRecoverable' in detail or 'deleted but recoverable' in detail:
                return StoreError('Cannot %s: a deleted secret with this name is kept by Key Vault soft-delete in %s. '
                                  'Recover it (az keyvault secret recover) to continue with its history, or purge it '
                                  '(az keyvault secret purge; needs the purge permission), then re-run.'
                                  % (doing, self.vault_url), 'conflict')
            return StoreError('Cannot %s: Key Vault reports a conflict (%s: %s); the secret is probably being deleted or '
                              'recovered. Retry in a few seconds.' % (doing, code, message), 'conflict')
        if status == 403:
            if 'disabled' in message.lower():
                return StoreError('Cannot %s: the secret is disabled in %s; enable it (or delete it) first.'
                                  % (doing, self.vault_url), 'denied')
            if 'firewall' in detail.lower() or 'ForbiddenByFirewall' in detail or 'not authorized' in message:
                return StoreError('Cannot %s: the network rules of %s refuse this client (%s). Allow the controller\'s '
                                  'address or use a private endpoint.' % (doing, self.vault_url, message), 'denied')
            return StoreError('Cannot %s: access denied by %s (%s). Give the identity the role Key Vault Secrets Officer '
                              'on the vault (Azure RBAC), or an access policy with the secret permissions get, list, set '
                              'and delete.' % (doing, self.vault_url, message or code), 'denied')
        if status == 404:
            return StoreError('Cannot %s: %s answered 404 (%s); check store.vault_url.' % (doing, self.vault_url,
                                                                                           message or code), 'not_found')
        if status == 429 or (status and status >= 500):
            return StoreError('Cannot %s: %s is throttling or failing (HTTP %s %s) after %d retries; retry later.'
                              % (doing, self.vault_url, status, code, RETRIES), 'unreachable')
        if status == 400:
            return StoreError('Cannot %s: Key Vault refused the request (%s: %s).' % (doing, code, message), 'config')
        return StoreError('Cannot %s: Key Vault answered HTTP %s (%s: %s).' % (doing, status, code, message), 'error')

    # -- the interface ----------------------------------------------------------------------------

    def get(self, name):
        secret_name = self._secret_name(name)
        try:
            secret = self.client.get_secret(secret_name)
        except azure_errors.ResourceNotFoundError:
            self._versions[name] = None
            self._foreign_tags.pop(name, None)
            return None
        except Exception as exc:  # azure-core and azure-identity errors; see _error
            raise self._error(exc, 'read %s from %s' % (name, self.vault_url))
        self._versions[name] = secret.properties.version
        return self._entry(name, secret)

    def version(self, name):
        return self._versions.get(name)

    def put(self, name, entry, check_mode=False):
        # An empty labels mapping has no tags to keep it: store (and compare) the entry without it.
        if 'labels' in entry and not entry['labels']:
            entry = dict((key, value) for key, value in entry.items() if key != 'labels')
        self._payload(name, entry)  # refuse what Key Vault would reject, in check mode too
        return super(AzureKeyVaultStore, self).put(name, entry, check_mode=check_mode)

    def write(self, name, entry, current):
        secret_name = self._secret_name(name)
        value, tags, expires_on = self._payload(name, entry, self._foreign_tags.get(name))
        secrets = [entry[key] for key in SECRET_FIELDS if entry.get(key)]
        try:
            secret = self.client.set_secret(secret_name, value, enabled=True, content_type=CONTENT_TYPE, tags=tags,
                                            expires_on=expires_on)
        except Exception as exc:  # see _error
            raise self._error(exc, 'write %s to %s' % (name, self.vault_url), secrets)
        self._versions[name] = secret.properties.version
        return secret.properties.version

    def remove(self, name, current):
        """Delete the secret (all its versions). With soft-delete, which Key Vault enables by default, the
        secret moves to the vault's deleted secrets for the retention period: its name cannot be used again
        until it is purged (``az keyvault secret purge``) or recovered (``az keyvault secret recover``)."""
        secret_name = self._secret_name(name)
        try:
            self.client.begin_delete_secret(secret_name).wait()
        except azure_errors.ResourceNotFoundError:
            pass
        except Exception as exc:  # see _error
            raise self._error(exc, 'delete %s from %s' % (name, self.vault_url))
        self._versions[name] = None
        self._foreign_tags.pop(name, None)
