# Trainer image: runs `python -m trainer` in every Katib trial.
# Build from the repository root:
#   docker build -f images/trainer.Dockerfile -t hpo-trainer:<version> .
# The rendered trial sets `command:` (python -m trainer, or torchrun for several GPUs), so there
# is no ENTRYPOINT.
#
# The PyTorch image brings CUDA 12.4, cuDNN 9, Python 3.11 and a CUDA build of torch 2.6 (what
# transformers 5 needs at least); pip keeps that torch because it satisfies the trainer extra.
FROM pytorch/pytorch:2.6.0-cuda12.4-cudnn9-runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# torch.compile (Inductor, Triton) compiles kernels with the system C compiler while a trial
# runs; the runtime image has none, and the trainer compiles only where one is on PATH.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/hpo
# The trainer reads the storage initializer's published contract (the cache marker check and
# the exit codes, standard library only), so that package comes along without its role's
# dependencies; only the trainer extra is installed.
COPY pyproject.toml README.md ./
COPY storage_init ./storage_init
COPY trainer ./trainer
RUN pip install ".[trainer]" \
    && python -c "import torch, trainer.recipe; print('torch', torch.__version__)" \
    && rm -rf /opt/hpo/build

# Numeric, non-root user 1000: matches runAsUser in the rendered trial and the volume's fsGroup.
RUN groupadd --gid 1000 hpo && useradd --uid 1000 --gid 1000 --create-home hpo
USER 1000:1000
# Trials never download: the storage-init Job has filled the volume. torch.compile's and
# Triton's kernel caches go under the home folder, which user 1000 can write.
ENV HOME=/home/hpo \
    HF_HUB_OFFLINE=1 \
    HF_HUB_DISABLE_TELEMETRY=1
WORKDIR /workspace
