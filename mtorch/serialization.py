"""``mtorch.save`` / ``mtorch.load``: checkpoints as ``.npz`` files, written atomically, read without pickle.

A checkpoint holds a model's ``state_dict()``, or any nesting of dicts,
lists and tuples of arrays and plain values::

    mtorch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                 "scheduler": scheduler.state_dict(), "epoch": 3,
                 "rng": mtorch.random.get_rng_state()}, "checkpoint.npz")
    checkpoint = mtorch.load("checkpoint.npz")
    model.load_state_dict(checkpoint["model"])

File format: a zip archive of uncompressed ``.npy`` members that
``numpy.load`` reads. Every array is one member, named by its place in the
nesting (``model/0.weight``, ``optimizer/state/0/exp_avg``); the member
``__mtorch__`` holds a UTF-8 JSON header with the format marker and the
structure, in which dicts (with their key types and order), lists, tuples,
Python ints, floats, bools, strings and None are written exactly and arrays
and numpy scalars are references to members (so dtypes survive too). The
archive's comment is ``mtorch sha256:`` and the SHA-256 of every byte before
it, so any change to the file, even one bit in the zip bookkeeping, is found
when it is loaded.

Damage is always reported the same way: ``load`` raises ``CheckpointError``
(a ``ValueError``) for any file that is not a complete, unchanged mtorch
checkpoint, and checks every size against the file before allocating memory.
"""
import hashlib
import io
import json
import math
import os
import re
import secrets
import shutil
import tempfile
import zipfile
from collections import OrderedDict

import numpy as np

from .errors import CheckpointError

FORMAT = "mtorch.checkpoint"
VERSION = 2                    # 2: the archive comment holds the file's SHA-256 (1 had none)
HEADER = "__mtorch__"
MAX_DEPTH = 100                # nesting levels of dicts/lists/tuples a checkpoint may have
_ZIP_MAGIC = b"PK\x03\x04"
_DIGEST_PREFIX = b"mtorch sha256:"
_DIGEST_LENGTH = len(_DIGEST_PREFIX) + 64
_CHUNK = 1 << 20


def save(obj, file):
    """Write ``obj`` (a state dict or a nested checkpoint dict) to ``file``.

    To a file name the write is atomic: the data goes to a temporary file in
    the same directory (``.<name>.<pid>.<random>.tmp``), is flushed and
    fsynced, and is renamed over ``file`` in one step (``os.replace``), so a
    crash, even a killed process, leaves either the old file or the complete
    new one. A temporary file left by a killed save is removed by the next
    save to the same name. A binary file object (``open(..., "wb")``,
    ``io.BytesIO``) receives the finished archive in one go; closing it is the
    caller's business. Nothing is written when ``obj`` cannot be saved.

    Args:
        obj: arrays, numpy scalars, None, bools, ints, floats, strings, and
            dicts (str or int keys), lists and tuples of these, nested up to
            ``MAX_DEPTH`` levels.
        file: a file name (str or path-like) or a writable binary file object.

    Raises:
        TypeError: ``obj`` holds something else (e.g. a Layer: save its
            ``state_dict()``), or an array of Python objects.
        ValueError: ``obj`` is nested deeper than ``MAX_DEPTH``.
    """
    arrays = {}
    tree = _encode(obj, "", arrays, 0)
    header = json.dumps({"format": FORMAT, "version": VERSION, "tree": tree})
    arrays[HEADER] = np.frombuffer(header.encode("utf-8"), dtype=np.uint8)
    if hasattr(file, "write"):
        with tempfile.TemporaryFile() as scratch:
            _write_archive(scratch, arrays)
            scratch.seek(0)
            shutil.copyfileobj(scratch, file, _CHUNK)
        return
    path = os.fspath(file)
    directory = os.path.dirname(os.path.abspath(path))
    _remove_stale_temporaries(path)
    temporary = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.{secrets.token_hex(6)}.tmp")
    fd = os.open(temporary, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "w+b") as out:
            _write_archive(out, arrays)
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    _fsync_directory(directory)


def load(file):
    """Read a checkpoint written by ``mtorch.save``; returns the saved object.

    Never unpickles. The file's SHA-256 is checked first, then the archive's
    layout, then each array's size against the bytes that hold it (before
    any memory is allocated for it).

    Args:
        file: a file name (str or path-like) or a readable binary file object.

    Raises:
        FileNotFoundError: no file at ``file``.
        CheckpointError (a ValueError): anything else that keeps the file
            from being a complete, unchanged mtorch checkpoint: another
            format (a plain ``.npz``, a ``torch.save`` file, a pickle), a
            truncated, corrupted or hand-crafted file, pickled Python objects.
    """
    if hasattr(file, "read"):
        name = getattr(file, "name", None)
        name = repr(name) if isinstance(name, str) else "the file object"
        if not (hasattr(file, "seek") and file.seekable()):
            file = io.BytesIO(file.read())
        return _load_from(file, name)
    path = os.fspath(file)
    with open(path, "rb") as f:
        return _load_from(f, path)


# ----------------------------------------------------------------- writing
def _write_archive(out, arrays):
    """The zip of ``arrays`` into the readable, seekable ``out``, ending with the digest comment."""
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        archive.comment = _DIGEST_PREFIX + b"0" * 64              # filled in below
        for name, array in arrays.items():
            with archive.open(name + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)
    end = out.tell()
    digest = _sha256(out, end - _DIGEST_LENGTH)
    out.seek(end - 64)
    out.write(digest.encode("ascii"))
    out.flush()


def _sha256(f, size):
    """The SHA-256 hex digest of the first ``size`` bytes of ``f``."""
    digest = hashlib.sha256()
    f.seek(0)
    remaining = size
    while remaining > 0:
        chunk = f.read(min(_CHUNK, remaining))
        if not chunk:
            break
        digest.update(chunk)
        remaining -= len(chunk)
    return digest.hexdigest()


def _remove_stale_temporaries(path):
    """Delete ``.<name>.<pid>.<random>.tmp`` files of saves to ``path`` whose process is gone."""
    directory = os.path.dirname(os.path.abspath(path))
    pattern = re.compile(re.escape(f".{os.path.basename(path)}.") + r"(\d+)\.[0-9a-f]{12}\.tmp")
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        match = pattern.fullmatch(name)
        if match and not _process_alive(int(match.group(1))):
            try:
                os.unlink(os.path.join(directory, name))
            except OSError:
                pass                  # removed meanwhile, or not ours to remove


def _process_alive(pid):
    if os.name != "posix":            # no safe liveness test: keep the file
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:                   # e.g. another user's process
        return True
    return True


def _fsync_directory(directory):
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ----------------------------------------------------------------- encoding
def _encode(obj, where, arrays, depth):
    """The JSON tree for ``obj``; arrays go into ``arrays`` under a name derived from ``where``."""
    if isinstance(obj, (np.ndarray, np.generic)):       # before str: a numpy string stays one
        array = np.asarray(obj)
        if array.dtype.hasobject:
            raise TypeError(f"mtorch.save: the array at {where or '/'!r} holds Python objects "
                            f"(dtype {array.dtype}); only numeric, bool and string arrays can be saved")
        name = _unique_name(where or "array", arrays)
        arrays[name] = array
        return {"array" if isinstance(obj, np.ndarray) else "scalar": name}
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if type(obj) in (int, float):
        return obj
    if isinstance(obj, (dict, list, tuple)) and depth >= MAX_DEPTH:
        raise ValueError(f"mtorch.save: the object is nested deeper than {MAX_DEPTH} levels at {where!r}")
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            if isinstance(key, bool) or not isinstance(key, (str, int)):
                raise TypeError(f"mtorch.save: dict keys must be str or int, got {key!r} "
                                f"at {where or '/'!r}")
            items.append([key, _encode(value, f"{where}/{key}" if where else str(key), arrays, depth + 1)])
        return {"ordered_dict" if isinstance(obj, OrderedDict) else "dict": items}
    if isinstance(obj, (list, tuple)):
        kind = "list" if isinstance(obj, list) else "tuple"
        return {kind: [_encode(v, f"{where}/{i}" if where else str(i), arrays, depth + 1)
                       for i, v in enumerate(obj)]}
    hint = " (save its state_dict() instead)" if hasattr(obj, "state_dict") else ""
    raise TypeError(f"mtorch.save: cannot save a {type(obj).__name__} at {where or '/'!r}{hint}; "
                    "a checkpoint holds arrays, numbers, strings, None, and dicts/lists/tuples of them")


def _unique_name(name, arrays):
    """A member name for the array at path ``name``, unique in ``arrays``. Only a label (the
    structure refers to it): what a zip name cannot hold (NUL, lone surrogates) becomes '?',
    and a very long path is cut."""
    name = name.encode("utf-8", "replace").decode("utf-8").replace("\x00", "?")[:200]
    candidate, n = name, 1
    while candidate in arrays or candidate == HEADER:
        n += 1
        candidate = f"{name}~{n}"
    return candidate


# ----------------------------------------------------------------- reading
def _load_from(f, name):
    """Read the checkpoint in the seekable binary file ``f`` (``name`` for messages)."""
    size = f.seek(0, os.SEEK_END)
    f.seek(0)
    magic = f.read(len(_ZIP_MAGIC))
    if magic != _ZIP_MAGIC:
        raise CheckpointError(f"mtorch.load: {name} is not an mtorch checkpoint: {_describe(magic)}")
    try:
        return _read_checkpoint(f, size, name)
    except CheckpointError:
        raise
    except Exception as error:        # whatever a damaged or crafted file provokes in the parsers
        raise CheckpointError(f"mtorch.load: {name} is truncated or damaged "
                              f"({type(error).__name__}: {error})") from None


def _read_checkpoint(f, size, name):
    digest = _stored_digest(f, size)
    if digest is not None and _sha256(f, size - _DIGEST_LENGTH) != digest:
        raise CheckpointError(f"mtorch.load: {name} is truncated or damaged: its bytes do not match "
                              "the SHA-256 written with it")
    f.seek(0)
    with zipfile.ZipFile(f) as archive:
        members = _checked_members(archive, size, name)
        if HEADER not in members:
            hint = (" It holds pickled data (e.g. a torch.save file), which mtorch never unpickles."
                    if any(n.endswith(".pkl") for n in archive.namelist()) else "")
            raise CheckpointError(f"mtorch.load: {name} is a zip/.npz archive but not an mtorch "
                                  f"checkpoint (no '{HEADER}' member); read plain .npz files "
                                  f"with numpy.load.{hint}")
        header = _read_header(_read_member(archive, members[HEADER], name), name)
        used = {HEADER}
        obj = _decode(header["tree"], lambda member: _array(archive, members, member, used, name), 0)
    if header["version"] >= 2 and digest is None:
        raise CheckpointError(f"mtorch.load: {name} is truncated or damaged: the SHA-256 that ends "
                              "every checkpoint of format version 2 is missing")
    if used != set(members):
        raise CheckpointError(f"mtorch.load: {name} is damaged: it holds arrays its structure does "
                              f"not use ({sorted(set(members) - used)[:5]})")
    return obj


def _stored_digest(f, size):
    """The hex SHA-256 in the archive comment, or None when the file has none (format version 1)."""
    if size < _DIGEST_LENGTH:
        return None
    f.seek(size - _DIGEST_LENGTH)
    tail = f.read(_DIGEST_LENGTH)
    if not tail.startswith(_DIGEST_PREFIX):
        return None
    return tail[len(_DIGEST_PREFIX):].decode("ascii", errors="replace")


def _checked_members(archive, size, name):
    """``{member name without .npy: ZipInfo}`` after checking that each is a plain stored entry
    that fits in the file (so no size read from the file can make us allocate more than it holds)."""
    members = {}
    for info in archive.infolist():
        if info.flag_bits & 0x1:
            raise CheckpointError(f"mtorch.load: {name} is not an mtorch checkpoint: member "
                                  f"{info.filename!r} is encrypted")
        if info.compress_type != zipfile.ZIP_STORED or info.compress_size != info.file_size:
            raise CheckpointError(f"mtorch.load: {name} is not an mtorch checkpoint: member "
                                  f"{info.filename!r} is compressed (mtorch.save stores members as they are)")
        if info.header_offset + info.file_size > size:
            raise CheckpointError(f"mtorch.load: {name} is truncated or damaged: member "
                                  f"{info.filename!r} claims {info.file_size} bytes beyond the file's {size}")
        key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
        if key in members:
            raise CheckpointError(f"mtorch.load: {name} is damaged: member {info.filename!r} appears twice")
        members[key] = info
    return members


def _array(archive, members, member, used, name):
    if not isinstance(member, str) or member not in members:
        raise CheckpointError(f"mtorch.load: {name} is truncated or damaged: its structure refers to an array "
                              f"{member!r} it does not hold")
    used.add(member)
    return _read_member(archive, members[member], name)


def _read_member(archive, info, name):
    """One ``.npy`` member as an array, its announced size checked against the member's."""
    where = f"mtorch.load: {name}, member {info.filename!r}"
    with archive.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(member)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(member)
        else:
            raise CheckpointError(f"{where} is damaged: .npy format version {version} (mtorch writes 1.0 or 2.0)")
        if dtype.hasobject:
            raise CheckpointError(f"mtorch.load: {name} holds pickled Python objects (member "
                                  f"{info.filename!r}); mtorch.load refuses them (it never unpickles)")
        count = math.prod(shape)
        if any(n < 0 for n in shape) or count * dtype.itemsize != info.file_size - member.tell():
            raise CheckpointError(f"{where} is damaged: its header announces shape {shape} of {dtype} "
                                  f"({count * dtype.itemsize} bytes), the member holds "
                                  f"{info.file_size - member.tell()}")
        data = bytearray(count * dtype.itemsize)
        if member.readinto(data) != len(data) or member.read(1):
            raise CheckpointError(f"{where} is truncated or damaged")
    array = np.frombuffer(data, dtype=dtype, count=count)
    return array.reshape(shape, order="F" if fortran else "C")


# ----------------------------------------------------------------- decoding
def _decode(node, array, depth):
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if depth >= MAX_DEPTH:
        raise CheckpointError(f"mtorch.load: the structure is nested deeper than {MAX_DEPTH} levels")
    if not isinstance(node, dict) or len(node) != 1:
        raise ValueError(f"malformed node {str(node)[:80]!r}")
    (kind, value), = node.items()
    if kind == "array":
        return array(value)
    if kind == "scalar":
        scalar = array(value)
        if scalar.ndim != 0:
            raise ValueError(f"scalar {value!r} has shape {scalar.shape}")
        return scalar[()]
    if kind in ("dict", "ordered_dict"):
        pairs = []
        for key, v in value:
            if isinstance(key, bool) or not isinstance(key, (str, int)):
                raise ValueError(f"dict key {key!r}")
            pairs.append((key, _decode(v, array, depth + 1)))
        result = OrderedDict(pairs) if kind == "ordered_dict" else dict(pairs)
        if len(result) != len(pairs):
            raise ValueError("a dict has a key twice")
        return result
    if kind in ("list", "tuple"):
        if not isinstance(value, list):
            raise ValueError(f"{kind} node holds a {type(value).__name__}")
        items = [_decode(v, array, depth + 1) for v in value]
        return items if kind == "list" else tuple(items)
    raise ValueError(f"unknown node kind {kind!r}")


def _read_header(array, name):
    try:
        header = json.loads(array.tobytes().decode("utf-8"))
        marker, version, _ = header["format"], header["version"], header["tree"]
    except (ValueError, KeyError, TypeError, RecursionError):
        raise CheckpointError(f"mtorch.load: {name} has a damaged '{HEADER}' header") from None
    if marker != FORMAT:
        raise CheckpointError(f"mtorch.load: {name} is not an mtorch checkpoint (format {marker!r})")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise CheckpointError(f"mtorch.load: {name} has a damaged '{HEADER}' header (version {version!r})")
    if version > VERSION:
        raise CheckpointError(f"mtorch.load: {name} was written by a newer mtorch (checkpoint format "
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
