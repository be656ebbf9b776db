"""mtorch.plot: recorders built on hooks collect the right numbers; figures are drawn and saved."""

import numpy as np
import pytest

from mtorch import Module, Sequential, layers, plot


def _model():
    return Module(Sequential([layers.Linear(6, 5), layers.ReLU(), layers.Linear(5, 3)])).double()


def test_activation_recorder_keeps_each_layers_last_output(rng):
    model = _model()
    x = rng.standard_normal((4, 6))
    with plot.ActivationRecorder(model) as recorder:
        model(rng.standard_normal((2, 6)))
        out = model(x)
    assert list(recorder.activations) == ["0 Linear", "1 ReLU", "2 Linear"]
    np.testing.assert_allclose(recorder.activations["2 Linear"], out.reshape(-1), rtol=1e-6)
    hidden = model.sequential[0](x)
    np.testing.assert_allclose(recorder.activations["1 ReLU"], np.maximum(hidden, 0).reshape(-1), rtol=1e-6)
    model(x)
    assert all(len(layer._forward_hooks) == 0 for _, layer in model.named_layers())


def test_activation_recorder_samples_large_outputs(rng):
    model = _model()
    recorder = plot.ActivationRecorder(model, max_values=7)
    model(rng.standard_normal((10, 6)))
    assert all(v.size == 7 for v in recorder.activations.values())


def test_gradient_flow_recorder_norms_match_the_gradients(rng):
    model = _model()
    recorder = plot.GradientFlowRecorder(model, every=2)
    for _ in range(5):
        model.zero_grad()
        model(rng.standard_normal((4, 6)))
        g = rng.standard_normal((4, 3))
        assert model.backward(g) is None                                  # the input is data
    assert recorder.steps == [1, 3, 5]
    assert set(recorder.param_norms) == {"0 Linear", "2 Linear"}
    assert set(recorder.input_norms) == {"1 ReLU", "2 Linear"}          # the data's gradient is skipped
    assert all(len(v) == 3 for v in recorder.input_norms.values())
    first = model.sequential[0]
    expected = np.sqrt(np.sum(first.weight.grad ** 2) + np.sum(first.bias.grad ** 2))
    assert recorder.param_norms["0 Linear"][-1] == pytest.approx(expected)
    expected = np.linalg.norm(g @ model.sequential[2].weight.data)
    assert recorder.input_norms["2 Linear"][-1] == pytest.approx(expected)
    recorder.remove()
    model(rng.standard_normal((4, 6)))
    model.backward(rng.standard_normal((4, 3)))
    assert recorder.steps == [1, 3, 5]


def test_figures_are_returned_and_saved(tmp_path, rng):
    model = _model()
    acts, flow = plot.ActivationRecorder(model), plot.GradientFlowRecorder(model)
    for _ in range(3):
        model(rng.standard_normal((4, 6)))
        model.backward(rng.standard_normal((4, 3)))
    figures = {
        "acts.png": plot.plot_activation_histograms(acts, tmp_path / "acts.png"),
        "flow.png": plot.plot_gradient_flow(flow, tmp_path / "flow.png"),
        "curves.png": plot.plot_training_curves({"loss": {"train": [1, 0.5], "test": [1.1, 0.7]},
                                                 "accuracy": [0.5, 0.8]}, tmp_path / "curves.png"),
        "sub/grid.png": plot.plot_image_grid(rng.random((5, 1, 4, 4)), labels=[1, 2, 3, 4, 5],
                                             predictions=[1, 2, 0, 4, 5], path=tmp_path / "sub" / "grid.png"),
    }
    assert len(figures["acts.png"].axes) >= 3 and len(figures["flow.png"].axes) == 2
    titles = [ax.get_title() for ax in figures["sub/grid.png"].axes if ax.get_visible()]
    assert "0\n(true 3)" in titles
    for name in figures:
        assert (tmp_path / name).stat().st_size > 1000


def test_image_grid_accepts_the_usual_layouts():
    for shape in [(3, 16), (3, 4, 4), (3, 1, 4, 4), (3, 3, 4, 4), (3, 4, 4, 3)]:
        assert plot.plot_image_grid(np.zeros(shape)) is not None
    with pytest.raises(ValueError, match="square images"):
        plot.plot_image_grid(np.zeros((3, 15)))


def test_empty_recordings_say_what_to_do():
    model = _model()
    with pytest.raises(ValueError, match="run a forward pass"):
        plot.plot_activation_histograms(plot.ActivationRecorder(model))
    with pytest.raises(ValueError, match="run a backward pass"):
        plot.plot_gradient_flow(plot.GradientFlowRecorder(model))


def test_confusion_matrix_counts_true_against_predicted(tmp_path):
    labels = np.array([0, 0, 1, 2, 2, 2])
    predictions = np.array([0, 1, 1, 2, 0, 2])
    fig = plot.plot_confusion_matrix(labels, predictions, ["a", "b", "c"], tmp_path / "sub" / "cm.png")
    assert (tmp_path / "sub" / "cm.png").is_file()
    ax = fig.axes[0]
    counts = {(round(t.get_position()[1]), round(t.get_position()[0])): int(t.get_text()) for t in ax.texts}
    assert counts == {(0, 0): 1, (0, 1): 1, (1, 1): 1, (2, 2): 2, (2, 0): 1}
    assert ax.get_title() == "confusion matrix: 4 of 6 right"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert plot.plot_confusion_matrix(labels, predictions).axes[0].get_xticklabels()[2].get_text() == "2"
