"""results.yaml, report.md and chart.png as the writer leaves them in an experiment folder."""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import hashlib
import os
import struct
from pathlib import Path

import pytest
import yaml

from results import files
from results.errors import ResultsWriteError
from results.katib_objects import result_from_katib
from results.model import Fetched, Provenance, results_file
from results.render import pr_body, pr_title
from tests.results.conftest import DIGEST, SPACE
from tests.support import katib

PROVENANCE = Provenance(
    model_uri="hf://meta-llama/Llama-3.2-1B",
    model_revision="4e20de362430cd3b72f300e6b0f18e50e7166e08",
    dataset_uri="hf://stanfordnlp/imdb",
    dataset_revision="main",
    dataset_split="train[:1000]",
    storage_init_image="ghcr.io/example/hpo-storage-init:0.1.0",
    model_fetched=Fetched("4e20de362430cd3b72f300e6b0f18e50e7166e08", "2026-05-01T10:00:00Z"),
    dataset_fetched=Fetched(unread="/workspace/cache/datasets/d28e93e3e12b250b is damaged"),
)

EXPECTED_YAML = f"""\
experiment: llama-3-2-1b-imdb
status: Succeeded
reason: null
objective:
  metric: train_loss
  type: minimize
  goal: null
best_trial:
  name: llama-3-2-1b-imdb-x7k2p
  parameters:
    learning_rate: 3.2e-05
    r: 16
    use_rslora: true
  metrics:
    eval_accuracy: 0.86
    train_loss: 0.412
  observation:
    eval_accuracy:
      latest: 0.86
      min: 0.81
      max: 0.88
    train_loss:
      latest: 0.415
      min: 0.412
      max: 0.69
trials:
- name: llama-3-2-1b-imdb-x7k2p
  status: Succeeded
  parameters:
    learning_rate: 3.2e-05
    r: 16
    use_rslora: true
  metrics:
    eval_accuracy: 0.86
    train_loss: 0.412
- name: llama-3-2-1b-imdb-c3d8w
  status: Succeeded
  parameters:
    learning_rate: 4.7e-05
    r: 32
    use_rslora: false
  metrics:
    eval_accuracy: 0.86
    train_loss: 0.447
- name: llama-3-2-1b-imdb-b9q4m
  status: Succeeded
  parameters:
    learning_rate: 1.1e-05
    r: 8
    use_rslora: false
  metrics:
    eval_accuracy: 0.86
    train_loss: 0.53
- name: llama-3-2-1b-imdb-f5n1z
  status: Failed
  parameters:
    learning_rate: 2.0e-05
    r: 24
    use_rslora: true
  metrics: {{}}
counts:
  Succeeded: 3
  Failed: 1
provenance:
  definition_sha256: {DIGEST}
  model:
    uri: hf://meta-llama/Llama-3.2-1B
    revision: 4e20de362430cd3b72f300e6b0f18e50e7166e08
    resolved: 4e20de362430cd3b72f300e6b0f18e50e7166e08
    fetched_at: '2026-05-01T10:00:00Z'
  dataset:
    uri: hf://stanfordnlp/imdb
    revision: main
    split: train[:1000]
    resolved: null
    fetched_at: null
    unread: /workspace/cache/datasets/d28e93e3e12b250b is damaged
  images:
    trainer: ghcr.io/example/hpo-trainer:0.1.0
    storage_init: ghcr.io/example/hpo-storage-init:0.1.0
  experiment_uid: 3f1c2a9e-8d4b-4c1e-9a57-2b6f0d7e4c11
"""


def _result(state: str = "Succeeded"):
    return result_from_katib(
        katib.experiment_in(state),
        katib.default_trials(),
        space=SPACE,
        provenance=PROVENANCE,
    )


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert b"\x89PNG\r\n\x1a\n" == data[:8]
    chunks, at = [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        chunks.append((data[at + 4 : at + 8], data[at + 8 : at + 8 + length]))
        at += 12 + length
    return chunks


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "experiments" / katib.NAME
    path.mkdir(parents=True)
    return path


class TestResultsYaml:
    """results.yaml holds the documented keys in order, with typed values."""

    def test_exact_content(self, folder):
        files.write_results(folder, _result(), DIGEST)
        assert EXPECTED_YAML == (folder / "results.yaml").read_text()

    def test_values_load_back_typed(self, folder):
        files.write_results(folder, _result(), DIGEST)
        loaded = yaml.safe_load((folder / "results.yaml").read_text())
        assert {"learning_rate": 3.2e-05, "r": 16, "use_rslora": True} == loaded["best_trial"][
            "parameters"
        ]

    def test_failed_experiment_records_the_reason(self, folder):
        files.write_results(folder, _result("Failed"), DIGEST)
        loaded = yaml.safe_load((folder / "results.yaml").read_text())
        expected = (
            "Failed",
            "ExperimentMaxFailedTrialsReached: Experiment has failed because max failed count "
            "has reached",
        )
        assert expected == (loaded["status"], loaded["reason"])

    def test_the_digest_is_that_of_the_definitions_bytes(self, tmp_path):
        folder = tmp_path / "exp"
        folder.mkdir()
        files.write_results(folder, _result(), DIGEST)
        loaded = yaml.safe_load((folder / "results.yaml").read_text())
        expected = hashlib.sha256(katib.DEFINITION.encode()).hexdigest()
        assert expected == loaded["provenance"]["definition_sha256"]


class TestDeterminism:
    """The same result gives the same bytes, so a rerun makes no git diff."""

    def test_two_writes_give_identical_files(self, tmp_path):
        first, second = tmp_path / "a", tmp_path / "b"
        first.mkdir()
        second.mkdir()
        files.write_results(first, _result(), DIGEST)
        files.write_results(second, _result(), DIGEST)
        for name in files.OUTPUT_FILES:
            assert (first / name).read_bytes() == (second / name).read_bytes(), name

    def test_chart_has_no_software_or_time_metadata(self, folder):
        files.write_results(folder, _result(), DIGEST)
        chunks = _png_chunks((folder / "chart.png").read_bytes())
        kinds = [kind for kind, _ in chunks]
        assert b"tIME" not in kinds
        assert [] == [body for kind, body in chunks if kind == b"tEXt" and b"Software" in body]

    def test_chart_size_follows_the_panel_count(self, folder):
        files.write_results(folder, _result(), DIGEST)
        ihdr = _png_chunks((folder / "chart.png").read_bytes())[0][1]
        # progress panel + three parameters = four panels, two rows of 3.6 in at 100 dpi
        assert (1000, 720) == struct.unpack(">II", ihdr[:8])


class TestWriter:
    """Writes atomically, leaves unchanged files alone, and fails with one clear line."""

    def test_returns_the_three_paths_in_a_fixed_order(self, folder):
        paths = files.write_results(folder, _result(), DIGEST)
        assert [folder / "results.yaml", folder / "report.md", folder / "chart.png"] == paths

    def test_unchanged_files_are_not_rewritten(self, folder):
        files.write_results(folder, _result(), DIGEST)
        before = {n: os.stat(folder / n).st_ino for n in files.OUTPUT_FILES}
        files.write_results(folder, _result(), DIGEST)
        assert before == {n: os.stat(folder / n).st_ino for n in files.OUTPUT_FILES}

    def test_missing_folder_is_a_named_error_and_creates_nothing(self, tmp_path):
        with pytest.raises(ResultsWriteError, match="the experiment folder does not exist"):
            files.write_results(tmp_path / "nope", _result(), DIGEST)
        assert not (tmp_path / "nope").exists()

    def test_a_failing_render_leaves_the_previous_files(self, folder, monkeypatch):
        files.write_results(folder, _result(), DIGEST)

        def broken_chart(result):
            raise RuntimeError("renderer broke")

        monkeypatch.setattr(files, "render_chart", broken_chart)
        with pytest.raises(RuntimeError):
            files.write_results(folder, _result("Failed"), DIGEST)
        assert EXPECTED_YAML == (folder / "results.yaml").read_text()
        assert [] == [p.name for p in folder.iterdir() if p.name.startswith(".")]


class TestMarkdown:
    """report.md and the PR body tell a reader what happened, failed runs included."""

    def test_report_lists_best_parameters_trials_and_provenance(self, folder):
        files.write_results(folder, _result(), DIGEST)
        report = (folder / "report.md").read_text()
        assert "`llama-3-2-1b-imdb-x7k2p` reached `train_loss` = **0.412** with:" in report
        assert "| # | trial | status | train_loss | learning_rate | r | use_rslora |" in report
        assert "| 4 | `llama-3-2-1b-imdb-f5n1z` | Failed | - | 2e-05 | 24 | true |" in report
        assert f"| Definition sha256 | `{DIGEST}` |" in report
        assert "| Model | hf://meta-llama/Llama-3.2-1B @ 4e20de3624" in report
        assert (
            "| Model as fetched | `4e20de362430cd3b72f300e6b0f18e50e7166e08` at "
            "2026-05-01T10:00:00Z |"
        ) in report
        assert (
            "| Dataset as fetched | not recorded: /workspace/cache/datasets/d28e93e3e12b250b "
            "is damaged |"
        ) in report
        assert "![train_loss per trial and against each parameter](chart.png)" in report
        assert "FAILED" not in report

    def test_failed_report_and_pr_are_marked_with_the_reason(self, folder):
        result = _result("Failed")
        files.write_results(folder, result, DIGEST)
        reason = "ExperimentMaxFailedTrialsReached: Experiment has failed because max failed count"
        assert f"> **FAILED.** {reason}" in (folder / "report.md").read_text()
        record = results_file(result, DIGEST)
        assert "HPO results: llama-3-2-1b-imdb FAILED" == pr_title(record)
        assert f"**The experiment `llama-3-2-1b-imdb` FAILED:** {reason}" in pr_body(record)

    def test_pr_body_names_the_best_trial_and_counts(self):
        record = results_file(_result(), DIGEST)
        body = pr_body(record)
        assert "Best trial `llama-3-2-1b-imdb-x7k2p`: `train_loss` = **0.412**" in body
        assert "Trials: 4 (Succeeded 3, Failed 1)" in body
        assert "HPO results: llama-3-2-1b-imdb (train_loss=0.412)" == pr_title(record)
