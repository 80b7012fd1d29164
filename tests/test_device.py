"""Devices and the CUDA-facing namespaces on a CPU-only machine, against torch's CPU build."""
import pytest
import torch

import ember
from oracle import check_raises


@pytest.mark.parametrize("spec", ["cpu", "cuda", "cuda:1", "cpu:0", "meta", "mps"])
def test_device_parsing(spec):
    e, t = ember.device(spec), torch.device(spec)
    assert repr(e) == repr(t) and str(e) == str(t)
    assert (e.type, e.index) == (t.type, t.index)


def test_device_forms_and_equality():
    assert ember.device("cuda", 1) == ember.device("cuda:1")
    assert ember.device("cuda") != ember.device("cuda:0")
    assert ember.device(ember.device("cpu")) == ember.device("cpu")
    assert hash(ember.device("cpu")) == hash(ember.device("cpu"))
    assert ember.device("cpu") != "cpu"
    assert ember.ones(2).device == ember.device("cpu")
    assert ember.ones(2).device.type == torch.ones(2).device.type


@pytest.mark.parametrize("spec", ["foo", "cuda:-1", "cuda:x", "cpu:0:1", ""])
def test_bad_device_strings(spec):
    with pytest.raises(RuntimeError) as e:
        ember.device(spec)
    with pytest.raises(RuntimeError) as t:
        torch.device(spec)
    assert str(e.value) == str(t.value)


def test_cuda_namespace():
    assert ember.cuda.is_available() is torch.cuda.is_available() is False
    assert ember.cuda.device_count() == torch.cuda.device_count() == 0
    for fn in ("manual_seed", "manual_seed_all"):
        getattr(ember.cuda, fn)(0)
    ember.cuda.empty_cache()
    assert ember.cuda.memory_allocated() == 0
    for name in ("current_device", "get_device_name", "synchronize"):
        with pytest.raises(AssertionError, match="not compiled with CUDA"):
            getattr(ember.cuda, name)()
        with pytest.raises(AssertionError):
            getattr(torch.cuda, name)()


def test_to_cuda_raises_like_torch():
    check_raises(lambda t, x: x.cuda(), [(2,)])
    check_raises(lambda t, x: x.to("cuda"), [(2,)])
    check_raises(lambda t, x: x.to(t.device("cuda:0")), [(2,)])
    check_raises(lambda t: t.ones(2, device="cuda"))
    check_raises(lambda t: t.zeros(2, device="cuda:0"))
    assert ember.ones(2).to("cpu").device.type == "cpu"
    assert ember.ones(2).cpu().device.type == "cpu"


def test_backends_and_version():
    for lib in (torch, ember):
        assert lib.backends.cudnn.is_available() is False
        assert lib.backends.mps.is_available() is False
        assert lib.backends.mps.is_built() is False
        assert lib.backends.cuda.is_built() is False
        assert lib.version.cuda is None
    e, t = ember.backends.cudnn, torch.backends.cudnn
    assert (e.enabled, e.benchmark, e.deterministic) == (t.enabled, t.benchmark, t.deterministic)
    ember.backends.cudnn.benchmark = True
    assert ember.backends.cudnn.benchmark is True
    ember.backends.cudnn.benchmark = False
    assert ember.backends.cudnn.version() is None
    assert ember.__version__.startswith("2.13.0")


def test_accelerator():
    for lib in (torch, ember):
        assert lib.accelerator.is_available() is False
        assert lib.accelerator.device_count() == 0
        assert lib.accelerator.current_accelerator() is None


def test_threads():
    n = ember.get_num_threads()
    assert isinstance(n, int) and n >= 1
    ember.set_num_threads(1)
    assert ember.get_num_threads() == 1
    ember.set_num_threads(n)
    with pytest.raises(RuntimeError):
        ember.set_num_threads(0)


def test_openblas_threads_follow_set_num_threads():
    """set_num_threads sets OpenBLAS's count too (one thread for every kernel, as torch)."""
    from ember import _threads
    if _threads.blas_num_threads() is None:
        pytest.skip("NumPy's BLAS is not OpenBLAS")
    n, blas = ember.get_num_threads(), _threads.blas_num_threads()
    try:
        ember.set_num_threads(1)
        assert _threads.blas_num_threads() == 1
        ember.set_num_threads(2)
        assert _threads.blas_num_threads() == 2
    finally:
        ember.set_num_threads(n)
        _threads.set_blas_num_threads(blas)


def test_global_settings_and_small_namespace_functions():
    """Flags scripts set (deterministic algorithms, float32 matmul precision, default device)
    read back as in torch; torch.compile runs the model eagerly (call and decorator forms);
    detach/fill/fill_/zero_/is_inference as functions."""
    import warnings
    for t in (torch, ember):
        assert t.get_float32_matmul_precision() == "highest"
        t.set_float32_matmul_precision("high")
        assert t.get_float32_matmul_precision() == "high"
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            t.set_float32_matmul_precision("bad")
        assert t.get_float32_matmul_precision() == "high" and caught
        t.set_float32_matmul_precision("highest")
        assert not t.are_deterministic_algorithms_enabled()
        t.use_deterministic_algorithms(True, warn_only=True)
        assert t.are_deterministic_algorithms_enabled()
        assert t.is_deterministic_algorithms_warn_only_enabled()
        t.use_deterministic_algorithms(False)
        with pytest.raises(TypeError):
            t.use_deterministic_algorithms("yes")
        assert str(t.get_default_device()) == "cpu"
        x = t.ones(2, requires_grad=True)
        assert t.fill(x.detach(), 3).tolist() == [3.0, 3.0] and not t.detach(x).requires_grad
        y = t.ones(2)
        assert t.zero_(y) is y and y.tolist() == [0.0, 0.0] and not t.is_inference(y)
        assert t.fill_(y, 2) is y and y.tolist() == [2.0, 2.0]
    m = ember.nn.Linear(3, 2)
    compiled = ember.compile(m, mode="max-autotune")
    x = ember.randn(4, 3)
    assert ember.equal(compiled(x), m(x))

    @ember.compile
    def f(v):
        return v * 2

    @ember.compile(fullgraph=True)
    def g(v):
        return v + 1
    assert f(ember.ones(1)).item() == 2 and g(ember.ones(1)).item() == 2
    with pytest.raises(AssertionError):
        ember.set_default_device("cuda")
    ember.set_default_device("cpu")
    ember.set_default_device(None)


def test_cpu_device_module_answers_like_torch():
    for name in ("is_available", "is_initialized", "device_count", "current_device"):
        assert getattr(ember.cpu, name)() == getattr(torch.cpu, name)()
    assert ember.cpu.synchronize() is None and ember.cpu.set_device("cpu") is None
    s = ember.cpu.current_stream()
    assert s is ember.cpu.current_stream() and isinstance(s, ember.cpu.Stream)
    with ember.cpu.stream(ember.cpu.Stream()) as entered:
        assert entered is None
    e = s.record_event()
    assert isinstance(e, ember.cpu.Event) and e.query() is True
    for cls in ("Stream", "Event"):
        public = lambda c: sorted(n for n in dir(c) if not n.startswith("_"))
        assert public(getattr(ember.cpu, cls)) == public(getattr(torch.cpu, cls))


def test_backend_availability_flags():
    # what torch reports without the packages and libraries ember does not use
    assert ember.backends.opt_einsum.is_available() is False
    assert ember.backends.opt_einsum.enabled is False and ember.backends.opt_einsum.strategy is None
    assert ember.backends.mkl.is_available() is False
    if torch.backends.cpu.get_cpu_capability() in ("AVX512", "AVX2", "DEFAULT"):   # x86
        assert ember.backends.cpu.get_cpu_capability() == torch.backends.cpu.get_cpu_capability()
    assert ember.set_flush_denormal(True) is False   # unsupported: no mode change
    assert float(ember.tensor([1e-40]).item()) != 0.0


def test_more_namespace_settings_and_functions():
    """set/get_deterministic_debug_mode (names and numbers, torch's errors), anomaly mode's
    flags, warn_always, device predicates and modules, empty_permuted's layout and errors, and
    the in-place functions detach_/addmv_/index_put_, each as torch answers on a CPU."""
    for t in (torch, ember):
        assert t.get_deterministic_debug_mode() == 0
        t.set_deterministic_debug_mode("warn")
        assert t.get_deterministic_debug_mode() == 1 and t.is_deterministic_algorithms_warn_only_enabled()
        t.set_deterministic_debug_mode(2)
        assert t.get_deterministic_debug_mode() == 2 and t.are_deterministic_algorithms_enabled()
        t.set_deterministic_debug_mode("default")
        assert not t.are_deterministic_algorithms_enabled()
        with pytest.raises(RuntimeError, match="expected one of `default`, `warn`, `error`"):
            t.set_deterministic_debug_mode("loud")
        with pytest.raises(RuntimeError, match="expected 0, 1, or 2, but got 3"):
            t.set_deterministic_debug_mode(3)
        assert not t.is_anomaly_enabled() and t.is_anomaly_check_nan_enabled()
        t.set_anomaly_enabled(True, False)
        assert t.is_anomaly_enabled() and not t.is_anomaly_check_nan_enabled()
        t.set_anomaly_enabled(False)
        with t.autograd.detect_anomaly(check_nan=False):
            assert t.is_anomaly_enabled() and not t.is_anomaly_check_nan_enabled()
        assert not t.is_anomaly_enabled() and t.is_anomaly_check_nan_enabled()
        assert not t.is_warn_always_enabled()
        t.set_warn_always(True)
        assert t.is_warn_always_enabled()
        t.set_warn_always(False)
        x = t.ones(2)
        assert t.get_device(x) == -1 and not t.is_distributed(x) and not t.is_vulkan_available()
        assert t.get_device_module().__name__.endswith(".cpu")
        assert t.get_device_module("cuda").__name__.endswith(".cuda")
        assert t.init_num_threads() is None
        e = t.empty_permuted((2, 3, 4), (2, 0, 1), dtype=t.float64, requires_grad=True)
        assert e.shape == (2, 3, 4) and e.stride() == (3, 1, 6) and e.is_leaf and e.requires_grad
        for size, order, msg in (((2, 3), (0,), "len\\(size\\) = 2 is not equal"),
                                 ((2, 3), (0, 0), "Duplicate dim"),
                                 ((2, 3), (1, 2), "expected to be between 0 and 1, but got 2")):
            with pytest.raises(RuntimeError, match=msg):
                t.empty_permuted(size, order)
        y = t.ones(3, requires_grad=True) * 1
        assert t.detach_(y) is y and not y.requires_grad
        v = t.zeros(2)
        assert t.addmv_(v, t.ones(2, 3), t.ones(3), alpha=2) is v and v.tolist() == [6.0, 6.0]
        assert t.index_put_(v, (t.tensor([1]),), t.tensor(1.0), True) is v
        assert v.tolist() == [6.0, 7.0]


def test_numeric_constants_as_torch():
    import math
    for name in ("e", "pi", "inf"):
        assert type(getattr(ember, name)) is type(getattr(torch, name)) is float
        assert getattr(ember, name) == getattr(torch, name)
    assert math.isnan(ember.nan) and math.isnan(torch.nan) and type(ember.nan) is float
    assert ember.newaxis is torch.newaxis is None
    x = ember.arange(3)
    assert x[:, ember.newaxis].shape == torch.arange(3)[:, torch.newaxis].shape == (3, 1)


@pytest.mark.parametrize("mod", ["xpu", "mps"])
def test_other_accelerator_namespaces_answer_as_torch_without_them(mod):
    """Every function both namespaces have, called as device-selection code calls them:
    the same result, or the same exception type and message."""
    e_mod, t_mod = getattr(ember, mod), getattr(torch, mod)
    calls = {"is_available": (), "device_count": (), "is_initialized": (), "manual_seed": (0,),
             "manual_seed_all": (0,), "seed": (), "seed_all": (), "empty_cache": (),
             "synchronize": (), "current_device": (), "get_device_name": (0,),
             "get_device_properties": (0,), "get_device_capability": (), "set_device": (0,),
             "init": (), "initial_seed": (), "get_rng_state": (), "get_rng_state_all": (),
             "memory_allocated": (), "max_memory_allocated": (), "memory_reserved": (),
             "max_memory_reserved": (), "memory_stats": (), "memory_snapshot": (),
             "get_arch_list": (), "get_gencode_flags": (), "is_bf16_supported": (),
             "is_tf32_supported": (), "current_allocated_memory": (),
             "driver_allocated_memory": (), "recommended_max_memory": (),
             "set_per_process_memory_fraction": (0.5,)}
    tried = 0
    for name, args in calls.items():
        if not hasattr(t_mod, name):
            assert not hasattr(e_mod, name), f"{mod}.{name} is not torch's"
            continue
        tried += 1
        results = []
        for fn in (getattr(t_mod, name), getattr(e_mod, name)):
            try:
                results.append(("ok", fn(*args)))
            except Exception as exc:   # noqa: BLE001 - compared below
                results.append((type(exc), str(exc)))
        assert results[0] == results[1], f"{mod}.{name}: torch {results[0]}, ember {results[1]}"
    assert tried >= (25 if mod == "xpu" else 10)


@pytest.mark.parametrize("dev", ["cuda", "cuda:1", "mps", "xpu", "vulkan", "xla", "lazy"])
@pytest.mark.parametrize("call", [
    lambda t, d: t.empty(2, device=d), lambda t, d: t.zeros(2, 3, device=d),
    lambda t, d: t.rand(2, device=d), lambda t, d: t.ones(2).to(d),
    lambda t, d: t.nn.Linear(2, 2).to(d)])
def test_devices_a_cpu_build_lacks_raise_torchs_error(dev, call):
    got = []
    for lib in (torch, ember):
        with pytest.raises(Exception) as info:
            call(lib, dev)
        got.append((type(info.value), str(info.value).split(" This could be")[0]))
    assert got[0] == got[1]


def test_meta_tensors_are_refused_with_a_reason():
    assert torch.empty(2, device="meta").is_meta    # torch has them; ember holds data always
    for call in (lambda: ember.empty(2, device="meta"), lambda: ember.ones(2).to("meta")):
        with pytest.raises(NotImplementedError, match="no 'meta' device"):
            call()
