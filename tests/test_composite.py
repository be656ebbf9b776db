"""Networks beyond a chain: skip connections, branches, several inputs, shared weights, nested lists.

Each network is compared with the same network in PyTorch (float64, torch's
state dict loaded): the output, every input gradient and every parameter
gradient to 1e-6 relative, and the state-dict keys.
"""
import io

import numpy as np
import pytest

import mtorch
from mtorch import Layer, Module, ModuleDict, ModuleList, Parameter, Sequential, layers
from mtorch.errors import GradientError, ShapeError

def _torch():
    return pytest.importorskip("torch")


def _compare_with_torch(model, ref, inputs, rng, rtol=1e-6):
    """Load ref's state into model; run both on ``inputs`` with one upstream gradient; compare all."""
    torch = _torch()
    ref = ref.double()
    assert list(model.state_dict()) == list(ref.state_dict())
    model.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    model.double()
    model.input_grad = True
    xs = [torch.from_numpy(x).requires_grad_() for x in inputs]
    y_ref = ref(*xs)
    y = model(*inputs)
    g = rng.standard_normal(y.shape)
    y_ref.backward(torch.from_numpy(g))
    grads = model.backward(g)
    grads = grads if isinstance(grads, tuple) else (grads,)
    np.testing.assert_allclose(y, y_ref.detach().numpy(), rtol=rtol, atol=1e-10)
    for grad, x in zip(grads, xs):
        np.testing.assert_allclose(grad, x.grad.numpy(), rtol=rtol, atol=1e-10)
    torch_grads = {name: p.grad.numpy() for name, p in ref.named_parameters()}
    for name, p in model.named_parameters():
        if name in torch_grads:                    # a tied Parameter: torch names it once
            np.testing.assert_allclose(p.grad, torch_grads[name], rtol=rtol, atol=1e-10, err_msg=name)


def test_residual_block_with_projection_shortcut_matches_torch(rng):
    torch = _torch()
    nn = torch.nn

    def body_m():
        return Sequential([layers.Conv2d(3, 4, 3, padding=1), layers.BatchNorm2d(4), layers.ReLU(),
                           layers.Conv2d(4, 4, 3, stride=2, padding=1), layers.BatchNorm2d(4)])

    class TorchResidual(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                                      nn.Conv2d(4, 4, 3, stride=2, padding=1), nn.BatchNorm2d(4))
            self.shortcut = nn.Sequential(nn.Conv2d(3, 4, 1, stride=2, bias=False), nn.BatchNorm2d(4))

        def forward(self, x):
            return self.body(x) + self.shortcut(x)

    model = layers.Residual(body_m(), Sequential([layers.Conv2d(3, 4, 1, stride=2, bias=False),
                                                   layers.BatchNorm2d(4)]))
    _compare_with_torch(model, TorchResidual(), [rng.standard_normal((2, 3, 6, 6))], rng)


def test_concat_of_two_conv_branches_matches_torch(rng):
    torch = _torch()
    nn = torch.nn

    class TorchConcat(nn.ModuleList):
        def forward(self, x):
            return torch.cat([branch(x) for branch in self], dim=1)

    model = layers.Concat(layers.Conv2d(3, 2, 1), Sequential([layers.Conv2d(3, 5, 3, padding=1), layers.Tanh()]))
    ref = TorchConcat([nn.Conv2d(3, 2, 1), nn.Sequential(nn.Conv2d(3, 5, 3, padding=1), nn.Tanh())])
    _compare_with_torch(model, ref, [rng.standard_normal((2, 3, 5, 5))], rng)


class TwoTower(Module):
    """y = head([image_tower(a), text_tower(b)]): a model with two inputs."""

    def __init__(self):
        super().__init__()
        self.image = Sequential([layers.Linear(6, 4), layers.Tanh()])
        self.text = layers.Linear(3, 2)
        self.head = layers.Linear(6, 1)

    def forward(self, a, b):
        return self.head(np.concatenate([self.image(a), self.text(b)], axis=1))

    def backward(self, grad_out):
        g = self.head.backward(grad_out)
        return self.image.backward(g[:, :4]), self.text.backward(g[:, 4:])


def test_a_two_input_model_matches_torch(rng):
    torch = _torch()
    nn = torch.nn

    class TorchTwoTower(nn.Module):
        def __init__(self):
            super().__init__()
            self.image = nn.Sequential(nn.Linear(6, 4), nn.Tanh())
            self.text = nn.Linear(3, 2)
            self.head = nn.Linear(6, 1)

        def forward(self, a, b):
            return self.head(torch.cat([self.image(a), self.text(b)], dim=1))

    _compare_with_torch(TwoTower(), TorchTwoTower(), [rng.standard_normal((5, 6)), rng.standard_normal((5, 3))], rng)


def test_a_two_input_model_gradchecks_hooks_and_summarises(rng):
    model = TwoTower()
    a, b = rng.standard_normal((4, 6)), rng.standard_normal((4, 3))
    assert mtorch.gradcheck(model, (a, b))
    seen = []
    model.register_forward_hook(lambda layer, inputs, out: seen.append(len(inputs)))
    model.register_backward_hook(lambda layer, grad_in, grad_out: seen.append(len(grad_in)))
    model.input_grad = True
    model(a, b)
    model.backward(np.ones((4, 1)))
    assert seen == [2, 2]
    assert model.summary([(1, 6), (1, 3)], file=io.StringIO()) == 6 * 4 + 4 + 3 * 2 + 2 + 7


def test_tied_weights_sum_both_uses_as_torch(rng):
    torch = _torch()
    nn = torch.nn
    model = Sequential([layers.Linear(4, 4), layers.Tanh(), layers.Linear(4, 4)])
    model[2].weight = model[0].weight
    ref = nn.Sequential(nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 4))
    ref[2].weight = ref[0].weight
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    _compare_with_torch(model, ref, [rng.standard_normal((3, 4))], rng)
    assert len(list(model.parameters())) == 3


class TiedAutoencoder(Module):
    """encode h = tanh(x W^T + b), decode x' = h W + c with the SAME W: dL/dW gets both uses."""

    def __init__(self):
        super().__init__()
        self.encoder = layers.Linear(5, 3)
        self.act = layers.Tanh()
        self.decoder_bias = Parameter(np.zeros(5))

    def forward(self, x):
        self.h = self.act(self.encoder(x))
        return self.h @ self.encoder.weight.data + self.decoder_bias.data

    def backward(self, grad_out):
        self.encoder.weight.add_grad(self.h.T @ grad_out)          # decoder's use of W (out = h W)
        self.decoder_bias.add_grad(grad_out.sum(axis=0))
        return self.encoder.backward(self.act.backward(grad_out @ self.encoder.weight.data.T))


def test_a_tied_weight_autoencoder_matches_torch(rng):
    torch = _torch()
    nn = torch.nn

    class TorchTied(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.Linear(5, 3)
            self.decoder_bias = nn.Parameter(torch.zeros(5))

        def forward(self, x):
            return torch.tanh(self.encoder(x)) @ self.encoder.weight + self.decoder_bias

    ref = TorchTied()
    with torch.no_grad():
        ref.decoder_bias.normal_()
    model = TiedAutoencoder()
    assert list(model.state_dict()) == ["decoder_bias", "encoder.weight", "encoder.bias"]
    model_keys = sorted(model.state_dict())
    assert model_keys == sorted(ref.state_dict())
    _compare_with_torch_unordered(model, ref, rng.standard_normal((4, 5)), rng)


def _compare_with_torch_unordered(model, ref, x, rng):
    """As ``_compare_with_torch`` for a model whose parameters are registered in another order."""
    torch = _torch()
    ref = ref.double()
    model.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    model.double()
    model.input_grad = True
    xt = torch.from_numpy(x).requires_grad_()
    y_ref, y = ref(xt), model(x)
    g = rng.standard_normal(y.shape)
    y_ref.backward(torch.from_numpy(g))
    np.testing.assert_allclose(y, y_ref.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(model.backward(g), xt.grad.numpy(), rtol=1e-6)
    for name, p in ref.named_parameters():
        np.testing.assert_allclose(dict(model.named_parameters())[name].grad, p.grad.numpy(), rtol=1e-6,
                                   err_msg=name)


class Stages(Module):
    """Nested ModuleLists: stages.i.j.weight."""

    def __init__(self):
        super().__init__()
        self.stages = ModuleList([ModuleList([layers.Linear(4, 4), layers.Tanh()]) for _ in range(2)])
        self.heads = ModuleDict({"out": layers.Linear(4, 2)})

    def forward(self, x):
        for stage in self.stages:
            for layer in stage:
                x = layer(x)
        return self.heads["out"](x)

    def backward(self, grad_out):
        g = self.heads["out"].backward(grad_out)
        for stage in reversed(self.stages):
            for layer in reversed(stage):
                g = layer.backward(g)
        return g


def test_nested_module_lists_match_torch(rng):
    torch = _torch()
    nn = torch.nn

    class TorchStages(nn.Module):
        def __init__(self):
            super().__init__()
            self.stages = nn.ModuleList([nn.ModuleList([nn.Linear(4, 4), nn.Tanh()]) for _ in range(2)])
            self.heads = nn.ModuleDict({"out": nn.Linear(4, 2)})

        def forward(self, x):
            for stage in self.stages:
                for layer in stage:
                    x = layer(x)
            return self.heads["out"](x)

    model = Stages()
    assert list(model.state_dict())[:2] == ["stages.0.0.weight", "stages.0.0.bias"]
    _compare_with_torch(model, TorchStages(), [rng.standard_normal((3, 4))], rng)


def test_a_shared_encoder_through_share_matches_torch_calling_one_module_twice(rng):
    torch = _torch()
    nn = torch.nn

    class Siamese(Module):
        """y = f(a) * f(b) with one encoder f: two instances sharing the Parameters."""

        def __init__(self):
            super().__init__()
            self.left = Sequential([layers.Linear(3, 4), layers.Tanh()])
            self.right = self.left.share()

        def forward(self, a, b):
            self.left_out, self.right_out = self.left(a), self.right(b)
            return self.left_out * self.right_out

        def backward(self, grad_out):
            return self.left.backward(grad_out * self.right_out), self.right.backward(grad_out * self.left_out)

    class TorchSiamese(nn.Module):
        def __init__(self):
            super().__init__()
            self.left = nn.Sequential(nn.Linear(3, 4), nn.Tanh())

        def forward(self, a, b):
            return self.left(a) * self.left(b)

    model, ref = Siamese(), TorchSiamese().double()
    model.load_state_dict({**{k: v.detach().numpy() for k, v in ref.state_dict().items()},
                           **{k.replace("left", "right"): v.detach().numpy() for k, v in ref.state_dict().items()}})
    assert model.left[0].weight is model.right[0].weight
    model.double()
    model.input_grad = True
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    at, bt = (torch.from_numpy(v).requires_grad_() for v in (a, b))
    y_ref = ref(at, bt)
    g = rng.standard_normal((2, 4))
    y_ref.backward(torch.from_numpy(g))
    y = model(a, b)
    ga, gb = model.backward(g)
    np.testing.assert_allclose(y, y_ref.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(ga, at.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(gb, bt.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(model.left[0].weight.grad, ref.left[0].weight.grad.numpy(), rtol=1e-6)


# ----------------------------------------------------------------- without torch


def test_one_instance_called_twice_in_a_pass_refuses_backward(rng):
    class Twice(Module):
        def __init__(self):
            super().__init__()
            self.linear = layers.Linear(3, 3)

        def forward(self, x):
            return self.linear(self.linear(x))

        def backward(self, grad_out):
            return self.linear.backward(self.linear.backward(grad_out))

    model = Twice()
    model(rng.standard_normal((2, 3)))
    with pytest.raises(GradientError, match=r"Linear\(.*\) was called 2 times in one forward pass.*share\(\)"):
        model.backward(np.ones((2, 3)))
    model.linear(rng.standard_normal((2, 3)))          # a new pass: one call, backward is fine again
    assert model.linear.backward(np.ones((2, 3))).shape == (2, 3)


def test_assigning_a_gradient_inside_backward_when_one_is_held_says_what_to_write(rng):
    class OldStyle(Layer):
        def __init__(self, weight):
            super().__init__()
            self.weight = weight

        def forward(self, x):
            self.x = x
            return x * self.weight.data

        def backward(self, grad_out):
            self.weight.grad = (grad_out * self.x).sum(axis=0)
            return grad_out * self.weight.data

    shared = Parameter(np.ones(3))
    net = Sequential([OldStyle(shared), OldStyle(shared)])
    net(rng.standard_normal((2, 3)))
    with pytest.raises(GradientError, match=r"Parameter 'weight' of shape \(3,\) already holds a gradient.*"
                                            r"add_grad\(g\)"):
        net.backward(np.ones((2, 3)))
    single = OldStyle(Parameter(np.ones(3)))           # used once, the old way still works
    single(np.ones((2, 3)))
    single.backward(np.ones((2, 3)))
    np.testing.assert_array_equal(single.weight.grad, [2, 2, 2])


def test_add_grad_keeps_the_first_array_and_never_changes_an_array_handed_in():
    p = Parameter(np.zeros(2))
    first, second = np.ones(2, np.float32), np.full(2, 2, np.float32)
    p.add_grad(first)
    assert p.grad is first
    p.add_grad(second)
    np.testing.assert_array_equal(p.grad, [3, 3])
    np.testing.assert_array_equal(first, [1, 1])
    with pytest.raises(TypeError, match="real numbers"):
        p.add_grad(np.array([1j, 2j]))
    with pytest.raises(ShapeError):
        p.add_grad(np.ones(3))


def test_residual_shape_mismatch_and_containers_refuse_non_layers(rng):
    with pytest.raises(ShapeError, match="Residual: the body's output .* cannot be added"):
        layers.Residual(layers.Linear(3, 2))(rng.standard_normal((2, 3)))
    with pytest.raises(TypeError, match="Concat: expected a Layer, got int"):
        layers.Concat(layers.Linear(3, 2), 3)
    with pytest.raises(ShapeError, match="Concat"):
        layers.Concat(layers.Linear(3, 2), layers.Reshape((3, 1)))(rng.standard_normal((2, 3)))
    with pytest.raises(ValueError, match="ModuleDict: a name must be"):
        ModuleDict({"a.b": layers.ReLU()})
    with pytest.raises(NotImplementedError, match="ModuleList holds layers but has no forward"):
        ModuleList([layers.ReLU()])(np.ones(2))


def test_module_list_behaves_like_a_list():
    blocks = ModuleList([layers.Linear(2, 2), layers.ReLU()])
    blocks.append(layers.Tanh())
    blocks.insert(0, layers.Linear(2, 2, bias=False))
    assert [type(b).__name__ for b in blocks] == ["Linear", "Linear", "ReLU", "Tanh"]
    assert list(blocks.state_dict()) == ["0.weight", "1.weight", "1.bias"]
    del blocks[0]
    assert list(blocks.state_dict()) == ["0.weight", "0.bias"] and len(blocks) == 3
    assert isinstance(blocks[1:], ModuleList) and len(blocks[1:]) == 2


def test_module_subclass_without_forward_says_what_to_write():
    class Empty(Module):
        pass

    with pytest.raises(NotImplementedError, match=r"Empty must implement forward and backward, or wrap a layer"):
        Empty()(np.ones(2))


def test_gradcheck_of_containers_with_branches(rng):
    assert mtorch.gradcheck(layers.Residual(Sequential([layers.Linear(3, 3), layers.Tanh()])),
                            rng.standard_normal((2, 3)))
    assert mtorch.gradcheck(layers.Concat(layers.Linear(3, 2), layers.Sigmoid(), dim=-1),
                            rng.standard_normal((2, 3)))
    assert mtorch.gradcheck(Stages(), rng.standard_normal((2, 4)))
    assert mtorch.gradcheck(TiedAutoencoder(), rng.standard_normal((3, 5)))
