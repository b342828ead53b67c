"""Train a variant of the example's LeNet with examples/lenet_fashion.py's own loop, flags
and outputs: the measured runs of docs/why_075.md.

    python scripts/lenet_variant.py --activation relu --device cpu --epochs 5 --out runs/relu

``--activation sigmoid`` is the example itself; ``relu`` puts nn.ReLU where the example
has nn.Sigmoid and changes nothing else (same layers, same init, same seed, same Adam).
Every other flag is lenet_fashion.py's (``--lr``, ``--epochs``, ``--resume``, the subsets).
"""
import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from examples import lenet_fashion  # noqa: E402  (after the path is set)
from examples.lenet import lenet  # noqa: E402
from minigrad import nn  # noqa: E402


class _WithReLU:
    """minigrad.nn with ReLU in place of Sigmoid: ``lenet(_WithReLU())`` is LeNet with
    ReLUs, built by the one model definition of examples/lenet.py."""
    def __getattr__(self, name):
        return nn.ReLU if name == "Sigmoid" else getattr(nn, name)


def main(argv=None):
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--activation", choices=["sigmoid", "relu"], default="sigmoid")
    args, rest = ap.parse_known_args(argv)
    if args.activation == "relu":
        lenet_fashion.lenet = lambda: lenet(_WithReLU())
    print(f"activation: {args.activation}")
    return lenet_fashion.main(rest)


if __name__ == "__main__":
    main()
