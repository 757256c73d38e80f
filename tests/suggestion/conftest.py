"""Rendered Experiments as Katib's protobuf messages, and the service on a loopback port.

The messages are built from what the generator renders, the way Katib's suggestion controller
builds them from the Experiment and its Trials, so the service is tested on exactly what a
cluster would send it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import grpc
import pytest
from kubeflow.katib import katib_api_pb2 as api
from kubeflow.katib import katib_api_pb2_grpc as api_grpc

from generator.commands.project import check_definition_text
from generator.loading.repo_config import load_repo_config
from suggestion.__main__ import serve

REPO = Path(__file__).resolve().parents[2]
DEFINITION = """\
name: tuned
cluster: gpu-cluster-1
model_provider_parameters:
  model_uri: hf://meta-llama/Llama-3.2-1B
  revision: 0123456789abcdef0123456789abcdef01234567
  transformer_type: AutoModelForSequenceClassification
  num_labels: 2
dataset_provider_parameters:
  repo_id: stanfordnlp/imdb
  revision: 0123456789abcdef0123456789abcdef01234567
  split: train[:1000]
  eval_split: test[:200]
trainer_parameters:
  training_parameters:
    learning_rate: {search: double, min: 1.0e-5, max: 1.0e-3, distribution: logUniform}
    weight_decay: {search: double, min: 0.0, max: 0.2}
  lora_config:
    r: {search: categorical, values: [4, 8, 16]}
objective_metric_name: eval_loss
objective_type: minimize
algorithm_name: hpo-multivariate-tpe
algorithm_settings: {random_state: 3, n_startup_trials: 2}
max_trial_count: 8
parallel_trial_count: 2
resources_per_trial: {gpu: 1, cpu: 2, memory: 8Gi}
"""
_TYPES = {"double": api.DOUBLE, "int": api.INT, "categorical": api.CATEGORICAL}
_TYPES["discrete"] = api.DISCRETE
_DISTRIBUTIONS = {"uniform": api.UNIFORM, "logUniform": api.LOG_UNIFORM}
_CONDITIONS = {
    "Succeeded": api.TrialStatus.SUCCEEDED,
    "Running": api.TrialStatus.RUNNING,
    "Failed": api.TrialStatus.FAILED,
    "EarlyStopped": api.TrialStatus.EARLYSTOPPED,
}


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """What the generator reads to render: templates, images and clusters; no experiments."""
    for item in ("templates", "images.yaml", "argocd/clusters.yaml"):
        target = tmp_path / item
        target.parent.mkdir(parents=True, exist_ok=True)
        copy = shutil.copytree if (REPO / item).is_dir() else shutil.copy
        copy(REPO / item, target)
    (tmp_path / "experiments").mkdir()
    return tmp_path


def render(root: Path, text: str = DEFINITION) -> tuple[dict, dict]:
    """The rendered Experiment and storage-init Job of a definition (which must be valid)."""
    report = check_definition_text(
        text, "experiments/tuned/experiment.yaml", "tuned", root, load_repo_config(root)
    )
    errors = [str(p) for p in report.problems if p.is_error]
    assert not errors, errors
    objects = report.rendered.objects
    job = next(o for o in objects if o["metadata"]["name"].endswith("-storage-init"))
    return report.rendered.object_of_kind("Experiment"), job


def experiment_message(experiment: dict) -> api.Experiment:
    """The Experiment as Katib's suggestion controller sends it."""
    spec = experiment["spec"]
    objective = spec["objective"]
    parameters = []
    for p in spec["parameters"]:
        space = p["feasibleSpace"]
        parameters.append(
            api.ParameterSpec(
                name=p["name"],
                parameter_type=_TYPES[p["parameterType"]],
                feasible_space=api.FeasibleSpace(
                    min=space.get("min", ""),
                    max=space.get("max", ""),
                    step=space.get("step", ""),
                    list=space.get("list", []),
                    distribution=_DISTRIBUTIONS[space.get("distribution", "uniform")],
                ),
            )
        )
    algorithm = spec["algorithm"]
    return api.Experiment(
        name=experiment["metadata"]["name"],
        spec=api.ExperimentSpec(
            parameter_specs=api.ExperimentSpec.ParameterSpecs(parameters=parameters),
            objective=api.ObjectiveSpec(
                type=api.MINIMIZE if objective["type"] == "minimize" else api.MAXIMIZE,
                objective_metric_name=objective["objectiveMetricName"],
                additional_metric_names=objective.get("additionalMetricNames", []),
            ),
            algorithm=api.AlgorithmSpec(
                algorithm_name=algorithm["algorithmName"],
                algorithm_settings=[
                    api.AlgorithmSetting(name=s["name"], value=s["value"])
                    for s in algorithm.get("algorithmSettings", [])
                ],
            ),
            parallel_trial_count=spec["parallelTrialCount"],
            max_trial_count=spec["maxTrialCount"],
        ),
    )


def trial_message(name: str, assignments: dict, condition: str, metrics: dict) -> api.Trial:
    return api.Trial(
        name=name,
        spec=api.TrialSpec(
            parameter_assignments=api.TrialSpec.ParameterAssignments(
                assignments=[
                    api.ParameterAssignment(name=k, value=v) for k, v in assignments.items()
                ]
            )
        ),
        status=api.TrialStatus(
            condition=_CONDITIONS[condition],
            observation=api.Observation(
                metrics=[api.Metric(name=k, value=str(v)) for k, v in metrics.items()]
            ),
        ),
    )


@pytest.fixture
def service():
    """A Suggestion stub talking to the service on a free loopback port."""
    server, port = serve(0, host="127.0.0.1")
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield api_grpc.SuggestionStub(channel)
    server.stop(None)
