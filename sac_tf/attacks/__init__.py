"""Model-stealing attacks: each takes a stolen (or queried) model and data, returns a new model.

One attack per module, as in cleverhans:

- :func:`finetune` (Finetune-A / Finetune-L), :mod:`sac_tf.attacks.finetune`;
- :func:`fine_prune`, :mod:`sac_tf.attacks.prune`;
- :func:`extract_labels` (Extract-L), :func:`extract_probabilities` (Extract-P),
  :mod:`sac_tf.attacks.extract`;
- :func:`extract_adversarial` (Extract-Adv) and :func:`pgd`, :mod:`sac_tf.attacks.adversarial`;
- :func:`transfer`, :mod:`sac_tf.attacks.transfer`;
- :func:`to_tflite` (deployment as float16 / int8 TFLite), :mod:`sac_tf.attacks.deploy`.

Thieves train on the attacker split, never on the victim's training data. No attack
modifies the model it is given.
"""

from sac_tf.attacks.adversarial import extract_adversarial, pgd
from sac_tf.attacks.deploy import ConversionError, to_tflite
from sac_tf.attacks.extract import extract_labels, extract_probabilities, victim_labels
from sac_tf.attacks.finetune import finetune
from sac_tf.attacks.prune import channel_activity, fine_prune
from sac_tf.attacks.transfer import transfer

__all__ = [
    "ConversionError",
    "channel_activity",
    "extract_adversarial",
    "extract_labels",
    "extract_probabilities",
    "fine_prune",
    "finetune",
    "pgd",
    "to_tflite",
    "transfer",
    "victim_labels",
]
