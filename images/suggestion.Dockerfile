# Suggestion image: the project's Katib suggestion service (`python -m suggestion`), which Katib
# starts once per Experiment whose algorithm is one of ours (hpo-*), as registered by
# argocd/katib-config-patch.yaml.
# Build from the repository root:
#   docker build -f images/suggestion.Dockerfile -t hpo-suggestion:<version> .
FROM python:3.11.10-slim-bookworm

# The pod's CPU limit is one core (argocd/katib-config-patch.yaml): one torch thread.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    OMP_NUM_THREADS=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/hpo
# The service reads the storage initializer's exit codes (standard library only); only the
# suggestion extra is installed: Optuna, gRPC, Katib's stubs, and torch for hpo-gp's Gaussian
# process, a CPU build installed first so that pip does not fetch a CUDA one.
COPY pyproject.toml README.md ./
COPY storage_init ./storage_init
COPY suggestion ./suggestion
RUN pip install --index-url https://download.pytorch.org/whl/cpu "torch>=2.6,<3" \
    && pip install ".[suggestion]" \
    && python -c "import suggestion.service, torch, greenlet" \
    && rm -rf /opt/hpo/build \
    && printf '#!/bin/sh\nexec python -m suggestion.health_probe "$@"\n' > /bin/grpc_health_probe \
    && chmod 0755 /bin/grpc_health_probe

# Numeric, non-root user 1000; the service writes nothing.
RUN groupadd --gid 1000 hpo && useradd --uid 1000 --gid 1000 --no-create-home hpo
USER 1000:1000
EXPOSE 6789
ENTRYPOINT ["python", "-m", "suggestion"]
