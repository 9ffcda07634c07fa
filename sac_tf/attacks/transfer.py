"""Transfer learning: the stolen network adapted to a different label set or task.

The thief keeps the victim's feature layers, replaces its ``logits`` layer with a new one for
its own classes, and fine-tunes on its own data. Its outputs no longer mean what the
victim's meant, so it is judged against innocent models of *its* task (its own irrelevant
pool), not the victim's.
"""

from __future__ import annotations

import keras
import numpy as np

from sac_tf.attacks._common import check_images, copy_model, make_optimizer, train_loop


def transfer(
    model: keras.Model,
    images: np.ndarray,
    labels: np.ndarray,
    num_classes: int,
    epochs: int = 2,
    learning_rate: float = 1e-3,
    batch_size: int = 64,
    optimizer: str = "adam",
    freeze_features: bool = False,
    seed: int = 0,
) -> keras.Model:
    """Re-heads a stolen model for ``num_classes`` new classes and trains it on the new task.

    Args:
        model: the stolen Keras model (its last layer is replaced); left unchanged.
        images, labels: the new task's data (``uint8`` NHWC; labels in ``[0, num_classes)``).
        num_classes: classes of the new task.
        epochs, learning_rate, batch_size, optimizer, seed: training settings.
        freeze_features: train only the new head (otherwise every layer).

    Returns:
        A new Keras model whose ``logits`` layer has ``num_classes`` units.

    Example:
        >>> thief = transfer(victim, task.images, task.labels, num_classes=5, epochs=2)
    """
    labels = np.asarray(labels, np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"labels must be in [0, {num_classes}), received range [{labels.min()}, {labels.max()}]"
        )
    x = check_images(model, images)
    base = copy_model(model)
    features = base.layers[-2].output
    keras.utils.set_random_seed(seed)
    head = keras.layers.Dense(num_classes, name="logits")
    # The old head is not part of the new graph, so the new one may take the name "logits".
    adapted = keras.Model(base.inputs[0], head(features), name=f"{model.name}_transfer")
    if freeze_features:
        for layer in adapted.layers[:-1]:
            layer.trainable = False
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    train_loop(
        adapted, x, labels, loss, epochs, batch_size, make_optimizer(optimizer, learning_rate), seed
    )
    for layer in adapted.layers:
        layer.trainable = True
    return adapted
