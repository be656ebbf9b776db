"""A pytest plugin for teachers who grade in pytest: the ``grade`` fixture and ``--submissions``.

Load it with ``pytest -p mtorch.testing.pytest_plugin`` (or
``pytest_plugins = ["mtorch.testing.pytest_plugin"]`` in the top-level
``conftest.py``). Then::

    from coursework.specs import SPECS      # or your own GradingSpec

    def test_layer_norm(grade, submission):
        grade(submission, SPECS["LayerNorm"])

runs once per file given with ``--submissions FILE_OR_FOLDER`` (a folder: every
``.py`` file in it); the test fails with the full report when a check fails.
``grade(layer, **check_layer_options)`` checks a layer object instead.
Every grade is recorded as the test's ``score`` and ``max_score`` properties
(in ``--junitxml`` reports), and ``--grades-json PATH`` writes them all.
"""
import json
import os

import pytest

from ..loss.base import Loss
from .check_layer import check_layer
from .check_loss import check_loss
from .grading import grade as grade_file, submissions

_GRADES = []


def pytest_addoption(parser):
    group = parser.getgroup("mtorch grading")
    group.addoption("--submissions", action="append", default=[], metavar="PATH",
                    help="a student's file, or a folder of them; tests taking the `submission` fixture run "
                         "once per file")
    group.addoption("--grades-json", metavar="PATH", help="write every grade (score and report) to PATH")


def pytest_generate_tests(metafunc):
    if "submission" in metafunc.fixturenames:
        files = [f for path in metafunc.config.getoption("submissions") for f in submissions(path)]
        metafunc.parametrize("submission", files, ids=[os.path.splitext(os.path.basename(f))[0] for f in files])


@pytest.fixture
def grade(request, record_property):
    """``grade(path_or_layer, spec=None, **options)``: grade, record the score, fail with the report."""

    def run(target, spec=None, **options):
        if isinstance(target, (str, os.PathLike)):
            if spec is None:
                raise TypeError("grade(path, spec): a file is graded against a GradingSpec")
            report = grade_file(os.fspath(target), spec)
        else:
            options.setdefault("verbose", False)
            report = (check_loss if isinstance(target, Loss) else check_layer)(target, **options)
        record_property("score", report.score)
        record_property("max_score", report.max_score)
        _GRADES.append(dict(test=request.node.nodeid, **report.to_dict()))
        if not report.ok:
            pytest.fail(f"score {report.score:g} of {report.max_score:g}\n{report.text}", pytrace=False)
        return report

    return run


def pytest_sessionfinish(session):
    path = session.config.getoption("grades_json", None)
    if path:
        with open(path, "w", encoding="utf-8") as f:
            json.dump({"grades": _GRADES}, f, indent=2)
            f.write("\n")
