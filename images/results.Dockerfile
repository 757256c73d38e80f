# Results image: runs `hpo results <name>` in the experiment's results Job, which waits for the
# Katib Experiment and writes its results back to Git as a pull request.
# Build from the repository root:
#   docker build -f images/results.Dockerfile -t hpo-results:<version> .
# The rendered Job sets `command: ["python", "-m", "results", "<name>"]`, so no ENTRYPOINT.
FROM python:3.11.10-slim-bookworm

# git does the cloning and pushing; openssh-client serves SSH git URLs.
RUN apt-get update \
    && apt-get install --yes --no-install-recommends git openssh-client ca-certificates \
    && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/hpo
# The results Job reads the validated definition with the generator's spec models, which read
# the trainer's task table and the suggestion service's setting formats; those import the
# standard-library-only parts of trainer, suggestion and storage_init. Only the results extra is
# installed: no jsonnet, schema validators, Optuna or torch.
COPY pyproject.toml README.md ./
COPY generator ./generator
COPY results ./results
COPY katib ./katib
COPY proposal ./proposal
COPY trainer ./trainer
COPY storage_init ./storage_init
COPY suggestion ./suggestion
# The Markdown templates live in templates/, next to the packages: an editable install keeps
# them where results.render looks for them.
COPY templates ./templates
RUN pip install --editable ".[results]"

# Numeric, non-root user 1000: matches runAsUser in the rendered Job. The Job mounts an
# emptyDir at /tmp and points HOME and MPLCONFIGDIR there (the root filesystem is read-only).
RUN groupadd --gid 1000 hpo && useradd --uid 1000 --gid 1000 --no-create-home hpo
USER 1000:1000
ENV HOME=/tmp \
    MPLCONFIGDIR=/tmp/matplotlib
WORKDIR /tmp
