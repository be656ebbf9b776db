"""Where mtorch keeps its datasets on disk.

The data root is, in order of precedence:

1. the ``root`` argument a dataset was given,
2. the ``MTORCH_DATA_DIR`` environment variable,
3. the repository's ``datasets/`` folder (next to the ``mtorch`` package).

Each dataset lives in its own folder below the root, e.g. ``<root>/mnist/``.
"""
import os
from pathlib import Path

ENV_VAR = "MTORCH_DATA_DIR"
DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "datasets"


def data_root(root=None, owner="data_root"):
    """The folder datasets are read from and downloaded to, as a ``Path``.

    Args:
        root: an explicit folder (str or Path); wins over everything else.
        owner: the public name a wrong ``root`` is reported under (e.g. the dataset class).

    Example:
        >>> data_root("/data")                   # explicit
        PosixPath('/data')
        >>> data_root()                          # $MTORCH_DATA_DIR, else <repo>/datasets
    """
    if root is not None:
        if not isinstance(root, (str, os.PathLike)):
            raise TypeError(f"{owner}: root must be a folder (str or path), got {type(root).__name__}")
        return Path(root).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    return DEFAULT_ROOT


class DatasetNotFoundError(FileNotFoundError):
    """A dataset's files are missing and could not be downloaded; says which and where to put them."""
