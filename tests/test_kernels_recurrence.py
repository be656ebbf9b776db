"""mtorch.kernels.recurrence against the plain math each function replaces."""
import copy

import numpy as np

from mtorch.kernels.recurrence import Workspace, stacked_inputs, stacked_weights, summed_over_steps


def test_one_product_per_step_is_the_plain_affine_map(rng):
    steps, n_in, hidden, batch = 5, 3, 4, 6
    x = rng.standard_normal((steps, batch, n_in))              # rows, as a user passes them
    h_prev = rng.standard_normal((steps, batch, hidden))
    w_ih, w_hh = rng.standard_normal((2 * hidden, n_in)), rng.standard_normal((2 * hidden, hidden))
    b = rng.standard_normal(2 * hidden)
    z = stacked_inputs(Workspace(), x.transpose(0, 2, 1), h_prev[0].T)
    z[1:steps, n_in + 1:] = h_prev[1:].transpose(0, 2, 1)        # what the time loop writes
    W = stacked_weights(w_ih, b, w_hh)
    for t in range(steps):
        plain = x[t] @ w_ih.T + b + h_prev[t] @ w_hh.T           # a_t for every sample, as rows
        np.testing.assert_allclose((W @ z[t]).T, plain, rtol=1e-12)
    assert z.shape == (steps + 1, n_in + 1 + hidden, batch)


def test_summed_over_steps_is_the_sum_of_per_step_products(rng):
    da, z = rng.standard_normal((7, 8, 5)), rng.standard_normal((7, 3, 5))
    plain = sum(da[t] @ z[t].T for t in range(7))
    workspace = Workspace()
    np.testing.assert_allclose(summed_over_steps(da, z, workspace), plain, rtol=1e-12)
    again = summed_over_steps(da[:4], z[:4], workspace)              # buffers reused for a shorter sequence
    np.testing.assert_allclose(again, sum(da[t] @ z[t].T for t in range(4)), rtol=1e-12)


def test_workspace_reuses_memory_and_copies_fresh():
    workspace = Workspace()
    a = workspace.get("a", (3, 4), np.float32)
    assert a.shape == (3, 4) and a.dtype == np.float32 and a.flags.c_contiguous
    assert np.shares_memory(a, workspace.get("a", (3, 4), np.float32))
    assert np.shares_memory(a, workspace.get("a", (2, 5), np.float32))       # smaller: same memory
    assert not np.shares_memory(a, workspace.get("a", (4, 4), np.float32))   # larger: new memory
    assert workspace.get("a", (2, 2), np.float64).dtype == np.float64
    assert not np.shares_memory(workspace.get("b", (3, 4), np.float32), workspace.get("a", (3, 4), np.float32))
    twin = copy.deepcopy(workspace)
    assert not np.shares_memory(twin.get("a", (2, 2), np.float64), workspace.get("a", (2, 2), np.float64))


def test_columns_and_rows_are_transposes(rng):
    from mtorch.kernels.recurrence import columns, rows
    x = rng.standard_normal((4, 3, 2))                       # (T, N, F)
    c = columns(x)
    assert c.shape == (4, 2, 3) and np.shares_memory(c, x)
    for t in range(4):
        np.testing.assert_array_equal(c[t], x[t].T)             # x_t as columns
    back = rows(c)
    np.testing.assert_array_equal(back, x)
    assert back.flags.c_contiguous and not np.shares_memory(back, x)
    np.testing.assert_array_equal(rows(c, batch_first=True), x.swapaxes(0, 1))
