"""Wall time of ``sac-edge scan`` on an APK holding 10 small models (target: < 10 s on 2 cores).

    python benchmarks/edge_apk_scan.py [--jobs 2]

Times the real CLI in a fresh process (Python start-up and imports included), as a user runs it.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from edge_common import cnn_tflite, random_fingerprint  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--probes", type=int, default=200)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="edge-apk-"))
    apk = workdir / "app.apk"
    with zipfile.ZipFile(apk, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("classes.dex", b"dex\n035\x00" + bytes(4096))
        for i in range(10):
            data = cnn_tflite(i, size=32, channels=3, width=8, batch=1, int8=i % 2 == 1)
            zf.writestr(f"assets/models/m{i}.bin", data)
    fp = random_fingerprint(workdir / "fp.sacfp", args.probes, 32, 3)
    command = [sys.executable, "-m", "edge.cli", "scan", str(apk), "-f", str(fp), "-q", "--jobs", str(args.jobs)]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    scanned = result.stdout.count(" scanned ")
    print(result.stdout.splitlines()[-1] if result.stdout else result.stderr[-2000:])
    print(f"APK with 10 models ({apk.stat().st_size} bytes), {args.probes} probes, --jobs {args.jobs}: "
          f"{elapsed:.2f} s wall, {scanned} scanned, exit {result.returncode}")


if __name__ == "__main__":
    main()
