"""The exceptions mtorch raises, so callers can catch exactly what went wrong.

Each one subclasses the builtin exception a Python programmer would expect
(``ValueError`` for bad values and shapes, ``RuntimeError`` for calls in the
wrong order), so ``except ValueError`` keeps working.
"""


class ShapeError(ValueError):
    """An array had the wrong shape (input, gradient, target or parameter)."""


class BackwardBeforeForwardError(RuntimeError):
    """``backward`` was called on a layer that has nothing cached from ``forward``."""


class StateDictError(ValueError):
    """``load_state_dict`` was given missing, unexpected or mis-shaped entries."""


class CheckpointError(ValueError):
    """``mtorch.load`` was given a file that is not a complete mtorch checkpoint, or holds pickles."""


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with finite differences (see ``mtorch.gradcheck``)."""


class LayerCheckError(AssertionError):
    """A layer failed ``mtorch.testing.check_layer``; the message is the full report."""


class GradientError(RuntimeError):
    """A gradient would be lost: a Parameter's gradient assigned where it must be added, or a
    layer instance called more than once in one forward pass (its cache holds only the last call)."""
