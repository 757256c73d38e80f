"""Render and validate many definitions; print milliseconds per definition.

Target: <= 20 ms per definition on a 2-core machine, so `hpo check` and `hpo render` stay
instant on a repository with hundreds of experiments. Run: python benchmarks/render_definitions.py
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from generator.commands.project import check_definition_file, check_definitions  # noqa: E402
from generator.loading.repo_config import load_repo_config  # noqa: E402

TARGET_MS = 20  # CPU per definition, in a batch
ALGORITHMS = ["random", "tpe", "multivariate-tpe", "bayesianoptimization", "sobol"]
TASKS = [
    ("AutoModelForSequenceClassification", "num_labels: 2\n  "),
    ("AutoModelForCausalLM", ""),
    ("AutoModelForTokenClassification", "num_labels: 9\n  "),
]


def definition(i: int) -> str:
    task, labels = TASKS[i % len(TASKS)]
    workers = 2 if i % 7 == 0 else 1
    return f"""\
name: bench-{i:04d}
cluster: gpu-cluster-1
model_provider_parameters:
  model_uri: hf://org/model-{i % 11}
  revision: "{i:040x}"
  transformer_type: {task}
  {labels}access_token: {{secret: hf-token, key: token}}
dataset_provider_parameters:
  repo_id: org/data-{i % 13}
  split: train[:{1000 + i}]
  eval_split: test[:200]
trainer_parameters:
  training_parameters:
    learning_rate: {{search: double, min: 1.0e-5, max: {1e-4 + i * 1e-7:.7f}}}
    per_device_train_batch_size: {{search: categorical, values: [8, 16, 32]}}
    num_train_epochs: {1 + i % 3}
    save_strategy: "no"
  lora_config:
    r: {{search: int, min: 4, max: {16 + i % 48}}}
    lora_alpha: 16
    target_modules: [q_proj, v_proj]
objective_metric_name: eval_loss
objective_type: minimize
algorithm_name: {ALGORITHMS[i % len(ALGORITHMS)]}
max_trial_count: {8 + i % 20}
parallel_trial_count: 2
resources_per_trial: {{gpu: 1, cpu: 4, memory: 16Gi, num_workers: {workers}}}
storage_config: {{size: 50Gi, access_modes: [ReadWriteMany]}}
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for item in ("templates", "images.yaml", "argocd"):
            source = REPO / item
            (shutil.copytree if source.is_dir() else shutil.copy)(source, root / item)
        paths = []
        for i in range(args.count):
            path = root / "experiments" / f"bench-{i:04d}" / "experiment.yaml"
            path.parent.mkdir(parents=True)
            path.write_text(definition(i))
            paths.append(path)
        repo = load_repo_config(root)
        check_definition_file(paths[0], root, repo)  # warm caches: schemas, library fields
        # As hpo check and hpo render do: every definition in one batch.
        start, start_cpu = time.perf_counter(), time.process_time()
        reports = check_definitions(paths, root, repo)
        elapsed = (time.perf_counter() - start) * 1000
        cpu = (time.process_time() - start_cpu) * 1000
        failures = [r for r in reports if r.failed]
        for report in failures:
            print("\n".join(map(str, report.problems)), file=sys.stderr)
        # One at a time, as a pull request touching one experiment does.
        single = []
        for path in paths[:50]:
            start = time.perf_counter()
            check_definition_file(path, root, repo)
            single.append((time.perf_counter() - start) * 1000)
    print(
        f"{args.count} definitions loaded, checked, rendered and validated ({len(failures)} failed)"
    )
    # CPU time does not grow when other processes share the cores; wall time does.
    print(
        f"batch: {elapsed / args.count:.1f} ms wall, {cpu / args.count:.1f} ms CPU per "
        f"definition ({elapsed / 1000:.1f} s in all)"
    )
    print(f"one at a time: median {statistics.median(single):.1f} ms per definition")
    if cpu / args.count > TARGET_MS:
        print(f"over the target of {TARGET_MS} ms CPU per definition", file=sys.stderr)
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
