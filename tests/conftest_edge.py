"""Test-time fixtures for the edge scanner: tiny Keras models converted to TFLite, packed into apps.

Everything is built once per test session (module-level cache, so that every
``tests/test_edge_*.py`` file shares the same build) from sklearn digits upsampled to 16x16:

- a victim, a stolen copy (the victim fine-tuned), an independent model, and three reference
  models that calibrate the fingerprint (never scanned);
- each suspect converted to float32 / float16 / full int8, with a fixed batch of 1 (as apps
  ship them) and dynamic;
- models with layouts the happy path does not produce (uint8 IO, several inputs and outputs,
  a custom op, Flex ops, a non-image input, TFLite metadata with a label file);
- an APK-like zip with renamed models, a nested XAPK, and every kind of bad input.

TensorFlow is imported here, in the test process only; the scans themselves run without it.
"""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

IMAGE_SIZE = 16
NUM_PROBES = 80

_CACHE: dict[str, EdgeCorpus] = {}


@dataclass
class EdgeCorpus:
    """Paths to everything built for the edge tests."""

    root: Path
    fingerprint: Path
    models: dict[str, Path] = field(default_factory=dict)
    apps: dict[str, Path] = field(default_factory=dict)
    bad: dict[str, Path] = field(default_factory=dict)


def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = digits.images.astype(np.float32) / 16.0  # (N, 8, 8) in [0, 1]
    images = np.repeat(np.repeat(images, 2, axis=1), 2, axis=2)[..., None]
    return np.round(images * 255).astype(np.uint8), digits.target.astype(np.int64)


def _cnn(seed: int, width: int = 8, batch_size: int | None = None):
    import keras

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 1), batch_size=batch_size, name="image")
    x = keras.layers.Conv2D(width, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(2 * width, 3, padding="same", activation="relu")(x)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(32, activation="relu")(x)
    outputs = keras.layers.Dense(10, name="logits")(x)
    return keras.Model(inputs, outputs)


def _train(model, images, labels, epochs: int, learning_rate: float = 3e-3, seed: int = 0):
    import keras

    keras.utils.set_random_seed(seed)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.fit(images.astype(np.float32) / 255.0, labels, epochs=epochs, batch_size=64, verbose=0)
    return model


def _with_batch(model, batch_size: int | None, seed: int = 0):
    """The same weights behind an input with a fixed (or dynamic) batch size."""
    width = model.layers[1].filters
    clone = _cnn(seed, width=width, batch_size=batch_size)
    clone.set_weights(model.get_weights())
    return clone


def _convert(model, kind: str, calibration_images: np.ndarray) -> bytes:
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if kind == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif kind in ("int8", "uint8"):
        def representative():
            for image in calibration_images[:64]:
                yield [image[None].astype(np.float32) / 255.0]

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        io_type = tf.int8 if kind == "int8" else tf.uint8
        converter.inference_input_type = io_type
        converter.inference_output_type = io_type
    elif kind == "dynamic-range":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    return converter.convert()


def _check_close(tflite_bytes: bytes, model, images: np.ndarray, atol: float) -> None:
    """Converted models must agree with Keras (catches converters that write NaN models)."""
    from sac_tf.tflite_model import TFLiteModel

    x = images[:8].astype(np.float32) / 255.0
    expected = np.asarray(model(x))
    got = TFLiteModel(tflite_bytes)(x)
    assert np.all(np.isfinite(got)), "converted model produced non-finite outputs"
    assert np.max(np.abs(got - expected)) < atol * max(1.0, float(np.max(np.abs(expected))))


def _multi_output_model():
    """One image in, an embedding and logits out: the scanner must pick the logits."""
    import keras

    keras.utils.set_random_seed(7)
    image = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 1), batch_size=1, name="image")
    x = keras.layers.Flatten()(image)
    embedding = keras.layers.Dense(16, name="embedding")(x)
    logits = keras.layers.Dense(10, name="logits")(embedding)
    return keras.Model(image, {"embedding": embedding, "logits": logits})


def _two_input_model():
    import keras

    keras.utils.set_random_seed(7)
    image = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 1), batch_size=1, name="image")
    extra = keras.Input((4,), batch_size=1, name="extra")
    x = keras.layers.Concatenate()([keras.layers.Flatten()(image), extra])
    return keras.Model([image, extra], keras.layers.Dense(10)(x))


def _vector_model():
    import keras

    keras.utils.set_random_seed(8)
    inputs = keras.Input((20,), batch_size=1, name="features")
    return keras.Model(inputs, keras.layers.Dense(3)(inputs))


def _unsupported_op_model(flex: bool) -> bytes:
    """A graph using an op TFLite lacks, emitted as a custom op or a Flex op."""
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec([1, IMAGE_SIZE, IMAGE_SIZE, 1], tf.float32)])
    def fn(x):
        return tf.reshape(tf.math.atan(x), [1, -1])[:, :10]

    converter = tf.lite.TFLiteConverter.from_concrete_functions([fn.get_concrete_function()], fn)
    if flex:
        converter.target_spec.supported_ops = [
            tf.lite.OpsSet.TFLITE_BUILTINS,
            tf.lite.OpsSet.SELECT_TF_OPS,
        ]
    else:
        converter.allow_custom_ops = True
    return converter.convert()


def with_metadata(model_bytes: bytes, mean: float, std: float, labels: str) -> bytes:
    """Adds TFLite metadata (normalisation + a label file) the way the metadata writer does.

    The metadata schema does not ship with ai-edge-litert, so the ``M001`` flatbuffer is built
    by hand with field slots from ``metadata_schema.fbs``; the label file is appended as a zip.
    """
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    b = flatbuffers.Builder(256)
    label_name = b.CreateString("labels.txt")
    b.StartObject(4)  # AssociatedFile
    b.PrependUOffsetTRelativeSlot(0, label_name, 0)
    b.PrependInt8Slot(2, 2, 0)  # TENSOR_AXIS_LABELS
    label_file = b.EndObject()

    b.StartVector(4, 1, 4)
    b.PrependFloat32(mean)
    means = b.EndVector()
    b.StartVector(4, 1, 4)
    b.PrependFloat32(std)
    stds = b.EndVector()
    b.StartObject(2)  # NormalizationOptions
    b.PrependUOffsetTRelativeSlot(0, means, 0)
    b.PrependUOffsetTRelativeSlot(1, stds, 0)
    normalization = b.EndObject()
    b.StartObject(2)  # ProcessUnit
    b.PrependUint8Slot(0, 1, 0)
    b.PrependUOffsetTRelativeSlot(1, normalization, 0)
    unit = b.EndObject()
    b.StartVector(4, 1, 4)
    b.PrependUOffsetTRelative(unit)
    units = b.EndVector()
    b.StartObject(2)  # ImageProperties
    b.PrependInt8Slot(0, 2, 0)  # GRAYSCALE
    image_props = b.EndObject()
    b.StartObject(3)  # Content
    b.PrependUint8Slot(0, 2, 0)
    b.PrependUOffsetTRelativeSlot(1, image_props, 0)
    content = b.EndObject()
    input_name = b.CreateString("image")
    b.StartObject(7)  # TensorMetadata (input)
    b.PrependUOffsetTRelativeSlot(0, input_name, 0)
    b.PrependUOffsetTRelativeSlot(3, content, 0)
    b.PrependUOffsetTRelativeSlot(4, units, 0)
    input_meta = b.EndObject()
    b.StartVector(4, 1, 4)
    b.PrependUOffsetTRelative(label_file)
    out_files = b.EndVector()
    output_name = b.CreateString("probability")
    b.StartObject(7)  # TensorMetadata (output)
    b.PrependUOffsetTRelativeSlot(0, output_name, 0)
    b.PrependUOffsetTRelativeSlot(6, out_files, 0)
    output_meta = b.EndObject()
    vectors = []
    for item in (input_meta, output_meta):
        b.StartVector(4, 1, 4)
        b.PrependUOffsetTRelative(item)
        vectors.append(b.EndVector())
    b.StartObject(5)  # SubGraphMetadata
    b.PrependUOffsetTRelativeSlot(2, vectors[0], 0)
    b.PrependUOffsetTRelativeSlot(3, vectors[1], 0)
    subgraph = b.EndObject()
    b.StartVector(4, 1, 4)
    b.PrependUOffsetTRelative(subgraph)
    subgraphs = b.EndVector()
    model_name = b.CreateString("digits classifier")
    b.StartObject(8)  # ModelMetadata
    b.PrependUOffsetTRelativeSlot(0, model_name, 0)
    b.PrependUOffsetTRelativeSlot(3, subgraphs, 0)
    root = b.EndObject()
    b.Finish(root, file_identifier=b"M001")
    metadata_bytes = bytes(b.Output())

    model = schema.ModelT.InitFromPackedBuf(bytearray(model_bytes), 0)
    buffer = schema.BufferT()
    buffer.data = list(metadata_bytes)
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name = "TFLITE_METADATA"
    entry.buffer = len(model.buffers) - 1
    model.metadata = [*(model.metadata or []), entry]
    out = flatbuffers.Builder(len(model_bytes) + 1024)
    out.Finish(model.Pack(out), file_identifier=b"TFL3")
    packed = bytes(out.Output())
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("labels.txt", labels)
    return packed + archive.getvalue()


def _zip(path: Path, entries: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


def _build(root: Path) -> EdgeCorpus:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import sac_tf

    images, labels = _digits()
    train_x, train_y = images[:1200], labels[:1200]
    heldout = images[1200:]

    victim = _train(_cnn(0), train_x, train_y, epochs=8, seed=0)
    stolen = _cnn(0)
    stolen.set_weights(victim.get_weights())
    # The thief fine-tunes on data of their own (here: the other half of the training set).
    stolen = _train(stolen, train_x[600:], train_y[600:], epochs=2, learning_rate=3e-4, seed=5)
    independent = _train(_cnn(100, width=12), train_x, train_y, epochs=8, seed=100)
    references = {
        f"reference-{seed}": _train(_cnn(seed), train_x, train_y, epochs=8, seed=seed)
        for seed in (1, 2, 3)
    }

    probes = sac_tf.probes.jpeg(heldout, quality=25, n=NUM_PROBES, seed=0)
    fingerprint = sac_tf.Fingerprint.create(victim, probes).calibrate(references)
    corpus = EdgeCorpus(root=root, fingerprint=fingerprint.save(root / "victim.sacfp"))

    models_dir = root / "models"
    models_dir.mkdir()

    def save(name: str, data: bytes) -> None:
        path = models_dir / f"{name}.tflite"
        path.write_bytes(data)
        corpus.models[name] = path

    for name, model in (("victim", victim), ("stolen", stolen), ("independent", independent)):
        fixed = _with_batch(model, 1)
        kinds = ("float32", "float16", "int8") if name != "victim" else ("float32",)
        for kind in kinds:
            data = _convert(fixed, kind, train_x)
            _check_close(data, model, heldout, atol=0.05 if kind == "float32" else 0.5)
            save(f"{name}_{kind}_fixed", data)
        save(f"{name}_float32_dynamic", _convert(model, "float32", train_x))
    save("stolen_int8_dynamic", _convert(stolen, "int8", train_x))
    save("stolen_uint8_fixed", _convert(_with_batch(stolen, 1), "uint8", train_x))
    save("multi_output", _convert(_multi_output_model(), "float32", train_x))
    save("two_inputs", _convert(_two_input_model(), "float32", train_x))
    save("vector_input", _convert(_vector_model(), "float32", train_x))
    save("custom_op", _unsupported_op_model(flex=False))
    save("flex_op", _unsupported_op_model(flex=True))
    save(
        "independent_with_metadata",
        with_metadata(
            corpus.models["independent_float32_fixed"].read_bytes(),
            mean=0.0,
            std=255.0,
            labels="\n".join(str(d) for d in range(10)),
        ),
    )

    # -- apps --------------------------------------------------------------------------------
    m = {name: path.read_bytes() for name, path in corpus.models.items()}
    apps = root / "apps"
    apps.mkdir()
    apk_entries = {
        "AndroidManifest.xml": b"\x03\x00\x08\x00" + b"\x00" * 64,
        "classes.dex": b"dex\n035\x00" + bytes(200),
        "assets/digit_recognizer.bin": m["stolen_int8_fixed"],
        "assets/ml/helper.model": m["independent_float32_fixed"],
        "res/raw/splash.png": m["stolen_float16_fixed"],
        "assets/blob": m["victim_float32_dynamic"],
        "lib/arm64-v8a/libtensorflowlite_jni.so": b"\x7fELF" + bytes(100),
    }
    corpus.apps["apk"] = _zip(apps / "app.apk", apk_entries)
    corpus.apps["clean_apk"] = _zip(
        apps / "clean.apk",
        {"classes.dex": b"dex\n035\x00", "assets/m.bin": m["independent_int8_fixed"]},
    )
    corpus.apps["xapk"] = _zip(
        apps / "bundle.xapk",
        {
            "manifest.json": b"{}",
            "com.example.apk": corpus.apps["clean_apk"].read_bytes(),
            "config.arm64_v8a.apk": (apps / "app.apk").read_bytes(),
        },
        compression=zipfile.ZIP_STORED,
    )
    corpus.apps["runtime_only_apk"] = _zip(
        apps / "downloads_model.apk",
        {"classes.dex": b"dex", "lib/arm64-v8a/libtensorflowlite_jni.so": b"\x7fELF" + bytes(64)},
    )
    rng = np.random.default_rng(0)
    corpus.apps["encrypted_apk"] = _zip(
        apps / "encrypted.apk",
        {"assets/model.tflite.enc": rng.bytes(64 * 1024), "assets/photo.jpg": rng.bytes(64 * 1024)},
        compression=zipfile.ZIP_STORED,
    )
    corpus.apps["metadata_model"] = corpus.models["independent_with_metadata"]

    # -- bad inputs ----------------------------------------------------------------------------
    bad = root / "bad"
    bad.mkdir()
    corpus.bad["empty"] = bad / "empty.tflite"
    corpus.bad["empty"].write_bytes(b"")
    corpus.bad["truncated_model"] = bad / "truncated.tflite"
    corpus.bad["truncated_model"].write_bytes(m["stolen_int8_fixed"][:300])
    corpus.bad["garbage_model"] = bad / "garbage.tflite"
    corpus.bad["garbage_model"].write_bytes(b"\x10\x00\x00\x00TFL3" + rng.bytes(2000))
    corpus.bad["truncated_zip"] = bad / "truncated.apk"
    corpus.bad["truncated_zip"].write_bytes(corpus.apps["apk"].read_bytes()[:5000])
    zip_slip = io.BytesIO()
    with zipfile.ZipFile(zip_slip, "w") as zf:
        zf.writestr("../../evil.tflite", m["stolen_int8_fixed"])
        zf.writestr("/abs/evil2.tflite", m["stolen_int8_fixed"])
    corpus.bad["zip_slip"] = bad / "slip.apk"
    corpus.bad["zip_slip"].write_bytes(zip_slip.getvalue())
    corpus.bad["zip_bomb"] = _zip(bad / "bomb.apk", {"assets/zeros.bin": bytes(64 * 1024 * 1024)})
    nested = m["independent_int8_fixed"]
    for level in range(8):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as zf:
            zf.writestr(f"level{level}.zip", nested)
        nested = buffer.getvalue()
    corpus.bad["deep_nesting"] = bad / "deep.zip"
    corpus.bad["deep_nesting"].write_bytes(nested)
    many = io.BytesIO()
    with zipfile.ZipFile(many, "w") as zf:
        for i in range(3000):
            zf.writestr(f"f{i}", b"")
    corpus.bad["many_entries"] = bad / "many.zip"
    corpus.bad["many_entries"].write_bytes(many.getvalue())
    folder = bad / "folder_with_symlink"
    folder.mkdir()
    (folder / "model.bin").write_bytes(m["independent_int8_fixed"])
    os.symlink("/etc/passwd", folder / "link_out")
    os.symlink(folder, folder / "loop")
    corpus.bad["symlink_folder"] = folder
    corpus.bad["not_fingerprint"] = bad / "not_a_fingerprint.npz"
    corpus.bad["not_fingerprint"].write_bytes(b"PK\x03\x04 definitely not")
    return corpus


def edge_corpus(tmp_path_factory) -> EdgeCorpus:
    """Builds (once per session) and returns the edge test corpus."""
    if "corpus" not in _CACHE:
        _CACHE["corpus"] = _build(tmp_path_factory.mktemp("edge_corpus"))
    return _CACHE["corpus"]


if __name__ == "__main__":  # time the build: python tests/conftest_edge.py
    import tempfile
    import time

    start = time.perf_counter()
    corpus = _build(Path(tempfile.mkdtemp()))
    print(f"built in {time.perf_counter() - start:.1f}s at {corpus.root}")
    for name, path in corpus.models.items():
        print(name, path.stat().st_size)
