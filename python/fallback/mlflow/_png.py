"""A PNG encoder for image arrays (``mlflow.log_image`` without PIL)."""

import struct
import zlib

_COLOR_TYPE = {1: 0, 3: 2, 4: 6}  # channels -> PNG colour type (grey, RGB, RGBA)


def _chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def encode_png(image):
    """PNG bytes of an HxW or HxWxC (C = 1, 3, 4) array; floats are read as 0..1."""
    import numpy as np
    array = np.asarray(image)
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] not in _COLOR_TYPE:
        raise ValueError("log_image: expected an HxW or HxWx{1,3,4} array, got shape %s" % (array.shape,))
    if array.dtype.kind == "f":
        if array.size and (array.min() < 0 or array.max() > 1):
            raise ValueError("log_image: float pixel values must lie in [0, 1]")
        array = (array * 255).round()
    elif array.dtype.kind in "iu" and array.size and (array.min() < 0 or array.max() > 255):
        raise ValueError("log_image: integer pixel values must lie in [0, 255]")
    array = np.ascontiguousarray(array.astype(np.uint8))
    height, width, channels = array.shape
    rows = b"".join(b"\x00" + array[y].tobytes() for y in range(height))  # filter 0 per row
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOR_TYPE[channels], 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows, 6))
            + _chunk(b"IEND", b""))
