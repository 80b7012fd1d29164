"""torch.return_types: the named tuples returned by max(dim), sort, topk, linalg.slogdet, ...

Each is a tuple subclass, so `values, indices = x.max(dim=1)` unpacks, and the fields are also
read-only attributes (`.values`, `.indices`). The repr puts each field on its own line, as torch
does:

    ember.return_types.max(
    values=tensor([3.]),
    indices=tensor([1]))

Every type has an `_out` twin (`max_out`, ...) that torch returns when `out=` was passed;
`type(r)._out_type` names it. The set of types and their fields are torch's, no more: torch
returns plain tuples from std_mean/var_mean and has no `eig`/`lstsq` types outside `linalg_`.
"""

__all__ = ["all_return_types"]   # extended below with every type's name

_TYPES = {}   # name -> class: _make hands back the same class for the same name


class _Field:
    """A read-only attribute reading one slot of the tuple."""

    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index

    def __get__(self, obj, cls=None):
        return self if obj is None else tuple.__getitem__(obj, self.index)

    def __set__(self, obj, value):
        raise AttributeError("readonly attribute")


class _StructSeq(tuple):
    """A tuple with named fields, like torch's structseq types (pickles as a plain tuple + type)."""

    __slots__ = ()
    _fields = ()
    _out_type = None
    n_fields = n_sequence_fields = 0
    n_unnamed_fields = 0

    def __new__(cls, sequence, dict=None):
        name = f"{cls.__module__}.{cls.__name__}"
        if dict is not None and not isinstance(dict, type({})):
            raise TypeError(f"{name}() takes a dict as second arg, if any")
        try:
            seq = tuple(sequence)
        except TypeError:
            raise TypeError("constructor requires a sequence") from None
        if len(seq) != len(cls._fields):
            raise TypeError(f"{name}() takes a {len(cls._fields)}-sequence ({len(seq)}-sequence "
                            "given)")
        return tuple.__new__(cls, seq)

    def __repr__(self):
        body = ",\n".join(f"{f}={v!r}" for f, v in zip(self._fields, self))
        return f"{self.__module__}.{type(self).__name__}(\n{body})"

    def __setattr__(self, name, value):
        if name in self._fields:
            raise AttributeError("readonly attribute")
        raise AttributeError(f"'{self.__module__}.{type(self).__name__}' object has no attribute "
                             f"'{name}'")

    def __reduce__(self):
        return (type(self), (tuple(self), {}))


def _make(name, fields):
    """The structseq type `name` with `fields` (the existing one when already made)."""
    fields = tuple(fields)
    cls = _TYPES.get(name)
    if cls is not None and cls._fields == fields:
        return cls
    ns = {"__slots__": (), "_fields": fields, "__match_args__": fields,
          "n_fields": len(fields), "n_sequence_fields": len(fields),
          "__module__": "ember.return_types"}
    for i, f in enumerate(fields):
        ns[f] = _Field(i)
    cls = type(name, (_StructSeq,), ns)
    cls.__qualname__ = name
    _TYPES[name] = cls
    return cls


def _define(name, fields, out=True):
    """Define `name` (and `name_out` when torch has it) in this module."""
    cls = globals()[name] = _make(name, fields)
    __all__.append(name)
    if out:
        cls._out_type = globals()[name + "_out"] = _make(name + "_out", fields)
        cls._out_type._out_type = cls._out_type
        __all__.append(name + "_out")


_VI = ("values", "indices")
for _name in ("max", "min", "sort", "topk", "kthvalue", "mode", "median", "nanmedian", "cummax",
              "cummin"):
    _define(_name, _VI)
_define("aminmax", ("min", "max"))
_define("frexp", ("mantissa", "exponent"))
_define("histogram", ("hist", "bin_edges"))
_define("histogramdd", ("hist", "bin_edges"), out=False)
_define("geqrf", ("a", "tau"))
_define("lu_unpack", ("P", "L", "U"))
_define("qr", ("Q", "R"))
_define("slogdet", ("sign", "logabsdet"))
_define("svd", ("U", "S", "V"))
_define("triangular_solve", ("solution", "cloned_coefficient"))
_define("linalg_cholesky_ex", ("L", "info"))
_define("linalg_eig", ("eigenvalues", "eigenvectors"))
_define("linalg_eigh", ("eigenvalues", "eigenvectors"))
_define("linalg_inv_ex", ("inverse", "info"))
_define("linalg_ldl_factor", ("LD", "pivots"))
_define("linalg_ldl_factor_ex", ("LD", "pivots", "info"))
_define("linalg_lstsq", ("solution", "residuals", "rank", "singular_values"))
_define("linalg_lu", ("P", "L", "U"))
_define("linalg_lu_factor", ("LU", "pivots"))
_define("linalg_lu_factor_ex", ("LU", "pivots", "info"))
_define("linalg_qr", ("Q", "R"))
_define("linalg_slogdet", ("sign", "logabsdet"))
_define("linalg_solve_ex", ("result", "info"))
_define("linalg_svd", ("U", "S", "Vh"))
del _name

# torch's list, in its (alphabetical) order
all_return_types = [_TYPES[n] for n in sorted(_TYPES)]
