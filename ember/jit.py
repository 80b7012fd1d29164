"""`ember.jit`: TorchScript's Python API as torch runs it with the JIT disabled
(`PYTORCH_JIT=0`, torch's documented debugging mode).

ember always executes eagerly, so `script` and `trace` hand back the function or module they
were given - it computes exactly what the scripted or traced version would - and the
decorators that steer the compiler (`ignore`, `unused`, `export`, `interface`) leave their
function as it is. `is_scripting()` and `is_tracing()` are False, so model code that branches on
them takes its eager path, as in torch. `fork` runs its function at once and returns a
finished `Future`. What needs a compiled program - saving or loading a TorchScript archive,
freezing, the graph of a scripted function - raises NotImplementedError; save a model's
`state_dict()` with `ember.save` instead.
"""
import typing
import warnings

__all__ = ["script", "trace", "trace_module", "script_if_tracing", "is_scripting", "is_tracing",
           "annotate", "ignore", "unused", "export", "interface", "Final", "fork", "wait",
           "Future", "ScriptModule", "ScriptFunction", "save", "load", "freeze",
           "optimize_for_inference"]

Final = typing.Final


def _deprecated(what, instead="switch to `torch.compile` or `torch.export`"):
    """torch 2.13's DeprecationWarning for the TorchScript entry points, in torch's words."""
    warnings.warn(f"`torch.jit.{what}` is deprecated. Please {instead}.", DeprecationWarning,
                  stacklevel=3)


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """`obj` itself: a function, nn.Module or class runs eagerly with the same results."""
    _deprecated("script")
    return obj


def trace(func, example_inputs=None, optimize=None, check_trace=True, check_inputs=None,
          check_tolerance=1e-5, strict=True, _force_outplace=False, _module_class=None,
          _compilation_unit=None, example_kwarg_inputs=None, _store_inputs=True):
    """`func` itself (a function or module): eager execution needs no recorded trace."""
    _deprecated("trace")
    return func


def trace_module(mod, inputs, optimize=None, check_trace=True, check_inputs=None,
                 check_tolerance=1e-5, strict=True, _force_outplace=False, _module_class=None,
                 _compilation_unit=None, example_inputs_is_kwarg=False, _store_inputs=True):
    _deprecated("trace_method")
    return mod


def is_scripting():
    """False: ember never compiles, so code guarded by `not is_scripting()` always runs."""
    return False


def is_tracing():
    return False


def annotate(the_type, the_value):
    """The value: the type only tells the TorchScript compiler what an empty container holds."""
    return the_value


def ignore(drop=False, **kwargs):
    """@ignore or @ignore(drop=True): the function, unchanged."""
    if callable(drop):
        return drop
    return lambda fn: fn


def _unchanged(obj):
    """What a compiler-steering decorator gives back in eager mode: its argument."""
    return obj


unused = export = interface = script_if_tracing = _unchanged


class Future:
    """A value that is ready: `fork` computes it at once. `wait()`/`value()` give it (or raise
    what the function raised); `then(callback)` chains another finished Future."""

    def __init__(self, *, devices=None):
        self._done = False
        self._value = self._error = None
        self._callbacks = []

    def done(self):
        return self._done

    def set_result(self, result):
        self._complete(result, None)

    def set_exception(self, result):
        self._complete(None, result)

    def _complete(self, value, error):
        if self._done:
            raise RuntimeError("Future can only be marked completed once.")
        self._value, self._error, self._done = value, error, True
        self._run_callbacks()

    def wait(self):
        if not self._done:
            raise RuntimeError("ember's Futures complete when they are made: this one was "
                               "never given a result")
        if self._error is not None:
            raise self._error
        return self._value

    value = wait

    def then(self, callback):
        nxt = Future()

        def run(fut):
            try:
                nxt.set_result(callback(fut))
            except Exception as exc:   # the callback's error belongs to the chained Future
                nxt.set_exception(exc)
        self.add_done_callback(run)
        return nxt

    def add_done_callback(self, callback):
        self._callbacks.append(callback)
        if self._done:
            self._run_callbacks()

    def _run_callbacks(self):
        callbacks, self._callbacks = self._callbacks, []
        for cb in callbacks:
            cb(self)


def fork(func, *args, **kwargs):
    """A finished Future holding func(*args, **kwargs) (or its exception)."""
    _deprecated("fork", "use `torch.compile` instead")
    fut = Future()
    try:
        fut.set_result(func(*args, **kwargs))
    except Exception as exc:
        fut.set_exception(exc)
    return fut


def wait(future):
    _deprecated("wait", "use `torch.compile` instead")
    return future.wait()


class ScriptModule:
    """Nothing is ever scripted in ember: `isinstance(m, ember.jit.ScriptModule)` is False."""


class ScriptFunction:
    """See ScriptModule."""


def _needs_compiler(what):
    def fn(*args, **kwargs):
        raise NotImplementedError(f"ember.jit.{what}: ember runs eagerly and has no TorchScript "
                                  f"compiler; save the model's state_dict() with ember.save")
    fn.__name__ = what
    return fn


save = _needs_compiler("save")
load = _needs_compiler("load")
freeze = _needs_compiler("freeze")
optimize_for_inference = _needs_compiler("optimize_for_inference")
