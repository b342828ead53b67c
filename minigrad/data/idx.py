"""Read IDX files (the format of MNIST and Fashion-MNIST), gzipped or raw.

An IDX file is a 4-byte magic number — two zero bytes, a type code (0x08 = unsigned byte),
the number of dimensions — then each dimension as a big-endian uint32, then the values.
Every field is checked, so a truncated or corrupt file is an error naming the file."""
import gzip
import zlib

import numpy as np

_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class IDXError(ValueError):
    """An IDX file that cannot be read: the message names the file and what is wrong."""


def read_bytes(path):
    """The file's bytes, decompressed when it is gzip (recognised by its magic, not its name)."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise IDXError(f"{path}: damaged or truncated gzip data ({e})") from None
    return raw


def parse(data, name="<bytes>"):
    """Turn the bytes of an IDX file into an array of its shape."""
    if len(data) < 4:
        raise IDXError(f"{name}: only {len(data)} bytes, too short for an IDX header")
    if data[0] != 0 or data[1] != 0 or data[2] not in _TYPES:
        raise IDXError(f"{name}: not an IDX file (magic bytes {data[:4].hex()})")
    ndim = data[3]
    if not 1 <= ndim <= 4:
        raise IDXError(f"{name}: implausible number of dimensions {ndim}")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IDXError(f"{name}: truncated inside its header")
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", ndim, 4))
    dtype = np.dtype(_TYPES[data[2]])
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "has trailing bytes"
        raise IDXError(f"{name}: {what}: header says shape {shape} ({expected} bytes), "
                       f"file has {len(data)} bytes")
    return np.frombuffer(data, dtype, offset=header).reshape(shape)


def read_idx(path):
    """Read one IDX file (gzip or raw) into a NumPy array."""
    return parse(read_bytes(path), str(path))
