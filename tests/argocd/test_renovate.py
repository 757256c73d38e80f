"""Renovate's configuration: every pin it is meant to keep current is one it finds, a custom
pattern that a reformatted file would silently miss is caught here, and its pull requests run CI."""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement

from tests.argocd.renovate_config import (
    CONFIG,
    custom_manager,
    extracted,
    file_pattern,
    load_config,
    python_regex,
    rules_for,
    selected,
)
from tests.argocd.workflow_files import (
    REPO_ROOT,
    WORKFLOWS,
    load_workflow,
    make_recipe,
    repository_files,
    step_named,
    workflow_runs_for,
)

KUBECONFORM = "yannh/kubeconform"
PULL_REQUEST = ".github/workflows/pull-request.yml"
VERSION_KEY, DIGEST_KEY = "KUBECONFORM_VERSION", "KUBECONFORM_SHA256"
DOCKERFILES = sorted(p.relative_to(REPO_ROOT).as_posix() for p in REPO_ROOT.glob("images/*"))
# Renovate's dockerfile manager reads `FROM [--platform=P] IMAGE:TAG[@DIGEST] [AS NAME]`.
FROM_LINE = re.compile(
    r"FROM (?:--platform=\S+ )?(?P<image>[a-z0-9][a-z0-9./_-]*):(?P<tag>[\w][\w.-]*)"
    r"(?:@sha256:[0-9a-f]{64})?(?: AS \w+)?"
)


def pins_in(data: Any) -> list[tuple[str, str]]:
    """(version, sha256) of every kubeconform pin in a loaded workflow, wherever its env is."""
    found = []
    if isinstance(data, dict):
        if VERSION_KEY in data or DIGEST_KEY in data:
            found.append((str(data.get(VERSION_KEY)), str(data.get(DIGEST_KEY))))
        for value in data.values():
            found += pins_in(value)
    elif isinstance(data, list):
        for value in data:
            found += pins_in(value)
    return found


def captured(text: str) -> list[tuple[str, str]]:
    manager = custom_manager(load_config(), KUBECONFORM)
    return [(d.get("currentValue"), d.get("currentDigest")) for d in extracted(manager, text)]


def missed_pins(text: str) -> list[tuple[str, str]]:
    """The kubeconform pins a workflow holds that Renovate's pattern does not capture whole."""
    caught = captured(text)
    return [pin for pin in pins_in(yaml.safe_load(text)) if pin not in caught]


class TestConfigFile:
    def test_only_the_keys_meant(self):
        config = load_config()
        assert {
            "$schema",
            "extends",
            "enabledManagers",
            "dockerfile",
            "ignoreDeps",
            "customManagers",
            "packageRules",
        } == set(config)
        assert ["managerFilePatterns"] == list(config["dockerfile"])
        assert ["config:recommended"] == config["extends"]
        assert ["llm-hpo-gitops"] == config["ignoreDeps"]

    def test_only_the_managers_meant(self):
        """images.yaml and rendered/ name the project's own images: no manager may touch them."""
        assert ["dockerfile", "github-actions", "pep621", "custom.regex"] == load_config()[
            "enabledManagers"
        ]

    def test_each_rule_and_manager_has_only_known_keys(self):
        config = load_config()
        rule_keys = {
            "description",
            "matchManagers",
            "matchPackageNames",
            "matchUpdateTypes",
            "pinDigests",
            "rangeStrategy",
            "enabled",
        }
        for rule in config["packageRules"]:
            assert set(rule) <= rule_keys, rule
            assert "description" in rule, rule
        manager_keys = {
            "customType",
            "description",
            "managerFilePatterns",
            "matchStrings",
            "datasourceTemplate",
            "depNameTemplate",
        }
        assert [manager_keys] == [set(m) for m in config["customManagers"]]

    def test_the_schema_check_passes_and_is_not_vacuous(self, tmp_path):
        checker = Path(sys.executable).parent / "check-jsonschema"
        if not checker.is_file():
            pytest.skip("check-jsonschema is not installed (the dev extra installs it)")
        command = [str(checker), "--builtin-schema", "vendor.renovate"]
        result = subprocess.run([*command, str(CONFIG)], capture_output=True, text=True)
        assert 0 == result.returncode, result.stdout + result.stderr
        broken = tmp_path / "renovate.json5"
        broken.write_text(CONFIG.read_text().replace("'widen'", "'widest'"))
        result = subprocess.run([*command, str(broken)], capture_output=True, text=True)
        assert 1 == result.returncode
        assert "'widest' is not one of" in result.stdout


class TestPatternHelpers:
    """The translation of Renovate's patterns is checked too: a test built on it can fail."""

    def test_named_groups_become_python_ones(self):
        pattern = python_regex(r"a (?<currentValue>v\d+) (?<currentDigest>[0-9a-f]+)")
        assert {"currentValue": "v1", "currentDigest": "ab"} == pattern.match("a v1 ab").groupdict()

    @pytest.mark.parametrize("pattern", [r"(?=x)", r"(?<!x)y", r"(?<=x)y", r"(a)\1"])
    def test_what_re2_cannot_run_is_refused(self, pattern):
        with pytest.raises(ValueError, match="RE2"):
            python_regex(pattern)

    def test_only_regex_file_patterns(self):
        assert file_pattern("/^images/x$/").search("images/x")
        with pytest.raises(ValueError, match="not a /regex/"):
            file_pattern("images/*.Dockerfile")


class TestKubeconformPin:
    """One custom manager updates kubeconform's version and its checksum together."""

    def test_it_reads_the_release_attachments_and_their_digests(self):
        manager = custom_manager(load_config(), KUBECONFORM)
        assert "regex" == manager["customType"]
        assert "github-release-attachments" == manager["datasourceTemplate"]
        for pattern in manager["matchStrings"]:
            assert {"currentValue", "currentDigest"} == set(python_regex(pattern).groupindex)

    def test_it_selects_every_workflow_holding_a_pin_and_nothing_else(self):
        manager = custom_manager(load_config(), KUBECONFORM)
        files = repository_files()
        holding = [
            f
            for f in files
            if not f.startswith(("tests/", "docs/", ".github/renovate"))
            and not f.endswith(".md")
            and re.search(r"KUBECONFORM_|kubeconform/releases", _text(f, errors="replace"))
        ]
        assert [PULL_REQUEST] == holding
        assert holding == selected(manager["managerFilePatterns"], files)

    def test_it_captures_each_pin_exactly_as_written(self):
        text = _text(PULL_REQUEST)
        env = load_workflow("pull-request.yml")["env"]
        assert [(env[VERSION_KEY], env[DIGEST_KEY])] == captured(text)
        assert re.fullmatch(r"v\d+\.\d+\.\d+", env[VERSION_KEY])
        assert re.fullmatch(r"[0-9a-f]{64}", env[DIGEST_KEY])
        assert [] == missed_pins(text)

    def test_every_sha256_in_the_workflows_is_one_it_updates(self):
        digests = {d for _, d in captured(_text(PULL_REQUEST))}
        for path in sorted(WORKFLOWS.glob("*.yml")):
            found = set(re.findall(r"\b[0-9a-f]{64}\b", path.read_text()))
            assert found <= digests, path.name

    def test_the_download_uses_the_pinned_version_only(self):
        run = step_named(load_workflow("pull-request.yml"), "check", "Install kubeconform")["run"]
        assert "/releases/download/${KUBECONFORM_VERSION}/kubeconform-linux-amd64.tar.gz" in run
        assert not re.search(r"v\d+\.\d+\.\d+", run), "a version typed into the step"

    @pytest.mark.parametrize(
        "reformat",
        [
            pytest.param(lambda v, d: d + v, id="checksum-first"),
            pytest.param(lambda v, d: v + "  # the checksum:\n" + d, id="comment-between"),
            pytest.param(lambda v, d: v + "\n" + d, id="blank-line-between"),
            pytest.param(lambda v, d: re.sub(r": (\S+)", r': "\1"', v) + d, id="quoted"),
        ],
    )
    def test_a_reformatted_pin_is_caught(self, reformat):
        """Each rewrite keeps the workflow's meaning (the same env) but detaches the pin."""
        text = _text(PULL_REQUEST)
        version = re.search(rf"^ +{VERSION_KEY}: .*\n", text, re.M).group()
        digest = re.search(rf"^ +{DIGEST_KEY}: .*\n", text, re.M).group()
        perturbed = text.replace(version + digest, reformat(version, digest))
        assert perturbed != text
        assert yaml.safe_load(text)["env"] == yaml.safe_load(perturbed)["env"]
        assert pins_in(yaml.safe_load(text)) == missed_pins(perturbed)


class TestBaseImages:
    """The built-in dockerfile manager reads every image's FROM line and pins its digest."""

    def test_it_selects_every_dockerfile(self):
        patterns = load_config()["dockerfile"]["managerFilePatterns"]
        assert 4 == len(DOCKERFILES)
        assert DOCKERFILES == selected(patterns, repository_files())

    @pytest.mark.parametrize("name", DOCKERFILES)
    def test_every_from_line_is_an_image_and_tag_it_reads(self, name):
        lines = [line for line in _text(name).splitlines() if line.startswith("FROM")]
        assert lines, name
        for line in lines:
            assert FROM_LINE.fullmatch(line), f"{name}: {line}"

    def test_digests_are_pinned(self):
        assert [{"pinDigests": True}] == [
            {"pinDigests": r["pinDigests"]} for r in rules_for(load_config(), "dockerfile")
        ]

    def test_the_images_python_moves_by_patch_releases_only(self):
        [rule] = [
            r for r in load_config()["packageRules"] if r.get("matchPackageNames") == ["python"]
        ]
        assert (["dockerfile"], ["major", "minor"], False) == (
            rule["matchManagers"],
            rule["matchUpdateTypes"],
            rule["enabled"],
        )
        assert 'python-version: "3.11"' in _text(PULL_REQUEST)
        for name in DOCKERFILES:
            for line in _text(name).splitlines():
                if line.startswith("FROM python:"):
                    assert line.startswith("FROM python:3.11."), name


class TestActions:
    def test_action_pins_are_kept_as_commits(self):
        assert [True] == [r["pinDigests"] for r in rules_for(load_config(), "github-actions")]


def _torch_requirements() -> list[Requirement]:
    import tomllib

    project = tomllib.loads(_text("pyproject.toml"))["project"]
    groups = [project["dependencies"], *project["optional-dependencies"].values()]
    return [r for g in groups for r in map(Requirement, g) if r.name == "torch"]


class TestPythonRanges:
    """The pep621 manager widens ranges; the CPU torch pin and the trainer image stay inside."""

    def test_ranges_are_widened_never_bumped(self):
        config = load_config()
        assert [{"rangeStrategy": "widen"}] == [
            {"rangeStrategy": r["rangeStrategy"]} for r in rules_for(config, "pep621")
        ]
        assert ["widen"] == [
            r["rangeStrategy"] for r in config["packageRules"] if "rangeStrategy" in r
        ]

    def test_the_cpu_torch_pin_and_the_trainer_image_satisfy_every_torch_range(self):
        makefile = re.search(r"^TORCH := torch==(\S+)$", _text("Makefile"), re.M).group(1)
        install = step_named(load_workflow("pull-request.yml"), "check", "Install")["run"]
        workflow = re.search(r"torch==(\S+)", install).group(1)
        image = re.search(
            r"^FROM pytorch/pytorch:([\d.]+)-", _text("images/trainer.Dockerfile"), re.M
        )
        requirements = _torch_requirements()
        assert len(requirements) >= 2
        for version in (makefile, workflow, image.group(1)):
            assert [r for r in requirements if version not in r.specifier] == [], version

    def test_no_manager_rewrites_the_torch_pin(self):
        """torch==... in the Makefile and the workflow's run: is read by no enabled manager: a new
        CPU build is a deliberate change, made in both places in one commit."""
        config = load_config()
        patterns = config["dockerfile"]["managerFilePatterns"] + [
            p for m in config["customManagers"] for p in m["managerFilePatterns"]
        ]
        assert [] == selected(patterns, ["Makefile", ".ci/run"])
        for manager in config["customManagers"]:
            assert not any("torch" in p for p in manager["matchStrings"])
        assert ["$(BIN)/pip install --quiet $(TORCH)"] == [
            line for line in make_recipe("$(BIN)/hpo") if "$(TORCH)" in line
        ]

    def test_each_bound_kept_by_hand_is_an_upper_bound_in_pyproject(self):
        [rule] = [
            r
            for r in load_config()["packageRules"]
            if r.get("enabled") is False and r["matchManagers"] == ["pep621"]
        ]
        text = _text("pyproject.toml")
        for name in rule["matchPackageNames"]:
            assert re.search(rf'"{re.escape(name)}[^"]*<[^"]*"', text), name


class TestPullRequestsRunCI:
    """Renovate opens its pull requests against the default branch, from branches in this
    repository: the pull-request workflow checks each file it changes."""

    def test_every_file_renovate_changes_runs_the_pull_request_workflow(self):
        workflow = load_workflow("pull-request.yml")
        assert ["main"] == workflow["on"]["pull_request"]["branches"]
        ignored = workflow["on"]["pull_request"]["paths-ignore"]
        changed = [*DOCKERFILES, PULL_REQUEST, ".github/workflows/images.yml", "pyproject.toml"]
        for path in changed:
            assert workflow_runs_for(ignored, [path]), path

    def test_a_dockerfile_update_also_builds_the_images(self):
        paths = load_workflow("images.yml")["on"]["pull_request"]["paths"]
        assert "images/**" in paths


def _text(path: str, errors: str = "strict") -> str:
    return (REPO_ROOT / path).read_text(encoding="utf-8", errors=errors)
