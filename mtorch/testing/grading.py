"""Grading: run the checks on a student's file and score them.

A ``GradingSpec`` says what an assignment is: the class the student must
write, its constructor arguments, the inputs to check it on, the reference it
must agree with, and the points of each check. ``grade(path, spec)`` loads the
file, builds the class and runs ``check_layer`` (or ``check_loss`` for a
``Loss``), each check under a time limit, and returns the scored report.
A file that does not import, lacks the class or cannot be constructed gets a
report with that one failed line and score 0, out of the same total.

``python -m mtorch.testing`` is the command around it (one process per
submission, so a crash or an endless loop costs one grade, not the run);
``coursework/`` holds a ready set of assignments with their specs.

Example::

    spec = GradingSpec("LayerNorm", args=(8,), input_shapes=[(4, 8)],
                       reference="mtorch.layers.LayerNorm",
                       points={"forward": 1, "gradient of *": 4, "reference *": 3, "dtype": 1})
    report = grade("submissions/alice.py", spec)
    report.score, report.max_score            # (9.0, 9.0)
"""
import importlib
import importlib.util
import os
import sys
from dataclasses import dataclass, field

import numpy as np

from ..layer import Layer
from ..loss.base import Loss
from .check_layer import check_layer
from .check_loss import check_loss
from .checks import describe
from .report import CheckResult, LayerReport, score_checks
from .timeout import CheckTimeout, time_limit


@dataclass
class GradingSpec:
    """One assignment: what to build, what to check it on, what it must match, what each check is worth.

    Attributes:
        name: the class the submission must define (``"LayerNorm"``).
        args, kwargs: its constructor arguments (the reference is built with the same).
        input_shapes: shapes of random normal inputs, one per input (default: guessed
            from the layer, as ``check_layer`` does; for a loss, the logits' shape).
        inputs: instead, a function ``inputs(rng) -> tuple of arrays`` (integer indices, masks).
        target: for a loss, a function ``target(rng, x) -> target`` (default: class indices).
        reference: a dotted name (``"mtorch.layers.LayerNorm"``), a class (both built with
            ``args``/``kwargs``), an instance, or a function ``f(state_dict, *inputs)``
            (for a loss ``f(input, target)``); see ``mtorch.testing.reference``.
        points: check name (``"gradient of *"`` for several) -> points; see ``score_checks``.
        options: more ``check_layer``/``check_loss`` arguments (``atol``, ``requires_grad``, ...).
        checks: extra checks ``check(ctx) -> CheckResult`` with a ``label`` (layers only).
        timeout: seconds each check may take.
        seed: seeds inputs, parameters and upstream gradients.
        title: a line describing the assignment in reports.
    """
    name: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    input_shapes: list = None
    inputs: object = None
    target: object = None
    reference: object = None
    points: dict = None
    options: dict = field(default_factory=dict)
    checks: tuple = ()
    timeout: float = 60.0
    seed: int = 0
    title: str = ""

    @property
    def max_score(self):
        """The total every submission is scored out of (None without ``points``)."""
        return None if self.points is None else float(sum(self.points.values()))

    def signature(self):
        """``'LayerNorm(8)'``: the call that builds the layer."""
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"{self.name}({', '.join(parts)})"

    def describe(self):
        """The spec as plain data, for reports."""
        reference = self.reference
        if reference is not None and not isinstance(reference, str):
            reference = getattr(reference, "__qualname__", None) or type(reference).__qualname__
        return {"class": self.name, "call": self.signature(), "input_shapes": self.input_shapes,
                "reference": reference, "points": self.points, "max_score": self.max_score,
                "timeout": self.timeout, "title": self.title}


def import_name(dotted):
    """The object a dotted name such as ``'mtorch.layers.LayerNorm'`` names."""
    module, _, attr = dotted.rpartition(".")
    if not module:
        raise ValueError(f"reference {dotted!r}: expected a dotted name such as mtorch.layers.LayerNorm")
    try:
        return getattr(importlib.import_module(module), attr)
    except AttributeError:
        raise ValueError(f"reference {dotted!r}: {module} has no attribute {attr!r}") from None


def build_reference(spec):
    """The spec's reference, built with the spec's arguments when it names a class."""
    reference = spec.reference
    if isinstance(reference, str):
        reference = import_name(reference)
    if isinstance(reference, type):
        reference = reference(*spec.args, **spec.kwargs)
    return reference


def load_submission(path):
    """Import the file at ``path`` as a fresh module (its folder importable while it loads)."""
    path = os.path.abspath(path)
    name = "submission_" + "".join(c if c.isalnum() else "_" for c in os.path.splitext(path)[0][-60:])
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None:
        raise ImportError(f"{path} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, os.path.dirname(path))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(os.path.dirname(path))
    return module


def _failed(path, spec, name, message):
    report = LayerReport(spec.signature(), header=[f"submission: {path}"], title="grade")
    report.checks.append(CheckResult(name, False, message))
    report.score, report.max_score = score_checks(report.checks, spec.points)
    return report


def _build(path, spec):
    """The student's object, or ``(check name, message)`` saying why there is none."""
    try:
        with time_limit(spec.timeout):
            module = load_submission(path)
    except CheckTimeout:
        return None, ("import", f"importing the file took more than {spec.timeout:g} s")
    except (Exception, SystemExit) as error:
        return None, ("import", f"the file does not import: {describe(error)}")
    cls = getattr(module, spec.name, None)
    if not isinstance(cls, type):
        defined = sorted(k for k, v in vars(module).items() if isinstance(v, type) and v.__module__ == module.__name__)
        return None, ("class defined", f"the file defines no class {spec.name} (it defines: "
                                       f"{', '.join(defined) or 'no classes'})")
    try:
        with time_limit(spec.timeout):
            obj = cls(*spec.args, **spec.kwargs)
    except CheckTimeout:
        return None, ("construct", f"{spec.signature()} took more than {spec.timeout:g} s")
    except (Exception, SystemExit) as error:
        return None, ("construct", f"{spec.signature()} {describe(error)}")
    if not isinstance(obj, (Layer, Loss)):
        return None, ("construct", f"{spec.name} must subclass mtorch.Layer (or mtorch.loss.Loss), "
                                   f"got a {type(obj).__mro__[1].__name__} subclass")
    return obj, None


def grade(path, spec, verbose=False, file=None):
    """Grade the file at ``path`` against ``spec``; returns the scored ``LayerReport`` (title ``grade``)."""
    obj, problem = _build(path, spec)
    if problem:
        report = _failed(path, spec, *problem)
    else:
        rng = np.random.default_rng(spec.seed)
        options = dict(spec.options, seed=spec.seed, timeout=spec.timeout, verbose=False)
        try:
            reference = build_reference(spec)
        except Exception as error:
            raise ValueError(f"the spec's reference cannot be built: {error}") from error
        if isinstance(obj, Loss):
            x = rng.standard_normal(tuple(spec.input_shapes[0] if spec.input_shapes else (4, 5))) * 2
            target = spec.target(rng, x) if spec.target is not None else None
            report = check_loss(obj, x, target, reference=reference, **options)
        else:
            x = spec.inputs(rng) if spec.inputs is not None else None
            shapes = spec.input_shapes if x is None else None
            report = check_layer(obj, x, input_shapes=shapes, reference=reference,
                                 extra_checks=spec.checks, **options)
        report.title = "grade"
        report.header.insert(0, f"submission: {path}")
    if spec.title:
        report.header.insert(0, spec.title)
    report.score, report.max_score = score_checks(report.checks, spec.points)
    if verbose:
        report.print(file)
    return report


def submissions(path):
    """The submission files of ``path``: the file itself, or every ``.py`` file directly in the folder."""
    if os.path.isdir(path):
        return sorted(os.path.join(path, f) for f in os.listdir(path)
                      if f.endswith(".py") and not f.startswith((".", "_")))
    return [path]


def load_specs(path):
    """The ``SPECS`` of a spec file: a dict from class name to ``GradingSpec``."""
    module = load_submission(path)
    specs = getattr(module, "SPECS", None)
    if not isinstance(specs, dict):
        raise ValueError(f"{path} must define SPECS, a dict from class name to GradingSpec")
    return specs
