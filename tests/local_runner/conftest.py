"""Throwaway repositories with tiny local inputs, and a way to run `hpo tune --local` in them.

Each repository holds a copy of the real templates and configuration, a tiny BERT saved with
save_pretrained under data/model, and a few review rows as JSONL under data/reviews (both built
by tests.support.tiny_models), referred to by relative paths as a `cluster: local` definition
does. Tests that check the runner's rules (counts, stopping, resume) add `trainer/` to the
repository: `python -m trainer` run from the repository root then imports that small stand-in,
which prints metrics computed from its hyperparameters in milliseconds. The same command
reaches the real trainer when it is absent.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from generator.spec.results_file import RESULTS_FILE, ResultsFile
from tests.support.tiny_models import tiny_bert, tiny_reviews

REPO = Path(__file__).resolve().parents[2]
FOLDERS = {"model": "model", "dataset": "reviews"}

# A trial program for rule tests: loss = 10 * learning_rate (+ r / 100), reported `reports`
# times, and trainable_params = 1000 * r once at the end; fails when learning_rate >= 0.5. It
# checks the inputs the download step cached, and writes its output folder, so the /workspace
# mapping is tested on every trial.
# With hpo-asha's rung flags a full run is `reports` steps and the loss falls by 1 / step: rung k
# stops at step ceil(reports / eta**(R-1-k)), continuing from the state the rung below saved in
# <checkpoint-dir>/rung-<k-1> (and failing without it, or when it holds another configuration's
# state), saves its own below the top rung, removes the one it resumed, and prints
# trained_steps; `rung.json` in its output folder says what it did.
STAND_IN_TRAINER = """\
import json, os, shutil, sys, time
from storage_init.cache import verify

argv = sys.argv[1:]
flags = dict(zip(argv[::2], argv[1::2]))
values = {}
for flag, item in zip(argv, argv[1:]):
    if flag in ("--training", "--lora"):
        head, _, text = item.partition("=")
        values[head.split(":")[0]] = text
# Trials see only a neutral environment, so a test sets these knobs in a file beside this one.
knobs_file = os.path.join(os.path.dirname(__file__), "knobs.json")
knobs = json.load(open(knobs_file)) if os.path.exists(knobs_file) else {}
verify(flags["--model-dir"])
verify(flags["--dataset-dir"])
os.makedirs(flags["--output-dir"], exist_ok=True)
lr = float(values["learning_rate"])
if lr >= 0.5:
    print("error: diverged", file=sys.stderr, flush=True)
    sys.exit(1)
loss = 10 * lr + int(values.get("r", "0")) / 100
reports = int(knobs.get("reports", 4))
start, stop, rung = 0, reports, flags.get("--rung")
if rung is not None:
    rung, rungs, eta = int(rung), int(flags["--rungs"]), int(flags["--reduction-factor"])
    folder = flags["--checkpoint-dir"]
    stop = -(-reports // eta ** (rungs - 1 - rung))
    previous = os.path.join(folder, f"rung-{rung - 1}")
    if rung > 0:
        with open(os.path.join(previous, "state.json")) as handle:
            state = json.load(handle)
        if state["learning_rate"] != values["learning_rate"]:
            sys.exit("error: the checkpoint holds another configuration")
        start = state["step"]
for step in range(start + 1, stop + 1):
    print(f"train_loss={loss + (0 if rung is None else 1 / step):.6f}", flush=True)
    print(f"epoch={step / reports:.2f}", flush=True)
    time.sleep(float(knobs.get("sleep", 0.02)))
if rung is not None:
    if rung < rungs - 1:
        partial = os.path.join(folder, f".rung-{rung}.partial")
        os.makedirs(partial, exist_ok=True)
        with open(os.path.join(partial, "state.json"), "w") as handle:
            json.dump({"step": stop, "learning_rate": values["learning_rate"]}, handle)
        os.replace(partial, os.path.join(folder, f"rung-{rung}"))
    if rung > 0:
        shutil.rmtree(previous)
    print(f"trained_steps={stop - start}", flush=True)
    with open(os.path.join(flags["--output-dir"], "rung.json"), "w") as handle:
        json.dump({"rung": rung, "folder": folder, "start": start, "stop": stop}, handle)
if "r" in values:
    print(f"trainable_params={int(values['r']) * 1000}", flush=True)
with open(os.path.join(flags["--output-dir"], "done"), "w") as handle:
    handle.write(repr(loss))
"""


# `hpo` as its own process, run from the repository root. -P keeps that folder off its import
# path, so hpo imports the project's trainer contracts (trainer.catalog, trainer.rungs), not the
# stand-in; the trials it starts (`python -m trainer`) still find the stand-in there.
HPO_PROCESS = ("-P", "-c", "import sys; from generator.cli import main; sys.exit(main())")


def definition(name: str, **overrides) -> str:
    """A cluster: local definition over the tiny inputs; overrides replace top-level keys."""
    document = {
        "name": name,
        "cluster": "local",
        "model_provider_parameters": {
            "model_uri": "./data/model",
            "transformer_type": "AutoModelForSequenceClassification",
            "num_labels": 2,
        },
        "dataset_provider_parameters": {"repo_id": "./data/reviews", "split": "train"},
        "trainer_parameters": {
            "training_parameters": {
                "learning_rate": {"search": "double", "min": 0.1, "max": 0.4},
                "max_steps": 2,
                "per_device_train_batch_size": 4,
            },
            "lora_config": {"r": {"search": "int", "min": 1, "max": 4}},
        },
        "objective_metric_name": "train_loss",
        "objective_type": "minimize",
        "algorithm_name": "random",
        "algorithm_settings": {"random_state": 7},
        "max_trial_count": 4,
        "parallel_trial_count": 2,
    }
    document.update(overrides)
    return yaml.safe_dump(document, sort_keys=False)


def build_inputs(folder: Path) -> None:
    """data/model: a one-layer BERT of hidden size 16; data/reviews: 16 train and 8 test rows."""
    tiny_bert(folder / "model", hidden_size=16, layers=1, intermediate_size=32, max_positions=64)
    tiny_reviews(folder / "reviews", {"train": 16, "test": 8})


@pytest.fixture(scope="session")
def tiny_inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("inputs")
    build_inputs(folder)
    return folder


@pytest.fixture(scope="session")
def warm_cache(tmp_path_factory: pytest.TempPathFactory, tiny_inputs: Path) -> Path:
    """The download step's cache for the default definition, fetched once for all tests."""
    root = tmp_path_factory.mktemp("warm")
    shutil.copytree(tiny_inputs, root / "data")
    for kind, extra in (("model", []), ("dataset", ["--split", "train"])):
        subprocess.run(
            [sys.executable, "-m", "storage_init", kind, "--uri", f"./data/{FOLDERS[kind]}"]
            + extra
            + ["--cache-dir", ".hpo/cache"],
            cwd=root,
            check=True,
            capture_output=True,
        )
    return root / ".hpo" / "cache"


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


class Repo:
    def __init__(self, root: Path):
        self.root = root

    def write(self, name: str, text: str) -> Path:
        path = self.root / "experiments" / name / "experiment.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def use_stand_in_trainer(self) -> None:
        package = self.root / "trainer"
        package.mkdir(exist_ok=True)
        (package / "__init__.py").write_text("", encoding="utf-8")
        (package / "__main__.py").write_text(STAND_IN_TRAINER, encoding="utf-8")

    def set_stand_in(self, reports: int = 4, sleep: float = 0.02) -> None:
        """How many times the stand-in trainer reports, and how long it waits after each."""
        knobs = {"reports": reports, "sleep": sleep}
        (self.root / "trainer" / "knobs.json").write_text(json.dumps(knobs), encoding="utf-8")

    def hpo(self, *args: str, env: dict | None = None, timeout: float = 300) -> Run:
        done = subprocess.run(
            [sys.executable, *HPO_PROCESS] + list(args),
            cwd=self.root,
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return Run(done.returncode, done.stdout, done.stderr)

    def results(self, name: str) -> dict:
        """results.yaml read through its one model (so every test checks the file fits it)."""
        path = self.root / "experiments" / name / RESULTS_FILE
        return ResultsFile.read(path).to_document()


@pytest.fixture
def repo(tmp_path: Path, tiny_inputs: Path, warm_cache: Path) -> Repo:
    root = tmp_path / "repo"
    root.mkdir()
    for item in ("templates", "images.yaml", "argocd/clusters.yaml"):
        source, target = REPO / item, root / item
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy(source, target)
    shutil.copytree(tiny_inputs, root / "data")
    shutil.copytree(warm_cache, root / ".hpo" / "cache")
    return Repo(root)
