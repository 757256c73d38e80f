"""Extractive question answering (SQuAD style): find the answer span inside the context.

A context longer than `max_length` becomes several overlapping windows (`doc_stride` tokens of
overlap), each a training row; at evaluation the best-scoring span over all of an example's
windows is mapped back to characters of the context and compared with the reference answers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from datasets import Dataset
from transformers import AutoModelForQuestionAnswering

from trainer.errors import TrialConfigError
from trainer.tasks import scores
from trainer.tasks.base import Task, load_pretrained, load_tokenizer, text_lengths

NOT_CONTEXT = (-1, -1)  # offsets of question and special tokens: never part of an answer
BEST_CANDIDATES = 20


def answer_positions(
    offsets: list[tuple[int, int]], answer_start: int | None, answer_end: int
) -> tuple[int, int]:
    """Token span of the answer's characters in one window; (0, 0) when it is not inside."""
    context = [i for i, offset in enumerate(offsets) if tuple(offset) != NOT_CONTEXT]
    if answer_start is None or not context:
        return 0, 0
    first, last = context[0], context[-1]
    if offsets[first][0] > answer_start or offsets[last][1] < answer_end:
        return 0, 0
    start = max(i for i in context if offsets[i][0] <= answer_start)
    end = min(i for i in context if offsets[i][1] >= answer_end)
    return start, end


def best_span(
    start_logits: np.ndarray, end_logits: np.ndarray, offsets: list, max_answer_tokens: int
) -> tuple[float, int, int] | None:
    """The highest-scoring (score, first char, last char) span of one window, if any."""
    width = len(offsets)
    starts = np.argsort(start_logits[:width])[-BEST_CANDIDATES:]
    ends = np.argsort(end_logits[:width])[-BEST_CANDIDATES:]
    best = None
    for s in starts:
        for e in ends:
            if tuple(offsets[s]) == NOT_CONTEXT or tuple(offsets[e]) == NOT_CONTEXT:
                continue
            if e < s or e - s + 1 > max_answer_tokens:
                continue
            score = float(start_logits[s] + end_logits[e])
            if best is None or score > best[0]:
                best = (score, offsets[s][0], offsets[e][1])
    return best


class QuestionAnswering(Task):
    transformer_type = "AutoModelForQuestionAnswering"
    peft_task_type = "QUESTION_ANS"
    # Windows of one example must stay in order for evaluation, and most are full length anyway.
    group_by_length = False
    label_names = ("start_positions", "end_positions")
    options = {"doc_stride": None, "max_answer_tokens": 30}

    def load_processor(self, model_dir: Path) -> Any:
        return load_tokenizer(model_dir)

    def load_model(self, model_dir: Path, **model_kwargs: Any) -> Any:
        return load_pretrained(AutoModelForQuestionAnswering, model_dir, **model_kwargs)

    def stride(self, max_length: int) -> int:
        stride = self.option["doc_stride"]
        if stride is None:
            return min(128, max_length // 4)
        if not 0 <= stride < max_length // 2:
            raise TrialConfigError(
                f"--task doc_stride {stride} must be below half of the max length {max_length}"
            )
        return stride

    def prepare(self, split: Dataset, processor: Any, max_length: int, for_eval: bool) -> Dataset:
        question, context, answers = (self.columns[r] for r in ("question", "context", "answers"))
        stride = self.stride(max_length)

        def encode(rows: dict[str, list]) -> dict[str, list]:
            encoded = processor(
                [q.lstrip() for q in rows[question]],
                rows[context],
                truncation="only_second",
                max_length=max_length,
                stride=stride,
                return_overflowing_tokens=True,
                return_offsets_mapping=True,
            )
            example = encoded.pop("overflow_to_sample_mapping")
            offsets = encoded.pop("offset_mapping")
            encoded["start_positions"], encoded["end_positions"] = [], []
            encoded["offsets"], encoded["example_index"] = [], []
            for i, window in enumerate(offsets):
                sequence = encoded.sequence_ids(i)
                window = [
                    o if s == 1 else NOT_CONTEXT for o, s in zip(window, sequence, strict=True)
                ]
                answer = rows[answers][example[i]]
                begin = answer["answer_start"][0] if answer["answer_start"] else None
                end = begin + len(answer["text"][0]) if begin is not None else 0
                start_token, end_token = answer_positions(window, begin, end)
                encoded["start_positions"].append(start_token)
                encoded["end_positions"].append(end_token)
                encoded["offsets"].append([list(o) for o in window])
                encoded["example_index"].append(rows["__index"][example[i]])
            encoded["length"] = text_lengths(encoded)
            return dict(encoded)

        indexed = split.add_column("__index", list(range(len(split))))
        prepared = indexed.map(
            encode, batched=True, remove_columns=indexed.column_names, keep_in_memory=True
        )
        # Offsets and example ids serve evaluation only; the model never sees them.
        return prepared if for_eval else prepared.remove_columns(["offsets", "example_index"])

    def metrics(self, raw_eval: Dataset, prepared_eval: Dataset) -> tuple:
        contexts = raw_eval[self.columns["context"]]
        references = [a["text"] for a in raw_eval[self.columns["answers"]]]
        offsets, examples = prepared_eval["offsets"], prepared_eval["example_index"]
        max_answer_tokens = self.option["max_answer_tokens"]

        def compute(prediction: Any) -> dict[str, float]:
            start_logits, end_logits = prediction.predictions[:2]
            best: dict[int, tuple[float, int, int]] = {}
            for i, example in enumerate(examples):
                span = best_span(start_logits[i], end_logits[i], offsets[i], max_answer_tokens)
                if span and (example not in best or span[0] > best[example][0]):
                    best[example] = span
            answers = [
                contexts[i][best[i][1] : best[i][2]] if i in best else ""
                for i in range(len(contexts))
            ]
            return scores.squad_scores(answers, references)

        return compute, None
