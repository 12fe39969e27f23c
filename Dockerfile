# syntax=docker/dockerfile:1
#
# Wosool image: one image, several roles (see docker-compose.yml and docs/deployment.md).
#   docker run IMAGE                                  -> web   (wosool serve --host 0.0.0.0 --port 8000)
#   docker run IMAGE wosool worker                    -> SAQ job worker
#   docker run IMAGE wosool migrate                   -> registry database migrations (safe to re-run)
#
# The app reads templates/, static/ and migrations/ relative to the repository root (the parent of the
# `app` package), so the source tree lives in /app and the package is installed *editable* from there:
# the venv holds the dependencies, the `wosool` console script and a .pth entry pointing at /app.
# Both stages use the same base image and the same paths (/opt/venv, /app), so the venv can be copied.
# The embedded servers of `wosool dev` are an optional extra and stay out of the image.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --------------------------------------------------------------------------------------------------
# builder: compilers + a venv with every dependency from pyproject.toml
# --------------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

# Build tools only matter if a dependency has no wheel for this platform; they never reach the runtime stage.
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app

# 1) Dependencies, keyed on pyproject.toml alone: this layer is rebuilt only when the dependency list changes.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install --upgrade pip \
    && pip install -r /tmp/requirements.txt

# 2) The package itself, editable from /app (no dependency resolution: fast, and cheap to redo on code changes).
COPY README.md ./
COPY app ./app
COPY tasks ./tasks
RUN pip install --no-deps -e . \
    && wosool --version

# --------------------------------------------------------------------------------------------------
# runtime: the venv + the source tree, non-root
# --------------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="wosool" \
      org.opencontainers.image.description="Multi-tenant CRM for Salla merchants"

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    WOSOOL_ENV=production \
    LOG_JSON=true \
    PATH=/opt/venv/bin:$PATH

RUN groupadd --system --gid 10001 wosool \
    && useradd --system --uid 10001 --gid wosool --home-dir /app --no-create-home --shell /usr/sbin/nologin wosool

COPY --from=builder /opt/venv /opt/venv

WORKDIR /app
# Owned by root and read-only to the app user: the app writes nothing to its own tree.
COPY pyproject.toml README.md ./
COPY migrations ./migrations
COPY templates ./templates
COPY static ./static
COPY widget ./widget
COPY tasks ./tasks
COPY app ./app
# Bytecode compiled at build time (the read-only tree means it could not be written at run time).
RUN python -m compileall -q app tasks migrations

USER 10001:10001

EXPOSE 8000

# Liveness of the web role (curl is not in the slim image). Compose disables it for worker/migrate.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/api/health', timeout=4).status == 200 else 1)"]

CMD ["wosool", "serve", "--host", "0.0.0.0", "--port", "8000"]
