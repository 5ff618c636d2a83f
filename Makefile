# The two commands of this repository; see README.md.
PYTHON ?= python3

.PHONY: run test clean

run:
	$(PYTHON) tools/harness.py run

test:
	$(PYTHON) tools/harness.py test

clean:
	rm -rf .cache .venv .pytest_cache .ruff_cache
