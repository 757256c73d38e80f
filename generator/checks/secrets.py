"""Credentials written as values: found by what they look like, wherever they stand.

Names catch `access_token: hf_...` and `WANDB_API_KEY: ...`; they miss a token under a name that
says nothing (`env_per_trial: {MY_SETTING: hf_...}`) or inside another value
(`endpoint_url: https://AKIA...:secret@host`). `scan` walks every string of a loaded YAML
document or a Kubernetes object, keys included, and reports each one that has the shape of a
credential. A `Hit` says where and what kind, never the value: messages built from it are printed
in CI logs. `redact` removes the unmistakable shapes from any text that is about to be printed.

Shapes, each matched anywhere in a string:
- provider tokens by their fixed prefixes: Hugging Face (hf_), GitHub (ghp_, gho_, ghu_, ghs_,
  ghr_, github_pat_), GitLab (glpat-), AWS access key ids (AKIA, ASIA);
- private key blocks (-----BEGIN ... PRIVATE KEY-----);
- a password in a URL (scheme://user:password@host), unless the password is a variable
  reference such as $(GIT_TOKEN);
- an AWS secret access key: 40 base64 characters standing beside an access key id, or under a
  key or variable whose name says it is secret;
- in environment values only: a long random-looking run of characters (Shannon entropy).

Commit shas, image digests, UUIDs, cache keys and json64 trial arguments are hexadecimal,
structured or decode to JSON, and are not reported.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections import Counter
from dataclasses import dataclass, replace

from generator.errors import Problem
from generator.loading.yamlload import LocatedDocument
from generator.validate import Finding, dotted

HF_TOKEN = "a Hugging Face access token"
AWS_KEY_ID = "an AWS access key id"
AWS_SECRET = "an AWS secret access key"
GITHUB_TOKEN = "a GitHub token"
GITLAB_TOKEN = "a GitLab access token"
PRIVATE_KEY = "a private key"
URL_PASSWORD = "a password in a URL (user:password@host)"
RANDOM_SECRET = "a secret (a long random-looking value in an environment variable)"

# Shapes that are credentials wherever they appear, in the order they are tried.
PATTERNS: tuple[tuple[str, re.Pattern], ...] = (
    (HF_TOKEN, re.compile(r"(?<![A-Za-z0-9])hf_[A-Za-z0-9]{30,}")),
    (AWS_KEY_ID, re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])")),
    (
        GITHUB_TOKEN,
        re.compile(r"(?<![A-Za-z0-9])(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{22,})"),
    ),
    (GITLAB_TOKEN, re.compile(r"(?<![A-Za-z0-9])glpat-[\w-]{20,}")),
    (PRIVATE_KEY, re.compile(r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----")),
)
# user:password@ after a scheme; the password group is checked against variable references.
URL_CREDENTIALS = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]+:(?P<password>[^/\s@]+)@")
VARIABLE_REFERENCE = re.compile(r"^(?:\$\([\w.]+\)|\$\{[\w.]+\}|\$[A-Za-z_]\w*)$")
AWS_KEY_ID_SHAPE = PATTERNS[1][1]
AWS_SECRET_SHAPE = re.compile(r"^[A-Za-z0-9/+]{40}$")
SECRET_NAME = re.compile(
    r"SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE|CREDENTIAL", re.IGNORECASE
)

# Runs of token characters inside an environment value, and how random one must look: random
# base62 text of 20 characters scores 3.5 bits per character or more in 99% of draws, longer
# text more (the estimate grows with the length); words joined by '_', '-' or '.' are split
# into short runs and never qualify.
TOKEN_RUN = re.compile(r"[A-Za-z0-9+/]{20,}={0,2}")
BASE64_WORD = re.compile(r"[A-Za-z0-9_+/-]{16,}={0,2}")  # json64 is url-safe base64
MIN_ENTROPY = 3.5
ENTROPY_PER_LENGTH = 0.8  # of log2(length): 4.0 bits at 32 characters, 4.3 at 40
HEX = re.compile(r"^[0-9a-fA-F]+$")

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Hit:
    path: Path  # where the string is: the value at path, or the key path[-1] when in_key
    kind: str
    in_key: bool = False


def shannon_entropy(text: str) -> float:
    """Bits per character of `text`'s own character frequencies."""
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def _decodes_to_json(text: str) -> bool:
    """base64 (standard or url-safe, padded or not) of a JSON document: a json64 argument."""
    padded = text.replace("+", "-").replace("/", "_") + "=" * (-len(text) % 4)
    try:
        json.loads(base64.urlsafe_b64decode(padded))
    except (binascii.Error, ValueError):  # UnicodeDecodeError is a ValueError
        return False
    return True


def looks_random(run: str) -> bool:
    """A run of token characters that is random enough to be a generated secret."""
    if HEX.match(run) or not re.search(r"[0-9]", run) or not re.search(r"[A-Za-z]", run):
        return False  # shas and digests are hex; generated tokens mix letters and digits
    threshold = max(MIN_ENTROPY, ENTROPY_PER_LENGTH * math.log2(len(run)))
    return shannon_entropy(run) >= threshold


def random_runs(text: str) -> list[str]:
    """The runs of `text` that look random, json64 (base64 of JSON) set aside."""
    rest = BASE64_WORD.sub(lambda m: " " if _decodes_to_json(m[0]) else m[0], text)
    return [run for run in TOKEN_RUN.findall(rest) if looks_random(run)]


def string_hits(text: str) -> list[str]:
    """The kinds of context-free credential `text` contains (each kind once)."""
    kinds = [kind for kind, pattern in PATTERNS if pattern.search(text)]
    for match in URL_CREDENTIALS.finditer(text):
        if not VARIABLE_REFERENCE.match(match["password"]):
            kinds.append(URL_PASSWORD)
            break
    return kinds


def _is_aws_secret(text: str) -> bool:
    return (
        bool(AWS_SECRET_SHAPE.match(text))
        and not HEX.match(text)
        and all(re.search(c, text) for c in ("[A-Z]", "[a-z]", "[0-9]"))
    )


def _is_env_value(path: Path) -> bool:
    """env_per_trial.NAME in a definition; env[i].value of a container (or a TrainJob trainer)."""
    if len(path) == 2 and path[0] == "env_per_trial":
        return True
    return (
        len(path) >= 3 and path[-1] == "value" and isinstance(path[-2], int) and path[-3] == "env"
    )


def _value_hits(text: str, path: Path, secret_named: bool, beside_key_id: bool) -> list[Hit]:
    kinds = string_hits(text)
    if not kinds and (secret_named or beside_key_id) and _is_aws_secret(text.strip()):
        kinds.append(AWS_SECRET)
    if not kinds and _is_env_value(path) and random_runs(text):
        kinds.append(RANDOM_SECRET)
    return [Hit(path, kind) for kind in kinds]


def _holds_key_id(node: object) -> bool:
    """A mapping with an access key id among its values, or an env list with one."""
    if isinstance(node, dict):
        values = list(node.values())
    elif isinstance(node, list):
        values = [item.get("value") for item in node if isinstance(item, dict)]
    else:
        return False
    return any(isinstance(v, str) and AWS_KEY_ID_SHAPE.search(v) for v in values)


def scan(data: object, path: Path = ()) -> list[Hit]:
    """Every credential-shaped string in a loaded YAML document or object, keys included."""
    hits: list[Hit] = []
    _walk(data, path, False, False, hits)
    return hits


def _walk(node: object, path: Path, secret_named: bool, beside_key_id: bool, hits: list) -> None:
    if isinstance(node, str):
        hits.extend(_value_hits(node, path, secret_named, beside_key_id))
    elif isinstance(node, dict):
        key_id_here = _holds_key_id(node)
        # An env entry {name, value}: its name is what says whether the value is secret.
        env_name = node.get("name") if "value" in node else None
        for key, value in node.items():
            hits.extend(Hit(path + (key,), kind, in_key=True) for kind in string_hits(str(key)))
            named = bool(SECRET_NAME.search(str(key)))
            if key == "value" and isinstance(env_name, str):
                named = named or bool(SECRET_NAME.search(env_name))
            _walk(value, path + (key,), named, key_id_here or beside_key_id, hits)
    elif isinstance(node, list):
        key_id_here = _holds_key_id(node)
        for i, item in enumerate(node):
            _walk(item, path + (i,), secret_named, key_id_here or beside_key_id, hits)


def advice(kind: str, reference: str) -> str:
    """What to do about a credential of `kind`; `reference` is how the place refers to a Secret."""
    if kind == URL_PASSWORD:
        return (
            f"take user:password out of the URL, put the credential in a Secret and reference "
            f"it as {reference}"
        )
    where = "the manifests" if reference == DEFINITION_REFERENCE else "the cluster's objects"
    return (
        f"a credential written here is committed to Git and copied into {where}: put it in a "
        f"Secret (kubectl create secret generic NAME --from-literal=KEY=...) and reference it "
        f"as {reference}"
    )


REDACTED = "[redacted]"


def redact(text: str) -> str:
    """`text` with every unmistakable credential shape replaced, for printing."""
    text = re.sub(
        r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----.*?(?:-----END[A-Z0-9 ]*-----|$)",
        REDACTED,
        text,
        flags=re.DOTALL,
    )
    for _, pattern in PATTERNS:
        text = pattern.sub(REDACTED, text)
    return URL_CREDENTIALS.sub(
        lambda m: (
            m[0] if VARIABLE_REFERENCE.match(m["password"]) else _scheme(m[0]) + REDACTED + "@"
        ),
        text,
    )


def _scheme(matched: str) -> str:
    return matched[: matched.index("://") + 3]


DEFINITION_REFERENCE = "{secret: NAME, key: KEY}"
OBJECT_REFERENCE = "valueFrom.secretKeyRef (in a definition: {secret: NAME, key: KEY})"


def grouped(hits: list[Hit]) -> list[tuple[Path, bool, list[str]]]:
    """(path, in_key, kinds) once per place, in the order found."""
    places: dict[tuple[Path, bool], list[str]] = {}
    for hit in hits:
        kinds = places.setdefault((hit.path, hit.in_key), [])
        if hit.kind not in kinds:
            kinds.append(hit.kind)
    return [(path, in_key, kinds) for (path, in_key), kinds in places.items()]


def hit_message(in_key: bool, kinds: list[str], reference: str) -> str:
    """What credentials found at one place look like, and what to do; never the value."""
    kind = URL_PASSWORD if URL_PASSWORD in kinds else kinds[0]
    what = "this key" if in_key else "this"
    return f"{what} looks like {' and '.join(kinds)}; {advice(kind, reference)}"


def document_problems(doc: LocatedDocument) -> list[Problem]:
    """A definition's credential-shaped strings, each at its position, naming the field."""
    problems = []
    for path, in_key, kinds in grouped(scan(doc.data)):
        if in_key:  # the key itself is the credential: name where it stands, not the key
            where = f"a key of {dotted(path[:-1])}" if path[:-1] else "a top-level key"
        else:
            where = dotted(path) or "the document"
        message = f"{redact(where)}: {hit_message(False, kinds, DEFINITION_REFERENCE)}"
        problems.append(doc.problem(path, message, at_key=in_key))
    return problems


def object_findings(obj: object) -> list[Finding]:
    """An object's credential-shaped strings as findings (the caller prefixes the path)."""
    return [
        Finding(path, hit_message(in_key, kinds, OBJECT_REFERENCE))
        for path, in_key, kinds in grouped(scan(obj))
    ]


def redact_problem(problem: Problem) -> Problem:
    """The problem with any credential its message quotes replaced (a message may quote the
    value it is about: a URL, an image reference, a categorical value)."""
    message = redact(problem.message)
    return problem if message == problem.message else replace(problem, message=message)
