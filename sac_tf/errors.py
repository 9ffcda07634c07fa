"""Errors a user can act on.

Every failure that comes from the user's input (a bad file, a wrong shape, no network)
is raised as a :class:`SacError` subclass whose message says what was received and what to
do. The CLIs print these as one line and exit non-zero; anything else is a bug and keeps
its traceback.
"""

from __future__ import annotations


class SacError(Exception):
    """Base class for expected, user-facing errors."""


class FingerprintFormatError(SacError):
    """A fingerprint file is corrupt, truncated, of another version, or not a fingerprint."""


class InputShapeError(SacError, ValueError):
    """Probes do not fit the model's input."""


class OutputError(SacError, ValueError):
    """A model produced outputs that cannot be fingerprinted (non-finite, wrong rank)."""


class ModelLoadError(SacError):
    """A model file could not be loaded."""


class DatasetError(SacError):
    """A dataset is unknown, unreachable offline, or malformed."""
