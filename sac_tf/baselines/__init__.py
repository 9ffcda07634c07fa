"""Earlier fingerprints to compare SAC with, each as queries x representation x distance.

- IPGuard (:mod:`sac_tf.baselines.ipguard`): points near the victim's decision boundary,
  compared by predicted labels.
- ModelDiff (:mod:`sac_tf.baselines.modeldiff`, simplified query search): decision distance
  vectors over input pairs, compared by cosine.

:mod:`sac_tf.evaluation` runs them beside SAC on the same zoo.
"""

from sac_tf.baselines.ipguard import ipguard_samples, label_disagreement, predicted_labels
from sac_tf.baselines.modeldiff import ddv_distance, decision_distance_vector, modeldiff_pairs

__all__ = [
    "ddv_distance",
    "decision_distance_vector",
    "ipguard_samples",
    "label_disagreement",
    "modeldiff_pairs",
    "predicted_labels",
]
