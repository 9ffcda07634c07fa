"""Probe selection: which inputs to ask the victim and the suspect.

SAC-JC (the default) uses held-out images JPEG-compressed hard: the reference implementation
applies ``imagecorruptions``' ``jpeg_compression`` at severity 1, which is Pillow JPEG at
quality 25. Compression pushes samples towards the decision boundary, where a stolen copy
still follows the victim and an independent model does not. Two variants from the SAC paper:
SAC-w (samples the victim misclassifies) and SAC-m (CutMix of pairs of samples).

Every selector returns ``uint8`` images ``(N, H, W, C)``: the fingerprint stores probes in
that form so that any consumer (Keras, LiteRT) can apply its own input scaling.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
from PIL import Image

from sac_tf.errors import InputShapeError

DEFAULT_QUALITY = 25


def as_uint8_images(images: np.ndarray) -> np.ndarray:
    """Validates and converts a batch of images to ``uint8`` NHWC.

    Floats in ``[0, 1]`` are scaled by 255; a 3-D ``(N, H, W)`` batch gets one channel.
    """
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise InputShapeError(
            f"Expected images of shape (N, H, W, 1 or 3), received {images.shape}"
        )
    if images.dtype == np.uint8:
        return images
    if np.issubdtype(images.dtype, np.floating):
        if images.size and (images.min() < 0 or images.max() > 1.0 + 1e-6):
            raise InputShapeError(
                "Float images must be in [0, 1]; pass uint8 images for other ranges."
            )
        return np.clip(np.round(images * 255.0), 0, 255).astype(np.uint8)
    return np.clip(images, 0, 255).astype(np.uint8)


def _choose(count: int, n: int | None, seed: int) -> np.ndarray:
    if n is None or n >= count:
        return np.arange(count)
    if n < 2:
        raise InputShapeError(f"SAC needs at least 2 probes, received n={n}")
    return np.sort(np.random.default_rng(seed).choice(count, size=n, replace=False))


def jpeg_compress(images: np.ndarray, quality: int = DEFAULT_QUALITY) -> np.ndarray:
    """JPEG-compresses each image with Pillow at ``quality`` and decodes it back."""
    images = as_uint8_images(images)
    if not 1 <= quality <= 95:
        raise ValueError(f"JPEG quality must be in [1, 95], received {quality}")
    out = np.empty_like(images)
    for i, image in enumerate(images):
        pil = Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image)
        buffer = io.BytesIO()
        pil.save(buffer, "JPEG", quality=quality)
        decoded = np.asarray(Image.open(io.BytesIO(buffer.getvalue())))
        out[i] = decoded.reshape(image.shape)
    return out


def jpeg(
    images: np.ndarray, quality: int = DEFAULT_QUALITY, n: int | None = None, seed: int = 0
) -> np.ndarray:
    """SAC-JC probes: ``n`` held-out images, JPEG-compressed at ``quality``.

    Args:
        images: held-out images, ``uint8`` or floats in ``[0, 1]``, NHWC or NHW.
        quality: Pillow JPEG quality; 25 matches the reference (imagecorruptions severity 1).
        n: number of probes; ``None`` keeps all (the reference uses the whole test split).
        seed: which ``n`` images are drawn.

    Returns:
        ``uint8`` array ``(n, H, W, C)``.

    Example:
        >>> probes = sac_tf.probes.jpeg(heldout.images, quality=25, n=200, seed=0)
    """
    images = as_uint8_images(images)
    return jpeg_compress(images[_choose(len(images), n, seed)], quality)


def misclassified(
    images: np.ndarray,
    labels: np.ndarray,
    predict: Callable[[np.ndarray], np.ndarray],
    n: int | None = None,
    seed: int = 0,
) -> np.ndarray:
    """SAC-w probes: held-out images that the victim gets wrong.

    Args:
        images: held-out images (``uint8`` or floats in ``[0, 1]``).
        labels: their true labels.
        predict: maps a ``uint8`` batch to the victim's class scores ``(N, classes)``.
        n: number of probes; fewer are returned if the victim errs less often.
    """
    images = as_uint8_images(images)
    predicted = np.argmax(np.asarray(predict(images)), axis=1)
    wrong = np.flatnonzero(predicted != np.asarray(labels).reshape(-1))
    if wrong.size < 2:
        raise InputShapeError(
            f"The victim misclassifies only {wrong.size} held-out images; SAC-w needs at least 2. "
            "Use more held-out data or SAC-JC."
        )
    return images[wrong[_choose(wrong.size, n, seed)]]


def cutmix(images: np.ndarray, n: int, seed: int = 0, beta: float = 1.0) -> np.ndarray:
    """SAC-m probes: CutMix of random pairs of images.

    A box of area ``1 - lam`` (``lam ~ Beta(beta, beta)``) from a second image is pasted into
    the first, as in CutMix; the mixed samples lie between classes.
    """
    images = as_uint8_images(images)
    if n < 2:
        raise InputShapeError(f"SAC needs at least 2 probes, received n={n}")
    rng = np.random.default_rng(seed)
    height, width = images.shape[1:3]
    out = np.empty((n, *images.shape[1:]), dtype=np.uint8)
    for i in range(n):
        a, b = rng.choice(len(images), size=2, replace=False)
        lam = rng.beta(beta, beta)
        cut_h, cut_w = int(height * np.sqrt(1 - lam)), int(width * np.sqrt(1 - lam))
        cy, cx = rng.integers(height), rng.integers(width)
        y0, y1 = np.clip([cy - cut_h // 2, cy + cut_h // 2], 0, height)
        x0, x1 = np.clip([cx - cut_w // 2, cx + cut_w // 2], 0, width)
        out[i] = images[a]
        out[i, y0:y1, x0:x1] = images[b, y0:y1, x0:x1]
    return out
