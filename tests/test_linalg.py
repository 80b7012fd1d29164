"""Differential tests of the matmul family, einsum, tensordot, kron, cross, cdist and
ember.linalg against torch (values, dtypes, gradients, errors)."""
import numpy as np
import pytest
import torch

import ember
from oracle import check, check_raises, make_array

F = ("float32", "float64")
FC = ("float32", "float64", "complex64", "complex128")


# ------------------------------------------------------------------------------ matmul family
@pytest.mark.parametrize("dt", FC + ("int64",))
def test_mm_mv_dot(dt):
    check(lambda t, a, b: t.mm(a, b), [(3, 4), (4, 2)], dt)
    check(lambda t, a, b: t.mv(a, b), [(3, 4), (4,)], dt)
    check(lambda t, a, b: t.dot(a, b), [(4,), (4,)], dt)
    check(lambda t, a, b: t.vdot(a, b), [(4,), (4,)], dt)
    check(lambda t, a, b: a.mm(b.mT), [(3, 4), (2, 4)], dt)   # non-contiguous


@pytest.mark.parametrize("dt", FC)
def test_bmm_matmul(dt):
    check(lambda t, a, b: t.bmm(a, b), [(2, 3, 4), (2, 4, 5)], dt)
    check(lambda t, a, b: t.matmul(a, b), [(2, 1, 3, 4), (3, 4, 2)], dt)
    check(lambda t, a, b: a @ b, [(4,), (2, 4, 3)], dt)
    check(lambda t, a, b: t.bmm(a.transpose(1, 2), b), [(2, 4, 3), (2, 4, 5)], dt)


@pytest.mark.parametrize("dt", FC)
def test_inner_outer(dt):
    check(lambda t, a, b: t.inner(a, b), [(2, 3, 4), (5, 4)], dt)
    check(lambda t, a, b: t.inner(a, b), [(), (5, 4)], dt)
    check(lambda t, a, b: t.outer(a, b), [(3,), (4,)], dt)
    check(lambda t, a, b: t.ger(a, b), [(3,), (4,)], dt)


def test_outer_promotes():
    check(lambda t, a, b: t.outer(a, b), [(3,), (4,)], ("float32", "int64"))


@pytest.mark.parametrize("dt", FC)
@pytest.mark.parametrize("beta,alpha", [(1, 1), (0.5, 2.0), (0, -1)])
def test_addmm_family(dt, beta, alpha):
    kw = dict(beta=beta, alpha=alpha)
    check(lambda t, i, a, b: t.addmm(i, a, b, **kw), [(3, 1), (3, 4), (4, 2)], dt)
    check(lambda t, i, a, b: t.baddbmm(i, a, b, **kw), [(3, 2), (2, 3, 4), (2, 4, 2)], dt)
    check(lambda t, i, a, b: t.addbmm(i, a, b, **kw), [(3, 2), (2, 3, 4), (2, 4, 2)], dt)
    check(lambda t, i, a, b: t.addmv(i, a, b, **kw), [(3,), (3, 4), (4,)], dt)
    check(lambda t, i, a, b: t.addr(i, a, b, **kw), [(3, 4), (3,), (4,)], dt)


def test_addmm_beta0_ignores_nan_and_inplace():
    inp = np.full((2, 2), np.nan, np.float32)
    check(lambda t, i, a, b: t.addmm(i, a, b, beta=0), inputs=[inp, make_array((2, 3)),
                                                               make_array((3, 2))])
    check(lambda t, i, a, b: i.clone().addmm_(a, b, alpha=2), [(2, 2), (2, 3), (3, 2)])
    check(lambda t, i, a, b: t.addmm(i, a, b, beta=0.5, alpha=2.5), [(2, 2), (2, 3), (3, 2)],
          "int64")


def test_empty_and_out():
    check(lambda t, a, b: t.mm(a, b), [(0, 3), (3, 2)])
    check(lambda t, a, b: t.mm(a, b), [(2, 0), (0, 2)])
    check(lambda t, a, b: t.bmm(a, b, out=t.empty(0)), [(2, 3, 4), (2, 4, 5)], grad=False)


@pytest.mark.parametrize("fn,shapes,dts", [
    (lambda t, a, b: t.mm(a, b), [(4, 3), (5, 2)], "float32"),
    (lambda t, a, b: t.mm(a, b), [(4,), (4, 2)], "float32"),
    (lambda t, a, b: t.mm(a, b), [(4, 3), (3, 2)], ("float32", "float64")),
    (lambda t, a, b: t.bmm(a, b), [(2, 3, 4), (3, 4, 5)], "float32"),
    (lambda t, a, b: t.bmm(a, b), [(3, 4), (3, 4, 5)], "float32"),
    (lambda t, a, b: t.mv(a, b), [(3, 4), (3,)], "float32"),
    (lambda t, a, b: t.dot(a, b), [(3, 4), (3,)], "float32"),
    (lambda t, a, b: t.dot(a, b), [(3,), (3,)], ("float32", "float64")),
    (lambda t, a, b: t.dot(a, b), [(3,), (4,)], "float32"),
    (lambda t, a, b: t.inner(a, b), [(3,), (3,)], ("float32", "float64")),
    (lambda t, a, b: t.inner(a, b), [(3,), (4,)], "float32"),
    (lambda t, a, b: t.outer(a, b), [(3, 1), (4,)], "float32"),
    (lambda t, i, a, b: t.addmm(i, a, b), [(3, 3), (3, 4), (3, 4)], "float32"),
    (lambda t, i, a, b: t.addmm(i, a, b), [(3, 3), (3, 4), (4, 3)],
     ("float64", "float32", "float32")),
    (lambda t, i, a, b: t.addmm(i, a, b), [(2, 3, 3), (3, 4), (4, 3)], "float32"),
    (lambda t, i, a, b: t.addmm(i, a, b, beta=0.5), [(3, 3), (3, 4), (3, 3)], "int64"),
    (lambda t, a, b: t.matmul(a, b), [(), (3,)], "float32"),
    (lambda t, a, b: t.matmul(a, b), [(2, 3, 4), (3, 5, 2)], "float32"),
])
def test_matmul_family_errors(fn, shapes, dts):
    te, ee = check_raises(fn, shapes, dts)
    assert str(ee) == str(te)


# ------------------------------------------------------------------------------ einsum & co
@pytest.mark.parametrize("eq,shapes", [
    ("ij,jk->ik", [(3, 4), (4, 2)]),
    ("ij,jk", [(3, 4), (4, 2)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 2)]),
    ("ii", [(3, 3)]),
    ("ii->i", [(3, 3)]),
    ("iij->j", [(3, 3, 2)]),
    ("ij->", [(3, 4)]),
    ("ij->ji", [(3, 4)]),
    ("i,j->ij", [(3,), (4,)]),
    ("i,i->", [(3,), (3,)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (4, 2)]),
    ("...ij,...jk", [(2, 1, 3, 4), (5, 4, 2)]),
    ("b...,b...->b", [(2, 3, 4), (2, 3, 4)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("ij,kj->ik", [(2, 3), (1, 3)]),
    ("i,i->i", [(1,), (3,)]),
    ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
    ("ijk->", [(0, 2, 3)]),
])
@pytest.mark.parametrize("dt", ("float32", "complex128"))
def test_einsum(eq, shapes, dt):
    check(lambda t, *xs: t.einsum(eq, *xs), shapes, dt)


def test_einsum_forms():
    check(lambda t, a, b: t.einsum("ij,jk->ik", [a, b]), [(3, 4), (4, 2)])
    check(lambda t, a, b: t.einsum(a, [0, 1], b, [1, 2], [0, 2]), [(3, 4), (4, 2)])
    check(lambda t, a, b: t.einsum(a, [..., 1], b, [1, 2]), [(5, 3, 4), (4, 2)])
    check(lambda t, a: t.einsum("i j -> j i", a), [(3, 4)])
    check(lambda t, a: t.einsum("ij->ji", a), [(3, 4)], "int64")


def test_einsum_double_backward():
    x = ember.randn(3, 3, requires_grad=True)
    y = ember.einsum("ij,jk->", x, x)
    (g,) = ember.autograd.grad(y, x, create_graph=True)
    (gg,) = ember.autograd.grad(g.sum(), x)
    xt = torch.tensor(x.detach().numpy(), requires_grad=True)
    (gt,) = torch.autograd.grad(torch.einsum("ij,jk->", xt, xt), xt, create_graph=True)
    (ggt,) = torch.autograd.grad(gt.sum(), xt)
    np.testing.assert_allclose(gg.numpy(), ggt.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("eq,shapes,dts", [
    ("ij,jk", [(3, 4), (3, 4)], "float32"),
    ("ij,jk", [(3, 4), (4, 4)], ("float32", "float64")),
    ("ij,jk->ik", [(3, 4)], "float32"),
    ("ii", [(4, 3)], "float32"),
    ("ijk", [(4, 3)], "float32"),
])
def test_einsum_errors(eq, shapes, dts):
    check_raises(lambda t, *xs: t.einsum(eq, *xs), shapes, dts)


@pytest.mark.parametrize("dims", [2, 1, 0, ([1], [0]), ([0, 1], [1, 0]), [[2], [0]]])
def test_tensordot(dims):
    check(lambda t, a, b: t.tensordot(a, b, dims=dims), [(4, 4, 4), (4, 4, 3)])


def test_tensordot_error():
    check_raises(lambda t, a, b: t.tensordot(a, b, dims=([1], [0])), [(3, 4), (3, 4)])


@pytest.mark.parametrize("sa,sb", [((2, 3), (4, 5)), ((3,), (2, 2)), ((2, 1, 3), (3,)),
                                   ((), (3,))])
def test_kron(sa, sb):
    check(lambda t, a, b: t.kron(a, b), [sa, sb])
    check(lambda t, a, b: t.kron(a, b), [sa, sb], ("int64", "float32"))


def test_cross():
    check(lambda t, a, b: t.linalg.cross(a, b), [(4, 3), (1, 3)])
    check(lambda t, a, b: t.cross(a, b, dim=0), [(3, 4), (3, 4)], "complex64")
    check(lambda t, a, b: t.linalg.cross(a, b, dim=1), [(2, 3, 4), (2, 3, 1)])
    with pytest.warns(UserWarning):
        check(lambda t, a, b: t.cross(a, b), [(4, 3), (4, 3)])
    te, ee = check_raises(lambda t, a, b: t.linalg.cross(a, b), [(4, 2), (4, 2)])
    assert str(te) == str(ee)


@pytest.mark.parametrize("p", [0, 1, 2, 3, 1.5, float("inf")])
def test_cdist(p):
    check(lambda t, a, b: t.cdist(a, b, p=p), [(2, 4, 3), (2, 5, 3)], "float64",
          grad=p != 0)


def test_cdist_mm_mode_and_errors():
    check(lambda t, a, b: t.cdist(a, b, compute_mode="use_mm_for_euclid_dist"),
          [(30, 3), (28, 3)], "float64")
    check(lambda t, a, b: t.cdist(a, b), [(30, 3), (4, 3)], rtol=1e-4, atol=1e-4)
    check_raises(lambda t, a, b: t.cdist(a, b), [(3, 2), (4, 3)])
    check_raises(lambda t, a, b: t.cdist(a, b, p=-1), [(3, 2), (4, 2)])


# ------------------------------------------------------------------------------ linalg
def check_linalg_error(fn, inputs):
    """torch raises torch.linalg.LinAlgError and ember ember.linalg.LinAlgError, same message."""
    with pytest.raises(torch.linalg.LinAlgError) as te:
        fn(torch, *[torch.from_numpy(a) for a in inputs])
    with pytest.raises(ember.linalg.LinAlgError) as ee:
        fn(ember, *[ember.tensor(a) for a in inputs])
    assert isinstance(ee.value, RuntimeError)
    assert str(ee.value) == str(te.value)


def _spd(t, x):
    return x @ x.mH + x.shape[-1] * t.eye(x.shape[-1], dtype=x.dtype)


@pytest.mark.parametrize("dt", FC)
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4)])
def test_inv_det_slogdet(dt, shape):
    check(lambda t, a: t.linalg.inv(a), [shape], dt)
    check(lambda t, a: t.inverse(a.mT), [shape], dt)
    check(lambda t, a: t.linalg.det(a), [shape], dt, rtol=1e-4)
    check(lambda t, a: a.det(), [shape], dt, rtol=1e-4)
    check(lambda t, a: t.linalg.slogdet(a), [shape], dt, rtol=1e-4)
    if not dt.startswith("complex"):
        check(lambda t, a: t.logdet(a), [shape], dt, rtol=1e-4)


def test_logdet_complex_and_sign():
    check(lambda t, a: t.logdet(_spd(t, a)), [(3, 3)], "complex128")
    check(lambda t, a: t.slogdet(a)[0].real.sum() + t.slogdet(a)[0].imag.sum(), [(3, 3)],
          "complex128")


def test_det_singular_grad():
    check(lambda t, a: t.linalg.det(a * t.tensor([1.0, 1.0, 0.0], dtype=a.dtype)),
          [(3, 3)], "float64")


def test_inv_errors():
    z = np.zeros((3, 3), np.float32)
    check_linalg_error(lambda t, a: t.linalg.inv(a), [z])
    check_linalg_error(lambda t, a: t.inverse(a), [np.zeros((2, 3, 3), np.float32)])
    m = np.eye(3)
    m[1, 1] = 0
    check_linalg_error(lambda t, a: t.inverse(a), [m])
    for fn in (lambda t, a: t.linalg.inv(a), lambda t, a: t.linalg.det(a),
               lambda t, a: t.linalg.eigh(a), lambda t, a: t.linalg.cholesky(a)):
        te, ee = check_raises(fn, [(3, 4)])
        assert str(te) == str(ee)
    te, ee = check_raises(lambda t, a: t.linalg.inv(a), [(3, 3)], "int64")
    assert str(te) == str(ee)


@pytest.mark.parametrize("dt", FC)
def test_solve(dt):
    check(lambda t, a, b: t.linalg.solve(a, b), [(3, 3), (3, 2)], dt)
    check(lambda t, a, b: t.linalg.solve(a, b), [(2, 3, 3), (3,)], dt)
    check(lambda t, a, b: t.linalg.solve(a, b), [(2, 3, 3), (2, 3)], dt)
    check(lambda t, a, b: t.linalg.solve(a, b), [(2, 3, 3), (4, 1, 3, 2)], dt)
    check(lambda t, a, b: t.linalg.solve(a, b, left=False), [(3, 3), (2, 3)], dt)


def test_solve_errors():
    check_linalg_error(lambda t, a, b: t.linalg.solve(a, b),
                       [np.zeros((3, 3), np.float32), make_array((3,))])
    te, ee = check_raises(lambda t, a, b: t.linalg.solve(a, b), [(3, 3), (3,)],
                          ("float32", "float64"))
    assert str(te) == str(ee)
    check_raises(lambda t, a, b: t.linalg.solve(a, b), [(3, 3), (4, 2)])


@pytest.mark.parametrize("dt", FC)
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky(dt, upper):
    check(lambda t, a: t.linalg.cholesky(_spd(t, a), upper=upper), [(2, 3, 3)], dt)


def test_cholesky_not_pd():
    m = np.eye(3)
    m[1, 1] = -1
    check_linalg_error(lambda t, a: t.linalg.cholesky(a), [m])
    check_linalg_error(lambda t, a: t.linalg.cholesky(a), [np.stack([np.eye(3), m])])


@pytest.mark.parametrize("dt", FC)
@pytest.mark.parametrize("shape,mode", [((4, 3), "reduced"), ((3, 3), "complete"),
                                        ((2, 5, 3), "reduced"), ((3, 3), "reduced"),
                                        ((3, 5), "reduced"), ((2, 2, 4), "complete")])  # wide
def test_qr(dt, shape, mode):
    check(lambda t, a: t.linalg.qr(a, mode=mode), [shape], dt, rtol=1e-4, atol=1e-4)


def test_qr_modes_values():
    check(lambda t, a: t.linalg.qr(a, mode="complete"), [(4, 3)], grad=False)
    check(lambda t, a: t.linalg.qr(a, mode="r")[1], [(4, 3)], grad=False)
    check(lambda t, a: t.linalg.qr(a)[1], [(3, 5)], grad=False)
    check_raises(lambda t, a: t.linalg.qr(a, mode="bad"), [(3, 3)])


@pytest.mark.parametrize("dt", FC)
@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh(dt, uplo):
    # eigenvectors are fixed up to sign/phase: compare a gauge-invariant function too
    check(lambda t, a: t.linalg.eigvalsh(a, UPLO=uplo), [(2, 4, 4)], dt, rtol=1e-4, atol=1e-4)
    check(lambda t, a: t.linalg.eigh(a + a.mH)[0], [(3, 3)], dt, rtol=1e-4, atol=1e-4)
    check(lambda t, a: (lambda w, v: (v * v.conj()).real * w.unsqueeze(-2))(
        *t.linalg.eigh(a + a.mH, UPLO=uplo)), [(2, 3, 3)], dt, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("dt", FC)
def test_eig(dt):
    check(lambda t, a: t.linalg.eigvals(a), [(3, 3)], dt, rtol=1e-4, atol=1e-4)
    check(lambda t, a: (lambda w, v: (v.abs() ** 2) * w.unsqueeze(-2))(*t.linalg.eig(a)),
          [(2, 3, 3)], dt, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("dt", FC)
@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 2, 4)])
def test_svd(dt, shape):
    check(lambda t, a: t.linalg.svdvals(a), [shape], dt, rtol=1e-4, atol=1e-4)
    # U diag(S) and the projector U U^H are invariant to the singular vectors' phases
    check(lambda t, a: (lambda u, s, vh: (u.abs() * s.unsqueeze(-2), u @ u.mH, vh.mH @ vh))(
        *t.linalg.svd(a, full_matrices=False)), [shape], dt, rtol=1e-4, atol=1e-4)
    check(lambda t, a: (lambda u, s, vh: (u @ u.mH, vh.mH @ vh))(
        *t.linalg.svd(a, full_matrices=True)), [shape], dt, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("dt", FC)
def test_pinv_rank_power(dt):
    check(lambda t, a: t.linalg.pinv(a), [(4, 3)], dt, rtol=1e-4, atol=1e-4)
    check(lambda t, a: t.pinverse(a), [(2, 3, 5)], dt, rtol=1e-4, atol=1e-4)
    check(lambda t, a: t.linalg.pinv(a + a.mH, hermitian=True), [(3, 3)], dt, rtol=1e-4,
          atol=1e-4)
    check(lambda t, a: t.linalg.matrix_rank(a), [(2, 4, 3)], dt)
    check(lambda t, a: t.linalg.matrix_rank(a[..., :2] @ a[..., :2, :]), [(3, 3)], dt)
    for n in (0, 1, 3, -2):
        check(lambda t, a: t.linalg.matrix_power(a, n), [(2, 3, 3)], dt, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("driver", [None, "gelsd", "gelss", "gels"])
def test_lstsq(driver):
    check(lambda t, a, b: tuple(t.linalg.lstsq(a, b, driver=driver)), [(5, 3), (5, 2)],
          "float64")
    check(lambda t, a, b: t.linalg.lstsq(a, b, driver=driver).solution, [(2, 4, 4), (2, 4, 1)],
          "float64")
    r = ember.linalg.lstsq(ember.randn(5, 3), ember.randn(5, 2))
    assert r.solution.shape == (3, 2) and r.rank.dtype == ember.int64


def test_multi_dot_vecdot():
    check(lambda t, a, b, c: t.linalg.multi_dot([a, b, c]), [(3,), (3, 4), (4, 2)])
    check(lambda t, a, b, c: t.linalg.multi_dot([a, b, c]), [(2, 3), (3, 4), (4,)])
    check(lambda t, a, b: t.linalg.vecdot(a, b), [(2, 3), (3,)], "complex64")
    check(lambda t, a, b: t.linalg.vecdot(a, b, dim=0), [(3, 2), (3, 1)])
    check_raises(lambda t, a: t.linalg.multi_dot([a]), [(2, 2)])
    check_raises(lambda t, a, b: t.linalg.multi_dot([a, b]), [(2, 3), (2, 3)])
    check_raises(lambda t, a, b: t.linalg.vecdot(a, b), [(3,), (3,)], ("float32", "float64"))


# ------------------------------------------------------------------------------ norms
@pytest.mark.parametrize("dt", FC)
@pytest.mark.parametrize("ord", [2, 1, 0, 3, 0.5, -1, float("inf"), float("-inf")])
def test_vector_norm(dt, ord):
    check(lambda t, a: t.linalg.vector_norm(a, ord), [(3, 4)], dt, grad=ord != 0)
    check(lambda t, a: t.linalg.vector_norm(a, ord, dim=(0, 2), keepdim=True), [(2, 3, 4)], dt,
          grad=ord != 0)
    check(lambda t, a: t.linalg.vector_norm(a.mT, ord, dim=-1), [(3, 4)], dt, grad=ord != 0)


def test_vector_norm_edge():
    check(lambda t, a: t.linalg.vector_norm(a), [()])
    check(lambda t, a: t.linalg.vector_norm(a), [(0, 3)])
    check(lambda t, a: t.linalg.vector_norm(a, dtype=t.float64), [(3,)])
    check(lambda t, a: t.linalg.vector_norm(a * 0), [(3,)])   # zero vector: zero gradient
    check(lambda t, a: t.linalg.vector_norm(a, 3) + t.linalg.vector_norm(a * 0, 3), [(3,)])
    te, ee = check_raises(lambda t, a: t.linalg.vector_norm(a), [(3,)], "int64")
    assert str(te) == str(ee)
    check_raises(lambda t, a: t.linalg.vector_norm(a, float("inf")), [(0,)])


@pytest.mark.parametrize("dt", FC)
@pytest.mark.parametrize("ord", ["fro", "nuc", 1, -1, 2, -2, float("inf"), float("-inf")])
def test_matrix_norm(dt, ord):
    check(lambda t, a: t.linalg.matrix_norm(a, ord), [(2, 3, 4)], dt, rtol=1e-4, atol=1e-4)
    check(lambda t, a: t.linalg.matrix_norm(a, ord, dim=(0, 2), keepdim=True), [(3, 2, 4)], dt,
          rtol=1e-4, atol=1e-4)
    check(lambda t, a: t.linalg.norm(a, ord), [(3, 4)], dt, rtol=1e-4, atol=1e-4)


def test_norm_forms():
    check(lambda t, a: t.linalg.norm(a), [(2, 3, 4)])
    check(lambda t, a: t.linalg.norm(a, dim=1), [(2, 3, 4)])
    check(lambda t, a: t.linalg.norm(a, 3, dim=(1,)), [(2, 3, 4)])
    check(lambda t, a: t.linalg.norm(a, dim=(0, 1), keepdim=True), [(2, 3, 4)])
    check(lambda t, a: t.linalg.norm(a, 1), [(4,)])
    check_raises(lambda t, a: t.linalg.norm(a, 2), [(2, 3, 4)])
    check_raises(lambda t, a: t.linalg.matrix_norm(a), [(3,)])
    check_raises(lambda t, a: t.linalg.matrix_norm(a, 3), [(3, 3)])


def test_return_types_repr():
    r = ember.linalg.slogdet(ember.eye(2))
    assert repr(r).startswith("ember.return_types.linalg_slogdet(")
    assert r.sign.item() == 1 and r.logabsdet.item() == 0
    assert type(ember.linalg.qr(ember.eye(2))).__name__ == "linalg_qr"
    u, s, vh = ember.linalg.svd(ember.eye(2))
    assert ember.linalg.svd(ember.eye(2)).Vh.shape == (2, 2)
    assert issubclass(ember.linalg.LinAlgError, RuntimeError)


# ------------------------------------------------------------------------------ double backward
def _double_backward(fn, shape, dt="float64"):
    a = make_array(shape, dt, np.random.default_rng(1))
    res = []
    for lib in (torch, ember):
        x = (torch.tensor if lib is torch else ember.tensor)(a.copy()).requires_grad_()
        y = fn(lib, x)
        y = (y.abs() if y.is_complex() else y).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        (gg,) = lib.autograd.grad((g.abs() if g.is_complex() else g).pow(2).sum(), x)
        res.append(gg.detach().numpy())
    np.testing.assert_allclose(res[1], res[0], rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name,fn", [
    ("inv", lambda t, a: t.linalg.inv(a)),
    ("det", lambda t, a: t.linalg.det(a)),
    ("slogdet", lambda t, a: t.linalg.slogdet(a)[1]),
    ("solve", lambda t, a: t.linalg.solve(a, a[..., :1] * 2 + 1)),
    ("cholesky", lambda t, a: t.linalg.cholesky(_spd(t, a))),
    ("qr", lambda t, a: t.linalg.qr(a)[1].diagonal().abs() + t.linalg.qr(a)[0][0]),
    ("eigvalsh", lambda t, a: t.linalg.eigvalsh(a + a.mT)),
    ("svdvals", lambda t, a: t.linalg.svdvals(a)),
    ("pinv", lambda t, a: t.linalg.pinv(a)),
    ("matrix_norm", lambda t, a: t.linalg.matrix_norm(a, "nuc")),
    ("vector_norm", lambda t, a: t.linalg.vector_norm(a, 3, dim=0)),
    ("einsum", lambda t, a: t.einsum("ij,jk,ki->i", a, a, a)),
    ("addmm", lambda t, a: t.addmm(a, a, a, beta=0.5, alpha=2)),
])
def test_double_backward(name, fn):
    _double_backward(fn, (3, 3))


def test_double_backward_complex():
    _double_backward(lambda t, a: t.linalg.inv(a), (3, 3), "complex128")
    _double_backward(lambda t, a: t.linalg.det(a), (3, 3), "complex128")


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("name,fn,shapes", [
    ("matmul", lambda t, a, b: a @ b, [(2, 3, 4), (4, 5)]),
    ("bmm", lambda t, a, b: t.bmm(a, b), [(2, 3, 4), (2, 4, 5)]),
    ("addmm", lambda t, c, a, b: t.addmm(c, a, b, beta=0.5, alpha=2), [(3, 5), (3, 4), (4, 5)]),
    ("baddbmm", lambda t, c, a, b: t.baddbmm(c, a, b), [(2, 3, 5), (2, 3, 4), (2, 4, 5)]),
    ("mv", lambda t, a, b: t.mv(a, b), [(3, 4), (4,)]),
    ("einsum", lambda t, a, b: t.einsum("ij,jk->ik", a, b), [(3, 4), (4, 5)]),
    ("tensordot", lambda t, a, b: t.tensordot(a, b, 1), [(3, 4), (4, 5)]),
])
def test_matmul_family_half_dtypes(name, fn, shapes, dtype):
    """Half types keep their dtype (ml_dtypes' bfloat16 matmul would return float32, its
    einsum rejects bfloat16): computed in float32, rounded once, as torch's CPU kernels."""
    check(fn, shapes, dtype)


# ------------------------------------------------------------------------------ torch.* forms of
# linalg, legacy decompositions, triangular/Cholesky/LU solves, matrix_exp, distances
def _lower(t, x):
    """A well-conditioned lower-triangular matrix with garbage above the diagonal (the solvers
    must not read it)."""
    n = x.shape[-1]
    return x + 3 * t.eye(n, dtype=x.dtype)


@pytest.mark.parametrize("dt", FC)
def test_matrix_exp(dt):
    check(lambda t, a: t.matrix_exp(a), [(3, 3)], dt, rtol=1e-4, atol=1e-5)
    check(lambda t, a: t.linalg.matrix_exp(a), [(2, 4, 4)], dt, rtol=1e-4, atol=1e-5)
    check(lambda t, a: a.matrix_exp(), [(1, 1)], dt, rtol=1e-4, atol=1e-5)


def test_matrix_exp_values_and_edges():
    # exp of a rotation generator is the rotation; of a nilpotent matrix, a finite sum
    th = 0.7
    gen = np.array([[0.0, -th], [th, 0.0]])
    r = ember.matrix_exp(ember.tensor(gen)).numpy()
    np.testing.assert_allclose(r, [[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]],
                               atol=1e-14)
    check(lambda t, a: t.matrix_exp(a * 5), [(3, 3)], "float64")   # needs squaring steps
    check(lambda t, a: t.matrix_exp(a), [(2, 0, 0)])
    # torch 2.13's CPU half kernels return inf/garbage (exp(I) gives -20896): ember computes in
    # float32 and rounds, keeping the dtype
    x = make_array((3, 3), "float32") * 0.5
    for dt in (ember.float16, ember.bfloat16):
        r = ember.matrix_exp(ember.tensor(x).to(dt))
        assert r.dtype == dt
        np.testing.assert_allclose(r.float().numpy(), torch.matrix_exp(torch.from_numpy(
            ember.tensor(x).to(dt).float().numpy())).numpy(), rtol=2e-2, atol=2e-2)
    assert ember.matrix_exp(ember.randn(2, 2, requires_grad=True)).grad_fn.name() == \
        "LinalgMatrixExpBackward0"
    for shape, dt in [((3,), "float32"), ((2, 3), "float32"), ((3, 3), "int64"),
                      ((3, 3), "bool")]:
        te, ee = check_raises(lambda t, a: t.matrix_exp(a), [shape], dt)
        assert str(te) == str(ee)


def test_matrix_power_torch_forms():
    check(lambda t, a: t.matrix_power(a, 3), [(2, 3, 3)], "float64")
    check(lambda t, a: a.matrix_power(-2), [(3, 3)], "float64")
    check(lambda t, a: t.matrix_power(a, 0), [(3, 3)], "float64")
    check(lambda t, a: t.matrix_power(a, 2), [(3, 3)], "int64")
    for shape in [(3,), (2, 3)]:
        te, ee = check_raises(lambda t, a: t.matrix_power(a, 2), [shape])
        assert str(te) == str(ee)
    check_linalg_error(lambda t, a: t.matrix_power(a, -1), [np.zeros((3, 3))])


@pytest.mark.parametrize("dt", FC)
@pytest.mark.parametrize("shape,some", [((3, 3), True), ((4, 2), True), ((2, 2, 4), True),
                                        ((4, 2), False), ((2, 4), False)])
def test_svd_legacy(dt, shape, some):
    def fn(t, a):
        r = t.svd(a, some=some)
        assert type(r).__name__ == "svd" and r.V is r[2] and r.U is r[0]
        u, s, v = r
        k = s.shape[-1]
        # V (not V^H): A = U[:, :k] diag(S) V[:, :k]^H; projectors are sign/phase-invariant
        rec = (u[..., :k] * s.to(u.dtype).unsqueeze(-2)) @ v[..., :k].mH
        return s, rec, u[..., :k] @ u[..., :k].mH, v[..., :k] @ v[..., :k].mH, \
            tuple(u.shape), tuple(v.shape)
    check(fn, [shape], dt, rtol=1e-4, atol=1e-4)
    check(lambda t, a: a.svd()[1], [shape], dt, rtol=1e-4, atol=1e-4)


def test_svd_legacy_no_uv():
    t_out, e_out = check(lambda t, a: t.svd(a, compute_uv=False), [(2, 3, 5)], "float64")
    assert not e_out.U.requires_grad and e_out.S.requires_grad
    check(lambda t, a: t.svd(a, some=False, compute_uv=False), [(4, 2)])
    te, ee = check_raises(lambda t, a: t.svd(a), [(3, 3)], "int64")
    assert str(te) == str(ee)


@pytest.mark.parametrize("dt", FC)
@pytest.mark.parametrize("shape,some", [((4, 3), True), ((4, 3), False), ((2, 3, 3), True),
                                        ((3, 5), True)])
def test_qr_legacy(dt, shape, some):
    t_out, e_out = check(lambda t, a: t.qr(a, some=some), [shape], dt, rtol=1e-4, atol=1e-4,
                         grad=not (some is False and shape[0] > shape[1]))
    assert type(e_out).__name__ == "qr" and e_out.R is e_out[1]
    check(lambda t, a: a.qr(), [shape], dt, rtol=1e-4, atol=1e-4)


def test_legacy_warnings_once():
    import warnings
    from ember._ops import linalg as ops_linalg
    a = ember.randn(3, 3, dtype=ember.float64)
    spd = a @ a.mT + 3 * ember.eye(3, dtype=ember.float64)
    calls = {"qr": lambda: ember.qr(a), "cholesky": lambda: ember.cholesky(spd),
             "triangular_solve": lambda: ember.triangular_solve(a, spd),
             "lu": lambda: ember.lu(a),
             "lu_solve": lambda: ember.lu_solve(a, *ember.linalg.lu_factor(a))}
    for name, call in calls.items():
        ops_linalg._warned.discard(name)
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            call()
            call()
        assert len(rec) == 1 and rec[0].category is UserWarning, name
        assert str(rec[0].message).startswith(f"torch.{name} is deprecated"), name
        assert rec[0].filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # svd, cholesky_solve/inverse, lu_unpack: no warning
        ember.svd(a)
        ember.cholesky_inverse(ember.linalg.cholesky(spd))
        ember.cholesky_solve(a, ember.linalg.cholesky(spd))
        ember.lu_unpack(*ember.linalg.lu_factor(a))


@pytest.mark.parametrize("dt", FC)
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_legacy(dt, upper):
    check(lambda t, a: t.cholesky(_spd(t, a), upper=upper), [(2, 3, 3)], dt)
    check(lambda t, a: _spd(t, a).cholesky(upper=upper), [(3, 3)], dt)


def test_cholesky_reads_one_triangle():
    # garbage in the triangle not read; the gradient is Hermitian (not folded on the triangle)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 3))
    s = x @ x.T + 3 * np.eye(3)
    for g in (np.triu(rng.standard_normal((3, 3)), 1), np.tril(rng.standard_normal((3, 3)), -1)):
        for upper in (False, True):
            check(lambda t, a: t.linalg.cholesky(a, upper=upper), inputs=[s + g])
            check(lambda t, a: t.cholesky(a, upper=upper), inputs=[s + g])


def test_cholesky_legacy_errors():
    m = np.eye(3)
    m[1, 1] = -1
    check_linalg_error(lambda t, a: t.cholesky(a), [m])
    check_linalg_error(lambda t, a: t.cholesky(a, upper=True), [np.stack([np.eye(3), m])])
    for shape, dt in [((3,), "float32"), ((2, 3), "float32"), ((3, 3), "int64")]:
        te, ee = check_raises(lambda t, a: t.cholesky(a), [shape], dt)
        assert str(te) == str(ee)


@pytest.mark.parametrize("dt", FC)
@pytest.mark.parametrize("upper", [False, True])
def test_solve_triangular(dt, upper):
    tri = (lambda x: x.triu()) if upper else (lambda x: x.tril())
    for unit in (False, True):
        kw = dict(upper=upper, unitriangular=unit)
        # A carries garbage in the other triangle: the result and gradient must ignore it
        check(lambda t, a, b: t.linalg.solve_triangular(_lower(t, a), b, **kw),
              [(3, 3), (3, 2)], dt, rtol=1e-4, atol=1e-4)
        check(lambda t, a, b: t.linalg.solve_triangular(_lower(t, a), b, left=False, **kw),
              [(2, 3, 3), (4, 3)], dt, rtol=1e-4, atol=1e-4)
    check(lambda t, a, b: t.linalg.solve_triangular(tri(_lower(t, a)), b, upper=upper),
          [(2, 1, 3, 3), (3, 3, 1)], dt, rtol=1e-4, atol=1e-4)   # batch broadcasting


def test_solve_triangular_edges():
    check(lambda t, a, b: t.linalg.solve_triangular(a, b, upper=True), [(3, 3), (3, 2)],
          ("float64", "float32"))   # promotes
    z = np.triu(make_array((3, 3), "float64"))
    z[1, 1] = 0
    check(lambda t, a, b: t.linalg.solve_triangular(a, b, upper=True),
          inputs=[z, make_array((3, 2), "float64")], grad=False)   # inf/NaN, no error
    check(lambda t, a, b: t.linalg.solve_triangular(a, b, upper=False), [(0, 0), (0, 2)])
    for fn, shapes, dts in [
        (lambda t, a, b: t.linalg.solve_triangular(a, b, upper=True), [(3, 3), (2, 2)], "float32"),
        (lambda t, a, b: t.linalg.solve_triangular(a, b, upper=True), [(3, 3), (3,)], "float32"),
        (lambda t, a, b: t.linalg.solve_triangular(a, b, upper=True), [(2, 3), (2, 2)], "float32"),
        (lambda t, a, b: t.linalg.solve_triangular(a, b, upper=True, left=False),
         [(3, 3), (3, 2)], "float32"),
        (lambda t, a, b: t.linalg.solve_triangular(a, b, upper=True), [(3, 3), (3, 3)], "int64"),
    ]:
        te, ee = check_raises(fn, shapes, dts)
        assert str(te) == str(ee)


@pytest.mark.parametrize("dt", FC)
@pytest.mark.parametrize("upper,transpose,unit", [(True, False, False), (False, False, False),
                                                  (True, True, False), (False, True, True)])
def test_triangular_solve_legacy(dt, upper, transpose, unit):
    kw = dict(upper=upper, transpose=transpose, unitriangular=unit)
    t_out, e_out = check(lambda t, b, a: t.triangular_solve(b, _lower(t, a), **kw),
                         [(3, 2), (3, 3)], dt, rtol=1e-4, atol=1e-4)
    assert type(e_out).__name__ == "triangular_solve"
    check(lambda t, b, a: b.triangular_solve(_lower(t, a), **kw), [(4, 3, 2), (3, 3)], dt,
          rtol=1e-4, atol=1e-4)
    check(lambda t, b, a: t.triangular_solve(b, _lower(t, a), **kw), [(3, 1), (2, 3, 3)], dt,
          rtol=1e-4, atol=1e-4)


def test_triangular_solve_errors():
    for shapes, dts in [([(3,), (3, 3)], "float32"), ([(3, 2), (3,)], "float32"),
                        ([(3, 2), (3, 3)], ("float32", "float64")), ([(3, 2), (2, 3)], "float32"),
                        ([(2, 2), (3, 3)], "float32"), ([(3, 2), (3, 3)], "int64")]:
        te, ee = check_raises(lambda t, b, a: t.triangular_solve(b, a), shapes, dts)
        assert str(te) == str(ee)


@pytest.mark.parametrize("dt", FC)
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_solve_inverse(dt, upper):
    # the factor has garbage in its unread triangle: values ignore it, torch's gradient does not
    def factor(t, a):
        f = t.linalg.cholesky(_spd(t, a.detach()), upper=upper)
        return f + (a - a.detach()) + (a.detach().tril(-1) if upper else a.detach().triu(1))
    check(lambda t, b, a: t.cholesky_solve(b, factor(t, a), upper), [(3, 2), (3, 3)], dt,
          rtol=1e-4, atol=1e-4)
    check(lambda t, b, a: b.cholesky_solve(factor(t, a), upper=upper), [(4, 3, 2), (3, 3)], dt,
          rtol=1e-4, atol=1e-4)
    check(lambda t, a: t.cholesky_inverse(factor(t, a), upper), [(2, 3, 3)], dt, rtol=1e-4,
          atol=1e-4)
    check(lambda t, a: factor(t, a).cholesky_inverse(upper=upper), [(3, 3)], dt, rtol=1e-4,
          atol=1e-4)


def test_cholesky_solve_inverse_values_and_errors():
    a = ember.randn(4, 4, dtype=ember.float64)
    spd = a @ a.mT + 4 * ember.eye(4, dtype=ember.float64)
    b = ember.randn(4, 2, dtype=ember.float64)
    L = ember.linalg.cholesky(spd)
    np.testing.assert_allclose(ember.cholesky_solve(b, L).numpy(),
                               np.linalg.solve(spd.numpy(), b.numpy()), rtol=1e-10)
    np.testing.assert_allclose(ember.cholesky_inverse(L.mT, upper=True).numpy(),
                               np.linalg.inv(spd.numpy()), rtol=1e-10)
    for fn, shapes, dts in [
        (lambda t, b, l: t.cholesky_solve(b, l), [(3,), (3, 3)], "float32"),
        (lambda t, b, l: t.cholesky_solve(b, l), [(3, 2), (3,)], "float32"),
        (lambda t, b, l: t.cholesky_solve(b, l), [(3, 2), (3, 3)], ("float32", "float64")),
        (lambda t, b, l: t.cholesky_solve(b, l), [(3, 3), (2, 3)], "float32"),
        (lambda t, b, l: t.cholesky_solve(b, l), [(2, 3), (3, 3)], "float32"),
        (lambda t, b, l: t.cholesky_solve(b, l), [(3, 3), (3, 3)], "int64"),
        (lambda t, l: t.cholesky_inverse(l), [(3,)], "float32"),
        (lambda t, l: t.cholesky_inverse(l), [(2, 3)], "float32"),
        (lambda t, l: t.cholesky_inverse(l), [(3, 3)], "int64"),
    ]:
        te, ee = check_raises(fn, shapes, dts)
        assert str(te) == str(ee)
    check_linalg_error(lambda t, a: t.cholesky_inverse(a), [np.zeros((3, 3))])
    check_linalg_error(lambda t, a: t.cholesky_inverse(a), [np.stack([np.eye(3), np.eye(3) * 0])])


@pytest.mark.parametrize("dt", ["float32", "complex128"])
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (5, 3), (2, 3, 5)])
def test_lu(dt, shape):
    check(lambda t, a: tuple(t.linalg.lu(a)), [shape], dt, rtol=1e-4, atol=1e-4)
    t_out, e_out = check(lambda t, a: t.linalg.lu_factor(a), [shape], dt, rtol=1e-4, atol=1e-4)
    assert type(e_out).__name__ == "linalg_lu_factor"
    check(lambda t, a: tuple(t.linalg.lu_factor_ex(a)), [shape], dt, rtol=1e-4, atol=1e-4)
    check(lambda t, a: tuple(t.lu_unpack(*t.linalg.lu_factor(a))), [shape], dt, rtol=1e-4,
          atol=1e-4)
    check(lambda t, a: tuple(t.lu(a, get_infos=True)), [shape], dt, rtol=1e-4, atol=1e-4)


def test_lu_return_types_and_pivots():
    a = make_array((2, 4, 4), "float64")
    r = ember.linalg.lu_factor(ember.tensor(a))
    assert type(r).__name__ == "linalg_lu_factor" and r._fields == ("LU", "pivots")
    assert r.pivots.dtype == ember.int32
    rx = ember.linalg.lu_factor_ex(ember.tensor(a))
    assert rx._fields == ("LU", "pivots", "info") and rx.info.dtype == ember.int32
    rl = ember.linalg.lu(ember.tensor(a))
    assert type(rl).__name__ == "linalg_lu" and rl._fields == ("P", "L", "U")
    np.testing.assert_allclose((rl.P @ rl.L @ rl.U).numpy(), a, atol=1e-12)
    ru = ember.lu_unpack(r.LU, r.pivots, unpack_data=False)
    assert type(ru).__name__ == "lu_unpack" and ru.L.shape == (0,) and ru.P.shape == (2, 4, 4)
    ru = ember.lu_unpack(r.LU, r.pivots, unpack_pivots=False)
    assert ru.P.shape == (0,) and ru.U.shape == (2, 4, 4)
    res = ember.lu(ember.tensor(a))
    assert type(res) is tuple and len(res) == 2 and ember.tensor(a).lu()[1].dtype == ember.int32
    z = np.stack([np.eye(3), np.zeros((3, 3))])
    check(lambda t, a: tuple(t.linalg.lu_factor_ex(a)), inputs=[z], grad=False)
    check(lambda t, a: tuple(t.linalg.lu(a)), inputs=[z], grad=False)


def test_lu_errors():
    z = np.stack([np.eye(3), np.zeros((3, 3))])
    m = np.diag([1.0, 0.0])
    for fn, inputs in [(lambda t, a: t.linalg.lu_factor(a), [z]),
                       (lambda t, a: t.linalg.lu_factor(a), [m]),
                       (lambda t, a: t.linalg.lu_factor(a), [np.zeros(3)]),
                       (lambda t, a: t.linalg.lu(a), [np.zeros(3)]),
                       (lambda t, a: t.linalg.lu(a, pivot=False), [np.eye(3)]),
                       (lambda t, a: t.linalg.lu_factor(a), [np.eye(3, dtype=np.int64)]),
                       (lambda t, a: t.lu_unpack(a, t.ones(3, dtype=t.int64)), [np.eye(3)]),
                       (lambda t, a: t.lu_unpack(a, t.tensor([4, 3, 3], dtype=t.int32)),
                        [np.eye(3)]),
                       (lambda t, a: t.lu_unpack(a[0], t.ones(3, dtype=t.int32)), [np.eye(3)])]:
        te, ee = check_raises(fn, inputs=inputs)
        assert str(te) == str(ee)


@pytest.mark.parametrize("dt", ["float64", "complex64"])
@pytest.mark.parametrize("left,adjoint", [(True, False), (True, True), (False, False),
                                          (False, True)])
def test_lu_solve(dt, left, adjoint):
    bshape = (4, 3, 2) if left else (4, 2, 3)
    check(lambda t, a, b: t.linalg.lu_solve(*t.linalg.lu_factor(a), b, left=left,
                                            adjoint=adjoint), [(3, 3), bshape], dt, rtol=1e-4,
          atol=1e-4)
    # gradient reaching LU directly (not through A)
    check(lambda t, a, b: t.linalg.lu_solve(a, t.linalg.lu_factor(a.detach()).pivots, b,
                                            left=left, adjoint=adjoint),
          [(2, 3, 3), bshape[1:]], dt, rtol=1e-4, atol=1e-4)


def test_lu_solve_legacy_and_errors():
    check(lambda t, a, b: t.lu_solve(b, *t.linalg.lu_factor(a)), [(2, 3, 3), (3, 2)], "float64")
    check(lambda t, a, b: b.lu_solve(*t.linalg.lu_factor(a)), [(3, 3), (3, 1)], "float64")
    a = make_array((3, 3), "float64")

    def lu(t):
        return t.linalg.lu_factor(t.tensor(a))
    for fn, shapes, dts in [
        (lambda t, b: t.linalg.lu_solve(*lu(t), b), [(2, 3)], "float64"),
        (lambda t, b: t.linalg.lu_solve(*lu(t), b), [(3,)], "float64"),
        (lambda t, b: t.linalg.lu_solve(*lu(t), b), [(3, 2)], "float32"),
        (lambda t, b: t.linalg.lu_solve(*lu(t), b, left=False), [(3, 2)], "float64"),
        (lambda t, b: t.linalg.lu_solve(lu(t)[0][:2], lu(t)[1], b), [(2, 2)], "float64"),
        (lambda t, b: t.linalg.lu_solve(lu(t)[0], lu(t)[1].long(), b), [(3, 2)], "float64"),
        (lambda t, b: t.linalg.lu_solve(lu(t)[0], lu(t)[1][:2], b), [(3, 2)], "float64"),
    ]:
        te, ee = check_raises(fn, shapes, dts)
        assert str(te) == str(ee)


@pytest.mark.parametrize("p", [2, 1, 3, 0.5, 0, float("inf")])
def test_pdist(p):
    check(lambda t, a: t.pdist(a, p), [(5, 3)], "float64")
    check(lambda t, a: t.pdist(a, p), [(4, 2)], "float32")
    # repeated rows (zero distances) and repeated coordinates (zeros in the differences)
    x = make_array((3, 3), "float64")
    x[1] = x[0]
    x[2, 0] = x[0, 0]
    x[2, 1] = x[0, 1] + 1.0
    x[2, 2] = x[0, 2] - 1.0   # |d| ties in the inf-norm
    check(lambda t, a: t.pdist(a, p), inputs=[x])


def test_pdist_edges():
    check(lambda t, a: t.pdist(a), [(1, 3)])
    check(lambda t, a: t.pdist(a), [(3, 0)])
    for shape, dt, p in [((2, 3, 4), "float32", 2), ((3, 4), "int64", 2),
                         ((3, 4), "float16", 2), ((3, 4), "float32", -1)]:
        te, ee = check_raises(lambda t, a: t.pdist(a, p), [shape], dt)
        assert str(te) == str(ee)


def test_cosine_similarity_pairwise_distance():
    check(lambda t, a, b: t.cosine_similarity(a, b), [(4, 3), (4, 3)], "float64")
    check(lambda t, a, b: t.cosine_similarity(a, b, dim=-1, eps=0.5), [(2, 1, 3), (4, 3)])
    # broadcasting along dim itself: the norms run over the broadcast inputs
    check(lambda t, a, b: t.cosine_similarity(a, b, dim=0), [(4, 3), (1, 3)], "float64")
    check(lambda t, a, b: t.cosine_similarity(a * 0, b), [(4, 3), (4, 3)], "float64")
    # a norm under eps: torch clamps it outside autograd, so its gradient still flows
    check(lambda t, a, b: t.cosine_similarity(a * 1e-10, b), [(4, 3), (4, 3)], "float64")
    check(lambda t, a, b: t.cosine_similarity(a, b), [(4, 3), (4, 3)], ("int64", "float64"))
    te, ee = check_raises(lambda t, a, b: t.cosine_similarity(a, b), [(4, 3), (4, 3)], "int64")
    assert str(te) == str(ee)
    for p in (2, 1, 3, 0, float("inf")):
        check(lambda t, a, b: t.pairwise_distance(a, b, p), [(4, 3), (4, 3)], "float64")
    check(lambda t, a, b: t.pairwise_distance(a, b, keepdim=True, eps=0.1), [(2, 1, 3), (4, 3)])
    check(lambda t, a, b: t.pairwise_distance(a, b), [(), ()], "float64")
    check(lambda t, a, b: t.pairwise_distance(a, b), [(4, 3), (4, 3)], "int64")
    check_raises(lambda t, a, b: t.pairwise_distance(a, b), [(3, 3), (2, 3)])
    assert not hasattr(ember.Tensor, "pdist") and not hasattr(ember.Tensor, "lu_unpack")


@pytest.mark.parametrize("name,fn", [
    ("matrix_exp", lambda t, a: t.matrix_exp(a)),
    ("solve_triangular", lambda t, a: t.linalg.solve_triangular(a + 3 * t.eye(3, dtype=a.dtype),
                                                                a, upper=True)),
    ("triangular_solve", lambda t, a: t.triangular_solve(a, a + 3 * t.eye(3, dtype=a.dtype),
                                                         transpose=True)[0]),
    ("cholesky_solve", lambda t, a: t.cholesky_solve(a, t.linalg.cholesky(_spd(t, a)))),
    ("cholesky_inverse", lambda t, a: t.cholesky_inverse(a + 3 * t.eye(3, dtype=a.dtype))),
    ("lu", lambda t, a: t.linalg.lu(a)[1] + t.linalg.lu(a)[2]),
    ("lu_solve", lambda t, a: t.linalg.lu_solve(*t.linalg.lu_factor(a), a)),
    # torch has no double backward for pdist: compare with the same norms of row differences
    ("pdist", lambda t, a: t.pdist(a, 3) if t is ember else t.linalg.vector_norm(
        a[t.tensor([0, 0, 1])] - a[t.tensor([1, 2, 2])], 3, -1)),
])
def test_double_backward_legacy(name, fn):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _double_backward(fn, (3, 3))


def test_slogdet_return_type():
    r = [t.slogdet(t.tensor([[2.0, 1.0], [1.0, 3.0]])) for t in (torch, ember)]
    assert type(r[1]).__name__ == type(r[0]).__name__ == "slogdet"
    assert repr(r[1]) == repr(r[0]).replace("torch.", "ember.")
