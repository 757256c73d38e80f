"""Reviewers see every training argument a trial gets: the definition's, the searched ones, and
those the trainer chooses, in hpo check's output and in the pull request summary."""

from __future__ import annotations

from generator.cli import main
from tests.generator.conftest import VALID_DEFINITION
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
    def test_every_argument_marked_by_who_sets_it(self, repo, capsys):
        repo.write(VALID_DEFINITION)
        assert 0 == main(["check"])
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
        assert 0 == main(["check"])
        listing = _listing(capsys.readouterr().out)
        assert {who for who, _ in listing.values()} == {"definition", "searched"}


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
