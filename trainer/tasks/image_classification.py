"""Image classification with the model's own image processor.

Images are decoded and resized in the collator, batch by batch in the loader processes, so no
resized copy of the dataset is ever written or held in memory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from datasets import Dataset, Image
from transformers import AutoImageProcessor, AutoModelForImageClassification

from trainer.tasks import scores
from trainer.tasks.base import ClassificationTask, argmax_logits, check_label_ids


class ImageCollator:
    def __init__(self, processor: Any):
        self.processor = processor

    def __call__(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, torch.Tensor]:
        images = [row["image"].convert("RGB") for row in rows]
        pixels = self.processor(images=images, return_tensors="pt")["pixel_values"]
        return {"pixel_values": pixels, "labels": torch.tensor([row["labels"] for row in rows])}


class ImageClassification(ClassificationTask):
    auto_model_class = AutoModelForImageClassification
    transformer_type = "AutoModelForImageClassification"
    group_by_length = False  # every image is resized to the same shape
    # peft has no image task type: the new head is trained in full beside the adapters.
    lora_defaults = {"modules_to_save": ["classifier"]}
    # Rows keep their raw image until the collator; the Trainer must not drop the column.
    training_overrides = {"remove_unused_columns": False}

    def load_processor(self, model_dir: Path) -> Any:
        return AutoImageProcessor.from_pretrained(model_dir)

    def prepare(self, split: Dataset, processor: Any, max_length: int, for_eval: bool) -> Dataset:
        image, label = self.columns["image"], self.columns["label"]
        mapping = self.labels.mapping
        if mapping is None:
            check_label_ids(split[label], self.labels, label, "eval" if for_eval else "train")
        split = split.select_columns([image, label])
        if not isinstance(split.features[image], Image):
            split = split.cast_column(image, Image())  # file paths or bytes
        if image != "image":
            split = split.rename_column(image, "image")
        labels = [mapping[v] for v in split[label]] if mapping else split[label]
        return split.remove_columns(label).add_column("labels", labels)

    def collator(self, processor: Any, buckets: tuple[int, ...]) -> ImageCollator:
        return ImageCollator(processor)

    def metrics(self, raw_eval: Dataset, prepared_eval: Dataset) -> tuple:
        def compute(prediction: Any) -> dict[str, float]:
            predicted = np.asarray(prediction.predictions).reshape(-1).tolist()
            references = np.asarray(prediction.label_ids).reshape(-1).tolist()
            return {"accuracy": scores.accuracy(predicted, references)}

        return compute, argmax_logits
