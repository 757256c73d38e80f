"""The project's Katib suggestion service, and the sampler it shares with the local runner.

Katib lets a cluster add algorithms: a service that speaks Katib's Suggestion gRPC API,
registered in `katib-config`. This one serves Optuna's samplers under the names `hpo-*`, with two
things Katib's own services lack: warm start from earlier experiments' trials and several
objectives at once. It keeps no state: every request carries the Experiment and its Trials, and
the study is rebuilt from them, so a restarted pod answers the same.

`suggestion.sampling` is the one place where a search space and a trial history become the next
parameters, for the service and for `hpo tune --local` alike. Standard library, Optuna and the
Katib gRPC stubs only: the package runs in its own small image.
"""
