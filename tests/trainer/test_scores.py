"""Evaluation scores against values worked out by hand."""

from __future__ import annotations

import pytest

from trainer.tasks.scores import (
    accuracy,
    entities,
    entity_scores,
    f1,
    normalize_answer,
    squad_scores,
)


class TestClassification:
    """Accuracy, binary F1 of the positive class, macro F1 beyond two classes."""

    def test_accuracy(self):
        assert accuracy([1, 0, 1, 1], [1, 0, 0, 1]) == 0.75

    def test_binary_f1_scores_the_positive_class(self):
        # tp=2, fp=1, fn=1 -> 2*2 / (4 + 1 + 1)
        assert pytest.approx(4 / 6) == f1([1, 1, 1, 0, 0], [1, 1, 0, 1, 0], num_classes=2)

    def test_macro_f1(self):
        # class 0: tp1 fp0 fn0 -> 1; class 1: tp1 fp1 fn0 -> 2/3; class 2: tp0 fp0 fn1 -> 0
        expected = (1 + 2 / 3 + 0) / 3
        assert pytest.approx(expected) == f1([0, 1, 1], [0, 1, 2], num_classes=3)

    def test_nothing_predicted_positive_is_zero(self):
        assert f1([0, 0], [1, 0], num_classes=2) == 0.0


class TestEntities:
    """Entity spans from IOB2 and plain tags, scored as whole entities."""

    def test_iob2_spans(self):
        tags = ["B-PER", "I-PER", "O", "B-LOC", "B-LOC", "I-LOC", "I-PER"]
        expected = {("PER", 0, 2), ("LOC", 3, 4), ("LOC", 4, 6), ("PER", 6, 7)}
        assert expected == entities(tags)

    def test_plain_tags_form_runs(self):
        assert {("PER", 0, 2), ("LOC", 3, 4)} == entities(["PER", "PER", "O", "LOC"])

    def test_partial_entity_counts_as_wrong(self):
        references = [["B-PER", "I-PER", "O", "B-LOC"]]
        predictions = [["B-PER", "O", "O", "B-LOC"]]
        # LOC found; PER predicted one token short: tp=1, fp=1, fn=1.
        expected = {"precision": 0.5, "recall": 0.5, "f1": 0.5}
        assert expected == entity_scores(predictions, references)


class TestSquad:
    """Exact match and token F1 after SQuAD's normalization, best over reference answers."""

    def test_normalization(self):
        assert normalize_answer("The  Eiffel Tower!") == "eiffel tower"

    def test_scores(self):
        predictions = ["the Eiffel Tower", "in Paris France", ""]
        references = [["Eiffel Tower"], ["London", "Paris"], ["Rome"]]
        # 1: exact. 2: F1 with "Paris" = 2*1/(3+1) = 0.5. 3: empty prediction scores 0.
        expected = {"exact_match": 1 / 3, "f1": pytest.approx((1 + 0.5 + 0) / 3)}
        assert expected == squad_scores(predictions, references)
