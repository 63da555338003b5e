# airsick's tasks. `make help` lists them.
.DEFAULT_GOAL := help
UV ?= $(shell command -v uv 2>/dev/null || echo "python3 -m uv")

.PHONY: help install demo test test-fast lint bench clean

help: ## List the tasks
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

install: ## Install uv if missing, then every component from uv.lock (bytecode compiled once)
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet uv==0.13.9
	$(UV) sync --frozen --compile-bytecode

demo: install ## Set up and run the main job: the whole pipeline offline for the demo persona
	$(UV) run airsick demo

test: install ## Run every test: unit, data and integration (what CI runs)
	$(UV) run pytest -n auto --dist loadfile

test-fast: install ## Run the fast unit tests only (seconds)
	$(UV) run pytest -m "not integration and not data and not browser"

lint: install ## Check lint and formatting
	$(UV) run ruff check .
	$(UV) run ruff format --check .

bench: install ## Run the benchmarks and print their figures
	$(UV) run python -m benchmarks

clean: ## Remove local state (.airsick) and caches
	rm -rf .airsick .pytest_cache .ruff_cache
