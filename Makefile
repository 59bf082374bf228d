# Two commands matter: `make run` and `make test`. Everything else supports them.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
ENV_FILE := var/regui.env

.PHONY: run test test-fast install install-dev system-deps env migrate lint bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# A local env file with generated keys, written once and kept (losing it loses the secrets).
$(ENV_FILE): | $(VENV)/.installed
	mkdir -p var
	umask 077; { \
	  echo "REGUI_SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')"; \
	  echo "REGUI_ENCRYPTION_KEYS=$$($(BIN)/python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"; \
	} > $@
	@echo "Wrote $@ (keep it: it holds the key that encrypts your secrets)."

env: $(ENV_FILE)

migrate: $(ENV_FILE)
	$(BIN)/python manage.py migrate --noinput

run: migrate
	$(BIN)/python manage.py check --fail-level ERROR
	$(BIN)/python manage.py ensure_admin
	exec bin/run

# Debian packages the end-to-end tests drive for real (browser, sshd, registry, containerd).
SYSTEM_BINS := /usr/bin/chromium /usr/sbin/sshd /usr/bin/docker-registry /usr/bin/containerd /usr/bin/ctr /usr/bin/htpasswd /usr/bin/skopeo /usr/bin/openssl /usr/sbin/ip /usr/bin/docker-compose /usr/bin/sudo /usr/sbin/nft
system-deps:
	@missing=""; for b in $(SYSTEM_BINS); do [ -x $$b ] || missing="$$missing $$b"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages for the end-to-end tests (missing:$$missing)"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	    chromium openssh-server docker-registry containerd apache2-utils skopeo openssl iproute2 nftables docker-compose sudo >/dev/null \
	  || echo "Could not install system packages: end-to-end tests will be skipped (or fail under REGUI_REQUIRE_E2E=1)."; \
	fi

test: install-dev system-deps
	bin/test

# A developer's shortcut, not CI: every test that starts no real process (pushes go to fake nodes
# in-process), on the embedded defaults, in two processes (pytest-xdist; bin/test says how each gets
# its own database and data folder). No root, no system packages; ~2.5 minutes here (~5 serially).
test-fast: install-dev
	REGUI_ENV_FILE= env -u DATABASE_URL -u CELERY_BROKER_URL $(BIN)/pytest -q -m "not slow" -n $(or $(REGUI_TEST_WORKERS),2)

lint: install-dev
	$(BIN)/ruff check .
	bin/mypy

bench: install-dev
	for b in bench/[!_]*.py; do echo "== $$b"; REGUI_ENV_FILE= $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) var/staticfiles
