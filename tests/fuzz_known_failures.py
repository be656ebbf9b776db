"""The known failures: bugs the fuzz tests found and that are not fixed yet (none at present).

Each entry is a strict xfail (``test_known_*_failure`` replays its example, which must fail):
when a fix lands, the replay passes, the xfail turns into a failure, and the entry must go.
Until then, fuzz trials that fail the same way (class, case pattern, kind: see
``fuzzing.Known``) count as ``known`` instead of failing the suite. An entry is
``Known(family, class name, case pattern, kind, what, example)``, its example a
``LayerCase`` or ``OptimCase`` that fails; what was found and fixed is pinned in
``tests/test_fuzz_findings.py`` instead.
"""

KNOWN_FAILURES = []
