"""Layer: the base class of every mtorch layer, container and model."""
import contextlib
import copy
import functools
import weakref

import numpy as np

from ..errors import GradientError
from ..parameter import Parameter
from .checks import InputChecks
from .hooks import Hooks
from .registry import Registry
from .state import State

_produced = {}          # id -> weak reference, for the outputs of the latest top-level layer calls
_REMEMBERED = 256


def _remember(out):
    """Note that a layer call returned ``out`` (kept for the latest few hundred calls)."""
    _produced[id(out)] = weakref.ref(out)
    if len(_produced) > _REMEMBERED:
        del _produced[next(iter(_produced))]


def _was_produced(x):
    """Whether ``x`` is an array some recent layer call returned (not data)."""
    ref = _produced.get(id(x)) if isinstance(x, np.ndarray) else None
    return ref is not None and ref() is x


class Layer(Registry, Hooks, InputChecks, State):
    """Base class of all layers: a function with a hand-written derivative.

    Subclasses implement ``forward`` and ``backward``::

        y = layer(x)                 # forward(x): computes y, caches what backward needs
        dx = layer.backward(dy)      # dy = dL/dy: adds dL/dparam to each p.grad, returns dL/dx
        layer.step(lr)               # p -= lr * p.grad, then clears p.grad

    Parameters and sub-layers assigned as attributes register themselves, in
    the order they were assigned, exactly as in PyTorch::

        class Scale(Layer):
            def __init__(self, n):
                super().__init__()
                self.gamma = Parameter(np.ones(n))     # registered as "gamma"

            def forward(self, x):
                self.x = x                             # cache for backward
                return x * self.gamma.data

            def backward(self, grad_out):
                self.gamma.add_grad((grad_out * self.x).sum(axis=0))
                return grad_out * self.gamma.data

    **The gradient rule.** ``backward`` *adds* each parameter's gradient
    (``p.add_grad(g)``), so a Parameter used in several places ends the pass
    holding the sum. Gradients are cleared when they are used:
    ``optimizer.step()`` and ``layer.step(lr)`` apply them and then set
    ``p.grad`` to None; ``zero_grad()`` clears them without a step. So the
    loop ``loss.backward(); optimizer.step()`` needs no ``zero_grad()``, and
    several ``backward`` calls before one ``step`` accumulate (scale each
    loss by ``1/k`` for the mean over k micro-batches: ``(loss / k).backward()``).

    **Several inputs.** ``forward(a, b)`` may take several arrays; ``backward``
    then returns a tuple with one gradient per input, None for an input that
    needs none (integer indices, masks). A single-input layer returns an array.

    **One cache per instance.** A layer keeps what its last call cached, so an
    instance called twice in one forward pass cannot backpropagate the first
    call: ``backward`` raises ``GradientError`` then. For a second use of the
    same weights, call a second instance that shares them: ``layer.share()``.

    **Data needs no gradient.** ``layer.backward`` returns dL/d(input), but a
    model (``Module``) called on data - an array no layer produced - computes
    none and returns None, as PyTorch does for a tensor that does not require
    a gradient; its first Linear or Conv then skips a third of its backward.
    ``input_grad`` overrides: True always computes dL/d(input) (saliency
    maps), False never does.

    **NaN and inf propagate silently**, as in PyTorch: ``layer(x)`` and
    ``layer.backward(g)`` run with numpy's floating-point warnings off, so an
    infinite input gives inf or NaN outputs (``inf - inf``), never a RuntimeWarning.

    Calling ``layer(x)`` runs ``forward`` and then the forward hooks;
    calling ``layer.backward(g)`` runs the subclass's ``backward`` and then
    the backward hooks. Call sub-layers as ``self.sub(x)`` and
    ``self.sub.backward(g)``, never ``self.sub.forward(x)``.

    Attributes:
        training (bool): True in training mode (``train()``), False after ``eval()``.
        input_grad (bool or None): None (default): automatic, as above; True or False: always or never.
        needs_input_grad (bool): set on every call: whether this backward must return dL/d(input).
            Layers whose dL/dx is a costly product (Linear, Conv2d) skip it when False.
        batch_independent (bool): class attribute; True when each sample's output
            depends on that sample alone. A layer that mixes the batch in training
            mode (BatchNorm) sets it False; ``mtorch.testing.check_layer`` reads it.
        reentrant (bool): class attribute; True for a layer meant to be called several
            times per forward pass (an RNN cell in a time loop) that keeps one cache per
            call and is backpropagated once per call, last call first.
        parameter_constraints (dict): optional class attribute, e.g. ``{"tau": "positive"}``:
            the range a parameter must stay in when ``check_layer``/``gradcheck`` move the
            parameters to random values (see ``mtorch.testing.randomize``).
    """

    batch_independent = True
    reentrant = False               # True: the layer keeps one cache per call itself (an RNN cell in a loop)
    needs_input_grad = True
    input_grad = None
    _skips_data_grad = False        # Module sets True: a model called on data computes no dL/d(data)
    _depth = 0                      # how many layer calls are running (0: the user's own call)
    _passes = 0                     # counts the user's top-level calls: one forward pass each

    def __init__(self):
        Registry.__init__(self)
        Hooks.__init__(self)
        self.training = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "backward" in cls.__dict__:
            cls.backward = _with_hooks(cls.__dict__["backward"])

    # ---------------------------------------------------------------- the contract
    def forward(self, *inputs):
        """Compute the output for the input(s) and cache what ``backward`` needs."""
        raise NotImplementedError(f"{type(self).__name__} must implement forward(x)")

    def backward(self, grad_out):
        """Given dL/d(output): add dL/d(param) to each ``Parameter.grad``; return dL/d(input)."""
        raise NotImplementedError(f"{type(self).__name__} must implement backward(grad_out)")

    def __call__(self, *inputs, **kwargs):
        top = Layer._depth == 0
        if top:
            Layer._passes += 1
        state = self.__dict__              # bookkeeping written directly: this runs on every call
        state["_uses"] = state["_uses"] + 1 if state.get("_pass") == Layer._passes else 1
        state["_pass"] = Layer._passes
        state["needs_input_grad"] = self._wants_input_grad(inputs, top)
        Layer._depth += 1
        try:
            with _silent_numerics(top):
                out = self.forward(*inputs, **kwargs)
        finally:
            Layer._depth -= 1
        if self._forward_hooks:
            out = self._run_forward_hooks(inputs[0] if len(inputs) == 1 else inputs, out)
        if top and isinstance(out, np.ndarray):
            _remember(out)
        return out

    def _wants_input_grad(self, inputs, top):
        if self.input_grad is not None:
            return bool(self.input_grad)
        if top and self._skips_data_grad:
            return any(_was_produced(x) for x in inputs)
        return True

    # ------------------------------------------------------------------ training
    def step(self, lr):
        """Plain gradient descent: ``p.data -= lr * p.grad`` for every parameter with a
        gradient, then clear the gradients (they have been used)."""
        with np.errstate(all="ignore"):          # NaN and inf propagate silently, as in PyTorch
            for p in self.parameters():
                if p.grad is not None:
                    p.data -= lr * p.grad
                    p.grad = None

    def zero_grad(self):
        """Clear every gradient (``p.grad = None``) without a step."""
        for p in self.parameters():
            p.grad = None

    def train(self, mode=True):
        """Set training mode (dropout active, batch statistics) here and below; returns self."""
        for _, layer in self.named_layers():
            object.__setattr__(layer, "training", bool(mode))
        return self

    def eval(self):
        """Set evaluation mode; same as ``train(False)``."""
        return self.train(False)

    def share(self):
        """A new instance of this layer that uses the same Parameters (and has its own caches).

        Call it on a second input where one set of weights is used twice (a
        siamese encoder): each instance caches its own call, and both add
        their gradients to the shared Parameters. Buffers are copied.
        """
        memo = {id(p): p for p in self.parameters()}
        twin = copy.deepcopy(self, memo)
        twin.remove_hooks()
        return twin

    def summary(self, input_shape=None, x=None, file=None):
        """Print a table of layers, output shapes and parameter counts; returns the total.

        ``input_shape`` is a whole input's shape including the batch, e.g.
        ``(1, 784)`` (a list of shapes for several inputs); or pass example
        input(s) as ``x`` (needed for integer inputs). The input is run
        through in eval mode, which is restored afterwards.
        """
        from .summary import summary
        return summary(self, input_shape, x, file)

    # -------------------------------------------------------------------- display
    def extra_repr(self):
        """The constructor arguments shown by ``repr``; override in subclasses."""
        return ""

    def _short_repr(self):
        return f"{type(self).__name__}({self.extra_repr()})"

    def __repr__(self):
        if not self._layers:
            return self._short_repr()
        lines = [f"{type(self).__name__}("]
        for name, layer in self._layers.items():
            child = repr(layer).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child}" if name else f"  {child}")
        return "\n".join(lines + [")"])


def _silent_numerics(top):
    """numpy's floating-point warnings off for the user's own call (``top``), which covers every
    nested call: NaN and inf propagate silently, as in PyTorch (``inf - inf`` is NaN, no warning)."""
    return np.errstate(all="ignore") if top else contextlib.nullcontext()


def _with_hooks(backward):
    """Wrap a subclass's ``backward``: refuse a second use, run it, apply ``needs_input_grad``,
    then the backward hooks. A ``super().backward(...)`` call inside it runs plainly."""

    @functools.wraps(backward)
    def run(self, grad_out, *args, **kwargs):
        state = self.__dict__
        if state.get("_in_backward"):
            return backward(self, grad_out, *args, **kwargs)
        if state.get("_uses", 1) > 1 and not self.reentrant:
            raise GradientError(
                f"{self._short_repr()} was called {self._uses} times in one forward pass, but a layer "
                f"keeps only its last call's cache, so backward would be wrong for the earlier calls. "
                f"Use one instance per call; to use the same weights twice, call layer.share() for "
                f"the second use")
        state["_in_backward"] = True
        Parameter._backward_depth += 1
        try:
            with _silent_numerics(Parameter._backward_depth == 1):
                grad_in = backward(self, grad_out, *args, **kwargs)
        finally:
            Parameter._backward_depth -= 1
            state["_in_backward"] = False
        if not self.needs_input_grad:
            grad_in = None
        if self._backward_hooks:
            grad_in = self._run_backward_hooks(grad_in, grad_out)
        return grad_in

    return run
