"""Scan results: one record per model, the findings, a table for people and JSON for machines.

Exit codes follow clamscan: 0 nothing stolen, 1 at least one stolen model, 2 an error stopped
the scan (the CLI returns 2 itself for those).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from edge.archive import Finding
from edge.tflite_reader import ModelInfo
from sac_tf.fingerprint import VerificationResult

EXIT_CLEAN, EXIT_STOLEN, EXIT_ERROR = 0, 1, 2


@dataclass
class ModelReport:
    """What the scan concluded about one model.

    Attributes:
        status: ``scanned`` (with a verdict), ``not-applicable``, ``unsupported-ops``,
            ``crashed``, ``timeout``, ``load-error``, ``corrupt-model`` or ``error``.
        reason: why, when the status is not ``scanned`` (or what the model needs).
        input_mapping: how probes were fed (size, channels, layout, scaling).
        result: distance, threshold, p-value and verdict (``scanned`` only).
    """

    location: str
    size: int
    sha256: str
    status: str
    reason: str = ""
    input_mapping: str = ""
    batched: bool = False
    seconds: float = 0.0
    result: VerificationResult | None = None
    info: ModelInfo | None = field(default=None, repr=False)

    @property
    def verdict(self) -> str:
        return self.result.verdict if self.result is not None else "-"

    def to_dict(self) -> dict[str, Any]:
        result = self.result
        return {
            "location": self.location,
            "size": self.size,
            "sha256": self.sha256,
            "status": self.status,
            "reason": self.reason,
            "verdict": self.verdict if result else None,
            "distance": result.distance if result else None,
            "threshold": result.threshold if result else None,
            "p_value": result.p_value if result else None,
            "empirical_p_value": result.empirical_p_value if result else None,
            "output_used": result.output_used if result else None,
            "input_mapping": self.input_mapping,
            "batched": self.batched,
            "seconds": round(self.seconds, 4),
            "model": None if self.info is None else self.info.to_dict(),
        }


@dataclass
class ScanReport:
    """Every model and finding of one scan."""

    models: list[ModelReport]
    findings: list[Finding]
    fingerprint: str | None = None
    calibrated: bool = True

    @property
    def stolen(self) -> list[ModelReport]:
        return [m for m in self.models if m.verdict == "stolen"]

    @property
    def exit_code(self) -> int:
        return EXIT_STOLEN if self.stolen else EXIT_CLEAN

    def to_dict(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "calibrated": self.calibrated,
            "summary": self.summary(),
            "exit_code": self.exit_code,
            "models": [m.to_dict() for m in self.models],
            "findings": [f.to_dict() for f in self.findings],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def summary(self) -> str:
        scanned = sum(m.status == "scanned" for m in self.models)
        text = (
            f"{len(self.models)} model(s) found, {scanned} scanned, {len(self.stolen)} stolen, "
            f"{len(self.findings)} finding(s)"
        )
        if not self.calibrated:
            text += "; fingerprint not calibrated: verdicts are inconclusive"
        return text

    def table(self) -> str:
        """A fixed-width table: one line per model, then the findings."""
        header = f"{'VERDICT':<13} {'STATUS':<16} {'DISTANCE':>9} {'THRESH':>8} {'P-VALUE':>9}  LOCATION"
        lines = [header, "-" * len(header)]
        for m in self.models:
            r = m.result
            numbers = (
                f"{r.distance:>9.4f} "
                f"{(f'{r.threshold:.4f}' if r.threshold is not None else '-'):>8} "
                f"{(f'{r.p_value:.3g}' if r.p_value is not None else '-'):>9}"
                if r
                else f"{'-':>9} {'-':>8} {'-':>9}"
            )
            lines.append(f"{m.verdict:<13} {m.status:<16} {numbers}  {m.location}")
            if m.status != "scanned" and m.reason:
                lines.append(f"{'':<13} {'':<16} reason: {m.reason}")
        if self.findings:
            lines.append("")
            lines.append("Not scanned:")
            for f in self.findings:
                lines.append(f"  {f.status:<22} {f.location}: {f.detail}")
        lines.append("")
        lines.append(self.summary())
        return "\n".join(lines)
