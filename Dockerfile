# ecr-cleaner as a container: `serve` by default, with /healthz and /metrics on :8080.
#
#   The policy is read from /etc/ecr-cleaner/policy.yaml: mount it there (a Kubernetes
#   ConfigMap, an ECS volume, `-v policy.yaml:/etc/ecr-cleaner/policy.yaml:ro`).
#   Any other command works too:  IMAGE run --config /etc/ecr-cleaner/policy.yaml
#
# BASE_IMAGE is any Debian-like image with python3 (>= 3.11) and its venv module.
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS build
WORKDIR /src
# Only what the wheel is made of, so edits to tests or docs do not rebuild it.
COPY pyproject.toml README.md ./
COPY cleaner ./cleaner
RUN python3 -m venv /opt/build \
    && /opt/build/bin/pip wheel --no-cache-dir --disable-pip-version-check --no-deps \
        --wheel-dir /dist .

FROM ${BASE_IMAGE}
ENV PATH=/opt/ecr-cleaner/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
COPY --from=build /dist/ /tmp/dist/
# The runtime dependencies only (no dev or sandbox extras), in a venv of their own.
RUN python3 -m venv /opt/ecr-cleaner \
    && /opt/ecr-cleaner/bin/pip install --no-cache-dir --disable-pip-version-check \
        /tmp/dist/*.whl \
    && rm -rf /tmp/dist \
    && groupadd --gid 10001 ecr-cleaner \
    && useradd --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home \
        --shell /usr/sbin/nologin ecr-cleaner \
    && mkdir -p /etc/ecr-cleaner
# Numeric, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["ecr-cleaner"]
CMD ["serve", "--config", "/etc/ecr-cleaner/policy.yaml", "--listen", "0.0.0.0:8080"]
