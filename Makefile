# Inspraak: the commands the README promises. Each sets up what it needs first.
PYTHON := .venv/bin/python
export PYTHONUNBUFFERED := 1

.PHONY: setup run test lint unit bench demo contracts clean

setup:
	@scripts/bootstrap.sh

run: setup  ## Kafka, topics, SMTP sink, the four services and the demo municipality
	@$(PYTHON) -m stack.run

demo: setup  ## against the running stack (reads .run/stack.env): the flows, their events and e-mails
	@$(PYTHON) -m stack.demo
	@$(PYTHON) -m stack.demo_lifecycle
	@$(PYTHON) -m stack.demo_round

test: setup lint  ## the whole suite on a real Kafka broker and a real PostgreSQL
	@$(PYTHON) -m pytest -q -p no:cacheprovider --durations=10
	@$(PYTHON) -m stack.test_report

lint: setup
	@.venv/bin/ruff check .
	@.venv/bin/mypy shared services stack
	@.venv/bin/lint-imports
	@$(PYTHON) -m stack.contracts --check

unit: setup
	@$(PYTHON) -m pytest -q tests/unit

bench: setup  ## raw Kafka ceiling vs one service hop vs whole flows; last line is JSON
	@$(PYTHON) -m stack.bench

contracts: setup  ## regenerate contracts/ after a deliberate contract change
	@$(PYTHON) -m stack.contracts

clean:
	rm -rf .run
