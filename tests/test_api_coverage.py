"""Every name in API.md's "torch: tensors" sections exists in ember wherever torch has it: as
`ember.NAME`, as a `Tensor` method, and as the in-place `Tensor.NAME_` variant.

Listing a name here and letting this test fail is how a missing op shows up."""
import pytest
import torch

import ember

TORCH_NAMES = """
bool uint8 int8 int16 int32 int64 long float16 half bfloat16 float32 float float64 double
complex64 complex128 get_default_dtype set_default_dtype set_default_tensor_type result_type
promote_types can_cast finfo iinfo FloatTensor LongTensor ByteTensor DoubleTensor IntTensor
device tensor as_tensor from_numpy asarray zeros ones empty full zeros_like ones_like empty_like
full_like eye arange range linspace logspace meshgrid complex polar bartlett_window
blackman_window hamming_window hann_window
manual_seed seed initial_seed Generator get_rng_state set_rng_state rand randn randint randperm
rand_like randn_like randint_like normal bernoulli multinomial poisson
add sub mul div true_divide floor_divide remainder fmod neg reciprocal pow float_power abs sign
sgn sqrt rsqrt square exp exp2 expm1 log log2 log10 log1p sin cos tan asin acos atan sinh cosh
tanh asinh acosh atanh arcsin arccos arctan arcsinh arccosh arctanh sigmoid logit erf erfc
erfinv lgamma digamma round floor ceil trunc fix frac clamp clip clamp_min clamp_max lerp
addcmul addcdiv where maximum minimum fmax fmin nan_to_num isnan isinf isfinite hypot atan2
copysign bitwise_and bitwise_or bitwise_xor bitwise_not bitwise_left_shift bitwise_right_shift
logical_and logical_or logical_xor logical_not eq ne lt le gt ge isclose
sum mean prod std var std_mean var_mean max min amax amin aminmax argmax argmin mode median
nanmedian nansum nanmean quantile all any norm logsumexp cumsum cumprod cummax cummin
count_nonzero unique unique_consecutive bincount histc histogram sort argsort topk kthvalue
msort allclose equal
reshape flatten unflatten squeeze unsqueeze permute transpose t swapaxes movedim cat concat
stack hstack vstack dstack split chunk tensor_split unbind narrow select flip fliplr flipud roll
rot90 tril triu diag diagonal diag_embed diagflat trace broadcast_to broadcast_tensors
atleast_1d atleast_2d atleast_3d repeat_interleave tile
index_select masked_select gather scatter scatter_add scatter_reduce index_add index_copy
index_fill index_put put take take_along_dim nonzero argwhere
matmul mm bmm mv dot vdot inner outer ger addmm addbmm baddbmm addmv addr einsum tensordot kron
cross cdist inverse det logdet slogdet pinverse
erf erfc erfinv lgamma digamma clone set_printoptions
""".split()

TENSOR_METHODS = """
type to float double half long int short char byte bool cpu cuda item tolist numpy clone detach
detach_ copy_ view view_as reshape reshape_as flatten unflatten squeeze unsqueeze permute
transpose t swapaxes movedim expand expand_as repeat repeat_interleave tile contiguous
is_contiguous stride storage_offset data_ptr split chunk tensor_split unbind narrow select flip
roll rot90 tril triu diag diagonal trace unfold index_select masked_select masked_fill
masked_scatter gather scatter scatter_add scatter_reduce index_add index_copy index_fill
index_put put take take_along_dim nonzero argwhere uniform_ normal_ random_ bernoulli_
exponential_ geometric_ cauchy_ sum mean prod std var max min amax amin argmax argmin all any
norm logsumexp cumsum cumprod sort argsort topk kthvalue median mode unique matmul mm bmm mv dot
abs sqrt exp log sigmoid clamp where lerp addcmul addcdiv pow neg reciprocal sign floor ceil
round trunc frac isnan isinf isfinite
""".split()

LINALG = """norm vector_norm matrix_norm svd svdvals eig eigvals eigh eigvalsh qr cholesky solve
lstsq inv pinv det slogdet matrix_rank matrix_power cross""".split()

SPECIAL = """expit logit erf erfc erfcx erfinv gammaln digamma psi polygamma multigammaln i0 i0e
i1 i1e xlogy xlog1py entr ndtr ndtri log_ndtr sinc zeta softmax log_softmax logsumexp""".split()

FFT = "fft ifft rfft irfft fft2 fftn fftshift".split()


@pytest.mark.parametrize("name", sorted(set(TORCH_NAMES)))
def test_torch_namespace(name):
    assert hasattr(torch, name), f"not a torch name: {name}"
    assert hasattr(ember, name), f"ember.{name} is missing"


@pytest.mark.parametrize("name", sorted(set(TORCH_NAMES + TENSOR_METHODS)))
def test_tensor_method_and_inplace_variant(name):
    if hasattr(torch.Tensor, name):
        assert hasattr(ember.Tensor, name), f"Tensor.{name} is missing"
    if hasattr(torch.Tensor, name + "_") and not name.endswith("_"):
        assert hasattr(ember.Tensor, name + "_"), f"Tensor.{name}_ is missing"


@pytest.mark.parametrize("module,names", [("linalg", LINALG), ("special", SPECIAL),
                                          ("fft", FFT)])
def test_submodules(module, names):
    missing = [n for n in names if not hasattr(getattr(ember, module, None), n)]
    assert not missing, f"ember.{module} lacks {missing}"


def test_dunders():
    for name in ("__add__ __radd__ __iadd__ __sub__ __rsub__ __isub__ __mul__ __rmul__ __imul__ "
                 "__truediv__ __rtruediv__ __itruediv__ __floordiv__ __mod__ __pow__ __rpow__ "
                 "__matmul__ __rmatmul__ __neg__ __abs__ __invert__ __and__ __or__ __xor__ "
                 "__lshift__ __rshift__ __eq__ __ne__ __lt__ __le__ __gt__ __ge__ __getitem__ "
                 "__setitem__ __len__ __iter__ __bool__ __float__ __int__ __index__ __array__ "
                 "__format__ __hash__ __repr__").split():
        assert hasattr(ember.Tensor, name), name
