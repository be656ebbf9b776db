"""benchmarks/compare.py: its table and median logic, its workloads, and one tiny run of the whole harness."""
import importlib
import re
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture(scope="module")
def bench():
    """The benchmark's modules, imported from benchmarks/ as its scripts import each other."""
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(BENCHMARKS))
        yield {name: importlib.import_module(name) for name in ("compare", "workloads", "mtorch_workloads")}


def row(mtorch=(), torch=(), unavailable=None, threads=1, workload="mlp"):
    return {"threads": threads, "workload": workload, "times": {"mtorch": list(mtorch), "torch": list(torch)},
            "unavailable": unavailable or {}, "input_grad": {"mtorch": True, "torch": False}}


def test_summary_takes_medians_and_pairs_each_run_with_the_next_framework_run(bench):
    stats = bench["compare"].summarize([1.0, 9.0, 2.0, 3.0], [2.0, 3.0, 8.0, 1.0])
    assert stats["mtorch"] == 2.5 and stats["torch"] == 2.5
    assert stats["ratio"] == pytest.approx(np.median([0.5, 3.0, 0.25, 3.0]))    # not 2.5 / 2.5
    assert stats["ratio_range"] == (0.25, 3.0)


def test_summary_of_one_framework_has_no_ratio(bench):
    stats = bench["compare"].summarize([0.5, 0.1, 0.3], [])
    assert stats == {"mtorch": 0.3, "torch": None, "ratio": None, "ratio_range": None}


def test_table_rows(bench):
    compare = bench["compare"]
    assert compare.table_row(row([0.002, 0.001, 0.0015], [0.004, 0.0031, 0.003])) == \
        "| 1 | mlp | 0.0015 | 0.0031 | 0.50 | 0.32-0.50 |"
    assert compare.table_row(row([], [0.085], {"mtorch": "mtorch.layers has no MultiheadAttention"}, 2, "gpt")) == \
        "| 2 | gpt | not available | 0.085 | - | - |"
    assert compare.table_row(row([0.0123456])) == "| 1 | mlp | 0.0123 | - | - | - |"
    header = compare.TABLE_HEADER.splitlines()
    assert header[0].count("|") == compare.table_row(row([1.0], [2.0])).count("|") == header[1].count("|")


def test_mlp_flops_count_the_models_matrix_products(bench):
    compare, mtorch_workloads = bench["compare"], bench["mtorch_workloads"]
    model = mtorch_workloads.mlp()[0]
    batch = bench["workloads"].MLP_BATCH
    forward = sum(2 * batch * p.data.size for name, p in model.named_parameters() if name.endswith("weight"))
    assert compare.mlp_forward_flops() == forward == 2 * 128 * (784 * 256 + 256 * 128 + 128 * 10)
    assert compare.mlp_flops(input_grad=True) == 3 * forward
    assert compare.mlp_flops(input_grad=False) == 3 * forward - 2 * 128 * 784 * 256


def test_the_mtorch_models_are_written_as_a_user_writes_them(bench):
    """Every workload trains a step; nothing turns off the input gradient; gpt waits for its layers."""
    mtorch_workloads, workloads = bench["mtorch_workloads"], bench["workloads"]
    for name in workloads.WORKLOADS:
        if name == "gpt" and not hasattr(mtorch_workloads.layers, "MultiheadAttention"):
            with pytest.raises(workloads.NotAvailable, match="MultiheadAttention"):
                mtorch_workloads.training_step(name)
            continue
        step, model = mtorch_workloads.training_step(name)
        before = [p.data.copy() for p in model.parameters()]
        step()
        assert all(p.grad is None for p in model.parameters())        # used by the step, then cleared
        assert any(not np.array_equal(p.data, b) for p, b in zip(model.parameters(), before))


@pytest.mark.parametrize("name", ["mlp", "cnn", "rnn", "lstm"])
def test_the_pytorch_models_are_the_reference_scripts(bench, name):
    compare = bench["compare"]
    if not compare.TORCH_REF.is_file():
        pytest.skip("the reference script torch_ref.py is not beside the repository")
    torch = pytest.importorskip("torch")
    torch_workloads = importlib.import_module("torch_workloads")
    reference = getattr(compare.load_torch_reference(compare.TORCH_REF), name)()
    torch.manual_seed(0)
    copy = torch_workloads.BUILDERS[name](np.random.default_rng(0))
    (model, x, y, loss_func, optimizer), (ref_model, ref_x, ref_y, ref_loss, ref_optimizer) = copy, reference
    assert repr(model) == repr(ref_model) and repr(loss_func) == repr(ref_loss)
    for (key, value), (ref_key, ref_value) in zip(model.state_dict().items(), ref_model.state_dict().items(),
                                                  strict=True):
        assert key == ref_key and torch.equal(value, ref_value)
    assert torch.equal(x, ref_x) and torch.equal(y, ref_y)
    assert type(optimizer) is type(ref_optimizer) and optimizer.defaults == ref_optimizer.defaults


@pytest.fixture
def one_torch_thread():
    """PyTorch on one thread: on a busy machine its second thread mostly waits."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield torch
    torch.set_num_threads(threads)


def test_pytorch_gpt_is_the_recipes_model(bench, one_torch_thread):
    torch = one_torch_thread
    torch_workloads = importlib.import_module("torch_workloads")
    model, x, y, loss_func, optimizer = torch_workloads.gpt(np.random.default_rng(0))
    # embeddings (the head shares the token embedding), 4 blocks of 12 * 128^2 weights, 9 LayerNorm weights
    assert sum(p.numel() for p in model.parameters()) == 65 * 128 + 64 * 128 + 4 * 12 * 128 * 128 + 9 * 128
    assert x.shape == y.shape == (12, 64)
    with torch.no_grad():
        assert float(loss_func(model(x), y)) == pytest.approx(np.log(65), abs=0.05)   # small init: uniform guesses
    assert [g["weight_decay"] for g in optimizer.param_groups] == [0.1, 0.0]
    torch_workloads.training_step("gpt")()


def test_bad_arguments_are_refused(bench, capsys):
    compare = bench["compare"]
    for argv, message in [(["resnet"], "unknown workload"), (["--runs", "0"], "--runs must be at least 1"),
                          (["--mtorch-path", str(BENCHMARKS)], "no mtorch package there")]:
        with pytest.raises(SystemExit):
            compare.parse_args(argv)
        assert message in capsys.readouterr().err


def test_the_harness_prints_the_table(bench, capsys):
    """One tiny run of mtorch on the MLP: a fresh process, the table row, the FLOP and sgemm report."""
    bench["compare"].main(["mlp", "--frameworks", "mtorch", "--runs", "1", "--threads", "1",
                           "--steps", "2", "--warmup", "1", "--blocks", "1"])
    lines = capsys.readouterr().out.splitlines()
    start = lines.index("| threads | workload | mtorch s/step | torch s/step | ratio | ratio min-max |")
    cells = [cell.strip() for cell in lines[start + 2].strip("|").split("|")]
    assert cells[:2] == ["1", "mlp"] and cells[3:] == ["-", "-", "-"]
    assert 0 < float(cells[2]) < 10
    assert "- mtorch's model skips dL/d(input): 128.9 MFLOP per step" in lines
    report = lines[lines.index("|---|---|---|---|---|---|", start + 2) + 1]
    assert re.fullmatch(r"\| 1 \| \d+ GFLOP/s \| \d+ GFLOP/s \| \d+ GFLOP/s \| \d+% / \d+% \| - \|", report)


def test_a_missing_torch_is_reported_not_available(bench, tmp_path, monkeypatch, capsys):
    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "__init__.py").write_text("raise ImportError('no torch here')\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    bench["compare"].main(["mlp", "--frameworks", "torch", "--runs", "2", "--threads", "1", "--no-sgemm",
                           "--steps", "1", "--warmup", "0", "--blocks", "1"])
    out = capsys.readouterr().out
    assert "| 1 | mlp | - | not available | - | - |" in out
    assert "mlp: torch not available (torch is not installed)" in out
