# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Transport faults found by the fault matrix (tests/integration/test_fault_matrix.py), pinned without a network:
answers cut short, bodies trickled past the timeout, redirect loops, and the Vault session's redirect and JSON
checks."""

from __future__ import annotations

import time

import pytest
import requests
from urllib3.exceptions import ProtocolError

from ansible_collections.azdo.auth.plugins.module_utils import _client
from ansible_collections.azdo.auth.plugins.module_utils._client import AdoConnectionError, AdoHttpError
from ansible_collections.azdo.auth.plugins.module_utils._stores import StoreError

from .conftest import make_response


class TrickleRaw(object):
    """A urllib3 response stand-in whose body arrives one byte per read, ``pause`` seconds apart."""

    def __init__(self, body, pause=0.0, error=None):
        self.body = body
        self.pause = pause
        self.error = error
        self.closed = False

    def read1(self, amt=None, decode_content=None):
        if self.error is not None:
            raise self.error
        time.sleep(self.pause)
        chunk, self.body = self.body[:1], self.body[1:]
        return chunk

    read = read1

    def close(self):
        self.closed = True


def streamed(raw, status=200):
    response = requests.Response()
    response.status_code = status
    response.raw = raw
    response.headers['Content-Type'] = 'application/json'
    return response


def test_body_read_within_the_deadline():
    response = streamed(TrickleRaw(b'{"a": 1}'))
    _client._read_body(response, time.monotonic() + 5, 5)
    assert response.json() == {'a': 1}


def test_body_trickled_past_the_deadline_is_a_read_timeout():
    raw = TrickleRaw(b'{"value": "' + b'x' * 200 + b'"}', pause=0.01)
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout, match='did not arrive in full within 0.1 s'):
        _client._read_body(streamed(raw), started + 0.1, 0.1)
    assert time.monotonic() - started < 1 and raw.closed


def test_body_cut_short_is_a_chunked_encoding_error():
    raw = TrickleRaw(b'', error=ProtocolError('Connection broken: IncompleteRead(10 bytes read, 90 more expected)'))
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        _client._read_body(streamed(raw), time.monotonic() + 5, 5)


def test_an_answer_cut_short_is_retried_then_reported(client_factory):
    cut = requests.exceptions.ChunkedEncodingError('Connection broken: IncompleteRead')
    client = client_factory([cut], retries=1, retry_max_delay=1)
    with pytest.raises(AdoConnectionError, match='broke off its answer .the body was cut short. after 2 attempt'):
        client.get('_apis/connectionData')
    assert client.request_count == 2 and len(client.sleeps) == 1


def test_an_answer_cut_short_once_then_success(client_factory):
    cut = requests.exceptions.ChunkedEncodingError('Connection broken: IncompleteRead')
    client = client_factory([cut, make_response(200, {'id': 'x'})], retries=1)
    assert client.get('_apis/connectionData') == {'id': 'x'}


def test_a_same_host_redirect_loop_is_not_called_another_host(client_factory):
    client = client_factory([make_response(302, '', {'Location': '/fabrikam/_apis/projects'})])
    with pytest.raises(AdoHttpError) as err:
        client.get('_apis/projects')
    assert 'too many redirects' in str(err.value) and 'another host' not in str(err.value)
    assert client.request_count == 4


# -- the hashicorp_vault store's session ------------------------------------------------------------

hvac = pytest.importorskip('hvac')


def vault_store():
    from ansible_collections.azdo.auth.plugins.module_utils._stores.hashicorp_vault import HashiCorpVaultStore
    return HashiCorpVaultStore({'url': 'https://vault.example.test:8200', 'token': 'unit-token', 'timeout': 2})


def test_vault_token_never_follows_a_redirect_to_another_host():
    from ansible_collections.azdo.auth.plugins.module_utils._stores.hashicorp_vault import CrossHostRedirect
    store = vault_store()
    session = store.client.adapter.session
    original = requests.Request('GET', 'https://vault.example.test:8200/v1/secret/data/x',
                                headers={'X-Vault-Token': 'unit-token'}).prepare()
    answer = requests.Response()
    answer.request = original
    for target in ('https://other.example.test:8200/v1/secret/data/x', 'https://vault.example.test:9200/v1/x'):
        hop = original.copy()
        hop.url = target
        with pytest.raises(CrossHostRedirect):
            session.rebuild_auth(hop, answer)
    same = original.copy()
    same.url = 'https://vault.example.test:8200/v1/secret/data/y'
    session.rebuild_auth(same, answer)
    assert same.headers['X-Vault-Token'] == 'unit-token'
    error = store._error(CrossHostRedirect('https://other.example.test:8200/v1/secret/data/x'), 'read x')
    assert error.kind == 'config' and 'another host' in str(error) and 'unit-token' not in str(error)


def test_vault_answer_that_is_not_json_is_a_store_error(monkeypatch):
    store = vault_store()
    page = requests.Response()
    page.status_code = 200
    page.headers['Content-Type'] = 'text/html; charset=utf-8'
    page._content = b'<html>Sign in</html>'
    monkeypatch.setattr(store.client.secrets.kv.v2, 'read_secret_version', lambda **kwargs: page)
    with pytest.raises(StoreError, match=r'HTTP 200 with a body that is not Vault JSON \(text/html\)'):
        store.get('x')
    monkeypatch.setattr(store.client.secrets.kv.v2, 'create_or_update_secret', lambda **kwargs: page)
    with pytest.raises(StoreError, match='read it back'):
        store.write('x', {'value': 'v'}, None)


@pytest.mark.parametrize('spec, verify', [
    ({}, True),
    ({'validate_certs': False}, False),
    ({'ca_path': 'private-ca.pem'}, 'private-ca.pem'),
])
def test_vault_session_keeps_the_tls_settings(spec, verify):
    from ansible_collections.azdo.auth.plugins.module_utils._stores.hashicorp_vault import HashiCorpVaultStore
    store = HashiCorpVaultStore(dict({'url': 'https://vault.example.test:8200', 'token': 'unit-token'}, **spec))
    assert store.client.adapter._kwargs['verify'] == verify
