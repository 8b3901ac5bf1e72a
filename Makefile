# Two entry points for a fresh machine:
#   make demo   train the default image preset (clustered) on Fashion-MNIST, write sample
#               grids, evaluate it beside the real-data floor (training the feature
#               classifier once and caching it), export it (SavedModel + ONNX) and sample
#               the export through onnxruntime
#   make test   run the test suite
# Both create .venv and install what they need, the Debian data package included
# where apt-get is available.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA := /usr/share/datasets/fashion-mnist
RUN ?= runs/demo
EPOCHS ?= 12

.PHONY: demo test data install lint clean pretrained

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[train,serve,dev]"
	touch $(STAMP)

data:
	@if [ -d $(DATA) ]; then exit 0; fi; \
	if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist; \
	elif command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1; then \
		sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist; \
	else \
		echo "Fashion-MNIST not found in $(DATA): install the Debian package dataset-fashion-mnist," \
		     "or set KERAS_GAN_DATA_DIR to a directory of its IDX files"; \
	fi

demo: $(STAMP) data
	$(BIN)/keras-gan train --model clustered --dataset fashion_mnist --epochs $(EPOCHS) \
		--batch-size 128 --seed 0 --out $(RUN) --overwrite
	$(BIN)/keras-gan evaluate $(RUN) --dataset fashion_mnist --num-samples 10000
	$(BIN)/keras-gan export $(RUN) --format all --out $(RUN)/export
	$(BIN)/keras-gan sample $(RUN)/export -n 64 --seed 0 --out $(RUN)/onnx_samples.png
	@echo "Sample grids: $(RUN)/samples/ ; loss curves: $(RUN)/loss.png ;" \
	      "evaluation: $(RUN)/evaluation.md ; exported model: $(RUN)/export/ ;" \
	      "onnxruntime samples: $(RUN)/onnx_samples.png"

test: $(STAMP) data
	$(BIN)/pytest

# The generators shipped in keras_gan/serving/pretrained/ (about 25 min on 2 CPU cores).
pretrained: $(STAMP) data
	$(BIN)/python scripts/pretrained.py --replace

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache
