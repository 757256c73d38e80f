"""`hpo results <name>` end to end: Kubernetes API server -> bare git origin -> forge server."""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import argparse

import pytest
import yaml

from generator.rendering.manifest_params import dataset_source, model_source
from results import cli
from storage_init.cache import cache_folder, content_key, write_marker, write_pointer
from tests.results.conftest import PERSON, definition_record, git, set_results_job_env
from tests.results.test_checkpoints import checkpoints
from tests.support import katib

NAME = katib.NAME
BRANCH = f"hpo-results/{NAME}"


@pytest.fixture
def cluster(kube, tmp_path, monkeypatch):
    """A running Experiment whose next watch reports it finished, plus its trials."""
    monkeypatch.setenv("KUBECONFIG", kube.kubeconfig(tmp_path / "kubeconfig", katib.NAMESPACE))
    kube.state.put(katib.running_experiment(resource_version="100"))
    for trial in katib.default_trials():
        kube.state.put(trial)
    kube.state.watch_scripts.append([("event", "MODIFIED", katib.succeeded_experiment())])
    return kube


FETCHED_COMMIT = "9a8b7c6d5e4f30211f2e3d4c5b6a79881726354a"
FETCHED_AT = "2026-05-01T10:00:00Z"


@pytest.fixture
def volume(tmp_path):
    """The experiment's volume as the download Job leaves it: the model fetched (its reference
    folder pointing at a complete copy with its marker), the dataset never fetched."""
    cache = tmp_path / "volume" / "cache"
    spec = definition_record().spec
    reference = cache_folder(cache, "model", model_source(spec))
    content = reference / content_key(reference.name, FETCHED_COMMIT)
    content.mkdir(parents=True)
    (content / "config.json").write_text("{}")
    write_marker(content, "model", model_source(spec), FETCHED_COMMIT, fetched_at=FETCHED_AT)
    write_pointer(reference, content.name)
    return cache


@pytest.fixture
def settings(origin, github, definition_file, volume, monkeypatch):
    set_results_job_env(
        monkeypatch,
        definition_file,
        origin,
        github,
        HPO_STORAGE_INIT_IMAGE="ghcr.io/example/hpo-storage-init:0.1.0",
        HPO_CACHE_DIR=str(volume),
    )


def _run(*extra: str) -> int:
    return cli.main(["results", NAME, "--watch-seconds", "2", *extra])


class TestRegister:
    """The generator's `hpo` parser gains the subcommand through register()."""

    def test_register_adds_results_with_run(self):
        parser = argparse.ArgumentParser(prog="hpo")
        cli.register(parser.add_subparsers(dest="command"))
        args = parser.parse_args(["results", NAME, "--forge", "gitlab"])
        assert (cli.run, NAME, "gitlab") == (args.func, args.name, args.forge)


class TestEndToEnd:
    """The job waits, writes the files on its branch, and opens exactly one PR."""

    def test_run_twice_gives_one_commit_and_one_pr(
        self, cluster, settings, origin, github, volume, capsys
    ):
        """Provenance holds what the definition states and, from the download's markers on the
        volume, what was fetched; an input never fetched is said to be so, not an error."""
        assert 0 == _run()
        first = capsys.readouterr().out
        cluster.state.watch_scripts.clear()  # finished now: the second run needs no watch
        assert 0 == _run()
        second = capsys.readouterr().out
        url = "https://github.example/example-org/hpo/pull/1"
        assert f"{BRANCH}: pushed; pull request created: {url}\n" == first
        assert f"{BRANCH}: unchanged; pull request unchanged: {url}\n" == second
        assert 1 == len(origin.log(f"main..{BRANCH}"))
        assert 1 == len(github.state.prs)
        loaded = yaml.safe_load(origin.show(BRANCH, f"experiments/{NAME}/results.yaml"))
        dataset_folder = cache_folder(volume, "dataset", dataset_source(definition_record().spec))
        assert {
            "definition_sha256": loaded["provenance"]["definition_sha256"],
            "model": {
                "uri": "hf://meta-llama/Llama-3.2-1B",
                "revision": "4e20de362430cd3b72f300e6b0f18e50e7166e08",
                "resolved": FETCHED_COMMIT,
                "fetched_at": FETCHED_AT,
            },
            "dataset": {
                "uri": "hf://stanfordnlp/imdb",
                "revision": "main",
                "split": "train[:1000]",
                "resolved": None,
                "fetched_at": None,
                "unread": f"{dataset_folder} does not exist: the storage-init Job has not "
                "completed; check its logs and rerun it",
            },
            "images": {
                "trainer": katib.TRAINER_IMAGE,
                "storage_init": "ghcr.io/example/hpo-storage-init:0.1.0",
            },
            "experiment_uid": katib.EXPERIMENT_UID,
        } == loaded["provenance"]
        assert {"learning_rate": 3.2e-05, "r": 16, "use_rslora": True} == loaded["best_trial"][
            "parameters"
        ]
        report = origin.show(BRANCH, f"experiments/{NAME}/report.md").decode()
        assert f"| Model as fetched | `{FETCHED_COMMIT}` at {FETCHED_AT} |" in report
        assert f"| Dataset as fetched | not recorded: {dataset_folder} does not exist" in report

    def test_failed_experiment_still_gets_a_pr_marked_failed(
        self, kube, settings, origin, github, tmp_path, monkeypatch
    ):
        monkeypatch.setenv("KUBECONFIG", kube.kubeconfig(tmp_path / "kc", katib.NAMESPACE))
        kube.state.put(katib.failed_experiment())
        finished = katib.default_trials()[1:]  # the best trial never ran
        for trial in finished:
            kube.state.put(trial)
        assert 0 == _run()
        [pr] = github.state.prs.values()
        assert "HPO results: llama-3-2-1b-imdb FAILED" == pr["title"]
        assert ["hpo-results", "hpo-failed"] == [label["name"] for label in pr["labels"]]
        assert "ExperimentMaxFailedTrialsReached" in pr["body"]
        loaded = yaml.safe_load(origin.show(BRANCH, f"experiments/{NAME}/results.yaml"))
        assert ("Failed", 3) == (loaded["status"], len(loaded["trials"]))
        assert loaded["reason"].startswith("ExperimentMaxFailedTrialsReached: ")


SYNC_OPTIONS = "argocd.argoproj.io/sync-options"


class TestRelease:
    """Once the Experiment has finished, the Job lifts its Prune=false,Delete=false as
    hpo-results (fields Argo CD leaves alone), before the results reach Git: a merged
    results.yaml means archiving may delete the Experiment."""

    def _protected(self, kube) -> None:
        experiment = katib.running_experiment(resource_version="100")
        experiment["metadata"]["annotations"][SYNC_OPTIONS] = "Prune=false,Delete=false"
        kube.state.put(experiment)

    def test_released_as_hpo_results(self, cluster, settings, capsys):
        self._protected(cluster)
        assert 0 == _run()
        live = cluster.state.experiments[(katib.NAMESPACE, NAME)]
        assert {SYNC_OPTIONS: "", "argocd.argoproj.io/sync-wave": "2"} == live["metadata"][
            "annotations"
        ]
        [(path, content_type, body)] = cluster.state.patches
        assert path.endswith(f"/experiments/{NAME}?fieldManager=hpo-results")
        assert "application/merge-patch+json" == content_type
        assert {"metadata": {"annotations": {SYNC_OPTIONS: ""}}} == body

    def test_a_refused_release_fails_before_any_result_is_pushed(
        self, cluster, settings, origin, capsys
    ):
        self._protected(cluster)
        cluster.state.forbid_patches = True
        assert 4 == _run()
        err = capsys.readouterr().err
        assert "HTTP 403 forbidden" in err and "release it once finished" in err
        assert origin.tip(BRANCH) is None


class TestErrors:
    """Bad settings and dead ends end with one line on stderr and a named exit code."""

    def test_missing_settings_are_listed_at_once(self, capsys):
        assert 2 == _run()
        expected = (
            "error: results: missing --git-url (HPO_GIT_URL), --definition (HPO_DEFINITION), "
            "--forge (HPO_FORGE), --repo (HPO_REPO), HPO_FORGE_TOKEN\n"
        )
        assert expected == capsys.readouterr().err

    def test_unknown_forge_from_the_environment(self, settings, monkeypatch, capsys):
        monkeypatch.setenv("HPO_FORGE", "gitea")
        assert 2 == _run()
        expected = (
            "error: results: forge settings: forge (HPO_FORGE) must be github or gitlab, "
            "not 'gitea'\n"
        )
        assert expected == capsys.readouterr().err

    def test_bad_timeout(self, settings, capsys):
        assert 2 == _run("--timeout", "soon")
        assert "error: --timeout: 'soon' is not a duration such as 3600, 90m or 7d\n" == (
            capsys.readouterr().err
        )

    def test_deadline(self, kube, settings, tmp_path, monkeypatch, capsys):
        monkeypatch.setenv("KUBECONFIG", kube.kubeconfig(tmp_path / "kc", katib.NAMESPACE))
        kube.state.put(katib.running_experiment())
        assert 3 == _run("--timeout", "1s")
        expected = "error: Experiment kubeflow/llama-3-2-1b-imdb did not finish within 1s\n"
        assert expected == capsys.readouterr().err.splitlines(keepends=True)[-1]

    def test_unreadable_definition_record_fails_before_waiting(
        self, cluster, settings, definition_file, capsys
    ):
        definition_file.write_text('{"spec": {"name": "x"}}', encoding="utf-8")
        assert 1 == _run()
        expected = (
            f"error: {definition_file}: not a rendered definition: missing definition_sha256\n"
        )
        assert expected == capsys.readouterr().err.splitlines(keepends=True)[-1]
        assert [] == cluster.state.requests  # refused before any wait

    def test_definition_record_is_what_types_the_values(
        self, cluster, settings, definition_file, origin
    ):
        """The record rendered for the Job decides the types, not experiment.yaml on main."""
        text = katib.DEFINITION.replace("values: [true, false]", 'values: ["true", "false"]')
        definition_file.write_text(definition_record(text).to_json(), encoding="utf-8")
        assert 0 == _run()
        loaded = yaml.safe_load(origin.show(BRANCH, f"experiments/{NAME}/results.yaml"))
        assert "true" == loaded["best_trial"]["parameters"]["use_rslora"]

    def test_branch_owned_by_a_person_is_left_alone(self, cluster, settings, origin, capsys):
        work = origin.clone("person")
        git(work, "checkout", "--quiet", "-b", BRANCH)
        (work / "notes.md").write_text("my own analysis\n")
        git(work, "add", "notes.md")
        git(work, "commit", "--quiet", "-m", "Notes", identity=PERSON)
        git(work, "push", "--quiet", "origin", BRANCH)
        tip = origin.tip(BRANCH)
        assert 0 == _run()
        assert (
            capsys.readouterr()
            .err.splitlines()[-1]
            .startswith(f"warning: {BRANCH} has commits by Ada Reviewer <ada@example.org>")
        )
        assert tip == origin.tip(BRANCH)


class TestCheckpoints:
    """With HPO_CHECKPOINT_DIR (hpo-asha), the Job empties it once the Experiment finished."""

    def test_emptied_after_the_experiment_finished(self, cluster, settings, tmp_path, monkeypatch):
        folder = checkpoints(tmp_path / "mounted")
        monkeypatch.setenv("HPO_CHECKPOINT_DIR", str(folder))

        assert 0 == _run()

        assert folder.is_dir() and [] == list(folder.iterdir())

    def test_kept_while_the_experiment_runs(self, kube, settings, tmp_path, monkeypatch):
        monkeypatch.setenv("KUBECONFIG", kube.kubeconfig(tmp_path / "kc", katib.NAMESPACE))
        kube.state.put(katib.running_experiment())
        folder = checkpoints(tmp_path / "mounted")
        monkeypatch.setenv("HPO_CHECKPOINT_DIR", str(folder))

        assert 3 == _run("--timeout", "1s")  # gave up waiting

        assert 3 == len(list(folder.iterdir()))

    def test_a_folder_it_cannot_empty_is_a_warning(
        self, cluster, settings, origin, tmp_path, monkeypatch, caplog
    ):
        """The results matter more than the space: they are written all the same."""
        folder = checkpoints(tmp_path / "mounted")
        monkeypatch.setenv("HPO_CHECKPOINT_DIR", str(folder))

        def busy(path):
            raise OSError(16, "Device or resource busy", str(path))

        monkeypatch.setattr("results.checkpoints.remove_checkpoints", busy)

        assert 0 == _run()

        assert f"could not remove the checkpoints in {folder}" in caplog.text
        assert origin.tip(BRANCH) is not None
