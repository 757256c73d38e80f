"""Training throughput of one trial: the reference configuration against the trainer's own.

A Llama-3.2-1B-shaped sequence classifier (random weights) with LoRA r=16 on q_proj/v_proj trains
on IMDB-like lengths (lognormal, median 230 tokens, cut at 512). The reference pads every row to
512 and trains in fp32 without autocast, as the Katib LLM trainer does; ours takes its choices from
`trainer.speed` and `trainer.collate`: bf16 weights and autocast where the GPU has bf16, rows
grouped by length and padded to a few bucket lengths, fused AdamW, and optionally torch.compile.

    python benchmarks/trial_throughput.py            # on a GPU: the real model, batch 8 and 64
    python benchmarks/trial_throughput.py --tiny     # anywhere: a small Llama, a few steps

Prints a Markdown table: samples/s, real (non-padding) tokens/s, padding share, peak memory,
compile time and speed-up over the reference.
"""

from __future__ import annotations

import argparse
import gc
import math
import random
import resource
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from peft import LoraConfig, get_peft_model
from transformers import LlamaConfig, LlamaForSequenceClassification
from transformers.trainer_pt_utils import LengthGroupedSampler

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support.tiny_models import llama_config  # noqa: E402
from trainer.collate import BucketPadCollator  # noqa: E402
from trainer.speed import bucket_lengths, choose_precision  # noqa: E402

MAX_LENGTH = 512
MEDIAN_LENGTH = 230
LENGTH_SIGMA = 0.6  # IMDB reviews: a long right tail, a quarter of them past 512 tokens

LLAMA_1B = dict(
    vocab_size=128256,
    hidden_size=2048,
    intermediate_size=8192,
    num_hidden_layers=16,
    num_attention_heads=32,
    num_key_value_heads=8,
    max_position_embeddings=131072,
    rope_theta=500000.0,
    tie_word_embeddings=True,
)
# The sizes of tests.support.tiny_models.llama_config for --tiny.
LLAMA_TINY = dict(
    vocab_size=1000,
    hidden_size=64,
    intermediate_size=256,
    layers=2,
    heads=4,
    kv_heads=2,
    max_positions=MAX_LENGTH,
)


def model_config(tiny: bool) -> LlamaConfig:
    """A two-label sequence classifier padding with id 0: Llama-3.2-1B's shape, or a tiny one."""
    head = dict(num_labels=2, pad_token_id=0)
    if tiny:
        return llama_config(**LLAMA_TINY, **head)
    return LlamaConfig(**LLAMA_1B, **head)


@dataclass(frozen=True)
class Setup:
    name: str
    batch_size: int
    bf16: bool
    bucketed: bool  # length-grouped batches padded to buckets; else every row padded to 512
    fused_adamw: bool
    compile: bool


@dataclass
class Result:
    setup: Setup
    samples_per_s: float
    real_tokens_per_s: float
    padding: float
    peak_memory_gib: float
    compile_s: float | None


def imdb_like_lengths(count: int, seed: int) -> list[int]:
    generator = torch.Generator().manual_seed(seed)
    normal = torch.randn(count, generator=generator)
    lengths = torch.exp(math.log(MEDIAN_LENGTH) + LENGTH_SIGMA * normal).round().long()
    return lengths.clamp(16, MAX_LENGTH).tolist()


def make_rows(lengths: list[int], vocab_size: int, seed: int) -> list[dict]:
    generator = torch.Generator().manual_seed(seed)
    rows = []
    for i, length in enumerate(lengths):
        ids = torch.randint(1, vocab_size, (length,), generator=generator).tolist()
        rows.append({"input_ids": ids, "attention_mask": [1] * length, "labels": i % 2})
    return rows


def batches(rows: list[dict], setup: Setup, seed: int) -> list[dict]:
    if setup.bucketed:
        # The Trainer's own sampler for train_sampling_strategy="group_by_length".
        lengths = [len(row["input_ids"]) for row in rows]
        order = list(
            LengthGroupedSampler(
                setup.batch_size,
                lengths=lengths,
                generator=torch.Generator().manual_seed(seed),
            )
        )
        collate = BucketPadCollator(0, bucket_lengths(MAX_LENGTH))
    else:
        order = list(range(len(rows)))
        collate = BucketPadCollator(0, (MAX_LENGTH,))
    size = setup.batch_size
    return [
        collate([rows[i] for i in order[start : start + size]])
        for start in range(0, len(order) - size + 1, size)
    ]


def build_model(config: LlamaConfig, setup: Setup, device: torch.device) -> torch.nn.Module:
    dtype = torch.bfloat16 if setup.bf16 else torch.float32
    with torch.device(device):
        model = LlamaForSequenceClassification(config).to(dtype)
    lora = LoraConfig(r=16, lora_alpha=32, target_modules=["q_proj", "v_proj"], task_type="SEQ_CLS")
    model = get_peft_model(model, lora)
    for parameter in model.parameters():
        if parameter.requires_grad:
            parameter.data = parameter.data.float()
    return model


def measure(
    config: LlamaConfig,
    setup: Setup,
    rows: list[dict],
    steps: int,
    device: torch.device,
    seed: int,
) -> Result:
    torch.manual_seed(seed)
    model = build_model(config, setup, device)
    trainable = [p for p in model.parameters() if p.requires_grad]
    fused = {"fused": True} if setup.fused_adamw else {}
    optimizer = torch.optim.AdamW(trainable, lr=1e-4, **fused)
    forward = torch.compile(model) if setup.compile else model
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=setup.bf16)

    def step(batch: dict) -> None:
        batch = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
        with autocast:
            loss = forward(**batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    def synchronize() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()

    all_batches = batches(rows, setup, seed)
    # Warm up on one batch of every distinct shape, so that compilation (and any recompile for
    # a new shape) happens here, not inside the timed steps.
    warmup = list({tuple(b["input_ids"].shape): b for b in all_batches}.values())
    # A random draw over the whole epoch: the sampler starts every group of batches with its
    # longest, so the first few (or every n-th) would overstate the padding-free share.
    timed = random.Random(seed).sample(all_batches, min(steps, len(all_batches)))
    synchronize()
    start = time.perf_counter()
    for batch in warmup:
        step(batch)
    synchronize()
    warmup_s = time.perf_counter() - start
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()

    durations = []
    for batch in timed:
        begin = time.perf_counter()
        step(batch)
        synchronize()
        durations.append(time.perf_counter() - begin)
    total = sum(durations)
    real = sum(int(b["attention_mask"].sum()) for b in timed)
    padded = sum(b["input_ids"].numel() for b in timed)
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated() / 2**30
    else:  # the process's high-water mark so far, in KiB on Linux
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    compile_s = warmup_s - len(warmup) * statistics.median(durations) if setup.compile else None
    return Result(
        setup,
        samples_per_s=len(timed) * setup.batch_size / total,
        real_tokens_per_s=real / total,
        padding=1 - real / padded,
        peak_memory_gib=peak,
        compile_s=compile_s,
    )


def setups(cuda: bool, bf16_supported: bool, compile_: bool, sizes: list[int]) -> list[Setup]:
    ours_bf16 = choose_precision(cuda, bf16_supported, user_set=False) == "bf16"
    found = [Setup("reference", 8, bf16=False, bucketed=False, fused_adamw=False, compile=False)]
    for size in sizes:
        found.append(Setup("ours", size, ours_bf16, True, fused_adamw=cuda, compile=False))
        if compile_:
            found.append(Setup("ours + compile", size, ours_bf16, True, cuda, compile=True))
    return found


def table(results: list[Result], device_name: str) -> str:
    reference = results[0].samples_per_s
    lines = [
        f"Device: {device_name}",
        "",
        "| configuration | batch | precision | samples/s | real tokens/s | padding "
        "| peak memory (GiB) | compile (s) | vs reference |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        s = r.setup
        compile_s = f"{r.compile_s:.0f}" if r.compile_s is not None else "–"
        lines.append(
            f"| {s.name} | {s.batch_size} | {'bf16' if s.bf16 else 'fp32'} "
            f"| {r.samples_per_s:.1f} | {r.real_tokens_per_s:,.0f} | {r.padding:.0%} "
            f"| {r.peak_memory_gib:.2f} | {compile_s} | {r.samples_per_s / reference:.1f}× |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="small Llama, few steps (any CPU)")
    parser.add_argument("--steps", type=int, help="timed steps per configuration")
    parser.add_argument("--batch-sizes", default="8,64", help="batch sizes for ours")
    parser.add_argument(
        "--compile",
        choices=("auto", "yes", "no"),
        default="auto",
        help="also measure torch.compile (auto: on CUDA only)",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    cuda = torch.cuda.is_available()
    device = torch.device("cuda" if cuda else "cpu")
    if not cuda and not args.tiny:
        print("error: the 1B model needs a GPU; pass --tiny to run on the CPU", file=sys.stderr)
        return 2
    config = model_config(args.tiny)
    steps = args.steps or (8 if args.tiny else 30)
    sizes = [int(size) for size in args.batch_sizes.split(",")]
    compile_ = args.compile == "yes" or (args.compile == "auto" and cuda)
    bf16 = cuda and torch.cuda.is_bf16_supported()

    # Enough rows for the timed steps and a warm-up batch of every bucket at the largest batch.
    rows_needed = max(sizes + [8]) * (steps + 2 * len(bucket_lengths(MAX_LENGTH)))
    rows = make_rows(imdb_like_lengths(rows_needed, args.seed), config.vocab_size, args.seed)
    results = []
    for setup in setups(cuda, bf16, compile_, sizes):
        results.append(measure(config, setup, rows, steps, device, args.seed))
        gc.collect()  # the model of this configuration, before the next one is built
        if cuda:
            torch.cuda.empty_cache()
        print(f"measured {setup}", file=sys.stderr, flush=True)
    name = torch.cuda.get_device_name() if cuda else f"CPU ({torch.get_num_threads()} threads)"
    model = "Llama-3.2-1B shape" if not args.tiny else "tiny Llama (--tiny)"
    print(table(results, f"{name}; {model}; {steps} timed steps per row"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
