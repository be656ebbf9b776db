"""RNN, LSTM, GRU and their cells against PyTorch in float64, on PyTorch's own sample inputs.

``torch.testing._internal.common_modules.module_db`` lists, for every module,
the constructor arguments and inputs PyTorch tests it with. For each sample we
load torch's state dict into the mtorch layer, run both, backpropagate the
same random upstream gradients (into the output and, for the layers, into
the final states) and compare the output, the final states, the input
gradient, the initial-state gradients and every parameter gradient to 1e-6
relative.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
common_modules = pytest.importorskip("torch.testing._internal.common_modules")

from mtorch import layers  # noqa: E402

NAMES = ("RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell")
CLOSE = dict(rtol=1e-6, atol=1e-9)


def _samples():
    """``(name, index, sample)`` for every sample module_db has for the six classes."""
    cases = []
    for info in common_modules.module_db:
        name = info.name.replace("nn.", "")
        if name in NAMES:
            samples = info.module_inputs_func(info, device="cpu", dtype=torch.float64, requires_grad=True,
                                              training=True)
            cases += [(name, i, s) for i, s in enumerate(samples)]
    return cases


SAMPLES = _samples()


def test_module_db_has_samples_for_every_class():
    counts = {name: sum(1 for n, _, _ in SAMPLES if n == name) for name in NAMES}
    assert all(counts.values()), counts
    assert sum(counts.values()) >= 80, counts


def _numpy(value):
    if isinstance(value, torch.Tensor):
        return value.detach().numpy().copy()
    return tuple(_numpy(v) for v in value)


def _tensors(value):
    """The tensors inside a nested tuple, in order."""
    if isinstance(value, torch.Tensor):
        return [value]
    return [t for v in value for t in _tensors(v)]


def _upstream(value, rng):
    return torch.from_numpy(rng.standard_normal(tuple(value.shape)))


@pytest.mark.parametrize("name, index, sample", SAMPLES, ids=[f"{n}-{i}" for n, i, _ in SAMPLES])
def test_matches_torch_on_module_db_samples(name, index, sample):
    rng = np.random.default_rng(index)
    args, kwargs = sample.constructor_input.args, sample.constructor_input.kwargs
    theirs = getattr(torch.nn, name)(*args, **kwargs).double()
    ours = getattr(layers, name)(*args, **kwargs).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})

    inputs = sample.forward_input.args
    leaves = [t for t in _tensors(inputs) if t.requires_grad]
    out = theirs(*inputs)
    ours_out = ours(*_numpy(inputs))
    cell = name.endswith("Cell")
    if cell:                                       # h' or (h', c')
        outputs, ours_outputs = _tensors(out), list(ours_out) if name == "LSTMCell" else [ours_out]
    else:                                          # (output, h_n) or (output, (h_n, c_n))
        outputs = _tensors(out)
        ours_outputs = [ours_out, ours.h_n] + ([ours.c_n] if name == "LSTM" else [])
    upstream = [_upstream(o, rng) for o in outputs]
    sum((o * g).sum() for o, g in zip(outputs, upstream)).backward()

    for a, b in zip(ours_outputs, outputs):
        np.testing.assert_allclose(a, b.detach().numpy(), **CLOSE)
    g = [u.numpy() for u in upstream]
    if cell:
        grads = ours.backward(tuple(g) if name == "LSTMCell" else g[0])
        ours_grads = [grads] if len(inputs) == 1 else [grads[0]] + list(_flatten(grads[1]))
    else:
        dx = ours.backward(*g)
        ours_grads = [dx] + ([ours.grad_h0] + ([ours.grad_c0] if name == "LSTM" else []) if len(inputs) > 1 else [])
    assert len(ours_grads) == len(leaves)
    for a, leaf in zip(ours_grads, leaves):
        np.testing.assert_allclose(a, leaf.grad.numpy(), **CLOSE)
    torch_params = dict(theirs.named_parameters())
    for key, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, torch_params[key].grad.numpy(), err_msg=key, **CLOSE)


def _flatten(value):
    return (value,) if isinstance(value, np.ndarray) else value
