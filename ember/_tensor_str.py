"""Tensor printing (being written)."""


def tensor_repr(t, tensor_contents=None):
    return f"tensor({t._data!r})"
