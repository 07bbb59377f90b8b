# ComfyUI-DEIG developer entry points. Paths come from devkit/paths.py (honours COMFYUI_PATH).
SHELL := /bin/bash
REPO := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
PY := $(REPO)/.venv/bin/python
FLOOR_PY = $(shell python3 $(REPO)/devkit/paths.py floor-python)
HOST = $(shell python3 $(REPO)/devkit/paths.py host)
PORT ?= 8188
VECTORS ?= $(abspath $(REPO)/../shared/reference/deig_reference_vectors.safetensors)
META ?= $(abspath $(REPO)/../shared/reference/deig_reference_vectors.json)
PYTEST_ARGS ?=

.PHONY: setup test demo serve parity bench soak

setup:
	@bash $(REPO)/scripts/setup.sh

# The whole suite, then the unit and integration tests again with ComfyUI's floor transformers (.venv-floor).
test: setup
	cd $(REPO) && $(PY) -m pytest $(PYTEST_ARGS)
	cd $(REPO) && $(FLOOR_PY) -m pytest -m "unit or integration" -p no:cacheprovider $(PYTEST_ARGS)

demo: setup
	cd $(REPO) && $(PY) scripts/demo.py

serve: setup
	cd $(HOST) && exec $(PY) main.py --cpu --listen 127.0.0.1 --port $(PORT)

parity: setup
	cd $(REPO) && $(PY) scripts/parity.py --vectors $(VECTORS) --meta $(META)

bench: setup
	cd $(REPO) && $(PY) scripts/bench.py

soak: setup
	cd $(REPO) && $(PY) scripts/soak.py
