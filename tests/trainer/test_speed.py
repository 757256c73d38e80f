"""Hardware-dependent choices, decided by pure functions and tested without a GPU."""

from __future__ import annotations

import pytest

from trainer.speed import (
    COMPILE_MIN_STEPS,
    Hardware,
    bucket_for,
    bucket_lengths,
    choose_num_workers,
    choose_precision,
    has_c_compiler,
    load_dtype,
    native_bf16,
    plan_total_steps,
    should_compile,
    training_defaults,
)

H100 = Hardware(cuda=True, bf16=True, cpu_count=16, local_world_size=1, c_compiler=True)
V100 = Hardware(cuda=True, bf16=False, cpu_count=8, local_world_size=1)
CPU = Hardware(cuda=False, bf16=False, cpu_count=2, local_world_size=1)


class TestPrecision:
    """bf16 where the GPU has it; fp32 elsewhere; the definition's own choice always wins."""

    @pytest.mark.parametrize(
        ("cuda", "bf16", "user_set", "expected"),
        [
            (True, True, False, "bf16"),
            (True, False, False, "fp32"),
            (False, False, False, "fp32"),
            (True, True, True, None),
        ],
    )
    def test_choice(self, cuda, bf16, user_set, expected):
        assert expected == choose_precision(cuda, bf16, user_set)

    @pytest.mark.parametrize(
        ("capability", "expected"),
        [((7, 0), False), ((7, 5), False), ((8, 0), True), ((8, 9), True), ((9, 0), True)],
    )
    def test_native_bf16_starts_with_ampere(self, capability, expected):
        """V100 (7.0) and T4 (7.5) only emulate bf16, so they train in fp32."""
        assert expected == native_bf16(capability)

    def test_weights_load_in_bf16_only_when_training_in_bf16(self):
        assert (load_dtype({"bf16": True}), load_dtype({"fp16": True})) == ("bfloat16", "float32")


class TestBuckets:
    """A few fixed padded lengths, never more than eight, ending at the max length."""

    @pytest.mark.parametrize(
        ("max_length", "expected"),
        [
            (512, (64, 128, 192, 256, 320, 384, 448, 512)),
            (200, (64, 128, 192, 200)),
            (48, (48,)),
            (2048, (256, 512, 768, 1024, 1280, 1536, 1792, 2048)),
        ],
    )
    def test_lengths(self, max_length, expected):
        assert expected == bucket_lengths(max_length)

    @pytest.mark.parametrize(("length", "expected"), [(1, 64), (64, 64), (65, 128), (600, 512)])
    def test_smallest_bucket_that_holds_the_row(self, length, expected):
        assert expected == bucket_for(length, bucket_lengths(512))


class TestCompile:
    """torch.compile only on a GPU with a C compiler, only when the trial is long enough, never
    against the user."""

    def test_long_gpu_trial_compiles(self):
        assert should_compile(True, COMPILE_MIN_STEPS, user_set=False, c_compiler=True)

    @pytest.mark.parametrize(
        ("cuda", "steps", "user_set", "c_compiler"),
        [
            (True, COMPILE_MIN_STEPS - 1, False, True),
            (False, 10**6, False, True),
            (True, 10**6, True, True),
            (True, 10**6, False, False),
        ],
    )
    def test_otherwise_eager(self, cuda, steps, user_set, c_compiler):
        assert not should_compile(cuda, steps, user_set, c_compiler)

    def test_no_compiler_on_path_means_eager(self):
        """Images without gcc would fail at the first compiled step: training stays eager."""
        gpu_without_cc = Hardware(cuda=True, bf16=True, cpu_count=16, local_world_size=1)
        defaults = training_defaults(gpu_without_cc, 10**6, False, False, {})
        assert (False, False) == (defaults["torch_compile"], defaults["dataloader_drop_last"])

    @pytest.mark.parametrize(
        ("on_path", "expected"),
        [({"gcc": "/usr/bin/gcc"}, True), ({"cc": "/bin/cc"}, True), ({}, False)],
    )
    def test_compiler_lookup(self, on_path, expected):
        assert expected == has_c_compiler(on_path.get)


class TestWorkers:
    """Loader processes share the node's CPUs among its training processes; none on CPU."""

    @pytest.mark.parametrize(
        ("cuda", "cpus", "local_world", "expected"),
        [(True, 16, 1, 4), (True, 16, 8, 1), (True, 4, 4, 0), (False, 64, 1, 0)],
    )
    def test_count(self, cuda, cpus, local_world, expected):
        assert expected == choose_num_workers(cuda, cpus, local_world)


class TestTotalSteps:
    """Optimizer steps as the Trainer counts them, which sets the compile and report plan."""

    @pytest.mark.parametrize(
        ("rows", "batch", "world", "accumulate", "epochs", "max_steps", "expected"),
        [
            (1000, 8, 1, 1, 3, -1, 375),
            (1000, 8, 2, 1, 3, -1, 189),
            (1000, 8, 1, 4, 1, -1, 31),
            (3, 8, 1, 4, 1, -1, 1),
            (1000, 8, 1, 1, 0.5, -1, 63),
            (1000, 8, 1, 1, 3, 10, 10),
        ],
    )
    def test_steps(self, rows, batch, world, accumulate, epochs, max_steps, expected):
        assert expected == plan_total_steps(rows, batch, world, accumulate, epochs, max_steps)


class TestTrainingDefaults:
    """Defaults fill what the definition leaves out and never replace what it sets."""

    def test_long_trial_on_an_h100(self):
        defaults = training_defaults(H100, 2000, has_eval=True, group_by_length=True, user={})
        expected = {
            "bf16": True,
            "torch_compile": True,
            "dataloader_drop_last": True,
            "dataloader_num_workers": 4,
            "dataloader_persistent_workers": True,
            "dataloader_pin_memory": True,
            "use_cpu": False,
            "train_sampling_strategy": "group_by_length",
            "optim": "adamw_torch_fused",
            "save_strategy": "no",
            "report_to": "none",
            "disable_tqdm": True,
            "average_tokens_across_devices": False,
            "ddp_find_unused_parameters": False,
            "logging_nan_inf_filter": False,
            "logging_steps": 100,
            "eval_strategy": "steps",
            "eval_steps": 400,
        }
        assert expected == defaults

    def test_cpu_trial_without_eval(self):
        defaults = training_defaults(CPU, 10, has_eval=False, group_by_length=False, user={})
        assert (
            defaults["bf16"],
            defaults["torch_compile"],
            defaults["dataloader_num_workers"],
            defaults["optim"],
            defaults["train_sampling_strategy"],
            defaults["logging_steps"],
        ) == (False, False, 0, "adamw_torch", "random", 1)
        assert "eval_strategy" not in defaults

    def test_the_definition_wins(self):
        user = {"fp16": True, "torch_compile": False, "eval_strategy": "epoch", "optim": "sgd"}
        defaults = training_defaults(H100, 5000, has_eval=True, group_by_length=True, user=user)
        assert set() == (set(user) | {"bf16", "eval_steps"}) & set(defaults)

    def test_gpu_without_bf16_keeps_fp32(self):
        defaults = training_defaults(V100, 100, has_eval=False, group_by_length=True, user={})
        assert defaults["bf16"] is False
