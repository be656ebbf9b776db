"""Every activation, normalization and Linear layer against PyTorch, on PyTorch's own sample inputs.

``torch.testing._internal.common_modules.module_db`` lists, per ``torch.nn``
class, the constructor arguments and forward inputs PyTorch tests it with
(scalars, inputs without a batch dimension, empty batches, ...). For each
sample, the mtorch layer is built with the same arguments, loaded with the
torch module's state dict (after randomising it, so that no weight is a
neutral 1 or 0) and run in float64: the output, dL/d(input), every parameter
gradient and the buffers afterwards agree to 1e-6 relative.
"""
import numpy as np
import pytest

from mtorch import layers

torch = pytest.importorskip("torch")
common_modules = pytest.importorskip("torch.testing._internal.common_modules")

COVERED = {
    "ReLU", "LeakyReLU", "PReLU", "ReLU6", "Hardtanh", "Threshold", "ELU", "SELU", "CELU", "GELU", "SiLU",
    "Mish", "Hardswish", "Sigmoid", "LogSigmoid", "Tanh", "Tanhshrink", "Softsign", "Softplus",
    "Softshrink", "Hardshrink", "Softmax", "Softmin", "LogSoftmax", "Softmax2d", "GLU",
    "BatchNorm1d", "BatchNorm2d", "InstanceNorm1d", "InstanceNorm2d", "GroupNorm", "Linear",
}


def _cases():
    for info in common_modules.module_db:
        name = info.module_cls.__name__
        if name not in COVERED:
            continue
        for training in (True, False) if info.train_and_eval_differ else (True,):
            samples = info.module_inputs_func(info, device="cpu", dtype=torch.float64, requires_grad=True,
                                              training=training)
            for i, sample in enumerate(samples):
                mode = "train" if training else "eval"
                yield pytest.param(info.module_cls, sample, training, id=f"{name}-{sample.desc or i}-{mode}")


CASES = list(_cases())


def _randomise(module, generator):
    """Weights in [0.5, 1.5) (and biases in [-0.5, 0.5)), running means near 0 and variances in [0.5, 1.5)."""
    with torch.no_grad():
        for name, value in list(module.named_parameters()) + list(module.named_buffers()):
            if value.dtype.is_floating_point:
                shift = 0.5 if name.endswith(("weight", "running_var")) else -0.5
                value.copy_(torch.rand(value.shape, generator=generator, dtype=value.dtype) + shift)


def _close(actual, expected, what):
    np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-12, err_msg=what)


def test_every_covered_class_has_samples():
    assert {case.values[0].__name__ for case in CASES} == COVERED


@pytest.mark.parametrize("cls, sample, training", CASES)
def test_matches_torch_on_its_module_db_samples(cls, sample, training):
    args, kwargs = sample.constructor_input.args, sample.constructor_input.kwargs
    ref = cls(*args, **kwargs).to(torch.float64).train(training)
    _randomise(ref, torch.Generator().manual_seed(0))
    layer = getattr(layers, cls.__name__)(*args, **kwargs).double().train(training)
    layer.load_state_dict({key: value.numpy() for key, value in ref.state_dict().items()})

    forward = sample.forward_input
    x = (forward.args[0] if forward.args else forward.kwargs["input"]).detach().clone().requires_grad_()
    y_ref = ref(x)
    y = layer(x.detach().numpy().copy())
    _close(y, y_ref.detach().numpy(), "output")

    g = np.random.default_rng(0).standard_normal(y.shape)
    y_ref.backward(torch.from_numpy(g))
    _close(layer.backward(g), x.grad.numpy(), "dL/d(input)")
    grads = {name: p.grad for name, p in ref.named_parameters()}
    for name, p in layer.named_parameters():
        _close(p.grad, grads[name].numpy(), f"dL/d{name}")
    state = ref.state_dict()
    for key, value in layer.state_dict().items():
        _close(value, state[key].numpy(), key)
