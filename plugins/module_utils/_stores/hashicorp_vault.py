# -*- coding: utf-8 -*-
# Copyright: contributors to the azdo.auth collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Store backend: HashiCorp Vault or OpenBao, KV version 2, through hvac.

Each entry is one KV secret at ``{mount_point}/{path}/{name}``. Writes use check-and-set with the
version that was read, so a concurrent writer is detected (and reported), never overwritten; an
unchanged entry creates no new version.
"""

from __future__ import annotations

import os
import time

from ansible_collections.azdo.auth.plugins.module_utils._client import _read_body
from ansible_collections.azdo.auth.plugins.module_utils._stores import StoreError, TokenStore

HVAC_IMPORT_ERROR = None
try:
    import hvac
    import hvac.exceptions
    import requests
except ImportError as exc:  # pragma: no cover - exercised only without hvac
    hvac = None
    HVAC_IMPORT_ERROR = exc


if hvac is not None:
    class CrossHostRedirect(requests.exceptions.RequestException):
        """Vault answered with a redirect to another host: neither the token nor the entry goes there."""

    class _VaultSession(requests.Session):
        """The session hvac uses: the X-Vault-Token header (and a write's body) never follows a redirect
        to another host (requests strips only Authorization), and ``timeout`` bounds the whole answer."""

        def rebuild_auth(self, prepared_request, response):
            if self.should_strip_auth(response.request.url, prepared_request.url):
                raise CrossHostRedirect(prepared_request.url.split('?', 1)[0])
            super(_VaultSession, self).rebuild_auth(prepared_request, response)

        def send(self, request, **kwargs):
            timeout = kwargs.get('timeout')
            if kwargs.get('stream') or not isinstance(timeout, (int, float)):
                return super(_VaultSession, self).send(request, **kwargs)
            kwargs['stream'] = True
            started = time.monotonic()
            response = super(_VaultSession, self).send(request, **kwargs)
            _read_body(response, started + timeout, timeout)
            return response


class HashiCorpVaultStore(TokenStore):
    backend = 'hashicorp_vault'

    def __init__(self, spec):
        if hvac is None:
            raise StoreError('The hashicorp_vault store needs the Python package hvac on the controller: %s'
                             % HVAC_IMPORT_ERROR, 'config')
        self.url = spec.get('url') or os.environ.get('VAULT_ADDR')
        if not self.url:
            raise StoreError('store.url (or VAULT_ADDR) is required for the hashicorp_vault backend.', 'config')
        self.mount_point = spec.get('mount_point') or 'secret'
        self.prefix = (spec.get('path') or 'azdo-auth').strip('/')
        verify = spec.get('ca_path') or bool(spec.get('validate_certs', True))
        session = _VaultSession()
        session.verify = verify  # hvac prefers a given session's verify over its own argument
        self.client = hvac.Client(url=self.url, namespace=spec.get('namespace') or os.environ.get('VAULT_NAMESPACE'),
                                  verify=verify, timeout=spec.get('timeout') or 30, session=session)
        self._versions = {}
        self._login(spec)

    def location(self):
        return '%s %s/%s' % (self.url, self.mount_point, self.prefix)

    def _login(self, spec):
        method = spec.get('auth_method') or 'token'
        try:
            if method == 'token':
                token = spec.get('token') or os.environ.get('VAULT_TOKEN')
                if not token:
                    raise StoreError('store.token (or VAULT_TOKEN) is required for auth_method token.', 'config')
                self.client.token = token
            elif method == 'approle':
                if not spec.get('role_id') or not spec.get('secret_id'):
                    raise StoreError('auth_method approle needs store.role_id and store.secret_id.', 'config')
                self.client.auth.approle.login(role_id=spec['role_id'], secret_id=spec['secret_id'])
            elif method == 'jwt':
                if not spec.get('role') or not spec.get('jwt'):
                    raise StoreError('auth_method jwt needs store.role and store.jwt.', 'config')
                self.client.auth.jwt.jwt_login(role=spec['role'], jwt=spec['jwt'])
        except StoreError:
            raise
        except Exception as exc:  # hvac raises its own hierarchy and requests errors
            raise self._error(exc, 'log in to %s with auth_method %s' % (self.url, method))

    def _path(self, name):
        return '%s/%s' % (self.prefix, name)

    def _error(self, exc, doing):
        if isinstance(exc, CrossHostRedirect):
            return StoreError('Cannot %s: %s redirected the request to %s, another host; the Vault token and the entry '
                              'are not sent there. Set store.url to the address that answers (the active node).'
                              % (doing, self.url, exc), 'config')
        if isinstance(exc, requests.exceptions.SSLError):
            return StoreError('Cannot %s: TLS verification failed (set store.ca_path to the CA that issued the '
                              'server certificate).' % doing, 'unreachable')
        if isinstance(exc, requests.exceptions.RequestException):
            return StoreError('Cannot %s: %s is unreachable (%s).' % (doing, self.url, type(exc).__name__), 'unreachable')
        if isinstance(exc, hvac.exceptions.Forbidden):
            return StoreError('Cannot %s: permission denied by %s: the token is invalid or expired, or its policy '
                              'lacks read, create and update on %s/data/%s/*.' % (doing, self.url, self.mount_point, self.prefix),
                              'denied')
        if isinstance(exc, hvac.exceptions.Unauthorized):
            return StoreError('Cannot %s: the Vault token or credentials are not valid (expired or wrong).' % doing, 'auth')
        if isinstance(exc, hvac.exceptions.InvalidRequest) and 'check-and-set' in str(exc):
            return StoreError('Cannot %s: another writer changed the entry at the same time (check-and-set failed); '
                              'nothing was overwritten. Re-run to apply on top of the new version.' % doing, 'conflict')
        if isinstance(exc, (hvac.exceptions.VaultDown, hvac.exceptions.InternalServerError)):
            return StoreError('Cannot %s: Vault is sealed or failing (%s).' % (doing, type(exc).__name__), 'unreachable')
        return StoreError('Cannot %s: %s: %s' % (doing, type(exc).__name__, ' '.join(str(exc).split())[:200]), 'error')

    def _not_json(self, answer, doing):
        """hvac returns the raw response when a 200 is not JSON (a proxy's page, a cut answer)."""
        status = getattr(answer, 'status_code', None)
        kind = (getattr(answer, 'headers', None) or {}).get('Content-Type') or 'no content type'
        return StoreError('Cannot %s: %s answered HTTP %s with a body that is not Vault JSON (%s): a proxy or a '
                          'truncated answer; check store.url.' % (doing, self.url, status, kind.split(';')[0]), 'error')

    def get(self, name):
        try:
            answer = self.client.secrets.kv.v2.read_secret_version(
                path=self._path(name), mount_point=self.mount_point, raise_on_deleted_version=True)
        except hvac.exceptions.InvalidPath:
            self._versions[name] = None
            return None
        except Exception as exc:  # see _error
            raise self._error(exc, 'read %s' % name)
        if not isinstance(answer, dict):
            raise self._not_json(answer, 'read %s' % name)
        data = answer.get('data') or {}
        self._versions[name] = (data.get('metadata') or {}).get('version')
        return dict(data.get('data') or {})

    def version(self, name):
        return self._versions.get(name)

    def write(self, name, entry, current):
        try:
            answer = self.client.secrets.kv.v2.create_or_update_secret(
                path=self._path(name), secret=entry, mount_point=self.mount_point,
                cas=self._versions.get(name) or 0)
        except Exception as exc:  # see _error
            raise self._error(exc, 'write %s' % name)
        if not isinstance(answer, dict):
            raise self._not_json(answer, 'confirm the write of %s (read it back to see whether it happened)' % name)
        version = (answer.get('data') or {}).get('version')
        self._versions[name] = version
        return version

    def remove(self, name, current):
        try:
            self.client.secrets.kv.v2.delete_metadata_and_all_versions(path=self._path(name), mount_point=self.mount_point)
        except Exception as exc:  # see _error
            raise self._error(exc, 'delete %s' % name)
        self._versions[name] = None
