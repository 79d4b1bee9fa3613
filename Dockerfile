# pmdesk's container image (issue 17). Two stages: the builder installs the dependencies from
# requirements.lock — every one pinned with its hashes (`make lock` makes it from
# pyproject.toml) — and pmdesk itself into /opt/venv; the final stage gets that venv and the
# sources, runs as an unprivileged user, and installs nothing when it starts.
#
#   docker build -t pmdesk .
#   docker run --rm --network host pmdesk demo      # dashboard on the host's 127.0.0.1:8050
#
# docker-compose.yml uses it for the demo, the collector and the web workers.

ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /opt/pmdesk
COPY requirements.lock ./
# --require-hashes: a file that is not byte for byte the locked one is refused;
# --no-deps: nothing beyond the lock is resolved.
RUN pip install --require-hashes --no-deps -r requirements.lock
COPY pyproject.toml README.md ./
COPY app ./app
COPY risk ./risk
COPY connectors ./connectors
COPY assets ./assets
COPY data ./data
# Editable: the dashboard's assets/ sit beside the packages, where app/web/app.py looks for
# them. Built with the locked setuptools, nothing fetched.
RUN pip install --no-deps --no-build-isolation --editable . \
    && pip uninstall --yes pip \
    && python -m compileall -q app risk connectors

FROM ${PYTHON_IMAGE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PMDESK_STORE__URL=sqlite:////var/lib/pmdesk/pmdesk.db
# No pip in the final image (nothing is ever installed at start); an unprivileged user owns
# only the store folder.
RUN python -m pip uninstall --yes pip setuptools wheel \
    && groupadd --system --gid 10001 pmdesk \
    && useradd --system -l --uid 10001 --gid pmdesk --home-dir /var/lib/pmdesk \
       --shell /usr/sbin/nologin pmdesk \
    && mkdir -p /var/lib/pmdesk \
    && chown pmdesk:pmdesk /var/lib/pmdesk \
    && chmod 0700 /var/lib/pmdesk
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /opt/pmdesk /opt/pmdesk
WORKDIR /var/lib/pmdesk
VOLUME ["/var/lib/pmdesk"]
USER 10001:10001
EXPOSE 8050
# /healthz answers without sign-in: 200 while every account's data is fresh, 503 when stale.
# Plain HTTP on 8050 (the web UI); a collector-only or TLS container overrides it (compose).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8050/healthz', timeout=4)"]
ENTRYPOINT ["pmdesk"]
CMD ["demo"]
