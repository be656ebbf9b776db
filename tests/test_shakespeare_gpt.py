"""examples/shakespeare_gpt.py: the GPT's hand-written backward (tied head included), its options, a short run."""
import hashlib
import math

import numpy as np
import pytest

import mtorch
from mtorch.datasets import CharDataset, TinyShakespeare
from example_scripts import load_example
from torch_parity import assert_close, assert_parameter_grads_match

example = load_example("shakespeare_gpt")

VERSE = ("Shall I compare thee to a summer's day?\nThou art more lovely and more temperate:\n"
         "Rough winds do shake the darling buds of May,\nAnd summer's lease hath all too short a date;\n")


def tiny_gpt(**kwargs):
    return example.GPT(**{"vocab_size": 7, "block_size": 5, "n_layer": 2, "n_head": 2, "n_embd": 8, **kwargs})


def test_head_is_tied_to_the_token_embedding():
    model = tiny_gpt()
    assert model.head.weight is model.wte.weight
    assert len(list(model.parameters())) == len(list(model.named_parameters())) - 1
    assert {"wte.weight", "head.weight", "blocks.1.attn.in_proj_weight", "ln_f.weight"} <= set(model.state_dict())


def test_gradcheck_of_the_whole_model(rng):
    """Every parameter, the tied one holding the sum of both uses, against finite differences."""
    idx = rng.integers(0, 7, (2, 5))
    assert mtorch.gradcheck(tiny_gpt(dropout=0.1, gelu="tanh"), idx, max_entries=40)


@pytest.mark.parametrize("gelu", ["exact", "tanh"])
def test_a_block_is_the_built_in_pre_norm_encoder_layer_with_a_causal_mask(gelu, rng):
    """Block writes out what layers.TransformerEncoderLayer(norm_first=True) computes: the same
    weights give the same output and input gradient."""
    block = example.Block(8, 2, 0.0, gelu).double()
    layer = mtorch.layers.TransformerEncoderLayer(
        8, 2, 32, dropout=0.0, activation=mtorch.layers.GELU(block.gelu.approximate), batch_first=True,
        norm_first=True, bias=False).double()
    block.input_grad = layer.input_grad = True                # called on data, they would return no dL/dx
    names = {"attn": "self_attn", "fc": "linear1", "proj": "linear2", "ln_1": "norm1", "ln_2": "norm2"}
    weights = {key: rng.standard_normal(value.shape) for key, value in block.state_dict().items()}
    block.load_state_dict(weights)
    layer.load_state_dict({names[key.split(".")[0]] + "." + key.split(".", 1)[1]: value
                           for key, value in weights.items()})
    x, g = rng.standard_normal((3, 5, 8)), rng.standard_normal((3, 5, 8))
    assert_close(block(x), layer(x, is_causal=True), "output")
    assert_close(block.backward(g), layer.backward(g), "dL/dx")


def test_matches_the_same_model_in_torch(rng):
    torch = pytest.importorskip("torch")
    from torch import nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1, self.ln_2 = nn.LayerNorm(8, bias=False), nn.LayerNorm(8, bias=False)
            self.attn = nn.MultiheadAttention(8, 2, bias=False, batch_first=True)
            self.fc, self.proj = nn.Linear(8, 32, bias=False), nn.Linear(32, 8, bias=False)

        def forward(self, x):
            h = self.ln_1(x)
            mask = torch.triu(torch.full((x.shape[1], x.shape[1]), -math.inf, dtype=x.dtype), 1)
            x = x + self.attn(h, h, h, attn_mask=mask, need_weights=False)[0]
            return x + self.proj(nn.functional.gelu(self.fc(self.ln_2(x))))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte, self.wpe = nn.Embedding(7, 8), nn.Embedding(5, 8)
            self.blocks = nn.ModuleList([Block(), Block()])
            self.ln_f, self.head = nn.LayerNorm(8, bias=False), nn.Linear(8, 7, bias=False)
            self.head.weight = self.wte.weight

        def forward(self, idx):
            x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
            for block in self.blocks:
                x = block(x)
            return self.head(self.ln_f(x))

    ours, theirs = tiny_gpt().double(), GPT().double()
    for p in ours.parameters():
        p.data[...] = rng.standard_normal(p.shape) * 0.5
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    idx = rng.integers(0, 7, (3, 5))
    g = rng.standard_normal((3, 5, 7))
    y = ours(idx)
    assert ours.backward(g) is None
    yt = theirs(torch.from_numpy(idx))
    (yt * torch.from_numpy(g)).sum().backward()
    assert_close(y, yt, "logits")
    assert_parameter_grads_match(ours, theirs)


def test_learning_rate_warms_up_then_decays_to_a_tenth(tmp_path):
    args = example.parse_args(["--lr", "1e-3", "--warmup", "100", "--iters", "2000", "--out", str(tmp_path)])
    lr = [example.learning_rate(step, args) for step in range(2000)]
    assert lr[0] == pytest.approx(1e-3 / 101) and lr[99] == pytest.approx(1e-3 * 100 / 101)
    assert lr[100] == pytest.approx(1e-3) and lr[-1] == pytest.approx(1e-4, rel=1e-4)
    assert all(a >= b for a, b in zip(lr[100:], lr[101:]))


def test_weight_decay_only_on_matrices():
    model = tiny_gpt()
    decayed, plain = example.make_optimizer(model, 1e-3, 0.1).param_groups
    assert decayed["weight_decay"] == 0.1 and plain["weight_decay"] == 0.0
    assert all(p.data.ndim == 2 for p in decayed["params"]) and all(p.data.ndim == 1 for p in plain["params"])
    assert model.wte.weight in decayed["params"] and model.ln_f.weight in plain["params"]


def test_next_character_loss_is_the_mean_over_every_position(rng):
    logits, targets = rng.standard_normal((3, 5, 7)), rng.integers(0, 7, (3, 5))
    loss = example.NextCharacterLoss()(logits, targets)
    flat = mtorch.loss.CrossEntropyLoss()(logits.reshape(15, 7), targets.reshape(15))
    assert loss.value == pytest.approx(flat.value) and loss.grad.shape == (3, 5, 7)
    np.testing.assert_allclose(loss.grad.reshape(15, 7), flat.grad)


def test_greedy_sampling_follows_the_argmax(rng):
    text = CharDataset("abcdefg" * 3, block_size=4)
    model = tiny_gpt()
    sample = example.generate(model, text, "ab", 6, 1.0, 1, rng)
    ids = list(text.encode("ab"))
    for _ in range(6):
        ids.append(int(np.argmax(model(np.array(ids[-5:])[None])[0, -1])))
    assert sample == text.decode(np.array(ids)) and model.training


@pytest.fixture
def verse_dir(tmp_path, monkeypatch):
    """A short text in place of tiny shakespeare (its checksum set to the file's)."""
    folder = tmp_path / "data" / "tinyshakespeare"
    folder.mkdir(parents=True)
    (folder / "input.txt").write_text(VERSE * 40, encoding="utf-8")
    monkeypatch.setattr(TinyShakespeare, "sha256", hashlib.sha256((folder / "input.txt").read_bytes()).hexdigest())
    return tmp_path / "data"


def test_example_runs_and_learns(verse_dir, tmp_path, capsys):
    loss = example.main(["--n-layer", "2", "--n-head", "2", "--n-embd", "32", "--block-size", "32",
                         "--batch-size", "8", "--iters", "150", "--lr", "3e-3", "--warmup", "10",
                         "--eval-interval", "50", "--eval-batches", "20", "--sample-chars", "40",
                         "--data-dir", str(verse_dir), "--out", str(tmp_path / "runs")])
    assert loss < 1.5                                     # log(vocabulary of 40) = 3.7 for a uniform guess
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1] == f"val loss: {loss:.4f}" and "step 150: train loss" in "\n".join(out)
    for name in ("shakespeare_gpt.npz", "shakespeare_gpt_curves.png", "shakespeare_gpt_attention.png"):
        assert (tmp_path / "runs" / name).stat().st_size > 1000
    saved = mtorch.load(str(tmp_path / "runs" / "shakespeare_gpt.npz"))
    assert "".join(map(chr, saved["chars"])) == "".join(sorted(set(VERSE)))


def test_lstm_option_runs(verse_dir, tmp_path, capsys):
    loss = example.main(["--model", "lstm", "--n-layer", "1", "--n-embd", "16", "--block-size", "16",
                         "--batch-size", "4", "--iters", "20", "--eval-interval", "10", "--eval-batches", "10",
                         "--sample-chars", "0", "--no-plots", "--quiet", "--data-dir", str(verse_dir),
                         "--out", str(tmp_path)])
    assert math.isfinite(loss) and capsys.readouterr().out == f"val loss: {loss:.4f}\n"


@pytest.mark.parametrize("argv, message", [
    (["--n-head", "5"], "--n-embd (128) must be divisible by --n-head (5)"),
    (["--iters", "0"], "argument --iters: must be an int >= 1, got '0'"),
    (["--batch-size", "-2"], "argument --batch-size: must be an int >= 1, got '-2'"),
    (["--dropout", "1"], "argument --dropout: must be a number in [0, 1), got '1'"),
    (["--temperature", "0"], "argument --temperature: must be a number > 0, got '0'"),
    (["--top-k", "0"], "argument --top-k: must be an int >= 1, got '0'"),
    (["--gelu", "fast"], "invalid choice"),
])
def test_bad_options_are_refused(argv, message, capsys, tmp_path):
    with pytest.raises(SystemExit):
        example.parse_args(argv + ["--out", str(tmp_path)])
    assert message in capsys.readouterr().err


def test_missing_text_ends_with_a_message(tmp_path, monkeypatch):
    monkeypatch.setattr(TinyShakespeare, "urls", ((tmp_path / "offline.txt").as_uri(),))
    with pytest.raises(SystemExit, match="tinyshakespeare"):
        example.main(["--data-dir", str(tmp_path), "--out", str(tmp_path / "runs")])
