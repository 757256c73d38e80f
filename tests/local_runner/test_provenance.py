"""A local run's results record what the download step fetched, read from .hpo/cache."""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from generator.cli import main
from storage_init import local
from tests.local_runner.conftest import definition

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def tune(repo, monkeypatch, name: str) -> int:
    monkeypatch.chdir(repo.root)
    return main(["tune", "--local", f"experiments/{name}"])


def add_review(folder: Path) -> None:
    """One more train row in the JSONL reviews: the local dataset's content changes."""
    [train] = [p for p in folder.rglob("*train*") if p.is_file()]
    train.write_text(train.read_text() + json.dumps({"text": "one more review", "label": 1}) + "\n")


class TestLocalProvenance:
    """results.yaml names the content digest of each local input and when it was fetched."""

    def test_resolved_identities_of_the_local_inputs(self, repo, monkeypatch):
        """The identities are the digests of data/model and data/reviews, as fetched."""
        repo.use_stand_in_trainer()
        repo.set_stand_in(reports=1, sleep=0)
        repo.write("prov", definition("prov", max_trial_count=1, parallel_trial_count=1))
        assert 0 == tune(repo, monkeypatch, "prov")
        provenance = repo.results("prov")["provenance"]
        model, dataset = provenance["model"], provenance["dataset"]
        assert (local.fingerprint("model", repo.root / "data/model"), "./data/model") == (
            model["resolved"],
            model["uri"],
        )
        assert local.fingerprint("dataset", repo.root / "data/reviews") == dataset["resolved"]
        assert TIMESTAMP.match(model["fetched_at"]) and TIMESTAMP.match(dataset["fetched_at"])
        assert "unread" not in model and "unread" not in dataset

    def test_edited_data_is_fetched_again_and_recorded(self, repo, monkeypatch):
        """After an edit the next run fetches the new content and records which it was."""
        repo.use_stand_in_trainer()
        repo.set_stand_in(reports=1, sleep=0)
        repo.write("edit", definition("edit", max_trial_count=1, parallel_trial_count=1))
        assert 0 == tune(repo, monkeypatch, "edit")
        before = repo.results("edit")["provenance"]["dataset"]["resolved"]
        add_review(repo.root / "data/reviews")
        shutil.rmtree(repo.root / ".hpo/edit")  # a fresh study, the same cache
        assert 0 == tune(repo, monkeypatch, "edit")
        after = repo.results("edit")["provenance"]["dataset"]["resolved"]
        assert local.fingerprint("dataset", repo.root / "data/reviews") == after
        assert before != after
