"""The main job on a CPU-sized configuration: report folder, table, verdicts."""

import json

from sac_tf.demo import DemoConfig, run_demo


def test_demo_flags_copies_clears_innocents_and_writes_report(tmp_path):
    config = DemoConfig(
        dataset="digits", image_size=16, split_sizes=None, victim_architecture="tiny_cnn",
        innocent_architectures=("tiny_cnn", "tiny_cnn"),
        calibration_architectures=("tiny_cnn", "tiny_cnn", "tiny_cnn"),
        epochs=8, num_probes=60, out_dir=str(tmp_path / "report"), batch_size=64,
    )
    result = run_demo(config, progress=False)
    by_name = {row["model"]: row for row in result.rows}
    assert by_name["finetune-all"]["verdict"] == "stolen"
    assert by_name["finetune-last"]["verdict"] == "stolen"
    assert all(row["verdict"] == "not-stolen" for row in result.rows if row["role"] == "innocent")
    assert 0.5 <= result.auc <= 1.0 and 0.0 <= result.f1 <= 1.0
    for row in result.rows:
        assert 0.0 <= row["accuracy"] <= 1.0 and 0.0 <= row["agreement"] <= 1.0

    report = tmp_path / "report"
    for name in ("report.json", "manifest.json", "table.md", "roc.png", "distances.png",
                 "correlation_heatmaps.png", "fingerprint.npz", "models/victim.keras"):
        assert (report / name).is_file(), name
    saved = json.loads((report / "report.json").read_text())
    assert saved["config"]["seed"] == 0 and len(saved["rows"]) == len(result.rows)
    assert "finetune-all" in result.summary() and "AUC" in result.summary()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".report.")]  # no staging left
