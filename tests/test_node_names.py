"""Autograd node names (`grad_fn.name()`, printed as `grad_fn=<...>`) and output numbers for ops
whose torch node comes from an internal decomposition: linear, matmul, einsum, unbind, diag,
scaled_dot_product_attention. torch's names are read from torch at test time; every case also
compares values and gradients through `check`, and some double backward."""
import numpy as np
import pytest
import torch

import ember
from oracle import assert_close, check, check_raises, make_array, to_ember, to_torch


def _nodes(out):
    """(node name, output_nr) of every tensor output."""
    flat = out if isinstance(out, (tuple, list)) else (out,)
    return [(o.grad_fn.name() if o.grad_fn is not None else None, o.output_nr) for o in flat]


def check_nodes(fn, shapes=(), dtypes="float64", *, inputs=None, expect=None, **kw):
    """check() (values, gradients), then the same node names and output numbers as torch's;
    `expect`: the torch name the case is meant to show (guards the test's own premise)."""
    t_out, e_out = check(fn, shapes, dtypes, inputs=inputs, **kw)
    t_nodes, e_nodes = _nodes(t_out), _nodes(e_out)
    assert all(name is not None for name, _ in t_nodes), "torch recorded no node: a vacuous case"
    assert e_nodes == t_nodes, f"ember {e_nodes} != torch {t_nodes}"
    if expect is not None:
        assert t_nodes[0][0] == expect, f"torch now records {t_nodes[0][0]}"
    for t, e in zip(t_out if isinstance(t_out, tuple) else (t_out,),
                    e_out if isinstance(e_out, tuple) else (e_out,)):
        assert f"grad_fn=<{t.grad_fn.name()}>" in repr(e)
    return t_out, e_out


def check_double_backward(fn, shapes, seed=0):
    """Gradients of <grad(<fn(xs), u>, xs), v> with respect to xs, both libraries."""
    rng = np.random.default_rng(seed)
    arrays = [make_array(s, "float64", rng) for s in shapes]
    results = []
    for lib, conv in ((torch, to_torch), (ember, to_ember)):
        xs = [conv(a, True) for a in arrays]
        out = fn(lib, *xs)
        r = np.random.default_rng(seed + 1)
        u = conv(make_array(tuple(out.shape), "float64", r))
        grads = lib.autograd.grad((out * u).sum(), xs, create_graph=True, allow_unused=True)
        total = sum((g * conv(make_array(tuple(g.shape), "float64", r))).sum()
                    for g in grads if g is not None)
        results.append(lib.autograd.grad(total, xs, allow_unused=True))
    for i, (gt, ge) in enumerate(zip(*results)):
        if gt is None:
            assert ge is None or not np.any(ge.detach().numpy()), f"second grad of input {i}"
        else:
            assert ge is not None, f"ember gave no second gradient for input {i}"
            assert_close(gt, ge, what=f"second grad of input {i}")


# ------------------------------------------------------------------------------------- linear

def _lin(t, x, w, b=None):
    return t.nn.functional.linear(x, w, b)


LINEAR = [
    ("1-D", lambda t, x, w: _lin(t, x, w), [(3,), (4, 3)], "SqueezeBackward4"),
    ("2-D", lambda t, x, w: _lin(t, x, w), [(2, 3), (4, 3)], "MmBackward0"),
    ("3-D", lambda t, x, w: _lin(t, x, w), [(5, 2, 3), (4, 3)], "UnsafeViewBackward0"),
    ("4-D", lambda t, x, w: _lin(t, x, w), [(2, 5, 2, 3), (4, 3)], "UnsafeViewBackward0"),
    ("empty 2-D", lambda t, x, w: _lin(t, x, w), [(0, 3), (4, 3)], "MmBackward0"),
    ("empty 3-D", lambda t, x, w: _lin(t, x, w), [(2, 0, 3), (4, 3)], "UnsafeViewBackward0"),
    ("3-D strided", lambda t, x, w: _lin(t, x.transpose(0, 1), w), [(2, 5, 3), (4, 3)],
     "UnsafeViewBackward0"),
    ("3-D, w fixed", lambda t, x, w: _lin(t, x, w.detach()), [(5, 2, 3), (4, 3)],
     "UnsafeViewBackward0"),
    ("2-D, x fixed", lambda t, x, w: _lin(t, x.detach(), w), [(2, 3), (4, 3)], "MmBackward0"),
    ("1-D bias", _lin, [(3,), (4, 3), (4,)], "ViewBackward0"),
    ("2-D bias", _lin, [(2, 3), (4, 3), (4,)], "AddmmBackward0"),
    ("3-D bias", _lin, [(5, 2, 3), (4, 3), (4,)], "ViewBackward0"),
    ("4-D bias", _lin, [(2, 5, 2, 3), (4, 3), (4,)], "ViewBackward0"),
    ("empty bias", _lin, [(0, 3), (4, 3), (4,)], "AddmmBackward0"),
    ("empty 3-D bias", _lin, [(2, 0, 3), (4, 3), (4,)], "ViewBackward0"),
    ("3-D strided bias", lambda t, x, w, b: _lin(t, x.transpose(0, 1), w, b),
     [(2, 5, 3), (4, 3), (4,)], "AddBackward0"),
    ("4-D strided bias", lambda t, x, w, b: _lin(t, x.transpose(0, 1), w, b),
     [(3, 2, 5, 3), (4, 3), (4,)], "AddBackward0"),
    ("1-D strided bias", lambda t, x, w, b: _lin(t, x[::2], w, b), [(6,), (4, 3), (4,)],
     "AddBackward0"),
    ("3-D size-1 transposed bias", lambda t, x, w, b: _lin(t, x.transpose(0, 1), w, b),
     [(1, 5, 3), (4, 3), (4,)], "ViewBackward0"),
    ("3-D strided weight", lambda t, x, w, b: _lin(t, x, w.t(), b), [(2, 5, 3), (3, 4), (4,)],
     "ViewBackward0"),
    ("0-d bias 2-D", _lin, [(5, 3), (4, 3), ()], "AddmmBackward0"),
    ("0-d bias 3-D", _lin, [(2, 5, 3), (4, 3), ()], "AddBackward0"),
    ("0-d bias 1-D", _lin, [(3,), (4, 3), ()], "AddBackward0"),
    ("2-D bias 2-D", _lin, [(5, 3), (4, 3), (5, 4)], "AddmmBackward0"),
    ("row bias 2-D", _lin, [(5, 3), (4, 3), (1, 4)], "AddmmBackward0"),
    ("2-D bias 3-D", _lin, [(2, 5, 3), (4, 3), (5, 4)], "AddBackward0"),
    ("only bias learns 3-D", lambda t, x, w, b: _lin(t, x.detach(), w.detach(), b),
     [(2, 5, 3), (4, 3), (4,)], "ViewBackward0"),
    ("only bias learns 3-D strided",
     lambda t, x, w, b: _lin(t, x.detach().transpose(0, 1), w.detach(), b),
     [(2, 5, 3), (4, 3), (4,)], "AddBackward0"),
    ("bias fixed 3-D", lambda t, x, w, b: _lin(t, x, w, b.detach()), [(2, 5, 3), (4, 3), (4,)],
     "ViewBackward0"),
    ("vector weight", lambda t, x, w: _lin(t, x, w), [(2, 3), (3,)], "MvBackward0"),
    ("vector weight 1-D", lambda t, x, w: _lin(t, x, w), [(3,), (3,)], "DotBackward0"),
    ("vector weight 3-D", lambda t, x, w: _lin(t, x, w), [(2, 5, 3), (3,)],
     "UnsafeViewBackward0"),
]


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("name,fn,shapes,expect", LINEAR, ids=[c[0] for c in LINEAR])
def test_linear_nodes(name, fn, shapes, expect, dt):
    check_nodes(fn, shapes, dt, expect=expect)


def test_linear_module_nodes():
    for shape in [(3,), (2, 3), (5, 2, 3)]:
        for bias in (True, False):
            rng = np.random.default_rng(1)
            x, w, b = make_array(shape, "float64", rng), make_array((4, 3), "float64", rng), \
                make_array((4,), "float64", rng)
            outs = []
            for lib, conv in ((torch, to_torch), (ember, to_ember)):
                m = lib.nn.Linear(3, 4, bias=bias, dtype=lib.float64)
                with lib.no_grad():
                    m.weight.copy_(conv(w))
                    if bias:
                        m.bias.copy_(conv(b))
                outs.append(m(conv(x)))
            assert _nodes(outs[1]) == _nodes(outs[0]), (shape, bias)
            assert_close(outs[0], outs[1])


def test_linear_half_node():
    check_nodes(_lin, [(5, 2, 3), (4, 3), (4,)], "float16", expect="ViewBackward0")
    check_nodes(lambda t, x, w: _lin(t, x, w), [(2, 3), (4, 3)], "float16",
                expect="MmBackward0")


def test_linear_vector_weight_with_bias_raises():
    for shapes in ([(2, 3), (3,), ()], [(2, 5, 3), (3,), (1,)], [(3,), (3,), (1,)]):
        check_raises(lambda t, x, w, b: _lin(t, x, w, b), shapes, "float64",
                     match="mat2 must be a matrix")
    # a strided input is matmul'ed and the bias added: no addmm, no error
    check_nodes(lambda t, x, w, b: _lin(t, x.transpose(0, 1), w, b), [(5, 2, 3), (3,), ()],
                expect="AddBackward0")


@pytest.mark.parametrize("shapes", [[(2, 3), (4, 3), (4,)], [(5, 2, 3), (4, 3), (4,)],
                                    [(3,), (4, 3), (4,)], [(5, 2, 3), (4, 3), (2, 4)]])
def test_linear_double_backward(shapes):
    check_double_backward(_lin, shapes)
    check_double_backward(lambda t, x, w, b: _lin(t, x, w, b) ** 2, shapes)


# ------------------------------------------------------------------------------------- matmul

MATMUL = [((3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5)), ((1, 3, 4), (1, 4, 5)),
          ((2, 3, 4), (1, 4, 5)), ((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)), ((1, 4), (2, 4, 5)),
          ((3, 4), (2, 4, 1)), ((3, 4), (0, 4, 5)), ((2, 2, 3, 4), (2, 2, 4, 5)),
          ((4,), (4, 5)), ((3, 4), (4,)), ((2, 3, 4), (4,)), ((4,), (2, 4, 5)), ((4,), (4,))]


@pytest.mark.parametrize("grads", ["both", "first", "second"])
@pytest.mark.parametrize("sa,sb", MATMUL, ids=[f"{a}@{b}" for a, b in MATMUL])
def test_matmul_nodes(sa, sb, grads):
    fn = {"both": lambda t, a, b: a @ b, "first": lambda t, a, b: a @ b.detach(),
          "second": lambda t, a, b: a.detach() @ b}[grads]
    check_nodes(fn, [sa, sb])


def test_bmm_keeps_its_node():
    check_nodes(lambda t, a, b: t.bmm(a, b), [(2, 3, 4), (2, 4, 5)], expect="BmmBackward0")
    check_nodes(lambda t, a, b: t.mm(a, b), [(3, 4), (4, 5)], expect="MmBackward0")


# ------------------------------------------------------------------------------------- einsum

EINSUM = [
    ("ij,jk->ik", [(3, 3), (3, 3)]), ("ij,ij->i", [(3, 3), (3, 3)]), ("ij->ji", [(3, 4)]),
    ("ii->i", [(3, 3)]), ("i,i->", [(3,), (3,)]), ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ij->", [(3, 4)]), ("ij->i", [(3, 4)]), ("ij", [(3, 4)]), ("ji", [(3, 4)]),
    ("i,j->ij", [(3,), (4,)]), ("ij,jk", [(2, 3), (3, 4)]), ("ij,kj->ik", [(2, 3), (4, 3)]),
    ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (4, 5)]), ("ii", [(3, 3)]), ("ii->", [(3, 3)]),
    ("i->i", [(3,)]), ("ij,j->i", [(3, 4), (4,)]), ("i,ij->j", [(3,), (3, 4)]),
    ("ijk,jk->i", [(2, 3, 4), (3, 4)]), ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]), ("i,i->i", [(3,), (3,)]),
    ("ij,ij->ij", [(3, 4), (3, 4)]), ("ij,ij->", [(3, 4), (3, 4)]),
    ("ij,kl->ijkl", [(2, 3), (4, 5)]), ("bij,bkj->bik", [(2, 3, 4), (2, 5, 4)]),
    ("ij,jk->ki", [(2, 3), (3, 4)]), ("...,...->...", [(2, 3), (2, 3)]), ("i,->i", [(3,), ()]),
    ("ij,j->ij", [(3, 4), (4,)]), ("iij->j", [(3, 3, 4)]), ("ij,i->j", [(1, 4), (3,)]),
    ("ij,k->k", [(2, 3), (4,)]), ("i,j,k->ijk", [(2,), (3,), (4,)]),
    ("iji->ij", [(3, 4, 3)]), ("iijj->ji", [(2, 2, 3, 3)]), ("...ii->...i", [(2, 3, 3)]),
    ("ij,jk->ik", [(2, 0), (0, 4)]),
]


@pytest.mark.parametrize("eq,shapes", EINSUM, ids=[f"{e} {s}" for e, s in EINSUM])
def test_einsum_nodes(eq, shapes):
    check_nodes(lambda t, *xs: t.einsum(eq, *xs), shapes)
    if len(shapes) > 1:   # one operand fixed: same node
        check_nodes(lambda t, x, *xs: t.einsum(eq, x.detach(), *xs), shapes)


def test_einsum_names_of_the_brief():
    check_nodes(lambda t, x, y: t.einsum("ij,jk->ik", x, y), [(3, 3), (3, 3)],
                expect="ViewBackward0")
    check_nodes(lambda t, x, y: t.einsum("ij,ij->i", x, y), [(3, 3), (3, 3)],
                expect="ViewBackward0")
    check_nodes(lambda t, x: t.einsum("ij->ji", x), [(3, 4)], expect="PermuteBackward0")
    check_nodes(lambda t, x: t.einsum("ij->i", x), [(3, 4)], expect="SumBackward1")
    check_nodes(lambda t, x, y: t.einsum("i,j->ij", x, y), [(3,), (4,)], expect="MulBackward0")


@pytest.mark.parametrize("eq,shape", [("ij->ji", (3, 4)), ("ii->i", (3, 3)), ("i->i", (3,)),
                                      ("iijj->ji", (2, 2, 3, 3))])
def test_einsum_permutation_is_a_view(eq, shape):
    check_nodes(lambda t, x: t.einsum(eq, x), [shape], check_stride=True)
    for lib, conv in ((torch, to_torch), (ember, to_ember)):
        x = conv(np.arange(float(np.prod(shape))).reshape(shape))
        out = lib.einsum(eq, x)
        assert out._base is x
        x.add_(1)   # a write through the input shows in the output, and back
        assert out._version == x._version
        assert out.numpy().flat[-1] == x.numpy().flat[-1] == np.prod(shape)
        out.mul_(0)
        assert x.numpy()[tuple(0 for _ in shape)] == 0


@pytest.mark.parametrize("eq,shapes", [("ij,jk->ik", [(2, 3), (3, 4)]), ("ii->i", [(3, 3)]),
                                       ("ij->i", [(3, 4)]), ("i,j->ij", [(3,), (4,)]),
                                       ("ij->ji", [(3, 4)]), ("bij,bjk->bik",
                                                              [(2, 3, 4), (2, 4, 5)])])
def test_einsum_double_backward(eq, shapes):
    check_double_backward(lambda t, *xs: t.einsum(eq, *xs) ** 2, shapes)


# ------------------------------------------------------------------------------------- unbind

@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_unbind_nodes(dim):
    check_nodes(lambda t, x: x.unbind(dim), [(3, 4, 5)], expect="UnbindBackward0")
    check_nodes(lambda t, x: t.unbind(x, dim), [(3, 4, 5)])


def test_unbind_shared_node_and_output_nr():
    for lib, conv in ((torch, to_torch), (ember, to_ember)):
        x = conv(make_array((3, 4), "float64"), True)
        a, b, c = x.unbind(0)
        assert a.grad_fn is b.grad_fn is c.grad_fn
        assert a.grad_fn.name() == "UnbindBackward0"
        assert [o.output_nr for o in (a, b, c)] == [0, 1, 2]
        assert len(a.grad_fn.next_functions) == 1
        assert b._base is x


@pytest.mark.parametrize("pick", [(1,), (0, 2), (2, 0), (3,)])
def test_unbind_backward_through_some_outputs(pick):
    check_nodes(lambda t, x: tuple(x.unbind(1)[i] for i in pick), [(3, 4, 2)])
    check_nodes(lambda t, x: (x * 2).unbind(1)[pick[0]] * x[:, 0], [(3, 4, 2)])


def test_unbind_small_shapes():
    check_nodes(lambda t, x: x.unbind(0), [(3,)])   # 0-d outputs, still views
    check_nodes(lambda t, x: x.unbind(0), [(1, 2)])
    for lib, conv in ((torch, to_torch), (ember, to_ember)):
        assert conv(make_array((0, 3)), True).unbind(0) == ()
        with lib.no_grad():
            x = conv(make_array((2, 3)), True)
            assert all(o.grad_fn is None and o._base is x for o in x.unbind(1))


def test_unbind_views_share_versions():
    versions = []
    for lib, conv in ((torch, to_torch), (ember, to_ember)):
        x = conv(make_array((3, 4), "float64"), True).clone()
        parts = x.unbind(1)
        x.add_(1)
        versions.append([p._version for p in parts])
        assert np.array_equal(parts[2].detach().numpy(), x.detach().numpy()[:, 2])
    assert versions[0] == versions[1]


def test_unbind_double_backward():
    check_double_backward(lambda t, x: t.stack([p * p for p in x.unbind(1)[::2]]), [(3, 4)])
    check_double_backward(lambda t, x: x.unbind(0)[1] ** 3, [(3, 4)])


def test_stack_backward_uses_unbind():
    check_nodes(lambda t, x, y: t.stack([x, y], 1) ** 2, [(3, 4), (3, 4)])
    check_double_backward(lambda t, x, y: t.stack([x * y, y], 1) ** 2, [(3, 4), (3, 4)])


# --------------------------------------------------------------------------------------- diag

@pytest.mark.parametrize("offset", [0, 1, -1, 2, -3, 5])
@pytest.mark.parametrize("shape", [(3, 3), (3, 4), (4, 3), (1, 1)])
def test_diag_matrix_nodes(shape, offset):
    check_nodes(lambda t, x: x.diag(offset), [shape], expect="DiagonalBackward0_copy",
                check_stride=True)
    check_nodes(lambda t, x: t.diag(x.t(), offset), [shape], check_stride=True)


@pytest.mark.parametrize("offset", [0, 1, -1, 2])
@pytest.mark.parametrize("shape", [(3,), (1,), (0,)])
def test_diag_vector_nodes(shape, offset):
    check_nodes(lambda t, x: t.diag(x, offset), [shape], expect="DiagEmbedBackward0",
                check_stride=True)


def test_diag_embed_diagflat_nodes():
    check_nodes(lambda t, x: t.diag_embed(x, 1), [(2, 3)], expect="DiagEmbedBackward0")
    check_nodes(lambda t, x: t.diagflat(x, -1), [(2, 3)])
    check_nodes(lambda t, x: t.diagflat(x), [(3,)])


def test_diag_matrix_is_a_copy():
    for lib, conv in ((torch, to_torch), (ember, to_ember)):
        x = conv(np.arange(9.0).reshape(3, 3))
        d = x.diag()
        assert d._base is None
        d.zero_()
        assert x.numpy()[1, 1] == 4.0


@pytest.mark.parametrize("shape,offset", [((3, 4), 1), ((3,), -1), ((3, 3), 0)])
def test_diag_double_backward(shape, offset):
    check_double_backward(lambda t, x: t.diag(x, offset) ** 2, [shape])


def test_diag_int_and_out():
    check(lambda t, x: t.diag(x, 1), [(3, 4)], "int64")
    check(lambda t, x: t.diag(x, out=t.empty(0, dtype=x.dtype)), [(3, 4)], "float32",
          grad=False)


# --------------------------------------------------------------------------------------- sdpa

def _sdpa(**kw):
    return lambda t, q, k, v: t.nn.functional.scaled_dot_product_attention(q, k, v, **kw)


def _masked(kind, mask_shape, **kw):
    """sdpa with a mask built from a fixed random array: bool, float, or float that learns."""
    m = make_array(mask_shape, "float64", np.random.default_rng(5))

    def fn(t, q, k, v):
        mask = t.tensor(m > -0.3) if kind == "bool" else t.tensor(m, dtype=q.dtype)
        if kind == "learned":
            mask.requires_grad_(True)
        return t.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask, **kw)
    return fn


B, H, L, S, E = 2, 2, 3, 5, 4
SDPA = [
    ("4-D", _sdpa(), [(B, H, L, E), (B, H, S, E), (B, H, S, E)]),
    ("4-D causal", _sdpa(is_causal=True), [(B, H, L, E), (B, H, L, E), (B, H, L, E)]),
    ("4-D causal L!=S", _sdpa(is_causal=True), [(B, H, L, E), (B, H, S, E), (B, H, S, E)]),
    ("4-D scale", _sdpa(scale=0.3), [(1, H, L, E), (1, H, S, E), (1, H, S, E)]),
    ("4-D bool mask", _masked("bool", (L, S)), [(B, H, L, E), (B, H, S, E), (B, H, S, E)]),
    ("4-D float mask", _masked("float", (L, S)), [(B, H, L, E), (B, H, S, E), (B, H, S, E)]),
    ("4-D row mask", _masked("float", (1, S)), [(B, H, L, E), (B, H, S, E), (B, H, S, E)]),
    ("4-D column mask", _masked("bool", (L, 1)), [(B, H, L, E), (B, H, S, E), (B, H, S, E)]),
    ("4-D 4-D mask", _masked("float", (B, 1, L, S)), [(B, H, L, E), (B, H, S, E), (B, H, S, E)]),
    ("4-D full mask", _masked("bool", (B, H, L, S)), [(B, H, L, E), (B, H, S, E), (B, H, S, E)]),
    ("4-D 3-D mask", _masked("float", (H, L, S)), [(B, H, L, E), (B, H, S, E), (B, H, S, E)]),
    ("4-D learned mask", _masked("learned", (L, S)),
     [(B, H, L, E), (B, H, S, E), (B, H, S, E)]),
    ("4-D gqa", _sdpa(enable_gqa=True), [(B, 4, L, E), (B, 2, S, E), (B, 2, S, E)]),
    ("4-D gqa same heads", _sdpa(enable_gqa=True), [(B, H, L, E), (B, H, S, E), (B, H, S, E)]),
    ("4-D other value dim", _sdpa(), [(B, H, L, E), (B, H, S, E), (B, H, S, 6)]),
    ("4-D broadcast batch", _sdpa(), [(B, H, L, E), (1, H, S, E), (1, H, S, E)]),
    ("4-D broadcast heads", _sdpa(), [(B, H, L, E), (B, 1, S, E), (B, 1, S, E)]),
    ("3-D", _sdpa(), [(B, L, E), (B, S, E), (B, S, E)]),
    ("3-D causal", _sdpa(is_causal=True), [(B, L, E), (B, L, E), (B, L, E)]),
    ("3-D bool mask", _masked("bool", (L, S)), [(B, L, E), (B, S, E), (B, S, E)]),
    ("3x3", _sdpa(), [(3, 3), (3, 3), (3, 3)]),
    ("2-D", _sdpa(), [(L, E), (S, E), (S, E)]),
    ("5-D", _sdpa(), [(1, B, H, L, E), (1, B, H, S, E), (1, B, H, S, E)]),
    ("empty L", _sdpa(), [(B, H, 0, E), (B, H, S, E), (B, H, S, E)]),
    ("empty S", _sdpa(), [(B, H, L, E), (B, H, 0, E), (B, H, 0, E)]),
    ("empty batch", _sdpa(), [(0, L, E), (0, S, E), (0, S, E)]),
    ("empty value dim", _sdpa(), [(B, L, E), (B, S, E), (B, S, 0)]),
    ("no head dim", _sdpa(), [(B, H, L, 0), (B, H, S, 0), (B, H, S, E)]),
]


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("name,fn,shapes", SDPA, ids=[c[0] for c in SDPA])
def test_sdpa_nodes(name, fn, shapes, dt):
    check_nodes(fn, shapes, dt)
    check_nodes(lambda t, q, k, v: fn(t, q.detach(), k.detach(), v), shapes, dt)
    check_nodes(lambda t, q, k, v: fn(t, q, k.detach(), v.detach()), shapes, dt)


def test_sdpa_names_of_the_brief():
    shapes4 = [(B, H, L, E), (B, H, S, E), (B, H, S, E)]
    check_nodes(_sdpa(), shapes4, expect="ScaledDotProductFlashAttentionForCpuBackward0")
    check_nodes(_sdpa(), [(B, L, E), (B, S, E), (B, S, E)], expect="UnsafeViewBackward0")
    check_nodes(_sdpa(), [(L, E), (S, E), (S, E)], expect="MmBackward0")
    check_nodes(_masked("learned", (L, S)), shapes4, expect="UnsafeViewBackward0")


def test_sdpa_strided_inputs():
    def fn(t, q, k, v):   # (B, L, H, E) memory seen as (B, H, L, E): last stride still 1
        return t.nn.functional.scaled_dot_product_attention(
            q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2))
    check_nodes(fn, [(B, L, H, E), (B, S, H, E), (B, S, H, E)],
                expect="ScaledDotProductFlashAttentionForCpuBackward0")

    def fn2(t, q, k, v):   # a query whose last dim is strided: the math kernel
        return t.nn.functional.scaled_dot_product_attention(q.transpose(2, 3), k, v)
    check_nodes(fn2, [(B, H, E, L), (B, H, S, E), (B, H, S, E)], expect="UnsafeViewBackward0")


@pytest.mark.parametrize("backends", ["MATH", "FLASH_ATTENTION"])
def test_sdpa_kernel_choice(backends):
    shapes = [(B, H, L, E), (B, H, S, E), (B, H, S, E)]

    def fn(t, q, k, v):
        with t.nn.attention.sdpa_kernel(getattr(t.nn.attention.SDPBackend, backends)):
            return t.nn.functional.scaled_dot_product_attention(q, k, v)
    check_nodes(fn, shapes)

    def off(t, q, k, v):
        t.backends.cuda.enable_flash_sdp(False)
        try:
            return t.nn.functional.scaled_dot_product_attention(q, k, v)
        finally:
            t.backends.cuda.enable_flash_sdp(True)
    check_nodes(off, shapes, expect="UnsafeViewBackward0")


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_sdpa_no_flash_kernel_raises():
    def fn(t, q, k, v):
        with t.nn.attention.sdpa_kernel(t.nn.attention.SDPBackend.FLASH_ATTENTION):
            return t.nn.functional.scaled_dot_product_attention(q, k, v)
    check_raises(fn, [(B, L, E), (B, S, E), (B, S, E)], "float64",
                 match="No available kernel")


def test_sdpa_dropout_node():
    # values are random; the node is the math kernel's last matmul (or the empty shortcut)
    for shapes in ([(B, H, L, E), (B, H, S, E), (B, H, S, E)],
                   [(B, H, 0, E), (B, H, S, E), (B, H, S, E)]):
        outs = []
        for lib, conv in ((torch, to_torch), (ember, to_ember)):
            rng = np.random.default_rng(0)
            q, k, v = (conv(make_array(s, "float64", rng), True) for s in shapes)
            outs.append(lib.nn.functional.scaled_dot_product_attention(q, k, v, dropout_p=0.5))
        assert _nodes(outs[1]) == _nodes(outs[0])


@pytest.mark.parametrize("kw,shapes", [
    ({}, [(B, H, L, E), (B, H, S, E), (B, H, S, E)]),
    ({"is_causal": True}, [(B, H, L, E), (B, H, L, E), (B, H, L, E)]),
    ({"is_causal": True}, [(B, L, E), (B, L, E), (B, L, E)]),
])
def test_sdpa_double_backward(kw, shapes):
    """The math kernel differentiates twice, in both."""
    def fn(t, q, k, v):
        with t.nn.attention.sdpa_kernel(t.nn.attention.SDPBackend.MATH):
            return _sdpa(**kw)(t, q, k, v) ** 2
    check_double_backward(fn, shapes)


@pytest.mark.parametrize("dtype", ["float64", "float32", "bfloat16"])
def test_sdpa_flash_gradient_is_not_differentiable(dtype):
    """torch's flash node: a create_graph backward works, but its gradients come from nodes
    whose own backward raises."""
    def run(lib):
        rng = np.random.default_rng(0)
        q = lib.tensor(rng.standard_normal((B, H, L, E))).to(getattr(lib, dtype))
        q.requires_grad_()
        out = lib.nn.functional.scaled_dot_product_attention(q, q, q)
        (g,) = lib.autograd.grad((out * out).sum(), q, create_graph=True)
        assert g.requires_grad
        with pytest.raises(RuntimeError) as info:
            g.sum().backward()
        edges = [n.name() for n, _ in out.grad_fn.next_functions]   # (one node: q, k, v's)
        return out.grad_fn.name(), edges, str(info.value)
    assert run(ember) == run(torch)


def test_linear_edges_in_addmm_order():
    """The 60-minute blitz walks loss.grad_fn.next_functions[0][0] twice: MseLossBackward0,
    AddmmBackward0, then the bias's AccumulateGrad (torch's addmm takes the bias first)."""
    def walk(t):
        layer = t.nn.Linear(3, 2)
        h = t.relu(t.ones(4, 3, requires_grad=True) * 2)
        loss = t.nn.functional.mse_loss(layer(h), t.zeros(4, 2))
        node = loss.grad_fn
        names = [node.name()]
        for _ in range(2):
            node = node.next_functions[0][0]
            names.append(node.name())
        edges = [n.name() if n is not None else None
                 for n, _ in loss.grad_fn.next_functions[0][0].next_functions]
        return names, node.variable is layer.bias, edges[:2]
    assert walk(ember) == walk(torch)


# in-place view ops record torch's in-place overloads (TransposeBackward1, SqueezeBackward3...)
INPLACE_VIEWS = [
    ("t_", lambda y: y.t_(), (2, 3)),
    ("transpose_", lambda y: y.transpose_(0, 2), (2, 1, 3)),
    ("swapdims_", lambda y: y.swapdims_(1, 0), (2, 3)),
    ("swapaxes_", lambda y: y.swapaxes_(-1, 0), (2, 3)),
    ("squeeze_()", lambda y: y.squeeze_(), (2, 1, 3)),
    ("squeeze_(dim)", lambda y: y.squeeze_(1), (2, 1, 3)),
    ("squeeze_(dims)", lambda y: y.squeeze_((1, 2)), (2, 1, 1)),
    ("squeeze_ no-op", lambda y: y.squeeze_(0), (2, 1, 3)),
    ("unsqueeze_", lambda y: y.unsqueeze_(1), (2, 3)),
    ("as_strided_", lambda y: y.as_strided_((3, 2), (1, 3)), (2, 3)),
]


@pytest.mark.parametrize("name,op,shape", INPLACE_VIEWS, ids=[c[0] for c in INPLACE_VIEWS])
def test_inplace_view_nodes(name, op, shape):
    def fn(t, x):
        y = x * 2
        r = op(y)
        assert r is y
        return y * 1, y.grad_fn.name()
    x = make_array(shape, "float64")
    outs = {}
    for lib in (torch, ember):
        xt = lib.tensor(x, requires_grad=True)
        out, node = fn(lib, xt)
        g = make_array(tuple(out.shape), "float64", np.random.default_rng(1))
        out.backward(lib.tensor(g))
        outs[lib] = (node, out.detach(), xt.grad)
    assert outs[ember][0] == outs[torch][0]
    assert_close(outs[torch][1], outs[ember][1])
    assert_close(outs[torch][2], outs[ember][2], what="grad")


@pytest.mark.parametrize("dim", [None, 1, (0, 1)])
def test_squeeze_overload_nodes(dim):
    check_nodes(lambda t, x: x.squeeze() if dim is None else x.squeeze(dim), [(1, 1, 3)])


def _edge_tree(node, depth=2):
    """(name, [subtrees of next_functions]) down to `depth` levels."""
    if node is None:
        return None
    name = node.name().rsplit("::", 1)[-1]
    if depth == 0:
        return name
    return (name, [_edge_tree(n, depth - 1) for n, _ in node.next_functions])


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("case", ["leaf weight", "frozen weight", "non-leaf weight", "3-D input"])
def test_linear_weight_edge_through_t(case, bias):
    """torch's linear takes weight.t(): the weight's edge goes through a TBackward0 node
    (unless the weight needs no gradient); gradients (and double backward) as torch's."""
    x = make_array((2, 4, 3) if case == "3-D input" else (4, 3), "float64")
    w = make_array((2, 3), "float64", np.random.default_rng(1))
    b = make_array((2,), "float64", np.random.default_rng(2))
    out = {}
    for lib in (torch, ember):
        xt = lib.tensor(x, requires_grad=True)
        wt = lib.tensor(w, requires_grad=case != "frozen weight")
        weight = wt * 1 if case == "non-leaf weight" else wt
        y = lib.nn.functional.linear(xt, weight, lib.tensor(b, requires_grad=True) if bias
                                     else None)
        # (a 3-D input: torch's view / addmm / view chain is one ember node: its name only)
        tree = _edge_tree(y.grad_fn, 0 if case == "3-D input" else 3)
        loss = (y * y).sum()
        grads = lib.autograd.grad(loss, [xt] + ([wt] if wt.requires_grad else []),
                                  create_graph=True)
        penalty = sum((g * g).sum() for g in grads)
        penalty.backward()
        out[lib] = (tree, grads, xt.grad)
    assert out[ember][0] == out[torch][0]
    for t, e in zip(out[torch][1] + (out[torch][2],), out[ember][1] + (out[ember][2],)):
        assert_close(t, e, what="grad")


def test_node_types_are_named_as_torch():
    """type(node).__name__ is the node's name, as torch's node classes (graph walkers such as
    torchviz label nodes by their type): every node of a small CNN's loss graph."""
    def walk(t):
        t.manual_seed(0)
        nn = t.nn
        model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                              nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 10))
        x = t.tensor(make_array((2, 1, 8, 8), "float32"))
        y = t.tensor([1, 2])
        out = model(x)
        loss = (t.nn.functional.cross_entropy(out, y) + (out ** 2).mean() + out.sum(1).mean()
                + out.t().sum() + out[0].t().sum() + t.nn.functional.linear(out, out[:3]).sum())
        names, seen, stack = [], set(), [loss.grad_fn]
        while stack:
            node = stack.pop()
            if node is None or id(node) in seen:
                continue
            seen.add(id(node))
            names.append((type(node).__name__, node.name().rsplit("::", 1)[-1]))
            stack.extend(n for n, _ in node.next_functions)
        return sorted(names)
    e_names, t_names = walk(ember), walk(torch)
    assert e_names == t_names
    assert {"SumBackward0", "SumBackward1", "TBackward0", "NativeBatchNormBackward0",
            "MaxPool2DWithIndicesBackward0", "AddmmBackward0"} <= {n for n, _ in t_names}


@pytest.mark.parametrize("shape", [(3,), ()])
def test_t_of_a_vector_is_a_recorded_view(shape):
    for lib in (torch, ember):
        x = lib.tensor(make_array(shape, "float64"), requires_grad=True)
        y = x.t()
        assert y is not x and y._base is x and y.grad_fn.name() == "TBackward0"


def test_every_node_type_is_named_as_its_name():
    """Across a graph of many kinds of op (overloads chosen after recording included, such
    as Scalar ** Tensor), each node's class carries the name its name() gives."""
    x = ember.tensor(make_array((3, 4), "float64"), requires_grad=True)
    w = ember.tensor(make_array((5, 4), "float64"), requires_grad=True)
    F = ember.nn.functional
    outs = [2 ** x, x ** 2, (x.abs() + 1) ** x, x.sum(), x.sum(0), x.mean(1), x.amax(1), x.max(1)[0],
            x.t(), x.T, x.transpose(0, 1), x.view(12), x.reshape(2, 6), x[1:], x[:, 0], x[[0, 2]],
            x.squeeze(), x.unsqueeze(0), F.linear(x, w), F.linear(x[0], w), x @ x.t(), x.exp(),
            F.softmax(x, 1), F.layer_norm(x, (4,)), F.gelu(x), F.relu(x), x.clamp(0, 1),
            x.cumsum(1), x.sort(1)[0], x.norm(), ember.cat([x, x]), ember.stack([x, x]),
            1 - x, 2 / x, x.abs(), x.diag(), ember.einsum("ij,kj->ik", x, w)]
    seen, stack, bad = set(), [o.grad_fn for o in outs], []
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if type(node).__name__ != node.name().rsplit("::", 1)[-1]:
            bad.append((type(node).__name__, node.name()))
        stack.extend(n for n, _ in node.next_functions)
    assert len(seen) > 30 and not bad, bad


FUNCTIONAL_NODES = [
    ("celu", lambda t, x: t.nn.functional.celu(x, 0.7), "CeluBackward0"),
    ("celu_", lambda t, x: t.nn.functional.celu(x * 1, inplace=True), "CeluBackward1"),
    ("elu_", lambda t, x: t.nn.functional.elu(x * 1, inplace=True), "EluBackward1"),
    ("selu_", lambda t, x: t.nn.functional.selu(x * 1, inplace=True), "EluBackward1"),
    ("pairwise_distance", lambda t, x: t.nn.functional.pairwise_distance(x, x.detach() + 1),
     "NormBackward1"),
    ("pairwise_distance p=1 keepdim", lambda t, x: t.nn.functional.pairwise_distance(
        x, x.detach() * 2, p=1, keepdim=True), "NormBackward1"),
    ("max_pool1d", lambda t, x: t.nn.functional.max_pool1d(x, 2), "SqueezeBackward1"),
    ("max_pool1d indices", lambda t, x: t.nn.functional.max_pool1d(x, 3, 2, 1,
                                                                   return_indices=True)[0],
     "SqueezeBackward1"),
    ("adaptive_avg_pool1d", lambda t, x: t.nn.functional.adaptive_avg_pool1d(x, 3),
     "SqueezeBackward1"),
    ("adaptive_max_pool1d", lambda t, x: t.nn.functional.adaptive_max_pool1d(x, 3),
     "SqueezeBackward1"),
    ("glu", lambda t, x: t.nn.functional.glu(x), "GluBackward0"),
    ("glu dim 1", lambda t, x: t.nn.functional.glu(x[:, :2], 1), "GluBackward0"),
    ("prelu per channel", lambda t, x: t.nn.functional.prelu(
        x, t.tensor([0.1, 0.2, 0.3], dtype=x.dtype, requires_grad=True)), "PreluKernelBackward0"),
    ("prelu scalar", lambda t, x: t.nn.functional.prelu(
        x, t.tensor(0.25, dtype=x.dtype, requires_grad=True)), "PreluKernelBackward0"),
    ("softsign", lambda t, x: t.nn.functional.softsign(x), "DivBackward0"),
    ("rot90", lambda t, x: t.rot90(x, 1, (1, 2)), "Rot90Backward0"),
    ("rot90 k=2", lambda t, x: t.rot90(x, -2, (2, 0)), "Rot90Backward0"),
    ("hardshrink", lambda t, x: t.nn.functional.hardshrink(x, 0.3), "HardshrinkBackward0"),
    ("softshrink", lambda t, x: t.nn.functional.softshrink(x, 0.3), "SoftshrinkBackward0"),
    ("rrelu eval", lambda t, x: t.nn.functional.rrelu(x), "RreluWithNoiseBackward0"),
    ("rrelu_ eval", lambda t, x: t.nn.functional.rrelu(x * 1, inplace=True),
     "RreluWithNoiseBackward1"),
    ("leaky_relu_", lambda t, x: t.nn.functional.leaky_relu(x * 1, 0.2, inplace=True),
     "LeakyReluBackward1"),
    ("threshold_", lambda t, x: t.nn.functional.threshold(x * 1, 0.1, 2.0, inplace=True),
     "ThresholdBackward1"),
    ("instance_norm", lambda t, x: t.nn.functional.instance_norm(
        x, t.zeros(3, dtype=x.dtype), t.ones(3, dtype=x.dtype),
        t.linspace(0.5, 1.5, 3, dtype=x.dtype, requires_grad=True), None), "ViewBackward0"),
]


@pytest.mark.parametrize("name,fn,expect", FUNCTIONAL_NODES, ids=[c[0] for c in FUNCTIONAL_NODES])
def test_functional_nodes(name, fn, expect):
    """Nodes torch records through its C++ decompositions: celu's own node, the in-place
    *Backward1 overloads, pairwise_distance's norm, 1-d pooling run as the 2-d kernel
    between an unsqueeze and a squeeze, glu's and prelu's own nodes, softsign composed, and
    instance norm as a batch norm of a view (each graph walked three nodes deep, and every
    edge of the output's node)."""
    check_nodes(fn, [(2, 3, 8)], expect=expect)
    walks = []
    for lib in (torch, ember):
        x = lib.tensor(np.linspace(-2, 2, 48).reshape(2, 3, 8), requires_grad=True)
        node, names = fn(lib, x).grad_fn, []
        names.append([f.name() if f is not None else None for f, _ in node.next_functions])
        while node is not None and len(names) < 4:
            names.append(node.name())
            node = next((f for f, _ in node.next_functions if f is not None), None)
        walks.append(names)
    assert walks[1] == walks[0]


@pytest.mark.parametrize("fn_name", ["var_mean", "std_mean"])
@pytest.mark.parametrize("kw", [{}, {"dim": 1}, {"dim": (0, 2), "keepdim": True, "correction": 0}],
                         ids=str)
def test_var_mean_is_one_node(fn_name, kw):
    """var_mean / std_mean: one node (VarMeanBackward0 / StdMeanBackward0) whose two outputs
    are the spread and the mean; values, gradients through either or both, and double
    backward as torch's."""
    check_nodes(lambda t, x: getattr(t, fn_name)(x, **kw), [(3, 4, 5)])
    check(lambda t, x: getattr(t, fn_name)(x, **kw)[1], [(3, 4, 5)], dtypes="float64")
    check_double_backward(lambda t, x: getattr(t, fn_name)(x, **kw)[0] * 2
                          + getattr(t, fn_name)(x, **kw)[1], [(3, 4, 5)])
