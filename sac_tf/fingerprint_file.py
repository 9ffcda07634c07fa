"""The fingerprint file format, readable without TensorFlow.

A fingerprint file is a NumPy ``.npz`` archive read with ``allow_pickle=False``, so loading
one never executes code. It holds:

- ``header``: a 1-D ``uint8`` array of UTF-8 JSON bytes (format name, version, configuration,
  calibration parameters);
- ``probes``: ``uint8`` images, ``(N, H, W, C)``;
- ``correlation``: the victim's ``(N, N)`` correlation matrix (``1 - cos``), ``float32``;
- ``reference_distances``: distances of the calibration models (may be empty).

This module depends on NumPy alone so that the edge scanner can read fingerprints on a host
without TensorFlow.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from sac_tf.errors import FingerprintFormatError

FORMAT_NAME = "sac-tf-fingerprint"
FORMAT_VERSION = 1
REQUIRED_ARRAYS = ("header", "probes", "correlation", "reference_distances")


def write_fingerprint_file(
    path: str | os.PathLike,
    header: dict[str, Any],
    probes: np.ndarray,
    correlation: np.ndarray,
    reference_distances: np.ndarray,
) -> Path:
    """Writes a fingerprint atomically: a crash mid-write never leaves a half file behind."""
    path = Path(path)
    full_header = {"format": FORMAT_NAME, "version": FORMAT_VERSION, **header}
    header_bytes = np.frombuffer(json.dumps(full_header, sort_keys=True).encode("utf-8"), np.uint8)
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        header=header_bytes,
        probes=np.ascontiguousarray(probes, dtype=np.uint8),
        correlation=np.asarray(correlation, dtype=np.float32),
        reference_distances=np.asarray(reference_distances, dtype=np.float64).reshape(-1),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(buffer.getvalue())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return path


def read_fingerprint_file(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Reads and validates a fingerprint file.

    Returns:
        ``(header, arrays)`` where ``arrays`` has ``probes``, ``correlation`` and
        ``reference_distances``.

    Raises:
        FingerprintFormatError: the file is missing, corrupt, of another version, or its
            arrays are inconsistent.
    """
    path = Path(path)
    if not path.is_file():
        raise FingerprintFormatError(f"Fingerprint file not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [name for name in REQUIRED_ARRAYS if name not in archive.files]
            if missing:
                raise FingerprintFormatError(
                    f"{path} is not a sac-tf fingerprint: missing {', '.join(missing)}"
                )
            arrays = {name: archive[name] for name in REQUIRED_ARRAYS}
    except FingerprintFormatError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, KeyError) as error:
        raise FingerprintFormatError(
            f"{path} is not a readable sac-tf fingerprint (corrupt or truncated: {error})"
        ) from None
    try:
        header = json.loads(arrays.pop("header").tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise FingerprintFormatError(f"{path} has a corrupt header: {error}") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        raise FingerprintFormatError(f"{path} is not a sac-tf fingerprint (format field missing)")
    version = header.get("version")
    if version != FORMAT_VERSION:
        raise FingerprintFormatError(
            f"{path} is fingerprint format version {version}; this sac-tf reads version "
            f"{FORMAT_VERSION}. Re-create the fingerprint or install a matching sac-tf."
        )
    probes, correlation = arrays["probes"], arrays["correlation"]
    n = probes.shape[0] if probes.ndim == 4 else -1
    if probes.ndim != 4 or probes.dtype != np.uint8 or n < 2:
        raise FingerprintFormatError(
            f"{path}: probes must be uint8 (N, H, W, C) with N >= 2, got {probes.dtype} {probes.shape}"
        )
    if correlation.shape != (n, n) or not np.all(np.isfinite(correlation)):
        raise FingerprintFormatError(
            f"{path}: correlation matrix must be finite ({n}, {n}), got {correlation.shape}"
        )
    return header, arrays
