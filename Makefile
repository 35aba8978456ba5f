# Every target sets up its own environment: a .venv with Python 3.11 and the pinned packages.
# Variables: CONFIG=run.yaml  INPUT=dir  OUT=dir  ENGINE=datatrove|spark|inline  WORKERS=N  ALLOW_UNKNOWN=1  PYTEST_ARGS=...

PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
CONFIG ?=
INPUT  ?=
OUT    ?=
ENGINE ?=
WORKERS ?=
ALLOW_UNKNOWN ?=
PYTEST_ARGS ?=

RUN_ARGS := $(if $(CONFIG),--config $(CONFIG)) $(if $(INPUT),--input $(INPUT)) $(if $(OUT),--out $(OUT)) \
            $(if $(ENGINE),--engine $(ENGINE)) $(if $(WORKERS),--workers $(WORKERS)) \
            $(if $(ALLOW_UNKNOWN),--allow-unknown-inputs)

.PHONY: corpus pretrain reference sft rl eval test bench ablate lint check-python check-java venv clean spark-package help

help:
	@echo "make corpus   run the corpus stages sample, ingest, refine, dedup, select, behavior, relations, knowledge, mix, shards (demo by default; CONFIG=, INPUT=, OUT=, ENGINE=, WORKERS=, ALLOW_UNKNOWN=1)"
	@echo "make pretrain  after make corpus: the CPU demo of continued pretraining (tiny Qwen3-shaped model: general base -> HF export -> import -> curriculum stages 1-3; OUT=)"
	@echo "make reference  after make pretrain: the reference model for token weighting (stage-1 data from the demo base; configs/pretrain/reference.yaml)"
	@echo "make sft      after make pretrain: query-to-item SFT demo (uq2i stage: query pool, clusters, personalization model, synthesized lists; then SFT from the last curriculum checkpoint, loss on answers only; out/sft_demo/)"
	@echo "make rl       after make sft: GRPO on TRL with the hybrid reward from the SFT checkpoint, three seeds (out/rl_demo/report.json)"
	@echo "make eval MODEL=DIR  the music evaluation suite on a Hugging Face checkpoint (music/general knowledge and Q2I via lm-evaluation-harness, MusicSimpleQA, U2I perplexity on held-out users, recommendation lists vs baselines); report in out/eval/ (OUT=, BASELINE=results.json, EVAL_ARGS=)"
	@echo "make test     run the test suite (PYTEST_ARGS='-m \"not slow\"' for the fast subset)"
	@echo "make bench    run the benchmarks (prints figures; writes bench_out/)"
	@echo "make ablate   the token-weighting ablation (the real-data corpus through select, noise injected; report in bench_out/ablate_weighting/)"
	@echo "make lint     ruff over the code"

check-python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { \
	  echo "error: $(PYTHON) not found. Install Python 3.11 (e.g. pyenv install 3.11) or run 'make PYTHON=/path/to/python3.11 ...'." >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' || { \
	  echo "error: $(PYTHON) is Python $$($(PYTHON) -c 'import platform; print(platform.python_version())'); this project needs 3.11 (megatron-core 0.16 and the pinned wheels)." >&2; exit 1; }

check-java:
	@command -v java >/dev/null 2>&1 || { \
	  echo "error: java not found. Spark needs Java 17: install it (e.g. apt-get install openjdk-17-jre-headless) and put it on PATH or set JAVA_HOME." >&2; exit 1; }
	@v=$$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1); \
	  if [ -z "$$v" ] || [ "$$v" -lt 17 ]; then \
	    echo "error: Java $$v found; Spark 4 needs Java 17 or newer (JAVA_HOME=$${JAVA_HOME:-unset})." >&2; exit 1; fi

$(STAMP): pyproject.toml | check-python
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@# torch first, pinned: this resolves to the CPU build instead of pulling CUDA wheels
	$(PY) -m pip install --quiet "torch==2.13.0"
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

venv: $(STAMP)

corpus: $(STAMP) check-java
	$(PY) -m jobs run $(RUN_ARGS)

pretrain: $(STAMP)
	$(PY) -m pretrain.demo $(if $(OUT),--out $(OUT))

reference: $(STAMP)
	@test -f out/pretrain_demo/base/base/hf/config.json || { echo "make reference: run make corpus and make pretrain first (it starts from the demo's base model)" >&2; exit 2; }
	$(PY) -m pretrain.train --config configs/pretrain/reference.yaml

sft: $(STAMP)
	@test -f out/pretrain_demo/cpt/stage3/hf/config.json || { echo "make sft: run make corpus and make pretrain first (it starts from the demo's last curriculum checkpoint)" >&2; exit 2; }
	$(VENV)/bin/music-corpus run --stages uq2i --set uq2i.enabled=true --quiet
	$(PY) -m pretrain.sft

rl: $(STAMP)
	@test -f out/sft_demo/sft/sft/hf/config.json || { echo "make rl: run make sft first (GRPO starts from the SFT checkpoint)" >&2; exit 2; }
	$(PY) -m pretrain.grpo $(RL_ARGS)
	$(PY) -m pretrain.agent

eval: $(STAMP)
	@test -n "$(MODEL)" || { echo "usage: make eval MODEL=DIR [BASELINE=OTHER/results.json] [EVAL_ARGS='mc_limit=50 device=cuda']" >&2; exit 2; }
	$(PY) -m eval.run --model $(MODEL) $(if $(OUT),--out $(OUT)) $(if $(BASELINE),--baseline $(BASELINE)) $(EVAL_ARGS)

test: $(STAMP) check-java
	$(PY) -m pytest -q $(PYTEST_ARGS)

bench: $(STAMP) check-java
	$(PY) -m benchmarks.run_all

# issue 15's ablation: token-weighting criteria and RM document selection on noisy real music text: the real-data
# corpus through select first (a no-op when done; ABLATE_CORPUS=out_shared), then the runs (CPU, ~30 min)
ABLATE_CORPUS ?= out_shared
ablate: $(STAMP)
	$(VENV)/bin/music-corpus run --config configs/shared_data.yaml --out $(ABLATE_CORPUS) --stages ingest,refine,dedup,select --quiet
	$(PY) -m benchmarks.ablate_weighting --corpus $(ABLATE_CORPUS)

lint: $(STAMP)
	$(PY) -m ruff check schemas corpus jobs tokenizer pretrain eval benchmarks tests

# A zip of the packages for spark-submit --py-files on a cluster whose executors lack this install.
spark-package: $(STAMP)
	@mkdir -p dist && rm -f dist/music_platform.zip
	zip -qr dist/music_platform.zip schemas corpus jobs tokenizer pretrain eval configs -x '*/__pycache__/*'
	@echo "dist/music_platform.zip"

clean:
	rm -rf out bench_out dist .pytest_cache
