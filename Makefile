# flights-mlops — every target does its own set-up; `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_VERSION ?= 3.11
UV ?= $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
VENV := .venv
SERVING_VENV := .venv-serving
FEATURES_VENV := .venv-features
# The serving set plus TensorFlow: the SavedModel backends' tests and the serving benchmark's comparison.
SAVEDMODEL_VENV := .venv-savedmodel
# Builders behind a TLS-intercepting proxy trust the system bundle; harmless elsewhere.
export UV_SYSTEM_CERTS ?= 1
# Package downloads that stall or fail briefly are retried rather than failing the set-up.
export UV_HTTP_TIMEOUT ?= 300
export UV_HTTP_RETRIES ?= 10
export TF_CPP_MIN_LOG_LEVEL ?= 2
PIPELINE_PY := $(VENV)/bin/python
MLOPS := $(VENV)/bin/mlops
# Images: one per dependency set, named by `mlops images list`.
REGISTRY ?= localhost:5000
BASE_IMAGE ?= python:3.11-slim-bookworm
LOCAL_BASE_IMAGE := local/debian-python:bookworm
DOCKER_RUN_STATE ?= build/docker-run

.PHONY: help env run demo test lint package-graph typecheck unit bench bench-validation bench-serving bench-pipeline bench-features bench-monitoring bench-cli bench-experiments compile golden clean deploy undeploy manifests-check docker-up docker-down base-image images push run-docker smoke-serving cluster-build cluster-up cluster-down cluster-status cluster-test

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(UV):
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet --user uv || curl -LsSf https://astral.sh/uv/install.sh | sh

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --extra pipeline --python $(PYTHON_VERSION)
	@touch $@

$(SERVING_VENV)/.synced: pyproject.toml uv.lock | $(UV)
	UV_PROJECT_ENVIRONMENT=$(SERVING_VENV) $(UV) sync --frozen --extra serving --python $(PYTHON_VERSION)
	@touch $@

$(SAVEDMODEL_VENV)/.synced: pyproject.toml uv.lock | $(UV)
	UV_PROJECT_ENVIRONMENT=$(SAVEDMODEL_VENV) $(UV) sync --frozen --extra serving --extra savedmodel --python $(PYTHON_VERSION)
	@touch $@

$(FEATURES_VENV)/.synced: pyproject.toml uv.lock | $(UV)
	UV_PROJECT_ENVIRONMENT=$(FEATURES_VENV) $(UV) sync --frozen --extra features --python $(PYTHON_VERSION)
	@touch $@

env: $(VENV)/.synced $(SERVING_VENV)/.synced $(SAVEDMODEL_VENV)/.synced $(FEATURES_VENV)/.synced ## Create or refresh the four environments (idempotent)

run: env ## Train from the feature store locally (kfp.local + SQLite ML Metadata), then load its online store
	$(MLOPS) run
	$(MLOPS) features materialize

demo: env ## The closed loop: serve a Jan-Jun model, replay Jul-Dec, drift detected, retrained, canaried, promoted
	$(PIPELINE_PY) -m cli.demo

lint: $(VENV)/.synced ## Ruff lint and format check, and the package layering (import-linter, pyproject.toml)
	$(VENV)/bin/ruff check cli components contracts pipelines tests bench
	$(VENV)/bin/ruff format --check cli components contracts pipelines tests bench
	$(VENV)/bin/lint-imports

package-graph: $(VENV)/.synced ## Redraw docs/package-graph.md from the code's imports
	$(PIPELINE_PY) tests/architecture/package_graph.py

typecheck: $(VENV)/.synced ## Mypy on the project's packages
	$(VENV)/bin/mypy

unit: env ## Pytest in each environment (no lint)
	$(VENV)/bin/pytest --ignore=tests/serving -m "not cluster" -n 2 --dist loadgroup
	$(SERVING_VENV)/bin/pytest tests/serving --ignore=tests/serving/savedmodel
	$(SAVEDMODEL_VENV)/bin/pytest tests/serving/savedmodel

test: lint typecheck unit ## Everything CI runs: lint, typecheck, tests in every environment

compile: $(VENV)/.synced ## Compile the pipelines to KFP IR YAML under build/, every image pinned by digest (after `make push`)
	$(MLOPS) pipeline compile --out build/pipelines --images build/images.json

docker-up: ## Start a loopback-only Docker daemon and a registry at 127.0.0.1:5000 unless already running
	images/local-docker.sh start

docker-down: ## Stop the Docker daemon and registry that docker-up started
	images/local-docker.sh stop

base-image: ## Build a Debian bookworm + Python base image with debootstrap (no public registry needed)
	images/build-base.sh $(LOCAL_BASE_IMAGE)

images: $(VENV)/.synced ## Build every dependency set's image (BASE_IMAGE=..., CA_BUNDLE=... to trust a proxy's CA)
	REGISTRY=$(REGISTRY) BASE_IMAGE=$(BASE_IMAGE) MLOPS=$(MLOPS) images/build.sh build

push: $(VENV)/.synced ## Push the images to REGISTRY (default localhost:5000); digests go to build/images.json
	REGISTRY=$(REGISTRY) MLOPS=$(MLOPS) images/build.sh push

run-docker: $(VENV)/.synced ## Run the training pipeline with every step inside the pipeline image (kfp.local DockerRunner)
	rm -rf $(DOCKER_RUN_STATE)
	MLOPS_STATE_DIR=$(DOCKER_RUN_STATE) $(MLOPS) run --runner docker

smoke-serving: $(VENV)/.synced ## Serve the production model of `make run-docker` from the serving image and call it
	MLOPS_STATE_DIR=$(DOCKER_RUN_STATE) $(MLOPS) models list --json | $(PIPELINE_PY) -c \
	  'import json, sys; d = json.load(sys.stdin); v = next(v for v in d["versions"] if v["version"] == d["production"]); print(v["uri"], v["version"])' \
	  | { read -r uri version && images/smoke-serving.sh "$$uri" "$$version"; }

bench-validation: $(VENV)/.synced ## Statistics + validation time for 1, 6, 12 months
	$(PIPELINE_PY) bench/bench_validation.py

bench-monitoring: $(VENV)/.synced ## Production check: request log and feedback reading, check time by window size
	$(PIPELINE_PY) bench/bench_monitoring.py

bench-serving: $(SERVING_VENV)/.synced $(SAVEDMODEL_VENV)/.synced ## Serving: model floor, Seldon echo ceiling, served peak, rate sweep (~3 min)
	$(SAVEDMODEL_VENV)/bin/python bench/bench_serving.py --json-out build/bench/serving.json

bench-pipeline: env ## Per step start-up and work, whole-tree peak memory, CPU and AUC: 12 months fresh and warm, 6 and 1 month warm (~10 min)
	$(PIPELINE_PY) bench/bench_pipeline.py

bench-cli: $(VENV)/.synced ## Wall time of each read-only mlops command, a fresh process each (median of 5)
	$(PIPELINE_PY) bench/bench_cli.py

bench-experiments: env ## A 4-run sweep (learning rate x hidden units) of the production pipeline, run by run (~10 min)
	$(PIPELINE_PY) bench/bench_experiments.py

bench-features: env ## Feature store: materialisation, online lookup p50/p99 (1 and 100 rows), prediction with and without the transformer (~4 min)
	$(PIPELINE_PY) bench/bench_features.py --json-out build/bench/features.json

bench: bench-validation bench-serving bench-pipeline bench-features bench-monitoring bench-cli bench-experiments ## All benchmarks

clean: ## Remove local state and build outputs (keeps the environments)
	rm -rf .mlops build

golden: $(VENV)/.synced ## Regenerate the golden files (compiled pipeline specs, rendered SeldonDeployments) after a reviewed change
	UPDATE_GOLDEN=1 $(VENV)/bin/pytest -q tests/pipelines/test_compile.py tests/rollout/test_rollout_docs.py

deploy: env ## Deploy to kind/minikube (or OVERLAY=staging|production), run the pipeline once (manifests/deploy.sh)
	manifests/deploy.sh deploy

undeploy: ## Remove what `make deploy` created (the kind cluster it made, or our namespace)
	manifests/deploy.sh undeploy

manifests-check: $(VENV)/.synced ## Build every overlay offline and check schemas, RBAC, non-root pods, secrets
	$(VENV)/bin/pytest -q tests/manifests -m "not cluster"

# A real single-node Kubernetes built from upstream Go modules (docs/cluster.md). Needs root.
CLUSTER_TEST_BASE ?= $(LOCAL_BASE_IMAGE)

cluster-build: ## Build (or reuse) the cluster's programs from their Go modules, versions in cluster/versions.env (~25 min cold)
	cluster/build.sh

cluster-up: cluster-build ## Start the single-node Kubernetes (after `make docker-up`); idempotent; prints the kubeconfig
	cluster/cluster.sh up

cluster-down: ## Stop the cluster and remove everything it created (processes, mounts, bridge, iptables, state)
	cluster/cluster.sh down

cluster-status: ## The cluster's processes and node
	cluster/cluster.sh status

cluster-test: $(VENV)/.synced ## Smoke tests against the running cluster (pods run the base image of `make base-image`)
	eval "$$(cluster/cluster.sh env)" && \
	  CLUSTER_TEST_IMAGE=$$(cluster/cluster.sh push-image $(CLUSTER_TEST_BASE)) && export CLUSTER_TEST_IMAGE && \
	  $(VENV)/bin/pytest -m cluster tests/cluster -v
