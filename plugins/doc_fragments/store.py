# -*- coding: utf-8 -*-
# Copyright: contributors to the azdo.auth collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):
    # The store option shared by every plugin that keeps credentials (module_utils/_stores).
    DOCUMENTATION = r'''
options:
  store:
    description:
      - Where the credential is kept. One of three backends; the options of the other backends are ignored.
      - V(ansible_vault) (default) is a YAML file of entries, the whole file encrypted with Ansible Vault using the
        vault secrets the controller loaded (C(--vault-id), C(--vault-password-file), E(ANSIBLE_VAULT_PASSWORD_FILE)).
        Writes are atomic and locked; the file keeps mode 0600; a file that cannot be decrypted is never overwritten.
      - V(hashicorp_vault) is a KV version 2 secrets engine of HashiCorp Vault or OpenBao, written with check-and-set.
      - V(azure_key_vault) is an Azure Key Vault; metadata goes into tags, the expiry into the secret's C(expires_on).
      - An entry is written only when something other than its C(updated_at) changes.
    type: dict
    required: true
    suboptions:
      backend:
        description: The store backend.
        type: str
        default: ansible_vault
        choices: [ansible_vault, hashicorp_vault, azure_key_vault]
      path:
        description:
          - V(ansible_vault) - the encrypted YAML file (relative paths are relative to the playbook directory).
            A missing file is created.
          - V(hashicorp_vault) - the path prefix under O(store.mount_point) (default V(azdo-auth)); an entry lives at
            C(<mount_point>/<path>/<name>).
        type: str
      vault_id:
        description: V(ansible_vault) - the vault id to encrypt with (default the first loaded secret).
        type: str
      lock_timeout:
        description: Seconds to wait for another writer's lock before failing.
        type: int
        default: 30
      url:
        description: V(hashicorp_vault) - the Vault address. Defaults to E(VAULT_ADDR).
        type: str
      mount_point:
        description: V(hashicorp_vault) - the KV version 2 mount.
        type: str
        default: secret
      auth_method:
        description: V(hashicorp_vault) - how to log in to Vault.
        type: str
        default: token
        choices: [token, approle, jwt]
      token:
        description: V(hashicorp_vault) - Vault token for O(store.auth_method=token). Defaults to E(VAULT_TOKEN).
        type: str
      role_id:
        description: V(hashicorp_vault) - AppRole role id.
        type: str
      secret_id:
        description: V(hashicorp_vault) - AppRole secret id.
        type: str
      role:
        description: V(hashicorp_vault) - JWT auth role.
        type: str
      jwt:
        description: V(hashicorp_vault) - the JWT (for example the pipeline's OIDC token) for O(store.auth_method=jwt).
        type: str
      namespace:
        description: V(hashicorp_vault) - Vault Enterprise / OpenBao namespace. Defaults to E(VAULT_NAMESPACE).
        type: str
      validate_certs:
        description: Verify the TLS certificate of the Vault or Key Vault server.
        type: bool
        default: true
      ca_path:
        description: CA bundle that issued the Vault or Key Vault server certificate.
        type: path
      timeout:
        description: Seconds to wait for the Vault server to answer.
        type: int
        default: 30
      vault_url:
        description: V(azure_key_vault) - the vault URL, for example V(https://myvault.vault.azure.net).
        type: str
      tenant_id:
        description: V(azure_key_vault) - Microsoft Entra tenant of O(store.client_id). Without client settings the
          C(DefaultAzureCredential) chain is used (environment, workload identity, managed identity, Azure CLI).
        type: str
      client_id:
        description: V(azure_key_vault) - application (client) id of a service principal.
        type: str
      client_secret:
        description: V(azure_key_vault) - client secret of O(store.client_id).
        type: str
      authority_host:
        description: V(azure_key_vault) - Microsoft Entra authority host for sovereign clouds (default the public cloud).
        type: str
'''

    # The same option where a store is optional (azdo.auth.store.optional). A literal string: sanity's
    # yamllint reads doc fragments as text.
    OPTIONAL = r'''
options:
  store:
    description:
      - Where the credential is kept. One of three backends; the options of the other backends are ignored.
      - V(ansible_vault) (default) is a YAML file of entries, the whole file encrypted with Ansible Vault using the
        vault secrets the controller loaded (C(--vault-id), C(--vault-password-file), E(ANSIBLE_VAULT_PASSWORD_FILE)).
        Writes are atomic and locked; the file keeps mode 0600; a file that cannot be decrypted is never overwritten.
      - V(hashicorp_vault) is a KV version 2 secrets engine of HashiCorp Vault or OpenBao, written with check-and-set.
      - V(azure_key_vault) is an Azure Key Vault; metadata goes into tags, the expiry into the secret's C(expires_on).
      - An entry is written only when something other than its C(updated_at) changes.
    type: dict
    required: false
    suboptions:
      backend:
        description: The store backend.
        type: str
        default: ansible_vault
        choices: [ansible_vault, hashicorp_vault, azure_key_vault]
      path:
        description:
          - V(ansible_vault) - the encrypted YAML file (relative paths are relative to the playbook directory).
            A missing file is created.
          - V(hashicorp_vault) - the path prefix under O(store.mount_point) (default V(azdo-auth)); an entry lives at
            C(<mount_point>/<path>/<name>).
        type: str
      vault_id:
        description: V(ansible_vault) - the vault id to encrypt with (default the first loaded secret).
        type: str
      lock_timeout:
        description: Seconds to wait for another writer's lock before failing.
        type: int
        default: 30
      url:
        description: V(hashicorp_vault) - the Vault address. Defaults to E(VAULT_ADDR).
        type: str
      mount_point:
        description: V(hashicorp_vault) - the KV version 2 mount.
        type: str
        default: secret
      auth_method:
        description: V(hashicorp_vault) - how to log in to Vault.
        type: str
        default: token
        choices: [token, approle, jwt]
      token:
        description: V(hashicorp_vault) - Vault token for O(store.auth_method=token). Defaults to E(VAULT_TOKEN).
        type: str
      role_id:
        description: V(hashicorp_vault) - AppRole role id.
        type: str
      secret_id:
        description: V(hashicorp_vault) - AppRole secret id.
        type: str
      role:
        description: V(hashicorp_vault) - JWT auth role.
        type: str
      jwt:
        description: V(hashicorp_vault) - the JWT (for example the pipeline's OIDC token) for O(store.auth_method=jwt).
        type: str
      namespace:
        description: V(hashicorp_vault) - Vault Enterprise / OpenBao namespace. Defaults to E(VAULT_NAMESPACE).
        type: str
      validate_certs:
        description: Verify the TLS certificate of the Vault or Key Vault server.
        type: bool
        default: true
      ca_path:
        description: CA bundle that issued the Vault or Key Vault server certificate.
        type: path
      timeout:
        description: Seconds to wait for the Vault server to answer.
        type: int
        default: 30
      vault_url:
        description: V(azure_key_vault) - the vault URL, for example V(https://myvault.vault.azure.net).
        type: str
      tenant_id:
        description: V(azure_key_vault) - Microsoft Entra tenant of O(store.client_id). Without client settings the
          C(DefaultAzureCredential) chain is used (environment, workload identity, managed identity, Azure CLI).
        type: str
      client_id:
        description: V(azure_key_vault) - application (client) id of a service principal.
        type: str
      client_secret:
        description: V(azure_key_vault) - client secret of O(store.client_id).
        type: str
      authority_host:
        description: V(azure_key_vault) - Microsoft Entra authority host for sovereign clouds (default the public cloud).
        type: str
'''
