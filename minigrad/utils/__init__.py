"""PyTorch's ``torch.utils``: here, ``data`` (datasets and the DataLoader)."""
from . import data
