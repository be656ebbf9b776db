"""Tools for testing layers, above all your own, and for grading them.

``check_layer`` runs every check we know of on a layer; ``check_loss`` on a
loss; ``python -m mtorch.testing file.py::ClassName`` grades submissions
(see ``mtorch.testing.grading``).

Example:
    >>> from mtorch.testing import check_layer
    >>> check_layer(MyLayer(3, 2))          # prints one line per check
"""
from ..errors import LayerCheckError
from .check_layer import Context, assert_layer_ok, check_layer
from .check_loss import check_loss
from .grading import GradingSpec, grade
from .randomize import randomize_parameters
from .report import CheckResult, LayerReport, score_checks

__all__ = ["check_layer", "assert_layer_ok", "check_loss", "GradingSpec", "grade", "randomize_parameters",
           "LayerReport", "CheckResult", "LayerCheckError", "Context", "score_checks"]
