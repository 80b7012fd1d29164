"""Differential tests of the less common linear algebra against torch: LAPACK's compact forms
(geqrf, householder_product/orgqr, ormqr, ldl_factor/ldl_solve), linalg.cond, tensorinv,
tensorsolve, linalg.vander, the legacy norms, the removed functions, and the randomized or
iterative solvers (svd_lowrank, pca_lowrank, lobpcg), whose results are checked by their
properties."""
import warnings

import numpy as np
import pytest
import torch

import ember
from oracle import check, check_raises, make_array

FC = ("float32", "float64", "complex64", "complex128")
TOL = dict(rtol=1e-4, atol=1e-5)


def _same_error(fn, shapes=(), dtypes="float32", inputs=None):
    te, ee = check_raises(fn, shapes, dtypes, inputs=inputs)
    assert str(ee) == str(te).replace("torch.Size", "ember.Size")


# ------------------------------------------------------------------------------ geqrf
@pytest.mark.parametrize("dt", FC)
@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (2, 4, 4), (0, 3), (2, 3, 0)])
def test_geqrf(dt, shape):
    t, e = check(lambda t, a: t.geqrf(a), [shape], dt, grad=False)
    assert type(e).__name__ == "geqrf" and e.a is e[0] and e.tau is e[1]
    check(lambda t, a: a.geqrf(), [shape], dt, grad=False)


def test_geqrf_reconstructs_and_has_no_derivative():
    a = make_array((5, 3), "float64")
    qr, tau = ember.geqrf(ember.tensor(a))
    Q = ember.linalg.householder_product(qr, tau)
    np.testing.assert_allclose((Q @ qr.triu()[:3]).numpy(), a, atol=1e-12)
    for lib in (torch, ember):
        x = lib.tensor(a, requires_grad=True)
        r = lib.geqrf(x)
        assert r.a.grad_fn.name() == "GeqrfBackward0"
        with pytest.raises(NotImplementedError, match="the derivative for 'geqrf' is not "
                                                      "implemented."):
            r.a.sum().backward()


@pytest.mark.parametrize("shape,dt", [((3,), "float32"), ((3, 3), "int64"), ((3, 3), "bool"),
                                      ((3, 3), "float16")])
def test_geqrf_errors(shape, dt):
    _same_error(lambda t, a: t.geqrf(a), [shape], dt)


# ------------------------------------------------------------------------------ householder
@pytest.mark.parametrize("dt", FC)
@pytest.mark.parametrize("sa,st", [((5, 3), (3,)), ((5, 3), (2,)), ((2, 4, 4), (2, 4)),
                                   ((4, 0), (0,)), ((4, 2), (0,))])
def test_householder_product(dt, sa, st):
    # arbitrary tau (not only geqrf's): the product and the gradients are torch's
    check(lambda t, a, tau: t.linalg.householder_product(a, tau), [sa, st], dt, **TOL)
    if sa == (5, 3):
        check(lambda t, a, tau: (t.orgqr(a, tau), a.orgqr(tau)), [sa, st], dt, **TOL)


@pytest.mark.parametrize("dt", FC)
def test_householder_product_of_geqrf_is_q(dt):
    def fn(t, a):
        qr, tau = t.geqrf(a.detach())
        qr, tau = qr.requires_grad_(), tau.requires_grad_()
        q = t.linalg.householder_product(qr, tau)
        return q, q.mH @ q, q @ qr.triu()[..., :3, :]
    check(fn, [(2, 5, 3)], dt, grad=False, **TOL)


@pytest.mark.parametrize("fn", [
    lambda t, a, tau, c: t.linalg.householder_product(a, tau),
    lambda t, a, tau, c: t.ormqr(a, tau, c, transpose=True),
    lambda t, a, tau, c: t.ormqr(a, tau, c.mT, left=False)])
def test_reflector_double_backward(fn):
    arrays = [make_array(s, "complex128", np.random.default_rng(i))
              for i, s in enumerate([(4, 3), (3,), (4, 2)])]
    res = []
    for lib in (torch, ember):
        xs = [lib.tensor(a, requires_grad=True) for a in arrays]
        y = fn(lib, *xs)
        gs = lib.autograd.grad((y * y.sin()).abs().sum(), xs, create_graph=True,
                               allow_unused=True)
        loss = sum((g.abs() ** 2).sum() for g in gs if g is not None)
        res.append([g.detach().numpy() for g in lib.autograd.grad(loss, xs, allow_unused=True)
                    if g is not None])
    assert len(res[1]) == len(res[0])
    for e, t in zip(res[1], res[0]):
        np.testing.assert_allclose(e, t, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("sa,st,dts", [
    ((3, 4), (2,), "float32"), ((4, 3), (4,), "float32"), ((2, 4, 3), (2,), "float32"),
    ((2, 4, 3), (1, 2), "float32"), ((4, 3), (2,), ("float32", "float64")),
    ((4, 3), (2,), "int32"), ((4,), (2,), "float32"), ((4, 3), (), "float32"),
    ((4, 3), (2,), "float16")])
def test_householder_product_errors(sa, st, dts):
    _same_error(lambda t, a, tau: t.linalg.householder_product(a, tau), [sa, st], dts)


# ------------------------------------------------------------------------------ ormqr
@pytest.mark.parametrize("dt", FC)
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("sa,st,sc", [((5, 3), (3,), (5, 4)), ((3, 5), (3,), (3, 2)),
                                      ((2, 4, 4), (2, 4), (2, 4, 3))])
def test_ormqr(dt, left, transpose, sa, st, sc):
    sc = sc if left else sc[:-2] + sc[-2:][::-1]
    check(lambda t, a, tau, c: t.ormqr(a, tau, c, left, transpose), [sa, st, sc], dt, **TOL)
    if dt == "complex128":
        check(lambda t, a, tau, c: a.ormqr(tau, c, left=left, transpose=transpose),
              [sa, st, sc], dt, **TOL)


def test_ormqr_applies_q_of_geqrf():
    a, c = make_array((5, 3), "complex128"), make_array((5, 2), "complex128")
    qr, tau = ember.geqrf(ember.tensor(a))
    Q = ember.linalg.householder_product(qr, tau)     # the first 3 columns of the 5 x 5 Q
    QC = ember.ormqr(qr, tau, ember.tensor(c), transpose=True)
    np.testing.assert_allclose(QC[:3].numpy(), (Q.mH @ ember.tensor(c)).numpy(), atol=1e-12)


@pytest.mark.parametrize("sa,st,sc,dts,kw", [
    ((4, 3), (2,), (4, 5), "float32", {}), ((5, 6), (4,), (4, 5), "float32", {"left": False}),
    ((4, 6), (4,), (4, 5), "float32", {"left": False}), ((4, 3), (3,), (5, 5), "float32", {}),
    ((4, 3), (3,), (4, 5), ("float32", "float32", "float64"), {}),
    ((4, 3), (3,), (4, 5), ("float32", "float64", "float32"), {}),
    ((4, 3), (3,), (2, 4, 5), "float32", {}), ((2, 4, 3), (1, 3), (2, 4, 5), "float32", {}),
    ((2, 4, 3), (2, 3), (1, 4, 5), "float32", {}), ((4, 3), (3,), (4,), "float32", {}),
    ((4,), (3,), (4, 5), "float32", {}), ((4, 3), (), (4, 5), "float32", {}),
    ((4, 3), (3,), (4, 5), "int32", {}), ((4, 3), (3,), (4, 5), "float16", {})])
def test_ormqr_errors(sa, st, sc, dts, kw):
    _same_error(lambda t, a, tau, c: t.ormqr(a, tau, c, **kw), [sa, st, sc], dts)


# ------------------------------------------------------------------------------ LDL
def _sym(x, hermitian):
    return x + (x.mH if hermitian else x.mT)


@pytest.mark.parametrize("dt", FC)
@pytest.mark.parametrize("hermitian", [False, True])
@pytest.mark.parametrize("shape", [(5, 5), (2, 4, 4), (1, 1), (0, 0), (2, 0, 0)])
def test_ldl_factor(dt, hermitian, shape):
    fn = lambda t, a: t.linalg.ldl_factor(_sym(a, hermitian), hermitian=hermitian)  # noqa: E731
    t, e = check(fn, [shape], dt, grad=False, **TOL)
    assert type(e).__name__ == "linalg_ldl_factor" and e.pivots.dtype == ember.int32
    t, e = check(lambda t, a: t.linalg.ldl_factor_ex(_sym(a, hermitian), hermitian=hermitian),
                 [shape], dt, grad=False, **TOL)
    assert type(e).__name__ == "linalg_ldl_factor_ex" and e.info.dtype == ember.int32


@pytest.mark.parametrize("dt", FC)
@pytest.mark.parametrize("hermitian", [False, True])
@pytest.mark.parametrize("sa,sb", [((4, 4), (4, 2)), ((2, 3, 3), (2, 3, 1)),
                                   ((3, 3), (2, 3, 2)), ((2, 3, 3), (3, 2))])
def test_ldl_solve(dt, hermitian, sa, sb):
    def fn(t, a, b):
        A = _sym(a, hermitian)
        LD, piv = t.linalg.ldl_factor(A, hermitian=hermitian)
        X = t.linalg.ldl_solve(LD, piv, b, hermitian=hermitian)
        return X, A @ X - b
    check(fn, [sa, sb], dt, grad=False, rtol=1e-3, atol=1e-4)


def test_ldl_pivots_two_by_two_blocks():
    # a zero diagonal forces 2x2 pivots (negative pairs)
    a = np.array([[0., 1, 2], [1, 0, 3], [2, 3, 0]])
    t, e = check(lambda t, x: t.linalg.ldl_factor(x), inputs=[a], grad=False)
    assert (e.pivots.numpy() < 0).any()
    check(lambda t, x, b: t.linalg.ldl_solve(*t.linalg.ldl_factor(x), b),
          inputs=[a, make_array((3, 2), "float64")], grad=False)


def test_ldl_singular_and_no_derivative():
    z = np.zeros((2, 3, 3))
    z[1] = np.eye(3)
    check(lambda t, a: t.linalg.ldl_factor_ex(a), inputs=[z], grad=False)
    check_raises(lambda t, a: t.linalg.ldl_factor(a), inputs=[z])
    check_raises(lambda t, a: t.linalg.ldl_factor_ex(a, check_errors=True), inputs=[z])
    a = make_array((3, 3), "float64")
    a = a + a.T
    for lib in (torch, ember):
        x = lib.tensor(a, requires_grad=True)
        LD, piv = lib.linalg.ldl_factor(x)
        assert LD.requires_grad and not piv.requires_grad
        with pytest.raises(RuntimeError, match="derivative for aten::linalg_ldl_factor_ex is "
                                               "not implemented"):
            LD.sum().backward()
        b = lib.ones(3, 1, dtype=lib.float64, requires_grad=True)
        X = lib.linalg.ldl_solve(LD.detach(), piv, b)
        with pytest.raises(RuntimeError, match="derivative for aten::linalg_ldl_solve is not "
                                               "implemented"):
            X.sum().backward()


@pytest.mark.parametrize("shape,dt", [((3, 4), "float32"), ((3,), "float32"),
                                      ((3, 3), "int32"), ((3, 3), "float16"),
                                      ((3, 3), "bool")])
def test_ldl_factor_errors(shape, dt):
    _same_error(lambda t, a: t.linalg.ldl_factor(a), [shape], dt)


@pytest.mark.parametrize("mod,sb,dtb", [
    (lambda t, ld, p: (ld, p), (4,), "float32"), (lambda t, ld, p: (ld, p), (5, 3), "float32"),
    (lambda t, ld, p: (ld, p), (4, 3), "float64"), (lambda t, ld, p: (ld, p), (4, 3), "int32"),
    (lambda t, ld, p: (ld, p[:3]), (4, 3), "float32"),
    (lambda t, ld, p: (ld, p.float()), (4, 3), "float32"),
    (lambda t, ld, p: (ld[:, :3], p), (4, 3), "float32"),
    (lambda t, ld, p: (ld[0], p), (4, 3), "float32"),
    (lambda t, ld, p: (ld.int(), p), (4, 3), "int32"),
    (lambda t, ld, p: (ld.half(), p), (4, 3), "float16")])
def test_ldl_solve_errors(mod, sb, dtb):
    a = make_array((4, 4), "float32")
    a = a + a.T

    def fn(t, x, b):
        LD, piv = mod(t, *t.linalg.ldl_factor(x))
        return t.linalg.ldl_solve(LD, piv, b)
    _same_error(fn, inputs=[a, make_array(sb, dtb)])


# ------------------------------------------------------------------------------ cond
ORDS = [None, 2, -2, "fro", "nuc", 1, -1, float("inf"), float("-inf")]


@pytest.mark.parametrize("dt", FC)
@pytest.mark.parametrize("p", ORDS)
def test_cond(dt, p):
    # torch 2.13's backward of the inverse-based orders fails (an in-place check in its own
    # graph): their gradients are compared with the product of norms below
    grad = p in (None, 2, -2, "nuc")
    check(lambda t, a: t.linalg.cond(a, p), [(2, 3, 3)], dt, grad=grad, **TOL)
    check(lambda t, a: t.linalg.cond(a.mT, p=p), [(4, 4)], dt, grad=grad, **TOL)


@pytest.mark.parametrize("p", [None, 2, -2])
def test_cond_rectangular(p):
    check(lambda t, a: t.linalg.cond(a, p), [(2, 3, 5)], "float64")
    check(lambda t, a: t.linalg.cond(a, p), [(5, 3)], "complex64", **TOL)


@pytest.mark.parametrize("p", ["fro", 1, -1, float("inf"), float("-inf")])
def test_cond_gradient_is_that_of_the_norm_product(p):
    a = make_array((2, 3, 3), "float64")
    g = make_array((2,), "float64")
    x = torch.tensor(a, requires_grad=True)
    want = torch.linalg.matrix_norm(x, p) * torch.linalg.matrix_norm(torch.linalg.inv(x), p)
    want.backward(torch.tensor(g))
    y = ember.tensor(a, requires_grad=True)
    ember.linalg.cond(y, p).backward(ember.tensor(g))
    np.testing.assert_allclose(y.grad.numpy(), x.grad.numpy(), rtol=1e-10)


def test_cond_singular_nan_and_empty():
    s = np.array([[1., 2], [2, 4]])
    batch = np.stack([np.zeros((2, 2)), np.eye(2) * 3, s])
    nan = np.array([[1., np.nan], [2, 4]])
    big = np.diag([1e-30, 1e30]).astype(np.float32)
    for p in ["fro", 1, -1, float("inf"), float("-inf"), None, 2, -2]:
        # the singular values of s are 5 and rounding noise: only LU's verdict is comparable
        by_lu = p not in (None, 2, -2)
        check(lambda t, a: t.linalg.cond(a, p), inputs=[batch if by_lu else batch[:2]],
              grad=False)
        check(lambda t, a: t.linalg.cond(a, p), inputs=[big], grad=False)
        if p not in (None, 2, -2):
            check(lambda t, a: t.linalg.cond(a, p), inputs=[nan], grad=False)
    for shape in [(0, 0), (2, 0, 0)]:
        for dt in ("float32", "int32", "complex64"):
            for p in ORDS:
                check(lambda t, a: t.linalg.cond(a, p), [shape], dt, grad=False)
    for p in [None, 2, 1, -1]:
        check(lambda t, a: t.linalg.cond(a, p), [(0, 3)], grad=False)
    # 'nuc' of a singular matrix: NaN (torch: NaN for a zero matrix, LAPACK's output for an
    # inf-filled inverse otherwise)
    assert ember.linalg.cond(ember.zeros(2, 2), "nuc").isnan().item()
    assert ember.linalg.cond(ember.tensor(s), "nuc").isnan().item()


@pytest.mark.parametrize("shape,dt,p", [
    ((3,), "float32", None), ((3,), "float32", "fro"), ((3,), "float32", 1),
    ((3,), "float32", "foo"), ((3, 3), "float32", 3), ((3, 3), "float32", 0.5),
    ((3, 3), "float32", "foo"), ((3, 4), "float32", "fro"), ((3, 4), "float32", "nuc"),
    ((3, 4), "float32", 1), ((3, 4), "float32", float("-inf")), ((0, 3), "float32", "fro"),
    ((3, 3), "int32", None), ((3, 3), "int32", "nuc"), ((3, 3), "int32", "fro"),
    ((3, 3), "int32", 1), ((3, 3), "bool", 2), ((3, 3), "float16", None),
    ((3, 3), "float16", "nuc"), ((3, 3), "float16", 1)])
def test_cond_errors(shape, dt, p):
    _same_error(lambda t, a: t.linalg.cond(a, p), [shape], dt)


# ------------------------------------------------------------------------------ tensorinv, solve
@pytest.mark.parametrize("dt", FC)
def test_tensorinv(dt):
    check(lambda t, a: t.linalg.tensorinv(a), [(4, 6, 8, 3)], dt, rtol=1e-3, atol=1e-4)
    check(lambda t, a: t.linalg.tensorinv(a, ind=1), [(24, 8, 3)], dt, rtol=1e-3, atol=1e-4)
    check(lambda t, a: t.linalg.tensorinv(a, 3), [(2, 3, 1, 6)], dt, rtol=1e-3, atol=1e-4)
    a = make_array((4, 6, 8, 3), "float64")
    inv = ember.linalg.tensorinv(ember.tensor(a))
    eye = ember.tensordot(ember.tensor(a), inv, 2).reshape(24, 24)
    np.testing.assert_allclose(eye.numpy(), np.eye(24), atol=1e-10)


@pytest.mark.parametrize("shape,ind", [((4, 6, 8, 3), 1), ((4, 6, 8, 3), 0), ((4, 6, 8, 3), 3),
                                       ((4, 6, 8, 3), -1), ((4, 6, 8, 3), 4), ((0, 0), 2)])
def test_tensorinv_errors(shape, ind):
    _same_error(lambda t, a: t.linalg.tensorinv(a, ind), [shape])
    for bad in (1.5, True):
        check_raises(lambda t, a: t.linalg.tensorinv(a, bad), [(4, 4)])
    check_raises(lambda t, a: t.linalg.tensorinv(a), [(2, 2, 4)], "int32")


def test_tensorinv_singular():
    with pytest.raises(torch.linalg.LinAlgError) as te:
        torch.linalg.tensorinv(torch.zeros(2, 2, 4))
    with pytest.raises(ember.linalg.LinAlgError) as ee:
        ember.linalg.tensorinv(ember.zeros(2, 2, 4))
    assert str(ee.value) == str(te.value)


@pytest.mark.parametrize("dt", FC)
def test_tensorsolve(dt):
    check(lambda t, a, b: t.linalg.tensorsolve(a, b), [(2, 3, 6), (2, 3)], dt, rtol=1e-3,
          atol=1e-4)
    check(lambda t, a, b: t.linalg.tensorsolve(a, b), [(6, 2, 3), (6,)], dt, rtol=1e-3,
          atol=1e-4)
    check(lambda t, a, b: t.linalg.tensorsolve(a, b), [(2, 3, 2, 3), (3, 2)], dt, rtol=1e-3,
          atol=1e-4)
    for dims in [(0, 1), (1, 0), [2]]:
        check(lambda t, a, b: t.linalg.tensorsolve(a, b, dims=dims), [(2, 12, 4, 6), (4, 6)]
              if len(dims) == 2 else [(4, 6, 24), (4, 6)], dt, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("sa,sb,dts,kw", [
    ((2, 3, 6), (2, 4), "float32", {}), ((2, 3, 6), (6,), "float32", {}),
    ((2, 3, 5), (2, 3), "float32", {}), ((2, 3, 6), (2, 3), ("float32", "float64"), {}),
    ((2, 3, 6), (2, 3), "int32", {}), ((2, 12, 4, 6), (4, 6), "float32", {"dims": 0}),
    ((2, 12, 4, 6), (4, 6), "float32", {"dims": (5,)})])
def test_tensorsolve_errors(sa, sb, dts, kw):
    check_raises(lambda t, a, b: t.linalg.tensorsolve(a, b, **kw), [sa, sb], dts)
    if "dims" not in kw or kw["dims"] != 0:
        _same_error(lambda t, a, b: t.linalg.tensorsolve(a, b, **kw), [sa, sb], dts)


# ------------------------------------------------------------------------------ vander
@pytest.mark.parametrize("dt", FC + ("int64", "int32", "uint8", "int8"))
def test_linalg_vander(dt):
    check(lambda t, x: t.linalg.vander(x), [(4,)], dt, **TOL)
    check(lambda t, x: t.linalg.vander(x, N=3), [(2, 5)], dt, **TOL)
    check(lambda t, x: t.linalg.vander(x, N=2), [()], dt, **TOL)
    check(lambda t, x: t.linalg.vander(x, N=3), [(0,)], dt, **TOL)


def test_linalg_vander_values_and_gradient_at_zero():
    x = np.array([0., 2., -1., np.inf, np.nan])
    check(lambda t, a: t.linalg.vander(a, N=4), inputs=[x], grad=False)
    check(lambda t, a: t.linalg.vander(a, N=4), inputs=[x[:3]])   # d(x + x^2 + x^3) at 0 is 1
    r = ember.linalg.vander(ember.tensor([3, 2], dtype=ember.uint8), N=6)
    assert r.dtype == ember.int64 and r[0, -1].item() == 243   # no uint8 wrap-around
    # torch.vander: decreasing powers of a 1-D x by default
    assert ember.vander(ember.tensor([1, 2, 3])).tolist()[1] == [4, 2, 1]
    assert ember.linalg.vander(ember.tensor([1, 2, 3])).tolist()[1] == [1, 2, 4]


@pytest.mark.parametrize("shape,dt,kw", [
    ((3,), "float32", {"N": 1}), ((3,), "float32", {"N": -1}), ((3,), "float32", {"N": 0}),
    ((), "float32", {}), ((2, 1), "float32", {}), ((0,), "float32", {}),
    ((3,), "bool", {}), ((3,), "float16", {"N": 3})])
def test_linalg_vander_errors(shape, dt, kw):
    _same_error(lambda t, x: t.linalg.vander(x, **kw), [shape], dt)
    check_raises(lambda t, x: t.linalg.vander(x, N=1.5), [(3,)])
    check_raises(lambda t, x: t.linalg.vander(x, 2), [(3,)])


# ------------------------------------------------------------------------------ legacy norms
@pytest.fixture
def no_deprecation_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield


@pytest.mark.usefixtures("no_deprecation_warnings")
@pytest.mark.parametrize("dt", FC)
def test_nuclear_norm(dt):
    check(lambda t, a: t.nuclear_norm(a), [(3, 4)], dt, **TOL)
    check(lambda t, a: t.nuclear_norm(a), [(2, 3, 4)], dt, **TOL)
    check(lambda t, a: t.nuclear_norm(a, True), [(3, 4)], dt, **TOL)
    check(lambda t, a: t.nuclear_norm(a, keepdim=True), [(3, 4)], dt, **TOL)
    check(lambda t, a: t.nuclear_norm(a, (2, 0), True), [(3, 4, 5)], dt, **TOL)
    check(lambda t, a: t.nuclear_norm(a, dim=[0, 1]), [(3, 4, 5)], dt, **TOL)
    check(lambda t, a: t.nuclear_norm(a), [(0, 4)], dt, **TOL)


@pytest.mark.usefixtures("no_deprecation_warnings")
@pytest.mark.parametrize("dt", FC + ("float16",))
def test_frobenius_norm(dt):
    tol = dict(rtol=1e-2, atol=1e-2) if dt == "float16" else TOL
    check(lambda t, a: t.frobenius_norm(a, (0, 1)), [(3, 4)], dt, **tol)
    check(lambda t, a: t.frobenius_norm(a, (0, 2), True), [(2, 3, 4)], dt, **tol)
    check(lambda t, a: t.frobenius_norm(a, 1), [(2, 3, 4)], dt, **tol)
    check(lambda t, a: t.frobenius_norm(a, (-1,), keepdim=True), [(2, 3, 4)], dt, **tol)
    check(lambda t, a: t.frobenius_norm(a, ()), [(2, 3, 4)], dt, **tol)
    check(lambda t, a: t.frobenius_norm(a, dim=[1, 0]), [(0, 4)], dt, **tol)


@pytest.mark.usefixtures("no_deprecation_warnings")
@pytest.mark.parametrize("fn,shape,dt", [
    (lambda t, a: t.nuclear_norm(a), (3,), "float32"),
    (lambda t, a: t.nuclear_norm(a, (0,)), (2, 3, 4), "float32"),
    (lambda t, a: t.nuclear_norm(a, (0, 0)), (3, 3), "float32"),
    (lambda t, a: t.nuclear_norm(a, 1), (3, 3), "float32"),
    (lambda t, a: t.nuclear_norm(a), (3, 3), "int32"),
    (lambda t, a: t.frobenius_norm(a, (0, 1, 2)), (2, 3, 4), "float32"),
    (lambda t, a: t.frobenius_norm(a, (0, 0)), (3, 4), "float32"),
    (lambda t, a: t.frobenius_norm(a, (5,)), (3, 4), "float32"),
    (lambda t, a: t.frobenius_norm(a, ()), (3, 4), "int32")])
def test_legacy_norm_errors(fn, shape, dt):
    _same_error(fn, [shape], dt)
    check_raises(lambda t, a: t.frobenius_norm(a), [(3, 4)])


def test_legacy_norms_warn_once():
    import ember._ops.linalg as L
    L._warned.discard("nuclear_norm")
    L._warned.discard("frobenius_norm")
    x = ember.randn(3, 3)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        for _ in range(2):
            ember.nuclear_norm(x)
            ember.frobenius_norm(x, (0, 1))
    msgs = [str(m.message) for m in w]
    assert len(msgs) == 2 and "at::nuclear_norm is deprecated" in msgs[0]
    assert "linalg.vector_norm(A, 2., dim, keepdim)" in msgs[1]


# ------------------------------------------------------------------------------ removed functions
@pytest.mark.parametrize("fn", [
    lambda t, a: t.matrix_rank(a), lambda t, a: t.matrix_rank(a, 0.1, True),
    lambda t, a: t.symeig(a), lambda t, a: t.symeig(a, eigenvectors=True, upper=False),
    lambda t, a: t.eig(a), lambda t, a: t.eig(a, True), lambda t, a: t.lstsq(a, a),
    lambda t, a: t.solve(a, a), lambda t, a: a.symeig(), lambda t, a: a.symeig(True),
    lambda t, a: a.eig(), lambda t, a: a.lstsq(a), lambda t, a: a.solve(a)])
def test_removed_functions_raise(fn):
    te, ee = check_raises(fn, [(3, 3)])
    assert type(ee) is RuntimeError and str(ee) == str(te)
    assert str(ee).startswith("This function was deprecated since version 1.9 and is now "
                              "removed")


def test_namespaces():
    for name in ("geqrf", "orgqr", "ormqr", "svd_lowrank", "pca_lowrank", "lobpcg",
                 "nuclear_norm", "frobenius_norm", "matrix_rank", "symeig", "eig", "lstsq",
                 "solve"):
        assert hasattr(torch, name) and hasattr(ember, name), name
    for name in ("geqrf", "orgqr", "ormqr", "symeig", "eig", "lstsq", "solve"):
        assert hasattr(torch.Tensor, name) and hasattr(ember.Tensor, name), name
    for name in ("cond", "tensorinv", "tensorsolve", "vander", "householder_product",
                 "ldl_factor", "ldl_factor_ex", "ldl_solve"):
        assert hasattr(torch.linalg, name) and hasattr(ember.linalg, name), name
    assert ember.vander is not ember.linalg.vander
    assert not hasattr(ember, "cond") or ember.cond is not ember.linalg.cond


# ------------------------------------------------------------------------------ svd_lowrank, pca
def _low_rank(shape, r, dt, seed=0):
    rng = np.random.default_rng(seed)
    *batch, m, n = shape
    a = make_array((*batch, m, r), dt, rng) @ make_array((*batch, r, n), dt, rng)
    return np.asarray(a)


def _orthonormal(x, tol):
    x = x.numpy()
    np.testing.assert_allclose(np.swapaxes(x, -1, -2).conj() @ x, np.broadcast_to(
        np.eye(x.shape[-1]), x.shape[:-2] + (x.shape[-1],) * 2), atol=tol)


@pytest.mark.parametrize("dt", FC)
@pytest.mark.parametrize("shape", [(8, 5), (5, 8), (2, 9, 7)])
def test_svd_lowrank_recovers_a_low_rank_matrix(dt, shape):
    tol = 1e-3 if dt in ("float32", "complex64") else 1e-9
    a = _low_rank(shape, 3, dt)
    ember.manual_seed(0)
    U, S, V = ember.svd_lowrank(ember.tensor(a), q=4)
    Ut, St, Vt = torch.svd_lowrank(torch.tensor(a), q=4)
    for e, t in zip((U, S, V), (Ut, St, Vt)):
        assert e.shape == tuple(t.shape) and str(e.dtype)[6:] == str(t.dtype)[6:]
    np.testing.assert_allclose(S.numpy()[..., :3], St.numpy()[..., :3], rtol=tol, atol=tol)
    assert np.all(S.numpy()[..., 3] < tol * S.numpy()[..., 0])
    _orthonormal(U, tol)
    _orthonormal(V, tol)
    rec = (U * S.to(U.dtype).unsqueeze(-2)) @ V.mH
    np.testing.assert_allclose(rec.numpy(), a, atol=tol * 10)


def test_svd_lowrank_shapes_mean_and_generator():
    a = ember.tensor(_low_rank((20, 10), 2, "float64"))
    for q, want in [(None, 6), (3, 3), (0, 0), (15, 10)]:
        U, S, V = ember.svd_lowrank(a, q=q)
        Ut, St, Vt = torch.svd_lowrank(torch.tensor(a.numpy()), q=q)
        assert (U.shape, S.shape, V.shape) == (Ut.shape, St.shape, Vt.shape)
        assert S.shape == (want,)
    for shape in [(10, 20), (0, 4), (4, 0)]:
        x = np.zeros(shape)
        r, rt = ember.svd_lowrank(ember.tensor(x), q=15), torch.svd_lowrank(torch.tensor(x), q=15)
        assert [tuple(e.shape) for e in r] == [tuple(t.shape) for t in rt]
    # M is subtracted (broadcast to A's shape)
    mean = np.arange(10.0)
    U, S, V = ember.svd_lowrank(a + ember.tensor(mean), q=2, M=ember.tensor(mean))
    np.testing.assert_allclose(((U * S) @ V.mT).numpy(), a.numpy(), atol=1e-9)
    # the sketch is drawn from ember's generator
    ember.manual_seed(3)
    r1 = ember.svd_lowrank(ember.randn(6, 6), q=2, niter=0)
    ember.manual_seed(3)
    r2 = ember.svd_lowrank(ember.randn(6, 6), q=2, niter=0)
    np.testing.assert_array_equal(r1[0].numpy(), r2[0].numpy())


def test_svd_lowrank_gradient_of_singular_values():
    # for a matrix of rank q the sketch spans its range exactly, so dS = U^H dA V exactly (the
    # random sketch drops out) and ember's gradient equals torch's
    a = _low_rank((2, 7, 5), 3, "float64")
    g = make_array((2, 3), "float64")
    grads = []
    for lib in (torch, ember):
        x = lib.tensor(a, requires_grad=True)
        S = lib.svd_lowrank(x, q=3, niter=1)[1]
        S.backward(lib.tensor(g))
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("dt", ("float32", "float64", "complex128"))
def test_pca_lowrank(dt):
    tol = 1e-3 if dt == "float32" else 1e-9
    a = _low_rank((30, 6), 2, dt) + make_array((6,), dt) * 5   # rank 2 after centering
    U, S, V = ember.pca_lowrank(ember.tensor(a), q=3)
    Ut, St, Vt = torch.pca_lowrank(torch.tensor(a), q=3)
    assert (U.shape, S.shape, V.shape, U.dtype.is_complex) == (Ut.shape, St.shape, Vt.shape,
                                                                 Ut.dtype.is_complex)
    np.testing.assert_allclose(S.numpy()[:2], St.numpy()[:2], rtol=tol)
    c = a - a.mean(0)
    np.testing.assert_allclose(((U * S.to(U.dtype)) @ V.mH).numpy(), c, atol=tol * 10)
    # principal directions: the top eigenvectors of the covariance (up to phase)
    w, v = np.linalg.eigh(c.conj().T @ c)
    proj = np.abs(v[:, ::-1][:, :2].conj().T @ V.numpy()[:, :2])
    np.testing.assert_allclose(proj, np.eye(2), atol=tol * 10)
    r = ember.pca_lowrank(ember.tensor(a), center=False)
    assert r[1].shape == (6,)


def test_pca_lowrank_errors():
    for kw in [dict(q=7), dict(q=-1), dict(niter=-1)]:
        te, ee = check_raises(lambda t, a: t.pca_lowrank(a, **kw), [(5, 6)])
        assert str(ee) == str(te)
    check_raises(lambda t, a: t.pca_lowrank(a), [(5,)])
    check_raises(lambda t, a: t.svd_lowrank(a), [(5,)])
    check_raises(lambda t, a: t.svd_lowrank(a), [(5, 4)], "int32")
    check_raises(lambda t, a, m: t.svd_lowrank(a, M=m), [(5, 4), (5, 4)], ("float64", "float32"))
    check_raises(lambda t, a, m: t.svd_lowrank(a, M=m), [(5, 4), (3, 5, 4)])
    check_raises(lambda t, a: t.svd_lowrank(a), [(5, 4)], "float16")


# ------------------------------------------------------------------------------ lobpcg
def _spd_array(shape, seed=0, dt="float64"):
    a = make_array(shape, "float64", np.random.default_rng(seed))
    return (a @ np.swapaxes(a, -1, -2) + np.eye(shape[-1])).astype(dt)


@pytest.mark.parametrize("largest", [True, False, None])
@pytest.mark.parametrize("dt", ["float32", "float64"])
def test_lobpcg_eigenpairs(largest, dt):
    a = _spd_array((2, 15, 15), dt=dt)
    tol = 1e-3 if dt == "float32" else 1e-7
    E, X = ember.lobpcg(ember.tensor(a), k=3, largest=largest)
    Et, Xt = torch.lobpcg(torch.tensor(a), k=3, largest=largest)
    assert E.shape == tuple(Et.shape) and X.shape == tuple(Xt.shape) and E.dtype == \
        getattr(ember, dt)
    np.testing.assert_allclose(E.numpy(), Et.numpy(), rtol=tol)
    w = np.linalg.eigvalsh(a.astype(np.float64))
    want = w[..., ::-1][..., :3] if largest in (True, None) else w[..., :3]   # ordered so
    np.testing.assert_allclose(E.numpy(), want, rtol=tol)
    x = X.numpy().astype(np.float64)
    np.testing.assert_allclose(a @ x, x * E.numpy()[..., None, :], atol=tol * 100)
    _orthonormal(X, tol)


def test_lobpcg_generalized_preconditioned_and_given_x():
    a = _spd_array((15, 15))
    b = np.diag(np.linspace(1, 2, 15))
    E, X = ember.lobpcg(ember.tensor(a), k=2, B=ember.tensor(b))
    Et, _ = torch.lobpcg(torch.tensor(a), k=2, B=torch.tensor(b))
    np.testing.assert_allclose(E.numpy(), Et.numpy(), rtol=1e-7)
    x = X.numpy()
    np.testing.assert_allclose(x.T @ b @ x, np.eye(2), atol=1e-8)   # B-orthonormal
    np.testing.assert_allclose(a @ x, b @ x * E.numpy(), atol=1e-5)
    ik = np.linalg.inv(a)
    E2, _ = ember.lobpcg(ember.tensor(a), k=2, iK=ember.tensor(ik), largest=False)
    np.testing.assert_allclose(E2.numpy(), np.linalg.eigvalsh(a)[:2], rtol=1e-7)
    x0 = make_array((15, 4), "float64")
    E3, X3 = ember.lobpcg(ember.tensor(a), X=ember.tensor(x0))   # k = n = 4
    Et3, _ = torch.lobpcg(torch.tensor(a), X=torch.tensor(x0))
    assert E3.shape == (4,) and X3.shape == (15, 4)
    np.testing.assert_allclose(E3.numpy(), Et3.numpy(), rtol=1e-6)
    E4, X4 = ember.lobpcg(ember.tensor(a), k=2, n=4)
    assert E4.shape == (2,) and X4.shape == (15, 2)


def test_lobpcg_gradient():
    # torch's lobpcg backward is that of the k eigenpairs of (A + A^T) / 2: compare on losses
    # that do not depend on the eigenvectors' signs
    a = _spd_array((2, 12, 12)) + 0.1 * make_array((2, 12, 12), "float64")
    w, W = make_array((2, 3), "float64"), make_array((12, 12), "float64")
    grads = []
    for lib in (torch, ember):
        x = lib.tensor(a, requires_grad=True)
        E, X = lib.lobpcg(x, k=3, tol=1e-12, niter=-1)
        ((E * lib.tensor(w)).sum() + ((X @ X.mT) * lib.tensor(W)).sum()).backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-6, atol=1e-8)
    x = ember.tensor(a[0], requires_grad=True)
    E, X = ember.lobpcg(x, k=2, B=ember.eye(12, dtype=ember.float64) * 2)
    with pytest.raises(ValueError, match="does not support backward with B != I"):
        E.sum().backward()


def test_lobpcg_errors():
    te, ee = check_raises(lambda t, a: t.lobpcg(a, k=5), inputs=[_spd_array((12, 12))])
    assert str(ee) == str(te)
    check_raises(lambda t, a: t.lobpcg(a, k=2, n=5), inputs=[_spd_array((12, 12))])
    te, ee = check_raises(lambda t, a: t.lobpcg(a, k=2), inputs=[_spd_array((12, 12))[:, :5]])
    assert str(ee) == str(te).replace("torch.Size", "ember.Size")
    for dt in ("int32", "complex128"):
        check_raises(lambda t, a: t.lobpcg(a, k=2), inputs=[_spd_array((12, 12)).astype(dt)])
    with pytest.raises(NotImplementedError, match="tracker"):
        ember.lobpcg(ember.eye(12), k=1, tracker=print)


# ------------------------------------------------------------------------------ cross
# torch records one LinalgCrossBackward0 node (edges to both inputs) for cross and linalg.cross

from half_oracle import HALF_DTYPES, compare, sample  # noqa: E402
from test_graph_names import check_double_backward, check_graph  # noqa: E402


def _same_top_node(t, e):
    """The result's node: torch's name, type name and number of edges."""
    assert e.grad_fn.name() == t.grad_fn.name()
    assert type(e.grad_fn).__name__ == type(t.grad_fn).__name__
    assert len(e.grad_fn.next_functions) == len(t.grad_fn.next_functions)


CROSS_SHAPES = [((4, 3), (4, 3), -1), ((4, 3), (1, 3), -1), ((2, 1, 3), (1, 5, 3), -1),
                ((3, 4), (3, 1), 0), ((2, 3, 4), (2, 3, 1), 1), ((2, 3, 4), (1, 3, 4), -2),
                ((3,), (3,), 0), ((0, 3), (1, 3), 1)]


@pytest.mark.parametrize("dt", ["float32", "float64", "complex64"])
@pytest.mark.parametrize("sa,sb,dim", CROSS_SHAPES)
def test_cross_one_node(dt, sa, sb, dim):
    for fn in (lambda t, a, b: t.linalg.cross(a, b, dim=dim),
               lambda t, a, b: t.cross(a, b, dim=dim), lambda t, a, b: a.cross(b, dim)):
        t, e = check(fn, [sa, sb], dt, check_stride=True)
        _same_top_node(t, e)


@pytest.mark.parametrize("sa,sb,dim", CROSS_SHAPES[:6])
def test_cross_graph(sa, sb, dim):
    check_graph(lambda t, a, b: t.linalg.cross(a, b, dim=dim), [sa, sb],
                expect="LinalgCrossBackward0")
    # one operand without gradient (no edge), one through a transposed view
    check_graph(lambda t, a, b: t.linalg.cross(a.detach(), b, dim=dim), [sa, sb])
    check_graph(lambda t, a, b: t.linalg.cross(a.mT.mT, b * 2, dim=dim), [sa, sb])


def test_cross_default_dim_and_integers():
    with pytest.warns(UserWarning):
        t, e = check(lambda t, a, b: t.cross(a, b), [(2, 3, 3), (1, 3, 3)])
    _same_top_node(t, e)
    check(lambda t, a, b: t.linalg.cross(a, b), [(5, 3), (5, 3)], "int64")
    check(lambda t, a, b: t.linalg.cross(a, b), [(5, 3), (1, 3)], "uint8")
    te, ee = check_raises(lambda t, a, b: t.linalg.cross(a, b), [(4, 3), (4, 3)], "bool")
    assert str(ee) == str(te)


@pytest.mark.parametrize("sa,sb,dim", CROSS_SHAPES[:6])
def test_cross_double_backward(sa, sb, dim):
    fn = lambda t, a, b: t.linalg.cross(a, b, dim=dim)   # noqa: E731
    check_double_backward(fn, [sa, sb])
    check_double_backward(fn, [sa, sb], upstream=True)


def test_cross_double_backward_complex():
    """cross(conj(b), g) and cross(g, conj(a)) differentiated again, with broadcasting."""
    arrays = [make_array(s, "complex128", np.random.default_rng(i))
              for i, s in enumerate([(2, 4, 3), (1, 4, 3)])]
    res = []
    for lib in (torch, ember):
        xs = [lib.tensor(a, requires_grad=True) for a in arrays]
        y = lib.linalg.cross(*xs)
        gs = lib.autograd.grad((y * y.sin()).abs().sum(), xs, create_graph=True)
        assert [g.shape for g in gs] == [x.shape for x in xs]
        loss = sum((g.abs() ** 2).sum() for g in gs)
        res.append([g.detach().numpy() for g in lib.autograd.grad(loss, xs)])
    for e, t in zip(res[1], res[0]):
        np.testing.assert_allclose(e, t, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("dtype", HALF_DTYPES)
def test_cross_half_bit_exact(dtype):
    """Each product rounded to the half type, then the difference (torch's kernel), and the
    gradients through the same kernel."""
    a, b = sample(3000, seed=0).reshape(1000, 3), sample(3000, seed=1).reshape(1000, 3)
    compare(lambda lib, x, y: lib.linalg.cross(x, y), dtype, [a, b], grad=True)
    compare(lambda lib, x, y: lib.cross(x, y, dim=0), dtype, [a.T.copy(), b[:1].T.copy()],
            grad=True)
