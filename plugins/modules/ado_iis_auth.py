#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the azdo.auth collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: ado_iis_auth
short_description: Declare and converge the IIS authentication of an Azure DevOps Server / TFS site, safely
version_added: 0.1.0
description:
  - Reads and sets the IIS authentication modes (Windows, Anonymous, Basic, Digest) of an Azure DevOps Server or
    Team Foundation Server site, or of one of its applications or virtual directories (for example C(/tfs)).
  - "Many on-premises PAT failures come from IIS: Basic authentication on the site makes IIS answer PATs with 401
    itself; enabling Anonymous exposes the server; disabling Windows authentication locks Active Directory users out.
    A security policy refuses those states unless O(allow_insecure=true)."
  - Without any of O(windows_authentication), O(anonymous_authentication), O(basic_authentication) or
    O(digest_authentication) the module only reports the current state and its RV(findings) (safe for auditors).
    Only the settings given are managed; the others are left as they are.
  - On the target only C(appcmd.exe) runs, through the task's connection (WinRM, PSRP or SSH) -
    C(appcmd list site) and C(appcmd list config <site>/<path> /section:<section> /config:* /xml) to read, and
    C(appcmd set config <site>/<path> /section:<section> ... /commit:apphost) to write, so the change lands in a
    C(<location>) element of C(applicationHost.config) (the authentication sections are locked at the apphost level).
    No PowerShell module and no Python are needed on the target.
  - All decisions (parsing appcmd's XML, the diff, the policy, the exact command lines) are made on the controller.
  - After applying changes the sections are read again and the task fails if IIS reports another state.
author:
  - azdo.auth contributors (@azdo-auth)
extends_documentation_fragment:
  - azdo.auth.attributes
attributes:
  action:
    description: The decisions are made on the controller by an action plugin; only C(appcmd.exe) command lines run on the target.
    support: full
  check_mode:
    support: full
    details: Reads the current state and predicts RV(changed), RV(after) and RV(commands) without changing anything.
  diff_mode:
    support: full
    details: One before/after entry per authentication section that changes.
  idempotent:
    support: full
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: windows
  action_group:
    description: Not in the C(azdo.auth.ado) action group, which sets Azure DevOps connection options this module does not have.
    support: none
    membership: []
options:
  site:
    description:
      - Name of the IIS site.
      - Azure DevOps Server installs name it C(Azure DevOps Server); TFS installs C(Team Foundation Server).
    type: str
    default: Azure DevOps Server
  path:
    description:
      - Application or virtual directory under the site, for example V(tfs). The empty string means the site root.
      - It must exist as an application or virtual directory of the site; the task fails otherwise.
    type: str
    default: ''
  windows_authentication:
    description: Windows (Negotiate/Kerberos, NTLM) authentication. The Azure DevOps Server baseline is enabled, providers Negotiate, NTLM.
    type: dict
    suboptions:
      enabled:
        description:
          - Whether Windows authentication is enabled.
          - V(false) is refused unless O(allow_insecure=true) (Active Directory users would be locked out).
        type: bool
      providers:
        description:
          - The providers, in order (IIS offers them to clients in this order), for example V([Negotiate, NTLM]).
          - Providers missing from the list are removed, the others added; the order is enforced.
          - An empty list is refused unless O(allow_insecure=true).
        type: list
        elements: str
      use_kernel_mode:
        description: Kernel-mode authentication (C(useKernelMode)). Keep V(true) when Kerberos is used with a custom pool identity.
        type: bool
      use_app_pool_credentials:
        description: Decrypt Kerberos tickets with the application pool identity (C(useAppPoolCredentials)).
        type: bool
      extended_protection:
        description: Extended Protection for Authentication, channel-binding token checking (C(extendedProtection.tokenChecking)).
        type: str
        choices: [None, Allow, Require]
  anonymous_authentication:
    description: Anonymous authentication. Must be off on an Azure DevOps Server site.
    type: dict
    suboptions:
      enabled:
        description:
          - Whether Anonymous authentication is enabled.
          - V(true) is refused unless O(allow_insecure=true).
        type: bool
  basic_authentication:
    description: Basic authentication. Must be off on an Azure DevOps Server site (it breaks personal access tokens).
    type: dict
    suboptions:
      enabled:
        description:
          - Whether Basic authentication is enabled.
          - V(true) is refused unless O(allow_insecure=true).
        type: bool
      default_logon_domain:
        description: Default logon domain of Basic authentication (C(defaultLogonDomain)).
        type: str
      realm:
        description: Realm of Basic authentication.
        type: str
  digest_authentication:
    description: Digest authentication. Not part of the Azure DevOps Server baseline.
    type: dict
    suboptions:
      enabled:
        description: Whether Digest authentication is enabled.
        type: bool
  allow_insecure:
    description:
      - Apply states the security policy refuses (Basic on, Anonymous on, Windows authentication off or without providers).
      - The task then warns and reports the RV(findings) instead of failing.
    type: bool
    default: false
  appcmd_path:
    description:
      - Path of C(appcmd.exe) on the target. C(%VAR%) references are expanded on the target (as C($env:VAR) in PowerShell).
    type: str
    default: '%windir%\system32\inetsrv\appcmd.exe'
notes:
  - The connection user must be a local Administrator of the target with an elevated token (WinRM and PSRP sessions
    of administrators are); appcmd cannot read C(applicationHost.config) otherwise. C(become) does not apply to the
    appcmd command lines (on Windows, C(runas) only wraps modules).
  - Changes take effect for new requests without an IIS restart (IIS watches C(applicationHost.config)).
  - Strings passed to appcmd (site, path, realm, domain) must not contain double quotes, C(%) or line breaks; no shell
    can hand such values to appcmd unchanged.
  - RV(commands) are shown in cmd.exe syntax; the plugin runs them in the syntax of the connection's shell.
seealso:
  - module: azdo.auth.ado_pat_check
  - name: Windows Authentication <windowsAuthentication>
    description: The IIS configuration reference of the section.
    link: https://learn.microsoft.com/iis/configuration/system.webserver/security/authentication/windowsauthentication/
  - name: Getting Started with AppCmd.exe
    description: appcmd's configuration commands, collection syntax and C(/commit:apphost).
    link: https://learn.microsoft.com/iis/get-started/getting-started-with-iis/getting-started-with-appcmdexe
'''

EXAMPLES = r'''
- name: Apply the supported Azure DevOps Server baseline to the /tfs application
  azdo.auth.ado_iis_auth:
    site: Azure DevOps Server
    path: tfs
    windows_authentication:
      enabled: true
      providers: [Negotiate, NTLM]
    anonymous_authentication:
      enabled: false
    basic_authentication:
      enabled: false
    digest_authentication:
      enabled: false

- name: Audit a TFS host without changing anything
  azdo.auth.ado_iis_auth:
    site: Team Foundation Server
    path: tfs
  register: iis_audit

- name: Show what is wrong
  ansible.builtin.debug:
    msg: "{{ item.severity }} {{ item.code }}: {{ item.message }}"
  loop: "{{ iis_audit.findings }}"

- name: Require Extended Protection on a host that is reached without a TLS-terminating proxy
  azdo.auth.ado_iis_auth:
    windows_authentication:
      extended_protection: Require

- name: Preview the changes (check mode with a per-section diff)
  azdo.auth.ado_iis_auth:
    path: tfs
    basic_authentication:
      enabled: false
  check_mode: true
  diff: true
  register: preview
'''

RETURN = r'''
changed:
  description: Whether a setting was (or, in check mode, would be) changed.
  returned: always
  type: bool
  sample: true
config_path:
  description: The IIS configuration path that was read and changed (site, then path).
  returned: success
  type: str
  sample: Azure DevOps Server/tfs
before:
  description: The effective authentication settings before the task, per section (inherited and default values included).
  returned: success
  type: dict
  contains:
    windows_authentication:
      description: C(enabled), C(providers) in order, C(use_kernel_mode), C(use_app_pool_credentials), C(extended_protection)
        and the read-only C(extended_protection_flags).
      type: dict
      sample: {"enabled": true, "providers": ["Negotiate", "NTLM"], "use_kernel_mode": true, "use_app_pool_credentials": false,
               "extended_protection": "None", "extended_protection_flags": "None"}
    anonymous_authentication:
      description: C(enabled).
      type: dict
      sample: {"enabled": false}
    basic_authentication:
      description: C(enabled), C(default_logon_domain) and C(realm).
      type: dict
      sample: {"enabled": false, "default_logon_domain": "", "realm": ""}
    digest_authentication:
      description: C(enabled).
      type: dict
      sample: {"enabled": false}
after:
  description:
    - The settings after the task, in the same shape as RV(before). Read back from IIS after a change; predicted in check mode.
    - Equal to RV(before) when the task fails.
  returned: success
  type: dict
  sample: {"windows_authentication": {"enabled": true, "providers": ["Negotiate", "NTLM"], "use_kernel_mode": true,
           "use_app_pool_credentials": false, "extended_protection": "None", "extended_protection_flags": "None"},
           "anonymous_authentication": {"enabled": false}, "basic_authentication": {"enabled": false, "default_logon_domain": "",
           "realm": ""}, "digest_authentication": {"enabled": false}}
commands:
  description:
    - The appcmd commands that were run (or would be run in check mode) to change the settings, in cmd.exe syntax.
    - Reads are not listed. Empty when nothing changes or when the policy refuses the request.
  returned: always
  type: list
  elements: str
  sample:
    - >-
      %windir%\system32\inetsrv\appcmd.exe set config "Azure DevOps Server/tfs"
      /section:system.webServer/security/authentication/windowsAuthentication /enabled:true /commit:apphost
findings:
  description:
    - What is wrong with the resulting state (the current state in report-only mode), most severe first.
    - Findings of severity C(high) are also emitted as warnings.
  returned: success
  type: list
  elements: dict
  contains:
    code:
      description:
        - One of V(BASIC_AUTH_ENABLED), V(ANONYMOUS_ENABLED), V(WINDOWS_AUTH_DISABLED), V(WINDOWS_AUTH_NO_PROVIDERS)
          (severity C(high)), V(NO_NEGOTIATE_PROVIDER), V(EXTENDED_PROTECTION_REQUIRED_BEHIND_PROXY) (C(medium)),
          V(DIGEST_AUTH_ENABLED) (C(low)).
      type: str
      sample: BASIC_AUTH_ENABLED
    severity:
      description: V(high), V(medium) or V(low).
      type: str
      sample: high
    message:
      description: What is wrong, what it does to PATs and users, and the fix.
      type: str
      sample: "Basic authentication is enabled on \"Azure DevOps Server/tfs\": IIS answers requests that carry a personal
        access token (HTTP Basic with an empty user name) with 401 itself, so PATs fail, and clients send reusable credentials
        with every request. Disable it."
diff:
  description: One C(before)/C(after) pair per section that changes (shown with C(--diff)).
  returned: when changed
  type: list
  elements: dict
  sample: [{"before_header": "Azure DevOps Server/tfs: basicAuthentication (before)",
            "after_header": "Azure DevOps Server/tfs: basicAuthentication (after)",
            "before": {"enabled": true, "default_logon_domain": "", "realm": ""},
            "after": {"enabled": false, "default_logon_domain": "", "realm": ""}}]
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.azdo.auth.plugins.module_utils._iis import MODULE_SPEC


def main():
    module = AnsibleModule(supports_check_mode=True, **MODULE_SPEC)
    module.fail_json(msg='azdo.auth.ado_iis_auth runs only through its action plugin on the controller (it drives appcmd.exe '
                         'on the target through the connection); call it as a task of a play, not as a standalone module.')


if __name__ == '__main__':
    main()
