"""A time limit for one check: a student's endless loop fails that check instead of the whole grading."""
import contextlib
import signal
import threading


class CheckTimeout(Exception):
    """A check ran longer than its time limit."""


def _can_interrupt():
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def time_limit(seconds):
    """Raise ``CheckTimeout`` inside the block after ``seconds`` (None: no limit).

    Uses ``SIGALRM``, so it works in the main thread of a Unix process; elsewhere
    the block runs without a limit (the grading command also limits each
    submission's process as a whole). A long NumPy call is interrupted when it returns.
    """
    if seconds is None or not _can_interrupt():
        yield
        return

    def expire(signum, frame):
        raise CheckTimeout(f"timed out after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
