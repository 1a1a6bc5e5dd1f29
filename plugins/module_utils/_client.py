# -*- coding: utf-8 -*-
# Copyright: contributors to the azdo.auth collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one HTTP client of the collection: every call to Azure DevOps goes through AdoClient.

It builds the Authorization header (PAT as ``Basic base64(":" + pat)``, access tokens as
``Bearer``, NTLM/Negotiate for Windows accounts), enforces TLS settings on every request,
retries 429/5xx/connection errors within a budget honouring ``Retry-After``, negotiates the
api-version once per server and run, follows continuation tokens, and turns every failure
into a typed exception whose text never contains a secret.
"""

from __future__ import annotations

import base64
import email.utils
import json
import os
import random
import re
import threading
import time

try:
    from urllib.parse import quote, unquote, urlsplit, urlunsplit
except ImportError:  # pragma: no cover - Python 2 is not supported
    pass

REQUESTS_IMPORT_ERROR = None
try:
    import requests
    from requests.auth import AuthBase
except ImportError as exc:  # pragma: no cover - exercised only without requests
    requests = None
    AuthBase = object
    REQUESTS_IMPORT_ERROR = exc

COLLECTION_VERSION = '0.1.0'
USER_AGENT = 'azdo.auth/%s' % COLLECTION_VERSION

# The newest released REST API version the collection speaks. Cloud always accepts it.
NEWEST_API_VERSION = '7.1'

# Resource area ids (x-ms-vss-resource-area-id in the official specs).
AREA_CORE = '79134c72-4a58-4b42-976c-04e7115f32bf'
AREA_GRAPH = 'bb1e7ec9-e901-4b68-999a-de7012b920f8'
AREA_IDENTITIES = '8a3d49b8-91f0-46ef-b33d-dda338c25db3'
AREA_TOKENS = '55967393-20ef-45c6-a96c-b5d5d5986a9a'
AREA_TOKEN_ADMIN = 'af68438b-ed04-4407-9eb6-f1dbae3f922e'
AREA_PROFILE = '8ccfef3d-2b87-4e99-8ccb-66e343d2daa8'
AREA_PACKAGING = '7ab4e64e-c4d8-4f50-ae73-5ef2e21642a5'
AREA_RELEASE = 'efc2f575-36ef-48e9-b672-0c6fb4a48ac5'

AUTH_METHODS = ('pat', 'bearer', 'ntlm', 'negotiate')
RETRY_STATUSES = frozenset((429, 500, 502, 503, 504))
NON_IDEMPOTENT = frozenset(('POST', 'PATCH'))
REDACTED = '********'

_CODE_RE = re.compile(r'\b(TF\d{5,6}|VS\d{6})\b')
_OUT_OF_RANGE_RE = re.compile(r'latest REST API version this server supports is (\d+)\.(\d+)')
_VERSION_RE = re.compile(r'^(\d+)\.(\d+)(-preview(\.\d+)?)?$')

# api-version negotiated per server within one controller process (one ansible-playbook run).
# Tasks run in forked workers, so the controller-side action plugins also keep them in a file of
# the run's local temporary directory (use_run_cache): a later task of the same run reuses them.
_VERSION_CACHE = {}
_AREA_CACHE = {}
_CACHE_LOCK = threading.Lock()
_RUN_CACHE = {'path': None}


# --------------------------------------------------------------------------------------------
# Exceptions
# --------------------------------------------------------------------------------------------

class AdoError(Exception):
    """Base of every error the client raises. ``str(err)`` is safe to show: secrets are redacted."""

    kind = 'error'

    def __init__(self, message, status=None, error_code=None, type_key=None, tf_code=None,
                 headers=None, url=None, retry_after=None):
        super(AdoError, self).__init__(message)
        self.message = message
        self.status = status
        self.error_code = error_code
        self.type_key = type_key
        self.tf_code = tf_code
        self.headers = headers or {}
        self.url = url
        self.retry_after = retry_after

    def __str__(self):
        return self.message

    @property
    def has_ado_headers(self):
        """True when Azure DevOps itself answered (X-TFS-*/X-VSS-* headers), not a proxy or IIS."""
        return any(k.lower().startswith(('x-tfs-', 'x-vss-')) for k in self.headers)

    @property
    def www_authenticate(self):
        value = self.headers.get('WWW-Authenticate') or self.headers.get('www-authenticate') or ''
        return [part.strip().split(' ')[0].lower() for part in value.split(',') if part.strip()]


class AdoConfigError(AdoError):
    """Bad input found before any request was sent."""
    kind = 'config'


class AdoTlsError(AdoError):
    """The TLS handshake failed (untrusted or mismatched certificate)."""
    kind = 'tls'


class AdoConnectionError(AdoError):
    """The server could not be reached, or did not answer in time, after the allowed retries."""
    kind = 'connection'


class AdoHttpError(AdoError):
    """The server answered with an error status (after the allowed retries)."""
    kind = 'http'


class AdoSignInError(AdoHttpError):
    """The server answered with a sign-in page (203, HTML 2xx, or a redirect to a sign-in URL)."""
    kind = 'signin'


class AdoResponseError(AdoError):
    """A 2xx answer whose body is not the JSON it should be."""
    kind = 'response'


# --------------------------------------------------------------------------------------------
# Pure helpers
# --------------------------------------------------------------------------------------------

def fingerprint(secret):
    """First 12 hex characters of the SHA-256 of a secret: how the collection names a token."""
    import hashlib
    if secret is None:
        return None
    return hashlib.sha256(secret.encode('utf-8')).hexdigest()[:12]


def basic_pat_value(pat):
    """The Basic credential Azure DevOps expects for a PAT: base64 of ':' + PAT (empty user)."""
    return base64.b64encode((':' + pat).encode('utf-8')).decode('ascii')


def parse_version(text):
    """'7.1-preview.1' -> (7, 1, '-preview.1'); raises ValueError on anything else."""
    match = _VERSION_RE.match(str(text).strip())
    if not match:
        raise ValueError('not an api-version: %r' % (text,))
    return int(match.group(1)), int(match.group(2)), match.group(3) or ''


def cap_version(requested, cap):
    """Lower ``requested`` to ``cap`` when the server supports less; keeps a preview marker."""
    if not cap:
        return requested
    rmaj, rmin, rsuffix = parse_version(requested)
    cmaj, cmin, dummy = parse_version(cap)
    if (rmaj, rmin) <= (cmaj, cmin):
        return requested
    # A lowered preview keeps '-preview' without a resource number: the server picks its latest.
    return '%d.%d%s' % (cmaj, cmin, '-preview' if rsuffix else '')


def parse_retry_after(value, now=None):
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None if absent/bad."""
    if value is None:
        return None
    value = str(value).strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


def normalize_url(url, allow_http=False):
    """Validate and normalise an organization/collection URL.

    Returns the URL without a trailing slash or ``_apis`` part. Raises AdoConfigError with an
    actionable message for a missing scheme, embedded credentials, plain http without
    ``allow_http``, or a cloud URL without the organization.
    """
    if url is None or not str(url).strip():
        raise AdoConfigError('url is required: the organization URL (https://dev.azure.com/ORG) or the '
                             'collection URL (https://SERVER/tfs/COLLECTION).')
    text = str(url).strip()
    if any(ch.isspace() for ch in text):
        raise AdoConfigError('url must not contain white space: %r' % text)
    if '://' not in text:
        raise AdoConfigError('url %r has no scheme: write it as https://%s' % (text, text))
    try:
        parts = urlsplit(text)
        dummy = parts.port  # raises ValueError for a port that is not a number
    except ValueError as exc:
        raise AdoConfigError('url %r is not a valid URL: %s.' % (text, exc))
    scheme = parts.scheme.lower()
    if scheme not in ('http', 'https'):
        raise AdoConfigError('url %r must use https:// (or http:// with allow_http: true)' % text)
    if parts.username or parts.password or '@' in parts.netloc:
        raise AdoConfigError('url must not embed credentials (user:secret@host): pass them as pat, '
                             'access_token or username/password instead.')
    if not parts.hostname:
        raise AdoConfigError('url %r has no host name' % text)
    if scheme == 'http' and not allow_http:
        raise AdoConfigError('url %s uses plain http: credentials would cross the network unencrypted. '
                             'Use https, or set allow_http: true for a test server you trust.'
                             % urlunsplit((scheme, parts.netloc, parts.path, '', '')))
    path = parts.path.rstrip('/')
    idx = path.lower().find('/_apis')
    if idx >= 0:
        path = path[:idx]
    host = parts.hostname.lower()
    if host == 'dev.azure.com' and not path.strip('/'):
        raise AdoConfigError('url https://dev.azure.com has no organization: use https://dev.azure.com/ORGANIZATION.')
    return urlunsplit((scheme, parts.netloc, path, '', ''))


def product_for(deployment_type, api_version):
    """Best description of the product from the deployment type and the highest api-version."""
    if deployment_type == 'hosted':
        return 'Azure DevOps Services'
    if not api_version:
        return None
    major, minor, dummy = parse_version(api_version)
    if major >= 7 and minor >= 1:
        return 'Azure DevOps Server 2022.1 or later'
    table = {7: 'Azure DevOps Server 2022', 6: 'Azure DevOps Server 2020', 5: 'Azure DevOps Server 2019',
             4: 'Team Foundation Server 2018', 3: 'Team Foundation Server 2017', 2: 'Team Foundation Server 2015'}
    return table.get(major, 'Team Foundation Server (api-version %s)' % api_version)


def parse_error_body(text):
    """(message, type_key, error_code) from a VSS error body, or (None, None, None)."""
    if not text:
        return None, None, None
    try:
        data = json.loads(text.lstrip('\ufeff'))
    except ValueError:
        return None, None, None
    if not isinstance(data, dict):
        return None, None, None
    message = data.get('message')
    if message is None and isinstance(data.get('value'), dict):
        # "Improper" wrapped errors: {"count":1,"value":{"Message":"..."}}
        message = data['value'].get('Message') or data['value'].get('message')
    if message is None:
        message = data.get('Message') or data.get('error_description') or data.get('ErrorDescription')
    error_code = data.get('errorCode')
    return message, data.get('typeKey'), error_code


# --------------------------------------------------------------------------------------------
# Authentication
# --------------------------------------------------------------------------------------------

class _HeaderAuth(AuthBase):
    """Sets a fixed Authorization header; the value is never part of repr()."""

    def __init__(self, value):
        self._value = value

    def __call__(self, request):
        request.headers['Authorization'] = self._value
        return request

    def __repr__(self):
        return '<%s %s>' % (type(self).__name__, REDACTED)


def _windows_auth(method, username, password):
    """NTLM for on-premises servers, offered under the Negotiate or NTLM challenge IIS sends.

    requests-ntlm answers whichever of the two challenges the server offers with an NTLM token
    (Negotiate accepts NTLM inside SPNEGO); Kerberos tickets are not used.
    """
    try:
        from requests_ntlm import HttpNtlmAuth
    except ImportError:
        raise AdoConfigError('auth_method %s needs the Python package requests-ntlm (pip install requests-ntlm).' % method)
    return HttpNtlmAuth(username, password)


# --------------------------------------------------------------------------------------------
# The client
# --------------------------------------------------------------------------------------------

class HttpTransport(object):
    """Sessions, TLS on every request, bounded retries honouring Retry-After, secret redaction.

    AdoClient adds Azure DevOps authentication and parsing; token endpoints (Entra ID, Azure DevOps
    OAuth) use the transport directly through post_form().
    """

    def __init__(self, validate_certs=True, ca_path=None, timeout=30, retries=3, retry_max_delay=60,
                 sleep=time.sleep, warn=None):
        if requests is None:
            raise AdoConfigError('The Python package requests is required on the controller (pip install requests): %s'
                                 % REQUESTS_IMPORT_ERROR)
        self._secrets = set()
        self._warn = warn or (lambda msg: None)
        self._auth = None
        self.verify = ca_path if ca_path else bool(validate_certs)
        self.timeout = timeout
        self.retries = max(0, int(retries))
        self.retry_max_delay = float(retry_max_delay)
        # A client never retries more than this many times in total, whatever the request count.
        self._retry_budget = max(self.retries, self.retries * 10)
        self._sleep = sleep
        self._lock = threading.Lock()
        self._not_before = 0.0
        self.request_count = 0
        self.session = requests.Session()
        self.session.headers.update({'Accept': 'application/json', 'User-Agent': USER_AGENT})

    def _remember(self, secret):
        if not secret:
            return
        self._secrets.add(secret)
        self._secrets.add(basic_pat_value(secret))
        self._secrets.add(base64.b64encode(secret.encode('utf-8')).decode('ascii'))
        self._secrets.add(quote(secret, safe=''))

    def redact(self, text):
        """Replace every known secret (and its Basic/base64/URL-encoded forms) in text."""
        if text is None:
            return None
        text = str(text)
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret and secret in text:
                text = text.replace(secret, REDACTED)
        return text

    # -- sending ------------------------------------------------------------------------------

    def _wait_gate(self):
        """All threads sharing this client back off together after a 429."""
        with self._lock:
            delay = self._not_before - time.time()
        if delay > 0:
            self._sleep(delay)

    def _take_retry(self):
        with self._lock:
            if self._retry_budget <= 0:
                return False
            self._retry_budget -= 1
            return True

    def _backoff(self, attempt, response=None):
        delay = None
        if response is not None:
            delay = parse_retry_after(response.headers.get('Retry-After'))
        if delay is None:
            delay = min(8.0, 0.5 * (2 ** attempt)) * (0.75 + random.random() / 2)
        delay = min(delay, self.retry_max_delay)
        if response is not None and response.status_code == 429:
            with self._lock:
                self._not_before = max(self._not_before, time.time() + delay)
        return delay

    def _send_once(self, method, url, params, json_body, headers, data=None):
        with self._lock:
            self.request_count += 1
        started = time.monotonic()
        response = self.session.request(method, url, params=params, json=json_body, headers=headers, data=data,
                                        auth=self._auth, verify=self.verify, timeout=self.timeout,
                                        allow_redirects=False, stream=True)
        _read_body(response, started + self.timeout, self.timeout)
        return response

    def _send(self, method, url, params=None, json_body=None, headers=None, data=None, retry_unsafe=False):
        """Send with bounded retries; returns a final requests.Response (any status).

        POST and PATCH are not idempotent (a PAT create, a single-use refresh token): they are retried only when
        the server cannot have acted on them - a 429, or a connection that was never established.
        """
        attempt = 0
        redirects = 0
        idempotent = retry_unsafe or method.upper() not in NON_IDEMPOTENT
        while True:
            self._wait_gate()
            try:
                response = self._send_once(method, url, params, json_body, headers, data)
            except requests.exceptions.SSLError as exc:
                raise AdoTlsError(self.redact('TLS handshake with %s failed: %s' % (_host_of(url), _short(exc))), url=url)
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                    requests.exceptions.ChunkedEncodingError) as exc:
                never_sent = isinstance(exc, requests.exceptions.ConnectTimeout)
                if (idempotent or never_sent) and attempt < self.retries and self._take_retry():
                    self._sleep(self._backoff(attempt))
                    attempt += 1
                    continue
                what = 'did not answer within %s s' % self.timeout if isinstance(exc, requests.exceptions.Timeout) \
                    else 'broke off its answer (the body was cut short)' \
                    if isinstance(exc, requests.exceptions.ChunkedEncodingError) else 'could not be reached'
                raise AdoConnectionError(self.redact('%s %s after %d attempt(s): %s' % (_host_of(url), what, attempt + 1, _short(exc))),
                                         url=url)
            except requests.exceptions.RequestException as exc:
                raise AdoConnectionError(self.redact('Request to %s failed: %s' % (_host_of(url), _short(exc))), url=url)
            retryable = response.status_code in RETRY_STATUSES if idempotent else response.status_code == 429
            if retryable and attempt < self.retries and self._take_retry():
                delay = self._backoff(attempt, response)
                response.close()
                if response.status_code != 429:
                    self._sleep(delay)  # a 429 sets the shared gate instead, waited for at the loop's top
                attempt += 1
                continue
            if 300 <= response.status_code < 400 and response.headers.get('Location'):
                target = _resolve(url, response.headers['Location'])
                if _same_origin_or_upgrade(url, target) and not _looks_like_signin(target) and redirects < 3:
                    redirects += 1
                    url, params = target, None
                    continue
                # Only a sign-in page means the credential was refused; another host (a moved server, a
                # load balancer's canonical name) is an answer the collection does not follow.
                error = AdoSignInError if _looks_like_signin(target) else AdoHttpError
                raise error(
                    self.redact('%s %s was redirected to %s instead of answering: %s' % (
                        method, _path_of(url), _host_of(target) + _path_of(target),
                        'a sign-in page (the credential was not accepted)' if _looks_like_signin(target)
                        else 'too many redirects' if _same_origin_or_upgrade(url, target)
                        else 'another host; credentials are not sent there (if it is the right server, use its '
                             'URL)')),
                    status=response.status_code, headers=dict(response.headers), url=url)
            return response

    def post_form(self, url, form, secret_fields=(), idempotent=False):
        """POST an application/x-www-form-urlencoded body (token endpoints); returns the final response.

        The values of ``secret_fields`` are redacted from every error this transport raises. Pass
        ``idempotent=True`` only when repeating the request cannot consume anything (client credentials):
        a refresh or code exchange that the server processed before failing must not be sent twice.
        """
        for field in secret_fields:
            if form.get(field):
                self._remember(str(form[field]))
        return self._send('POST', url, data=form, retry_unsafe=idempotent)


class AdoClient(HttpTransport):
    """One authenticated connection to an Azure DevOps organization or collection."""

    def __init__(self, url, pat=None, access_token=None, auth_method=None, username=None, password=None,
                 validate_certs=True, ca_path=None, timeout=30, retries=3, api_version=None,
                 allow_http=False, retry_max_delay=60, sleep=time.sleep, warn=None):
        super(AdoClient, self).__init__(validate_certs=validate_certs, ca_path=ca_path, timeout=timeout,
                                        retries=retries, retry_max_delay=retry_max_delay, sleep=sleep, warn=warn)
        self.url = normalize_url(url, allow_http)
        self.auth_method = self._pick_auth_method(auth_method, pat, access_token, username, password)
        self.token_hint = None
        if self.auth_method == 'pat':
            pat = self._clean_secret('pat', pat)
            self._remember(pat)
            self._auth = _HeaderAuth('Basic ' + basic_pat_value(pat))
            self.token_hint = _looks_like(pat)
        elif self.auth_method == 'bearer':
            access_token = self._clean_secret('access_token', access_token)
            self._remember(access_token)
            self._auth = _HeaderAuth('Bearer ' + access_token)
            self.token_hint = _looks_like(access_token)
        else:
            if not username or password is None:
                raise AdoConfigError('auth_method %s needs username and password.' % self.auth_method)
            self._remember(password)
            self._auth = _windows_auth(self.auth_method, username, password)
        if api_version is not None:
            try:
                parse_version(api_version)
            except ValueError:
                raise AdoConfigError('api_version %r is not an api-version such as 7.1 or 7.1-preview.1.' % (api_version,))
        self.pinned_version = api_version
        self.session.headers['X-TFS-FedAuthRedirect'] = 'Suppress'
        self.connection_data = None

    # -- set-up helpers -----------------------------------------------------------------------

    @staticmethod
    def _pick_auth_method(auth_method, pat, access_token, username, password):
        if pat and access_token:
            raise AdoConfigError('pat and access_token are mutually exclusive: give the one credential to check.')
        if auth_method is None:
            if pat:
                return 'pat'
            if access_token:
                return 'bearer'
            if username:
                return 'ntlm'
            raise AdoConfigError('No credential: set pat (or AZURE_DEVOPS_EXT_PAT), access_token '
                                 '(or SYSTEM_ACCESSTOKEN), or username and password.')
        if auth_method not in AUTH_METHODS:
            raise AdoConfigError('auth_method must be one of %s, not %r.' % (', '.join(AUTH_METHODS), auth_method))
        if auth_method == 'pat' and not pat:
            raise AdoConfigError('auth_method pat needs pat (or the AZURE_DEVOPS_EXT_PAT environment variable).')
        if auth_method == 'bearer' and not access_token:
            raise AdoConfigError('auth_method bearer needs access_token (or SYSTEM_ACCESSTOKEN).')
        return auth_method

    def _clean_secret(self, name, value):
        value = str(value)
        stripped = value.strip()
        if not stripped:
            raise AdoConfigError('%s is empty.' % name)
        if stripped != value:
            self._remember(value)
            self._warn('%s had leading or trailing white space (often a newline from a file); it was removed.' % name)
        try:
            stripped.encode('ascii')
        except UnicodeEncodeError:
            raise AdoConfigError('%s contains non-ASCII characters: Azure DevOps tokens are ASCII; '
                                 'check that the whole token was copied and nothing else.' % name)
        if any(ch.isspace() or ord(ch) < 32 for ch in stripped):
            raise AdoConfigError('%s contains white space or control characters inside the token.' % name)
        return stripped

    # -- URLs and versions -------------------------------------------------------------------

    def _full_url(self, path, base_url=None):
        if path.startswith(('http://', 'https://')):
            return path
        return (base_url or self.url).rstrip('/') + '/' + path.lstrip('/')

    def _server_key(self, base_url=None):
        return (base_url or self.url).lower()

    @property
    def server_api_version(self):
        """Highest api-version the server accepts, when known (pinned, negotiated or cloud)."""
        if self.pinned_version:
            return self.pinned_version
        with _CACHE_LOCK:
            known = _VERSION_CACHE.get(self._server_key())
        if known:
            return known
        if self.connection_data and self.connection_data.get('deploymentType') == 'hosted':
            return NEWEST_API_VERSION
        return None

    def _effective_version(self, requested, base_url):
        if requested is None:
            return None
        if self.pinned_version:
            return cap_version(requested, self.pinned_version)
        with _CACHE_LOCK:
            cap = _VERSION_CACHE.get(self._server_key(base_url)) or _VERSION_CACHE.get(self._server_key())
        return cap_version(requested, cap)

    def _learn_version(self, base_url, version):
        with _CACHE_LOCK:
            _VERSION_CACHE[self._server_key(base_url)] = version
            _VERSION_CACHE[self._server_key()] = version
            _persist_caches()

    def request(self, method, path, params=None, json_body=None, api_version=None, base_url=None, expect_json=True):
        """Call the API and return the parsed JSON body (None for an empty answer).

        ``api_version`` is the version the caller was written for; the client lowers it to what
        the server accepts (learning that once per server and run from the 400 out-of-range
        answer) unless the user pinned ``api_version``.
        """
        url = self._full_url(path, base_url)
        version = self._effective_version(api_version, base_url)
        negotiated = False
        while True:
            query = dict(params or {})
            if version:
                query['api-version'] = version
            response = self._send(method, url, params=query or None, json_body=json_body)
            if response.status_code == 400 and version and not negotiated:
                message, type_key, dummy = parse_error_body(response.text)
                if type_key == 'VssVersionOutOfRangeException' or (message and _OUT_OF_RANGE_RE.search(message)):
                    match = _OUT_OF_RANGE_RE.search(message or '')
                    if match and not self.pinned_version:
                        server_max = '%s.%s' % match.groups()
                        self._learn_version(base_url, server_max)
                        version = cap_version(version, server_max)
                        negotiated = True
                        continue
            return self._parse(method, url, response, expect_json)

    def get(self, path, params=None, api_version=None, base_url=None):
        return self.request('GET', path, params=params, api_version=api_version, base_url=base_url)

    def paged(self, path, params=None, api_version=None, base_url=None, item_key='value',
              token_param='continuationToken', max_pages=1000):
        """Yield items across pages: X-MS-ContinuationToken header or a continuationToken field."""
        params = dict(params or {})
        url = self._full_url(path, base_url)
        for dummy in range(max_pages):
            version = self._effective_version(api_version, base_url)
            query = dict(params)
            if version:
                query['api-version'] = version
            response = self._send('GET', url, params=query)
            data = self._parse('GET', url, response, True) or {}
            yield from data.get(item_key) or []
            token = response.headers.get('X-MS-ContinuationToken') or data.get('continuationToken')
            if not token:
                return
            params[token_param] = token
        raise AdoResponseError('%s returned more than %d pages; stopping.' % (_path_of(url), max_pages), url=url)

    # -- parsing ------------------------------------------------------------------------------

    def _parse(self, method, url, response, expect_json):
        status = response.status_code
        headers = dict(response.headers)
        content_type = (response.headers.get('Content-Type') or '').lower()
        text = response.text
        if status == 203 or (200 <= status < 300 and 'html' in content_type):
            raise AdoSignInError(
                '%s %s answered %d with an HTML sign-in page: the service treated the call as anonymous, '
                'so the credential was not sent in a form it accepts.' % (method, _path_of(url), status),
                status=status, headers=headers, url=url)
        if 200 <= status < 300:
            if not text.strip() or not expect_json:
                return None
            try:
                return json.loads(text.lstrip('\ufeff'))
            except ValueError:
                raise AdoResponseError('%s %s answered %d with a body that is not valid JSON (%d bytes): '
                                       'a proxy, a truncated answer or a server fault.'
                                       % (method, _path_of(url), status, len(text)), status=status,
                                       headers=headers, url=url)
        message, type_key, error_code = parse_error_body(text)
        service_error = response.headers.get('X-TFS-ServiceError')
        if service_error:
            service_error = unquote(service_error)
            message = message or service_error
        code_match = _CODE_RE.search(' '.join(x for x in (message, service_error) if x))
        retry_after = parse_retry_after(response.headers.get('Retry-After'))
        detail = message or _reason(status, text, content_type)
        raise AdoHttpError(
            self.redact('%s %s answered HTTP %d: %s' % (method, _path_of(url), status, detail)),
            status=status, error_code=error_code, type_key=type_key,
            tf_code=code_match.group(1) if code_match else None, headers=headers, url=url,
            retry_after=retry_after)

    # -- well-known calls ------------------------------------------------------------------

    def get_connection_data(self):
        """GET _apis/connectionData: who is authenticated, deployment type and instance id."""
        data = self.request('GET', '_apis/connectionData')
        if not isinstance(data, dict):
            raise AdoResponseError('_apis/connectionData answered without a JSON object.', url=self.url)
        self.connection_data = data
        return data

    def area_url(self, area_id):
        """Base URL of a resource area (vssps, feeds, vsrm... in the cloud), cached per run."""
        key = (self._server_key(), area_id.lower())
        with _CACHE_LOCK:
            if key in _AREA_CACHE:
                return _AREA_CACHE[key]
        try:
            data = self.request('GET', '_apis/resourceAreas/%s' % area_id, api_version='5.0-preview.1')
            location = (data or {}).get('locationUrl') or self.url
        except AdoHttpError as exc:
            if exc.status != 404:
                raise
            location = self.url  # servers without the area answer 404: the collection hosts it
        location = location.rstrip('/')
        with _CACHE_LOCK:
            _AREA_CACHE[key] = location
            _persist_caches()
        return location


def reset_caches():
    """Forget negotiated versions and resource areas (tests)."""
    with _CACHE_LOCK:
        _VERSION_CACHE.clear()
        _AREA_CACHE.clear()
        _RUN_CACHE['path'] = None


def use_run_cache(path):
    """Share negotiated versions and resource-area hosts across the tasks of one run through ``path``.

    Only server facts are kept (api-versions, area URLs), never a credential. A stale entry is
    harmless: a lower api-version is still accepted, and an out-of-range answer is learned again.
    """
    with _CACHE_LOCK:
        _RUN_CACHE['path'] = path
        try:
            with open(path) as handle:
                data = json.load(handle)
        except (OSError, IOError, ValueError):
            return
        _VERSION_CACHE.update(data.get('versions') or {})
        for key, value in (data.get('areas') or {}).items():
            server, dummy, area = key.rpartition('|')
            _AREA_CACHE[(server, area)] = value


def _persist_caches():
    """Write the caches to the run cache file (atomically); called with _CACHE_LOCK held."""
    path = _RUN_CACHE['path']
    if not path:
        return
    data = {'versions': dict(_VERSION_CACHE),
            'areas': dict(('%s|%s' % key, value) for key, value in _AREA_CACHE.items())}
    tmp = '%s.%d.tmp' % (path, os.getpid())
    try:
        with open(tmp, 'w') as handle:
            json.dump(data, handle)
        os.replace(tmp, path)
    except (OSError, IOError):
        pass  # a cache that cannot be written costs a round trip later, nothing else


# --------------------------------------------------------------------------------------------
# Small private helpers
# --------------------------------------------------------------------------------------------

def _read_body(response, deadline, timeout):
    """Read a streamed answer's body by ``deadline`` so that ``timeout`` bounds the whole answer.

    requests' timeout bounds each socket read, not the answer: a server sending its body a byte at a
    time would hold the task for ever. read1() returns what one socket read brings. A body cut short
    becomes ChunkedEncodingError and a stall ReadTimeout, as requests would raise them (both retried).
    """
    from urllib3 import exceptions as urllib3_errors  # a dependency of requests
    raw = getattr(response, 'raw', None)
    if getattr(response, '_content_consumed', False) or raw is None or not hasattr(raw, 'read'):
        return  # already read
    read = getattr(raw, 'read1', None) or raw.read
    chunks = []
    try:
        while True:
            chunk = read(65536, decode_content=True)
            if not chunk:
                break
            chunks.append(chunk)
            if time.monotonic() > deadline:
                raise requests.exceptions.ReadTimeout('the answer did not arrive in full within %s s' % timeout)
    except requests.exceptions.RequestException:
        response.close()
        raise
    except (urllib3_errors.HTTPError, OSError) as exc:  # what requests would raise for the same failure
        response.close()
        if isinstance(exc, (urllib3_errors.ReadTimeoutError, TimeoutError)):
            raise requests.exceptions.ReadTimeout(exc)
        if isinstance(exc, urllib3_errors.DecodeError):
            raise requests.exceptions.ContentDecodingError(exc)
        if isinstance(exc, urllib3_errors.SSLError):
            raise requests.exceptions.SSLError(exc)
        if isinstance(exc, urllib3_errors.ProtocolError):
            raise requests.exceptions.ChunkedEncodingError(exc)
        raise requests.exceptions.ConnectionError(exc)
    response._content = b''.join(chunks)
    response._content_consumed = True


def _looks_like(token):
    """'jwt' for a JSON Web Token (Entra/OAuth access token), 'pat' for a PAT-shaped string."""
    if token.count('.') == 2 and token.startswith('ey'):
        return 'jwt'
    if re.match(r'^[A-Za-z0-9]{52}$|^[A-Za-z0-9]{84}$', token):
        return 'pat'
    return 'other'


def _host_of(url):
    try:
        parts = urlsplit(url)
    except ValueError:
        return url[:100]
    return '%s://%s' % (parts.scheme, parts.netloc)


def _path_of(url):
    try:
        return urlsplit(url).path or '/'
    except ValueError:
        return ''


def _resolve(url, location):
    if location.startswith(('http://', 'https://')):
        return location
    parts = urlsplit(url)
    if location.startswith('/'):
        return urlunsplit((parts.scheme, parts.netloc, location, '', ''))
    base = parts.path.rsplit('/', 1)[0]
    return urlunsplit((parts.scheme, parts.netloc, base + '/' + location, '', ''))


def _same_origin_or_upgrade(url, target):
    try:
        a, b = urlsplit(url), urlsplit(target)
        if (a.hostname or '').lower() != (b.hostname or '').lower():
            return False
        if a.scheme == b.scheme:
            return a.port == b.port
    except ValueError:  # a malformed Location header is never followed
        return False
    return a.scheme == 'http' and b.scheme == 'https'


def _looks_like_signin(url):
    low = url.lower()
    return any(mark in low for mark in ('_signin', '/login', 'oauth2/authorize', 'signin', 'login.microsoftonline'))


def _short(exc):
    text = str(exc)
    return text if len(text) < 300 else text[:300] + '...'


def _reason(status, text, content_type):
    if not text.strip():
        return 'no details in the answer (empty body)'
    if 'html' in content_type:
        return 'an HTML page instead of an API answer'
    snippet = ' '.join(text.split())
    return snippet[:200]
