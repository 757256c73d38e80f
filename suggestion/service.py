"""Katib's Suggestion gRPC API, answered by `suggestion.sampling`.

Katib's suggestion controller calls `ValidateAlgorithmSettings` once, before the Experiment's
Suggestion runs, and `GetSuggestions` whenever it needs trials, each time with the Experiment and
all its Trials. Nothing is kept between calls: a restarted pod answers the same. Settings the
service refuses come back as INVALID_ARGUMENT with a message naming the setting, which Katib
shows in the Experiment's status.
"""

from __future__ import annotations

import logging

import grpc
from kubeflow.katib import katib_api_pb2 as api
from kubeflow.katib import katib_api_pb2_grpc as api_grpc

from suggestion import asha
from suggestion.history import (
    COMPLETE,
    FAILED,
    PRUNED,
    RUNNING,
    HistoryError,
    Objective,
    Observation,
    objectives_of,
    warm_start_of,
)
from suggestion.samplers import UnsupportedAlgorithm
from suggestion.sampling import next_assignments
from suggestion.settings import ALGORITHMS, ASHA, setting_problems
from suggestion.space import Parameter, fits, unsupported

log = logging.getLogger(__name__)

_KINDS = {api.DOUBLE: "double", api.INT: "int", api.CATEGORICAL: "categorical"}
_KINDS[api.DISCRETE] = "discrete"
_DISTRIBUTIONS = {
    api.UNIFORM: "uniform",
    api.LOG_UNIFORM: "logUniform",
    api.NORMAL: "normal",
    api.LOG_NORMAL: "logNormal",
}
_STATES = {
    api.TrialStatus.SUCCEEDED: COMPLETE,
    api.TrialStatus.EARLYSTOPPED: PRUNED,
    api.TrialStatus.CREATED: RUNNING,
    api.TrialStatus.RUNNING: RUNNING,
}


class Refused(ValueError):
    """What INVALID_ARGUMENT says."""


def parameters_of(experiment: api.Experiment) -> list[Parameter]:
    """The Experiment's parameters; Refused when a bound is not a number."""
    found = []
    for spec in experiment.spec.parameter_specs.parameters:
        space = spec.feasible_space
        entry = {
            "name": spec.name,
            "parameterType": _KINDS.get(spec.parameter_type, "unknown"),
            "feasibleSpace": {
                "min": space.min,
                "max": space.max,
                "step": space.step,
                "distribution": _DISTRIBUTIONS.get(space.distribution, "uniform"),
                "list": list(space.list),
            },
        }
        try:
            found.append(Parameter.from_katib(entry))
        except ValueError as e:
            raise Refused(str(e)) from None
    return found


def settings_of(experiment: api.Experiment) -> dict[str, str]:
    return {s.name: s.value for s in experiment.spec.algorithm.algorithm_settings}


def objectives_in(experiment: api.Experiment, settings: dict[str, str]) -> list[Objective]:
    objective = experiment.spec.objective
    type_ = {api.MINIMIZE: "minimize", api.MAXIMIZE: "maximize"}.get(objective.type)
    if type_ is None:
        raise Refused("the Experiment's objective has no type (minimize or maximize)")
    return objectives_of(settings, objective.objective_metric_name, type_)


def observation_of(trial: api.Trial) -> Observation:
    metrics = {}
    for metric in trial.status.observation.metrics:
        try:
            metrics[metric.name] = float(metric.value)
        except ValueError:
            continue  # Katib writes "unavailable" for a metric never reported
    assignments = {a.name: a.value for a in trial.spec.parameter_assignments.assignments}
    return Observation(assignments, _STATES.get(trial.status.condition, FAILED), metrics)


def validation_problems(experiment: api.Experiment) -> list[str]:
    """Everything ValidateAlgorithmSettings refuses, each message naming what it refuses."""
    try:
        parameters = parameters_of(experiment)
    except Refused as e:
        return [str(e)]
    settings = settings_of(experiment)
    algorithm = experiment.spec.algorithm.algorithm_name
    space_problems = []
    if algorithm == ASHA:
        space_problems = asha.space_problems(parameters, settings)
        parameters = asha.searched(parameters)  # what warm-start trials carry
    history_problems = []
    objectives = 1
    try:
        objectives = len(objectives_in(experiment, settings))
        for observation in warm_start_of(settings):
            why = fits(parameters, observation.assignments)
            if why is not None:
                why = f"warm_start_trials: a trial does not fit the search space: {why}"
                history_problems.append(why)
                break
    except (HistoryError, Refused) as e:
        history_problems.append(str(e))
    continuous = sum(p.kind in ("double", "int") for p in parameters)
    problems = [m for _, m in setting_problems(algorithm, settings, continuous, objectives)]
    return problems + space_problems + unsupported(parameters) + history_problems


class SuggestionService(api_grpc.SuggestionServicer):
    def ValidateAlgorithmSettings(self, request, context):  # noqa: N802 - Katib's method name
        problems = validation_problems(request.experiment)
        if problems:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "; ".join(problems))
        return api.ValidateAlgorithmSettingsReply()

    def GetSuggestions(self, request, context):  # noqa: N802 - Katib's method name
        experiment = request.experiment
        try:
            algorithm = experiment.spec.algorithm.algorithm_name
            if algorithm not in ALGORITHMS:
                raise Refused(f"this service does not serve algorithm '{algorithm}'")
            settings = settings_of(experiment)
            assignments = next_assignments(
                parameters_of(experiment),
                algorithm,
                settings,
                objectives_in(experiment, settings),
                [observation_of(t) for t in request.trials],
                max(1, request.current_request_number),
            )
        except (Refused, HistoryError, UnsupportedAlgorithm) as e:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(e))
        log.info(
            "%s: %d suggestion(s) after %d trial(s)",
            experiment.name,
            len(assignments),
            len(request.trials),
        )
        return api.GetSuggestionsReply(
            parameter_assignments=[
                api.GetSuggestionsReply.ParameterAssignments(
                    assignments=[
                        api.ParameterAssignment(name=name, value=value)
                        for name, value in point.items()
                    ]
                )
                for point in assignments
            ]
        )
