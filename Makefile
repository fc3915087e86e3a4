# The commands the README names. Everything goes through deploy/omsorg.sh.
.PHONY: up down status test token bench conformance lint install drill

ROLE ?= citizen

up:        ## install what is missing, start PostgreSQL, Kafka, the token issuer and the five services
	@deploy/omsorg.sh up

down:      ## stop everything `make up` started (by pid)
	@deploy/omsorg.sh down

status:    ## what runs
	@deploy/omsorg.sh status

test:      ## the whole suite against real Kafka and PostgreSQL
	@deploy/omsorg.sh test $(ARGS)

install:   ## Python workspace, PostgreSQL, Kafka jars
	@deploy/omsorg.sh install

token:     ## print a development token: make token ROLE=citizen|caseworker|provider|log_reviewer
	@.venv/bin/python deploy/dev_token.py $(ROLE)

bench:     ## the Apply benchmark against the running system (make up first)
	@.venv/bin/python tests/benchmarks/bench_apply.py $(ARGS)

drill:     ## faults under load, reconciled by ids (make up first; switches to 3 Kafka nodes and 2 workers; docs/drills.md)
	@.venv/bin/python tests/drills/drill.py $(ARGS)

conformance: ## schemathesis --checks all on every service's OpenAPI document (make up first; a few minutes)
	@.venv/bin/python tests/conformance/run.py $(ARGS)

lint:      ## ruff (lint and format check) and mypy (strict; the files it checks are in pyproject.toml)
	@.venv/bin/ruff check .
	@.venv/bin/ruff format --check .
	@.venv/bin/mypy
