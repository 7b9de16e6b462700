# The features dependency set: Feast (numpy 2, pyarrow >= 16) — its feature server, and the feature
# store's worker commands (apply, materialise, point-in-time retrieval).
# Build from the project root: docker build -f images/features.Dockerfile .
# Behind a TLS-intercepting proxy, pass its CA bundle as a BuildKit secret: --secret id=ca,src=BUNDLE
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS build
# Slow or briefly failing egress must not fail a build: long reads, many retries, few parallel downloads.
ENV UV_PROJECT_ENVIRONMENT=/opt/venv UV_PYTHON_DOWNLOADS=never UV_LINK_MODE=copy UV_COMPILE_BYTECODE=1 \
    UV_HTTP_TIMEOUT=300 UV_HTTP_RETRIES=10 UV_CONCURRENT_DOWNLOADS=8
WORKDIR /src
RUN --mount=type=secret,id=ca,required=false \
    if [ -s /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi; \
    python3 -m venv /opt/uv && /opt/uv/bin/pip install --no-cache-dir --quiet --retries 10 --timeout 120 "uv==0.13.9"
COPY pyproject.toml uv.lock README.md ./
RUN --mount=type=secret,id=ca,required=false --mount=type=cache,target=/root/.cache/uv \
    if [ -s /run/secrets/ca ]; then export SSL_CERT_FILE=/run/secrets/ca; fi; \
    /opt/uv/bin/uv sync --frozen --no-dev --extra features --no-install-project --python python3.11
# uv's cache keys a local project by its pyproject.toml alone: --reinstall-package rebuilds the
# project's wheel from the code just copied instead of reusing one cached from older code.
COPY contracts ./contracts
COPY components ./components
COPY pipelines ./pipelines
COPY cli ./cli
RUN --mount=type=secret,id=ca,required=false --mount=type=cache,target=/root/.cache/uv \
    if [ -s /run/secrets/ca ]; then export SSL_CERT_FILE=/run/secrets/ca; fi; \
    /opt/uv/bin/uv sync --frozen --no-dev --extra features --no-editable --reinstall-package flights-mlops --python python3.11

FROM ${BASE_IMAGE}
RUN useradd --uid 10001 --create-home --shell /usr/sbin/nologin mlops
COPY --from=build /opt/venv /opt/venv
# The cluster's configuration (Redis online store; registry and offline files in the pod):
# Feast expands its ${MLOPS_FEATURES_*} variables from the container's environment.
COPY components/features/repo/feature_store.cluster.yaml /opt/feature-repo/feature_store.yaml
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONWARNINGS=ignore HOME=/home/mlops
USER 10001
WORKDIR /home/mlops
EXPOSE 6566
# A pod's address is its own: the server listens on every interface of it.
ENTRYPOINT ["feast", "--chdir", "/opt/feature-repo"]
CMD ["serve", "--host", "0.0.0.0", "--port", "6566", "--no-access-log"]
