"""Learning-rate schedules (PyTorch's ``torch.optim.lr_scheduler``): each one rewrites
``group["lr"]`` of its optimizer's parameter groups when its ``step()`` is called, once per
epoch, after the optimizer's steps of that epoch.

Each schedule is written as PyTorch writes it, as a recurrence on the current learning rate
(``get_lr`` from ``group["lr"]``), so that a schedule combined with another one, or with an
lr changed by hand, behaves as PyTorch's does, and the values match PyTorch's to the last
bit (the closed forms in the docstrings are what the recurrences compute, up to rounding).
"""
import math
from collections import Counter

from .optimizer import Optimizer


class LRScheduler:
    """What every schedule shares. ``last_epoch`` counts the calls of ``step()``; creating
    the schedule makes the first call (epoch 0) and records each group's starting lr as
    ``initial_lr`` (``base_lrs``). Pass ``last_epoch`` ≥ 0 to resume a schedule whose
    optimizer already has ``initial_lr`` (one restored from a state_dict)."""

    def __init__(self, optimizer, last_epoch=-1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] when "
                               "resuming a scheduler with last_epoch >= 0: load the "
                               "optimizer's state_dict first")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self._initial = True           # the constructor's own step keeps every lr
        self.step()
        self._initial = False

    def get_lr(self):
        """The next lr of each group, from the current ones; subclasses define it."""
        raise NotImplementedError

    def step(self):
        """Advance one epoch and write the new learning rates into the optimizer."""
        self._step_count += 1
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self):
        """The learning rates the last ``step()`` set, one per parameter group."""
        return self._last_lr

    def state_dict(self):
        """Everything but the optimizer (save the optimizer's own state_dict beside it)."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)

    def _current(self):
        return [group["lr"] for group in self.optimizer.param_groups]


class StepLR(LRScheduler):
    """lr = initial_lr · gamma^⌊epoch / step_size⌋: multiplied by gamma every step_size
    epochs."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        if not isinstance(step_size, int) or step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive int, got {step_size!r}")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current()
        return [lr * self.gamma for lr in self._current()]


class MultiStepLR(LRScheduler):
    """lr = initial_lr · gamma^(how many milestones are ≤ epoch): multiplied by gamma at each
    milestone epoch (twice at one listed twice)."""

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        self.milestones, self.gamma = Counter(milestones), gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch not in self.milestones:
            return self._current()
        factor = self.gamma ** self.milestones[self.last_epoch]
        return [lr * factor for lr in self._current()]


class ExponentialLR(LRScheduler):
    """lr = initial_lr · gamma^epoch: multiplied by gamma every epoch."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._initial:
            return self._current()
        return [lr * self.gamma for lr in self._current()]


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from initial_lr down to eta_min over T_max epochs (Loshchilov & Hutter's
    SGDR without restarts), and back up over the next T_max, and so on:

        lr = eta_min + (initial_lr − eta_min) · (1 + cos(π · epoch / T_max)) / 2

    computed, as PyTorch does, from the previous lr: each step scales lr − eta_min by the
    ratio of consecutive (1 + cos) terms, and at the bottom of each valley (where that ratio
    would divide by zero) adds the rise of the first step up."""

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):  # noqa: N803 (PyTorch's name)
        if T_max <= 0:
            raise ValueError(f"CosineAnnealingLR: T_max must be positive, got {T_max}")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        e, t, low = self.last_epoch, self.T_max, self.eta_min
        if self._initial:
            return self._current()
        if (e - 1 - t) % (2 * t) == 0:      # leaving a valley's bottom: the first step up
            return [lr + (base - low) * (1 - math.cos(math.pi / t)) / 2
                    for lr, base in zip(self._current(), self.base_lrs)]
        ratio = (1 + math.cos(math.pi * e / t)) / (1 + math.cos(math.pi * (e - 1) / t))
        return [ratio * (lr - low) + low for lr in self._current()]
