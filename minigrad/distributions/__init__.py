"""``torch.distributions`` for what policy-gradient and VAE tutorials use: ``Categorical``
(sample an action, its log-probability, the entropy) and ``Normal`` (with the
reparameterised ``rsample``). Sampling draws from minigrad's generator, so a seed repeats
minigrad's draws, not PyTorch's."""
from .categorical import Categorical
from .distribution import Distribution
from .normal import Normal

__all__ = ["Categorical", "Distribution", "Normal"]
