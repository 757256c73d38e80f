"""The seed API's parameter objects, and how any of them becomes a definition section.

`HuggingFaceModelParams`, `HuggingFaceDatasetParams`, `S3DatasetParams` and
`HuggingFaceTrainerParams` here take the same arguments as the kubeflow-training SDK's
classes, plus the definition's additive keys (revision, eval_split, columns, ...), and need
neither that SDK nor transformers. `tune()` reads the SDK's objects, these, or plain mappings
in definition form, all by their fields, so nothing here imports the SDK.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from client.errors import ClientError
from client.search import as_search_space, is_search_value, search_dict
from generator.spec import SecretRef

CREDENTIAL_KEYS = ("access_token", "access_key", "secret_key")
# TrainingArguments fields the seed API needs but the trainer owns: dropped when reading objects.
DROPPED_TRAINING_FIELDS = {"output_dir"}


def secret(name: str, key: str) -> SecretRef:
    """A reference to `key` of the Kubernetes Secret `name` in the experiment's namespace."""
    return SecretRef(secret=name, key=key)


@dataclass
class HuggingFaceModelParams:
    model_uri: str
    transformer_type: Any  # a transformers Auto class or its name
    access_token: SecretRef | Mapping | None = None
    num_labels: int | None = None
    revision: str | None = None
    endpoint_url: str | None = None  # endpoint_url .. secret_key: only for s3:// model URIs
    region_name: str | None = None
    access_key: SecretRef | Mapping | None = None
    secret_key: SecretRef | Mapping | None = None


@dataclass
class HuggingFaceDatasetParams:
    repo_id: str
    access_token: SecretRef | Mapping | None = None
    split: str | None = None
    revision: str | None = None
    eval_split: str | None = None


@dataclass
class S3DatasetParams:
    endpoint_url: str
    bucket_name: str
    file_key: str
    region_name: str | None = None
    access_key: SecretRef | Mapping | None = None
    secret_key: SecretRef | Mapping | None = None
    split: str | None = None
    eval_split: str | None = None


@dataclass
class HuggingFaceTrainerParams:
    training_parameters: Any = None  # transformers.TrainingArguments or a mapping of its fields
    lora_config: Any = None  # peft.LoraConfig or a mapping of its fields
    columns: Mapping[str, str] | None = None
    max_length: int | None = None
    save_adapter: bool | None = None
    exact_training_arguments: bool | None = None
    # TrainingArguments fields written even when equal to the library's default (an explicit
    # bf16=False looks like the default to the object, and the trainer would choose otherwise).
    pinned_training_arguments: list[str] | None = None


def with_search(cls: type, **values: Any) -> Any:
    """`cls(**values)` where some values are search spaces, which `cls.__post_init__` never sees.

    transformers 5 compares and converts several TrainingArguments fields while constructing
    (warmup_steps, logging_steps, save_steps, every enum-typed field), which fails on a search
    space; such fields are constructed at their default and the search space is set afterwards.
    """
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise TypeError(f"{cls.__name__} has no field {', '.join(unknown)}")
    searched = {k: v for k, v in values.items() if is_search_value(v)}
    instance = cls(**{k: v for k, v in values.items() if k not in searched})
    for key, value in searched.items():
        object.__setattr__(instance, key, value)
    return instance


def plain(value: Any) -> Any:
    """A value as the definition writes it: enums by value, sets sorted, tuples as lists."""
    if is_search_value(value):
        return search_dict(as_search_space(value))
    if isinstance(value, SecretRef):
        return value.model_dump()
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if isinstance(value, set | frozenset):
        return sorted(plain(v) for v in value)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def _reference(cls: type, obj: Any) -> Any:
    """A default instance of `cls`; required fields (no default) are taken from `obj`."""
    required = {
        f.name: getattr(obj, f.name)
        for f in dataclasses.fields(cls)
        if f.init and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    return with_search(cls, **required)


def non_default_fields(obj: Any, dropped: set[str] = frozenset()) -> dict[str, Any]:
    """The fields of a dataclass object (TrainingArguments, LoraConfig) a person would have set.

    A field counts when it differs from a default instance and is not derived from the others:
    `eval_strategy="epoch"` makes transformers turn on `do_eval`, which nobody wrote.
    """
    cls = type(obj)
    reference = _reference(cls, obj)
    changed: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if not f.init or f.name.startswith("_") or f.name in dropped:
            continue
        value = getattr(obj, f.name, None)
        if is_search_value(value) or plain(value) != plain(getattr(reference, f.name, None)):
            changed[f.name] = plain(value)
    for name in list(changed):
        if isinstance(changed[name], dict) and "search" in changed[name]:
            continue
        others = {k: v for k, v in changed.items() if k != name}
        try:
            rebuilt = with_search(cls, **others)
        except Exception:  # noqa: BLE001 - a combination the library refuses: keep the field
            continue
        if plain(getattr(rebuilt, name, None)) == changed[name]:
            del changed[name]
    return changed


def _credential(section: str, key: str, value: Any) -> Any:
    if isinstance(value, str):
        # Never echo the value: it is a secret that must not reach logs or notebooks either.
        raise ClientError(
            f"{section}.{key}: a literal credential would be committed to Git and written into "
            f"the Kubernetes manifests; store it in a Secret in the experiment's namespace "
            f"(kubectl create secret generic NAME --from-literal=KEY=...) and pass "
            f"{key}=secret('NAME', 'KEY') or {{'secret': 'NAME', 'key': 'KEY'}} instead"
        )
    return plain(value)


def _fields_of(obj: Any, section: str) -> dict[str, Any]:
    """The explicitly given fields of a provider object or mapping, in its own order."""
    if isinstance(obj, Mapping):
        values = dict(obj)
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        values = {
            f.name: getattr(obj, f.name)
            for f in dataclasses.fields(obj)
            if getattr(obj, f.name) != f.default
        }
    else:
        raise ClientError(
            f"{section}: expected a parameters object or a mapping, got {type(obj).__name__}"
        )
    return {k: v for k, v in values.items() if v is not None}


def provider_section(obj: Any, section: str) -> dict[str, Any]:
    """model_provider_parameters or dataset_provider_parameters in definition form."""
    values = _fields_of(obj, section)
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key in CREDENTIAL_KEYS:
            out[key] = _credential(section, key, value)
        elif key == "transformer_type" and isinstance(value, type):
            out[key] = value.__name__  # the seed passes the class itself
        else:
            out[key] = plain(value)
    return out


def _tunable_section(value: Any, dropped: set[str]) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return non_default_fields(value, dropped)
    raise ClientError(
        f"expected a TrainingArguments/LoraConfig object or a mapping, got {type(value).__name__}"
    )


def trainer_section(obj: Any) -> dict[str, Any]:
    """trainer_parameters in definition form, from HuggingFaceTrainerParams or a mapping."""
    if isinstance(obj, Mapping):
        values = dict(obj)
    else:
        values = {
            f.name: getattr(obj, f.name)
            for f in dataclasses.fields(obj)  # the SDK's class has only the first two
        }
    pinned = values.pop("pinned_training_arguments", None) or []
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key == "training_parameters":
            dropped = set() if isinstance(value, Mapping) else DROPPED_TRAINING_FIELDS
            section = _tunable_section(value, dropped)
            section.update(_pinned(value, pinned, section))
        elif key == "lora_config":
            section = _tunable_section(value, set())
        else:
            section = plain(value)
        if section not in (None, {}):
            out[key] = section
    return out


def _pinned(arguments: Any, names: list[str], written: dict[str, Any]) -> dict[str, Any]:
    """The pinned fields of a TrainingArguments object that `written` left out as defaults."""
    if not names:
        return {}
    if arguments is None or isinstance(arguments, Mapping):
        raise ClientError(
            "pinned_training_arguments: only for a TrainingArguments object (a mapping writes "
            "every key it holds)"
        )
    fields = {f.name for f in dataclasses.fields(arguments)}
    unknown = sorted(set(names) - fields)
    if unknown:
        raise ClientError(
            f"pinned_training_arguments: TrainingArguments has no field {', '.join(unknown)}"
        )
    return {name: plain(getattr(arguments, name)) for name in names if name not in written}


def tune_arguments(spec: Any, *, library_objects: bool = False) -> dict[str, Any]:
    """The tune() keyword arguments that write `spec` back, key for key (the round trip).

    Only keys the definition sets are returned. With `library_objects`, training_parameters
    and lora_config become transformers.TrainingArguments and peft.LoraConfig objects; those
    cannot tell a value written equal to its default from an unwritten one, so such keys drop.
    """
    given = spec.to_document()
    dataset = given.pop("dataset_provider_parameters")
    dataset_class = S3DatasetParams if "bucket_name" in dataset else HuggingFaceDatasetParams
    given["model_provider_parameters"] = HuggingFaceModelParams(
        **_secrets_as_refs(given.pop("model_provider_parameters"))
    )
    given["dataset_provider_parameters"] = dataset_class(**_secrets_as_refs(dataset))
    trainer = given.pop("trainer_parameters", {})
    if library_objects:
        from peft import LoraConfig
        from transformers import TrainingArguments

        for key, cls in (("training_parameters", TrainingArguments), ("lora_config", LoraConfig)):
            values = {
                k: as_search_space(v) if is_search_value(v) else v
                for k, v in trainer.get(key, {}).items()
            }
            trainer[key] = with_search(cls, **values)
    given["trainer_parameters"] = HuggingFaceTrainerParams(**trainer)
    return given


def _secrets_as_refs(values: dict[str, Any]) -> dict[str, Any]:
    return {k: SecretRef(**v) if k in CREDENTIAL_KEYS else v for k, v in values.items()}
