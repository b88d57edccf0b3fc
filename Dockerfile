# syntax=docker/dockerfile:1
#
# One image for every Inspraak process. The command picks what it runs:
#   python -m services.<initiatives|advisory|budgets|notifications> serve
#   python -m services.<name> migrate
#   inspraak topics ensure | inspraak topics check
# docker-compose.yml and deploy/k8s/ set the command; the CMD below is only a default.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: resolve the locked dependencies and install the project into /opt/venv ---
FROM ${PYTHON_IMAGE} AS build

# Same uv as the one that wrote uv.lock, so `--frozen` reads it exactly as committed.
ARG UV_VERSION=0.13.8
RUN pip install --no-cache-dir "uv==${UV_VERSION}"

ENV UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11

WORKDIR /src

# Dependencies first: this layer is rebuilt only when the lock file changes.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project

# Then the project itself, installed as a wheel (not editable), so the runtime stage needs
# no source tree: migrations and templates travel inside the installed packages.
COPY shared ./shared
COPY services ./services
RUN uv sync --frozen --no-dev --no-editable

# --- runtime: the interpreter, the virtual environment and an unprivileged user ---
FROM ${PYTHON_IMAGE} AS runtime

RUN groupadd --system --gid 10001 inspraak \
    && useradd --system --uid 10001 --gid inspraak --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin inspraak \
    && install --directory --owner=10001 --group=10001 /app /app/data

COPY --from=build /opt/venv /opt/venv

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    INSPRAAK_DATA_DIR=/app/data

WORKDIR /app
# Numeric, so Kubernetes' runAsNonRoot can verify it without resolving a user name.
USER 10001:10001

EXPOSE 8101 8102 8103 8104

CMD ["python", "-m", "services.initiatives", "serve"]
