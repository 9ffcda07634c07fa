"""Finding TFLite models in files, folders and (nested) app archives, by content.

Apps rename their models (``.bin``, ``.model``, ``.png``, no extension), so a model is recognised
by the TFLite file identifier ``TFL3`` at byte offset 4, never by its name. APK, XAPK,
APKS/APKM, AAB and plain zips are all zips; they are read in memory, never extracted to disk,
so a hostile entry name (zip-slip) cannot write anywhere. Everything an attacker controls is
bounded: total uncompressed bytes, per-entry compression ratio, entry count and nesting depth.
What cannot be scanned is reported as a :class:`Finding` rather than silently skipped.
"""

from __future__ import annotations

import io
import os
import re
import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

TFLITE_IDENTIFIER = b"TFL3"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
ENCRYPTED_ENTROPY_BITS = 7.99
ENCRYPTED_MIN_BYTES = 5 * 1024
# Names apps give model files; only these are worth flagging when they look encrypted (photos,
# fonts and compressed media are high-entropy too).
_MODEL_LIKE_NAME = re.compile(
    r"(model|tflite|\.tfl$|\.lite$|\.bin$|\.enc$|\.dat$|\.pb$|\.weights?$|\.onnx$|\.ml$|\.nn$)",
    re.IGNORECASE,
)
_TFLITE_RUNTIME = re.compile(r"(^|/)lib/[^/]+/libtensorflowlite[^/]*\.so$")


@dataclass(frozen=True)
class WalkLimits:
    """Bounds on what one input may cost to walk (defences against zip bombs).

    Attributes:
        max_total_bytes: uncompressed bytes read from all archives of one input.
        max_entry_bytes: uncompressed size of one archive entry.
        max_ratio: uncompressed/compressed size of one entry above which it is a bomb
            (only checked for entries over 1 MiB: tiny files compress well legitimately).
        max_entries: entries in one archive.
        max_depth: archives inside archives (an APK inside an XAPK is depth 2).
        max_file_bytes: size of a plain file read from disk.
    """

    max_total_bytes: int = 2 * 1024**3
    max_entry_bytes: int = 1024**3
    max_ratio: float = 200.0
    max_entries: int = 20_000
    max_depth: int = 4
    max_file_bytes: int = 2 * 1024**3

    def __post_init__(self) -> None:
        for name in ("max_total_bytes", "max_entry_bytes", "max_entries", "max_file_bytes"):
            if getattr(self, name) <= 0:
                raise ValueError(f"WalkLimits.{name} must be positive, received {getattr(self, name)}")
        if self.max_depth < 0 or self.max_ratio <= 1:
            raise ValueError(
                f"Expected max_depth >= 0 and max_ratio > 1, received {self.max_depth}, {self.max_ratio}"
            )


@dataclass(frozen=True)
class FoundModel:
    """A TFLite model found in an input.

    Attributes:
        location: where it is, archives separated by ``!/`` (``app.apk!/assets/m.bin``).
        data: the model's bytes.
    """

    location: str
    data: bytes = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class Finding:
    """Something that could not be scanned, or that deserves a look.

    Attributes:
        location: where it is (same convention as :attr:`FoundModel.location`).
        status: ``encrypted-model``, ``runtime-without-model``, ``corrupt-archive``,
            ``corrupt-entry``, ``unsafe-path``, ``zip-bomb``, ``too-deep``, ``too-many-entries``,
            ``empty``, ``symlink``, ``not-found`` or ``unreadable``.
        detail: one human-readable sentence.
    """

    location: str
    status: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"location": self.location, "status": self.status, "detail": self.detail}


@dataclass
class WalkResult:
    """Models and findings of a walk, in the order met."""

    models: list[FoundModel] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def is_tflite(data: bytes) -> bool:
    """A TFLite flatbuffer carries ``TFL3`` at offset 4 (after the root table offset)."""
    return len(data) >= 8 and data[4:8] == TFLITE_IDENTIFIER


def is_zip(data: bytes) -> bool:
    return data[:4] in ZIP_MAGICS


def byte_entropy(data: bytes) -> float:
    """Shannon entropy in bits per byte (8.0 for uniformly random bytes)."""
    if not data:
        return 0.0
    counts = np.bincount(np.frombuffer(data, dtype=np.uint8), minlength=256)
    p = counts[counts > 0] / len(data)
    return float(-(p * np.log2(p)).sum())


def looks_encrypted(name: str, data: bytes) -> bool:
    """A model-named blob of near-random bytes: probably an encrypted or obfuscated model."""
    return (
        len(data) > ENCRYPTED_MIN_BYTES
        and bool(_MODEL_LIKE_NAME.search(PurePosixPath(name).name))
        and byte_entropy(data) >= ENCRYPTED_ENTROPY_BITS
    )


def _is_unsafe_name(name: str) -> bool:
    """Absolute paths, drive letters and ``..`` components: zip-slip attempts."""
    normalised = name.replace("\\", "/")
    if normalised.startswith("/") or re.match(r"^[A-Za-z]:", normalised):
        return True
    return ".." in PurePosixPath(normalised).parts


class _Budget:
    """Uncompressed bytes still allowed for one top-level input."""

    def __init__(self, total: int):
        self.left = total


class ArchiveWalker:
    """Walks inputs and collects :class:`FoundModel` and :class:`Finding` items.

    Example:
        >>> result = ArchiveWalker().walk(["app.apk", "models/"])
        >>> [m.location for m in result.models]
    """

    def __init__(self, limits: WalkLimits | None = None):
        self.limits = limits or WalkLimits()

    def walk(self, paths: list[str | os.PathLike]) -> WalkResult:
        result = WalkResult()
        for path in paths:
            self._walk_path(Path(path), result, top_level=True)
        return result

    # -- files and folders ---------------------------------------------------------------------
    def _walk_path(self, path: Path, result: WalkResult, top_level: bool = False) -> None:
        location = str(path)
        try:
            info = path.lstat()
        except OSError as error:
            status = "not-found" if isinstance(error, FileNotFoundError) else "unreadable"
            result.findings.append(Finding(location, status, f"Cannot read {path}: {error.strerror}"))
            return
        # Symlinks are never followed: they can point outside the folder or loop forever.
        if stat.S_ISLNK(info.st_mode) and not top_level:
            result.findings.append(Finding(location, "symlink", "Symbolic link not followed"))
            return
        if path.is_dir():
            try:
                children = sorted(path.iterdir())
            except OSError as error:
                result.findings.append(Finding(location, "unreadable", f"Cannot list folder: {error.strerror}"))
                return
            for child in children:
                self._walk_path(child, result)
            return
        if not path.is_file():
            result.findings.append(Finding(location, "unreadable", "Not a regular file"))
            return
        if info.st_size > self.limits.max_file_bytes:
            result.findings.append(
                Finding(location, "unreadable", f"File of {info.st_size} bytes exceeds max_file_bytes")
            )
            return
        try:
            data = path.read_bytes()
        except OSError as error:
            result.findings.append(Finding(location, "unreadable", f"Cannot read file: {error.strerror}"))
            return
        self._classify(location, path.name, data, 0, _Budget(self.limits.max_total_bytes), result, top_level)

    # -- content ---------------------------------------------------------------------------------
    def _classify(
        self,
        location: str,
        name: str,
        data: bytes,
        depth: int,
        budget: _Budget,
        result: WalkResult,
        report_empty: bool = False,
    ) -> None:
        if not data:
            if report_empty or _MODEL_LIKE_NAME.search(PurePosixPath(name).name):
                result.findings.append(Finding(location, "empty", "Empty file"))
            return
        # Checked before the zip test: a model with metadata is also a valid zip (its
        # associated files are appended), and it is a model, not an archive.
        if is_tflite(data):
            result.models.append(FoundModel(location, data))
            return
        if is_zip(data):
            if depth >= self.limits.max_depth:
                result.findings.append(
                    Finding(location, "too-deep", f"Archive nested deeper than {self.limits.max_depth} levels")
                )
                return
            self._walk_zip(location, data, depth + 1, budget, result)
            return
        if looks_encrypted(name, data):
            result.findings.append(
                Finding(
                    location,
                    "encrypted-model",
                    f"{len(data)} bytes at {byte_entropy(data):.3f} bits/byte with a model-like name: "
                    "likely an encrypted model (decrypted only at run time; cannot be scanned)",
                )
            )

    def _walk_zip(self, location: str, data: bytes, depth: int, budget: _Budget, result: WalkResult) -> None:
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
            entries = archive.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as error:
            result.findings.append(Finding(location, "corrupt-archive", f"Unreadable zip: {error}"))
            return
        if len(entries) > self.limits.max_entries:
            result.findings.append(
                Finding(
                    location,
                    "too-many-entries",
                    f"{len(entries)} entries, more than max_entries={self.limits.max_entries}",
                )
            )
            return
        models_before = len(result.models)
        runtime_libraries = []
        with archive:
            for entry in entries:
                if entry.is_dir():
                    continue
                entry_location = f"{location}!/{entry.filename}"
                if _is_unsafe_name(entry.filename):
                    result.findings.append(
                        Finding(entry_location, "unsafe-path", "Entry name escapes the archive (zip-slip); skipped")
                    )
                    continue
                if _TFLITE_RUNTIME.search(entry.filename):
                    runtime_libraries.append(entry.filename)
                    continue
                if entry.flag_bits & 0x1:
                    if _MODEL_LIKE_NAME.search(PurePosixPath(entry.filename).name):
                        result.findings.append(
                            Finding(entry_location, "encrypted-model", "Password-protected zip entry")
                        )
                    continue
                content = self._read_entry(archive, entry, entry_location, budget, result)
                if content is not None:
                    name = PurePosixPath(entry.filename).name
                    self._classify(entry_location, name, content, depth, budget, result)
        if runtime_libraries and len(result.models) == models_before:
            result.findings.append(
                Finding(
                    location,
                    "runtime-without-model",
                    f"Ships the TFLite runtime ({runtime_libraries[0]}) but no model: the model is "
                    "likely downloaded or decrypted at run time",
                )
            )

    def _read_entry(
        self,
        archive: zipfile.ZipFile,
        entry: zipfile.ZipInfo,
        location: str,
        budget: _Budget,
        result: WalkResult,
    ) -> bytes | None:
        limit = min(self.limits.max_entry_bytes, budget.left)
        declared = entry.file_size
        if declared > limit:
            result.findings.append(
                Finding(location, "zip-bomb", f"Declares {declared} uncompressed bytes, over the limit of {limit}")
            )
            return None
        if declared > 1024**2 and declared / max(entry.compress_size, 1) > self.limits.max_ratio:
            result.findings.append(
                Finding(
                    location,
                    "zip-bomb",
                    f"Compression ratio {declared / max(entry.compress_size, 1):.0f}:1 exceeds "
                    f"{self.limits.max_ratio:.0f}:1",
                )
            )
            return None
        # Declared sizes can lie: read at most limit + 1 bytes and check what really came out.
        try:
            with archive.open(entry) as handle:
                content = handle.read(limit + 1)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError) as error:
            result.findings.append(Finding(location, "corrupt-entry", f"Unreadable entry: {error}"))
            return None
        if len(content) > limit:
            result.findings.append(
                Finding(location, "zip-bomb", f"Decompresses past the limit of {limit} bytes")
            )
            return None
        budget.left -= len(content)
        return content


def walk(paths: list[str | os.PathLike], limits: WalkLimits | None = None) -> WalkResult:
    """Finds every TFLite model in ``paths`` (files, folders, app archives).

    Args:
        paths: files or folders; archives are opened by content, whatever their extension.
        limits: bounds on archive sizes and nesting (defaults suit real apps).

    Returns:
        A :class:`WalkResult`: models with their location and bytes, and findings for what
        could not be scanned.
    """
    return ArchiveWalker(limits).walk(paths)


__all__ = ["ArchiveWalker", "Finding", "FoundModel", "WalkLimits", "WalkResult", "is_tflite", "walk"]
