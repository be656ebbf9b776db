"""Float64 comparisons with torch.nn shared by the tests of the Transformer layers (not a test module)."""
import numpy as np

RTOL = 1e-6


def assert_close(ours, theirs, what):
    """``ours`` equals the torch tensor or array ``theirs`` to ``RTOL``, relative to the size of ``theirs``."""
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    assert ours is not None, f"{what}: mtorch gave None"
    assert np.shape(ours) == theirs.shape, f"{what}: shape {np.shape(ours)}, torch {theirs.shape}"
    scale = max(float(np.max(np.abs(theirs), initial=0.0)), 1e-12)
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=RTOL * scale, err_msg=what)


def load_torch_state(ours, theirs):
    """Load the torch module's state dict into the mtorch layer (keys must be the same)."""
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


def assert_parameter_grads_match(ours, theirs):
    """Every parameter gradient of ``ours`` equals torch's (a tied parameter compared under each name)."""
    torch_params = dict(theirs.named_parameters(remove_duplicate=False))
    names = [name for name, _ in ours.named_parameters()]
    assert sorted(names) == sorted(torch_params), (names, list(torch_params))
    for name, p in ours.named_parameters():
        assert_close(p.grad, torch_params[name].grad, f"gradient of {name}")


def torch_inputs(torch, *arrays):
    """float64 leaf tensors that require gradients, one per array."""
    return [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]


def module_db_samples(torch, module_cls):
    """PyTorch's own sample inputs for ``module_cls`` (its ``module_db``), float64, training mode."""
    from torch.testing._internal.common_modules import module_db
    info = next(m for m in module_db if m.module_cls is module_cls)
    return info.module_inputs_func(info, device="cpu", dtype=torch.float64, requires_grad=True, training=True)
