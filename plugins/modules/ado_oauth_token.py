#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the azdo.auth collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: ado_oauth_token
short_description: Obtain, refresh and rotate Microsoft Entra ID and Azure DevOps OAuth tokens without losing one
version_added: 0.1.0
description:
  - Obtains an access token for Azure DevOps from Microsoft Entra ID (a service principal with a client secret, a
    certificate or a federated assertion such as a pipeline's workload identity, or an app acting for a user), or from
    the legacy Azure DevOps OAuth endpoint (deprecated by Microsoft), and keeps it in a token store.
  - With O(store) and O(name), a stored access token valid for at least O(min_validity) seconds is kept and the token
    endpoint is not called. Otherwise the entry is locked and read again, so many forks sharing an entry cause one
    token request (single flight), and the stored refresh token is used when O(refresh_token) is omitted.
  - Refresh tokens of the legacy Azure DevOps OAuth endpoint rotate and are single use. The new pair is written to the
    store before the task reports success; if that write fails, the pair is written to a 0600 recovery file
    (O(recovery_dir), default the playbook directory) and the task fails naming the file and the one command that
    restores it.
  - Runs on the controller (an action plugin); nothing is sent to the target host.
author:
  - azdo.auth contributors (@azdo-auth)
extends_documentation_fragment:
  - azdo.auth.store.optional
  - azdo.auth.attributes
attributes:
  check_mode:
    support: full
    details: Reads the store and predicts whether a renewal is due; never calls the token endpoint (a refresh would
      consume the refresh token).
  diff_mode:
    support: none
  idempotent:
    support: full
    details: A token valid for O(min_validity) more seconds is kept; re-runs make no token request.
  action_group:
    support: none
    membership: []
options:
  provider:
    description:
      - V(entra) for Microsoft Entra ID (the supported way). V(azure_devops) for the legacy Azure DevOps OAuth app
        (deprecated by Microsoft; a warning is shown).
    type: str
    default: entra
    choices: [entra, azure_devops]
  flow:
    description:
      - V(client_credentials) (Entra only) for a service principal or managed identity federation.
      - V(refresh_token) uses O(refresh_token) or the refresh token stored under O(name).
      - V(authorization_code) is the one-time bootstrap from an authorization code (O(code), O(redirect_uri)).
      - Default V(client_credentials) for V(entra), V(refresh_token) for V(azure_devops).
    type: str
    choices: [client_credentials, refresh_token, authorization_code]
  tenant_id:
    description: Microsoft Entra tenant (directory) id or verified domain. Required for V(entra) unless O(token_url) is set.
    type: str
  client_id:
    description: Application (client) id of the app registration (Entra) or the Azure DevOps OAuth app id.
    type: str
  client_secret:
    description:
      - Client secret of the Entra app registration, or the app secret of the Azure DevOps OAuth app (sent as
        C(client_assertion), as that endpoint expects).
    type: str
  client_certificate:
    description:
      - PEM file with the certificate registered on the Entra app and its private key. The module signs a client
        assertion (RS256, valid ten minutes) with it; the private key never leaves the controller.
    type: path
  client_certificate_password:
    description: Password of the private key in O(client_certificate), if it is encrypted.
    type: str
  client_assertion:
    description:
      - A federated assertion (for example the OIDC token of an Azure Pipelines or GitHub Actions workload identity)
        presented instead of a secret.
    type: str
  client_assertion_file:
    description: A file holding the federated assertion (as written by the pipeline agent).
    type: path
  refresh_token:
    description: Refresh token to use with O(flow=refresh_token). Defaults to the one stored under O(name).
    type: str
  code:
    description: One-time authorization code for O(flow=authorization_code).
    type: str
  redirect_uri:
    description: Redirect URI registered for the app (needed by O(flow=authorization_code) and the legacy endpoint).
    type: str
  scope:
    description:
      - Scope to request. Default for V(entra) is C(499b84ac-1321-427f-aa17-267ca6975798/.default) (Azure DevOps).
      - The legacy app's scopes are those it was registered with.
    type: str
  token_url:
    description:
      - Token endpoint. Default C(<authority_host>/<tenant_id>/oauth2/v2.0/token) for V(entra) and
        C(https://app.vssps.visualstudio.com/oauth2/token) for V(azure_devops).
    type: str
  authority_host:
    description: Microsoft Entra authority host (sovereign clouds use their own).
    type: str
    default: https://login.microsoftonline.com
  validate_certs:
    description: Verify the TLS certificate of the token endpoint.
    type: bool
    default: true
  ca_path:
    description: CA bundle that issued the token endpoint's certificate.
    type: path
  timeout:
    description: Seconds to wait for the token endpoint.
    type: int
    default: 30
  retries:
    description: Retries after HTTP 429/5xx or connection errors, honouring C(Retry-After).
    type: int
    default: 3
  retry_max_delay:
    description: The longest wait, in seconds, between two attempts, whatever C(Retry-After) asks for.
    type: int
    default: 60
  allow_http:
    description: Allow a plain C(http://) token endpoint (test endpoints only).
    type: bool
    default: false
  name:
    description: Name of the entry in O(store) (required with O(store)).
    type: str
  min_validity:
    description: Keep a stored access token that stays valid for at least this many seconds (plus a 60 s clock-skew margin).
    type: int
    default: 600
  force:
    description: Renew even when the stored token is still valid.
    type: bool
    default: false
  return_token:
    description:
      - Include RV(access_token) in the result. The result is then sensitive; use C(no_log) on the task. By default
        results carry only the fingerprint; read the token with the P(azdo.auth.ado_token#lookup) lookup instead.
    type: bool
    default: false
  recovery_dir:
    description: Directory for the recovery file written when the store write fails. Default the playbook directory.
    type: path
notes:
  - Tokens are reported by fingerprint (first 12 hex of their SHA-256) and expiry, never by value, unless
    O(return_token=true).
seealso:
  - module: azdo.auth.ado_token_store
  - plugin: azdo.auth.ado_token
    plugin_type: lookup
'''

EXAMPLES = r'''
- name: Keep an Entra token of the deploy service principal fresh in HashiCorp Vault
  azdo.auth.ado_oauth_token:
    tenant_id: 8a6b2c1d-0000-4000-8000-00000000aaaa
    client_id: 273027c3-18df-446c-909a-443c2dd76fc7
    client_certificate: /etc/azdo/deploy-sp.pem
    store:
      backend: hashicorp_vault
      url: https://vault.example.com:8200
      path: azure-devops
    name: deploy-sp
  register: token

- name: Use it
  azdo.auth.ado_pat_check:
    url: https://dev.azure.com/fabrikam
    access_token: "{{ lookup('azdo.auth.ado_token', 'deploy-sp', backend='hashicorp_vault', path='azure-devops') }}"

- name: Workload identity federation in Azure Pipelines (the OIDC token of the service connection)
  azdo.auth.ado_oauth_token:
    tenant_id: "{{ lookup('ansible.builtin.env', 'AZURE_TENANT_ID') }}"
    client_id: "{{ lookup('ansible.builtin.env', 'AZURE_CLIENT_ID') }}"
    client_assertion: "{{ lookup('ansible.builtin.env', 'idToken') }}"
    store:
      path: tokens.vault.yml
    name: pipeline-identity

- name: Legacy Azure DevOps OAuth - bootstrap once from an authorization code
  azdo.auth.ado_oauth_token:
    provider: azure_devops
    flow: authorization_code
    client_id: 6f0c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f
    client_secret: "{{ vault_legacy_app_secret }}"
    code: "{{ one_time_code }}"
    redirect_uri: https://localhost/oauth-callback
    store:
      path: tokens.vault.yml
    name: legacy-automation

- name: Legacy Azure DevOps OAuth - refresh (the stored single-use refresh token rotates)
  azdo.auth.ado_oauth_token:
    provider: azure_devops
    client_id: 6f0c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f
    client_secret: "{{ vault_legacy_app_secret }}"
    redirect_uri: https://localhost/oauth-callback
    store:
      path: tokens.vault.yml
    name: legacy-automation
'''

RETURN = r'''
renewed:
  description: Whether a new token was obtained from the token endpoint in this run.
  returned: always
  type: bool
  sample: false
expires_at:
  description: Expiry of the access token kept (ISO 8601, UTC).
  returned: always
  type: str
  sample: "2026-11-23T21:10:00Z"
expires_in:
  description: Seconds until RV(expires_at), from now.
  returned: always
  type: int
  sample: 3540
token_type:
  description: Token type to use in the Authorization header.
  returned: always
  type: str
  sample: Bearer
scope:
  description: Scope the provider granted, when it said.
  returned: always
  type: str
  sample: vso.code vso.project
fingerprint:
  description: First 12 hex characters of the SHA-256 of the access token.
  returned: always
  type: str
  sample: 4b1f0c9a2d3e
store:
  description: Where the pair is kept (null without O(store)).
  returned: always
  type: dict
  contains:
    backend:
      description: The store backend.
      type: str
      sample: ansible_vault
    name:
      description: The entry name.
      type: str
      sample: deploy-sp
    version:
      description: The KV or Key Vault version when the backend has one.
      type: raw
      sample: 4
token_requests:
  description: Calls made to the token endpoint (0 or 1).
  returned: always
  type: int
  sample: 0
access_token:
  description: The access token. Only with O(return_token=true).
  returned: when O(return_token=true)
  type: str
  sample: eyJ0eXAiOiJKV1Qi...
recovery_file:
  description: The recovery file holding the new pair, when writing it to the store failed (the task fails).
  returned: on store failure after a renewal
  type: str
  sample: /srv/playbooks/azdo-auth-recovery-legacy-automation-20261123T201500Z.json
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.azdo.auth.plugins.module_utils._oauth import MODULE_SPEC, run
from ansible_collections.azdo.auth.plugins.module_utils._runner import execute


def main():
    module = AnsibleModule(supports_check_mode=True, **MODULE_SPEC)
    execute(module, run)


if __name__ == '__main__':
    main()
