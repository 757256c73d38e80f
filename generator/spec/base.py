"""The building blocks of the definition's models: names, quantities, Secret references.

Every model forbids unknown keys and is frozen: a definition is read once and never changed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    field_validator,
)
from pydantic_core import PydanticCustomError

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
SECRET_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_NAME_LENGTH = 40  # Katib's webhook limit for Experiment names
DEFAULT_PARALLEL_TRIAL_COUNT = 3  # what Katib's webhook fills in when the field is absent

# NaN and infinity are never meaningful here, and would reach JSON and Katib as invalid text.
FiniteFloat = Annotated[StrictFloat, Field(allow_inf_nan=False)]
Scalar = StrictBool | StrictInt | FiniteFloat | StrictStr
PositiveNumber = Annotated[StrictInt | FiniteFloat, Field(gt=0)]


def positive_quantity(text: str) -> bool:
    return bool(QUANTITY.match(text)) and float(re.sub(r"[a-zA-Z]+$", "", text)) > 0


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def is_dns_subdomain(v: str) -> bool:
    """Kubernetes' rule for most object names: a lowercase DNS-1123 subdomain."""
    return bool(DNS1123_SUBDOMAIN.match(v)) and len(v) <= 253


def secret_name(v: str) -> str:
    if not is_dns_subdomain(v):
        raise ValueError(f"'{v}' is not a valid Secret name (lowercase DNS-1123 subdomain)")
    return v


def secret_key(v: str) -> str:
    if not SECRET_KEY.match(v):
        raise ValueError(f"'{v}' is not a valid Secret key (letters, digits, '-', '_', '.')")
    return v


SecretName = Annotated[StrictStr, AfterValidator(secret_name)]
SecretKey = Annotated[StrictStr, AfterValidator(secret_key)]


class SecretRef(Strict):
    """A key of a Kubernetes Secret in the experiment's namespace."""

    secret: str
    key: str

    @field_validator("secret")
    @classmethod
    def _secret_name(cls, v: str) -> str:
        return secret_name(v)

    @field_validator("key")
    @classmethod
    def _secret_key(cls, v: str) -> str:
        return secret_key(v)


def _refuse_literal_credential(value: Any) -> Any:
    if isinstance(value, str):
        raise PydanticCustomError(
            "literal_credential",
            "a literal credential is not allowed here: it would be committed to Git and written "
            "into the manifests; store it in a Secret (kubectl create secret generic NAME "
            "--from-literal=KEY=...) and reference it as {secret: NAME, key: KEY}",
        )
    return value


# A token or key: only ever a Secret reference, never the value itself.
Credential = Annotated[SecretRef, BeforeValidator(_refuse_literal_credential)]


def secret_references(node: object, loc: tuple = ()) -> Iterator[tuple[tuple, SecretRef]]:
    """Every Secret reference under a model, with its place in the document (keys as written).

    The one list of what a definition (or a cluster's results target) takes from Secrets: the
    rendered objects reference exactly these, and a cluster's secret store must cover them.
    """
    if isinstance(node, SecretRef):
        yield loc, node
    elif isinstance(node, BaseModel):
        for name, field in type(node).model_fields.items():
            yield from secret_references(getattr(node, name), loc + (field.alias or name,))
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from secret_references(value, loc + (key,))
    elif isinstance(node, list | tuple):
        for i, value in enumerate(node):
            yield from secret_references(value, loc + (i,))
