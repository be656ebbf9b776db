"""Seconds per training step, mtorch against PyTorch, side by side.

    python benchmarks/compare.py                          # every workload, 1 and 2 threads, 5 runs
    python benchmarks/compare.py mlp cnn --threads 1      # some workloads, one thread
    python benchmarks/compare.py --mtorch-path ../before  # the mtorch of another checkout

A step is forward, loss, backward and the optimizer's update on a fixed
float32 batch. Every measurement is a fresh process (one framework, one
workload, one thread count) that runs the warm-up steps, then times blocks of
steps and reports the median block's seconds per step. The two frameworks
alternate (mtorch, torch, mtorch, torch, ...) so that a change in the
machine's load hits both; the table gives the median over the runs and the
median of the runs' mtorch/torch ratios. The thread count is set through
OPENBLAS_NUM_THREADS, OMP_NUM_THREADS and MKL_NUM_THREADS, and
torch.set_num_threads in PyTorch's process. For the MLP it also counts the
FLOPs of a step and sets the rate against numpy's float32 matrix product.

Before/after in one sitting: ``git worktree add ../before <commit>``, then
``--mtorch-path ../before`` times that checkout's mtorch with these
benchmark models.
"""
import argparse
import importlib.metadata
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from workloads import MLP_BATCH, MLP_SIZES, STEPS, WORKLOADS, NotAvailable

REPO = Path(__file__).resolve().parent.parent
TORCH_REF = REPO.parent / "shared" / "bench" / "torch_ref.py"     # the reference script, when beside the repository
FRAMEWORKS = ("mtorch", "torch")
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
SGEMM_SHAPES = ((MLP_BATCH, MLP_SIZES[0], MLP_SIZES[1]),    # (M, K, N): the MLP's largest product,
                (2048, 2048, 2048))                          # and a large one


# ---------------------------------------------------------------- timing (in the child processes)

def time_step(step, steps, warmup=5, blocks=5):
    """Seconds one ``step()`` takes: the median of ``blocks`` timed blocks of ``steps`` calls, after ``warmup``."""
    for _ in range(warmup):
        step()
    seconds = []
    for _ in range(blocks):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        seconds.append((time.perf_counter() - start) / steps)
    return statistics.median(seconds)


def sgemm_rates(blocks=5, block_seconds=0.05):
    """numpy's float32 matrix-product rate, in GFLOP/s, for each of SGEMM_SHAPES (median of ``blocks`` blocks)."""
    rng = np.random.default_rng(0)
    rates = []
    for m, k, n in SGEMM_SHAPES:
        a, b = rng.standard_normal((m, k), dtype=np.float32), rng.standard_normal((k, n), dtype=np.float32)
        out = np.empty((m, n), dtype=np.float32)
        start = time.perf_counter()
        np.dot(a, b, out=out)
        reps = max(1, int(block_seconds / (time.perf_counter() - start)))
        seconds = time_step(lambda: np.dot(a, b, out=out), reps, warmup=1, blocks=blocks)
        rates.append(2 * m * k * n / seconds / 1e9)
    return rates


def load_torch_reference(path):
    """The reference script, imported by path (it seeds torch and numpy when imported)."""
    spec = importlib.util.spec_from_file_location("torch_ref", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def training_step(framework, name, threads, mtorch_path, torch_ref):
    """``(step, input_grad)`` for one workload in one framework; input_grad: whether the model computes dL/d(input)."""
    if framework == "mtorch":
        sys.path.insert(0, str(mtorch_path))
        import mtorch
        if Path(mtorch.__file__).resolve().parent.parent != Path(mtorch_path).resolve():
            raise SystemExit(f"imported mtorch from {mtorch.__file__}, not from {mtorch_path}")
        import mtorch_workloads
        step, model = mtorch_workloads.training_step(name)
        step()                               # one warm-up step shows whether the first layer skipped dL/dx
        first = model.sequential[0] if hasattr(model, "sequential") else None
        return step, bool(first is None or first.needs_input_grad)
    try:
        import torch
    except ImportError:
        raise NotAvailable("torch is not installed") from None
    torch.set_num_threads(threads)
    import torch_workloads
    reference = load_torch_reference(torch_ref) if torch_ref else None
    return torch_workloads.training_step(name, reference), False      # torch_ref's inputs need no gradient


def child(args):
    """Measure one thing and print it as JSON: a workload's seconds per step, or numpy's sgemm rates."""
    try:
        if args.child == "sgemm":
            result = {"gflops": sgemm_rates(args.blocks)}
        else:
            name = args.workloads[0]
            step, input_grad = training_step(args.child, name, args.threads[0], args.mtorch_path, args.torch_ref)
            result = {"seconds": time_step(step, args.steps or STEPS[name], args.warmup, args.blocks),
                      "input_grad": input_grad}
    except NotAvailable as error:
        result = {"unavailable": str(error)}
    print(json.dumps(result))


# ---------------------------------------------------------------- running the children (in the parent)

def run_child(kind, threads, args, workload=None):
    """Run one measurement in a fresh process with ``threads`` BLAS/OpenMP threads; its JSON result."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--threads", str(threads),
               "--warmup", str(args.warmup), "--blocks", str(args.blocks), "--mtorch-path", str(args.mtorch_path)]
    command += [workload] if workload else []
    command += ["--steps", str(args.steps)] if args.steps else []
    command += ["--torch-ref", str(args.torch_ref)] if args.torch_ref else []
    env = dict(os.environ, **{variable: str(threads) for variable in THREAD_VARIABLES})
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{kind} {workload or ''} at {threads} thread(s) failed:\n{done.stderr.strip()}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(name, threads, args):
    """Time one workload at one thread count: ``args.runs`` alternating runs of each framework."""
    times, unavailable, input_grad = {f: [] for f in args.frameworks}, {}, {}
    for _ in range(args.runs):
        for framework in args.frameworks:
            if framework in unavailable:
                continue
            result = run_child(framework, threads, args, name)
            if "unavailable" in result:
                unavailable[framework] = result["unavailable"]
            else:
                times[framework].append(result["seconds"])
                input_grad[framework] = result["input_grad"]
    return {"threads": threads, "workload": name, "times": times, "unavailable": unavailable,
            "input_grad": input_grad}


# ---------------------------------------------------------------- summaries and tables

def summarize(mtorch_times, torch_times):
    """Medians of each framework's seconds per step, and the median and range of the runs' mtorch/torch ratios.

    The i-th mtorch run is paired with the i-th torch run, which ran right after it.
    Missing figures are None.
    """
    ratios = [m / t for m, t in zip(mtorch_times, torch_times)]
    return {"mtorch": statistics.median(mtorch_times) if mtorch_times else None,
            "torch": statistics.median(torch_times) if torch_times else None,
            "ratio": statistics.median(ratios) if ratios else None,
            "ratio_range": (min(ratios), max(ratios)) if ratios else None}


TABLE_HEADER = ("| threads | workload | mtorch s/step | torch s/step | ratio | ratio min-max |\n"
                "|---|---|---|---|---|---|")


def table_row(row):
    """The markdown table row of one ``measure`` result."""
    stats = summarize(row["times"].get("mtorch", []), row["times"].get("torch", []))

    def seconds(framework):
        if framework in row["unavailable"]:
            return "not available"
        return "-" if stats[framework] is None else f"{stats[framework]:.3g}"
    ratio = "-" if stats["ratio"] is None else f"{stats['ratio']:.2f}"
    spread = "-" if stats["ratio_range"] is None else "%.2f-%.2f" % stats["ratio_range"]
    return f"| {row['threads']} | {row['workload']} | {seconds('mtorch')} | {seconds('torch')} | {ratio} | {spread} |"


def mlp_forward_flops(batch=MLP_BATCH, sizes=MLP_SIZES):
    """FLOPs of the MLP's forward matrix products: sum over the Linear layers of 2*batch*in*out."""
    return sum(2 * batch * n_in * n_out for n_in, n_out in zip(sizes, sizes[1:]))


def mlp_flops(input_grad, batch=MLP_BATCH, sizes=MLP_SIZES):
    """FLOPs of one MLP training step, matrix products only.

    Forward F (``mlp_forward_flops``); backward 2F (each layer's weight
    gradient and input gradient), less the first layer's input gradient
    2*batch*sizes[0]*sizes[1] when the model does not compute it.
    """
    return 3 * mlp_forward_flops(batch, sizes) - (0 if input_grad else 2 * batch * sizes[0] * sizes[1])


def mlp_report(rows, sgemm):
    """The MLP's FLOPs per step, its GFLOP/s in each framework and numpy's sgemm rates, as text and a table."""
    sizes = "-".join(map(str, MLP_SIZES))
    first_input = 2 * MLP_BATCH * MLP_SIZES[0] * MLP_SIZES[1]
    lines = [f"MLP FLOPs per training step, matrix products only (B = {MLP_BATCH}, sizes {sizes}): "
             f"forward F = sum over the Linear layers of 2*B*in*out = {mlp_forward_flops() / 1e6:.1f} M; "
             f"backward 2F (weight and input gradients), less the first layer's input gradient "
             f"2*B*{MLP_SIZES[0]}*{MLP_SIZES[1]} = {first_input / 1e6:.1f} M when the model skips it."]
    computes = {False: "skips dL/d(input)", True: "computes dL/d(input)"}
    for framework in FRAMEWORKS:
        input_grad = next((r["input_grad"][framework] for r in rows if framework in r["input_grad"]), None)
        if input_grad is not None:
            flops = mlp_flops(input_grad) / 1e6
            lines.append(f"- {framework}'s model {computes[input_grad]}: {flops:.1f} MFLOP per step")
    shapes = ["x".join(map(str, shape)) for shape in SGEMM_SHAPES]
    lines += ["", f"| threads | numpy sgemm {shapes[0]} | numpy sgemm {shapes[1]} | mtorch MLP "
                  f"| mtorch, % of sgemm {shapes[0]} / {shapes[1]} | torch MLP |", "|---|---|---|---|---|---|"]
    for row in rows:
        stats = summarize(row["times"].get("mtorch", []), row["times"].get("torch", []))
        rate = {f: mlp_flops(row["input_grad"][f]) / stats[f] / 1e9 for f in FRAMEWORKS if stats[f]}
        limits = sgemm.get(row["threads"])
        cells = [f"{limit:.0f} GFLOP/s" for limit in limits] if limits else ["-", "-"]
        cells.append(f"{rate['mtorch']:.0f} GFLOP/s" if "mtorch" in rate else "-")
        cells.append(" / ".join(f"{100 * rate['mtorch'] / limit:.0f}%" for limit in limits)
                     if limits and "mtorch" in rate else "-")
        cells.append(f"{rate['torch']:.0f} GFLOP/s" if "torch" in rate else "-")
        lines.append(f"| {row['threads']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def describe_mtorch(path):
    """Where the timed mtorch comes from: its folder and, in a git checkout, its commit."""
    def git(*command):
        return subprocess.run(["git", "--no-optional-locks", "-C", str(path), *command],
                              capture_output=True, text=True, check=True).stdout.strip()
    try:
        commit, changes = git("rev-parse", "--short", "HEAD"), git("status", "--porcelain", "--", "mtorch")
    except (OSError, subprocess.CalledProcessError):
        return str(path)
    return f"{path} (commit {commit}{', with uncommitted changes to mtorch/' if changes else ''})"


def package_version(name):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


# ---------------------------------------------------------------- command line

def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog=__doc__.split("\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workloads", nargs="*", metavar="WORKLOAD",
                        help=f"any of {', '.join(WORKLOADS)} (default: all)")
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2], metavar="N",
                        help="thread counts to measure at (default: 1 2)")
    parser.add_argument("--runs", type=int, default=5, help="runs per framework, alternating (default: 5)")
    parser.add_argument("--frameworks", nargs="+", choices=FRAMEWORKS, default=list(FRAMEWORKS),
                        help="which frameworks to time (default: both)")
    parser.add_argument("--mtorch-path", type=Path, default=REPO, metavar="DIR",
                        help="the source tree whose mtorch package is timed (default: this repository)")
    parser.add_argument("--torch-ref", type=Path, metavar="FILE",
                        help="PyTorch reference script whose models are used (default: ../shared/bench/torch_ref.py "
                             "beside the repository if it exists, else the identical copy in torch_workloads.py)")
    parser.add_argument("--steps", type=int, help="steps per timed block (default: per workload, "
                                                  + ", ".join(f"{k} {v}" for k, v in STEPS.items()) + ")")
    parser.add_argument("--blocks", type=int, default=5,
                        help="timed blocks per run; a run reports their median (default: 5)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps before the blocks (default: 5)")
    parser.add_argument("--no-sgemm", action="store_true", help="skip measuring numpy's sgemm rate for the MLP")
    parser.add_argument("--child", choices=FRAMEWORKS + ("sgemm",), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    unknown = [w for w in args.workloads if w not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload(s) {', '.join(unknown)}; choose from {', '.join(WORKLOADS)}")
    for option in ("runs", "blocks", "steps"):
        if getattr(args, option) is not None and getattr(args, option) < 1:
            parser.error(f"--{option} must be at least 1, got {getattr(args, option)}")
    if args.warmup < 0 or min(args.threads) < 1:
        parser.error("--warmup must be at least 0 and --threads at least 1")
    if not (args.mtorch_path / "mtorch" / "__init__.py").is_file():
        parser.error(f"--mtorch-path {args.mtorch_path}: no mtorch package there (expected {args.mtorch_path}/mtorch/)")
    if args.torch_ref is None and args.child is None and TORCH_REF.is_file():
        args.torch_ref = TORCH_REF
    if args.torch_ref is not None and not args.torch_ref.is_file():
        parser.error(f"--torch-ref {args.torch_ref}: no such file")
    args.workloads = args.workloads or list(WORKLOADS)
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.child:
        return child(args)
    models = f"torch_ref.py ({args.torch_ref})" if args.torch_ref else "torch_workloads.py (a copy of torch_ref.py)"
    steps = ", ".join(f"{w} {args.steps or STEPS[w]}" for w in args.workloads)
    print(f"mtorch: {describe_mtorch(args.mtorch_path)}; numpy {np.__version__}; torch {package_version('torch')}, "
          f"models from {models}\n"
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the start. Runs per framework: "
          f"{args.runs}, alternating, each a fresh process. A run: warm-up steps: {args.warmup}, then the median of "
          f"{args.blocks} timed block(s) of N steps ({steps}). s/step: median of the runs; "
          f"ratio: median of the runs' mtorch/torch ratios.\n")
    print(TABLE_HEADER, flush=True)
    sgemm, mlp_rows, notes = {}, [], {}
    for threads in args.threads:
        if "mlp" in args.workloads and not args.no_sgemm:
            sgemm[threads] = run_child("sgemm", threads, args)["gflops"]
        for name in args.workloads:
            row = measure(name, threads, args)
            print(table_row(row), flush=True)
            mlp_rows += [row] if name == "mlp" else []
            notes.update({(name, f): reason for f, reason in row["unavailable"].items()})
    print()
    for (name, framework), reason in notes.items():
        print(f"{name}: {framework} not available ({reason})")
    print(f"Load average {os.getloadavg()[0]:.2f} at the end.")
    if mlp_rows:
        print("\n" + mlp_report(mlp_rows, sgemm))


if __name__ == "__main__":
    main()
