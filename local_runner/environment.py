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


def container_env(
    env: Iterable[dict],
    host: Mapping[str, str],
    rewrite: Callable[[str], str],
    container: str,
) -> dict[str, str]:
    """The host environment overlaid with the container's variables, paths rewritten."""
    result = dict(host)
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
        elif name in host or name in CHAIN_RESOLVED:
            continue  # already in the inherited environment, or boto3 will find it
        else:
            raise SecretNotSetError(
                f"container {container} needs {name} from Secret {ref['name']} key "
                f"{ref['key']}: export {local}=... (or {name}) before hpo tune --local"
            )
    return result
