"""Save a training run and resume it: model, optimizer, scheduler and random state in one file.

::

    save_checkpoint("runs/model.npz", model, optimizer, scheduler, epoch=3, history=history)
    ...
    extra = load_checkpoint("runs/model.npz", model, optimizer, scheduler)
    first_epoch = extra["epoch"]

``load_checkpoint`` is all or nothing across the objects: everything is read
and checked, and if any part does not fit (another model, a damaged file)
the model, optimizer, scheduler and random state are left as they were.
"""
import os

from .. import random as mrandom
from ..errors import CheckpointError, StateDictError
from ..serialization import load, save

_RESERVED = ("model", "optimizer", "scheduler", "rng")


def save_checkpoint(path, model, optimizer=None, scheduler=None, **extra):
    """Write ``model``, ``optimizer`` and ``scheduler`` state, mtorch's random state and ``extra``
    (epoch, history, configuration: anything ``mtorch.save`` takes) atomically to ``path``.

    The folder is created if needed. Returns ``path``.
    """
    _check_has_state(model=model, optimizer=optimizer, scheduler=scheduler)
    clash = sorted(set(extra) & set(_RESERVED))
    if clash:
        raise TypeError(f"save_checkpoint: {clash} are the checkpoint's own entries; name extras otherwise")
    checkpoint = {"model": model.state_dict(), "rng": mrandom.get_rng_state()}
    if optimizer is not None:
        checkpoint["optimizer"] = optimizer.state_dict()
    if scheduler is not None:
        checkpoint["scheduler"] = scheduler.state_dict()
    checkpoint.update(extra)
    _make_parent(path)
    save(checkpoint, path)
    return path


def load_checkpoint(path, model, optimizer=None, scheduler=None, restore_rng=True):
    """Restore what ``save_checkpoint`` wrote into ``model`` (and ``optimizer``, ``scheduler``, and
    mtorch's random generator when ``restore_rng``); returns the extra entries as a dict.

    ``path`` may also be a file object, or the dict ``mtorch.load`` returned (to look at the
    extras, e.g. the configuration, before loading). All or nothing: on any error nothing is changed.

    Raises:
        FileNotFoundError: no file at ``path``.
        CheckpointError: the file is damaged, or lacks an entry that was asked for.
        StateDictError: an entry does not fit its object (another architecture, optimizer, ...).
    """
    _check_has_state(model=model, optimizer=optimizer, scheduler=scheduler)
    checkpoint = path if isinstance(path, dict) else load(path)
    wanted = {"model": model, "optimizer": optimizer, "scheduler": scheduler}
    wanted = {key: target for key, target in wanted.items() if target is not None}
    if not isinstance(checkpoint, dict) or any(key not in checkpoint for key in wanted):
        have = sorted(map(str, checkpoint)) if isinstance(checkpoint, dict) else type(checkpoint).__name__
        raise CheckpointError(f"load_checkpoint: {_name(path)} holds {have}, not the entries "
                              f"{sorted(wanted)} that save_checkpoint writes")
    snapshots = {key: target.state_dict() for key, target in wanted.items()}
    rng_state = mrandom.get_rng_state()
    loaded = []
    try:
        for key, target in wanted.items():
            target.load_state_dict(checkpoint[key])
            loaded.append(key)
        if restore_rng and "rng" in checkpoint:
            try:
                mrandom.set_rng_state(checkpoint["rng"])
            except (TypeError, ValueError, KeyError) as error:
                raise StateDictError(f"load_checkpoint: the random state in {_name(path)} is damaged "
                                     f"({error})") from None
    except BaseException:
        for key in loaded:                       # put back what was already loaded
            wanted[key].load_state_dict(snapshots[key])
        mrandom.set_rng_state(rng_state)
        raise
    return {key: value for key, value in checkpoint.items() if key not in _RESERVED}


def _make_parent(path):
    if isinstance(path, (str, os.PathLike)):
        parent = os.path.dirname(os.path.abspath(os.fspath(path)))
        os.makedirs(parent, exist_ok=True)


def _check_has_state(**objects):
    for what, obj in objects.items():
        if obj is not None and not (hasattr(obj, "state_dict") and hasattr(obj, "load_state_dict")):
            raise TypeError(f"checkpoint: {what} must have state_dict() and load_state_dict() (a Layer, "
                            f"an Optimizer, a scheduler), got {type(obj).__name__}")


def _name(path):
    return "the checkpoint" if isinstance(path, dict) else path
