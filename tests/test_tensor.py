"""Tensor metadata, conversion to Python/NumPy, creation functions, against torch."""
import pickle
import warnings

import numpy as np
import pytest
import torch

import ember
from oracle import check, check_raises, dtype_name


def pair(fn):
    return fn(torch), fn(ember)


def test_size_type():
    t, e = pair(lambda lib: lib.ones(2, 3).shape)
    assert e == t and isinstance(e, tuple) and isinstance(e, ember.Size)
    assert repr(e) == repr(t).replace("torch.", "ember.")
    assert str(e) == str(t).replace("torch.", "ember.")
    assert e.numel() == t.numel()
    assert isinstance(e[1:], ember.Size) and e[0] == 2
    assert repr(e + (4,)) == "ember.Size([2, 3, 4])"
    assert ember.ones(2, 3).size() == (2, 3) and ember.ones(2, 3).size(-1) == 3
    with pytest.raises(TypeError):
        ember.Size([2.5])


def test_metadata():
    for shape in [(), (0,), (3,), (2, 3, 4)]:
        t, e = torch.zeros(shape), ember.zeros(shape)
        assert e.dim() == t.dim() == e.ndim
        assert e.numel() == t.numel()
        assert e.stride() == t.stride()
        assert e.storage_offset() == t.storage_offset()
        assert e.is_contiguous() == t.is_contiguous()
        assert e.element_size() == t.element_size()
        assert e.nbytes == t.nbytes and e.itemsize == t.itemsize
        assert e.is_floating_point() and not e.is_complex()
        assert e.is_leaf and not e.requires_grad and e.grad_fn is None
        assert e.layout is ember.strided and e.get_device() == -1 and not e.is_cuda
        assert e.type() == t.type() == "torch.FloatTensor"
        for name in ("is_cpu", "is_sparse", "is_sparse_csr", "is_quantized", "is_meta",
                     "is_mkldnn", "is_nested", "is_mps", "is_xpu", "is_ipu", "is_xla",
                     "is_vulkan", "is_mtia", "is_maia"):   # every backend's predicate
            assert getattr(e, name) == getattr(t, name), name
        assert e.is_distributed() == t.is_distributed()
    x = ember.zeros(3, 4)
    assert x.data_ptr() == x.numpy().__array_interface__["data"][0]
    assert x[1].data_ptr() == x.data_ptr() + 16
    assert x.stride(1) == 1 and x.stride(-2) == 4
    check_raises(lambda t, x: x.stride(2), [(3, 4)])
    check_raises(lambda t, x: x.size(-3), [(3, 4)])


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int32", "int64", "float16", "float32",
                                   "float64", "complex64"])
def test_item_tolist(dtype):
    a = (np.arange(6).reshape(2, 3) % 3).astype(dtype)
    t, e = torch.from_numpy(a.copy()), ember.from_numpy(a.copy())
    assert e.tolist() == t.tolist()
    assert type(e[0, 1].item()) is type(t[0, 1].item())
    assert e[0, 1].item() == t[0, 1].item()


def test_scalar_conversions():
    x = ember.tensor(3)
    assert int(x) == 3 and float(x) == 3.0 and bool(x) and complex(x) == 3
    assert [10, 20, 30, 40][ember.tensor(2)] == 30
    assert np.arange(5)[ember.tensor(1)] == 1
    assert "%d %f %.2f" % (ember.tensor(3), ember.tensor(2.5), ember.tensor(1.239)) == \
        "%d %f %.2f" % (torch.tensor(3), torch.tensor(2.5), torch.tensor(1.239))
    assert f"{ember.tensor(1.23456):.3f}" == f"{torch.tensor(1.23456):.3f}" == "1.235"
    assert format(ember.ones(2)) == str(ember.ones(2))
    assert hash(x) == id(x)
    assert len(ember.ones(4, 2)) == 4
    assert [r.tolist() for r in ember.tensor([[1, 2], [3, 4]])] == [[1, 2], [3, 4]]


@pytest.mark.parametrize("fn", [
    lambda t, x: int(x), lambda t, x: float(x), lambda t, x: bool(x),
    lambda t, x: x.__index__(), lambda t, x: x.item(), lambda t, x: format(x, ".2f"),
])
def test_multi_element_conversion_errors(fn):
    t_exc, e_exc = check_raises(fn, [(2,)])
    assert str(e_exc) == str(t_exc)


def test_zero_dim_errors():
    check_raises(lambda t, x: len(x), inputs=[np.array(1.0)])
    check_raises(lambda t, x: iter(x), inputs=[np.array(1.0)])
    check_raises(lambda t, x: x.__index__(), inputs=[np.array(1.5)])


def test_numpy_shares_memory():
    x = ember.zeros(3)
    a = x.numpy()
    a[0] = 5
    assert x[0].item() == 5
    b = np.zeros(4, dtype=np.int32)
    y = ember.from_numpy(b)
    y[1] = 7
    assert b[1] == 7 and y.dtype is ember.int32
    assert np.asarray(y) is b or np.shares_memory(np.asarray(y), b)
    assert np.array(y, dtype=np.float64).dtype == np.float64
    assert np.asarray(y, copy=True) is not b
    with pytest.raises(RuntimeError, match="Use tensor.detach"):
        ember.ones(2, requires_grad=True).numpy()
    with pytest.raises(ValueError):
        ember.from_numpy(np.zeros(4)[::-1])
    with pytest.raises(TypeError):
        ember.from_numpy(np.array(["a"]))


def test_data_attribute():
    x = ember.ones(3, requires_grad=True)
    d = x.data
    assert not d.requires_grad and d.is_leaf
    d[0] = 4
    assert x[0].item() == 4
    assert x._version == 0   # .data does not share the version counter
    x.data = ember.zeros(5)
    assert x.shape == (5,) and x.requires_grad


def test_detach_shares_version():
    x = ember.ones(3, requires_grad=True)
    y = x.detach()
    y.add_(1)
    assert x._version == y._version == 1
    assert x[0].item() == 2


# --- creation -----------------------------------------------------------------------------------

@pytest.mark.parametrize("data", [
    [1, 2, 3], [1.5, 2], [True, False], [True, 2], [[1, 2], [3, 4]], 3, 2.5, True, 1 + 2j,
    [], [[]], [[1.0], [2.0]], np.float64(1.5), np.arange(3, dtype=np.int16), [1j, 2],
])
def test_tensor_dtype_inference(data):
    t, e = torch.tensor(data), ember.tensor(data)
    assert dtype_name(e.dtype) == dtype_name(t.dtype)
    assert e.shape == t.shape
    assert e.tolist() == t.tolist()


@pytest.mark.parametrize("data", [[[1, 2], [3]], [[1, 2], 3], "a", 2 ** 64])
def test_tensor_bad_data(data):
    t_exc, e_exc = check_raises(lambda lib: lib.tensor(data))
    assert str(e_exc) in (str(t_exc), "Overflow when unpacking long long") or \
        type(e_exc) is type(t_exc)


def test_tensor_copies_and_as_tensor_shares():
    a = np.zeros(3, dtype=np.float32)
    e = ember.tensor(a)
    e[0] = 1
    assert a[0] == 0
    s = ember.as_tensor(a)
    s[0] = 2
    assert a[0] == 2
    assert ember.as_tensor(a, dtype=ember.float64).dtype is ember.float64
    x = ember.ones(2)
    assert ember.as_tensor(x) is x
    assert ember.asarray([1, 2]).dtype is ember.int64
    assert ember.asarray(a).data_ptr() == a.__array_interface__["data"][0]
    r = ember.tensor([1.0, 2.0], requires_grad=True)
    assert r.requires_grad and r.is_leaf
    with pytest.raises(RuntimeError, match="floating point"):
        ember.tensor([1, 2], requires_grad=True)


@pytest.mark.parametrize("call", [
    lambda t: t.zeros(2, 3), lambda t: t.zeros((2, 3)), lambda t: t.zeros([2, 3]),
    lambda t: t.ones(2, dtype=t.int32), lambda t: t.full((2, 2), 7),
    lambda t: t.full((2,), True), lambda t: t.full((2,), 1.5), lambda t: t.full((2,), 1.5,
                                                                              dtype=t.float64),
    lambda t: t.zeros(0), lambda t: t.ones(()), lambda t: t.eye(3), lambda t: t.eye(2, 4),
    lambda t: t.eye(3, dtype=t.int64),
    lambda t: t.arange(5), lambda t: t.arange(1, 4), lambda t: t.arange(0, 1, 0.1),
    lambda t: t.arange(0.0, 5), lambda t: t.arange(10, 0, -3), lambda t: t.arange(5, dtype=t.float64),
    lambda t: t.arange(-1.5, 2.25, 0.75), lambda t: t.arange(0, 10, 3, dtype=t.float32),
    lambda t: t.linspace(0, 1, 5), lambda t: t.linspace(-3, 7, 11), lambda t: t.linspace(0, 1, 1),
    lambda t: t.linspace(0, 1, 0), lambda t: t.linspace(0, 10, 7, dtype=t.int64),
    lambda t: t.logspace(0, 2, 3), lambda t: t.logspace(-1, 1, 5, base=2.0),
    lambda t: t.zeros_like(t.ones(2, 3, dtype=t.int16)), lambda t: t.ones_like(t.ones(2)),
    lambda t: t.full_like(t.ones(3), 4), lambda t: t.zeros_like(t.ones(3), dtype=t.bool),
    lambda t: t.ones(3).new_zeros(2), lambda t: t.ones(3, dtype=t.float64).new_ones((2, 2)),
    lambda t: t.ones(2).new_full((3,), 2), lambda t: t.ones(2, dtype=t.int32).new_tensor([1, 2]),
    lambda t: t.ones(2, dtype=t.int32).new_empty(3).shape,
    lambda t: t.FloatTensor([1, 2]), lambda t: t.LongTensor([1, 2]), lambda t: t.ByteTensor([3]),
    lambda t: t.DoubleTensor(2, 3).shape, lambda t: t.Tensor([1, 2]), lambda t: t.Tensor(2, 3).shape,
    lambda t: t.BoolTensor([1, 0]), lambda t: t.IntTensor([[1], [2]]),
])
def test_creation_matches_torch(call):
    check(lambda t: call(t), grad=False)


def test_like_preserves_strides():
    check(lambda t: t.zeros_like(t.ones(3, 4).t()), grad=False, check_stride=True)
    check(lambda t: t.empty(2, 3).stride(), grad=False)


def test_empty_and_requires_grad():
    e = ember.empty(2, 3, dtype=ember.float64, requires_grad=True)
    assert e.shape == (2, 3) and e.dtype is ember.float64 and e.requires_grad


@pytest.mark.parametrize("call", [
    lambda t: t.zeros(-1), lambda t: t.arange(0, 5, -1), lambda t: t.arange(0, 5, 0),
    lambda t: t.eye(-1), lambda t: t.linspace(0, 1, -1),
    lambda t: t.ones(2, dtype=t.int64).requires_grad_(),
])
def test_creation_errors(call):
    check_raises(lambda t: call(t))


def test_legacy_isinstance_and_type_strings():
    assert isinstance(ember.ones(2), ember.FloatTensor)
    assert not isinstance(ember.ones(2), ember.LongTensor)
    x = ember.ones(2)
    assert x.type(ember.float64).dtype is ember.float64
    assert x.type("torch.LongTensor").dtype is ember.int64
    assert x.long().type() == "torch.LongTensor"


@pytest.mark.parametrize("method,dtype", [("float", "float32"), ("double", "float64"),
                                          ("half", "float16"), ("long", "int64"), ("int", "int32"),
                                          ("short", "int16"), ("char", "int8"), ("byte", "uint8"),
                                          ("bool", "bool"), ("bfloat16", "bfloat16")])
def test_conversion_methods(method, dtype):
    check(lambda t, x: getattr(x * 3, method)(), [(4,)])


def test_to_variants():
    x = ember.ones(2)
    assert x.to(ember.float32) is x
    assert x.to("cpu") is x
    assert x.to(x) is x
    assert x.to(ember.float64).dtype is ember.float64
    assert x.to("cpu", ember.int32).dtype is ember.int32
    assert x.to(dtype=ember.int16).dtype is ember.int16
    assert x.to(ember.float32, copy=True) is not x
    assert x.to(ember.zeros(1, dtype=ember.float64)).dtype is ember.float64
    check(lambda t, x: x.to(t.float64) * 2, [(3,)])


def test_pickle_roundtrip():
    x = ember.arange(6).reshape(2, 3)
    y = pickle.loads(pickle.dumps(x))
    assert y.tolist() == x.tolist() and y.dtype is x.dtype


def test_deepcopy():
    import copy
    x = ember.ones(3, requires_grad=True)
    y = copy.deepcopy(x)
    assert y is not x and y.requires_grad and y.data_ptr() != x.data_ptr()
    with pytest.raises(RuntimeError):
        copy.deepcopy(x * 2)


@pytest.mark.parametrize("name", ["hann_window", "hamming_window", "blackman_window",
                                  "bartlett_window", "kaiser_window"])
@pytest.mark.parametrize("n", [0, 1, 2, 7, 16])
@pytest.mark.parametrize("periodic", [True, False])
def test_window_functions(name, n, periodic):
    check(lambda t: getattr(t, name)(n, periodic), grad=False, rtol=1e-5, atol=1e-6)
    check(lambda t: getattr(t, name)(n, periodic, dtype=t.float64), grad=False)


def test_window_errors():
    check_raises(lambda t: t.hann_window(-1))
    check_raises(lambda t: t.hann_window(4, dtype=t.int64))


def test_inplace_view_methods():
    for lib in (torch, ember):
        x = lib.zeros(2, 3)
        assert x.t_().shape == (3, 2) and x.swapaxes_(0, 1).shape == (2, 3)
        assert x.unsqueeze_(0).shape == (1, 2, 3) and x.squeeze_().shape == (2, 3)


def test_legacy_new_constructor():
    """Tensor.new: empty, a shape (ints or Size), data (list or tuple), or an alias of a
    same-dtype tensor; torch's TypeErrors for a bare number, a float in the size, or another
    dtype."""
    results = []
    for t in (torch, ember):
        x = t.zeros(2, dtype=t.float64)
        o = t.tensor([1.5, 2.5], dtype=t.float64)
        alias = x.new(o)
        results.append((repr(x.new()), tuple(x.new(2, 3).shape), tuple(x.new(t.Size([4])).shape),
                        repr(x.new([[1, 2], [3, 4]])), repr(x.new((1, 2))),
                        tuple(x.new(0).shape), alias.data_ptr() == o.data_ptr(),
                        t.tensor([1.0], requires_grad=True).new([1.0]).requires_grad))
    assert results[1][0] == results[0][0].replace("torch", "ember")
    assert results[1][1:3] == results[0][1:3] and results[1][5:] == results[0][5:]
    assert results[1][3:5] == tuple(r.replace("torch", "ember") for r in results[0][3:5])
    for bad in (lambda t: t.zeros(2).new(2.5), lambda t: t.zeros(2).new(2, 3.5),
                lambda t: t.zeros(2).new(t.tensor([1, 2]))):
        check_raises(bad)


def test_apply_and_map_():
    results = []
    for t in (torch, ember):
        x = t.tensor([1.0, 2.0, 3.0])
        r1 = x.apply_(lambda v: v * 2)
        y = t.tensor([[1, 2], [3, 4]])
        y.map_(t.tensor([10, 20]), lambda a, b: a * 10 + b)
        i = t.tensor([1, 3]).apply_(lambda v: v / 2)          # cast back to int64
        base = t.zeros(4)
        base[1:3].apply_(lambda v: 5.0)                       # writes through a view
        results.append((r1 is x, x.tolist(), y.tolist(), i.tolist(), base.tolist()))
    assert results[0] == results[1]
    check_raises(lambda t: t.tensor([1.0], requires_grad=True).apply_(lambda v: v))
    check_raises(lambda t: t.tensor([1.0]).map_(t.tensor([1]), lambda a, b: a))


def test_post_accumulate_grad_hook_and_output_nr():
    """The hook sees the leaf after its .grad is accumulated (also when .grad already
    existed); a handle removes it; non-leaves and tensors without grad are rejected."""
    seen = {}
    for t in (torch, ember):
        w = t.tensor([1.0, 2.0], requires_grad=True)
        log = []
        h = w.register_post_accumulate_grad_hook(lambda p: log.append(p.grad.tolist()))
        (w * 3).sum().backward()
        (w * w).sum().backward()
        h.remove()
        w.sum().backward()
        class Two(t.autograd.Function):   # a node with two outputs
            @staticmethod
            def forward(ctx, v):
                return v * 2, v * 3

            @staticmethod
            def backward(ctx, ga, gb):
                return ga * 2 + gb * 3
        a, b = Two.apply(t.ones(3, requires_grad=True))
        seen[t.__name__] = (log, w.grad.tolist(), a.output_nr, b.output_nr, w.output_nr)
        for bad in (lambda: (w * 2).register_post_accumulate_grad_hook(print),
                    lambda: t.ones(2).register_post_accumulate_grad_hook(print)):
            with pytest.raises(RuntimeError):
                bad()
    assert seen["torch"] == seen["ember"]


def test_tensor_infers_dtype_from_numpy_scalars_in_sequences():
    """torch.tensor on a list holding NumPy scalars: each keeps its dtype and the elements'
    types promote ([np.int16(3)] is int16, [1, np.int16(3)] int64, [np.uint8, np.int8]
    int16); Python numbers alone keep torch's defaults."""
    for data in ([np.int16(3)], [np.float64(1.5)], [np.float32(1.5), 2], [np.int32(1), 2.5],
                 [np.bool_(True)], [np.float16(1)], [[np.int8(1)], [np.int8(2)]],
                 [1, np.int16(3)], [np.uint8(3), np.int8(-1)], [np.complex64(1j)], [1, 2.5],
                 [True, 1], [1.5, 2j]):
        assert dtype_name(ember.tensor(data).dtype) == dtype_name(torch.tensor(data).dtype)


def test_size_repetition_and_parameter_format():
    for t in (torch, ember):
        s = t.Size([2, 3])
        assert type(s * 2).__name__ == type(2 * s).__name__ == "Size"
        assert tuple(s * 2) == (2, 3, 2, 3)
    outs = []
    for t in (torch, ember):
        p = t.nn.Parameter(t.tensor(1.5))
        with pytest.raises(TypeError) as e:
            f"{p:.2f}"
        outs.append((f"{p}".replace("torch", "ember"), str(e.value), f"{t.tensor(1.5):.2f}"))
    assert outs[1] == outs[0]


def test_as_subclass():
    """as_subclass gives an instance of the subclass over the same memory and version, on the
    graph through AliasBackward0 (a leaf's alias is not a leaf); other classes are an error."""
    for lib in (torch, ember):
        class Marked(lib.Tensor):
            pass
        x = lib.ones(2, requires_grad=True)
        y = x.as_subclass(Marked)
        assert type(y) is Marked and y.requires_grad and not y.is_leaf
        assert y.grad_fn.name() == "AliasBackward0"
        assert [type(f).__name__ for f, _ in y.grad_fn.next_functions] == ["AccumulateGrad"]
        (y * lib.tensor([3.0, 4.0])).sum().backward()
        assert x.grad.tolist() == [3.0, 4.0]
        plain = lib.ones(2)
        z = plain.as_subclass(Marked)
        assert z.grad_fn is None and not z.requires_grad and z.data_ptr() == plain.data_ptr()
        z.add_(1)
        assert plain.tolist() == [2.0, 2.0] and plain._version == z._version == 1
        with pytest.raises(TypeError, match="does not inherit from Tensor"):
            plain.as_subclass(int)


def test_storage_type_and_volatile():
    for dt in ("float32", "float64", "int64", "bool", "complex64"):
        t, e = torch.ones(2, dtype=getattr(torch, dt)), ember.ones(2, dtype=getattr(ember, dt))
        with warnings.catch_warnings():   # (torch warns once per process)
            warnings.simplefilter("ignore")
            t_cls = t.storage_type()
        with pytest.warns(UserWarning, match="TypedStorage is deprecated"):
            e_cls = e.storage_type()
        assert e_cls.__name__ == t_cls.__name__ and e_cls is getattr(ember, t_cls.__name__)
    with pytest.warns(UserWarning, match="volatile was removed"):
        assert ember.ones(2).volatile is False


def test_dlpack_both_ways():
    """DLPack: torch and NumPy read ember tensors without a copy and ember reads theirs (an
    object with __dlpack__, or a capsule, consumed once); strides and dtypes carry over; a
    tensor that requires grad is refused as torch refuses it."""
    e = ember.arange(6.0).reshape(2, 3)
    t = torch.from_dlpack(e)
    t[0, 0] = 50
    assert e[0, 0].item() == 50 and t.dtype == torch.float32
    source = torch.arange(12, dtype=torch.int64).reshape(3, 4)[:, 1:]
    back = ember.from_dlpack(source)
    back[1, 1] = -1
    assert source[1, 1].item() == -1 and back.stride() == source.stride()
    assert back.dtype == ember.int64
    capsule = torch.utils.dlpack.to_dlpack(torch.ones(3, dtype=torch.bool))
    assert ember.from_dlpack(capsule).tolist() == [True, True, True]
    for lib, used in ((torch, torch.utils.dlpack.to_dlpack(torch.ones(2))),
                      (ember, ember.to_dlpack(ember.ones(2)))):
        lib.from_dlpack(used)
        with pytest.raises(RuntimeError, match="capsules can be consumed only once"):
            lib.from_dlpack(used)
    arr = np.from_dlpack(e)
    arr[1, 2] = 7
    assert e[1, 2].item() == 7
    assert tuple(e.__dlpack_device__()) == tuple(torch.ones(1).__dlpack_device__()) == (1, 0)
    for lib in (torch, ember):
        with pytest.raises(BufferError, match="require gradient"):
            lib.ones(2, requires_grad=True).__dlpack__()
