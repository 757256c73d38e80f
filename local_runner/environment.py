"""A container's `env` as local process environment, Secret references included.

A pod reads `valueFrom.secretKeyRef` from a Kubernetes Secret. Locally the value comes from the
variable `HPO_SECRET_<SECRET>_<KEY>` (uppercased, every other character than a letter or a digit
written `_`): `{secret: hf-token, key: token}` is `HPO_SECRET_HF_TOKEN_TOKEN`. When that is not
set but the container's own variable is (HF_TOKEN exported in the shell), that value is used.
AWS keys that are set nowhere are left to boto3's usual chain (profiles, ~/.aws).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

from local_runner.errors import SecretNotSetError

# Variables boto3 finds by itself through its credential chain when they are absent.
CHAIN_RESOLVED = frozenset({"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"})


def secret_variable(secret: str, key: str) -> str:
    """The local variable holding one key of one Secret."""
    return "HPO_SECRET_" + re.sub(r"[^A-Z0-9]", "_", f"{secret}_{key}".upper())


# What a process needs to run at all, and nothing secret: the trial sees these from the host
# plus the variables its container spec names, as a pod would.
NEUTRAL_NAMES = frozenset(
    {"PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "TMPDIR", "TZ", "LANG", "LANGUAGE"}
    | {"PYTHONPATH", "VIRTUAL_ENV", "LD_LIBRARY_PATH", "CUDA_HOME", "TOKENIZERS_PARALLELISM"}
)
NEUTRAL_PREFIXES = ("LC_", "OMP_", "MKL_", "OPENBLAS_", "NUMEXPR_")


def neutral_env(host: Mapping[str, str]) -> dict[str, str]:
    """The host variables a process needs (paths, locale, thread settings), no credentials."""
    return {
        name: value
        for name, value in host.items()
        if name in NEUTRAL_NAMES or name.startswith(NEUTRAL_PREFIXES)
    }


def container_env(
    env: Iterable[dict],
    host: Mapping[str, str],
    rewrite: Callable[[str], str],
    container: str,
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """`base` (the whole host environment when not given) overlaid with the container's
    variables, paths rewritten; Secret references are looked up in `host`."""
    result = dict(host if base is None else base)
    for entry in env:
        name = entry["name"]
        if "value" in entry:
            result[name] = rewrite(str(entry["value"]))
            continue
        ref = (entry.get("valueFrom") or {}).get("secretKeyRef")
        if ref is None:
            raise SecretNotSetError(
                f"container {container}: variable {name} uses a valueFrom other than "
                "secretKeyRef, which has no local equivalent"
            )
        local = secret_variable(ref["name"], ref["key"])
        if local in host:
            result[name] = host[local]
        elif name in host:
            result[name] = host[name]
        elif name in CHAIN_RESOLVED:
            continue  # boto3 finds it through its credential chain
        else:
            raise SecretNotSetError(
                f"container {container} needs {name} from Secret {ref['name']} key "
                f"{ref['key']}: export {local}=... (or {name}) before hpo tune --local"
            )
    return result
