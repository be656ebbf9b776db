"""The autoencoder and GAN examples: an epoch on fake data, the GAN's chain of gradients, bad command lines."""
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import mtorch
from mtorch import Sequential, layers
from mtorch.loss import BCEWithLogitsLoss
from mtorch.utils import save_checkpoint

from example_scripts import EXAMPLES, load_example, run_script


@pytest.fixture
def example(monkeypatch):
    """``example(name)`` imports ``examples/<name>.py``, with ``examples/`` on the path for the
    ``MNIST_recognition`` helpers it imports."""
    monkeypatch.syspath_prepend(str(EXAMPLES))
    return load_example


def test_autoencoder_trains_an_epoch_and_writes_its_files(example, fake_mnist, tmp_path, capsys):
    autoencoder = example("autoencoder")
    out = tmp_path / "runs"
    mse = autoencoder.main(["--data-dir", str(fake_mnist), "--out", str(out), "--epochs", "1", "--batch-size", "16"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == f"test mse: {mse:.5f}" and 0 < mse < 1
    assert sorted(p.name for p in out.iterdir()) == ["autoencoder.npz", "autoencoder_curves.png",
                                                     "autoencoder_reconstructions.png"]
    saved = mtorch.load(str(out / "autoencoder.npz"))
    assert saved["epoch"] == 1 and list(saved["model"]) == list(autoencoder.ConvAutoencoder().state_dict())


def test_gan_trains_and_is_judged(example, fake_mnist, tmp_path, capsys):
    """Two epochs on 64 fake images; the judge (an untrained DigitCNN here) classifies 1,000 samples
    and the last line says how sure it was."""
    gan = example("gan")
    judge = save_checkpoint(str(tmp_path / "judge.npz"), example("MNIST_recognition").DigitCNN())
    out = tmp_path / "runs"
    result = gan.main(["--data-dir", str(fake_mnist), "--out", str(out), "--epochs", "2", "--batch-size", "16",
                       "--judge", judge, "--no-plots"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line[:11] for line in lines if line.startswith("epoch")] == ["epoch  1/2:", "epoch  2/2:"]
    assert lines[-1] == (f"judge: mean top-class probability {result['judge_confidence']:.3f}, "
                         f"{result['judge_classes']} of 10 digits")
    assert 0.1 <= result["judge_confidence"] <= 1 and 1 <= result["judge_classes"] <= 10
    assert lines[-3].startswith("the judge on 64 real test digits: mean top-class probability 0.")
    assert sum(int(part.split(": ")[1]) for part in lines[-2].split(":", 1)[1].split(", ")) == 1000
    saved = mtorch.load(str(out / "gan.npz"))
    assert saved["epoch"] == 2 and os.listdir(out) == ["gan.npz"]
    assert list(saved["model"]) == list(gan.Generator().state_dict())
    assert list(saved["discriminator"]) == list(gan.Discriminator().state_dict())


def test_gan_quiet_prints_the_losses_only_and_saves_a_grid_per_epoch(example, fake_mnist, tmp_path, capsys):
    result = example("gan").main(["--data-dir", str(fake_mnist), "--out", str(tmp_path / "runs"), "--epochs", "1",
                                  "--batch-size", "32", "--quiet"])
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == (f"last epoch: discriminator loss {result['discriminator_loss']:.4f}, "
                                                   f"generator loss {result['generator_loss']:.4f}\n")
    assert sorted(os.listdir(tmp_path / "runs")) == ["gan.npz", "gan_curves.png", "gan_epoch_1.png"]


def test_a_judge_of_another_model_stops_the_gan_before_training(example, tmp_path):
    mnist = example("MNIST_recognition")
    mlp = save_checkpoint(str(tmp_path / "mlp.npz"), mnist.DigitModule())
    with pytest.raises(SystemExit, match=r"^error: --judge .*mlp.npz: .*MNIST_recognition.py --model cnn"):
        example("gan").main(["--data-dir", str(tmp_path / "no-data"), "--out", str(tmp_path), "--judge", mlp])
    assert not (tmp_path / "no-data").exists()


# --------------------------------------------------------------- the chain
class RecordingOptimizer:
    """Stands in for an optimizer: ``step`` records each gradient and clears it, changing no weight,
    so the losses a step used can be recomputed afterwards from the same weights."""

    def __init__(self, module):
        self.module, self.steps = module, []

    def zero_grad(self):
        self.module.zero_grad()

    def step(self):
        self.steps.append({name: p.grad.copy() for name, p in self.module.named_parameters()})
        self.module.zero_grad()


def central_differences(loss, module, eps=1e-6):
    """d loss()/d p for every entry of every parameter of ``module``, by central differences."""
    grads = {}
    for name, p in module.named_parameters():
        grads[name] = np.zeros_like(p.data)
        for index in np.ndindex(p.data.shape):
            old = p.data[index]
            p.data[index] = old + eps
            up = loss()
            p.data[index] = old - eps
            grads[name][index] = (up - loss()) / (2 * eps)
            p.data[index] = old
    return grads


def test_the_generator_learns_through_the_discriminator_whose_stale_gradients_are_cleared(example, rng):
    """Two calls of ``train_step`` on small smooth networks in float64, with optimizers that only record
    the gradients they are given. The generator's are those of its loss -log sigmoid(D(G(z))), through the
    discriminator; the discriminator's, in the second call, are those of its own loss alone, although the
    first call's generator step had added to them."""
    gan = example("gan")
    generator = mtorch.Module(Sequential([layers.Linear(3, 5), layers.Tanh(), layers.Linear(5, 4)])).double()
    discriminator = mtorch.Module(Sequential([layers.Linear(4, 6), layers.Tanh(), layers.Linear(6, 1)])).double()
    loss_func = BCEWithLogitsLoss(backward_func=discriminator.backward)
    g_optimizer, d_optimizer = RecordingOptimizer(generator), RecordingOptimizer(discriminator)
    real, z = rng.standard_normal((8, 4)), rng.standard_normal((8, 3))

    gan.train_step(generator, discriminator, g_optimizer, d_optimizer, loss_func, real, z)
    assert all(p.grad is not None and np.any(p.grad != 0)              # the generator's step left some
               for p in discriminator.parameters())
    gan.train_step(generator, discriminator, g_optimizer, d_optimizer, loss_func, real, z)

    bce, ones, zeros = BCEWithLogitsLoss(), np.ones((8, 1)), np.zeros((8, 1))
    expected = {"generator": central_differences(lambda: bce(discriminator(generator(z)), ones).value, generator),
                "discriminator": central_differences(lambda: bce(discriminator(real), ones).value
                                                     + bce(discriminator(generator(z)), zeros).value, discriminator)}
    for network, optimizer in (("generator", g_optimizer), ("discriminator", d_optimizer)):
        for name, grad in expected[network].items():
            np.testing.assert_allclose(optimizer.steps[1][name], grad, rtol=1e-6, atol=1e-9, err_msg=network + name)


def test_the_discriminator_returns_a_gradient_for_the_generators_images_and_none_for_data(example):
    gan = example("gan")
    generator, discriminator = gan.Generator(latent=4), gan.Discriminator()
    loss_func = BCEWithLogitsLoss(backward_func=discriminator.backward)
    fake = generator(np.ones((2, 4), np.float32))
    grad_fake = loss_func(discriminator(fake), np.ones((2, 1), np.float32)).backward()
    assert grad_fake.shape == fake.shape and np.any(grad_fake != 0)
    assert loss_func(discriminator(np.zeros((2, 28, 28), np.float32)), np.ones((2, 1))).backward() is None


# ----------------------------------------------------------- command lines
BAD = [(["--epochs", "0"], "argument --epochs: must be an int >= 1, got '0'"),
       (["--batch-size", "-2"], "argument --batch-size: must be an int >= 1, got '-2'"),
       (["--lr", "0"], "argument --lr: must be a number > 0, got '0'"),
       (["--lr", "inf"], "argument --lr: must be a number > 0, got 'inf'"),
       (["--latent", "0"], "argument --latent: must be an int >= 1, got '0'"),
       (["--seed", "-1"], "argument --seed: must be an int >= 0, got '-1'")]


@pytest.mark.parametrize("script", ["autoencoder", "gan"])
def test_bad_arguments_give_a_one_line_usage_error(script, example, tmp_path, capsys):
    (tmp_path / "file").write_text("")
    cases = BAD + [(["--out", str(tmp_path / "file" / "runs")], "is not a folder"),
                   (["--color"], "unrecognized arguments: --color")]
    if script == "gan":
        cases.append((["--judge", str(tmp_path / "none.npz")], "argument --judge: no file"))
    main = example(script).main
    for args, message in cases:
        with pytest.raises(SystemExit) as exit_info:
            main(["--data-dir", str(tmp_path / "no-data")] + args)
        captured = capsys.readouterr()
        assert exit_info.value.code == 2 and captured.out == ""
        lines = captured.err.strip().splitlines()
        assert lines[0].startswith("usage: ") and "error: " in lines[-1] and message in lines[-1], (args, lines)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]       # nothing read or made


def test_help_of_the_scripts_as_run_from_a_shell():
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda s: run_script([str(EXAMPLES / s), "--help"]), ["autoencoder.py", "gan.py"]))
    for script, result in zip(["autoencoder.py", "gan.py"], results):
        assert result.returncode == 0 and result.stdout.startswith(f"usage: {script} ") and result.stderr == ""
        assert "--quiet" in result.stdout and "--no-plots" in result.stdout
    assert "--judge PATH" in results[1].stdout
