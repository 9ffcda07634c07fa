"""Keras 3 functional builders for the reference's architecture families, sized for CPUs.

The SAC reference uses VGG, ResNet, DenseNet and MobileNetV2 victims and thieves. These are
the same families scaled to small inputs (8-64 px) so that a zoo of them trains on two CPU
cores. Every model maps ``float32`` images in the fingerprint's value range to raw logits
(no softmax): the last layer is a ``Dense`` named ``"logits"``.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
from keras import layers


def _batch_norm(x):
    # Momentum 0.9 (Keras defaults to 0.99): the moving statistics must settle within the
    # few hundred steps a CPU-sized training run takes, or inference-mode accuracy collapses.
    return layers.BatchNormalization(momentum=0.9)(x)


def _conv_bn_relu(x, filters: int, kernel_size: int = 3, strides: int = 1):
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding="same", use_bias=False)(x)
    x = _batch_norm(x)
    return layers.ReLU()(x)


def _head(x, num_classes: int):
    return layers.Dense(num_classes, name="logits")(x)


def tiny_cnn(input_shape=(16, 16, 1), num_classes: int = 10, width: int = 16) -> keras.Model:
    """Two conv layers and a dense layer: the smallest useful image classifier."""
    inputs = keras.Input(input_shape)
    x = layers.Conv2D(width, 3, padding="same", activation="relu")(inputs)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(2 * width, 3, padding="same", activation="relu")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(4 * width, activation="relu")(x)
    return keras.Model(inputs, _head(x, num_classes), name="tiny_cnn")


def vgg_small(input_shape=(32, 32, 3), num_classes: int = 10, width: int = 16) -> keras.Model:
    """VGG-style: two blocks of two 3x3 convolutions with pooling, then dense layers."""
    inputs = keras.Input(input_shape)
    x = inputs
    for block in range(2):
        filters = width * 2**block
        x = _conv_bn_relu(x, filters)
        x = _conv_bn_relu(x, filters)
        x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(8 * width, activation="relu")(x)
    return keras.Model(inputs, _head(x, num_classes), name="vgg_small")


def resnet(
    input_shape=(32, 32, 3), num_classes: int = 10, depth: int = 8, width: int = 16
) -> keras.Model:
    """CIFAR ResNet (He et al.) with ``depth = 6n + 2``: three stages of basic blocks."""
    if (depth - 2) % 6:
        raise ValueError(f"ResNet depth must be 6n + 2 (8, 14, 20, ...), received {depth}")
    blocks = (depth - 2) // 6
    inputs = keras.Input(input_shape)
    x = _conv_bn_relu(inputs, width)
    for stage in range(3):
        filters = width * 2**stage
        for block in range(blocks):
            strides = 2 if stage > 0 and block == 0 else 1
            shortcut = x
            y = _conv_bn_relu(x, filters, strides=strides)
            y = layers.Conv2D(filters, 3, padding="same", use_bias=False)(y)
            y = _batch_norm(y)
            if strides != 1 or shortcut.shape[-1] != filters:
                shortcut = layers.Conv2D(filters, 1, strides=strides, use_bias=False)(shortcut)
                shortcut = _batch_norm(shortcut)
            x = layers.ReLU()(layers.Add()([y, shortcut]))
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, _head(x, num_classes), name=f"resnet{depth}")


def densenet_small(
    input_shape=(32, 32, 3), num_classes: int = 10, growth: int = 8, layers_per_block: int = 3
) -> keras.Model:
    """DenseNet-BC in miniature: three dense blocks joined by transition layers."""
    inputs = keras.Input(input_shape)
    x = layers.Conv2D(2 * growth, 3, padding="same", use_bias=False)(inputs)
    for block in range(3):
        for _ in range(layers_per_block):
            y = _batch_norm(x)
            y = layers.ReLU()(y)
            y = layers.Conv2D(growth, 3, padding="same", use_bias=False)(y)
            x = layers.Concatenate()([x, y])
        if block < 2:
            x = _batch_norm(x)
            x = layers.ReLU()(x)
            x = layers.Conv2D(x.shape[-1] // 2, 1, use_bias=False)(x)
            x = layers.AveragePooling2D(2)(x)
    x = layers.ReLU()(_batch_norm(x))
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, _head(x, num_classes), name="densenet_small")


def mobilenetv2_small(
    input_shape=(32, 32, 3), num_classes: int = 10, width: int = 16, expansion: int = 4
) -> keras.Model:
    """MobileNetV2 in miniature: inverted residual blocks with depthwise convolutions."""
    inputs = keras.Input(input_shape)
    x = _conv_bn_relu(inputs, width)
    for filters, strides in ((width, 1), (2 * width, 2), (2 * width, 1), (4 * width, 2), (4 * width, 1)):
        shortcut = x
        y = _conv_bn_relu(x, x.shape[-1] * expansion, kernel_size=1)
        y = layers.DepthwiseConv2D(3, strides=strides, padding="same", use_bias=False)(y)
        y = layers.ReLU(6.0)(_batch_norm(y))
        y = layers.Conv2D(filters, 1, use_bias=False)(y)
        y = _batch_norm(y)
        x = layers.Add()([y, shortcut]) if strides == 1 and shortcut.shape[-1] == filters else y
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, _head(x, num_classes), name="mobilenetv2_small")


ARCHITECTURES: dict[str, Callable[..., keras.Model]] = {
    "tiny_cnn": tiny_cnn,
    "vgg_small": vgg_small,
    "resnet8": lambda input_shape, num_classes: resnet(input_shape, num_classes, depth=8),
    "resnet20": lambda input_shape, num_classes: resnet(input_shape, num_classes, depth=20),
    "densenet_small": densenet_small,
    "mobilenetv2_small": mobilenetv2_small,
}


def build_model(
    name: str, input_shape: tuple[int, int, int], num_classes: int, seed: int | None = None
) -> keras.Model:
    """Builds an architecture by name; ``seed`` fixes its initial weights.

    Example:
        >>> model = build_model("resnet8", (28, 28, 1), 10, seed=0)
    """
    if name not in ARCHITECTURES:
        raise ValueError(f"Unknown architecture {name!r}; expected one of {sorted(ARCHITECTURES)}")
    if seed is not None:
        keras.utils.set_random_seed(seed)
    return ARCHITECTURES[name](input_shape=tuple(input_shape), num_classes=num_classes)
