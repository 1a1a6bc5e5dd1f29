# -*- coding: utf-8 -*-
# Copyright: contributors to the azdo.auth collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):
    # Connection options shared by every Azure DevOps API module (plugins/module_utils/_argspec.py).
    DOCUMENTATION = r'''
options:
  url:
    description:
      - URL of the Azure DevOps Services organization (V(https://dev.azure.com/ORGANIZATION)) or of the
        Azure DevOps Server / TFS collection (V(https://SERVER/tfs/COLLECTION), or V(https://SERVER/COLLECTION)
        on servers installed without the C(tfs) virtual directory).
      - A trailing slash or C(_apis/...) part is removed. A URL without the collection segment is reported as
        C(COLLECTION_NOT_FOUND).
      - If not set, the environment variable E(AZDO_URL) is used.
    type: str
    required: true
    aliases: [organization_url, collection_url]
  pat:
    description:
      - Personal access token. Sent as HTTP Basic with an empty user name, C(base64(":" + pat)), the only
        form Azure DevOps accepts for a PAT.
      - Leading and trailing white space (a newline from a file) is removed with a warning.
      - If not set, the environment variable E(AZURE_DEVOPS_EXT_PAT) is used (the Azure DevOps CLI convention).
      - Mutually exclusive with O(access_token).
    type: str
  access_token:
    description:
      - 'OAuth or Microsoft Entra ID access token, sent as C(Authorization: Bearer).'
      - If not set, the environment variable E(SYSTEM_ACCESSTOKEN) is used (the Azure Pipelines convention).
    type: str
  auth_method:
    description:
      - How to authenticate. Inferred when omitted, C(pat) when O(pat) is set, C(bearer) when O(access_token)
        is set, C(ntlm) when O(username) is set.
      - V(ntlm) and V(negotiate) are for Windows accounts on Azure DevOps Server; both answer the server's
        Negotiate or NTLM challenge with NTLM (Kerberos tickets are not used).
    type: str
    choices: [pat, bearer, ntlm, negotiate]
  username:
    description:
      - Windows account (V(DOMAIN\\user) or V(user@domain)) for O(auth_method=ntlm) or O(auth_method=negotiate).
    type: str
  password:
    description:
      - Password of O(username).
    type: str
  validate_certs:
    description:
      - Verify the server's TLS certificate. Set to V(false) only for a throw-away test server.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file (or directory) of CA certificates to trust for the server's certificate instead of the
        system bundle. Takes precedence over E(REQUESTS_CA_BUNDLE).
    type: path
  timeout:
    description:
      - Seconds to wait for the server to answer one request.
    type: int
    default: 30
  retries:
    description:
      - How many times a request is retried after HTTP 429, 500, 502, 503, 504 or a connection error
        (0 to 10). C(Retry-After) is honoured.
    type: int
    default: 3
  retry_max_delay:
    description:
      - The longest wait, in seconds, between two attempts, whatever C(Retry-After) asks for.
    type: int
    default: 60
  api_version:
    description:
      - REST api-version to use at most, for example V(6.0) for Azure DevOps Server 2020.
      - When omitted, the collection uses the newest version it knows (7.1) and lowers it once per server
        and run when the server answers that the version is out of range.
    type: str
  allow_http:
    description:
      - Allow a plain C(http://) URL. Credentials then cross the network unencrypted; use only for a test server.
    type: bool
    default: false
'''
