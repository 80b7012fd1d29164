"""Variable-length sequences: pad_sequence, PackedSequence, pack/pad conversions.

A PackedSequence stores the time steps one after another, each holding the sequences still
running at that step (longest first): `batch_sizes[t]` of them. Packing and unpacking are
row gathers (an embedding lookup over the flattened rows), so gradients flow back.
"""
from collections import namedtuple

import numpy as np

from ember._ops.embedding import Embedding as _Gather
from ember._ops.sorting import sort_order
from ember._tensor import Tensor

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence",
           "pad_packed_sequence", "pad_sequence", "unpad_sequence", "pack_sequence",
           "unpack_sequence"]


def _rows(t, idx):
    """t viewed as rows (t.shape[0], -1), gathered at idx, reshaped to (len(idx),) + rest."""
    rest = tuple(t.shape[1:])
    flat = t.reshape(t.shape[0], int(np.prod(rest, dtype=np.int64)))
    out = _Gather.apply(flat, idx=np.asarray(idx, np.int64), padding_idx=None,
                        scale_grad_by_freq=False)
    return out.reshape((len(idx),) + rest)


def _long(a):
    return Tensor._make(np.asarray(a, np.int64))


_PackedSequenceBase = namedtuple("PackedSequence_", ["data", "batch_sizes", "sorted_indices",
                                                      "unsorted_indices"])


class PackedSequence(_PackedSequenceBase):
    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else type(self)(data, self.batch_sizes,
                                                         self.sorted_indices,
                                                         self.unsorted_indices)

    def cpu(self):
        return self

    @property
    def is_cuda(self):
        return False

    def is_pinned(self):
        return False


def invert_permutation(permutation):
    if permutation is None:
        return None
    p = permutation._data
    out = np.empty_like(p)
    out[p] = np.arange(p.shape[0])
    return Tensor._make(out)


def _lengths_array(lengths):
    if isinstance(lengths, Tensor):
        return lengths._data.astype(np.int64).reshape(-1)
    return np.asarray(list(lengths), np.int64).reshape(-1)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded (T, B, *) (or (B, T, *) with batch_first) batch."""
    lens = _lengths_array(lengths)
    if enforce_sorted:
        if np.any(np.diff(lens) > 0):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when "
                               "`enforce_sorted` is True. You can pass `enforce_sorted=False` "
                               "to pack_padded_sequence and/or pack_sequence to sidestep this "
                               "requirement if you do not need ONNX exportability.")
        order = np.arange(lens.shape[0])
        sorted_indices = None
    else:
        order = sort_order(lens, descending=True)   # (torch's lengths.sort(descending=True))
        sorted_indices = _long(order)
    if lens.size and lens.min() <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    x = input.transpose(0, 1) if batch_first else input
    T, B = x.shape[0], x.shape[1]
    slens = lens[order]
    if slens[0] > T:
        raise RuntimeError(f"Expected sequence length to be smaller than or equal to "
                           f"{T} but got {int(slens[0])}")
    steps = int(slens[0])
    batch_sizes = np.array([(slens > t).sum() for t in range(steps)], np.int64)
    idx = np.concatenate([t * B + order[:batch_sizes[t]] for t in range(steps)])
    data = _rows(x.reshape((T * B,) + tuple(x.shape[2:])), idx)
    return PackedSequence(data, _long(batch_sizes), sorted_indices,
                          invert_permutation(sorted_indices))


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """The inverse of pack_padded_sequence: (padded, lengths)."""
    data, bs = sequence.data, sequence.batch_sizes._data
    steps, B = bs.shape[0], int(bs[0])
    if total_length is not None:
        if total_length < steps:
            raise ValueError("Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {steps}")
        T = total_length
    else:
        T = steps
    # row (t, b) of the padded batch comes from packed row offset[t] + b when b < bs[t]
    offsets = np.concatenate([[0], np.cumsum(bs)[:-1]])
    t_idx = np.repeat(np.arange(T), B)
    b_idx = np.tile(np.arange(B), T)
    present = np.zeros(T * B, bool)
    src = np.zeros(T * B, np.int64)
    inside = t_idx < steps
    present[inside] = b_idx[inside] < bs[t_idx[inside]]
    src[present] = offsets[t_idx[present]] + b_idx[present]
    rest = tuple(data.shape[1:])
    rows = _rows(data, src)
    mask = present.reshape((T * B,) + (1,) * len(rest)).astype(data._data.dtype)
    fill = ((1 - mask) * padding_value).astype(data._data.dtype)
    out = (rows * Tensor._make(mask) + Tensor._make(fill)).reshape((T, B) + rest)
    lengths = (bs[None, :] > np.arange(B)[:, None]).sum(1).astype(np.int64)
    if sequence.unsorted_indices is not None:
        un = sequence.unsorted_indices._data
        out = _rows(out.transpose(0, 1), un).transpose(0, 1)
        lengths = lengths[un]
    if batch_first:
        out = out.transpose(0, 1)
    return out, _long(lengths)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack tensors of shape (L_i, *) into (max L, B, *) (or (B, max L, *)), padding."""
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got "
                         f"{padding_side}.")
    if isinstance(sequences, Tensor):
        sequences = list(sequences.unbind(0))
    seqs = list(sequences)
    lens = [s.shape[0] for s in seqs]
    T, B = max(lens), len(seqs)
    rest = tuple(seqs[0].shape[1:])
    from ember.nn.utils.convert_parameters import _cat
    flat = _cat(seqs)
    starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
    t_idx = np.repeat(np.arange(T), B)
    b_idx = np.tile(np.arange(B), T)
    L = np.asarray(lens)[b_idx]
    pos = t_idx if padding_side == "right" else t_idx - (T - L)
    present = (pos >= 0) & (pos < L)
    src = np.where(present, starts[b_idx] + np.clip(pos, 0, None), 0)
    rows = _rows(flat, src)
    dt = flat._data.dtype
    mask = present.reshape((T * B,) + (1,) * len(rest)).astype(dt)
    fill = ((1 - mask) * padding_value).astype(dt)
    out = (rows * Tensor._make(mask) + Tensor._make(fill)).reshape((T, B) + rest) \
        if dt.kind in "fc" else Tensor._make(np.where(mask.astype(bool), rows._data,
                                                      np.asarray(padding_value).astype(dt))
                                             .reshape((T, B) + rest))
    return out.transpose(0, 1) if batch_first else out


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    x = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    return [x[i].narrow(0, 0, int(n)) for i, n in enumerate(_lengths_array(lengths))]


def pack_sequence(sequences, enforce_sorted=True):
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), _long(lengths),
                                enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
