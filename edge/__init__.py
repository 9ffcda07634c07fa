"""sac-edge: find TFLite models in apps and check them against a SAC fingerprint.

Runs with LiteRT (``ai-edge-litert``), NumPy, Pillow and SciPy; never imports TensorFlow. The
public surface:

- :func:`scan` and :class:`ScanOptions` (everything ``sac-edge scan`` does);
- :func:`inspect_model` (``sac-edge inspect``), :func:`walk` (finding models in apps);
- :class:`ScanReport`, :class:`ModelReport`, :class:`ModelInfo`, :class:`Finding`.

Names are imported lazily: ``python -m edge.worker`` imports this package, and a worker must
not pay for SciPy or the fingerprint code it never uses.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "scan": "edge.scan",
    "scan_model": "edge.scan",
    "ScanOptions": "edge.scan",
    "ScanReport": "edge.report",
    "ModelReport": "edge.report",
    "inspect_model": "edge.tflite_reader",
    "ModelInfo": "edge.tflite_reader",
    "ModelFormatError": "edge.tflite_reader",
    "walk": "edge.archive",
    "WalkLimits": "edge.archive",
    "Finding": "edge.archive",
    "FoundModel": "edge.archive",
    "RunLimits": "edge.runner",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'edge' has no attribute {name!r}")
