import io

import numpy as np
import pytest
from PIL import Image

from sac_tf import probes
from sac_tf.errors import InputShapeError


def _images(n=6, size=16, channels=1, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, channels), dtype=np.uint8)


def test_jpeg_probes_equal_pillow_quality_25_round_trip():
    images = _images(channels=3)
    out = probes.jpeg(images)
    buffer = io.BytesIO()
    Image.fromarray(images[2]).save(buffer, "JPEG", quality=25)
    np.testing.assert_array_equal(out[2], np.asarray(Image.open(buffer)))
    assert out.dtype == np.uint8 and out.shape == images.shape


def test_jpeg_changes_images_and_lower_quality_changes_more():
    images = _images()
    q25, q75 = probes.jpeg(images, quality=25), probes.jpeg(images, quality=75)
    err25 = np.abs(q25.astype(int) - images).mean()
    err75 = np.abs(q75.astype(int) - images).mean()
    assert err25 > err75 > 0


def test_jpeg_selects_n_deterministically():
    images = _images(n=20)
    a = probes.jpeg(images, n=5, seed=3)
    b = probes.jpeg(images, n=5, seed=3)
    c = probes.jpeg(images, n=5, seed=4)
    np.testing.assert_array_equal(a, b)
    assert a.shape[0] == 5 and not np.array_equal(a, c)


def test_float_images_in_unit_range_are_accepted_and_others_rejected():
    images = _images().astype(np.float32) / 255
    assert probes.jpeg(images).dtype == np.uint8
    with pytest.raises(InputShapeError, match=r"\[0, 1\]"):
        probes.jpeg(images * 255)


def test_wrong_shape_and_too_few_probes_are_rejected():
    with pytest.raises(InputShapeError, match="Expected images of shape"):
        probes.jpeg(np.zeros((4, 8, 8, 2), np.uint8))
    with pytest.raises(InputShapeError, match="at least 2"):
        probes.jpeg(_images(n=10), n=1)


def test_misclassified_keeps_only_wrong_predictions():
    images = _images(n=10)
    labels = np.arange(10) % 2
    # A "victim" that always predicts class 0: wrong exactly where the label is 1.
    chosen = probes.misclassified(images, labels, lambda x: np.tile([1.0, 0.0], (len(x), 1)))
    np.testing.assert_array_equal(chosen, images[labels == 1])


def test_cutmix_pastes_a_box_from_a_second_image():
    black = np.zeros((1, 16, 16, 1), np.uint8)
    white = np.full((1, 16, 16, 1), 255, np.uint8)
    mixed = probes.cutmix(np.concatenate([black, white]), n=20, seed=0)
    assert mixed.shape == (20, 16, 16, 1)
    # Each probe is one image with (usually) a rectangle of the other: both values occur.
    assert any(0 in m and 255 in m for m in mixed)
