"""python -m mtorch.testing: grade layers students wrote (see ``--help``)."""
import argparse
import ast
import json
import os
import subprocess
import sys
import tempfile

from .grading import GradingSpec, grade, load_specs, submissions
from .report import CheckResult, LayerReport, score_checks

EXAMPLES = """\
examples:
  python -m mtorch.testing my_layers.py::LayerNorm --args 8 --input-shape 4,8 \\
      --reference mtorch.layers.LayerNorm
  python -m mtorch.testing emb.py::Embedding --args 10,3 --index-input 4,6:10
  python -m mtorch.testing submissions/::LayerNorm --spec coursework/specs.py --json grades.json

Every submission is graded in its own process, each check under the time
limit, so a crash or an endless loop costs that submission its points and
nothing else. The exit status is 0 when every submission passed every check,
1 otherwise.
"""


def _shape(text):
    try:
        shape = tuple(int(s) for s in text.replace("x", ",").split(",") if s.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a shape such as 4,8, got {text!r}") from None
    if not shape or min(shape) < 1:
        raise argparse.ArgumentTypeError(f"expected a shape of positive sizes such as 4,8, got {text!r}")
    return ("float", shape)


def _index_input(text):
    shape, _, high = text.rpartition(":")
    if not shape or not high.isdigit() or int(high) < 1:
        raise argparse.ArgumentTypeError(f"expected SHAPE:HIGH such as 4,6:10 (integers in [0, 10)), got {text!r}")
    return ("int", _shape(shape)[1], int(high))


def _call_args(text):
    """``'3, 2, bias=False'`` -> ``((3, 2), {'bias': False})`` (Python literals only)."""
    try:
        call = ast.parse(f"f({text})", mode="eval").body
        return (tuple(ast.literal_eval(a) for a in call.args),
                {k.arg: ast.literal_eval(k.value) for k in call.keywords})
    except (SyntaxError, ValueError) as error:
        raise argparse.ArgumentTypeError(f"expected constructor arguments such as '3, 2, bias=False', got "
                                         f"{text!r} ({error})") from None


def _points(text):
    try:
        points = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"expected a JSON object such as '{{\"gradient of *\": 4}}': {error}")
    if not isinstance(points, dict) or not all(isinstance(v, (int, float)) for v in points.values()):
        raise argparse.ArgumentTypeError("expected a JSON object from check names to numbers")
    return points


def parser():
    p = argparse.ArgumentParser(
        prog="python -m mtorch.testing", epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Grade layers students wrote: load a class from a Python file, run check_layer (or "
                    "check_loss) on it - forward, dtype, backward, gradients against float64 finite "
                    "differences, a reference implementation, shared weights, state - and score it.")
    p.add_argument("targets", nargs="+", metavar="TARGET",
                   help="FILE.py::ClassName, or FOLDER::ClassName to grade every .py file directly in FOLDER "
                        "(one submission per file)")
    p.add_argument("--spec", metavar="FILE", help="a Python file defining SPECS, a dict from class name to "
                                                  "mtorch.testing.GradingSpec (see coursework/specs.py); "
                                                  "replaces --args, --input-shape, --reference and --points")
    p.add_argument("--args", type=_call_args, default=((), {}), metavar="ARGS",
                   help="constructor arguments as Python literals, e.g. '3, 2, bias=False'")
    p.add_argument("--input-shape", dest="inputs", action="append", type=_shape, metavar="SHAPE",
                   help="shape of a random normal input, e.g. 4,8; repeat for a layer with several inputs "
                        "(default: guessed from the layer)")
    p.add_argument("--index-input", dest="inputs", action="append", type=_index_input, metavar="SHAPE:HIGH",
                   help="an integer input with entries in [0, HIGH), e.g. 4,6:10 (an Embedding's indices); "
                        "inputs keep the order of the options")
    p.add_argument("--reference", metavar="NAME", help="dotted name of the layer (or loss) to match, built "
                                                       "with the same arguments, e.g. mtorch.layers.LayerNorm")
    p.add_argument("--points", type=_points, help="points per check as JSON, e.g. '{\"forward\": 1, "
                                                  "\"gradient of *\": 4}' (default: 1 per check)")
    p.add_argument("--timeout", type=float, metavar="SECONDS",
                   help="time limit of each check (default: the spec's, else 60)")
    p.add_argument("--seed", type=int, help="seed of inputs, parameters and gradients (default: the spec's, "
                                            "else 0)")
    p.add_argument("--json", metavar="PATH", help="write every submission's report and score to PATH")
    p.add_argument("--quiet", action="store_true", help="one line per submission instead of the full report")
    p.add_argument("--worker-json", help=argparse.SUPPRESS)
    return p


def _inputs_function(inputs):
    def make(rng):
        return tuple(rng.standard_normal(shape) if kind == "float" else rng.integers(0, rest[0], shape)
                     for kind, shape, *rest in inputs)
    return make


def _spec(args, name, error):
    if args.spec:
        specs = load_specs(args.spec)
        if name not in specs:
            error(f"{args.spec} has no spec for {name}; it has {', '.join(specs)}")
        spec = specs[name]
    else:
        inputs = args.inputs or []
        only_floats = all(kind == "float" for kind, *_ in inputs)
        spec = GradingSpec(name, args=args.args[0], kwargs=args.args[1],
                           input_shapes=[shape for _, shape in inputs] if inputs and only_floats else None,
                           inputs=None if only_floats else _inputs_function(inputs),
                           reference=args.reference, points=args.points)
    if args.timeout is not None:
        spec.timeout = args.timeout
    if args.seed is not None:
        spec.seed = args.seed
    return spec


def _targets(args, error):
    jobs = []
    for target in args.targets:
        path, sep, name = target.rpartition("::")
        if not sep or not name.isidentifier():
            error(f"TARGET must be FILE.py::ClassName or FOLDER::ClassName, got {target!r}")
        if not os.path.exists(path):
            error(f"{path} does not exist")
        files = submissions(path)
        if not files:
            error(f"{path} holds no .py files")
        jobs += [(f, name) for f in files]
    return jobs


def _forwarded(args):
    """The options a worker process needs to rebuild the same spec."""
    out = [] if args.timeout is None else ["--timeout", str(args.timeout)]
    out += [] if args.seed is None else ["--seed", str(args.seed)]
    if args.spec:
        return out + ["--spec", args.spec]
    positional, keywords = args.args
    text = ", ".join([repr(a) for a in positional] + [f"{k}={v!r}" for k, v in keywords.items()])
    out += ["--args", text] if text else []
    for kind, shape, *rest in args.inputs or []:
        shape_text = ",".join(map(str, shape))
        out += ["--input-shape", shape_text] if kind == "float" else ["--index-input", f"{shape_text}:{rest[0]}"]
    out += ["--reference", args.reference] if args.reference else []
    out += ["--points", json.dumps(args.points)] if args.points else []
    return out


def _in_worker(path, name, args, spec):
    """Grade one submission in a new Python process; its report as a dict."""
    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "report.json")
        command = [sys.executable, "-m", "mtorch.testing", f"{path}::{name}", "--worker-json", out] + _forwarded(args)
        package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])))
        limit = 30 * spec.timeout + 60
        try:
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=limit,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return _crashed(path, spec, f"grading took more than {limit:g} s and was stopped")
        if os.path.exists(out):
            with open(out, encoding="utf-8") as f:
                return json.load(f)
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        return _crashed(path, spec, f"the grading process ended with exit status {done.returncode} before "
                                    f"reporting (the submission crashed the interpreter?): {tail}")


def _crashed(path, spec, message):
    report = LayerReport(spec.signature(), header=[f"submission: {path}"], title="grade")
    report.checks.append(CheckResult("grading", False, message))
    report.score, report.max_score = score_checks(report.checks, spec.points)
    return report.to_dict()


def _json_text(specs, results):
    """``{"specs": ..., "submissions": [...]}`` as JSON with one line per spec and per check."""
    def line(value):
        return json.dumps(value, ensure_ascii=False)
    lines = ["{", '  "specs": {']
    lines.append(",\n".join(f"    {line(name)}: {line(spec)}" for name, spec in specs.items()))
    lines += ["  },", '  "submissions": [']
    entries = []
    for result in results:
        head = {k: v for k, v in result.items() if k != "checks"}
        checks = ",\n".join(f"      {line(c)}" for c in result["checks"])
        entries.append(f"    {line(head)[:-1]}, \"checks\": [\n{checks}\n    ]}}")
    lines += [",\n".join(entries), "  ]", "}"]
    return "\n".join(lines) + "\n"


def main(argv=None):
    p = parser()
    args = p.parse_args(argv)
    jobs = _targets(args, p.error)
    if args.worker_json:
        (path, name), = jobs
        report = grade(path, _spec(args, name, p.error))
        with open(args.worker_json, "w", encoding="utf-8") as f:
            json.dump(report.to_dict(), f)
        return 0
    results, specs = [], {}
    for path, name in jobs:
        spec = _spec(args, name, p.error)
        specs[name] = spec.describe()
        data = _in_worker(path, name, args, spec)
        results.append(dict(submission=path, **data))
        report = LayerReport.from_dict(data)
        if args.quiet:
            failed = ", ".join(c.name for c in report.failures)
            print(f"{report.score:g}/{report.max_score:g}  {path}" + (f"  FAILED: {failed}" if failed else ""))
        else:
            report.print()
            print(f"score: {report.score:g} of {report.max_score:g}\n")
    if len(results) > 1 and not args.quiet:
        width = max(len(r["submission"]) for r in results)
        print("\n".join(f"{r['submission']:<{width}}  {r['score']:g}/{r['max_score']:g}" +
                        ("" if r["passed"] else "  FAILED") for r in results))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            f.write(_json_text(specs, results))
    return 0 if all(r["passed"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
