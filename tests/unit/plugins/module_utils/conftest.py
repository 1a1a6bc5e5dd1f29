# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fakes for the client's transport: recorded Azure DevOps answers replayed without a network."""

from __future__ import annotations

import json

import pytest
import requests

from ansible_collections.azdo.auth.plugins.module_utils import _client

ADO_HEADERS = {'X-TFS-ProcessId': 'b0c6d7e2-1111-4222-8333-944455556666', 'X-VSS-E2EID': 'e2e-1',
               'ActivityId': 'act-1'}


def make_response(status=200, body=None, headers=None, url='https://dev.azure.com/fabrikam/_apis/x'):
    """A requests.Response as the server would send it."""
    response = requests.Response()
    response.status_code = status
    response.url = url
    hdrs = dict(headers or {})
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
        hdrs.setdefault('Content-Type', 'application/json; charset=utf-8')
    response._content = (body or '').encode('utf-8')
    response.headers.update(hdrs)
    response.encoding = 'utf-8'
    response._content_consumed = True
    return response


def vss_error(message, type_key='InvalidAccessException'):
    return {'$id': '1', 'innerException': None, 'message': message,
            'typeName': 'Microsoft.TeamFoundation.Framework.Server.%s, Microsoft.TeamFoundation.Framework.Server' % type_key,
            'typeKey': type_key, 'errorCode': 0, 'eventId': 3000}


class FakeTransport(object):
    """Replaces Session.request: answers from a list (or a callable), records every call."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.calls = []

    def __call__(self, method, url, **kwargs):
        self.calls.append(dict(kwargs, method=method, url=url))
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if callable(answer) and not isinstance(answer, requests.Response):
            answer = answer(method, url, **kwargs)
        if isinstance(answer, BaseException):
            raise answer
        return answer


@pytest.fixture(autouse=True)
def _fresh_caches():
    _client.reset_caches()
    yield
    _client.reset_caches()


@pytest.fixture
def client_factory():
    """Build a client whose transport replays ``answers``; sleeping is recorded, not done."""
    def factory(answers, **kwargs):
        sleeps = []
        kwargs.setdefault('url', 'https://dev.azure.com/fabrikam')
        if 'access_token' not in kwargs and 'username' not in kwargs:
            kwargs.setdefault('pat', 'a' * 52)
        client = _client.AdoClient(sleep=sleeps.append, **kwargs)
        transport = FakeTransport(answers)
        client.session.request = transport
        client.sleeps = sleeps
        client.transport = transport
        return client
    return factory
