"""`hpo check FILE.yaml` on Kubernetes manifests a person wrote: Katib's rules are errors,
this project's policies (pinning, Pod Security, explicit defaults) are warnings."""

from __future__ import annotations

from generator.errors import Problem
from generator.loading.yamlload import LocatedDocument, YamlProblems, load_located_all
from generator.validate import dotted
from generator.validate.objects import validate_object


def is_manifest(data: object) -> bool:
    return isinstance(data, dict) and "apiVersion" in data and "kind" in data


def check_manifest_text(text: str, path: str) -> list[Problem]:
    try:
        documents = load_located_all(text, path)
    except YamlProblems as e:
        return e.problems
    problems: list[Problem] = []
    for doc in documents:
        problems += check_manifest_document(doc)
    return problems


def check_manifest_document(doc: LocatedDocument) -> list[Problem]:
    problems = []
    for finding in validate_object(doc.data):
        severity = "warning" if finding.kind == "policy" else "error"
        where = dotted(finding.path)
        message = f"{where}: {finding.message}" if where else finding.message
        problems.append(doc.problem(finding.path, message, severity=severity))
    return problems
