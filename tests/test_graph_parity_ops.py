"""bilinear, multilabel_margin_loss and embedding_bag record torch's graph: one node each
(TrilinearBackward0 under torch's reshapes and bias add, MultilabelMarginLossBackward0,
EmbeddingBagBackward0 with its weight and per_sample_weights edges), node for node, with
values and gradients compared by `check` in float32 and float64; their gradients
differentiate again where torch's do (bilinear) and raise torch's error where torch's do
not; float16/bfloat16 embedding bags bit for bit (half_oracle); torch's argument checks."""
import numpy as np
import pytest
import torch

import ember
from half_oracle import HALF_DTYPES, compare
from oracle import check, check_raises, same_message
from test_graph_names import check_double_backward, check_graph


def F(t):
    return t.nn.functional


def idx(t, a):
    return t.tensor(np.asarray(a))


def edges(node):
    return [None if f is None else type(f).__name__ for f, _ in node.next_functions]


# ------------------------------------------------------------------------------------ bilinear

BILINEAR = {
    "no bias": (lambda t, x, w: F(t).bilinear(x, x[:, :3], w), [(3, 4), (2, 4, 3)]),
    "bias": (lambda t, x, w, b: F(t).bilinear(x, x[:, :3], w, b), [(3, 4), (2, 4, 3), (2,)]),
    "input2 fixed": (lambda t, x, w, b: F(t).bilinear(x, x[:, :3].detach(), w, b),
                     [(3, 4), (2, 4, 3), (2,)]),
    "inputs fixed": (lambda t, x, w, b: F(t).bilinear(x.detach(), x[:, :3].detach(), w, b),
                     [(3, 4), (2, 4, 3), (2,)]),
    "bias only": (lambda t, x, w, b: F(t).bilinear(x.detach(), x.detach(), w.detach(), b),
                  [(3, 4), (2, 4, 4), (2,)]),
    "3-D": (lambda t, x, y, w, b: F(t).bilinear(x, y, w, b),
            [(2, 3, 4), (2, 3, 5), (6, 4, 5), (6,)]),
    "3-D copied": (lambda t, x, y, w, b: F(t).bilinear(x.transpose(0, 1), y.transpose(0, 1),
                                                       w, b),
                   [(3, 2, 4), (3, 2, 5), (6, 4, 5), (6,)]),
    "1-D": (lambda t, x, y, w, b: F(t).bilinear(x, y, w, b), [(4,), (5,), (6, 4, 5), (6,)]),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(BILINEAR))
def test_bilinear_graph(name, dtype):
    fn, shapes = BILINEAR[name]
    _, e_out = check_graph(fn, shapes, dtype)
    nodes, queue = [], [e_out.grad_fn]
    while queue:
        node = queue.pop()
        nodes.append(node)
        queue.extend(f for f, _ in node.next_functions if f is not None)
    names = [(n.name(), type(n).__name__) for n in nodes]
    assert names.count(("TrilinearBackward0",) * 2) == (name != "bias only")


def test_bilinear_empty_batch_and_ints():
    check(lambda t, x, y, w, b: F(t).bilinear(x, y, w, b), [(0, 4), (0, 5), (6, 4, 5), (6,)])
    check(lambda t, x, y, w: F(t).bilinear(x, y, w), [(3, 4), (3, 5), (2, 4, 5)], "int64")


@pytest.mark.parametrize("upstream", [False, True])
def test_bilinear_double_backward(upstream):
    check_double_backward(lambda t, x, y, w, b: F(t).bilinear(x, y, w, b),
                          [(2, 3, 4), (2, 3, 5), (6, 4, 5), (6,)], upstream=upstream)


@pytest.mark.parametrize("call,shapes,dtypes", [
    (lambda t, x, y, w: F(t).bilinear(x.double(), y, w), [(3, 4), (3, 5), (2, 4, 5)], None),
    (lambda t, x, y, w, b: F(t).bilinear(x, y, w, b.double()),
     [(3, 4), (3, 5), (2, 4, 5), (2,)], None),
    (lambda t, x, y, w: F(t).bilinear(x, y[:2], w), [(3, 4), (3, 5), (2, 4, 5)], None),
    (lambda t, x, y, w: F(t).bilinear(x, y[0], w), [(3, 4), (3, 5), (2, 4, 5)], None),
    (lambda t, x, y, w: F(t).bilinear(x, y, w), [(3, 4), (3, 5), (2, 5, 4)], None),
    (lambda t, x, y, w: F(t).bilinear(x, y, w[:, :, :2]), [(3, 4), (3, 5), (2, 4, 5)], None),
    (lambda t, x, y, w, b: F(t).bilinear(x, y, w, b[:1]), [(3, 4), (3, 5), (2, 4, 5), (2,)],
     None),
    (lambda t, x, y, w: F(t).bilinear(x, y, w[..., None]), [(3, 4), (3, 5), (2, 4, 5)], None),
    (lambda t, x, y, w: F(t).bilinear(x, y, w[0, 0]), [(3, 4), (3, 5), (2, 4, 5)], None),
    (lambda t, x, y, w: F(t).bilinear(x, y, w), [(3, 4), (3, 5), (2, 4, 5)], "bool"),
])
def test_bilinear_errors(call, shapes, dtypes):
    t_exc, e_exc = check_raises(call, shapes, dtypes or "float32")
    assert same_message(t_exc, e_exc), (str(t_exc), str(e_exc))


# ------------------------------------------------------------------------ multilabel_margin_loss

TARGETS = {
    "first -1": [[1, -1, 0, 0], [0, 2, -1, 0], [3, -1, 0, 0]],
    "repeats": [[1, 1, 2, 2], [0, 2, -1, 0], [3, 3, 3, -1]],
    "all classes": [[0, 1, 2, 3], [-1, 2, 1, 0], [2, 0, -1, 3]],
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("target", list(TARGETS))
def test_multilabel_margin_loss_graph(target, reduction, dtype):
    y = np.array(TARGETS[target])
    x = np.random.default_rng(1).standard_normal((3, 4)).astype(dtype)
    for fn in (lambda t, x, y: F(t).multilabel_margin_loss(x, y, reduction=reduction),
               lambda t, x, y: F(t).multilabel_margin_loss(x[1], y[1], reduction=reduction)):
        _, e_out = check_graph(fn, inputs=[x, y], expect="MultilabelMarginLossBackward0")
        assert e_out.grad_fn.name() == "MultilabelMarginLossBackward0"


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_multilabel_margin_loss_edges(reduction):
    """0-d input, an empty batch (torch's mean of nothing is 0), large margins."""
    check(lambda t, x, y: F(t).multilabel_margin_loss(x[0, 0], y, reduction=reduction),
          [(2, 3)], inputs=[np.random.default_rng(0).standard_normal((2, 3)), np.array(0)])
    check(lambda t, x, y: F(t).multilabel_margin_loss(x[:0], y, reduction=reduction),
          inputs=[np.ones((2, 4)), np.zeros((0, 4), np.int64)])
    check(lambda t, x, y: F(t).multilabel_margin_loss(x * 10, y, reduction=reduction),
          inputs=[np.random.default_rng(2).standard_normal((5, 6)),
                  np.random.default_rng(3).integers(-1, 6, (5, 6))])


@pytest.mark.parametrize("reduction", ["none", "sum"])
def test_multilabel_margin_loss_double_backward_raises(reduction):
    """torch's gradient is a NotImplemented node (edges: the upstream gradient when it
    requires grad, the input) whose backward raises."""
    y = TARGETS["first -1"]
    seen = []
    for lib in (torch, ember):
        x = lib.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
        out = F(lib).multilabel_margin_loss(x, idx(lib, y), reduction=reduction)
        u = lib.ones(tuple(out.shape), dtype=out.dtype, requires_grad=True)
        (g,) = lib.autograd.grad(out, x, u, create_graph=True)
        with pytest.raises(RuntimeError) as info:
            lib.autograd.grad(g.sum(), x)
        seen.append((g.grad_fn.name(), type(g.grad_fn).__name__, edges(g.grad_fn),
                     str(info.value)))
    assert seen[0] == seen[1]
    assert seen[1][3] == "derivative for aten::multilabel_margin_loss_backward is not implemented"


# ------------------------------------------------------------------------------- embedding_bag

IDX = [1, 2, 4, 5, 4, 3, 2, 9, 0, 0, 7, 7, 2, 2]
OFFSETS = [0, 3, 3, 8, 12]


def _bag_cases():
    for mode in ("sum", "mean", "max"):
        for pad in (None, 2, -1):
            for last in (False, True):
                for freq in ((False, True) if mode != "max" else (False,)):
                    yield pytest.param(mode, pad, last, freq,
                                       id=f"{mode}-pad{pad}-last{last}-freq{freq}")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mode,pad,last,freq", list(_bag_cases()))
def test_embedding_bag_graph(mode, pad, last, freq, dtype):
    """(include_last_offset with the last offset at the input's length: torch's backward
    treats indices past a shorter last offset inconsistently with its forward)"""
    kw = dict(mode=mode, padding_idx=pad, scale_grad_by_freq=freq)
    off = OFFSETS + [len(IDX)] if last else OFFSETS
    rows = np.array(IDX[:12]).reshape(3, 4)
    check_graph(lambda t, w: F(t).embedding_bag(idx(t, IDX), w, idx(t, off),
                                                include_last_offset=last, **kw),
                [(10, 3)], dtype, expect="EmbeddingBagBackward0")
    check_graph(lambda t, w: F(t).embedding_bag(idx(t, rows), w, **kw), [(10, 3)], dtype)
    if mode != "sum":
        return
    check_graph(lambda t, w, p: F(t).embedding_bag(idx(t, IDX), w, idx(t, off),
                                                   include_last_offset=last,
                                                   per_sample_weights=p, **kw),
                [(10, 3), (14,)], dtype)
    check_graph(lambda t, w, p: F(t).embedding_bag(idx(t, IDX), w.detach(), idx(t, off),
                                                   include_last_offset=last,
                                                   per_sample_weights=p, **kw),
                [(10, 3), (14,)], dtype)
    check_graph(lambda t, w, p: F(t).embedding_bag(idx(t, rows), w, per_sample_weights=p.view(
        3, 4), **kw), [(10, 3), (12,)], dtype)   # (torch flattens the weights: ViewBackward0)


def test_embedding_bag_max_ties_and_empty_bags():
    check_graph(lambda t, w: F(t).embedding_bag(idx(t, [10, 0, 11, 1, 0, 10]),
                                                t.cat([w, w[:2]]), idx(t, [0, 3]), mode="max"),
                [(10, 3)], "float64")
    for mode in ("sum", "mean", "max"):
        check(lambda t, w: F(t).embedding_bag(idx(t, [1, 2]), w, idx(t, [0, 0, 2, 2]),
                                              mode=mode), [(10, 3)])
        check(lambda t, w: F(t).embedding_bag(idx(t, [2, 2]), w, idx(t, [0, 1]), mode=mode,
                                              padding_idx=2), [(10, 3)])
    check(lambda t, w: F(t).embedding_bag(idx(t, [1, 2]), w, idx(t, np.zeros(0, np.int64))),
          [(10, 3)], grad=False)   # (torch's backward of no bags crashes)


def test_embedding_bag_scale_grad_by_freq_divisors():
    """torch divides the k-th smallest distinct index's gradient by the count of the k-th
    sorted index (its own count only while the smaller indices occur once each)."""
    for ids in ([0, 2, 2, 2, 4], [6, 3, 3, 1, 1, 1, 5, 5, 5, 5], [3, 1, 1, 5, 5, 5, 5]):
        for mode in ("sum", "mean"):
            check(lambda t, w: F(t).embedding_bag(idx(t, ids), w, idx(t, [0, 2]), mode=mode,
                                                  scale_grad_by_freq=True), [(8, 2)], "float64")


def test_embedding_bag_max_norm_renorms_padding_rows():
    def fn(t, w):
        w = w * 3
        F(t).embedding_bag(idx(t, [0, 2, 2, 4, 2]), w, idx(t, [0, 3]), max_norm=1.0,
                           padding_idx=4)
        return w
    check(fn, [(5, 3)], "float64", grad=False)


def test_embedding_bag_double_backward():
    """The weight's gradient is EmbeddingBagBackwardBackward0 (edges: the upstream gradient,
    per_sample_weights), the weights' a NotImplemented node; neither differentiates again."""
    seen = []
    for lib in (torch, ember):
        w = lib.tensor(np.random.default_rng(0).standard_normal((5, 3)), requires_grad=True)
        p = lib.tensor(np.random.default_rng(1).standard_normal(5), requires_grad=True)
        i, off = idx(lib, [0, 2, 1, 4, 2]), idx(lib, [0, 2])
        got = []
        for mode, psw in (("sum", None), ("mean", None), ("max", None), ("sum", p)):
            out = F(lib).embedding_bag(i, w, off, mode=mode, per_sample_weights=psw)
            u = lib.ones(tuple(out.shape), dtype=out.dtype, requires_grad=True)
            grads = lib.autograd.grad(out, [w] if psw is None else [w, psw], u,
                                      create_graph=True)
            for g in grads:
                try:
                    lib.autograd.grad(g.sum(), u)
                    err = None
                except (RuntimeError, NotImplementedError) as exc:
                    err = (type(exc).__name__, str(exc))
                got.append((g.grad_fn.name(), type(g.grad_fn).__name__, edges(g.grad_fn), err))
        seen.append(got)
    assert seen[0] == seen[1]


@pytest.mark.parametrize("dtype", HALF_DTYPES)
@pytest.mark.parametrize("mode,pad,freq,psw", [
    ("sum", None, False, False), ("sum", 2, True, True), ("mean", None, True, False),
    ("mean", 2, False, False), ("max", None, False, False), ("max", 2, False, False),
    ("sum", None, False, True)])
def test_embedding_bag_half(mode, pad, freq, psw, dtype):
    ids = [1, 2, 4, 5, 4, 3, 2, 19, 0, 0, 7, 7]
    rng = np.random.default_rng(0)
    w = (rng.standard_normal((20, 8)) * 3).astype(np.float32)
    p = (rng.standard_normal(12) * 3).astype(np.float32)
    kw = dict(mode=mode, padding_idx=pad, scale_grad_by_freq=freq)
    if psw:
        compare(lambda t, w, p: F(t).embedding_bag(t.tensor(ids), w, t.tensor([0, 3, 3, 8]),
                                                   per_sample_weights=p, **kw),
                dtype, [w, p], grad=True)
    else:
        compare(lambda t, w: F(t).embedding_bag(t.tensor(ids), w, t.tensor([0, 3, 3, 8]), **kw),
                dtype, [w], grad=True)


BAG_ERRORS = [
    lambda t, w: F(t).embedding_bag(idx(t, [0, 2, 1]), w, idx(t, [0]),
                                    per_sample_weights=t.ones(2)),
    lambda t, w: F(t).embedding_bag(idx(t, [0, 2]), w[0], idx(t, [0])),
    lambda t, w: F(t).embedding_bag(idx(t, [0, 2]), w, idx(t, [[0]])),
    lambda t, w: F(t).embedding_bag(idx(t, [0, 2]), w, idx(t, [0]), mode="max",
                                    scale_grad_by_freq=True),
    lambda t, w: F(t).embedding_bag(idx(t, [0, 2]), w, idx(t, [0]), mode="max", sparse=True),
    lambda t, w: F(t).embedding_bag(idx(t, [0, 2]), w, idx(t, [0]), padding_idx=9),
    lambda t, w: F(t).embedding_bag(idx(t, [0, 2]), w, idx(t, [0]), padding_idx=-6),
    lambda t, w: F(t).embedding_bag(idx(t, [0.0, 2.0]), w, idx(t, [0])),
    lambda t, w: F(t).embedding_bag(idx(t, [0, 2]), w.double().long(), idx(t, [0])),
    lambda t, w: F(t).embedding_bag(idx(t, [0, 2]), w, idx(t, [0]),
                                    per_sample_weights=t.ones(2, dtype=t.float64)),
    lambda t, w: F(t).embedding_bag(idx(t, [0, 2]), w, idx(t, [1])),
    lambda t, w: F(t).embedding_bag(idx(t, [0, 2]), w, idx(t, [0, 5])),
    lambda t, w: F(t).embedding_bag(idx(t, [0, 2]), w, idx(t, np.zeros(0, np.int64)),
                                    include_last_offset=True),
    lambda t, w: F(t).embedding_bag(idx(t, [0, 9]), w, idx(t, [0]), padding_idx=1),
    lambda t, w: F(t).embedding_bag(idx(t, np.zeros((2, 0), np.int64)), w, mode="max"),
]


@pytest.mark.parametrize("k", range(len(BAG_ERRORS)))
def test_embedding_bag_errors(k):
    t_exc, e_exc = check_raises(BAG_ERRORS[k], [(5, 3)])
    assert same_message(t_exc, e_exc), (str(t_exc), str(e_exc))
