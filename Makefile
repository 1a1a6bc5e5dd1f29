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

.PHONY: help bootstrap demo test sanity units integration molecule lint docs bench clean

help:
	@echo "make demo   - run the end-to-end demo against local emulators"
	@echo "make test   - sanity, unit, integration tests and lint (what CI runs)"
	@echo "make units | integration | sanity | lint - one part"
	@echo "make docs   - module, plugin and role reference into docs/reference/"

bootstrap: $(VENV)/.bootstrapped $(COLLECTION_LINK)

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
	for scenario in roles/*/molecule/*/molecule.yml; do \
	  [ -e "$$scenario" ] || continue; \
	  role=$$(dirname $$(dirname $$(dirname $$scenario))); name=$$(basename $$(dirname $$scenario)); \
	  echo "== molecule $$role $$name"; \
	  (cd $$role && PATH=$(BIN):$$PATH $(BIN)/molecule test -s $$name) || exit 1; \
	done

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

clean:
	rm -rf $(CACHE) tests/output
