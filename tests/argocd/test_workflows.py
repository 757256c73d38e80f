"""The GitHub Actions workflows: the checks a pull request gets, and what they may touch."""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from generator.validate.kube_schema import KUBERNETES_VERSION
from tests.argocd.workflow_files import (
    REPO_ROOT,
    WORKFLOWS,
    checkout_steps,
    github_path_filter_matches,
    hook_command,
    load_hooks,
    load_workflow,
    make_recipe,
    script,
    step_named,
    step_using,
    steps,
    workflow_runs_for,
)

PULL_REQUEST = "pull-request.yml"
IMAGES = "images.yml"
# How the pre-commit hooks (so `make lint` and the pull-request workflow) check the workflows:
# GitHub's workflow schema, then zizmor's audit without the GitHub API (nothing online in CI).
SCHEMA_CHECK = "check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml"
AUDIT = "zizmor --offline .github/workflows"
PINNED = re.compile(r"^\s*(?:-\s+)?uses:\s+(?P<action>[\w.-]+/[\w./-]+)@(?P<ref>\S+)(?P<rest>.*)$")


def run_text(workflow: dict, job: str) -> str:
    return "\n".join(s.get("run", "") for s in steps(workflow, job))


def tool(name: str) -> Path:
    """The venv's console script `name`; the test is skipped when it is not installed."""
    path = Path(sys.executable).parent / name
    if not path.is_file():
        pytest.skip(f"{name} is not installed in this environment (the dev extra installs it)")
    return path


def run_tool(command: str) -> subprocess.CompletedProcess:
    """Run a lint command as `make lint` does: the venv's binary, globs expanded, from the root."""
    program, *args = shlex.split(command)
    argv = [str(tool(program))]
    for arg in args:
        argv += sorted(str(p) for p in REPO_ROOT.glob(arg)) if "*" in arg else [arg]
    return subprocess.run(
        argv, cwd=REPO_ROOT, capture_output=True, text=True, check=False, timeout=120
    )


class TestActionsArePinned:
    """Every third-party action is pinned to a full commit, with its version noted beside it."""

    @pytest.mark.parametrize("name", [PULL_REQUEST, IMAGES])
    def test_every_uses_is_a_commit_sha_with_a_version_comment(self, name):
        lines = [line for line in (WORKFLOWS / name).read_text().splitlines() if "uses:" in line]
        assert lines, "the workflow uses actions"
        for line in lines:
            match = PINNED.match(line)
            assert match, line
            assert re.fullmatch(r"[0-9a-f]{40}", match["ref"]), f"not a commit SHA: {line}"
            assert re.search(r"#\s*v\d+\.\d+\.\d+", match["rest"]), f"no version comment: {line}"

    def test_the_same_action_is_pinned_to_the_same_commit_everywhere(self):
        refs: dict[str, set[str]] = {}
        for name in (PULL_REQUEST, IMAGES):
            for line in (WORKFLOWS / name).read_text().splitlines():
                if match := PINNED.match(line):
                    refs.setdefault(match["action"], set()).add(match["ref"])
        assert {action: 1 for action in refs} == {a: len(r) for a, r in refs.items()}


class TestPullRequestTriggers:
    """The workflow runs for every pull request except the results job's own."""

    def paths_ignore(self):
        return load_workflow(PULL_REQUEST)["on"]["pull_request"]["paths-ignore"]

    def test_a_results_pull_request_does_not_run_it(self):
        changed = [
            "experiments/llama-3-2-1b-imdb/results.yaml",
            "experiments/llama-3-2-1b-imdb/report.md",
            "experiments/llama-3-2-1b-imdb/objective.png",
        ]
        assert workflow_runs_for(self.paths_ignore(), changed) is False

    @pytest.mark.parametrize(
        "changed",
        [
            ["experiments/llama-3-2-1b-imdb/experiment.yaml"],
            ["experiments/llama-3-2-1b-imdb/results.yaml", "rendered/gpu-cluster-1/x/job-x.yaml"],
            ["argocd/appproject.yaml"],
            ["experiments/nested/deeper/results.yaml"],
        ],
    )
    def test_anything_else_runs_it(self, changed):
        assert workflow_runs_for(self.paths_ignore(), changed) is True


class TestPullRequestPermissions:
    """The checks read; only the comment job may write, and only to pull requests."""

    def test_workflow_default_is_read_only(self):
        assert {"contents": "read"} == load_workflow(PULL_REQUEST)["permissions"]

    def test_check_job_asks_for_nothing_more(self):
        assert "permissions" not in load_workflow(PULL_REQUEST)["jobs"]["check"]

    def test_comment_job_writes_pull_requests_only_and_skips_forks(self):
        job = load_workflow(PULL_REQUEST)["jobs"]["comment"]
        assert {"pull-requests": "write"} == job["permissions"]
        assert "check" == job["needs"]
        assert "github.event.pull_request.head.repo.full_name == github.repository" in job["if"]
        assert [] == [s for s in job["steps"] if "actions/checkout@" in s.get("uses", "")], (
            "the job holding a write token runs no code from the pull request"
        )


class TestPullRequestChecks:
    """The check job installs the project and runs each check the issue asks for."""

    def test_checkout_has_full_history(self):
        workflow = load_workflow(PULL_REQUEST)
        assert 0 == step_using(workflow, "check", "actions/checkout")["with"]["fetch-depth"]

    def test_python_311(self):
        workflow = load_workflow(PULL_REQUEST)
        assert (
            "3.11"
            == step_using(workflow, "check", "actions/setup-python")["with"]["python-version"]
        )

    def test_cpu_torch_is_installed_before_the_dev_extras(self):
        install = step_named(load_workflow(PULL_REQUEST), "check", "Install")["run"]
        cpu = install.index(
            "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu"
        )
        assert cpu < install.index("pip install -e '.[dev]'")

    def test_hpo_check_compares_with_the_base_branch(self):
        workflow = load_workflow(PULL_REQUEST)
        assert "${{ github.base_ref }}" == workflow["env"]["BASE_REF"]
        run = step_named(workflow, "check", "hpo check")["run"]
        assert 'hpo check --base "origin/${BASE_REF}" --summary-md summary.md' == run

    @pytest.mark.parametrize("command", ["pre-commit run --all-files", "python -m pytest"])
    def test_hooks_and_tests_run(self, command):
        assert command in run_text(load_workflow(PULL_REQUEST), "check")

    def test_kubeconform_is_strict_with_default_and_exported_schemas(self):
        workflow = load_workflow(PULL_REQUEST)
        run = " ".join(step_named(workflow, "check", "kubeconform")["run"].split())
        assert "-strict" in run.split()
        assert "-schema-location default" in run
        assert "-schema-location 'schemas/{{.ResourceKind}}{{.KindSuffix}}.json'" in run
        assert run.endswith(" rendered/ argocd/training-runtime.yaml")
        export = step_named(workflow, "check", "Export schemas for the custom kinds")["run"]
        assert "hpo schemas export schemas/" == export

    def test_kubeconform_download_is_pinned_and_checksum_verified(self):
        workflow = load_workflow(PULL_REQUEST)
        assert re.fullmatch(r"v\d+\.\d+\.\d+", workflow["env"]["KUBECONFORM_VERSION"])
        assert re.fullmatch(r"[0-9a-f]{64}", workflow["env"]["KUBECONFORM_SHA256"])
        run = step_named(workflow, "check", "Install kubeconform")["run"]
        assert "releases/download/${KUBECONFORM_VERSION}/kubeconform-linux-amd64.tar.gz" in run
        verify = run.index('echo "${KUBECONFORM_SHA256}  kubeconform.tar.gz" | sha256sum --check')
        assert verify < run.index("tar -xzf"), "verified before it is unpacked"

    def test_kubeconform_checks_the_kubernetes_version_hpo_check_uses(self):
        """The version comes from the generator's constant, printed by its module, never typed
        into the workflow a second time."""
        workflow = load_workflow(PULL_REQUEST)
        step = step_named(workflow, "check", "Kubernetes version")
        printed = subprocess.run(
            [sys.executable, "-m", "generator.validate.kube_schema"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert f"version={KUBERNETES_VERSION}.0\n" == printed
        assert step["run"].startswith("python -m generator.validate.kube_schema >>")
        env = step_named(workflow, "check", "kubeconform")["env"]
        assert "${{ steps.kubernetes.outputs.version }}" == env["KUBERNETES_VERSION"]
        assert "KUBERNETES_VERSION" not in workflow.get("env", {})

    def test_the_hooks_run_hpo_render_check_and_the_linters(self):
        run = step_named(load_workflow(PULL_REQUEST), "check", "pre-commit hooks")["run"]
        assert "pre-commit run --all-files" == run.strip()
        commands = [hook_command(h) for h in load_hooks().values()]
        assert "hpo render --check" in commands
        assert "ruff check --force-exclude" in commands
        assert "ruff format --check --force-exclude" in commands

    def test_every_check_runs_even_when_an_earlier_one_failed(self):
        workflow = load_workflow(PULL_REQUEST)
        for name in ("hpo check", "pre-commit hooks", "Tests", "kubeconform"):
            assert "!cancelled()" in step_named(workflow, "check", name)["if"], name


class TestSummaryComment:
    """The comment is built by pr_comment.py and found again by its marker."""

    def test_comment_is_built_even_after_a_failure(self):
        step = step_named(load_workflow(PULL_REQUEST), "check", "Build the summary comment")
        assert "!cancelled()" in step["if"]
        assert '--base "origin/${BASE_REF}"' in step["run"]
        assert "--summary summary.md" in step["run"]

    def test_github_script_looks_for_the_same_marker_the_builder_writes(self):
        workflow = load_workflow(PULL_REQUEST)
        source = step_using(workflow, "comment", "actions/github-script")["with"]["script"]
        assert f"const marker = '{script('pr_comment').MARKER}';" in source

    def test_only_the_bots_own_comment_is_updated(self):
        workflow = load_workflow(PULL_REQUEST)
        source = step_using(workflow, "comment", "actions/github-script")["with"]["script"]
        assert "c.user.login === 'github-actions[bot]'" in source
        assert "updateComment" in source and "createComment" in source


class TestImagesWorkflow:
    """Images are built from images/*.Dockerfile and pushed under images.yaml's tags."""

    def test_build_push_uses_the_matrix_from_images_yaml(self):
        workflow = load_workflow(IMAGES)
        plan = step_named(workflow, "plan", "Read images.yaml")["run"]
        assert "python .github/workflows/scripts/image_matrix.py images.yaml" in plan
        assert (
            "${{ fromJSON(needs.plan.outputs.matrix) }}"
            == workflow["jobs"]["build"]["strategy"]["matrix"]
        )
        build = step_using(workflow, "build", "docker/build-push-action")["with"]
        assert "." == build["context"]
        assert "${{ matrix.dockerfile }}" == build["file"]
        assert "${{ matrix.image }}" == build["tags"]

    def test_pull_requests_build_without_pushing(self):
        workflow = load_workflow(IMAGES)
        assert (
            "${{ github.event_name != 'pull_request' }}" == workflow["jobs"]["build"]["env"]["PUSH"]
        )
        assert (
            "${{ env.PUSH == 'true' }}"
            == step_using(workflow, "build", "docker/build-push-action")["with"]["push"]
        )

    def test_only_the_build_job_may_write_packages(self):
        workflow = load_workflow(IMAGES)
        assert {"contents": "read"} == workflow["permissions"]
        assert "permissions" not in workflow["jobs"]["plan"]
        assert {"contents": "read", "packages": "write"} == workflow["jobs"]["build"]["permissions"]

    def test_an_existing_tag_is_not_rebuilt(self):
        workflow = load_workflow(IMAGES)
        build = step_using(workflow, "build", "docker/build-push-action")
        assert "steps.published.outputs.exists != 'true'" in build["if"]

    def test_results_pull_requests_do_not_trigger_builds(self):
        triggers = load_workflow(IMAGES)["on"]
        changed = ["experiments/llama-3-2-1b-imdb/results.yaml"]
        for event in ("push", "pull_request"):
            paths = triggers[event]["paths"]
            assert [] == [p for p in paths for f in changed if github_path_filter_matches(p, f)]
            assert any(github_path_filter_matches(p, "images/trainer.Dockerfile") for p in paths)


class TestCheckoutCredentials:
    """No checkout leaves the job's token in .git/config: nothing pushes with it, and the pull
    request's code, artifacts and the image build context would otherwise hold it."""

    @pytest.mark.parametrize("name", [PULL_REQUEST, IMAGES])
    def test_every_checkout_sets_persist_credentials_false(self, name):
        found = checkout_steps(name)
        assert found, "the workflow checks out the repository"
        expected = [(job, False) for job, _ in found]
        assert expected == [(job, s.get("with", {}).get("persist-credentials")) for job, s in found]


class TestWorkflowAudit:
    """The pre-commit hooks (so `make lint` and CI) check the workflows against GitHub's schema
    and audit them with zizmor, offline, and neither finds anything."""

    def test_a_hook_checks_every_workflow_against_the_schema(self):
        hook = load_hooks()["workflow-schema"]
        program, glob = SCHEMA_CHECK.rsplit(" ", 1)
        assert program == hook_command(hook)
        workflows = sorted(p.relative_to(REPO_ROOT).as_posix() for p in REPO_ROOT.glob(glob))
        assert [] == [w for w in workflows if not re.search(hook["files"], w)]

    def test_a_hook_audits_the_workflows_folder(self):
        hook = load_hooks()["zizmor"]
        assert AUDIT == hook_command(hook)
        assert hook["pass_filenames"] is False
        assert re.search(hook["files"], ".github/workflows/pull-request.yml")

    def test_make_lint_and_the_pull_request_workflow_run_the_hooks(self):
        assert ["$(BIN)/pre-commit run --all-files"] == make_recipe("lint")
        run = step_named(load_workflow(PULL_REQUEST), "check", "pre-commit hooks")["run"]
        assert "pre-commit run --all-files" == run.strip()

    def test_the_audit_never_calls_github(self):
        assert "--offline" in shlex.split(AUDIT)

    @pytest.mark.parametrize("command", [SCHEMA_CHECK, AUDIT])
    def test_the_workflows_pass(self, command):
        result = run_tool(command)
        assert 0 == result.returncode, result.stdout + result.stderr

    def test_the_audit_finds_a_checkout_that_keeps_its_credentials(self, tmp_path):
        """The audit is not vacuous: the checkout this repository had before fails it."""
        workflow = tmp_path / "sample.yml"
        workflow.write_text(
            "name: sample\n"
            "on: push\n"
            "permissions: {}\n"
            "jobs:\n"
            "  sample:\n"
            "    runs-on: ubuntu-24.04\n"
            "    steps:\n"
            "      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2\n"
        )
        result = subprocess.run(
            [str(tool("zizmor")), "--offline", str(workflow)],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert 0 != result.returncode
        assert "artipacked" in result.stdout, result.stdout + result.stderr
