"""The result of ``check_layer``: one line per check, the whole report as text, and as data."""
import json
import math
from dataclasses import dataclass, field

from ..errors import LayerCheckError

_MARKS = {True: "\u2713", False: "\u2717", None: "-"}
_ASCII_MARKS = {True: "+", False: "X", None: "-"}


@dataclass
class CheckResult:
    """One check: its name, whether it passed (None: not applicable, skipped) and the numbers.

    Attributes:
        name: the check's name, as printed (``"gradient of weight"``).
        passed: True, False, or None when the check does not apply.
        message: the line's text.
        numbers: what the check measured, for machines: a gradient's ``rel_err``,
            ``worst_index``, ``analytic`` and ``numeric`` at it, ``wrong`` and
            ``checked`` entry counts; a reference comparison's ``max_abs_err``; ...
        points, max_points: the points this check earned and could earn (see ``score_checks``).
    """
    name: str
    passed: object
    message: str
    numbers: dict = field(default_factory=dict)
    points: float = 0.0
    max_points: float = 0.0

    def line(self, width=28, ascii=False):
        mark = (_ASCII_MARKS if ascii else _MARKS)[self.passed]
        return f"  {mark} {self.name:<{width}}  {self.message}"

    def to_dict(self):
        return {"name": self.name, "passed": self.passed, "points": round(self.points, 4),
                "max_points": round(self.max_points, 4), "message": self.message, "numbers": _plain(self.numbers)}


def _plain(value):
    """``value`` with numpy scalars, arrays and tuples turned into JSON types (NaN and inf as strings)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist"):
        return _plain(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _matches(key, name):
    return name.startswith(key[:-1]) if key.endswith("*") else name == key


def score_checks(checks, points=None):
    """Give every check its ``points`` and ``max_points``; returns ``(score, max_score)``.

    Without ``points`` every check that applies is worth 1. ``points`` maps a
    check's name to the points it is worth; a name ending in ``*`` matches every
    check that starts with it (``"gradient of *"``) and its points are shared
    equally by the checks it matches. A key whose checks did not run (the
    forward crashed) earns nothing but still counts in ``max_score``, so every
    submission is scored out of the same total; a key whose checks are all
    not applicable earns its points. Checks no key matches are worth 0 then.
    """
    for c in checks:
        c.points, c.max_points = 0.0, 0.0
    if points is None:
        for c in checks:
            if c.passed is not None:
                c.max_points = 1.0
                c.points = 1.0 if c.passed else 0.0
        return float(sum(c.points for c in checks)), float(sum(c.max_points for c in checks))
    score = 0.0
    for key, value in points.items():
        matched = [c for c in checks if _matches(key, c.name)]
        applicable = [c for c in matched if c.passed is not None]
        if matched and not applicable:
            score += value
        for c in applicable:
            c.max_points += value / len(applicable)
            if c.passed:
                c.points += value / len(applicable)
                score += value / len(applicable)
    return round(score, 6), float(sum(points.values()))


@dataclass
class LayerReport:
    """What ``check_layer`` returns: truthy when no check failed.

    Attributes:
        layer: the checked layer's repr.
        header: lines describing the input and the tolerances.
        title: what made the report (``check_layer``, ``check_loss``, ``grade``), its first word.
        checks: the ``CheckResult`` of every check, in the order they ran.
        score, max_score: the points earned and the total (see ``score_checks``).

    ``report.text`` (or ``str(report)``) is the printed report; ``report.format(ascii=True)``
    the same with ``+``/``X`` marks; ``report.to_dict()`` / ``report.to_json()`` the data;
    ``report["step(lr)"]`` finds a check by name; ``report.failures`` lists the failed ones.
    """
    layer: str
    header: list = field(default_factory=list)
    checks: list = field(default_factory=list)
    score: float = 0.0
    max_score: float = 0.0
    title: str = "check_layer"

    @property
    def ok(self):
        return all(c.passed is not False for c in self.checks)

    def __bool__(self):
        return self.ok

    @property
    def failures(self):
        return [c for c in self.checks if c.passed is False]

    def __getitem__(self, name):
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(f"no check named {name!r}; checks: {[c.name for c in self.checks]}")

    def format(self, ascii=False):
        """The report as text; ``ascii=True`` marks passed/failed lines with ``+``/``X`` instead of ✓/✗."""
        width = max([len(c.name) for c in self.checks] + [20])
        lines = [f"{self.title}: {self.layer}"] + [f"  {h}" for h in self.header]
        lines += [c.line(width, ascii) for c in self.checks]
        passed = sum(c.passed is True for c in self.checks)
        skipped = sum(c.passed is None for c in self.checks)
        summary = f"{passed} passed"
        if self.failures:
            summary += f", {len(self.failures)} FAILED ({', '.join(c.name for c in self.failures)})"
        if skipped:
            summary += f", {skipped} not applicable"
        return "\n".join(lines + [summary])

    @property
    def text(self):
        return self.format()

    def __str__(self):
        return self.text

    def print(self, file=None):
        """Print the report; with ASCII marks when ``file`` (default stdout) cannot encode ✓ and ✗."""
        import sys
        file = sys.stdout if file is None else file
        encoding = getattr(file, "encoding", None) or "utf-8"
        try:
            "".join(_MARKS.values()).encode(encoding)
            text = self.format()
        except (UnicodeEncodeError, LookupError):
            text = self.format(ascii=True)
            encoding = "ascii"
        try:
            text.encode(encoding)
        except (UnicodeEncodeError, LookupError):
            text = text.encode(encoding, errors="backslashreplace").decode(encoding)
        print(text, file=file)

    def to_dict(self):
        """The report as plain data: ``title``, ``layer``, ``header``, ``passed``, ``score``, ``max_score``,
        ``checks`` (each ``CheckResult.to_dict()``)."""
        return {"title": self.title, "layer": self.layer, "header": list(self.header), "passed": self.ok,
                "score": self.score, "max_score": self.max_score, "checks": [c.to_dict() for c in self.checks]}

    @classmethod
    def from_dict(cls, data):
        """The report ``to_dict`` gave (numbers stay plain JSON values)."""
        checks = [CheckResult(c["name"], c["passed"], c["message"], c.get("numbers", {}), c["points"],
                              c["max_points"]) for c in data["checks"]]
        return cls(data["layer"], list(data["header"]), checks, data["score"], data["max_score"],
                   data.get("title", "check_layer"))

    def to_json(self, **kwargs):
        """``to_dict()`` as a JSON string (``kwargs`` go to ``json.dumps``, e.g. ``indent=2``)."""
        return json.dumps(self.to_dict(), **kwargs)

    def raise_if_failed(self):
        """Raise ``LayerCheckError`` carrying the report when a check failed; else return self."""
        if not self.ok:
            raise LayerCheckError(self.text)
        return self
