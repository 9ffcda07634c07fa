"""Inspecting a TFLite model without running it.

Reads the flatbuffer with the generated schema that ships in ai-edge-litert
(``ai_edge_litert/schema_py_generated.py``): inputs and outputs (shape, dtype, quantisation),
operators, Flex (``SELECT_TF_OPS``) and custom ops, signatures and metadata. Nothing here
executes the model, so a hostile file can only fail to parse: the Python flatbuffers reader
has no verifier, so every count is bounded by the file size and every failure becomes a
:class:`ModelFormatError`.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

from edge.metadata import METADATA_BUFFER_NAME, ModelMetadataInfo, parse_metadata
from sac_tf.errors import SacError

CUSTOM_OPCODE = 32  # BuiltinOperator.CUSTOM
FLEX_PREFIX = "Flex"


class ModelFormatError(SacError):
    """A file carries the TFLite identifier but its flatbuffer is corrupt or truncated."""


@functools.cache
def _enum_names(enum_class) -> dict[int, str]:
    return {value: name for name, value in vars(enum_class).items() if not name.startswith("_")}


@dataclass(frozen=True)
class TensorInfo:
    """One input or output tensor of the main subgraph.

    Attributes:
        shape: static shape (``1`` where the batch is dynamic).
        shape_signature: shape with ``-1`` for dynamic dimensions (``shape`` when absent).
        dtype: NumPy-style name (``float32``, ``int8``, ``uint8``, ...).
        scale / zero_point: the first quantisation parameters (``None``: not quantised).
        quantized_channels: how many per-channel scales there are (1 for per-tensor).
    """

    index: int
    name: str
    shape: tuple[int, ...]
    shape_signature: tuple[int, ...]
    dtype: str
    scale: float | None = None
    zero_point: int | None = None
    quantized_channels: int = 0

    @property
    def dynamic_batch(self) -> bool:
        return bool(self.shape_signature) and self.shape_signature[0] == -1


@dataclass(frozen=True)
class ModelInfo:
    """Everything :func:`inspect_model` learns from a model file.

    Attributes:
        operators: operator name -> count over all subgraphs (custom ops by their custom code).
        flex_ops / custom_ops: ops the stock interpreter cannot run (``Flex*`` need the Flex
            delegate, other custom ops need the app's own kernels).
        metadata_names: names of the model's metadata entries (``min_runtime_version``, ...).
        metadata: parsed ``TFLITE_METADATA`` (``None`` if absent).
    """

    size: int
    sha256: str
    version: int
    description: str | None
    num_subgraphs: int
    inputs: tuple[TensorInfo, ...]
    outputs: tuple[TensorInfo, ...]
    operators: dict[str, int]
    flex_ops: tuple[str, ...]
    custom_ops: tuple[str, ...]
    signatures: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    metadata_names: tuple[str, ...] = ()
    metadata: ModelMetadataInfo | None = None

    @property
    def needs_unavailable_ops(self) -> bool:
        return bool(self.flex_ops or self.custom_ops)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["metadata"] = None if self.metadata is None else self.metadata.to_dict()
        for key in ("inputs", "outputs"):
            for tensor, info in zip(data[key], getattr(self, key), strict=True):
                tensor["dynamic_batch"] = info.dynamic_batch
        return data

    def summary(self) -> str:
        """A few readable lines: what goes in, what comes out, what it needs."""

        def tensor(t: TensorInfo) -> str:
            quant = f" q(scale={t.scale:.4g}, zp={t.zero_point})" if t.scale else ""
            return f"{t.name or '#' + str(t.index)} {list(t.shape_signature)} {t.dtype}{quant}"

        lines = [
            f"size {self.size} bytes, sha256 {self.sha256}",
            f"schema version {self.version}, {self.num_subgraphs} subgraph(s)",
            *[f"input  {tensor(t)}" for t in self.inputs],
            *[f"output {tensor(t)}" for t in self.outputs],
            "operators: " + ", ".join(f"{name}x{count}" for name, count in sorted(self.operators.items())),
        ]
        if self.flex_ops:
            lines.append("flex ops (SELECT_TF_OPS): " + ", ".join(self.flex_ops))
        if self.custom_ops:
            lines.append("custom ops: " + ", ".join(self.custom_ops))
        if self.signatures:
            lines.append("signatures: " + ", ".join(self.signatures))
        if self.metadata is not None:
            meta = self.metadata
            if not meta.parsed:
                lines.append(f"metadata: present but unparsed ({meta.error})")
            else:
                norms = [t.normalization for t in meta.inputs if t.normalization]
                lines.append(
                    f"metadata: {meta.name or 'unnamed'}"
                    + (f", input mean {list(norms[0].mean)} std {list(norms[0].std)}" if norms else "")
                    + (f", files {', '.join(meta.associated_files)}" if meta.associated_files else "")
                )
        return "\n".join(lines)


def _schema():
    try:
        from ai_edge_litert import schema_py_generated
    except ImportError as error:  # pragma: no cover - depends on the install
        raise SacError(
            f"Inspecting TFLite models needs ai-edge-litert and flatbuffers ({error}): "
            "pip install 'sac-tf[edge]'"
        ) from None
    return schema_py_generated


def _bounded(length: int, data_size: int, what: str) -> int:
    # Every element takes at least 4 bytes, so a count beyond size/4 is a corrupt offset.
    if length < 0 or length > data_size // 4:
        raise ModelFormatError(f"corrupt flatbuffer: {what} count {length} for a {data_size}-byte file")
    return length


def _tensor_info(schema, subgraph, tensor_index: int, data_size: int, dtypes: dict[int, str]) -> TensorInfo:
    if not 0 <= tensor_index < subgraph.TensorsLength():
        raise ModelFormatError(f"corrupt flatbuffer: tensor index {tensor_index} out of range")
    tensor = subgraph.Tensors(tensor_index)
    shape = tuple(int(tensor.Shape(j)) for j in range(_bounded(tensor.ShapeLength(), data_size, "shape")))
    signature = tuple(
        int(tensor.ShapeSignature(j))
        for j in range(_bounded(tensor.ShapeSignatureLength(), data_size, "shape signature"))
    )
    scale = zero_point = None
    channels = 0
    quantization = tensor.Quantization()
    if quantization is not None and quantization.ScaleLength() > 0:
        channels = _bounded(quantization.ScaleLength(), data_size, "scale")
        scale = float(quantization.Scale(0))
        zero_point = int(quantization.ZeroPoint(0)) if quantization.ZeroPointLength() else 0
    name = tensor.Name()
    return TensorInfo(
        index=tensor_index,
        name=name.decode("utf-8", "replace") if name else "",
        shape=shape,
        shape_signature=signature or shape,
        dtype=dtypes.get(tensor.Type(), f"type{tensor.Type()}").lower(),
        scale=scale,
        zero_point=zero_point,
        quantized_channels=channels,
    )


def _buffer_bytes(model, index: int, data: bytes) -> bytes:
    if not 0 <= index < model.BuffersLength():
        return b""
    buffer = model.Buffers(index)
    if buffer.Offset() > 1:  # models over 2 GB keep buffers after the flatbuffer
        return bytes(data[buffer.Offset() : buffer.Offset() + buffer.Size()])
    if buffer.DataLength() == 0:
        return b""
    return buffer.DataAsNumpy().tobytes()


def _decode(value: bytes | None) -> str:
    return value.decode("utf-8", "replace") if value else ""


def _inspect(data: bytes) -> ModelInfo:
    schema = _schema()
    size = len(data)
    if size < 8 or not schema.Model.ModelBufferHasIdentifier(data, 0):
        raise ModelFormatError(f"not a TFLite model: expected 'TFL3' at offset 4, received {data[4:8]!r}")
    model = schema.Model.GetRootAs(data, 0)
    dtypes = _enum_names(schema.TensorType)
    builtins = _enum_names(schema.BuiltinOperator)

    opcode_names = []
    flex, custom = [], []
    for i in range(_bounded(model.OperatorCodesLength(), size, "operator code")):
        code = model.OperatorCodes(i)
        builtin = max(int(code.BuiltinCode()), int(code.DeprecatedBuiltinCode()))
        if builtin == CUSTOM_OPCODE:
            name = _decode(code.CustomCode()) or "CUSTOM"
            (flex if name.startswith(FLEX_PREFIX) else custom).append(name)
        else:
            name = builtins.get(builtin, f"BUILTIN_{builtin}")
        opcode_names.append(name)

    num_subgraphs = _bounded(model.SubgraphsLength(), size, "subgraph")
    if num_subgraphs == 0:
        raise ModelFormatError("corrupt flatbuffer: the model has no subgraph")
    operators: dict[str, int] = {}
    for s in range(num_subgraphs):
        subgraph = model.Subgraphs(s)
        for i in range(_bounded(subgraph.OperatorsLength(), size, "operator")):
            index = subgraph.Operators(i).OpcodeIndex()
            name = opcode_names[index] if 0 <= index < len(opcode_names) else f"OPCODE_{index}"
            operators[name] = operators.get(name, 0) + 1

    main = model.Subgraphs(0)
    inputs = tuple(
        _tensor_info(schema, main, int(main.Inputs(i)), size, dtypes)
        for i in range(_bounded(main.InputsLength(), size, "input"))
    )
    outputs = tuple(
        _tensor_info(schema, main, int(main.Outputs(i)), size, dtypes)
        for i in range(_bounded(main.OutputsLength(), size, "output"))
    )

    signatures = {}
    for i in range(_bounded(model.SignatureDefsLength(), size, "signature")):
        signature = model.SignatureDefs(i)
        signatures[_decode(signature.SignatureKey()) or f"signature_{i}"] = {
            "inputs": [_decode(signature.Inputs(j).Name()) for j in range(_bounded(signature.InputsLength(), size, "signature input"))],
            "outputs": [_decode(signature.Outputs(j).Name()) for j in range(_bounded(signature.OutputsLength(), size, "signature output"))],
        }

    metadata_names = []
    metadata = None
    for i in range(_bounded(model.MetadataLength(), size, "metadata")):
        entry = model.Metadata(i)
        name = _decode(entry.Name())
        metadata_names.append(name)
        if name == METADATA_BUFFER_NAME:
            metadata = parse_metadata(_buffer_bytes(model, entry.Buffer(), data), data)

    return ModelInfo(
        size=size,
        sha256=hashlib.sha256(data).hexdigest(),
        version=int(model.Version()),
        description=_decode(model.Description()) or None,
        num_subgraphs=num_subgraphs,
        inputs=inputs,
        outputs=outputs,
        operators=operators,
        flex_ops=tuple(dict.fromkeys(flex)),
        custom_ops=tuple(dict.fromkeys(custom)),
        signatures=signatures,
        metadata_names=tuple(metadata_names),
        metadata=metadata,
    )


def inspect_model(data: bytes) -> ModelInfo:
    """Describes a TFLite model from its bytes, without running it.

    Args:
        data: the model file's content.

    Returns:
        A :class:`ModelInfo` (``.summary()`` for people, ``.to_dict()`` for JSON).

    Raises:
        ModelFormatError: the bytes are not a TFLite model, or its flatbuffer is corrupt.

    Example:
        >>> info = inspect_model(Path("model.tflite").read_bytes())
        >>> print(info.summary())
    """
    try:
        return _inspect(bytes(data))
    except ModelFormatError:
        raise
    except SacError:
        raise
    except Exception as error:  # IndexError, struct.error, ... : the flatbuffer lies about offsets
        raise ModelFormatError(
            f"corrupt or truncated TFLite flatbuffer ({type(error).__name__}: {error})"
        ) from None
