"""torch.return_types: the named tuples returned by max(dim), sort, topk, ...

Each is a tuple subclass, so `values, indices = x.max(dim=1)` unpacks, and the fields are also
attributes (`.values`, `.indices`). The repr puts each field on its own line, as torch does:

    ember.return_types.max(
    values=tensor([3.]),
    indices=tensor([1]))
"""

__all__ = ["max", "min", "sort", "topk", "kthvalue", "mode", "median", "nanmedian", "cummax",
           "cummin", "aminmax", "std_mean", "var_mean", "histogram", "histogramdd", "frexp", "frexp_out",
           "slogdet", "qr", "svd", "eig", "eigh", "lu_unpack", "geqrf", "triangular_solve", "lstsq"]


class _StructSeq(tuple):
    """A tuple with named fields, like torch's structseq types (pickles as a plain tuple + type)."""

    __slots__ = ()
    _fields = ()
    n_fields = n_sequence_fields = 0
    n_unnamed_fields = 0

    def __new__(cls, seq):
        seq = tuple(seq)
        if len(seq) != len(cls._fields):
            raise TypeError(f"{cls.__module__}.{cls.__name__}() takes a {len(cls._fields)}-"
                            f"sequence ({len(seq)}-sequence given)")
        return tuple.__new__(cls, seq)

    def __repr__(self):
        body = ",\n".join(f"{f}={v!r}" for f, v in zip(self._fields, self))
        return f"{self.__module__}.{type(self).__name__}(\n{body})"

    def __reduce__(self):
        return (type(self), (tuple(self),))


def _make(name, fields):
    ns = {"__slots__": (), "_fields": tuple(fields), "n_fields": len(fields),
          "n_sequence_fields": len(fields), "__module__": "ember.return_types"}
    for i, f in enumerate(fields):
        ns[f] = property(lambda self, i=i: tuple.__getitem__(self, i))
    cls = type(name, (_StructSeq,), ns)
    cls.__qualname__ = name
    return cls


_VI = ("values", "indices")
max = _make("max", _VI)
min = _make("min", _VI)
sort = _make("sort", _VI)
topk = _make("topk", _VI)
kthvalue = _make("kthvalue", _VI)
mode = _make("mode", _VI)
median = _make("median", _VI)
nanmedian = _make("nanmedian", _VI)
cummax = _make("cummax", _VI)
cummin = _make("cummin", _VI)
aminmax = _make("aminmax", ("min", "max"))
std_mean = _make("std_mean", ("std", "mean"))   # torch returns plain tuples for these two;
var_mean = _make("var_mean", ("var", "mean"))   # kept here for code that names the type
histogram = _make("histogram", ("hist", "bin_edges"))
histogramdd = _make("histogramdd", ("hist", "bin_edges"))
frexp = _make("frexp", ("mantissa", "exponent"))
frexp_out = _make("frexp_out", ("mantissa", "exponent"))   # what frexp(out=...) returns
slogdet = _make("slogdet", ("sign", "logabsdet"))
qr = _make("qr", ("Q", "R"))
svd = _make("svd", ("U", "S", "V"))
eig = _make("eig", ("eigenvalues", "eigenvectors"))
eigh = _make("eigh", ("eigenvalues", "eigenvectors"))
lu_unpack = _make("lu_unpack", ("P", "L", "U"))
geqrf = _make("geqrf", ("a", "tau"))
triangular_solve = _make("triangular_solve", ("solution", "cloned_coefficient"))
lstsq = _make("lstsq", ("solution", "residuals", "rank", "singular_values"))
