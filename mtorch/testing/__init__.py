"""Tools for testing layers, above all your own: ``check_layer`` runs every check we know of.

Example:
    >>> from mtorch.testing import check_layer
    >>> check_layer(MyLayer(3, 2))          # prints one line per check
"""
from ..errors import LayerCheckError
from .check_layer import assert_layer_ok, check_layer
from .report import CheckResult, LayerReport

__all__ = ["check_layer", "assert_layer_ok", "LayerReport", "CheckResult", "LayerCheckError"]
