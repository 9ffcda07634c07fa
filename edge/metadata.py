"""TFLite model metadata (``TFLITE_METADATA``): input normalisation, colour space, label files.

The metadata schema (``metadata_schema.fbs``, file identifier ``M001``) does not ship with
ai-edge-litert, and tflite-support is not installable everywhere, so the few fields the scanner
needs are read here with the generic flatbuffers table API, slot numbers taken from the
schema. Anything unexpected makes the metadata "present but unparsed" rather than an error:
metadata is a hint for feeding probes, never required. Associated files (label lists) live in
a zip appended to the model and are read from there.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from typing import Any

import flatbuffers
from flatbuffers import number_types

METADATA_BUFFER_NAME = "TFLITE_METADATA"
METADATA_IDENTIFIER = b"M001"
_COLOR_SPACES = {0: "unknown", 1: "rgb", 2: "grayscale"}
_FILE_TYPES = {
    0: "unknown",
    1: "descriptions",
    2: "tensor_axis_labels",
    3: "tensor_value_labels",
    4: "tensor_axis_score_calibration",
    5: "vocabulary",
}
_NORMALIZATION_OPTIONS = 1  # ProcessUnitOptions.NormalizationOptions
_IMAGE_PROPERTIES = 2  # ContentProperties.ImageProperties
_MAX_ITEMS = 4096


@dataclass(frozen=True)
class Normalization:
    """``(pixel - mean) / std`` per channel, as the metadata prescribes for an input."""

    mean: tuple[float, ...]
    std: tuple[float, ...]


@dataclass(frozen=True)
class TensorMetadataInfo:
    name: str | None = None
    normalization: Normalization | None = None
    color_space: str | None = None
    associated_files: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelMetadataInfo:
    """What the scanner reads from a model's metadata.

    Attributes:
        parsed: ``False`` when the buffer is present but not understood (``error`` says why).
        inputs / outputs: per-tensor metadata of the main subgraph, in tensor order.
        associated_files: names declared anywhere in the metadata.
        packed_files: names actually present in the zip appended to the model.
        labels: label lists of ``tensor_axis_labels`` files found in the appended zip.
    """

    parsed: bool
    name: str | None = None
    description: str | None = None
    version: str | None = None
    author: str | None = None
    inputs: tuple[TensorMetadataInfo, ...] = ()
    outputs: tuple[TensorMetadataInfo, ...] = ()
    associated_files: tuple[str, ...] = ()
    packed_files: tuple[str, ...] = ()
    labels: dict[str, list[str]] = field(default_factory=dict)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        def tensor(t: TensorMetadataInfo) -> dict[str, Any]:
            return {
                "name": t.name,
                "normalization": None
                if t.normalization is None
                else {"mean": list(t.normalization.mean), "std": list(t.normalization.std)},
                "color_space": t.color_space,
                "associated_files": list(t.associated_files),
            }

        return {
            "parsed": self.parsed,
            "name": self.name,
            "description": self.description,
            "version": self.version,
            "author": self.author,
            "inputs": [tensor(t) for t in self.inputs],
            "outputs": [tensor(t) for t in self.outputs],
            "associated_files": list(self.associated_files),
            "packed_files": list(self.packed_files),
            "labels": {name: len(values) for name, values in self.labels.items()},
            "error": self.error,
        }


class _Table:
    """A flatbuffer table with slot-numbered accessors (slot i lives at vtable offset 4 + 2i)."""

    def __init__(self, buf: bytes, pos: int):
        self._tab = flatbuffers.table.Table(buf, pos)

    def _offset(self, slot: int) -> int:
        return self._tab.Offset(4 + 2 * slot)

    def string(self, slot: int) -> str | None:
        o = self._offset(slot)
        return self._tab.String(o + self._tab.Pos).decode("utf-8", "replace") if o else None

    def scalar(self, slot: int, flags, default=0):
        o = self._offset(slot)
        return self._tab.Get(flags, o + self._tab.Pos) if o else default

    def table(self, slot: int) -> _Table | None:
        o = self._offset(slot)
        return _Table(self._tab.Bytes, self._tab.Indirect(o + self._tab.Pos)) if o else None

    def tables(self, slot: int) -> list[_Table]:
        o = self._offset(slot)
        if not o:
            return []
        length = self._tab.VectorLen(o)
        if length > _MAX_ITEMS:
            raise ValueError(f"vector of {length} tables")
        start = self._tab.Vector(o)
        return [_Table(self._tab.Bytes, self._tab.Indirect(start + 4 * j)) for j in range(length)]

    def floats(self, slot: int) -> tuple[float, ...]:
        o = self._offset(slot)
        if not o:
            return ()
        if self._tab.VectorLen(o) > _MAX_ITEMS:
            raise ValueError("float vector too long")
        return tuple(float(v) for v in self._tab.GetVectorAsNumpy(number_types.Float32Flags, o))


def _file_names(files: list[_Table]) -> tuple[str, ...]:
    return tuple(name for f in files if (name := f.string(0)))


def _tensor(table: _Table) -> TensorMetadataInfo:
    normalization = None
    for unit in table.tables(4):
        if unit.scalar(0, number_types.Uint8Flags) == _NORMALIZATION_OPTIONS:
            options = unit.table(1)
            if options is not None:
                normalization = Normalization(options.floats(0), options.floats(1))
    color_space = None
    content = table.table(3)
    if content is not None and content.scalar(0, number_types.Uint8Flags) == _IMAGE_PROPERTIES:
        image = content.table(1)
        if image is not None:
            color_space = _COLOR_SPACES.get(image.scalar(0, number_types.Int8Flags), "unknown")
    return TensorMetadataInfo(table.string(0), normalization, color_space, _file_names(table.tables(6)))


def _appended_zip(model_data: bytes) -> tuple[tuple[str, ...], dict[str, list[str]]]:
    try:
        with zipfile.ZipFile(io.BytesIO(model_data)) as archive:
            names = tuple(archive.namelist())
            texts = {}
            for info in archive.infolist():
                if info.file_size <= 1024**2 and info.filename.endswith(".txt"):
                    texts[info.filename] = archive.read(info).decode("utf-8", "replace").splitlines()
            return names, texts
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return (), {}


def parse_metadata(buffer: bytes, model_data: bytes = b"") -> ModelMetadataInfo:
    """Reads a ``TFLITE_METADATA`` buffer (and the files zipped onto the model).

    Args:
        buffer: the bytes of the model buffer named ``TFLITE_METADATA``.
        model_data: the whole model file, whose appended zip holds the associated files.

    Returns:
        A :class:`ModelMetadataInfo`; ``parsed`` is ``False`` if the buffer is not understood.
    """
    packed, texts = _appended_zip(model_data) if model_data else ((), {})
    if len(buffer) < 8 or buffer[4:8] != METADATA_IDENTIFIER:
        return ModelMetadataInfo(
            parsed=False, packed_files=packed, error="metadata buffer lacks the M001 identifier"
        )
    try:
        root = _Table(buffer, flatbuffers.encode.Get(flatbuffers.packer.uoffset, buffer, 0))
        subgraphs = root.tables(3)
        inputs = tuple(_tensor(t) for t in subgraphs[0].tables(2)) if subgraphs else ()
        outputs = tuple(_tensor(t) for t in subgraphs[0].tables(3)) if subgraphs else ()
        declared = list(_file_names(root.tables(6)))
        for tensor in (*inputs, *outputs):
            declared.extend(tensor.associated_files)
        if subgraphs:
            declared.extend(_file_names(subgraphs[0].tables(4)))
        labels = {name: lines for name, lines in texts.items() if name in declared}
        return ModelMetadataInfo(
            parsed=True,
            name=root.string(0),
            description=root.string(1),
            version=root.string(2),
            author=root.string(4),
            inputs=inputs,
            outputs=outputs,
            associated_files=tuple(dict.fromkeys(declared)),
            packed_files=packed,
            labels=labels,
        )
    except Exception as error:  # IndexError, struct.error, ... from hostile offsets
        return ModelMetadataInfo(parsed=False, packed_files=packed, error=f"unparsable metadata: {error}")
