"""Face models: offline behaviour without weights, and the deepface input conventions."""

import keras
import numpy as np
import pytest

from sac_tf import Fingerprint
from sac_tf.errors import ModelLoadError
from sac_tf.face import FaceModel, deepface_weights_path, face_probes, load_face_model


def test_missing_weights_fail_at_once_with_the_path(tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPFACE_HOME", str(tmp_path))
    with pytest.raises(ModelLoadError, match=r"facenet_weights\.h5.*needs network"):
        load_face_model("Facenet")
    assert deepface_weights_path("Emotion") == tmp_path / ".deepface" / "weights" / "facial_expression_model_weights.h5"


def test_unknown_face_model_lists_known_ones():
    with pytest.raises(ModelLoadError, match="ArcFace"):
        deepface_weights_path("NoSuchFaceNet")


def _identity_model(shape):
    inputs = keras.Input(shape)
    return keras.Model(inputs, keras.layers.Flatten()(inputs))


def test_recognition_models_receive_bgr_and_emotion_models_grey():
    rgb = np.zeros((1, 4, 4, 3), np.float32)
    rgb[..., 0] = 1.0  # pure red
    colour = FaceModel("Facenet", "verification", _identity_model((4, 4, 3)))
    assert colour(rgb).reshape(4, 4, 3)[0, 0].tolist() == [0.0, 0.0, 1.0]
    grey = FaceModel("Emotion", "emotion", _identity_model((4, 4, 1)))
    assert grey(rgb).reshape(-1)[0] == pytest.approx(0.299)
    assert grey.ends_in_softmax and not colour.ends_in_softmax


def test_face_probes_fit_the_model_and_fingerprint_embeddings():
    faces = np.random.default_rng(0).integers(0, 256, (12, 40, 40, 3), dtype=np.uint8)
    inputs = keras.Input((20, 20, 3))
    embed = keras.layers.Dense(8)(keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(4, 3)(inputs)))
    model = FaceModel("Facenet", "verification", keras.Model(inputs, embed))
    probes = face_probes(faces, model, n=10)
    assert probes.shape == (10, 20, 20, 3) and probes.dtype == np.uint8
    fp = Fingerprint.create(model, probes, output="embedding")
    assert fp.distance(model) == pytest.approx(0.0, abs=1e-6)
