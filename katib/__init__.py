"""Katib on a cluster, through the Kubernetes API (pykube-ng, the project's one Kubernetes
client): read Experiments, Trials and their logs, patch trial counts, and watch an Experiment
until it reaches a condition. `objects` reads Katib's objects as the API returns them."""
