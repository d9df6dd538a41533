# ecr-cleaner as a container: `serve` by default, with /healthz and /metrics on :8080.
#
#   The policy is read from /etc/ecr-cleaner/policy.yaml: mount it there (a Kubernetes
#   ConfigMap, an ECS volume, `-v policy.yaml:/etc/ecr-cleaner/policy.yaml:ro`).
#   Any other command works too:  IMAGE run --config /etc/ecr-cleaner/policy.yaml
#
# BASE_IMAGE is any Debian-like image with python3 (>= 3.11) and its venv module.
ARG BASE_IMAGE=python:3.11-slim

# The runtime venv is made here and copied whole into the final stage: pip stays in
# this stage's /opt/build and is never installed into /opt/ecr-cleaner.
FROM ${BASE_IMAGE} AS build
WORKDIR /src
RUN python3 -m venv /opt/build \
    && python3 -m venv --without-pip /opt/ecr-cleaner
# Exactly the versions in the lock (`make lock`), each checked against its hash. The
# lock pins every transitive dependency, so --no-deps lets nothing unpinned in. Copied
# before the source, so editing the code does not reinstall the dependencies.
COPY requirements/runtime.txt ./requirements/
RUN /opt/build/bin/pip --python /opt/ecr-cleaner/bin/python install \
        --no-cache-dir --disable-pip-version-check --require-hashes --no-deps \
        -r requirements/runtime.txt
# Only what the wheel is made of, so edits to tests or docs do not rebuild it.
COPY pyproject.toml README.md ./
COPY cleaner ./cleaner
# The project itself, with the extras the image carries (Makefile LOCK_EXTRAS: the
# kubernetes in-use source's client), without dependencies: all came from the lock.
# `pip check` then fails the build if the lock lacks something pyproject.toml requires.
RUN /opt/build/bin/pip --python /opt/ecr-cleaner/bin/python install \
        --no-cache-dir --disable-pip-version-check --no-deps ".[kubernetes]" \
    && /opt/build/bin/pip --python /opt/ecr-cleaner/bin/python check \
        --disable-pip-version-check

FROM ${BASE_IMAGE}
ENV PATH=/opt/ecr-cleaner/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
# The runtime dependencies and the kubernetes extra (no dev or sandbox extras), in a
# venv of their own.
COPY --from=build /opt/ecr-cleaner /opt/ecr-cleaner
RUN groupadd --gid 10001 ecr-cleaner \
    && useradd --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home \
        --shell /usr/sbin/nologin ecr-cleaner \
    && mkdir -p /etc/ecr-cleaner
# Numeric, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["ecr-cleaner"]
CMD ["serve", "--config", "/etc/ecr-cleaner/policy.yaml", "--listen", "0.0.0.0:8080"]
