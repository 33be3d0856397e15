# The enrichment-logs image: the `enrichment-logs` command (ingest service by default) and the
# reference pipeline, installed from requirements.lock with every hash checked, as `make` does.
# docker-compose.yml builds it for the `ingest`, `workload` and `collector-queue-init` services.
FROM python:3.11.15-slim-bookworm@sha256:d29f48a31a8b408ed19272ca1e7b10ebae13b240a27e862d3d4217c528e2e0c3

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /app
COPY requirements.lock ./
RUN python -m pip install --require-hashes --no-deps -r requirements.lock
COPY pyproject.toml README.md ./
COPY src ./src
RUN python -m pip install --no-deps --no-build-isolation . && rm -rf /app/src

# An unprivileged user that owns the log; the published lake's directory is readable by others
# (Grafana's user), and the publisher gives its files the same read bits. /lake (a DuckLake's data
# files) and /spool (a worker's spool) are its own too: new named volumes mounted there inherit it.
RUN groupadd --gid 10001 enrichment \
    && useradd --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin enrichment \
    && install -d -o enrichment -g enrichment -m 0700 /data \
    && install -d -o enrichment -g enrichment -m 0755 /data/enrichment_logs.duckdb.lake \
    && install -d -o enrichment -g enrichment -m 0700 /lake /spool
USER enrichment
ENV ENRICHMENT_LOGS_DB_PATH=/data/enrichment_logs.duckdb

EXPOSE 4318
ENTRYPOINT ["enrichment-logs"]
CMD ["ingest", "--host", "0.0.0.0", "--port", "4318"]
