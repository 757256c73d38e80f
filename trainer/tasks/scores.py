"""Evaluation scores, as plain functions over predictions and references.

Written out here rather than pulled from `evaluate`/`seqeval`, so the trainer image needs no
metric downloads and each score is tested against hand-computed values.
"""

from __future__ import annotations

import collections
import re
import string
from collections.abc import Sequence


def accuracy(predictions: Sequence[int], references: Sequence[int]) -> float:
    if not references:
        return 0.0
    return sum(p == r for p, r in zip(predictions, references, strict=True)) / len(references)


def f1(predictions: Sequence[int], references: Sequence[int], num_classes: int) -> float:
    """Binary F1 of class 1 for two classes, else the unweighted mean over classes."""
    classes = [1] if num_classes == 2 else range(num_classes)
    scores = []
    for c in classes:
        tp = sum(p == c and r == c for p, r in zip(predictions, references, strict=True))
        fp = sum(p == c and r != c for p, r in zip(predictions, references, strict=True))
        fn = sum(p != c and r == c for p, r in zip(predictions, references, strict=True))
        scores.append(harmonic(tp, fp, fn))
    return sum(scores) / len(scores)


def harmonic(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def entities(tags: Sequence[str]) -> set[tuple[str, int, int]]:
    """(type, start, end) spans of IOB2 tags; plain tags (IO scheme) form runs of one type.

    An `I-X` that does not follow an `X` starts an entity, as conlleval counts it.
    """
    spans: set[tuple[str, int, int]] = set()
    kind, start = None, 0
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, name = tag.partition("-") if tag[:2] in ("B-", "I-") else ("", "", tag)
        continues = kind is not None and prefix != "B" and name == kind
        if kind is not None and not continues:
            spans.add((kind, start, i))
            kind = None
        if name != "O" and not continues:
            kind, start = name, i
    return spans


def entity_scores(
    predictions: Sequence[Sequence[str]], references: Sequence[Sequence[str]]
) -> dict[str, float]:
    """Entity-level micro precision, recall and F1 over sentences of tag names."""
    tp = fp = fn = 0
    for pred, ref in zip(predictions, references, strict=True):
        got, want = entities(pred), entities(ref)
        tp += len(got & want)
        fp += len(got - want)
        fn += len(want - got)
    return {
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / (tp + fn) if tp + fn else 0.0,
        "f1": harmonic(tp, fp, fn),
    }


def normalize_answer(text: str) -> str:
    """SQuAD's normalization: lower case, no punctuation, articles or extra spaces."""
    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def answer_f1(prediction: str, reference: str) -> float:
    pred, ref = normalize_answer(prediction).split(), normalize_answer(reference).split()
    if not pred or not ref:
        return float(pred == ref)
    common = sum((collections.Counter(pred) & collections.Counter(ref)).values())
    return harmonic(common, len(pred) - common, len(ref) - common)


def squad_scores(predictions: Sequence[str], references: Sequence[Sequence[str]]) -> dict:
    """Exact match and token F1, each the best over an example's reference answers."""
    if not predictions:
        return {"exact_match": 0.0, "f1": 0.0}
    exact = f1_sum = 0.0
    for pred, answers in zip(predictions, references, strict=True):
        answers = list(answers) or [""]
        exact += max(float(normalize_answer(pred) == normalize_answer(a)) for a in answers)
        f1_sum += max(answer_f1(pred, a) for a in answers)
    return {"exact_match": exact / len(predictions), "f1": f1_sum / len(predictions)}
