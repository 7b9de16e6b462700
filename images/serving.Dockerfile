# The serving dependency set: the Seldon Core 1.17 microservice that serves a registered model version.
# Build from the project root: docker build -f images/serving.Dockerfile .
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
    /opt/uv/bin/uv sync --frozen --no-dev --extra serving --no-install-project --python python3.11
# uv's cache keys a local project by its pyproject.toml alone: --reinstall-package rebuilds the
# project's wheel from the code just copied instead of reusing one cached from older code.
COPY contracts ./contracts
COPY components ./components
COPY pipelines ./pipelines
COPY cli ./cli
RUN --mount=type=secret,id=ca,required=false --mount=type=cache,target=/root/.cache/uv \
    if [ -s /run/secrets/ca ]; then export SSL_CERT_FILE=/run/secrets/ca; fi; \
    /opt/uv/bin/uv sync --frozen --no-dev --extra serving --no-editable --reinstall-package flights-mlops --python python3.11

FROM ${BASE_IMAGE}
RUN useradd --uid 10001 --create-home --shell /usr/sbin/nologin mlops
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 TF_CPP_MIN_LOG_LEVEL=2 HOME=/home/mlops
USER 10001
WORKDIR /home/mlops
EXPOSE 9000 9500 6000
# The model folder is mounted (or downloaded by Seldon's init container) at /mnt/models.
ENTRYPOINT ["seldon-core-microservice", "components.serving.model.FlightDelayModel"]
CMD ["--service-type", "MODEL", "--http-port", "9000", "--grpc-port", "9500", "--metrics-port", "6000"]
