# Entry points. `make up` runs the platform, `make test` runs every check; both set up a fresh machine first.
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV_VERSION := 0.13.8
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
export UV_LINK_MODE ?= copy

.PHONY: help
help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

.PHONY: uv
uv: ## Install uv (with pip) when it is missing
	@command -v $(UV) >/dev/null 2>&1 || python3 -m pip install --quiet --user "uv==$(UV_VERSION)" \
	  || python3 -m pip install --quiet --break-system-packages --user "uv==$(UV_VERSION)"

.PHONY: deps
deps: ## Install the system packages the platform needs (nginx, kcat) when missing
	@bash deploy/local/system-deps.sh

.PHONY: sync
sync: uv ## Create .venv from uv.lock
	@$(UV) sync --frozen --quiet

.PHONY: infra-up
infra-up: sync ## Start Kafka and FerretDB (local, Docker-free)
	@deploy/local/infra.sh up

.PHONY: infra-down
infra-down: ## Stop Kafka and FerretDB
	@deploy/local/infra.sh down

.PHONY: up
up: deps sync ## Run the whole platform: Kafka, FerretDB, four services (api + worker), gateway on :8080
	@deploy/local/platform.sh up

.PHONY: down
down: ## Stop the platform and its infrastructure
	@deploy/local/platform.sh down

.PHONY: status
status: ## What is running
	@deploy/local/platform.sh status

.PHONY: lint
lint: sync ## ruff check, ruff format --check, mypy --strict
	@$(UV) run --frozen ruff check .
	@$(UV) run --frozen ruff format --check .
	@$(UV) run --frozen mypy -p hoso -p hoso_forms -p hoso_dev -p intake -p review -p notify -p records -p portal

.PHONY: test
test: deps sync ## Lint, then every test against a real Kafka and FerretDB started for the run
	@deploy/local/run-tests.sh $(PYTEST_ARGS)

.PHONY: schemas
schemas: sync ## Export the event JSON Schemas (then `git diff` shows what changed)
	@$(UV) run --frozen hoso schemas export

.PHONY: demo
demo: sync ## Walk one EIA dossier through the running platform's gateway (after `make up`)
	@HOSO_LOCAL_MODE=1 $(UV) run --frozen hoso-dev demo --gateway http://127.0.0.1:$${HOSO_GATEWAY_PORT:-8080} --issuer http://127.0.0.1:$${HOSO_KEYCLOAK_PORT:-8180}/realms/hoso

.PHONY: docs
docs: sync ## Write the AsyncAPI (events) and OpenAPI (HTTP) documents under docs/
	@$(UV) run --frozen hoso docs write

.PHONY: bench
bench: deps sync ## Benchmarks (JSON figures)
	@deploy/local/run-bench.sh
