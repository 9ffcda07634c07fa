"""Face models from deepface: verification (embeddings) and emotion recognition.

The SAC-JC paper fingerprints face recognition models. deepface (``pip install 'sac-tf[face]'``)
builds the common ones as Keras models, but downloads their weights on first use. This module
loads a model only when its weights are already on disk (``$DEEPFACE_HOME/.deepface/weights``,
``DEEPFACE_HOME`` defaulting to the home folder), so an offline machine fails at once with the
file to provide instead of hanging on a download.

deepface feeds its models BGR faces scaled to ``[0, 1]`` (and the emotion model 48x48 grey
faces); :class:`FaceModel` takes RGB ``[0, 1]`` batches like every other sac-tf model and does
that conversion, so a fingerprint of a face model is made like any other:

    model = load_face_model("Facenet")
    probes = face_probes(faces, model, quality=25)
    fp = Fingerprint.create(model, probes, output="embedding")
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sac_tf import probes as probe_lib
from sac_tf.data import resize_images
from sac_tf.errors import ModelLoadError

# Weight files as deepface names them (deepface.commons.weight_utils downloads to these).
RECOGNITION_WEIGHTS = {
    "VGG-Face": "vgg_face_weights.h5",
    "Facenet": "facenet_weights.h5",
    "Facenet512": "facenet512_weights.h5",
    "OpenFace": "openface_weights.h5",
    "DeepFace": "VGGFace2_DeepFace_weights_val-0.9034.h5",
    "DeepID": "deepid_keras_weights.h5",
    "ArcFace": "arcface_weights.h5",
    "GhostFaceNet": "ghostfacenet_v1.h5",
}
ATTRIBUTE_WEIGHTS = {"Emotion": "facial_expression_model_weights.h5"}
EMOTION_LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def deepface_weights_path(name: str) -> Path:
    """Where deepface keeps (or would download) the weights of model ``name``."""
    files = {**RECOGNITION_WEIGHTS, **ATTRIBUTE_WEIGHTS}
    if name not in files:
        raise ModelLoadError(
            f"Unknown deepface model {name!r}; expected one of {', '.join(sorted(files))}"
        )
    home = Path(os.environ.get("DEEPFACE_HOME", str(Path.home())))
    return home / ".deepface" / "weights" / files[name]


@dataclass
class FaceModel:
    """A deepface Keras model behind sac-tf's model interface.

    Attributes:
        name: deepface's model name (``"Facenet"``, ``"Emotion"``, ...).
        task: ``"verification"`` (outputs embeddings) or ``"emotion"`` (class probabilities).
        model: the Keras model as deepface built it.
    """

    name: str
    task: str
    model: Any

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(int(v) for v in self.model.inputs[0].shape[1:])  # type: ignore[return-value]

    @property
    def ends_in_softmax(self) -> bool:
        return self.task == "emotion"

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """RGB ``[0, 1]`` faces of :attr:`input_shape` (H, W) -> embeddings or probabilities."""
        x = np.asarray(x, dtype=np.float32)
        channels = self.input_shape[-1]
        if channels == 1 and x.shape[-1] == 3:
            x = (x @ np.array([0.299, 0.587, 0.114], np.float32))[..., None]
        elif channels == 3:
            x = x[..., ::-1]  # deepface models were trained on OpenCV's BGR order
        return np.asarray(self.model(x, training=False))


def load_face_model(name: str) -> FaceModel:
    """Builds a deepface model whose weights are present on disk.

    Raises:
        ModelLoadError: unknown name, weights not on disk (with the path to put them at), or
            deepface not installed.
    """
    weights = deepface_weights_path(name)
    if not weights.is_file():
        raise ModelLoadError(
            f"deepface weights for {name} are not at {weights}. deepface downloads them on "
            "first use, which needs network: copy the file there (or set DEEPFACE_HOME), or "
            "run on a machine with network such as Colab."
        )
    try:
        from deepface import DeepFace
    except ImportError as error:
        raise ModelLoadError(f"deepface is not importable ({error}): pip install 'sac-tf[face]'") from None
    task = "emotion" if name in ATTRIBUTE_WEIGHTS else "verification"
    client = DeepFace.build_model(name, task="facial_attribute" if task == "emotion" else "facial_recognition")
    return FaceModel(name=name, task=task, model=client.model)


def face_probes(
    faces: np.ndarray,
    model: FaceModel | tuple[int, int, int],
    quality: int = probe_lib.DEFAULT_QUALITY,
    n: int | None = None,
    seed: int = 0,
) -> np.ndarray:
    """SAC-JC probes from aligned face crops, resized to the face model's input.

    Args:
        faces: ``uint8`` RGB face crops (N, H, W, 3), e.g. the KDEF test split.
        model: the face model, or its input shape ``(H, W, C)``.
        quality, n, seed: as :func:`sac_tf.probes.jpeg`.
    """
    shape = model.input_shape if isinstance(model, FaceModel) else tuple(model)
    faces = probe_lib.as_uint8_images(faces)
    # The model sees RGB; FaceModel converts to grey itself for grey models.
    resized = resize_images(faces, shape[:2], channels=3 if faces.shape[-1] == 3 else 1)
    return probe_lib.jpeg(resized, quality=quality, n=n, seed=seed)
