"""A `properties` key of a cluster's secret store that nothing on the cluster reads: a warning
at its line of argocd/clusters.yaml, whichever definitions hpo check is given."""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import io
import sys

from generator.cli import main
from generator.commands.project import check_repository_wide
from generator.loading.repo_config import load_repo_config
from tests.generator.conftest import REPO, VALID_DEFINITION

CLUSTERS = "argocd/clusters.yaml"
# gpu-cluster-1's store also maps api-key, whose `key` is read from the property `api`.
MAPPED = "        hf-token: {remote_key: llm-hpo/hf-token}\n"
API_KEY = "        api-key: {remote_key: llm-hpo/api, properties: {key: api}}\n"
# hf-token's `token` (the key every definition's access_token reads), misspelt.
MISSPELT_TOKEN = "        hf-token: {remote_key: llm-hpo/hf-token, properties: {tokn: hf}}\n"
# A definition on gpu-cluster-1 whose trials read api-key's `key` (VALID_DEFINITION reads
# hf-token's `token` only). Its quota is 1 GPU, so two of them fit gpu-cluster-1's.
READER = (
    VALID_DEFINITION.replace("parallel_trial_count: 2", "parallel_trial_count: 1").replace(
        "gpu: 2,", "gpu: 1,"
    )
    + "env_per_trial:\n  API_KEY: {secret: api-key, key: key}\n"
)


def _store(repo, mapped: str = API_KEY, *, instead: bool = False) -> int:
    """Map `mapped` in gpu-cluster-1's store, after hf-token's line or `instead` of it; its line
    in argocd/clusters.yaml."""
    path = repo.root / CLUSTERS
    text = path.read_text()
    assert 1 == text.count(MAPPED)
    path.write_text(text.replace(MAPPED, mapped if instead else MAPPED + mapped))
    return text[: text.index(MAPPED)].count("\n") + (1 if instead else 2)


def _named(text: str, name: str) -> str:
    return text.replace("name: demo-exp", f"name: {name}")


def _unread(err: str) -> list[str]:
    return [line for line in err.splitlines() if "is never used" in line]


def _warning(line: int, mapped: str, secret: str, key: str, hint: str = "") -> str:
    """The warning at `key` of `properties: {key: ...}` in `mapped`, line `line`."""
    col = mapped.index(f"{{{key}:") + 2
    where = f"clusters[0].secret_store.secrets.{secret}.properties.{key}"
    return (
        f"{CLUSTERS}:{line}:{col}: warning: {where}: no experiment on cluster 'gpu-cluster-1' "
        f"nor its results Job reads key '{key}' of Secret '{secret}', so this property is never "
        "used (a key not listed is read from the property of its own name)" + hint
    )


class TestUnreadProperties:
    """Each key of `properties` must be one a reference on the cluster reads."""

    def test_the_shipped_repository_has_none(self):
        """hpo-forge-token's `token` is read by the results Job, not by any definition."""
        repo = load_repo_config(REPO)
        assert {"token": "github-token"} == (
            repo.clusters["gpu-cluster-1"].secret_store.secrets["hpo-forge-token"].properties
        )
        assert [] == check_repository_wide([], REPO, repo, set())

    def test_a_misspelt_key_warns_at_its_line_with_the_key_it_resembles(self, repo, capsys):
        line = _store(repo, MISSPELT_TOKEN, instead=True)
        repo.write(VALID_DEFINITION)
        assert 0 == main(["check"])
        err = capsys.readouterr().err
        hint = "; did you mean 'token'?"
        assert [_warning(line, MISSPELT_TOKEN, "hf-token", "tokn", hint)] == _unread(err)
        assert err.endswith("0 error(s), 1 warning(s)\n")

    def test_render_warns_once_and_writes(self, repo, capsys):
        line = _store(repo, MISSPELT_TOKEN, instead=True)
        repo.write(VALID_DEFINITION)
        repo.write(_named(VALID_DEFINITION, "other"), name="other")
        assert 0 == main(["render"])
        hint = "; did you mean 'token'?"
        assert [_warning(line, MISSPELT_TOKEN, "hf-token", "tokn", hint)] == _unread(
            capsys.readouterr().err
        )

    def test_a_key_one_definition_reads_does_not_warn(self, repo, capsys):
        _store(repo)
        repo.write(READER, name="demo-exp")
        other = repo.write(_named(VALID_DEFINITION, "other"), name="other")
        assert 0 == main(["check"])
        assert [] == _unread(capsys.readouterr().err)
        # Given one file, every other definition of the repository still counts.
        assert 0 == main(["check", str(other)])
        assert [] == _unread(capsys.readouterr().err)

    def test_a_key_only_the_checked_text_reads_does_not_warn(self, repo, monkeypatch, capsys):
        """A pull request's new definition is the only reader: nothing merged reads the key."""
        line = _store(repo)
        repo.write(VALID_DEFINITION)
        assert 0 == main(["check"])
        assert [_warning(line, API_KEY, "api-key", "key")] == _unread(capsys.readouterr().err)
        monkeypatch.setattr(sys, "stdin", io.StringIO(_named(READER, "new-exp")))
        assert 0 == main(["check", "-"])
        assert [] == _unread(capsys.readouterr().err)

    def test_the_results_token_counts(self, repo, capsys):
        """No definition reads hpo-forge-token: only the results target's key keeps it used."""
        path = repo.root / CLUSTERS
        text = path.read_text()
        token = "      token: {secret: hpo-forge-token, key: token}\n"
        assert 2 == text.count(token)  # gpu-cluster-1's first
        path.write_text(text.replace(token, token.replace("key: token", "key: pat"), 1))
        start = text.index("        hpo-forge-token:")
        line, mapped = text[:start].count("\n") + 1, text[start:].splitlines()[0]
        repo.write(VALID_DEFINITION)
        assert 0 == main(["check"])
        assert [_warning(line, mapped, "hpo-forge-token", "token")] == _unread(
            capsys.readouterr().err
        )

    def test_a_key_only_a_deleted_experiment_reads_warns(self, repo, capsys):
        """An experiment archived to the delete stage renders nothing, so it reads nothing."""
        line = _store(repo)
        repo.write(READER)
        repo.write(_named(VALID_DEFINITION, "other"), name="other")
        assert 0 == main(["check"])
        assert [] == _unread(capsys.readouterr().err)
        (repo.root / "experiments" / "demo-exp" / "archive.yaml").write_text("stage: delete\n")
        assert 0 == main(["check"])
        assert [_warning(line, API_KEY, "api-key", "key")] == _unread(capsys.readouterr().err)
