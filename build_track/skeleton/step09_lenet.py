"""Step 9: LeNet on Fashion-MNIST, with your own engine. (docs/build/README.md,
step 9)

The network of examples/lenet_fashion.py, made of your steps (each comes through
build_track.track.step, so REFERENCE=... can stand in for one you have not finished):

    (N, 1, 28, 28) -conv 5x5, 6-> sigmoid -> max-pool 2 -> (N, 6, 12, 12)
                   -conv 5x5, 16-> sigmoid -> max-pool 2 -> (N, 16, 4, 4) -> (N, 256)
                   -linear 120-> sigmoid -linear 84-> sigmoid -linear 10-> logits (N, 10)

trained with cross-entropy and Adam. ``python -m build_track.train`` runs it on the real
data.

init_lenet is done; write lenet, train_epoch and evaluate. Run: make build STEP=9"""
import numpy as np

from build_track.track import step

Tensor = step(2).Tensor
reshape = step(3).reshape
linear, sigmoid, cross_entropy = step(4).linear, step(4).sigmoid, step(4).cross_entropy
conv2d = step(6).conv2d
max_pool2d = step(7).max_pool2d

SHAPES = {"conv1.weight": (6, 1, 5, 5), "conv1.bias": (6,),
          "conv2.weight": (16, 6, 5, 5), "conv2.bias": (16,),
          "fc1.weight": (120, 256), "fc1.bias": (120,),
          "fc2.weight": (84, 120), "fc2.bias": (84,),
          "fc3.weight": (10, 84), "fc3.bias": (10,)}


def init_lenet(seed=0, dtype=np.float32):
    """The parameters as PyTorch initialises them: every weight and bias uniform in
    +-1/sqrt(fan_in), fan_in = the inputs one output sees (in_channels*kh*kw, or in)."""
    g = np.random.default_rng(seed)
    params = {}
    for name, shape in SHAPES.items():
        fan_in = int(np.prod(SHAPES[name.replace("bias", "weight")][1:]))
        bound = 1 / np.sqrt(fan_in)
        params[name] = Tensor(g.uniform(-bound, bound, shape).astype(dtype))
    return params


def lenet(params, x):
    """The logits (N, 10) for images x (a Tensor (N, 1, 28, 28))."""
    raise NotImplementedError("step 9 not done yet: lenet")


def train_epoch(params, optimizer, images, labels, batch_size=256, rng=None):
    """One pass over the images in batches (shuffled by ``rng`` when given): for each,
    the loss, zero_grad, backward, step. Returns the mean of the batch losses."""
    raise NotImplementedError("step 9 not done yet: train_epoch")


def evaluate(params, images, labels, batch_size=1000):
    """The fraction of images whose largest logit is their label."""
    raise NotImplementedError("step 9 not done yet: evaluate")
