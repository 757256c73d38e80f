"""hpo check FILE... outside a checkout: manifests fully, definitions with what needs no
repository (and a warning naming what was skipped), standard input, several documents."""

# ruff: noqa: SIM300
from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from generator.cli import main
from tests.generator.conftest import REPO, VALID_DEFINITION
from tests.support.katib_examples import PYTORCHJOB_EXPERIMENT

JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: fetch
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: fetch
          image: ghcr.io/example-org/fetch:1.0.0
          command: [python, fetch.py]
"""


@pytest.fixture
def outside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder with no hpo repository above it."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    monkeypatch.chdir(folder)
    assert not any((p / "images.yaml").exists() for p in (folder, *folder.parents))
    return folder


class TestManifestsNeedNoRepository:
    """A manifest is checked the same wherever hpo runs."""

    def test_valid_manifest(self, outside, capsys):
        (outside / "experiment.yaml").write_text(PYTORCHJOB_EXPERIMENT)
        assert 0 == main(["check", "experiment.yaml"])
        assert "hpo check: ok: 1 file(s), 0 error(s)" in capsys.readouterr().err

    def test_broken_manifest(self, outside, capsys):
        (outside / "job.yaml").write_text(JOB.replace("restartPolicy", "restartPolicyy"))
        assert 1 == main(["check", "job.yaml"])
        assert (
            "job.yaml:7:5: error: spec.template.spec: unknown field: 'restartPolicyy'"
            in capsys.readouterr().err
        )

    def test_through_the_console_script(self, outside):
        """As a kubeconform user runs it: a process started in a folder of their own."""
        (outside / "job.yaml").write_text(JOB)
        done = subprocess.run(
            [sys.executable, "-m", "generator.cli", "check", "job.yaml"],
            capture_output=True,
            text=True,
            cwd=outside,
        )
        assert 0 == done.returncode, done.stderr
        assert "hpo check: ok: 1 file(s), 0 error(s), " in done.stderr


class TestStandardInputAndStreams:
    """`-` reads standard input; a file of several documents is checked document by document."""

    def test_stdin(self, outside, monkeypatch, capsys):
        monkeypatch.setattr(sys, "stdin", io.StringIO(JOB))
        assert 0 == main(["check", "-"])
        monkeypatch.setattr(sys, "stdin", io.StringIO(JOB.replace("command", "comand")))
        assert 1 == main(["check", "-"])
        assert (
            "<stdin>:10:11: error: spec.template.spec.containers[0]: unknown field: 'comand'"
            in capsys.readouterr().err
        )

    def test_several_documents(self, outside, capsys):
        stream = JOB + "---\n" + JOB.replace("fetch.py]", "fetch.py]\n          tty: yes")
        (outside / "jobs.yaml").write_text(stream)
        assert 1 == main(["check", "jobs.yaml"])
        errors = [e for e in capsys.readouterr().err.splitlines() if ": error: " in e]
        assert ["jobs.yaml:26:16: error: spec.template.spec.containers[0].tty: "] == [
            e[: e.index("tty: ") + 5] for e in errors
        ]


class TestDefinitionsOutsideTheRepository:
    """A definition is checked for all that needs no repository; what was skipped is said."""

    def test_valid_definition_passes_with_a_warning(self, outside, capsys):
        (outside / "mine.yaml").write_text(VALID_DEFINITION)
        assert 0 == main(["check", "mine.yaml"])
        err = capsys.readouterr().err
        assert (
            "mine.yaml:1:1: warning: checked without the hpo repository (no templates/ and "
            "images.yaml above the current folder): skipped the cluster checks "
            "(argocd/clusters.yaml: the cluster's name, GPU quota and GPU-hour limit), the folder "
            "name, and rendering with templates/ and validating what it renders; run hpo check "
            "inside the repository for those"
        ) in err
        assert "hpo check: ok: 1 file(s), 0 error(s), 1 warning(s)" in err

    def test_mistakes_are_still_found(self, outside, capsys):
        text = VALID_DEFINITION.replace("num_train_epochs: 3", "num_train_epoch: 3").replace(
            "algorithm_name: random", "algorithm_name: random\nalgorithm_settings: {gamma: 0.5}"
        )
        (outside / "mine.yaml").write_text(text)
        assert 1 == main(["check", "mine.yaml"])
        err = capsys.readouterr().err
        assert "mine.yaml:17:22: error: 'num_train_epoch' is not a field of TrainingArguments" in (
            err
        )
        assert (
            "mine.yaml:26:29: error: algorithm_settings.gamma is not a setting of random "
            "(it accepts: random_state)"
        ) in err

    def test_a_file_inside_a_repository_is_checked_with_it(
        self, repo, tmp_path_factory, monkeypatch, capsys
    ):
        """From another folder, a definition in a checkout is checked with that checkout."""
        path = repo.write(
            VALID_DEFINITION.replace("parallel_trial_count: 2", "parallel_trial_count: 5")
        )
        monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
        assert 1 == main(["check", str(path)])
        err = capsys.readouterr().err
        assert "more than the 8 GPUs cluster 'gpu-cluster-1' allows" in err
        assert "checked without the hpo repository" not in err


class TestWhatNeedsTheRepository:
    """Checking every experiment, or comparing with git history, is refused outside it."""

    def test_no_files(self, outside, capsys):
        assert 2 == main(["check"])
        assert "name the files to check (FILE..., or - for standard input)" in (
            capsys.readouterr().err
        )

    def test_base(self, outside, capsys):
        (outside / "job.yaml").write_text(JOB)
        assert 2 == main(["check", "--base", "main", "job.yaml"])
        assert "--base compares with the repository's history" in capsys.readouterr().err

    def test_inside_the_repository_nothing_changes(self, monkeypatch, capsys):
        monkeypatch.chdir(REPO)
        assert 0 == main(["check"])
        assert "checked without the hpo repository" not in capsys.readouterr().err
