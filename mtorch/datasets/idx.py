"""Read and write IDX files, the format MNIST and Fashion-MNIST are published in.

An IDX file is a small header followed by the array's elements, big-endian, in
C order (http://yann.lecun.com/exdb/mnist/)::

    bytes 0-1   0x00 0x00                     magic
    byte  2     element type code             0x08 uint8, 0x09 int8, 0x0B int16,
                                              0x0C int32, 0x0D float32, 0x0E float64
    byte  3     number of dimensions d
    then        d sizes, each a big-endian uint32
    then        prod(sizes) elements

``train-images-idx3-ubyte`` is ``00 00 08 03``, then 60000, 28, 28, then
47,040,000 pixels. Files are often gzip-compressed; ``read_idx`` recognises
gzip by its first bytes, whatever the file is called.
"""
import gzip
import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np

_CODE_TO_DTYPE = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"),
                  0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_GZIP_MAGIC = b"\x1f\x8b"


class IDXError(ValueError):
    """A file is not a valid IDX file (foreign, truncated, or with extra bytes); names the file."""


_MAX_DEFLATE_RATIO = 1032      # deflate never expands less: n compressed bytes hold at most 1032 n


def _open(path):
    """``(file object, gzipped)``, the file opened for reading its IDX content."""
    with open(path, "rb") as f:
        gzipped = f.read(2) == _GZIP_MAGIC
    return (gzip.open(path, "rb") if gzipped else open(path, "rb")), gzipped


def _check_size(path, gzipped, total, shape, dtype):
    """Refuse, before anything is allocated, a header announcing ``total`` bytes (header and
    data) that the file cannot hold: a plain file must have exactly that size; a gzip file
    must say so in its trailer (the size modulo 2**32) and be large enough to inflate to it."""
    size = os.path.getsize(path)
    announced = f"header says shape {shape} of {dtype.name} ({total} bytes with the header)"
    if not gzipped:
        if size < total:
            raise IDXError(f"{path}: truncated IDX file: {announced}, the file has {size} bytes")
        if size > total:
            raise IDXError(f"{path}: IDX file has extra bytes: {announced}, the file has {size} bytes")
        return
    with open(path, "rb") as f:
        f.seek(max(size - 4, 0))
        trailer = int.from_bytes(f.read(4), "little")
    if total > size * _MAX_DEFLATE_RATIO or trailer != total % 2 ** 32:
        raise IDXError(f"{path}: truncated or damaged IDX file: {announced}, but the gzip stream of "
                       f"{size} bytes holds {trailer} bytes (modulo 2**32) by its trailer")


def _read_exactly(f, n, path, what):
    data = f.read(n)
    if len(data) != n:
        raise IDXError(f"{path}: truncated IDX file: expected {n} bytes of {what}, found {len(data)}")
    return data


def read_idx(path):
    """Read an IDX file (raw or gzip-compressed) into a numpy array.

    The header is validated: magic number, element type code, dimensions, and
    that the data is exactly ``prod(sizes) * itemsize`` bytes, which is checked
    against the file's size (for gzip, its trailer) before memory is
    allocated, so a damaged header cannot ask for terabytes. The elements are
    read straight into the result (no intermediate copy), which is returned in
    native byte order and is writable.

    Args:
        path: the file (str or Path).

    Returns:
        ``np.ndarray`` with the header's shape; uint8 for MNIST images and labels.

    Raises:
        IDXError (a ValueError): the file is not IDX, is truncated or has extra
            bytes, or its gzip stream is corrupt. The message names the file.
    """
    path = Path(path)
    opened, gzipped = _open(path)
    try:
        with opened as f:
            magic = _read_exactly(f, 4, path, "header")
            if magic[:2] != b"\x00\x00" or magic[2] not in _CODE_TO_DTYPE:
                raise IDXError(f"{path}: not an IDX file: first bytes are {magic.hex(' ')}, expected "
                               f"00 00 <type code in {', '.join(f'{c:02x}' for c in _CODE_TO_DTYPE)}> <ndim>")
            dtype, ndim = _CODE_TO_DTYPE[magic[2]], magic[3]
            shape = struct.unpack(f">{ndim}I", _read_exactly(f, 4 * ndim, path, "dimension sizes"))
            _check_size(path, gzipped, 4 + 4 * ndim + math.prod(shape) * dtype.itemsize, shape, dtype)
            out = np.empty(shape, dtype=dtype)
            view = memoryview(out.reshape(-1).view(np.uint8))
            filled = 0
            while filled < view.nbytes:
                n = f.readinto(view[filled:])
                if not n:
                    raise IDXError(f"{path}: truncated IDX file: header says shape {shape} of {dtype.name} "
                                   f"({view.nbytes} bytes of data), found only {filled}")
                filled += n
            extra = len(f.read(1 << 16))
            if extra:
                raise IDXError(f"{path}: IDX file has extra bytes after the {view.nbytes} bytes of data "
                               f"that its header (shape {shape} of {dtype.name}) announces")
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise IDXError(f"{path}: corrupt or truncated gzip stream ({error})") from None
    return out.astype(dtype.newbyteorder("="), copy=False)


def write_idx(path, array):
    """Write ``array`` as an IDX file; gzip-compressed if ``path`` ends in ``.gz``.

    The dtype must be one IDX can store: uint8, int8, int16, int32, float32 or float64.
    """
    array = np.asarray(array, order="C")
    codes = {dtype.newbyteorder("="): code for code, dtype in _CODE_TO_DTYPE.items()}
    native = array.dtype.newbyteorder("=")
    if native not in codes:
        raise TypeError(f"write_idx: IDX cannot store dtype {array.dtype}; "
                        f"use one of {', '.join(d.name for d in codes)}")
    header = bytes([0, 0, codes[native], array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    data = array.astype(_CODE_TO_DTYPE[codes[native]], copy=False).tobytes()
    with (gzip.open if str(path).endswith(".gz") else open)(path, "wb") as f:
        f.write(header)
        f.write(data)
