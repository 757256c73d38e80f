"""ExperimentSpec -> the flat parameters the jsonnet templates render.

Everything derived lives here (cache folders, typed trainer arguments, Katib parameters, the
trial's launcher), so templates only arrange objects and a reviewer can read both in one sitting.
"""

from __future__ import annotations

import base64
import json
from pathlib import PurePosixPath

from generator.checks.asha import plan_of, volume_size
from generator.checks.cost import trial_deadline_seconds
from generator.loading.definition import DefinitionRecord
from generator.loading.repo_config import Cluster, ResultsTarget
from generator.rendering import asha
from generator.rendering.external_secrets import external_secrets, secret_names
from generator.spec import (
    DoubleSearch,
    ExperimentSpec,
    IntSearch,
    SecretRef,
    is_search,
)
from generator.validate.shell_safety import SHELL_INERT
from storage_init.cache import Source
from storage_init.cache import cache_folder as storage_cache_folder
from suggestion.space import katib_text

WORKSPACE = "/workspace"
CACHE_DIR = f"{WORKSPACE}/cache"
TRIAL_NAME_PARAMETER = "trialName"
# The volume shares the download Job's wave: with WaitForFirstConsumer storage classes a claim
# binds only once a pod uses it, and Argo CD would otherwise wait on a Pending claim forever
# (within a wave it still applies the claim before the Job). The results Job shares the
# Experiment's wave: Argo CD never passes a Degraded wave, and a failed experiment must still
# report; the Job itself waits for the Experiment to finish. On a cluster with a secret store the
# ExternalSecrets come first: Argo CD waits until ESO has created every Secret (their health) before
# it starts anything that mounts one.
SYNC_WAVES = {"credentials": "0", "volume": "1", "download": "1", "experiment": "2", "results": "2"}


def model_source(spec: ExperimentSpec) -> Source:
    model = spec.model_provider_parameters
    return Source(uri=model.source_uri, revision=model.revision, endpoint_url=model.endpoint_url)


def dataset_source(spec: ExperimentSpec) -> Source:
    dataset = spec.dataset_provider_parameters
    return Source(
        uri=dataset.source_uri,
        revision=dataset.revision,
        endpoint_url=getattr(dataset, "endpoint_url", None),
        split=dataset.split,
        eval_split=dataset.eval_split,
    )


def cache_folder(kind: str, source: Source) -> str:
    """Where the download Job leaves this input on the experiment volume."""
    return PurePosixPath(storage_cache_folder(CACHE_DIR, kind, source)).as_posix()


def _typed_fixed(value) -> tuple[str, str]:
    """(type, text) of a fixed value; anything the trial's shell would alter goes as json64."""
    if isinstance(value, bool):
        return "bool", "true" if value else "false"
    if isinstance(value, int):
        return "int", str(value)
    if isinstance(value, float):
        return "float", katib_text(value)
    if isinstance(value, str) and SHELL_INERT.match(value):
        return "str", value
    encoded = json.dumps(value, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return "json64", base64.urlsafe_b64encode(encoded).decode("ascii").rstrip("=")


def search_value_type(space) -> str:
    """The trainer-side type of a tuned value."""
    if isinstance(space, DoubleSearch):
        return "float"
    if isinstance(space, IntSearch):
        return "int"
    kinds = {type(v) for v in space.values}  # one type, as hpo check requires
    if kinds == {int, float}:
        return "float"  # a discrete space such as [1, 2.5]
    return {bool: "bool", int: "int", float: "float"}.get(kinds.pop(), "str")


def _trainer_args(spec: ExperimentSpec) -> list[str]:
    trainer = spec.trainer_parameters
    model = spec.model_provider_parameters
    args = [
        "--model-dir",
        cache_folder("model", model_source(spec)),
        "--dataset-dir",
        cache_folder("dataset", dataset_source(spec)),
        "--output-dir",
        f"{WORKSPACE}/trials/${{trialParameters.{TRIAL_NAME_PARAMETER}}}",
        "--transformer-type",
        model.transformer_type,
    ]
    if model.num_labels is not None:
        args += ["--num-labels", str(model.num_labels)]
    if trainer.max_length is not None:
        args += ["--max-length", str(trainer.max_length)]
    if trainer.save_adapter:
        args.append("--save-adapter")
    if trainer.exact_training_arguments:
        args.append("--exact-training-arguments")
    for role, column in trainer.columns.items():
        args += ["--column", f"{role}={column}"]
    for flag, values in (
        ("--training", trainer.training_parameters),
        ("--lora", trainer.lora_config),
    ):
        for key, value in values.items():
            if is_search(value):
                args += [flag, f"{key}:{search_value_type(value)}=${{trialParameters.{key}}}"]
            else:
                kind, text = _typed_fixed(value)
                args += [flag, f"{key}:{kind}={text}"]
    return args


def trial_kind(spec: ExperimentSpec, cluster: Cluster | None) -> str:
    """The object each trial is: the cluster's trial API says which, the nodes say the rest."""
    if cluster is not None and cluster.trial_api == "TrainJob":
        return "TrainJob"
    return "PyTorchJob" if spec.resources_per_trial.num_workers > 1 else "Job"


def _launcher(spec: ExperimentSpec, kind: str) -> list[str]:
    """python for one process; torchrun for several GPUs or nodes."""
    resources = spec.resources_per_trial
    procs = resources.procs_per_worker
    if kind == "TrainJob":
        # Trainer v2's torch runtime sets the nodes, the processes per node, the node's rank and
        # the master as PET_* variables, which torchrun reads for its own flags.
        return ["torchrun", "--module", "trainer"]
    if resources.num_workers > 1:
        # PyTorchJob provides the master address and node rank as PET_* variables to torchrun.
        return [
            "torchrun",
            f"--nnodes={resources.num_workers}",
            f"--nproc-per-node={procs}",
            "--module",
            "trainer",
        ]
    if procs > 1:
        return ["torchrun", "--standalone", f"--nproc-per-node={procs}", "--module", "trainer"]
    return ["python", "-m", "trainer"]


def _secret(ref: SecretRef, names: dict[str, str]) -> dict:
    """{secret, key} as the rendered objects name it: the experiment's own copy of the Secret on
    a cluster with a secret store (generator.rendering.external_secrets), else as written."""
    return {"secret": names.get(ref.secret, ref.secret), "key": ref.key}


def _env_var(name: str, value: str | SecretRef, names: dict[str, str]) -> dict:
    if isinstance(value, SecretRef):
        ref = _secret(value, names)
        return {
            "name": name,
            "valueFrom": {"secretKeyRef": {"name": ref["secret"], "key": ref["key"]}},
        }
    return {"name": name, "value": value}


def _fetch_container(
    kind: str, source: Source, location, token_env: str, names: dict[str, str]
) -> dict:
    args = ["--uri", source.uri]
    for flag, value in (
        ("--revision", source.revision),
        ("--endpoint-url", source.endpoint_url),
        ("--region", getattr(location, "region_name", None)),
        ("--split", source.split),
        ("--eval-split", source.eval_split),
    ):
        if value is not None:
            args += [flag, value]
    env = []
    if getattr(location, "access_token", None) is not None:
        env.append(_env_var(token_env, location.access_token, names))
    if getattr(location, "access_key", None) is not None:
        env.append(_env_var("AWS_ACCESS_KEY_ID", location.access_key, names))
    if getattr(location, "secret_key", None) is not None:
        env.append(_env_var("AWS_SECRET_ACCESS_KEY", location.secret_key, names))
    return {
        "name": f"fetch-{kind}",
        "command": ["python", "-m", "storage_init", kind],
        "args": args + ["--cache-dir", CACHE_DIR],
        "env": env,
    }


def _checkpoints_mount(spec: ExperimentSpec, volume: dict | None) -> dict | None:
    """The experiment's own checkpoints folder, which the results Job empties once the
    Experiment has finished: only under hpo-asha, with a volume it can mount, and when the
    Experiment cannot be resumed later (resume_policy Never), since resuming would promote
    configurations from these checkpoints."""
    if plan_of(spec) is None or volume is None or spec.resume_policy != "Never":
        return None
    return {"subPath": f"{asha.CHECKPOINTS}/{spec.name}", "mountPath": "/checkpoints"}


def _results_volume(storage: dict, name: str) -> dict | None:
    """The claim the download Job writes, as the results Job mounts it; None for a claim only one
    pod may mount (ReadWriteOncePod), which the results Job must not take from the trials."""
    if storage["existingClaim"] is None and storage["accessModes"] == ["ReadWriteOncePod"]:
        return None
    return {
        "claimName": storage["existingClaim"] or name,
        "mountPath": storage["mountPath"],
        "cacheDir": CACHE_DIR,
    }


def manifest_params(
    definition: DefinitionRecord,
    images: dict[str, str],
    cluster: Cluster | None,
    generated_settings: dict[str, str] | None = None,
    protect: bool = True,
) -> dict:
    """The top-level argument of templates/experiment.jsonnet. `generated_settings` are the
    algorithm settings the generator writes for the project's suggestion service (several
    objectives, warm start: generator.rendering.warm_start). `protect`: whether a sync may
    never delete the Experiment (false while it is being archived)."""
    generated_settings = generated_settings or {}
    spec = definition.spec
    kind = trial_kind(spec, cluster)
    resources = spec.resources_per_trial
    parameters = spec.search_parameters()
    plan = plan_of(spec)
    args = _trainer_args(spec)
    additional, strategies = spec.katib_additional_metrics, spec.effective_metric_strategies
    if plan is not None:
        # hpo-asha: two parameters the policy sets, the trainer's rung flags, the rung's value.
        parameters += asha.rung_parameters(spec, plan)
        args += asha.rung_args(spec, plan, WORKSPACE)
        additional, strategies = asha.objective_metrics(spec)
    images = {**images, **spec.images.model_dump(exclude_none=True)}
    dataset = spec.dataset_provider_parameters
    names = secret_names(spec, cluster)
    params = {
        "name": spec.name,
        "namespace": spec.namespace,
        "syncWaves": SYNC_WAVES,
        "images": {"trainer": images["trainer"], "storageInit": images["storage_init"]},
        "storage": _storage(spec),
        "download": {
            "containers": [
                _fetch_container(
                    "model", model_source(spec), spec.model_provider_parameters, "HF_TOKEN", names
                ),
                _fetch_container("dataset", dataset_source(spec), dataset, "HF_TOKEN", names),
            ],
        },
        "objective": _objective(spec, additional, strategies),
        "algorithm": _algorithm(spec, generated_settings),
        "earlyStopping": _early_stopping(spec),
        "maxTrialCount": spec.max_trial_count,
        "parallelTrialCount": spec.effective_parallel_trial_count,
        "maxFailedTrialCount": spec.max_failed_trial_count,
        "resumePolicy": spec.resume_policy,
        "protect": protect,
        "parameters": [p.katib() for p in parameters],
        "trialParameters": [{"name": p.name, "reference": p.name} for p in parameters]
        + [{"name": TRIAL_NAME_PARAMETER, "reference": "${trialSpec.Name}"}],
        "trial": {
            "kind": kind,
            "trainingRuntime": None if cluster is None else cluster.training_runtime,
            "numWorkers": resources.num_workers,
            "procsPerWorker": resources.procs_per_worker,
            "command": _launcher(spec, kind),
            "args": args,
            "env": [_env_var(k, v, names) for k, v in spec.env_per_trial.items()],
            "resources": {"cpu": resources.cpu, "memory": resources.memory, "gpu": resources.gpus},
            "activeDeadlineSeconds": trial_deadline_seconds(spec, cluster),
            "retain": spec.retain_trials,
        },
        "results": None,
        # On a cluster with a secret store: the ExternalSecrets that create the Secrets above.
        "externalSecrets": external_secrets(spec, cluster),
    }
    if cluster is not None and cluster.results is not None:
        params["results"] = _results_job(
            definition, images, cluster.results, params["storage"], names
        )
    return params


def _storage(spec: ExperimentSpec) -> dict:
    return {
        "size": volume_size(spec),
        "storageClass": spec.storage_config.storage_class,
        "accessModes": list(spec.storage_config.access_modes),
        "existingClaim": spec.storage_config.existing_claim,
        "mountPath": WORKSPACE,
    }


def _objective(spec: ExperimentSpec, additional: list, strategies: list) -> dict:
    return {
        "type": spec.primary_type,
        "goal": spec.objective_goal,
        "metricName": spec.primary_metric,
        "additionalMetricNames": additional,
        "metricStrategies": strategies,
    }


def _algorithm(spec: ExperimentSpec, generated_settings: dict[str, str]) -> dict:
    """The Experiment's algorithm: the definition's settings as Katib's strings, then the ones
    the generator writes for the project's suggestion service."""
    settings = [{"name": k, "value": katib_text(v)} for k, v in spec.algorithm_settings.items()]
    generated = [{"name": k, "value": v} for k, v in generated_settings.items()]
    return {"name": spec.algorithm_name, "settings": settings + generated}


def _early_stopping(spec: ExperimentSpec) -> dict | None:
    if spec.early_stopping is None:
        return None
    return {
        "name": spec.early_stopping.algorithm_name,
        "settings": [
            {"name": k, "value": katib_text(v)}
            for k, v in spec.early_stopping.algorithm_settings.items()
        ],
    }


def _results_job(
    definition: DefinitionRecord,
    images: dict[str, str],
    target: ResultsTarget,
    storage: dict,
    names: dict[str, str],
) -> dict:
    """The results Job's parameters: where it pushes, its credentials, the definition it types
    Katib's values by, and the volume it reads (and, under hpo-asha, cleans)."""
    spec = definition.spec
    volume = _results_volume(storage, spec.name)
    return {
        "name": spec.name,
        "namespace": spec.namespace,
        "image": images["results"],
        "storageInitImage": images["storage_init"],
        # Read-only, for the download's completion markers: what the inputs resolved to.
        "volume": volume,
        # Read-write, under hpo-asha: the experiment's checkpoints, removed once it ends.
        "checkpoints": _checkpoints_mount(spec, volume),
        # What the results Job types Katib's values and records provenance with.
        "definition": definition.to_json(),
        "syncWave": SYNC_WAVES["results"],
        "git": {
            "url": target.git_url,
            "baseBranch": target.base_branch,
            "forge": target.forge,
            "forgeApiUrl": target.forge_api_url,
            "repo": target.repo,
        },
        "tokenSecret": _secret(target.token, names),
        "sshSecrets": None
        if target.ssh_key is None
        else {
            "key": _secret(target.ssh_key, names),
            "knownHosts": _secret(target.ssh_known_hosts, names),
        },
    }
