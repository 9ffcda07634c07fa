"""Training victims and independent ("irrelevant") models with ``model.fit``.

Every trained model is saved as ``.keras`` next to a JSON manifest that records how it was
made (architecture, seed, data split, epochs, optimiser) and how good it is, so a zoo of
models can be audited and rebuilt.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np

from sac_tf.data import ImageDataset
from sac_tf.models import build_model


@dataclass
class TrainedModel:
    """A trained Keras model with the manifest describing it."""

    model: keras.Model
    manifest: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None


def predict_logits(model: keras.Model, images: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """Raw outputs of ``model`` on ``uint8`` images scaled to ``[0, 1]``."""
    x = images.astype(np.float32) / 255.0
    return np.concatenate(
        [np.asarray(model(x[i : i + batch_size], training=False)) for i in range(0, len(x), batch_size)]
    )


def accuracy(model: keras.Model, dataset: ImageDataset) -> float:
    """Top-1 accuracy on a dataset."""
    return float(np.mean(np.argmax(predict_logits(model, dataset.images), 1) == dataset.labels))


def agreement(model: keras.Model, reference: keras.Model, images: np.ndarray) -> float:
    """Share of images on which two models predict the same label (fidelity to the victim)."""
    a = np.argmax(predict_logits(model, images), 1)
    b = np.argmax(predict_logits(reference, images), 1)
    return float(np.mean(a == b))


def make_optimizer(name: str, learning_rate: float) -> keras.optimizers.Optimizer:
    if name == "adam":
        return keras.optimizers.Adam(learning_rate)
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate, momentum=0.9)
    raise ValueError(f"optimizer must be 'adam' or 'sgd', received {name!r}")


def fit(
    model: keras.Model,
    images: np.ndarray,
    targets: np.ndarray,
    epochs: int,
    batch_size: int = 64,
    learning_rate: float = 1e-3,
    optimizer: str = "adam",
    seed: int = 0,
    soft_targets: bool = False,
    callbacks: list[keras.callbacks.Callback] | None = None,
    verbose: int = 0,
) -> keras.callbacks.History:
    """Compiles and fits ``model`` on ``uint8`` images; hard labels or soft targets.

    Soft targets (probability vectors) train with cross-entropy on the model's logits, which
    is what distillation needs.
    """
    keras.utils.set_random_seed(seed)
    loss = (
        keras.losses.CategoricalCrossentropy(from_logits=True)
        if soft_targets
        else keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    model.compile(optimizer=make_optimizer(optimizer, learning_rate), loss=loss)
    return model.fit(
        images.astype(np.float32) / 255.0,
        targets,
        epochs=epochs,
        batch_size=batch_size,
        shuffle=True,
        callbacks=callbacks or [],
        verbose=verbose,
    )


def train_classifier(
    architecture: str | keras.Model,
    train: ImageDataset,
    epochs: int = 5,
    batch_size: int = 64,
    learning_rate: float = 1e-3,
    optimizer: str = "adam",
    seed: int = 0,
    test: ImageDataset | None = None,
    out_path: str | Path | None = None,
    name: str | None = None,
    callbacks: list[keras.callbacks.Callback] | None = None,
    verbose: int = 0,
) -> TrainedModel:
    """Trains a classifier from scratch and (optionally) saves it with a manifest.

    Args:
        architecture: a name from :data:`sac_tf.models.ARCHITECTURES`, or an unbuilt model.
        train: training data (the victim split for a victim, the attacker split for thieves
            and irrelevant models).
        epochs, batch_size, learning_rate, optimizer: ``model.fit`` settings.
        seed: fixes initial weights and data order.
        test: data to report accuracy on (held-out split).
        out_path: where to save ``.keras``; the manifest goes beside it as ``.json``.
        name: the model's name in the manifest.

    Example:
        >>> victim = train_classifier("resnet8", splits.victim, epochs=5, seed=0,
        ...                           test=splits.heldout, out_path="zoo/victim.keras")
    """
    started = time.perf_counter()
    if isinstance(architecture, str):
        model = build_model(architecture, train.input_shape, train.num_classes, seed=seed)
        arch_name = architecture
    else:
        model, arch_name = architecture, architecture.name
    fit(model, train.images, train.labels, epochs, batch_size, learning_rate, optimizer, seed,
        callbacks=callbacks, verbose=verbose)
    manifest = {
        "name": name or arch_name,
        "architecture": arch_name,
        "seed": seed,
        "train_data": {"name": train.name, "size": len(train)},
        "epochs": epochs,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "optimizer": optimizer,
        "parameters": int(model.count_params()),
        "accuracy": None if test is None else accuracy(model, test),
        "test_data": None if test is None else {"name": test.name, "size": len(test)},
        "train_seconds": round(time.perf_counter() - started, 2),
        "keras_version": keras.__version__,
    }
    trained = TrainedModel(model, manifest)
    if out_path is not None:
        save_trained(trained, out_path)
    return trained


def save_trained(trained: TrainedModel, out_path: str | Path) -> Path:
    """Saves the model as ``.keras`` and its manifest beside it as ``.json``."""
    path = Path(out_path).with_suffix(".keras")
    path.parent.mkdir(parents=True, exist_ok=True)
    trained.model.save(path)
    path.with_suffix(".json").write_text(json.dumps(trained.manifest, indent=2, sort_keys=True))
    trained.path = path
    return path
