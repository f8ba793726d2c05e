# The two commands of the README: `make run` and `make test`. Both set up .venv first when needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install services run test demo lint bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## one batch against the default sources (real outlets: needs the internet)
run: $(STAMP)
	$(BIN)/borderwatch -v run

## the same pipeline against the bundled sample site on 127.0.0.1
demo: $(STAMP)
	$(BIN)/borderwatch -v demo

## programs of the servers the tests start for themselves on 127.0.0.1 (redis-server for the shared crawl
## frontier, PostgreSQL for the lake's catalog): installed via apt when missing (as root, or with sudo)
services:
	@bash scripts/redis.sh
	@bash scripts/postgres.sh

lint: $(STAMP)
	$(BIN)/ruff check crawlers flows storage tests bench

# pytest exits 5 when it collected no tests: that is a failure here, not a pass
test: $(STAMP) services lint
	@$(BIN)/python -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest ran no tests" >&2; exit 1; fi; exit $$rc

clean:
	rm -rf $(VENV) data/demo.duckdb data/raw-demo
