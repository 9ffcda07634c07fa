"""Fine-tuning: the thief keeps the victim's weights and trains them further on its own data.

Finetune-A trains every layer, Finetune-L only the last (``logits``) layer. The reference uses
SGD with momentum 0.9 at learning rate 5e-4 (CIFAR10) or 1e-3 (KDEF).
"""

from __future__ import annotations

import keras
import numpy as np

from sac_tf.attacks._common import check_images, copy_model, make_optimizer, train_loop

LAYER_CHOICES = ("all", "last")


def finetune(
    model: keras.Model,
    images: np.ndarray,
    labels: np.ndarray,
    layers: str = "all",
    epochs: int = 2,
    learning_rate: float = 5e-4,
    batch_size: int = 64,
    optimizer: str = "sgd",
    seed: int = 0,
) -> keras.Model:
    """Fine-tunes a copy of a stolen model on the attacker's labelled data.

    Args:
        model: the stolen (victim) Keras model; left unchanged.
        images: attacker images, ``uint8`` NHWC of the model's input shape.
        labels: their integer labels.
        layers: ``"all"`` (Finetune-A) or ``"last"`` (Finetune-L: only the ``logits`` layer).
        epochs, learning_rate, batch_size, optimizer: training settings (reference: SGD,
            momentum 0.9, learning rate 5e-4).
        seed: data order and dropout.

    Returns:
        A new Keras model with the victim's architecture and fine-tuned weights.

    Example:
        >>> thief = finetune(victim, attacker.images, attacker.labels, layers="last", epochs=2)
    """
    if layers not in LAYER_CHOICES:
        raise ValueError(f"layers must be one of {LAYER_CHOICES}, received {layers!r}")
    x = check_images(model, images)
    stolen = copy_model(model)
    if layers == "last":
        for layer in stolen.layers:
            layer.trainable = layer is stolen.layers[-1]
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    train_loop(
        stolen,
        x,
        np.asarray(labels, np.int64),
        loss,
        epochs,
        batch_size,
        make_optimizer(optimizer, learning_rate),
        seed,
    )
    for layer in stolen.layers:
        layer.trainable = True
    return stolen
