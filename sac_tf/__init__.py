"""sac-tf: SAC-JC model-stealing fingerprints for Keras models.

The public surface is small:

- :class:`Fingerprint` (``create``, ``calibrate``, ``verify``, ``distance``, ``save``, ``load``)
  and :class:`VerificationResult`;
- :mod:`sac_tf.probes` (``jpeg``, ``misclassified``, ``cutmix``);
- :func:`correlation_matrix`, :func:`correlation_distance`, :class:`Calibration`,
  :class:`Preprocessing`;
- :class:`SacError`, the base of every error a user can act on.

Data, models, training, attacks and evaluation (``sac_tf.data``, ``sac_tf.models``,
``sac_tf.train``, ``sac_tf.attacks``, ...) import TensorFlow and are loaded only when used,
so that reading a fingerprint (as the edge scanner does) never imports TensorFlow.
"""

import importlib

__version__ = "0.1.0"

# Names resolve on first use (PEP 562): ``import sac_tf.tflite_model`` in a LiteRT worker
# process must not pay for SciPy, and nothing here may import TensorFlow.
_EXPORTS = {
    "Calibration": "sac_tf.calibration",
    "Fingerprint": "sac_tf.fingerprint",
    "VerificationResult": "sac_tf.fingerprint",
    "Preprocessing": "sac_tf.preprocessing",
    "SacError": "sac_tf.errors",
    "correlation_distance": "sac_tf.correlation",
    "correlation_matrix": "sac_tf.correlation",
}

__all__ = [*sorted(_EXPORTS), "probes", "__version__"]


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    if name == "probes":
        return importlib.import_module("sac_tf.probes")
    raise AttributeError(f"module 'sac_tf' has no attribute {name!r}")
