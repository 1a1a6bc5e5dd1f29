# azdo.auth — single entry point. `make demo` runs the demo, `make test` runs every check.
# Everything is installed into .venv from requirements*.txt; nothing outside the project is touched.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3.11
PYVER := 3.11
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
CACHE := $(CURDIR)/.cache
COLLECTIONS := $(CACHE)/collections
COLLECTION_LINK := $(COLLECTIONS)/ansible_collections/azdo/auth
ANSIBLE_TEST_PIP := 24_2

export ANSIBLE_HOME := $(CACHE)/ansible-home
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_LOCAL_TEMP := $(CACHE)/ansible-tmp
export ANSIBLE_NOCOLOR := 1
export PYTHONPATH := $(COLLECTIONS):$(CURDIR)
export PYTHONDONTWRITEBYTECODE := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help bootstrap browser demo audit-demo test sanity units integration molecule lint docs bench clean

help:
	@echo "make demo   - run the end-to-end demo against local emulators"
	@echo "make audit-demo - the audit report (JSON, Markdown, HTML) of a drifted local estate into .cache/audit-demo/"
	@echo "make test   - sanity, unit, integration tests and lint (what CI runs)"
	@echo "make units | integration | sanity | lint - one part"
	@echo "make docs   - module, plugin and role reference into docs/reference/"

bootstrap: $(VENV)/.bootstrapped $(COLLECTION_LINK) browser

# A headless browser for tests/integration/test_audit_html.py: Debian's chromium, installed once when missing
# (needs root and apt; without it that test is skipped with the reason).
browser:
	@command -v chromium >/dev/null || (apt-get update && apt-get install -y --no-install-recommends chromium) \
	  || echo "chromium could not be installed: tests/integration/test_audit_html.py will be skipped"

$(VENV)/.bootstrapped: requirements.txt requirements-test.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-test.txt
	touch $@

# The collection must be importable as ansible_collections.azdo.auth: link the checkout into a
# collections path inside the project instead of asking the user to move it.
$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn $(CURDIR) $@

demo: bootstrap
	$(BIN)/python -m tests.demo

# The auditor's report of a deliberately drifted local estate - emulators (cloud, on-premises), the appcmd
# simulator with Basic authentication on, a token file (roles/auth_audit/molecule/default: inventory.yml declares
# it, prepare.yml drifts it) - written to $(AUDIT_DEMO_DIR): audit.json, audit.md, audit.html. The estate's
# token file and vault password are kept in $(AUDIT_DEMO_DIR)/estate and the emulators listen on fixed ports (below
# the ephemeral range), so a re-run the same day rewrites nothing.
AUDIT_DEMO_DIR ?= $(CACHE)/audit-demo
AUDIT_DEMO_PORT ?= 28461
AUDIT_DEMO_ONPREM_PORT ?= 28462
AUDIT_ESTATE := $(CURDIR)/roles/auth_audit/molecule/default
audit-demo: bootstrap
	@estate=$(AUDIT_DEMO_DIR)/estate; mkdir -p $$estate; started=$$(date +%s); rc=0; \
	export AUDIT_ESTATE_DIR=$$estate APPCMD_SIM_CONFIG=$$estate/applicationHost.config PATH=$(BIN):$$PATH \
	  ANSIBLE_VAULT_PASSWORD_FILE=$(AUDIT_ESTATE)/vault_password.py; \
	$(BIN)/python -m tests.utils.services stop --dir $$estate; \
	$(BIN)/python -m tests.utils.services start --dir $$estate --emulator hosted --onprem \
	  --port $(AUDIT_DEMO_PORT) --onprem-port $(AUDIT_DEMO_ONPREM_PORT) > /dev/null; \
	{ $(BIN)/ansible-playbook -i $(AUDIT_ESTATE)/inventory.yml $(AUDIT_ESTATE)/prepare.yml > $$estate/prepare.log 2>&1 \
	  && $(BIN)/ansible-playbook -i $(AUDIT_ESTATE)/inventory.yml playbooks/audit.yml -e audit_report_dir=$(AUDIT_DEMO_DIR) \
	       -e audit_fail_on_drift=false -e audit_fail_on_error=false > $$estate/audit.log 2>&1; } || rc=$$?; \
	$(BIN)/python -m tests.utils.services stop --dir $$estate; \
	if [ $$rc -ne 0 ]; then tail -n 40 $$estate/prepare.log $$estate/audit.log; exit $$rc; fi; \
	$(BIN)/python -c 'import json, sys; from ansible_collections.azdo.auth.plugins.module_utils._audit import summary_lines; \
	  print("\n".join(summary_lines(json.load(open(sys.argv[1], encoding="utf-8")))))' $(AUDIT_DEMO_DIR)/audit.json; \
	echo "Report: $(AUDIT_DEMO_DIR)/audit.html (and audit.json, audit.md); log: $$estate/audit.log; $$(( $$(date +%s) - started )) s"

test: bootstrap sanity units integration molecule lint
	@echo "make test: all checks passed"

units: bootstrap
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/unit

integration: bootstrap
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/integration

# ansible-test only works from .../ansible_collections/azdo/auth and only sees files git lists:
# copy those files to a directory outside the work tree, with a project-local HOME so its
# virtual environments and caches stay in .cache, and its pip bootstrap needs no download.
sanity: bootstrap
	mkdir -p $(CACHE)/test-home/.ansible/test/cache
	cp tests/utils/get_pip.py $(CACHE)/test-home/.ansible/test/cache/get_pip_$(ANSIBLE_TEST_PIP).py
	tmp=$$(mktemp -d); dest=$$tmp/ansible_collections/azdo/auth; mkdir -p $$dest; rc=0; \
	  git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do \
	    if [ -e "$$f" ]; then mkdir -p "$$dest/$$(dirname "$$f")"; cp -p "$$f" "$$dest/$$f"; fi; done; \
	  (cd $$dest && HOME=$(CACHE)/test-home PATH=$(BIN):$$PATH \
	    $(BIN)/ansible-test sanity --venv --python $(PYVER) --color no) || rc=$$?; \
	  rm -rf $$tmp; exit $$rc

# Every role's molecule scenarios (delegated driver against localhost; each scenario starts and stops
# the local parts it needs).
molecule: bootstrap
	mkdir -p $(CACHE)/test-logs; rm -f $(CACHE)/test-logs/molecule-*.log
	for scenario in roles/*/molecule/*/molecule.yml; do \
	  [ -e "$$scenario" ] || continue; \
	  role=$$(dirname $$(dirname $$(dirname $$scenario))); name=$$(basename $$(dirname $$scenario)); \
	  echo "== molecule $$role $$name"; \
	  (cd $$role && PATH=$(BIN):$$PATH ANSIBLE_VERBOSITY=3 $(BIN)/molecule test -s $$name \
	    > $(CACHE)/test-logs/molecule-$$(basename $$role)-$$name.log 2>&1) \
	    || { tail -60 $(CACHE)/test-logs/molecule-$$(basename $$role)-$$name.log; exit 1; }; \
	  tail -3 $(CACHE)/test-logs/molecule-$$(basename $$role)-$$name.log; \
	done
	$(BIN)/python -m tests.utils.leak_scan $(CACHE)/test-logs/molecule-*.log

lint: bootstrap
	$(BIN)/ansible-lint --profile production
	$(BIN)/antsibull-changelog lint
	PATH=$(BIN):$$PATH $(BIN)/antsibull-docs lint-collection-docs --plugin-docs .

# Module, plugin and role reference generated from the code's documentation (reStructuredText that
# renders without Sphinx) into docs/reference/, which is git-ignored and left out of the build.
docs: bootstrap
	mkdir -p docs/reference
	PATH=$(BIN):$$PATH $(BIN)/antsibull-docs collection --use-current --squash-hierarchy --fail-on-error \
	  --output-format simplified-rst --cleanup everything --no-add-antsibull-docs-version \
	  --dest-dir docs/reference azdo.auth
	@echo "docs: docs/reference/index.rst"

# Benchmarks print figures (baselines in the same run); they are not part of make test.
bench: bootstrap
	$(BIN)/python bench/check_pat.py --credentials 200
	$(BIN)/python bench/pat_inventory.py
	$(BIN)/python bench/rotate_tokens.py --credentials 10
	$(BIN)/python bench/iis_auth.py --hosts 50 --forks 10

clean:
	rm -rf $(CACHE) tests/output
