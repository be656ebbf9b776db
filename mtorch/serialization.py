"""``mtorch.save`` / ``mtorch.load``: checkpoints as ``.npz`` files, written atomically, read without pickle.

A checkpoint holds a model's ``state_dict()``, or any nesting of dicts,
lists and tuples of arrays and plain values::

    mtorch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                 "scheduler": scheduler.state_dict(), "epoch": 3,
                 "rng": mtorch.random.get_rng_state()}, "checkpoint.npz")
    checkpoint = mtorch.load("checkpoint.npz")
    model.load_state_dict(checkpoint["model"])

File format: a zip archive of ``.npy`` members that ``numpy.load`` reads.
Every array is one member, named by its place in the nesting
(``model/0.weight``, ``optimizer/state/0/exp_avg``); the member
``__mtorch__`` holds a UTF-8 JSON header with the format marker and the
structure, in which dicts (with their key types and order), lists, tuples,
Python ints, floats, bools, strings and None are written exactly and arrays
and numpy scalars are references to members (so dtypes survive too).
"""
import json
import os
import secrets
import zipfile
from collections import OrderedDict

import numpy as np

from .errors import CheckpointError

FORMAT = "mtorch.checkpoint"
VERSION = 1
HEADER = "__mtorch__"
_ZIP_MAGIC = b"PK\x03\x04"


def save(obj, path):
    """Write ``obj`` (a state dict or a nested checkpoint dict) to ``path`` atomically.

    The data goes to a temporary file in the same directory, is flushed and
    fsynced, and then renamed over ``path`` in one step (``os.replace``): a
    crash leaves either the old file or the complete new one, never half a
    checkpoint. The file is written at exactly ``path`` (no suffix added).

    Args:
        obj: arrays, numpy scalars, None, bools, ints, floats, strings, and
            dicts (str or int keys), lists and tuples of these, nested freely.
        path: a file name (str or path-like).

    Raises:
        TypeError: ``obj`` holds something else (e.g. a Layer: save its
            ``state_dict()``), or an array of Python objects.
    """
    arrays = {}
    tree = _encode(obj, "", arrays)
    header = json.dumps({"format": FORMAT, "version": VERSION, "tree": tree})
    arrays[HEADER] = np.frombuffer(header.encode("utf-8"), dtype=np.uint8)
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    temporary = os.path.join(directory, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as file:
            with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
                for name, array in arrays.items():
                    with archive.open(name + ".npy", "w", force_zip64=True) as member:
                        np.lib.format.write_array(member, array, allow_pickle=False)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    _fsync_directory(directory)


def load(path):
    """Read a checkpoint written by ``mtorch.save``; returns the saved object.

    Never unpickles (``numpy.load(..., allow_pickle=False)``).

    Raises:
        FileNotFoundError: no file at ``path``.
        CheckpointError (a ValueError): the file is not an mtorch checkpoint
            (another format, a plain ``.npz``, a ``torch.save`` file), is
            truncated or damaged, or holds pickled Python objects.
    """
    path = os.fspath(path)
    with open(path, "rb") as file:
        magic = file.read(len(_ZIP_MAGIC))
    if magic != _ZIP_MAGIC:
        raise CheckpointError(f"mtorch.load: {path} is not an mtorch checkpoint: {_describe(magic)}")
    try:
        with np.load(path, allow_pickle=False) as npz:
            if HEADER not in npz.files:
                hint = (" It holds pickled data (e.g. a torch.save file), which mtorch never unpickles."
                        if any(name.endswith(".pkl") for name in npz.files) else "")
                raise CheckpointError(f"mtorch.load: {path} is a zip/.npz archive but not an mtorch "
                                      f"checkpoint (no '{HEADER}' member); read plain .npz files "
                                      f"with numpy.load.{hint}")
            arrays = {name: npz[name] for name in npz.files}
    except CheckpointError:
        raise
    except ValueError as error:
        if "pickle" in str(error):
            raise CheckpointError(f"mtorch.load: {path} holds pickled Python objects; mtorch.load "
                                  "refuses them (it never unpickles)") from None
        raise CheckpointError(f"mtorch.load: {path} is damaged ({error})") from None
    except (zipfile.BadZipFile, EOFError, OSError) as error:
        raise CheckpointError(f"mtorch.load: {path} is truncated or damaged ({error})") from None
    header = _read_header(arrays.pop(HEADER), path)
    try:
        return _decode(header["tree"], arrays)
    except (KeyError, TypeError, ValueError, IndexError) as error:
        raise CheckpointError(f"mtorch.load: {path} is damaged: its structure does not match "
                              f"its arrays ({error!r})") from None


# ----------------------------------------------------------------- encoding
def _encode(obj, where, arrays):
    """The JSON tree for ``obj``; arrays go into ``arrays`` under a name derived from ``where``."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if type(obj) in (int, float):
        return obj
    if isinstance(obj, (np.ndarray, np.generic)):
        array = np.asarray(obj)
        if array.dtype.hasobject:
            raise TypeError(f"mtorch.save: the array at {where or '/'!r} holds Python objects "
                            f"(dtype {array.dtype}); only numeric, bool and string arrays can be saved")
        name = _unique_name(where or "array", arrays)
        arrays[name] = array
        return {"array" if isinstance(obj, np.ndarray) else "scalar": name}
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            if isinstance(key, bool) or not isinstance(key, (str, int)):
                raise TypeError(f"mtorch.save: dict keys must be str or int, got {key!r} "
                                f"at {where or '/'!r}")
            items.append([key, _encode(value, f"{where}/{key}" if where else str(key), arrays)])
        return {"ordered_dict" if isinstance(obj, OrderedDict) else "dict": items}
    if isinstance(obj, (list, tuple)):
        kind = "list" if isinstance(obj, list) else "tuple"
        return {kind: [_encode(v, f"{where}/{i}" if where else str(i), arrays) for i, v in enumerate(obj)]}
    hint = " (save its state_dict() instead)" if hasattr(obj, "state_dict") else ""
    raise TypeError(f"mtorch.save: cannot save a {type(obj).__name__} at {where or '/'!r}{hint}; "
                    "a checkpoint holds arrays, numbers, strings, None, and dicts/lists/tuples of them")


def _unique_name(name, arrays):
    candidate, n = name, 1
    while candidate in arrays or candidate == HEADER:
        n += 1
        candidate = f"{name}~{n}"
    return candidate


# ----------------------------------------------------------------- decoding
def _decode(node, arrays):
    if not isinstance(node, dict):
        return node
    (kind, value), = node.items()
    if kind == "array":
        return arrays[value]
    if kind == "scalar":
        return arrays[value][()]
    if kind in ("dict", "ordered_dict"):
        pairs = ((key, _decode(v, arrays)) for key, v in value)
        return OrderedDict(pairs) if kind == "ordered_dict" else dict(pairs)
    if kind == "list":
        return [_decode(v, arrays) for v in value]
    if kind == "tuple":
        return tuple(_decode(v, arrays) for v in value)
    raise ValueError(f"unknown node kind {kind!r}")


def _read_header(array, path):
    try:
        header = json.loads(array.tobytes().decode("utf-8"))
        marker, version = header["format"], header["version"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise CheckpointError(f"mtorch.load: {path} has a damaged '{HEADER}' header") from None
    if marker != FORMAT:
        raise CheckpointError(f"mtorch.load: {path} is not an mtorch checkpoint (format {marker!r})")
    if not isinstance(version, int) or version > VERSION:
        raise CheckpointError(f"mtorch.load: {path} was written by a newer mtorch (checkpoint format "
                              f"version {version!r}; this mtorch reads up to {VERSION})")
    return header


def _describe(magic):
    if not magic:
        return "the file is empty"
    if magic[:1] == b"\x80":
        return "it is a Python pickle, which mtorch never unpickles"
    if magic.startswith(b"\x93NUM"):
        return "it is a single .npy array (read it with numpy.load)"
    return "it is not a zip/.npz archive"


def _fsync_directory(directory):
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
