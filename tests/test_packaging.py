"""What `pip install "sac-tf[edge]"` pulls: a scanning host must not get TensorFlow."""

import re
from pathlib import Path

import tomllib

PYPROJECT = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
HEAVY = {"tensorflow", "keras", "tf-keras", "tensorflow-datasets", "deepface", "torch"}


def _names(requirements):
    return {re.split(r"[\s<>=!~;\[]", r, maxsplit=1)[0].lower() for r in requirements}


def test_scanner_install_has_no_tensorflow():
    project = PYPROJECT["project"]
    scanner = _names(project["dependencies"]) | _names(project["optional-dependencies"]["edge"])
    assert not scanner & HEAVY, scanner & HEAVY
    assert {"ai-edge-litert", "numpy", "pillow", "scipy", "flatbuffers"} <= scanner


def test_both_console_scripts_are_declared():
    scripts = PYPROJECT["project"]["scripts"]
    assert scripts == {"sac-tf": "sac_tf.cli:main", "sac-edge": "edge.cli:main"}
