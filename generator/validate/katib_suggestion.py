"""What Katib's suggestion and early-stopping services refuse in an Experiment's settings.

The webhook looks only at the algorithm's name; the service validates `algorithmSettings` once
its Deployment runs, and then fails the whole Experiment. `generator.checks.algorithms` holds the
services' rules for definitions; this applies the same rules to an Experiment object, so a
hand-written manifest given to `hpo check` is held to them too (`random` with `gamma` is refused).
"""

from __future__ import annotations

from generator.checks import algorithms
from generator.spec import DEFAULT_PARALLEL_TRIAL_COUNT
from generator.validate import Finding
from suggestion.space import CHOICE_KINDS, KINDS, Parameter

ALGORITHM = ("spec", "algorithm")
EARLY_STOPPING = ("spec", "earlyStopping")
# Definition field names in the shared messages, as an Experiment spells them.
SPEC_NAMES = {"max_trial_count": "maxTrialCount", "parallel_trial_count": "parallelTrialCount"}


def _settings(section: dict) -> tuple[dict[str, str], dict[str, int]]:
    """name -> value (Katib's strings) and name -> index in algorithmSettings."""
    values, index = {}, {}
    for i, setting in enumerate(section.get("algorithmSettings") or []):
        if isinstance(setting, dict) and isinstance(setting.get("name"), str):
            values[setting["name"]] = str(setting.get("value") or "")
            index[setting["name"]] = i
    return values, index


def _parameter(parameter: object) -> Parameter | None:
    """The search parameter as the rules need it; None when it is not well formed (a bound
    that is not a number of its type, or what the webhook's rules report)."""
    if not isinstance(parameter, dict) or not isinstance(parameter.get("name"), str):
        return None
    kind = parameter.get("parameterType")
    space = parameter.get("feasibleSpace") or {}
    if kind not in KINDS or not isinstance(space, dict):
        return None
    try:
        found = Parameter.from_katib(parameter)
    except (ValueError, TypeError):
        return None
    return found if kind in CHOICE_KINDS or None not in (found.min, found.max) else None


def suggestion_findings(spec: dict) -> list[Finding]:
    """The suggestion service's and medianstop's objections to a (defaulted) Experiment spec."""
    findings = []
    algorithm = spec.get("algorithm") or {}
    name = algorithm.get("algorithmName")
    parameters = [_parameter(p) for p in spec.get("parameters") or []]
    # NAS algorithms search an architecture (nasConfig), not these rules' parameters.
    if name in algorithms.SETTINGS and parameters and all(parameters):
        settings, index = _settings(algorithm)
        problems = algorithms.check_algorithm(
            name,
            settings,
            parameters,
            spec.get("maxTrialCount"),
            spec.get("parallelTrialCount") or DEFAULT_PARALLEL_TRIAL_COUNT,
        )
        for setting, message in problems:
            for old, new in SPEC_NAMES.items():
                message = message.replace(old, new)
            where = ALGORITHM + (
                ("algorithmSettings", index[setting]) if setting in index else ("algorithmName",)
            )
            findings.append(Finding(where, message))
    early = spec.get("earlyStopping")
    if isinstance(early, dict) and early.get("algorithmName") == "medianstop":
        settings, index = _settings(early)
        for setting, message in algorithms.check_settings(
            settings, algorithms.EARLY_STOPPING_SETTINGS, "medianstop"
        ):
            findings.append(
                Finding(EARLY_STOPPING + ("algorithmSettings", index[setting]), message)
            )
    return findings
