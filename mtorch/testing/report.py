"""The result of ``check_layer``: one line per check, and the whole report as text."""
from dataclasses import dataclass, field

from ..errors import LayerCheckError

_MARKS = {True: "\u2713", False: "\u2717", None: "-"}


@dataclass
class CheckResult:
    """One check: its name, whether it passed (None: not applicable, skipped) and the numbers."""
    name: str
    passed: object
    message: str

    def line(self, width=28):
        return f"  {_MARKS[self.passed]} {self.name:<{width}}  {self.message}"


@dataclass
class LayerReport:
    """What ``check_layer`` returns: truthy when no check failed.

    Attributes:
        layer: the checked layer's repr.
        header: lines describing the input and the tolerances.
        checks: the ``CheckResult`` of every check, in the order they ran.

    ``report.text`` (or ``str(report)``) is the printed report;
    ``report["step(lr)"]`` finds a check by name; ``report.failures`` lists the failed ones.
    """
    layer: str
    header: list = field(default_factory=list)
    checks: list = field(default_factory=list)

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

    @property
    def text(self):
        width = max([len(c.name) for c in self.checks] + [20])
        lines = [f"check_layer: {self.layer}"] + [f"  {h}" for h in self.header]
        lines += [c.line(width) for c in self.checks]
        passed = sum(c.passed is True for c in self.checks)
        skipped = sum(c.passed is None for c in self.checks)
        summary = f"{passed} passed"
        if self.failures:
            summary += f", {len(self.failures)} FAILED ({', '.join(c.name for c in self.failures)})"
        if skipped:
            summary += f", {skipped} not applicable"
        return "\n".join(lines + [summary])

    def __str__(self):
        return self.text

    def raise_if_failed(self):
        """Raise ``LayerCheckError`` carrying the report when a check failed; else return self."""
        if not self.ok:
            raise LayerCheckError(self.text)
        return self
