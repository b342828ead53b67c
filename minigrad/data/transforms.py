"""The image transforms tutorials pass to a dataset (torchvision's names): ``Compose``,
``ToTensor`` and ``Normalize``, enough for PyTorch's MNIST example to run as it is written.
Each turns one sample's image into the next form; a dataset applies them in __getitem__."""
import numpy as np

from ..tensor import as_tensor


class Compose:
    """Apply ``transforms`` one after another."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, image):
        for t in self.transforms:
            image = t(image)
        return image

    def __repr__(self):
        inner = "".join(f"\n    {t!r}" for t in self.transforms)
        return f"{type(self).__name__}({inner}\n)"


class ToTensor:
    """An image (H, W) or (H, W, C) as a float32 tensor (C, H, W); uint8 pixels (0–255) are
    scaled to [0, 1] by dividing by 255, other dtypes keep their values."""

    def __call__(self, image):
        a = np.asarray(image)
        if a.ndim == 2:
            a = a[:, :, None]
        if a.ndim != 3:
            raise ValueError(f"ToTensor: an image must be (H, W) or (H, W, C), got shape "
                             f"{a.shape}")
        a = np.ascontiguousarray(a.transpose(2, 0, 1))
        if a.dtype == np.uint8:
            return as_tensor(a.astype(np.float32) / np.float32(255))
        return as_tensor(a.astype(np.float32))

    def __repr__(self):
        return "ToTensor()"


class Normalize:
    """(image[c] − mean[c]) / std[c] for each channel c of a (C, H, W) tensor."""

    def __init__(self, mean, std, inplace=False):
        self.mean, self.std, self.inplace = tuple(mean), tuple(std), inplace

    def __call__(self, image):
        if image.ndim < 3:
            raise ValueError(f"Normalize: expected a (C, H, W) tensor, got shape {image.shape}")
        dtype, c = image.dtype, image.shape[-3]
        mean = np.asarray(self.mean, dtype=dtype)
        std = np.asarray(self.std, dtype=dtype)
        if (std == 0).any():
            raise ValueError(f"Normalize: std {self.std} has a zero: division by zero")
        if mean.size not in (1, c) or std.size not in (1, c):
            raise ValueError(f"Normalize: {mean.size} means and {std.size} stds for an image "
                             f"of {c} channels")
        shape = (-1, 1, 1)
        xp = image.xp
        values = (image._data - xp.asarray(mean.reshape(shape))) / xp.asarray(std.reshape(shape))
        if self.inplace:
            image._data[...] = values
            return image
        return as_tensor(values)

    def __repr__(self):
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"
