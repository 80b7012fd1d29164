"""The whole autograd graph torch builds, node for node, for ops that torch records either as one
node of its own (cdist, dist, affine_grid, multi_margin_loss) or as a composite of Tensor ops
(local_response_norm, quantile, kron, tensordot, unbatched 1-D max pooling): the graph is walked
breadth-first from the output's grad_fn in both libraries and compared by node names and edges.
Every case also compares values, dtypes and gradients (random upstream gradients) through
`check`, and the new single nodes their double backward (against torch, or against a torch
composite of the same math where torch's node has no derivative of its own)."""
import math

import numpy as np
import pytest
import torch

import ember
from oracle import assert_close, check, check_raises, make_array, to_ember, to_numpy, to_torch


def graph(out):
    """Breadth-first from out.grad_fn, each node once: (node name, its next functions' names,
    None for an input that needs no gradient)."""
    seen, queue, nodes = set(), [out.grad_fn], []
    while queue:
        node = queue.pop(0)
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        nxt = [None if f is None else type(f).__name__ for f, _ in node.next_functions]
        nodes.append((type(node).__name__, nxt))
        queue.extend(f for f, _ in node.next_functions)
    return nodes


def check_graph(fn, shapes=(), dtypes="float64", *, inputs=None, expect=None, **kw):
    """check() (values, dtypes, gradients), then the same graph as torch's under the first
    output; `expect`: the top node torch is meant to show (guards the case's premise)."""
    t_out, e_out = check(fn, shapes, dtypes, inputs=inputs, **kw)
    t, e = (t_out[0], e_out[0]) if isinstance(t_out, tuple) else (t_out, e_out)
    tg, eg = graph(t), graph(e)
    assert len(tg) > 1, "torch recorded no graph: a vacuous case"
    assert eg == tg, f"\nember {eg}\ntorch {tg}"
    if expect is not None:
        assert tg[0][0] == expect, f"torch now records {tg[0][0]}"
    assert f"grad_fn=<{tg[0][0]}>" in repr(e)
    return t_out, e_out


def check_double_backward(fn, shapes, *, ref=None, upstream=False, seed=0):
    """Gradients of <grad(<fn(xs), u>, xs), v> for xs (and u, with upstream=True: the way to
    reach the second order of ops linear in their input) in both libraries; torch runs `ref`
    where given (the same math as a composite, for nodes torch cannot differentiate twice)."""
    rng = np.random.default_rng(seed)
    arrays = [make_array(s, "float64", rng) for s in shapes]
    results = []
    for lib, conv, f in ((torch, to_torch, ref or fn), (ember, to_ember, fn)):
        xs = [conv(a, True) for a in arrays]
        out = f(lib, *xs)
        r = np.random.default_rng(seed + 1)
        u = conv(make_array(tuple(out.shape), "float64", r), upstream)
        grads = lib.autograd.grad(out, xs, u, create_graph=True, allow_unused=True)
        total = sum((g * conv(make_array(tuple(g.shape), "float64", r))).sum()
                    for g in grads if g is not None)
        results.append(lib.autograd.grad(total, ([u] if upstream else []) + xs,
                                         allow_unused=True))
    checked = 0
    for i, (gt, ge) in enumerate(zip(*results)):
        if gt is None or ge is None:
            other = ge if gt is None else gt
            assert other is None or not np.any(to_numpy(other)), f"second grad {i}"
            continue
        assert_close(gt, ge, what=f"second grad {i}")
        checked += bool(np.any(to_numpy(gt)))
    assert checked, "no non-zero second-order gradient: a vacuous case"


# ------------------------------------------------------------------------ local_response_norm

def _lrn(size, **kw):
    return lambda t, x: t.nn.functional.local_response_norm(x, size, **kw)


@pytest.mark.parametrize("shape", [(2, 5, 3), (2, 5, 3, 3), (2, 5, 3, 2, 2), (2, 4, 3, 2, 2, 2),
                                   (1, 1, 4)])
@pytest.mark.parametrize("size", [1, 2, 3, 5])
def test_local_response_norm_graph(shape, size):
    check_graph(_lrn(size, alpha=0.3, beta=0.6, k=2.0), [shape], expect="DivBackward0")


def test_local_response_norm_brief_chain_and_defaults():
    t_out, _ = check_graph(_lrn(2), [(2, 5, 3, 3)], "float32")
    chain, node = [], t_out.grad_fn
    while node is not None and len(chain) < 4:
        chain.append(type(node).__name__)
        node = next((f for f, _ in node.next_functions
                     if f is not None and type(f).__name__ != "AccumulateGrad"), None)
    assert chain == ["DivBackward0", "PowBackward0", "AddBackward0", "MulBackward0"]


def test_local_response_norm_permuted_input():
    check_graph(lambda t, x: t.nn.functional.local_response_norm(x.permute(0, 3, 1, 2), 3),
                [(2, 3, 3, 5)])


@pytest.mark.parametrize("shape", [(2, 5, 3), (2, 6, 3, 2)])
def test_local_response_norm_double_backward(shape):
    check_double_backward(_lrn(3, alpha=0.3, beta=0.6, k=2.0), [shape])


@pytest.mark.parametrize("dt", ["float32", "float64"])
def test_local_response_norm_without_grad(dt):
    """The no-graph path (values straight from NumPy) agrees with torch and with the graph."""
    x = make_array((3, 9, 4, 4), dt) * 3
    check(_lrn(5, alpha=0.3, beta=0.6, k=2.0), inputs=[x], grad=False)
    e = ember.tensor(x)
    a = ember.nn.functional.local_response_norm(e, 5, 0.3, 0.6, 2.0)
    b = ember.nn.functional.local_response_norm(e.requires_grad_(), 5, 0.3, 0.6, 2.0)
    assert a.grad_fn is None
    assert_close(b.detach(), a)


# -------------------------------------------------------------------------------- affine_grid

AFFINE = [((2, 2, 3), (2, 1, 4, 4)), ((2, 2, 3), (2, 3, 5, 1)), ((1, 2, 3), (1, 1, 1, 1)),
          ((2, 3, 4), (2, 1, 3, 4, 2)), ((3, 2, 3), (3, 2, 7, 6))]


@pytest.mark.parametrize("theta, size", AFFINE)
@pytest.mark.parametrize("align", [False, True])
@pytest.mark.filterwarnings("ignore:Since version 1.3.0")
def test_affine_grid_graph(theta, size, align):
    check_graph(lambda t, th: t.nn.functional.affine_grid(th, size, align_corners=align),
                [theta], expect="AffineGridGeneratorBackward0")
    check(lambda t, th: t.nn.functional.affine_grid(th, size, align_corners=align), [theta])


@pytest.mark.parametrize("theta, size", AFFINE[::2])
def test_affine_grid_double_backward(theta, size):
    check_double_backward(lambda t, th: t.nn.functional.affine_grid(th, size, False), [theta],
                          upstream=True)


def test_affine_grid_batch_mismatch():
    check_raises(lambda t, th: t.nn.functional.affine_grid(th, (3, 1, 4, 4), False), [(2, 2, 3)],
                 match=r"batch2 tensor to be: \[3, 3\] but got: \[2, 3\]")


# -------------------------------------------------------------------------- multi_margin_loss

def _mm(target, **kw):
    w = kw.pop("weight", None)
    return lambda t, x: t.nn.functional.multi_margin_loss(
        x, t.tensor(target), weight=None if w is None else t.tensor(w, dtype=x.dtype), **kw)


def _mm_ref(target, p=1, margin=1.0, weight=None, reduction="mean"):
    """multi_margin_loss as torch ops (torch's own node has no double backward)."""
    def f(t, x):
        C = x.shape[-1] if x.dim() else 1
        X = x.reshape(-1, C)
        tg = t.tensor(target).reshape(-1, 1)
        h = (X - X.gather(1, tg) + margin).relu() ** p
        if weight is not None:
            h = h * t.tensor(weight)[tg]
        h = h * (1 - t.nn.functional.one_hot(tg[:, 0], C).to(x.dtype))
        loss = h.sum(1) / C
        return {"mean": loss.mean(), "sum": loss.sum(), "none": loss}[reduction]
    return f


_T3 = np.array([0, 2, 1])
_W4 = np.array([0.5, 1.5, 2.0, 0.25])
MULTI_MARGIN = [((3, 4), _T3, {}), ((3, 4), _T3, {"p": 2}), ((3, 4), _T3, {"margin": 0.3}),
                ((3, 4), _T3, {"weight": _W4, "reduction": "sum"}),
                ((3, 4), _T3, {"p": 2, "weight": _W4, "reduction": "none"}),
                ((4,), np.array(1), {"reduction": "none"}), ((4,), np.array([3]), {}),
                ((), np.array(0), {"reduction": "none"}), ((5, 1), np.zeros(5, np.int64), {})]


@pytest.mark.parametrize("shape, target, kw", MULTI_MARGIN)
@pytest.mark.parametrize("dt", ["float32", "float64"])
def test_multi_margin_loss_graph(shape, target, kw, dt):
    check_graph(_mm(target, **kw), [shape], dt, expect="MultiMarginLossBackward0")


@pytest.mark.parametrize("shape, target, kw", [c for c in MULTI_MARGIN if c[0] == (3, 4)])
def test_multi_margin_loss_double_backward(shape, target, kw):
    check_double_backward(_mm(target, **kw), [shape], ref=_mm_ref(target, **kw), upstream=True)


def test_multi_margin_loss_kink_has_zero_gradient():
    x = np.array([[0.0, -1.0, 0.5], [2.0, 2.0, 1.0]])   # hinges exactly 0 (1 - 0 + -1)
    check_graph(_mm(np.array([0, 1])), inputs=[x])


def test_multi_margin_loss_weight_requiring_grad():
    def run(t, x, w):
        return t.nn.functional.multi_margin_loss(x, t.tensor(_T3), weight=w.requires_grad_())
    check_raises(run, [(3, 4), (4,)], match="not differentiable with respect to argument "
                 "'weight'")
    with torch.no_grad(), ember.no_grad():
        check(run, [(3, 4), (4,)], grad=False)


# -------------------------------------------------------------------------------------- cdist

_MODES = ["use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
          "donot_use_mm_for_euclid_dist"]
CDIST_SHAPES = [((3, 4), (5, 4)), ((30, 4), (26, 4)), ((25, 3), (25, 3)), ((26, 3), (2, 3)),
                ((2, 3, 4), (2, 5, 4)), ((2, 30, 4), (26, 4)), ((30, 4), (2, 26, 4)),
                ((3, 1, 30, 4), (2, 26, 4)), ((2, 30, 4), (2, 26, 4)), ((0, 30, 4), (0, 26, 4)),
                ((3, 0), (5, 0)), ((30, 0), (26, 0)), ((0, 4), (26, 4))]


def _cdist_top(sa, sb, p, mode):
    """torch's rule: p = 2 takes the matrix-product path (EuclideanDistBackward0 under a view)
    with 'use_mm_for_euclid_dist', or with the default mode when P or R > 25, for non-empty
    inputs; everything else is one CdistBackward0 node."""
    P, R, M = sa[-2], sb[-2], sa[-1]
    batch = np.broadcast_shapes(sa[:-2], sb[:-2])
    mm = p == 2 and (mode == _MODES[1] or mode == _MODES[0] and (P > 25 or R > 25))
    empty = not (P and R and M and math.prod(batch))
    return "ViewBackward0" if mm and not empty else "CdistBackward0"


@pytest.mark.parametrize("sa, sb", CDIST_SHAPES)
@pytest.mark.parametrize("p", [0, 0.5, 1, 2, 3, math.inf])
@pytest.mark.parametrize("mode", _MODES)
def test_cdist_graph(sa, sb, p, mode):
    check_graph(lambda t, a, b: t.cdist(a, b, p=p, compute_mode=mode), [sa, sb],
                expect=_cdist_top(sa, sb, p, mode))


def test_cdist_brief_calls():
    t_out, _ = check_graph(lambda t, a, b: t.cdist(a, b), [(3, 4), (5, 4)], "float32",
                           expect="CdistBackward0")
    assert [type(f).__name__ for f, _ in t_out.grad_fn.next_functions] == ["AccumulateGrad"] * 2
    t_out, _ = check_graph(lambda t, a, b: t.cdist(a, b), [(1000, 64), (1000, 64)], "float32",
                           rtol=1e-4, atol=1e-4)
    assert type(t_out.grad_fn.next_functions[0][0]).__name__ == "EuclideanDistBackward0"


@pytest.mark.parametrize("p", [0, 1, 2, 3, math.inf])
def test_cdist_zero_distances_and_ties(p):
    """Identical rows (distance 0) and rows tying for the inf-norm: torch's subgradients."""
    x = np.array([[1.0, 3.0, -3.0], [0.0, 0.0, 0.0], [1.0, 2.0, 2.0]])
    y = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 2.0]])
    check_graph(lambda t, a, b: t.cdist(a, b, p=p), inputs=[x, y])
    if p == 2:   # the matrix-product path: zero distances give zero gradients too
        check_graph(lambda t, a, b: t.cdist(a, b, compute_mode=_MODES[1]), inputs=[x, y])


def _cdist_ref(p):
    return lambda t, a, b: t.linalg.vector_norm(a.unsqueeze(-2) - b.unsqueeze(-3), p, -1)


@pytest.mark.parametrize("p", [0.5, 1, 2, 3, math.inf])
@pytest.mark.parametrize("sa, sb", [((3, 4), (5, 4)), ((2, 3, 4), (5, 4))])
def test_cdist_double_backward(p, sa, sb):
    check_double_backward(lambda t, a, b: t.cdist(a, b, p), [sa, sb], ref=_cdist_ref(p),
                          upstream=True)


@pytest.mark.parametrize("sa, sb", [((30, 4), (26, 4)), ((2, 30, 4), (26, 4)),
                                    ((3, 1, 30, 4), (2, 26, 4))])
def test_euclidean_dist_double_backward(sa, sb):
    check_double_backward(lambda t, a, b: t.cdist(a, b), [sa, sb], upstream=True)


@pytest.mark.parametrize("dt", ["float16", "bfloat16"])
def test_cdist_half_types(dt):
    """torch has the matrix-product path for half types, not the differencing kernel."""
    check_graph(lambda t, a, b: t.cdist(a, b), [(30, 4), (5, 4)], dt, expect="ViewBackward0")
    check_raises(lambda t, a, b: t.cdist(a, b), [(3, 4), (5, 4)], dt, match="not implemented")


def test_cdist_batch_mismatch():
    check_raises(lambda t, a, b: t.cdist(a, b), [(2, 3, 4), (3, 5, 4)],
                 match="must match the size of tensor b")


# --------------------------------------------------------------------------------------- dist

DIST = [((3, 4), (3, 4), 2), ((3, 4), (4,), 3), ((3, 4), (3, 4), math.inf), ((), (3,), 1),
        ((3, 4), (3, 4), 0.5)]


@pytest.mark.parametrize("sa, sb, p", DIST)
@pytest.mark.parametrize("dt", ["float32", "float64"])
def test_dist_graph(sa, sb, p, dt):
    check_graph(lambda t, a, b: t.dist(a, b, p), [sa, sb], dt, expect="DistBackward0")
    check_graph(lambda t, a, b: t.dist(a, b.detach() * 2, p), [sa, sb], dt)


def test_dist_brief_call_and_mixed_dtypes():
    check_graph(lambda t, a: t.dist(a, a * 2), [(3, 4)], "float32", expect="DistBackward0")
    check_graph(lambda t, a, b: t.dist(a, b), [(3, 4), (4,)], ["float32", "float64"])


def test_dist_inf_ties_share_and_p0_gives_no_gradient():
    x = np.array([[1.0, 3.0, -3.0], [0.0, 0.0, 0.0]])
    check_graph(lambda t, a, b: t.dist(a, b, math.inf), inputs=[x, np.zeros((2, 3))])
    for lib in (torch, ember):   # torch's DistBackward0 gives no gradient at all for p = 0
        a = lib.tensor(x, requires_grad=True)
        lib.dist(a, lib.zeros(2, 3), 0).backward()
        assert a.grad is None


@pytest.mark.parametrize("sa, sb, p", DIST[:4])
def test_dist_double_backward(sa, sb, p):
    check_double_backward(lambda t, a, b: t.dist(a, b, p), [sa, sb], upstream=True)


# ----------------------------------------------------------------------- quantile, nanquantile

def _q(q, fn="quantile", **kw):
    """quantile with q a number, a list (a 1-D tensor) or "0d" (a 0-d tensor holding 0.3)."""
    def f(t, x):
        qq = t.tensor(0.3 if q == "0d" else q, dtype=x.dtype) if isinstance(q, (list, str)) else q
        return getattr(t, fn)(x, qq, **kw)
    return f


QUANTILE = [(q, dim, keepdim) for q in (0.3, [0.1, 0.5, 0.9], "0d")
            for dim in (None, 0, 1, -1) for keepdim in (False, True)]


@pytest.mark.parametrize("q, dim, keepdim", QUANTILE)
@pytest.mark.parametrize("fn", ["quantile", "nanquantile"])
@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 4)])
def test_quantile_graph(q, dim, keepdim, fn, shape):
    check_graph(_q(q, fn, dim=dim, keepdim=keepdim), [shape], expect="SqueezeBackward4",
                check_stride=True)


@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
@pytest.mark.parametrize("q, dim", [(0.3, None), (0.3, 1), ([0.2, 0.7], 0), ([0.25], -1)])
def test_quantile_interpolations_graph(interpolation, q, dim):
    check_graph(_q(q, dim=dim, interpolation=interpolation), [(2, 3, 5)],
                expect="SqueezeBackward4", check_stride=True)


@pytest.mark.parametrize("dim", [None, 0, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_quantile_of_a_scalar(dim, keepdim):
    check_graph(_q([0.3, 0.6], dim=dim, keepdim=keepdim), [()], check_stride=True)
    check_graph(_q(0.3, "nanquantile", dim=dim, keepdim=keepdim), [()])


@pytest.mark.parametrize("fn", ["quantile", "nanquantile"])
@pytest.mark.parametrize("interpolation", ["linear", "nearest", "midpoint"])
def test_quantile_with_nans(fn, interpolation):
    x = make_array((3, 5), "float64")
    x[0, 1] = np.nan
    x[2, :] = np.nan
    for dim in (None, 1):
        check_graph(_q([0.2, 0.8], fn, dim=dim, interpolation=interpolation), inputs=[x.copy()])


def test_quantile_brief_calls():
    """The brief's chains: sort, view, gather (twice), LerpBackward1 with its weight edge."""
    t_out, _ = check_graph(_q(0.3), [(3, 4)], "float32")
    lerp = t_out.grad_fn.next_functions[0][0]
    assert type(lerp).__name__ == "LerpBackward1" and len(lerp.next_functions) == 3
    check_graph(_q(0.3, dim=1), [(3, 4)], "float32")


@pytest.mark.parametrize("fn", ["quantile", "nanquantile"])
@pytest.mark.parametrize("q, dim", [(0.3, None), ([0.1, 0.5, 0.9], 1), (0.7, 0)])
@pytest.mark.parametrize("interpolation", ["linear", "lower", "midpoint"])
def test_quantile_without_grad(fn, q, dim, interpolation):
    """The no-graph path: torch's values, dtype and strides (a vector q's dim moved first)."""
    for dt in ("float32", "float64"):
        check(_q(q, fn, dim=dim, interpolation=interpolation), [(4, 6, 5)], dt, grad=False,
              check_stride=True)


@pytest.mark.parametrize("q, dim", [(0.3, None), ([0.2, 0.9], 1)])
def test_quantile_double_backward(q, dim):
    check_double_backward(_q(q, dim=dim), [(3, 5)], upstream=True)


# ----------------------------------------------------------------------------- kron, tensordot

KRON = [((2, 3), (4, 5)), ((3,), (2, 5)), ((3,), (5,)), ((2, 1, 3), (4, 5)), ((), (4, 5)),
        ((4, 5), (2, 1, 3))]


@pytest.mark.parametrize("sa, sb", KRON)
def test_kron_graph(sa, sb):
    check_graph(lambda t, a, b: t.kron(a, b), [sa, sb], expect="UnsafeViewBackward0",
                check_stride=True)
    check_graph(lambda t, a, b: t.kron(a, b.detach()), [sa, sb])


def test_kron_strided_operand():
    check_graph(lambda t, a, b: t.kron(a[::2], b), [(6, 3), (4, 5)])


def T(t, x):
    return x.T


TENSORDOT = [
    ("brief", lambda t, a, b: t.tensordot(a, b.T, dims=1), [(3, 4), (5, 4)]),
    ("dims=1", lambda t, a, b: t.tensordot(a, b, dims=1), [(3, 4), (4, 5)]),
    ("dims=2", lambda t, a, b: t.tensordot(a, b, dims=2), [(2, 3, 4), (3, 4, 5)]),
    ("lists (copy)", lambda t, a, b: t.tensordot(a, b, dims=([1, 2], [1, 0])),
     [(2, 3, 4), (4, 3, 5)]),
    ("negative dims", lambda t, a, b: t.tensordot(a, b, dims=([-1, 1], [0, -2])),
     [(2, 3, 4), (4, 3, 5)]),
    ("outer", lambda t, a, b: t.tensordot(a, b, dims=0), [(3,), (4,)]),
    ("matrix-vector", lambda t, a, b: t.tensordot(a, b, dims=1), [(3, 4), (4,)]),
    ("tensor dims", lambda t, a, b: t.tensordot(a, b, dims=t.tensor([[1], [0]])),
     [(3, 4), (4, 5)]),
    ("b fixed", lambda t, a, b: t.tensordot(a, b.detach(), dims=1), [(2, 3, 4), (4, 5)]),
    ("dot", lambda t, a, b: t.tensordot(a, b, dims=2), [(3, 4), (3, 4)]),
    ("dot 1-D", lambda t, a, b: t.tensordot(a, b, dims=1), [(4,), (4,)]),
    ("dot, size-1 free dims", lambda t, a, b: t.tensordot(a, b, dims=1), [(1, 4), (4, 1)]),
    ("dot of scalars", lambda t, a, b: t.tensordot(a, b, dims=0), [(), ()]),
    ("mul-sum (transposed)", lambda t, a, b: t.tensordot(a.T, b, dims=2), [(4, 3), (3, 4)]),
    ("mul-sum (strided 1-D)", lambda t, a, b: t.tensordot(a[::2], b, dims=1), [(8,), (4,)]),
    ("contracted size 1 (a)", lambda t, a, b: t.tensordot(a, b, dims=([0, 1], [0, 1])),
     [(1, 4), (3, 4)]),
    ("contracted size 1 (b)", lambda t, a, b: t.tensordot(a, b, dims=([0, 1], [0, 1])),
     [(3, 4), (1, 4)]),
    ("contracted size 1, mm", lambda t, a, b: t.tensordot(a, b, dims=([0, 1], [0, 1])),
     [(3, 4, 5), (1, 4, 2)]),
    ("contracted size 1 twice", lambda t, a, b: t.tensordot(a, b, dims=([0, 1], [1, 0])),
     [(4, 1, 5), (3, 1, 2)]),
]


@pytest.mark.parametrize("name, fn, shapes", TENSORDOT, ids=[c[0] for c in TENSORDOT])
def test_tensordot_graph(name, fn, shapes):
    check_graph(fn, shapes, expect="ViewBackward0", check_stride=True)
    check(fn, shapes, grad=False, check_stride=True)   # the no-graph path (NumPy's matmul)


def test_tensordot_brief_chain():
    t_out, _ = check_graph(TENSORDOT[0][1], TENSORDOT[0][2], "float32")
    chain, node = [], t_out.grad_fn
    while node is not None:
        chain.append(type(node).__name__)
        node = next((f for f, _ in node.next_functions if f is not None), None)
    assert chain == ["ViewBackward0", "MmBackward0", "ViewBackward0", "PermuteBackward0",
                     "AccumulateGrad"]


def test_tensordot_mismatch_and_int():
    check_raises(lambda t, a, b: t.tensordot(a, b, dims=([0, 1], [0, 1])), [(2, 4), (3, 4)],
                 match="first has size 2 in dim 0 and second has size 3 in dim 0")
    check(lambda t, a, b: t.tensordot(a, b, dims=1), [(3, 4), (4, 5)], "int64")


@pytest.mark.parametrize("name, fn, shapes", [TENSORDOT[i] for i in (0, 3, 13, 15)],
                         ids=[TENSORDOT[i][0] for i in (0, 3, 13, 15)])
def test_tensordot_double_backward(name, fn, shapes):
    check_double_backward(fn, shapes, upstream=True)


# ------------------------------------------------------------------ unbatched 1-D max pooling

POOL1D = [
    ("max_pool1d", lambda t, x: t.nn.functional.max_pool1d(x, 2)),
    ("max_pool1d padded", lambda t, x: t.nn.functional.max_pool1d(x, 3, 2, 1, ceil_mode=True)),
    ("max_pool1d indices", lambda t, x: t.nn.functional.max_pool1d(x, 2, return_indices=True)),
    ("adaptive_max_pool1d", lambda t, x: t.nn.functional.adaptive_max_pool1d(x, 3)),
    ("adaptive_max_pool1d indices",
     lambda t, x: t.nn.functional.adaptive_max_pool1d(x, 3, return_indices=True)),
    ("avg_pool1d", lambda t, x: t.nn.functional.avg_pool1d(x, 3, 2, 1)),
    ("lp_pool1d", lambda t, x: t.nn.functional.lp_pool1d(x.abs() + 0.1, 2, 2)),
    ("MaxPool1d module", lambda t, x: t.nn.MaxPool1d(2)(x)),
]


@pytest.mark.parametrize("name, fn", POOL1D, ids=[c[0] for c in POOL1D])
@pytest.mark.parametrize("shape", [(3, 8), (2, 3, 8)])
def test_pool1d_graph(name, fn, shape):
    check_graph(fn, [shape])


def test_pool1d_unbatched_brief_chain():
    for fn, node in ((lambda t, x: t.nn.functional.max_pool1d(x, 2),
                      "MaxPool2DWithIndicesBackward0"),
                     (lambda t, x: t.nn.functional.adaptive_max_pool1d(x, 2),
                      "AdaptiveMaxPool2DBackward0")):
        _, e_out = check_graph(fn, [(3, 8)], "float32")
        assert [n for n, _ in graph(e_out)] == ["SqueezeBackward1", node, "UnsqueezeBackward0",
                                                "AccumulateGrad"]


@pytest.mark.parametrize("name, fn", POOL1D[:6], ids=[c[0] for c in POOL1D[:6]])
def test_pool1d_unbatched_double_backward(name, fn):
    check_double_backward(lambda t, x: (lambda r: r[0] if isinstance(r, tuple) else r)(fn(t, x)),
                          [(3, 8)], upstream=True)


@pytest.mark.parametrize("call", [
    lambda t, x: x ** 2, lambda t, x: x.pow(3.5), lambda t, x: 2 ** x, lambda t, x: t.pow(2.0, x),
    lambda t, x: x ** x, lambda t, x: t.lerp(x, x * 2, 0.3),
    lambda t, x: t.lerp(x, x * 2, t.full((3, 4), 0.7, dtype=t.float64)),
    lambda t, x: t.lerp(x, x * 2, x.detach() * 0.1)])
def test_pow_and_lerp_overloads_as_torch(call):
    """A number operand is a parameter of torch's node (PowBackward0/2, LerpBackward0: one
    edge per tensor), a tensor one an input (PowBackward1, LerpBackward1)."""
    check_graph(call, [(3, 4)])


@pytest.mark.parametrize("call", [
    lambda t, x: x.reshape(12), lambda t, x: x.t().reshape(4, 3, 1), lambda t, x: x.t().reshape(12),
    lambda t, x: x.t().flatten(), lambda t, x: x[:, ::2].reshape(-1)])
def test_reshape_nodes_as_torch(call):
    """reshape records ViewBackward0 (contiguous), ReshapeAliasBackward0 (another viewable
    layout), or CloneBackward0 + UnsafeViewBackward0 (a copy)."""
    check_graph(call, [(3, 4)])


@pytest.mark.parametrize("call,shape", [
    (lambda t, x: t.nn.functional.max_pool2d(x, 2, ceil_mode=True), (2, 3, 4)),
    (lambda t, x: t.nn.functional.max_pool2d(x, 2, return_indices=True)[0], (2, 4, 4)),
    (lambda t, x: t.nn.functional.avg_pool2d(x, 2, ceil_mode=True), (2, 3, 4)),
    (lambda t, x: t.nn.functional.adaptive_max_pool2d(x, 2), (2, 3, 4)),
    (lambda t, x: t.nn.functional.max_pool3d(x, 2), (1, 2, 4, 4)),
    (lambda t, x: t.nn.functional.avg_pool3d(x, 2), (1, 2, 4, 4)),
    (lambda t, x: t.nn.functional.adaptive_max_pool3d(x, 2), (1, 2, 4, 4)),
    (lambda t, x: t.nn.functional.lp_pool2d(x, 2, 2), (2, 4, 4)),
])
def test_unbatched_pools_are_one_node_as_torch(call, shape):
    check_graph(call, [shape])
