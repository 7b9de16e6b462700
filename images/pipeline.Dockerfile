# The pipeline dependency set: every KFP step of the continuous-training pipeline runs in this image.
# Build from the project root: docker build -f images/pipeline.Dockerfile .
# Behind a TLS-intercepting proxy, pass its CA bundle as a BuildKit secret: --secret id=ca,src=BUNDLE
#
# The infra-validation step starts the real model server, whose dependency set (seldon-core, protobuf 3)
# cannot share an environment with this one (ml-metadata, protobuf 4): the serving set is installed
# beside it in /opt/serving-venv, and MLOPS_SERVING_VENV points the step at it. Likewise the feature
# store's steps run Feast (numpy 2) from the features set in /opt/features-venv (MLOPS_FEATURES_VENV).
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS build
# Slow or briefly failing egress must not fail a build: long reads, many retries, few parallel downloads.
ENV UV_PYTHON_DOWNLOADS=never UV_LINK_MODE=copy UV_COMPILE_BYTECODE=1 \
    UV_HTTP_TIMEOUT=300 UV_HTTP_RETRIES=10 UV_CONCURRENT_DOWNLOADS=8
WORKDIR /src
# pyfarmhash (a TFDV dependency) ships no wheel: it compiles, which needs a C++ compiler and Python's
# headers (the public Python images carry the headers; a Debian base gets them from python3-dev).
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends g++ \
 && if ! python3 -c 'import os, sysconfig; raise SystemExit(not os.path.exists(sysconfig.get_paths()["include"] + "/Python.h"))'; then \
      apt-get install -y -qq --no-install-recommends python3-dev; fi \
 && rm -rf /var/lib/apt/lists/*
RUN --mount=type=secret,id=ca,required=false \
    if [ -s /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi; \
    python3 -m venv /opt/uv && /opt/uv/bin/pip install --no-cache-dir --quiet --retries 10 --timeout 120 "uv==0.13.9"
COPY pyproject.toml uv.lock README.md ./
# Dependencies first, in their own layers, so code changes rebuild in seconds.
RUN --mount=type=secret,id=ca,required=false --mount=type=cache,target=/root/.cache/uv \
    if [ -s /run/secrets/ca ]; then export SSL_CERT_FILE=/run/secrets/ca; fi; \
    UV_PROJECT_ENVIRONMENT=/opt/venv /opt/uv/bin/uv sync --frozen --no-dev --extra pipeline \
      --no-install-project --python python3.11 \
 && UV_PROJECT_ENVIRONMENT=/opt/serving-venv /opt/uv/bin/uv sync --frozen --no-dev --extra serving \
      --no-install-project --python python3.11 \
 && UV_PROJECT_ENVIRONMENT=/opt/features-venv /opt/uv/bin/uv sync --frozen --no-dev --extra features \
      --no-install-project --python python3.11
# uv's cache keys a local project by its pyproject.toml alone: --reinstall-package rebuilds the
# project's wheel from the code just copied instead of reusing one cached from older code.
COPY contracts ./contracts
COPY components ./components
COPY pipelines ./pipelines
COPY cli ./cli
RUN --mount=type=secret,id=ca,required=false --mount=type=cache,target=/root/.cache/uv \
    if [ -s /run/secrets/ca ]; then export SSL_CERT_FILE=/run/secrets/ca; fi; \
    UV_PROJECT_ENVIRONMENT=/opt/venv /opt/uv/bin/uv sync --frozen --no-dev --extra pipeline \
      --no-editable --reinstall-package flights-mlops --python python3.11 \
 && UV_PROJECT_ENVIRONMENT=/opt/serving-venv /opt/uv/bin/uv sync --frozen --no-dev --extra serving \
      --no-editable --reinstall-package flights-mlops --python python3.11 \
 && UV_PROJECT_ENVIRONMENT=/opt/features-venv /opt/uv/bin/uv sync --frozen --no-dev --extra features \
      --no-editable --reinstall-package flights-mlops --python python3.11

FROM ${BASE_IMAGE}
RUN useradd --uid 10001 --create-home --shell /usr/sbin/nologin mlops
COPY --from=build /opt/venv /opt/venv
COPY --from=build /opt/serving-venv /opt/serving-venv
COPY --from=build /opt/features-venv /opt/features-venv
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 TF_CPP_MIN_LOG_LEVEL=2 HOME=/home/mlops \
    MLOPS_SERVING_VENV=/opt/serving-venv MLOPS_FEATURES_VENV=/opt/features-venv
USER 10001
WORKDIR /home/mlops
ENTRYPOINT []
CMD ["mlops", "--help"]
