"""Apple's Metal (MPS) backend: minigrad has none, so code that asks whether it can use one
is told no, as PyTorch tells a machine without Apple silicon."""


def is_available():
    return False


def is_built():
    return False
