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

from sac_tf import probes
from sac_tf.calibration import Calibration
from sac_tf.correlation import correlation_distance, correlation_matrix
from sac_tf.errors import SacError
from sac_tf.fingerprint import Fingerprint, VerificationResult
from sac_tf.preprocessing import Preprocessing

__version__ = "0.1.0"

__all__ = [
    "Calibration",
    "Fingerprint",
    "Preprocessing",
    "SacError",
    "VerificationResult",
    "correlation_distance",
    "correlation_matrix",
    "probes",
    "__version__",
]
