# syntax=docker/dockerfile:1
# The hub's image: the wheels of wirehub, wirehub-sdk and wirehub-core and of every locked
# dependency are built in one stage; the runtime stage installs those wheels alone (no compiler,
# no source tree, no index) and runs as an unprivileged user.
#
#   docker build -t wirehub .
#   docker run --rm wirehub --help
#
# docker-compose.yml runs it as the migration job, the API and the workers; docs/deployment.md
# explains the settings.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_PYTHON_DOWNLOADS=never
RUN pip install --no-cache-dir "uv==0.13.9"
WORKDIR /src
# The workspace: the hub, the SDK, the built-in plugins, the migrations the hub's wheel carries,
# and the example plugin (a workspace member uv needs to read the lock; it is not installed).
COPY pyproject.toml uv.lock README.md ./
COPY hub/ hub/
COPY sdk/ sdk/
COPY plugins/ plugins/
COPY migrations/ migrations/
COPY examples/wirehub-plugin-example/ examples/wirehub-plugin-example/
# Our three wheels, then the wheels of exactly the dependency versions uv.lock pins (hashes checked).
RUN uv build --wheel --out-dir /wheels --package wirehub-sdk \
    && uv build --wheel --out-dir /wheels --package wirehub-core \
    && uv build --wheel --out-dir /wheels --package wirehub \
    && uv export --frozen --no-dev --no-emit-workspace --format requirements-txt -o /wheels/requirements.txt \
    && pip wheel --no-cache-dir --no-deps --require-hashes -r /wheels/requirements.txt --wheel-dir /wheels

FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/wirehub/bin:$PATH \
    WIREHUB_LOG_FORMAT=json
RUN groupadd --system --gid 10001 wirehub \
    && useradd --system --uid 10001 --gid wirehub --home-dir /var/lib/wirehub --create-home \
       --shell /usr/sbin/nologin wirehub
# Only the wheels: nothing is fetched from an index, and the wheels leave no layer behind.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    python -m venv /opt/wirehub \
    && /opt/wirehub/bin/pip install --no-cache-dir --no-index --find-links=/wheels --require-hashes \
       -r /wheels/requirements.txt \
    && /opt/wirehub/bin/pip install --no-cache-dir --no-index --no-deps \
       /wheels/wirehub_sdk-*.whl /wheels/wirehub_core-*.whl /wheels/wirehub-*.whl
USER 10001:10001
WORKDIR /var/lib/wirehub
EXPOSE 8000
# The API's liveness; a worker container (no HTTP API) overrides it in docker-compose.yml.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=4)"]
ENTRYPOINT ["wirehub"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
