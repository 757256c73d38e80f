# Storage-init image: runs `python -m storage_init` in the experiment's download Job.
# Build from the repository root:
#   docker build -f images/storage-init.Dockerfile -t storage-init:<version> .
# The rendered Job sets `command: ["python", "-m", "storage_init", ...]`, so no ENTRYPOINT.
FROM python:3.11.10-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/hpo
# Only this role's package and the storage extra: the storage initializer stands alone.
COPY pyproject.toml README.md ./
COPY storage_init ./storage_init
RUN pip install ".[storage]" && rm -rf /opt/hpo/build

# Numeric, non-root user 1000: matches runAsUser in the rendered Job and the volume's fsGroup.
RUN groupadd --gid 1000 hpo && useradd --uid 1000 --gid 1000 --create-home hpo
USER 1000:1000
ENV HOME=/home/hpo \
    HF_HUB_DISABLE_TELEMETRY=1
WORKDIR /workspace
