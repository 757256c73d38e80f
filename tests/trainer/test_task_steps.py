"""The pieces of each task module that carry the logic: alignment, spans, packing, labels."""

from __future__ import annotations

import numpy as np
import pytest
from datasets import ClassLabel, Dataset, Features, Sequence, Value

from trainer.distributed import single_process_env
from trainer.errors import InputError, TrialConfigError
from trainer.tasks.base import (
    attention_targets,
    check_label_ids,
    choose_max_length,
    read_labels,
)
from trainer.tasks.causal_lm import pack
from trainer.tasks.question_answering import NOT_CONTEXT, answer_positions, best_span
from trainer.tasks.token_classification import align_labels


class TestTokenAlignment:
    """A word's tag goes on its first piece; later pieces and special tokens are ignored."""

    def test_first_piece_only(self):
        word_ids = [None, 0, 1, 1, 1, 2, None]
        assert align_labels(word_ids, [5, 3, 0]) == [-100, 5, 3, -100, -100, 0, -100]


class TestAnswerSpans:
    """Character answers map to token positions inside a window, or to (0, 0) outside it."""

    # "[CLS] who [SEP] john lives in paris [SEP]": context offsets of "john lives in paris".
    OFFSETS = [NOT_CONTEXT, NOT_CONTEXT, NOT_CONTEXT, (0, 4), (5, 10), (11, 13), (14, 19)]

    def test_answer_inside(self):
        assert answer_positions(self.OFFSETS, 14, 19) == (6, 6)
        assert answer_positions(self.OFFSETS, 5, 19) == (4, 6)

    def test_answer_outside_window_or_absent(self):
        assert answer_positions(self.OFFSETS, 30, 35) == (0, 0)
        assert answer_positions(self.OFFSETS, None, 0) == (0, 0)

    def test_best_span_skips_question_tokens_and_reversed_spans(self):
        start = np.array([9.0, 8.0, 0, 1, 0, 0, 5.0])
        end = np.array([9.0, 8.0, 0, 0, 7.0, 0, 1.0])
        # The best raw pair (0, 0) is the question; (6, 4) ends before it starts; (3, 4)
        # scores 1 + 7. With one token at most, (4, 4) scores 0 + 7.
        assert best_span(start, end, self.OFFSETS, max_answer_tokens=30) == (8.0, 0, 10)
        assert best_span(start, end, self.OFFSETS, max_answer_tokens=1) == (7.0, 5, 10)


class TestPacking:
    """Texts are joined with eos and cut into blocks; a short tail block is kept."""

    def test_blocks(self):
        blocks = pack([[1, 5, 6], [1, 7, 8]], eos_token_id=2, block=3)
        assert blocks == [[1, 5, 6], [2, 1, 7], [8, 2]]

    def test_single_leftover_token_is_dropped(self):
        # One token predicts nothing: there is no next token inside its block.
        assert pack([[1, 5, 6], [1, 7]], eos_token_id=2, block=3) == [[1, 5, 6], [2, 1, 7]]

    def test_existing_eos_is_not_doubled(self):
        assert pack([[5, 2], [6]], eos_token_id=2, block=8) == [[5, 2, 6, 2]]


class TestLabels:
    """Class names come from ClassLabel, from string values, from --num-labels, or from the ids."""

    def test_class_label_names(self):
        features = Features({"label": ClassLabel(names=["neg", "pos"])})
        labels = read_labels(Dataset.from_dict({"label": [0, 1]}, features), "label", None)
        assert (labels.names, labels.mapping) == (("neg", "pos"), None)

    def test_string_labels_sorted(self):
        labels = read_labels(Dataset.from_dict({"y": ["pos", "neg", "pos"]}), "y", None)
        assert labels.mapping == {"neg": 0, "pos": 1}

    def test_token_tags_inside_a_sequence(self):
        features = Features({"tags": Sequence(ClassLabel(names=["O", "B-X"]))})
        labels = read_labels(Dataset.from_dict({"tags": [[0, 1]]}, features), "tags", None)
        assert labels.names == ("O", "B-X")

    def test_integer_ids_use_num_labels_when_given(self):
        split = Dataset.from_dict({"label": [0, 1]}, Features({"label": Value("int64")}))
        assert ("0", "1", "2") == read_labels(split, "label", 3).names

    def test_integer_ids_without_num_labels_count_up_to_the_largest(self):
        """Classes are 0..max of the train split; -100 (ignored positions) is not a class."""
        split = Dataset.from_dict({"label": [0, 3, 1]}, Features({"label": Value("int64")}))
        assert ("0", "1", "2", "3") == read_labels(split, "label", None).names
        tags = Features({"tags": Sequence(Value("int32"))})
        tagged = Dataset.from_dict({"tags": [[-100, 0, 2, -100], [1, -100]]}, tags)
        assert ("0", "1", "2") == read_labels(tagged, "tags", None).names

    def test_ids_out_of_range_of_num_labels_are_named(self):
        """A given --num-labels is checked against the ids, as before."""
        split = Dataset.from_dict({"label": [0, 4]}, Features({"label": Value("int64")}))
        labels = read_labels(split, "label", 2)
        with pytest.raises(InputError) as caught:
            check_label_ids(split["label"], labels, "label", "train")
        assert "column 'label' of the train split has label 4, outside 0..1" in str(caught.value)

    @pytest.mark.parametrize(
        ("values", "dtype"), [([0.5, 1.5], "float32"), ([-100, -100], "int64")]
    )
    def test_without_class_ids_num_labels_is_required(self, values, dtype):
        split = Dataset.from_dict({"label": values}, Features({"label": Value(dtype)}))
        with pytest.raises(TrialConfigError) as caught:
            read_labels(split, "label", None)
        assert str(caught.value).endswith(
            "so the number of classes is unknown; pass --num-labels N"
        )

    def test_num_labels_must_match_the_class_names(self):
        features = Features({"label": ClassLabel(names=["neg", "pos"])})
        with pytest.raises(InputError) as caught:
            read_labels(Dataset.from_dict({"label": [0]}, features), "label", 3)
        assert str(caught.value) == "--num-labels is 3 but column 'label' has 2 classes: neg, pos"


class TestModelLimits:
    """Max length defaults to 512 within the model's positions; LoRA targets q and v."""

    @pytest.mark.parametrize(
        ("requested", "positions", "expected"),
        [(None, 131072, 512), (None, 128, 128), (None, None, 512), (64, 128, 64)],
    )
    def test_max_length(self, requested, positions, expected):
        assert expected == choose_max_length(requested, positions)

    def test_max_length_past_the_model_is_refused(self):
        with pytest.raises(TrialConfigError):
            choose_max_length(1024, 512)

    @pytest.mark.parametrize(
        ("names", "expected"),
        [
            ({"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj"}, ["q_proj", "v_proj"]),
            ({"query", "key", "value", "dense"}, ["query", "value"]),
            ({"c_attn", "c_proj"}, None),
        ],
    )
    def test_attention_targets(self, names, expected):
        assert expected == attention_targets(names)


class TestLaunchEnvironment:
    """A PyTorchJob pod without torchrun gets the local rank the Trainer needs."""

    def test_pytorchjob_pod(self):
        env = {"MASTER_ADDR": "job-master-0", "RANK": "3", "WORLD_SIZE": "4"}
        assert single_process_env(env) == {"LOCAL_RANK": "0", "LOCAL_WORLD_SIZE": "1"}

    @pytest.mark.parametrize(
        "env", [{}, {"RANK": "1", "WORLD_SIZE": "2", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "2"}]
    )
    def test_single_process_or_torchrun_untouched(self, env):
        assert single_process_env(env) == {}
