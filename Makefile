# The two commands a fresh machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INDEX_DIR ?= $(CURDIR)/var/index
HOST ?= 127.0.0.1
PORT ?= 8000
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install run test test-fast test-docker docker lint bench clean browser

$(BIN)/activate: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,ray]'
	touch $(BIN)/activate

install: $(BIN)/activate ## a .venv with the project and its dev tools

run: install ## build the index from seeds/ when none is published, then serve
	@test -f $(INDEX_DIR)/CURRENT || $(BIN)/qa index build seeds --index-dir $(INDEX_DIR)
	$(BIN)/qa serve --index-dir $(INDEX_DIR) --host $(HOST) --port $(PORT)

browser: ## Debian's Chromium for the widget tests (skipped loudly when unavailable)
	@command -v chromium >/dev/null 2>&1 || (command -v apt-get >/dev/null 2>&1 && \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
		>/dev/null) || echo "WARNING: could not install chromium; browser tests will be skipped")

test: install browser ## install, then run every test
	$(BIN)/ruff check .
	$(BIN)/pytest -q

test-fast: install ## the quick loop: no real model, no browser
	$(BIN)/ruff check .
	$(BIN)/pytest -q -n 2 -m "not model and not browser and not ray"

docker: ## the service image, grounded-qa:latest (BASE_IMAGE=... to choose the base)
	docker/build.sh grounded-qa:latest

test-docker: install ## build the image, run it, ask it, rebuild an index volume with it
	QA_TEST_DOCKER=1 $(BIN)/pytest -q -s -m docker tests/test_docker.py

lint: install
	$(BIN)/ruff check .

bench: install ## the benchmarks; SQUAD=path to squad-v1.1-dev.json
	$(BIN)/python -m bench.quality --squad $(or $(SQUAD),../shared/eval/squad-v1.1-dev.json)
	$(BIN)/python -m bench.index_build

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
