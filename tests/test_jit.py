"""ember.jit behaves as torch.jit with the JIT disabled (PYTORCH_JIT=0): script/trace give back
what they were given, compiler decorators leave functions alone, is_scripting() is False, fork
returns a finished Future. Model code written for TorchScript runs unchanged and gives torch's
numbers."""
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import ember


def _model(t):
    class Block(t.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = t.nn.Linear(3, 4)

        @t.jit.ignore
        def debug(self, x):
            return x.sum()

        @t.jit.unused
        def unused_path(self, x):
            raise RuntimeError("not for scripting")

        def forward(self, x):
            y = self.lin(x)
            if not t.jit.is_scripting() and not t.jit.is_tracing():
                y = y * 2          # the eager-only branch, taken in both libraries
            buf = t.jit.annotate(list, [])
            buf.append(y)
            return buf[0]
    return Block()


def test_script_and_trace_return_what_they_got_and_compute_torchs_numbers():
    x = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    tm, em = _model(torch), _model(ember)
    em.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    es = ember.jit.script(em)
    assert es is em and ember.jit.trace(em, ember.tensor(x)) is em
    assert ember.jit.trace_module(em, {"forward": ember.tensor(x)}) is em
    np.testing.assert_allclose(es(ember.tensor(x)).detach().numpy(),
                               tm(torch.tensor(x)).detach().numpy(), rtol=1e-6)
    assert float(em.debug(ember.ones(3))) == 3.0
    f = lambda v: v + 1   # noqa: E731
    assert ember.jit.script(f) is f and ember.jit.script_if_tracing(f) is f
    assert not isinstance(es, ember.jit.ScriptModule)


def test_matches_torch_with_the_jit_disabled():
    """The same questions asked of torch in a PYTORCH_JIT=0 process get the same answers."""
    code = ("import torch, torch.nn as nn; m = nn.Linear(2, 2); f = lambda x: x\n"
            "print(torch.jit.script(m) is m, torch.jit.trace(m, torch.ones(1, 2)) is m, "
            "torch.jit.script(f) is f, torch.jit.is_scripting(), torch.jit.is_tracing())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=dict(os.environ, PYTORCH_JIT="0"), check=True).stdout.split()
    m = ember.nn.Linear(2, 2)
    f = lambda x: x   # noqa: E731
    mine = [ember.jit.script(m) is m, ember.jit.trace(m, ember.ones(1, 2)) is m,
            ember.jit.script(f) is f, ember.jit.is_scripting(), ember.jit.is_tracing()]
    assert out == [str(v) for v in mine]


def test_decorators_with_and_without_arguments():
    def g(x):
        return x * 3
    for lib in (torch, ember):
        assert lib.jit.ignore(g)(2) == 6 and lib.jit.ignore(drop=True)(g)(2) == 6
        assert lib.jit.unused(g)(1) == 3 and lib.jit.export(g)(1) == 3
        assert lib.jit.annotate(int, 5) == 5
    assert ember.jit.Final[int] == torch.jit.Final[int]


def test_fork_wait_and_future_chaining():
    for lib in (torch, ember):
        fut = lib.jit.fork(lambda a, b: a + b, 2, b=3)
        assert fut.done() and lib.jit.wait(fut) == 5 and fut.value() == 5
        assert fut.then(lambda f: f.value() * 10).wait() == 50
    bad = ember.jit.fork(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        bad.wait()
    for fut in (ember.jit.Future(), torch.futures.Future()):
        fut.set_result(7)
        with pytest.raises(RuntimeError, match="only be marked completed once"):
            fut.set_result(8)


@pytest.mark.parametrize("name", ["save", "load", "freeze", "optimize_for_inference"])
def test_what_needs_a_compiled_program_says_so(name):
    with pytest.raises(NotImplementedError, match="TorchScript"):
        getattr(ember.jit, name)(ember.nn.Linear(2, 2), "/tmp/x.pt")


@pytest.mark.parametrize("call", [
    lambda t: t.jit.script(t.nn.Linear(2, 2)),
    lambda t: t.jit.trace(lambda x: x, t.ones(1)),
    lambda t: t.jit.trace_module(t.nn.Linear(2, 2), {"forward": t.ones(1, 2)}),
    lambda t: t.jit.fork(lambda: 1),
])
def test_deprecation_warnings_as_torch(call):
    texts = []
    for lib in (torch, ember):
        with pytest.warns(DeprecationWarning) as rec:
            call(lib)
        texts.append({str(w.message) for w in rec if w.category is DeprecationWarning})
    assert texts[0] == texts[1]
