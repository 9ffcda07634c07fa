import time

import numpy as np
import pytest
from PIL import Image

from sac_tf.data import load_dataset, resize_images, split_dataset
from sac_tf.errors import DatasetError


def test_digits_are_real_uint8_images_with_ten_classes():
    ds = load_dataset("digits")
    assert ds.images.shape == (1797, 8, 8, 1) and ds.images.dtype == np.uint8
    assert ds.num_classes == 10 and set(np.unique(ds.labels)) == set(range(10))
    assert ds.images.max() == 255


def test_resizing_and_channels():
    ds = load_dataset("digits", image_size=16, channels=3)
    assert ds.input_shape == (16, 16, 3)
    grey = resize_images(ds.images[:4], 16, channels=1)
    assert grey.shape == (4, 16, 16, 1)


def test_splits_are_disjoint_deterministic_and_sized():
    ds = load_dataset("digits")
    a = split_dataset(ds, sizes=(700, 700, 300), seed=3)
    b = split_dataset(ds, sizes=(700, 700, 300), seed=3)
    c = split_dataset(ds, sizes=(700, 700, 300), seed=4)
    np.testing.assert_array_equal(a.victim.images, b.victim.images)
    assert not np.array_equal(a.victim.images, c.victim.images)
    assert (len(a.victim), len(a.attacker), len(a.heldout)) == (700, 700, 300)
    rows = {part: {img.tobytes() + bytes([lab]) for img, lab in zip(d.images, d.labels, strict=True)}
            for part, d in (("v", a.victim), ("a", a.attacker), ("h", a.heldout))}
    # Digits has a few duplicate images; disjoint indices leave at most those in common.
    assert len(rows["v"] & rows["h"]) < 5 and len(rows["a"] & rows["h"]) < 5
    with pytest.raises(DatasetError, match="Cannot cut"):
        split_dataset(ds, sizes=(1000, 1000, 1000))


def test_unknown_dataset_fails_with_offline_options():
    with pytest.raises(DatasetError, match="digits, mnist"):
        load_dataset("no-such-dataset-anywhere")


def test_unprepared_tfds_dataset_fails_fast_offline(tmp_path):
    started = time.perf_counter()
    with pytest.raises(DatasetError, match="download=True"):
        load_dataset("cifar10", data_dir=tmp_path)
    assert time.perf_counter() - started < 60  # not tfds' minutes of retries


def test_tfds_path_with_mocked_data():
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=20):
        ds = load_dataset("tfds:mnist", image_size=16)
    assert ds.images.shape == (20, 16, 16, 1) and ds.num_classes == 10 and ds.name == "mnist"


def test_image_folder_with_one_folder_per_class(tmp_path):
    rng = np.random.default_rng(0)
    for cls in ("happy", "sad"):
        (tmp_path / cls).mkdir()
        for i in range(3):
            Image.fromarray(rng.integers(0, 255, (20, 20, 3), dtype=np.uint8)).save(tmp_path / cls / f"{i}.png")
    (tmp_path / "sad" / "notes.txt").write_text("not an image")
    ds = load_dataset(str(tmp_path), image_size=12)
    assert ds.images.shape == (6, 12, 12, 3) and ds.num_classes == 2
    assert list(ds.labels) == [0, 0, 0, 1, 1, 1]


def test_folder_without_classes_is_rejected(tmp_path):
    with pytest.raises(DatasetError, match="class sub-folders"):
        load_dataset(str(tmp_path))
