"""Reviewers see every training argument a trial gets: the definition's, the searched ones, and
those the trainer chooses, in hpo check's output and in the pull request summary."""

from __future__ import annotations

import itertools

from generator.cli import main
from generator.commands.project import definition_paths
from tests.generator.conftest import REPO, VALID_DEFINITION
from trainer.speed import CHOICES


def _listing(out: str) -> dict[str, tuple[str, str]]:
    """hpo check's training-argument lines: name -> (who sets it, value or rule)."""
    found = {}
    for line in out.splitlines():
        if line.startswith("  "):
            name, who, value = line.split(maxsplit=2)
            found[name] = (who.rstrip(":"), value)
    return found


class TestCheckOutput:
    """hpo check lists the training arguments with -v/--explain, and only then."""

    def test_every_argument_marked_by_who_sets_it(self, repo, capsys):
        repo.write(VALID_DEFINITION)
        assert 0 == main(["check", "--explain"])
        listing = _listing(capsys.readouterr().out)
        assert listing["save_strategy"] == ("definition", "no")
        assert listing["num_train_epochs"] == ("definition", "3")
        assert listing["learning_rate"] == ("searched", "double 1e-05..5e-05")
        chosen = {name for name, (who, _) in listing.items() if who == "trainer"}
        assert chosen == set(CHOICES) - {"save_strategy"}  # the definition pins that one
        assert listing["bf16"][1] == CHOICES["bf16"]

    def test_exact_training_arguments_leave_nothing_to_the_trainer(self, repo, capsys):
        repo.write(
            VALID_DEFINITION.replace(
                "  lora_config:", "  exact_training_arguments: true\n  lora_config:"
            )
        )
        assert 0 == main(["check", "-v"])
        listing = _listing(capsys.readouterr().out)
        assert {who for who, _ in listing.values()} == {"definition", "searched"}

    def test_quiet_by_default(self, repo, capsys):
        repo.write(VALID_DEFINITION)
        assert 0 == main(["check"])
        out, err = capsys.readouterr()
        assert [
            "experiments/demo-exp/experiment.yaml: worst case 10 trials x 2 GPU(s) x 6 h = "
            "120 GPU-hours; no budget"
        ] == out.splitlines()
        assert ["hpo check: ok: 1 file(s), 0 error(s), 0 warning(s)"] == err.splitlines()


class TestShippedExperiments:
    """hpo check on the repository's own experiments: a line each, the problems and a summary;
    the training arguments only when asked for."""

    def test_one_line_per_definition(self, monkeypatch, capsys):
        monkeypatch.chdir(REPO)
        assert 0 == main(["check"])
        out, err = capsys.readouterr()
        paths = [p.relative_to(REPO).as_posix() for p in definition_paths(REPO)]
        assert 3 == len(paths)
        assert paths == [line.split(": worst case ", 1)[0] for line in out.splitlines()]
        *problems, summary = err.splitlines()
        assert all(": warning: " in line for line in problems)
        assert f"hpo check: ok: 3 file(s), 0 error(s), {len(problems)} warning(s)" == summary

    def test_explain_adds_the_table(self, monkeypatch, capsys):
        monkeypatch.chdir(REPO)
        assert 0 == main(["check", "-v"])
        lines = capsys.readouterr().out.splitlines()
        assert 3 == sum(": worst case " in line for line in lines)
        tables = [
            list(itertools.takewhile(lambda row: row.startswith("  "), lines[i + 1 :]))
            for i, line in enumerate(lines)
            if line.endswith(
                ": training arguments (set by the definition, searched, or chosen "
                "by the trainer; pin a choice by setting it):"
            )
        ]
        assert 3 == len(tables)
        for table in tables:  # each one the definition's own, then the trainer's choices
            assert "bf16" in {row.split()[0] for row in table}
            assert "learning_rate" in {row.split()[0] for row in table}


class TestPullRequestSummary:
    def test_a_table_per_experiment(self, repo, tmp_path):
        repo.write(VALID_DEFINITION.replace("    num_train_epochs: 3\n", "    bf16: false\n"))
        summary = tmp_path / "summary.md"
        assert 0 == main(["check", "--summary-md", str(summary)])
        text = summary.read_text()
        assert "### Training arguments" in text
        heading = "<code>demo-exp</code>: training arguments (16 chosen by the trainer)"
        assert heading in text
        assert "| `bf16` | false | definition |" in text
        assert f"| `torch_compile` | {CHOICES['torch_compile']} | trainer |" in text
