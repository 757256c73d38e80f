"""The trial command line: typed values, column roles, rungs and flags, checked before torch
loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from trainer.config import parse_args, parse_columns, parse_typed
from trainer.errors import TrialConfigError
from trainer.rungs import Rung

REQUIRED = ["--model-dir", "m", "--dataset-dir", "d", "--output-dir", "o"]


class TestTypedValues:
    """`NAME:TYPE=VALUE` becomes a typed Python value; anything else is refused with the reason."""

    @pytest.mark.parametrize(
        ("item", "expected"),
        [
            ("learning_rate:float=3e-5", ("learning_rate", 3e-05)),
            ("r:int=16", ("r", 16)),
            ("fp16:bool=false", ("fp16", False)),
            ("bf16:bool=true", ("bf16", True)),
            ("bias:str=none", ("bias", "none")),
            ("save_strategy:str=", ("save_strategy", "")),
            ('target_modules:json=["q_proj","v_proj"]', ("target_modules", ["q_proj", "v_proj"])),
            ("modules_to_save:json=null", ("modules_to_save", None)),
            ("note:str=a=b", ("note", "a=b")),
        ],
    )
    def test_converts_by_declared_type(self, item, expected):
        assert expected == parse_typed(item)

    def test_int_stays_int_and_float_stays_float(self):
        types = (type(parse_typed("epochs:int=3")[1]), type(parse_typed("lr:float=3")[1]))
        assert (int, float) == types

    @pytest.mark.parametrize(
        ("item", "message"),
        [
            ("fp16:bool=False", "'False' is not a valid bool: a bool is `true` or `false`"),
            ("fp16:bool=1", "'1' is not a valid bool: a bool is `true` or `false`"),
            ("r:int=16.0", "'16.0' is not a valid int: invalid literal for int() with base 10"),
            ("lr:float=nan", "'nan' is not a valid float: not a finite number"),
            ("lr:double=1", "unknown type 'double'; use one of int, float, bool, str, json"),
            ("lr=1", "expected NAME:TYPE=VALUE, e.g. learning_rate:float=3e-5"),
            ("lr:float", "expected NAME:TYPE=VALUE, e.g. learning_rate:float=3e-5"),
            ("x:json=[1,", "'[1,' is not a valid json: Expecting value"),
        ],
    )
    def test_refuses_with_reason(self, item, message):
        with pytest.raises(ValueError) as caught:
            parse_typed(item)
        assert str(caught.value).startswith(message)


class TestColumns:
    """Each role has its task's default column; `ROLE=NAME` renames one, unknown roles fail."""

    def test_defaults_follow_the_task(self):
        expected = {"tokens": "tokens", "tags": "ner_tags"}
        assert expected == parse_columns("AutoModelForTokenClassification", [])

    def test_rename_and_optional_pair(self):
        columns = parse_columns(
            "AutoModelForSequenceClassification", ["text=review", "text_pair=title"]
        )
        assert columns == {"text": "review", "text_pair": "title", "label": "label"}

    def test_unknown_role_lists_the_roles(self):
        with pytest.raises(TrialConfigError) as caught:
            parse_columns("AutoModelForCausalLM", ["label=x"])
        expected = "--column label=x: AutoModelForCausalLM has no role 'label'; roles are text"
        assert expected == str(caught.value)


class TestParseArgs:
    """The whole command line, as the generator renders it into the trial template."""

    def test_rendered_command(self):
        config = parse_args(
            [
                *REQUIRED,
                *("--transformer-type", "AutoModelForSequenceClassification"),
                *("--num-labels", "2", "--save-adapter", "--column", "text=review"),
                *("--training", "learning_rate:float=2.5e-05"),
                *("--training", "num_train_epochs:int=3", "--training", "save_strategy:str=no"),
                *("--lora", "r:int=8", "--lora", "lora_alpha:int=8"),
                *("--lora", "lora_dropout:float=0.1", "--lora", "bias:str=none"),
            ]
        )
        expected_training = {"learning_rate": 2.5e-05, "num_train_epochs": 3, "save_strategy": "no"}
        assert expected_training == config.training
        assert config.lora == {"r": 8, "lora_alpha": 8, "lora_dropout": 0.1, "bias": "none"}
        assert (Path("m"), 2, True, None) == (
            config.model_dir,
            config.num_labels,
            config.save_adapter,
            config.max_length,
        )
        assert config.columns["text"] == "review"

    @pytest.mark.parametrize(
        ("extra", "message"),
        [
            (["--training", "r:int=1", "--training", "r:int=2"], "--training r is given twice"),
            (["--training", "output_dir:str=/x"], "--training output_dir is set by --output-dir"),
            (["--num-labels", "0"], "--num-labels must be at least 1, got 0"),
            (["--max-length", "4"], "--max-length must be at least 8, got 4"),
            (["--lora", "r:int=x"], "--lora r:int=x: 'x' is not a valid int"),
            (["--max-length", "many"], "argument --max-length: invalid int value: 'many'"),
        ],
    )
    def test_refuses_bad_flags(self, extra, message):
        argv = [*REQUIRED, "--transformer-type", "AutoModelForCausalLM", *extra]
        with pytest.raises(TrialConfigError) as caught:
            parse_args(argv)
        assert str(caught.value).startswith(message)

    def test_unknown_transformer_type(self):
        with pytest.raises(TrialConfigError) as caught:
            parse_args([*REQUIRED, "--transformer-type", "AutoModelForSeq2SeqLM"])
        assert "invalid choice: 'AutoModelForSeq2SeqLM'" in str(caught.value)


class TestRungFlags:
    """`--rung K --rungs R --reduction-factor ETA --checkpoint-dir DIR` resolve into the plain
    stop-and-resume fields the recipe reads; the direct flags set those fields themselves."""

    BASE = (*REQUIRED, "--transformer-type", "AutoModelForCausalLM")

    def rung(self, k: int, *extra: str):
        flags = ("--rungs", "3", "--reduction-factor", "3", "--checkpoint-dir", "/ck/config-7")
        return parse_args([*self.BASE, "--rung", str(k), *flags, *extra])

    def test_lowest_rung_saves_and_resumes_nothing(self):
        config = self.rung(0)
        assert (Rung(0, 3, 3), None, Path("/ck/config-7/rung-0"), False, None) == (
            config.rung,
            config.resume_from,
            config.save_checkpoint_to,
            config.remove_resumed,
            config.stop_at_step,
        )

    def test_middle_rung_resumes_the_rung_below_and_saves_its_own(self):
        config = self.rung(1)
        assert (Path("/ck/config-7/rung-0"), Path("/ck/config-7/rung-1"), True) == (
            config.resume_from,
            config.save_checkpoint_to,
            config.remove_resumed,
        )

    def test_top_rung_is_the_full_run_and_saves_no_checkpoint(self):
        config = self.rung(2)
        assert (Path("/ck/config-7/rung-1"), None, True) == (
            config.resume_from,
            config.save_checkpoint_to,
            config.remove_resumed,
        )

    def test_direct_flags_keep_the_checkpoint_they_resume(self):
        config = parse_args(
            [*self.BASE, "--stop-at-step", "5", "--resume-from", "a", "--save-checkpoint", "b"]
        )
        assert (5, Path("a"), Path("b"), False, None) == (
            config.stop_at_step,
            config.resume_from,
            config.save_checkpoint_to,
            config.remove_resumed,
            config.rung,
        )

    def test_no_flags_train_the_full_run(self):
        config = parse_args(list(self.BASE))
        assert (None, None, None, None, False) == (
            config.stop_at_step,
            config.rung,
            config.resume_from,
            config.save_checkpoint_to,
            config.remove_resumed,
        )

    @pytest.mark.parametrize(
        ("extra", "message"),
        [
            (
                ["--rung", "1", "--rungs", "3"],
                "--rung --rungs without --reduction-factor, --checkpoint-dir: the rung flags "
                "--rung, --rungs, --reduction-factor, --checkpoint-dir go together",
            ),
            (
                ["--checkpoint-dir", "/ck"],
                "--checkpoint-dir without --rung, --rungs, --reduction-factor: the rung flags",
            ),
            (
                ["--rung", "3", "--rungs", "3", "--reduction-factor", "3", "--checkpoint-dir", "c"],
                "--rung 3 --rungs 3 --reduction-factor 3: rung must be below rungs (3): rungs "
                "are 0..2, got 3",
            ),
            (
                ["--rung", "0", "--rungs", "1", "--reduction-factor", "3", "--checkpoint-dir", "c"],
                "--rung 0 --rungs 1 --reduction-factor 3: rungs must be at least 2, got 1",
            ),
            (
                ["--rung", "0", "--rungs", "3", "--reduction-factor", "1", "--checkpoint-dir", "c"],
                "--rung 0 --rungs 3 --reduction-factor 1: reduction_factor must be at least 2",
            ),
            (
                ["--rung", "1", "--rungs", "3", "--reduction-factor", "3", "--checkpoint-dir", "c"]
                + ["--stop-at-step", "4"],
                "--stop-at-step with --rung: the rung flags choose the stop step and the "
                "checkpoints themselves",
            ),
            (
                ["--rung", "1", "--rungs", "3", "--reduction-factor", "3", "--checkpoint-dir", "c"]
                + ["--resume-from", "x"],
                "--resume-from with --rung",
            ),
            (["--rung", "one"], "argument --rung: invalid int value: 'one'"),
            (["--stop-at-step", "0"], "--stop-at-step must be at least 1, got 0"),
        ],
    )
    def test_refused(self, extra, message):
        with pytest.raises(TrialConfigError) as caught:
            parse_args([*self.BASE, *extra])
        assert str(caught.value).startswith(message)
