"""Progress bars that suit where the output goes: a live bar on a terminal or in a Jupyter notebook,
nothing in a log file."""
import sys

from tqdm.auto import tqdm


class _Quiet:
    """Iterates like a tqdm bar and ignores its calls: for output that is not a terminal."""

    def __init__(self, iterable):
        self._iterable = iterable

    def __iter__(self):
        return iter(self._iterable)

    def __len__(self):
        return len(self._iterable)

    def set_postfix(self, *args, **kwargs):
        pass

    def close(self):
        pass


def progress(iterable, desc=None, unit="it", quiet=False, file=None):
    """``iterable`` wrapped in a tqdm bar, or in a silent stand-in.

    The bar is drawn only when it goes to a terminal (``file``, default
    ``sys.stderr``, is a tty) and not ``quiet``: redirected to a file, a bar's
    redraws would fill it (tens of KB for one MNIST run), so the caller's own
    line per epoch is the whole log. The stand-in accepts ``set_postfix`` and
    ``close`` like a bar, so a loop is written once.
    """
    file = sys.stderr if file is None else file
    if not shows_bars(quiet, file):
        return _Quiet(iterable)
    return tqdm(iterable, desc=desc, unit=unit, leave=False, file=file)


def shows_bars(quiet=False, file=None):
    """Whether ``progress`` draws bars: not ``quiet``, and ``file`` (default ``sys.stderr``) is a
    terminal or the output of a Jupyter notebook (where ``tqdm.auto`` draws a widget). A script that
    shows its progress per epoch with a bar prints a line per epoch instead when not."""
    file = sys.stderr if file is None else file
    return not quiet and (_in_notebook() or (hasattr(file, "isatty") and file.isatty()))


def _in_notebook():
    """True inside a Jupyter kernel (IPython is then imported and runs a ZMQ shell)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    return type(shell).__name__ == "ZMQInteractiveShell"
