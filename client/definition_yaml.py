"""Write a definition as a person would: fixed key order, sections as blocks, small maps inline.

The output reads like the hand-written examples (`learning_rate: {search: double, min: 1.0e-5,
max: 5.0e-5}`, `save_strategy: "no"`), is the same for the same input, and loads back through
`generator.loading.yamlload` (YAML 1.2) and through plain YAML 1.1 readers to the same values: a
string is quoted whenever either reading of it unquoted would differ.
"""

from __future__ import annotations

import json
import math
from typing import Any

import yaml

from generator.loading.yamlload import resolve_plain_scalar
from generator.spec import ExperimentSpec

INDENT = "  "
MAX_LINE = 100

# Key order per section, as in DESIGN.md's example; keys not listed keep their given order.
KEY_ORDER: dict[tuple[str, ...], list[str]] = {
    (): list(ExperimentSpec.model_fields),
    ("model_provider_parameters",): [
        "model_uri",
        "revision",
        "transformer_type",
        "num_labels",
        "access_token",
        "endpoint_url",
        "region_name",
        "access_key",
        "secret_key",
    ],
    ("dataset_provider_parameters",): [
        "repo_id",
        "revision",
        "access_token",
        "endpoint_url",
        "bucket_name",
        "file_key",
        "region_name",
        "access_key",
        "secret_key",
        "split",
        "eval_split",
    ],
    ("trainer_parameters",): [
        "training_parameters",
        "lora_config",
        "columns",
        "max_length",
        "save_adapter",
        "exact_training_arguments",
    ],
    ("resources_per_trial",): ["gpu", "cpu", "memory", "num_workers", "num_procs_per_worker"],
}
# Sections always written as indented blocks, even when every value in them is a scalar.
BLOCK_SECTIONS = {
    (),
    ("model_provider_parameters",),
    ("dataset_provider_parameters",),
    ("trainer_parameters",),
    ("trainer_parameters", "training_parameters"),
    ("trainer_parameters", "lora_config"),
    ("early_stopping",),
}


def ordered(data: dict[str, Any], path: tuple[str, ...] = ()) -> dict[str, Any]:
    """`data` with every mapping's keys in definition order."""
    order = KEY_ORDER.get(path, [])
    keys = [k for k in order if k in data] + [k for k in data if k not in order]
    return {
        k: ordered(data[k], path + (k,)) if isinstance(data[k], dict) else data[k] for k in keys
    }


def format_float(value: float) -> str:
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value)
    if value and abs(value) < 1e-3:  # 2.0e-4 reads better than 0.0002
        digits = 0
        while float(text := f"{value:.{digits}e}") != value:
            digits += 1
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    if "." not in mantissa:  # YAML 1.1 readers need the dot to see a float
        mantissa += ".0"
    power = int(exponent)
    return f"{mantissa}e{'-' if power < 0 else '+'}{abs(power)}"


def _plain_is_safe(text: str, in_flow: bool) -> bool:
    if not text or text != text.strip() or "\n" in text:
        return False
    if resolve_plain_scalar(text) != text:  # a number, bool or null under YAML 1.2
        return False
    try:  # the same text where it stands, read by a YAML 1.1 reader
        if in_flow:
            return yaml.safe_load(f"k: [{text}]") == {"k": [text]} and yaml.safe_load(
                f"k: {{{text}: {text}}}"
            ) == {"k": {text: text}}
        return yaml.safe_load(f"{text}: {text}") == {text: text}
    except yaml.YAMLError:
        return False


def scalar(value: Any, in_flow: bool = False) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_float(value)
    if isinstance(value, str):
        safe = _plain_is_safe(value, in_flow)
        return value if safe else json.dumps(value, ensure_ascii=False)
    raise TypeError(f"cannot write {type(value).__name__} {value!r} into a definition")


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, dict | list)


def _is_simple(value: Any) -> bool:
    """A list or map of scalars, or a map of scalars and scalar lists: fits on one line."""
    if isinstance(value, list):
        return all(_is_scalar(v) for v in value)
    if isinstance(value, dict):
        return all(_is_scalar(v) or isinstance(v, list) and _is_simple(v) for v in value.values())
    return True


def flow(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{scalar(k, True)}: {flow(v)}" for k, v in value.items()) + "}"
    return scalar(value, in_flow=True)


def _block(data: Any, path: tuple, depth: int) -> list[str]:
    pad = INDENT * depth
    lines: list[str] = []
    items = data.items() if isinstance(data, dict) else enumerate(data)
    for key, value in items:
        lead = f"{pad}{scalar(key)}:" if isinstance(data, dict) else f"{pad}-"
        if _is_scalar(value):
            lines.append(f"{lead} {scalar(value)}")
            continue
        inline = f"{lead} {flow(value)}"
        one_line = (path + (key,)) not in BLOCK_SECTIONS and _is_simple(value)
        if not value or one_line and len(inline) <= MAX_LINE:
            lines.append(inline)
        else:
            lines.append(lead)
            lines.extend(_block(value, path + (key,), depth + 1))
    return lines


def dump_definition(data: dict[str, Any]) -> str:
    """The definition text for `data` (a mapping in definition form)."""
    return "\n".join(_block(ordered(data), (), 0)) + "\n"
