"""Complex tensors: real and imag (views), angle, complex, polar, view_as_real and
view_as_complex (views), conj / conj_physical / resolve_conj / resolve_neg.

Torch's traps kept here:
- real(x) of a real tensor is x itself; imag(x) of a real tensor is an error.
- real/imag/view_as_real/view_as_complex share memory (and the version counter) with their input.
- ember conjugates eagerly: conj() copies and is_conj() is always False (torch's conj is lazy;
  the values seen through any API are the same).
- gradients of real-valued functions of z = x + iy are grad * (df/dx + i df/dy): real -> grad,
  imag -> i * grad, angle -> grad * i z / |z|^2.
"""
import numpy as np

from ember import _dtype
from ember._ops._helpers import check_out_same, is_tensor, not_a_tensor, write_out, zeros_of
from ember._ops.pointwise_logic import broadcast_errors
from ember._tensor import Tensor
from ember.autograd.function import ArrayFunction

__all__ = ["real", "imag", "angle", "complex", "polar", "view_as_real", "view_as_complex",
           "conj", "conj_physical", "conj_physical_", "is_conj", "resolve_conj", "resolve_neg",
           "is_neg"]

_asarray = np.asarray


def _result(r, out):
    return r if out is None else write_out(out, r)


class Real(ArrayFunction):
    _view = True

    def forward(ctx, a):
        return a.real

    def backward(ctx, grad):
        return grad   # the engine casts it to the complex input dtype (imaginary part 0)


class Imag(ArrayFunction):
    _view = True

    def forward(ctx, a):
        return a.imag

    def backward(ctx, grad):
        return grad * 1j


class ViewAsReal(ArrayFunction):
    _view = True

    def forward(ctx, a):
        # a size-1 trailing axis can always be re-viewed as two floats: (..., 1) -> (..., 2)
        return a[..., None].view(a.real.dtype)

    def backward(ctx, grad):
        return view_as_complex(grad.contiguous())


class ViewAsComplex(ArrayFunction):
    _view = True

    def forward(ctx, a):
        npd = np.complex64 if a.dtype == np.float32 else np.complex128
        if a.size == 0:   # nothing to share; NumPy's strides of empty arrays are arbitrary
            return np.empty(a.shape[:-1], npd)
        return a.view(npd)[..., 0]

    def backward(ctx, grad):
        return view_as_real(grad)


class Angle(ArrayFunction):
    """arg(z); for real x: 0 where x >= 0, pi where x < 0, NaN kept (zero gradient)."""

    def forward(ctx, a):
        ctx.save_for_backward(a)
        if a.dtype.kind == "c":
            return _asarray(np.angle(a))
        return _asarray(np.where(a < 0, np.pi, np.where(np.isnan(a), a, 0)).astype(a.dtype))

    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        if not a.is_complex():
            return zeros_of(grad)
        return grad * (a * 1j) / (a * a.conj()).real


class Complex(ArrayFunction):
    """real + i imag; the gradient's real part goes to real, its imaginary part to imag."""

    def forward(ctx, re, im):
        npd = np.complex64 if np.result_type(re, im) == np.float32 else np.complex128
        out = np.empty(np.broadcast_shapes(np.shape(re), np.shape(im)), npd)
        out.real, out.imag = re, im
        return out

    def backward(ctx, grad):
        return grad.real, grad.imag


class Conj(ArrayFunction):
    def forward(ctx, a):
        return _asarray(np.conj(a))

    def backward(ctx, grad):
        return grad.conj()


def real(input):
    """The real part as a view; a real tensor is returned as it is."""
    try:
        k = input._data.dtype.kind
    except AttributeError:
        raise not_a_tensor(input) from None
    if k != "c":
        return input
    return Real.apply(input)


def imag(input):
    """The imaginary part as a view (complex tensors only)."""
    try:
        k = input._data.dtype.kind
    except AttributeError:
        raise not_a_tensor(input) from None
    if k != "c":
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return Imag.apply(input)


def angle(input, *, out=None):
    """Argument in radians; integer inputs give the default float dtype."""
    try:
        k = input._data.dtype.kind
    except AttributeError:
        raise not_a_tensor(input) from None
    if k in "iub":
        from ember._ops.pointwise import _float_input
        input = _float_input(input)
    return _result(Angle.apply(input), out)


def view_as_real(input):
    """A complex tensor seen as floats with a trailing dimension of 2 (shares memory)."""
    if input._data.dtype.kind != "c":
        raise RuntimeError("view_as_real is only supported for complex tensors")
    return ViewAsReal.apply(input)


def view_as_complex(input):
    """A float tensor with a last dimension (2, stride 1) seen as complex (shares memory)."""
    a = input._data
    if a.dtype.kind != "f" or a.dtype == np.float16:
        name = input.dtype._legacy.replace("Tensor", "")
        if a.dtype == np.float16:
            raise NotImplementedError("view_as_complex of float16 tensors needs complex32, which "
                                      "ember does not support")
        raise RuntimeError(f"view_as_complex is only supported for half, float and double "
                           f"tensors, but got a tensor of scalar type: {name}")
    if a.ndim == 0 or a.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    item = a.itemsize
    if a.size == 0:
        return ViewAsComplex.apply(input)
    if a.strides[-1] != item:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    if any((s // item) % 2 for s in a.strides[:-1]):
        raise RuntimeError("Tensor must have a stride divisible by 2 for all but last dimension")
    if input.storage_offset() % 2:
        raise RuntimeError("Tensor must have a storage_offset divisible by 2")
    return ViewAsComplex.apply(input)


_HFD = (_dtype.float16, _dtype.float32, _dtype.float64)


@broadcast_errors
def complex(real, imag, *, out=None):
    """A complex tensor from real and imaginary parts of one float dtype (broadcast)."""
    dr, di = real.dtype, imag.dtype
    if not (dr in _HFD and di in _HFD):
        raise RuntimeError(f"Expected both inputs to be Half, Float or Double tensors but got "
                           f"{dr._legacy.replace('Tensor', '')} and "
                           f"{di._legacy.replace('Tensor', '')}")
    if dr is not di:
        raise RuntimeError(f"Expected object of scalar type {dr._legacy.replace('Tensor', '')} "
                           f"but got scalar type {di._legacy.replace('Tensor', '')} for second "
                           f"argument")
    if dr.np not in (np.float32, np.float64):
        raise NotImplementedError(f"complex of {dr} tensors needs complex32, which ember does not "
                                  f"support")
    r = Complex.apply(real, imag)
    return r if out is None else write_out(
        out, r, exact="Expected object of scalar type {want} but got scalar type {got} for "
        "argument 'out'")


def polar(abs, angle, *, out=None):
    """abs * (cos(angle) + i sin(angle)) (composed, so gradients come from its parts)."""
    if abs.dtype is not angle.dtype or abs.dtype not in _HFD:
        return complex(abs, angle, out=out)   # raises torch's dtype errors
    return complex(abs * angle.cos(), abs * angle.sin(), out=out)


def conj(input):
    """Complex conjugate (a copy in ember); real tensors are returned as they are."""
    try:
        k = input._data.dtype.kind
    except AttributeError:
        raise not_a_tensor(input) from None
    return Conj.apply(input) if k == "c" else input


def conj_physical(input, *, out=None):
    if not is_tensor(input):
        raise not_a_tensor(input)
    check_out_same(out, input.dtype)
    r = conj(input)
    return r if out is None else write_out(out, r, grad="aten::conj_physical")


def conj_physical_(input):
    from ember._ops._helpers import check_inplace, inplace
    if input._data.dtype.kind == "c":
        return inplace(input, Conj.apply(input))
    check_inplace(input)   # (a real tensor is its own conjugate, but torch still "writes" it)
    input._vc.value += 1
    return input


def is_conj(input):
    return False


def resolve_conj(input):
    return input


def is_neg(input):
    return False


def resolve_neg(input):
    return input


Tensor.conj, Tensor.conj_physical, Tensor.conj_physical_ = conj, conj_physical, conj_physical_
Tensor.is_conj, Tensor.resolve_conj, Tensor.is_neg, Tensor.resolve_neg = (is_conj, resolve_conj,
                                                                          is_neg, resolve_neg)
Tensor.angle = angle
Tensor.real = property(real, lambda self, v: self.real.copy_(v) if is_tensor(v) else
                       self.real.fill_(v))
Tensor.imag = property(imag, lambda self, v: self.imag.copy_(v) if is_tensor(v) else
                       self.imag.fill_(v))
