"""Readable tables and machine-readable run records.

Tables are plain text (aligned columns) for terminals and markdown for README/notes; every
run also writes ``manifest.json`` (what produced it: configuration, seeds, library versions)
so that its numbers can be traced and rerun.
"""

from __future__ import annotations

import json
import platform
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value != 0 and abs(value) < 1e-3:
            return f"{value:.1e}"
        return f"{value:.4f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def format_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], markdown: bool = False) -> str:
    """Formats rows as an aligned text table (or a markdown table)."""
    cells = [[_cell(row.get(column)) for column in columns] for row in rows]
    if markdown:
        lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in cells]
        return "\n".join(lines)
    widths = [max(len(column), *(len(row[i]) for row in cells)) for i, column in enumerate(columns)]
    header = "  ".join(column.ljust(width) for column, width in zip(columns, widths, strict=True))
    lines = [header, "  ".join("-" * width for width in widths)]
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def environment() -> dict[str, str]:
    """Versions that a result depends on, for the manifest."""
    versions = {"python": sys.version.split()[0], "platform": platform.platform()}
    for module in ("numpy", "scipy", "sklearn", "keras", "tensorflow", "PIL"):
        loaded = sys.modules.get(module)
        if loaded is not None:
            versions[module] = getattr(loaded, "__version__", "?")
    from sac_tf import __version__

    versions["sac_tf"] = __version__
    return versions


def emit_json(data: Any, destination: str | None) -> None:
    """Prints JSON to stdout (``None`` or ``"-"``) or writes it to a file: the CLIs' ``--json``."""
    if destination in (None, "-"):
        print(json.dumps(data, indent=2, sort_keys=True, default=float))
    else:
        write_json(data, destination)


def write_json(data: Any, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=float) + "\n")
    return path
