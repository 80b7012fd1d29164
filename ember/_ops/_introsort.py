"""The order torch's unstable CPU sort gives equal elements.

torch.sort(stable=False), the default, sorts each row with C++'s std::sort; on Linux that is
libstdc++'s introsort. Equal elements come out in an order which that algorithm fixes: a stable
sort is a valid answer too, but not torch's, and code that sorts labels or lengths (such as
pack_padded_sequence's `lengths.sort(descending=True)`) sees other indices. This module replays
the algorithm on the rows that have ties:

1. Quicksort passes partition every segment longer than 16 elements: the median of the
   segment's second, middle and last elements is swapped to its front and becomes the pivot;
   then a left scan stops at elements not less than the pivot and a right scan at elements not
   greater, and the two stops swap, until the scans cross (Hoare's partition). Each part is
   partitioned again, up to a depth of 2 * floor(log2(n)) passes; a segment still longer than 16
   there is heap-sorted.
2. A final insertion sort orders what the passes left, which keeps equal elements in the order
   the passes left them: a stable sort of that arrangement.

The segments of one pass are disjoint, so all of them (over all rows) are partitioned at once,
with NumPy: a scan's k-th stop can be read off the data as it stood before the pass, because
positions already swapped are behind the scans. Keys are dense integer ranks (NaN, the largest
value, one rank), negated for a descending sort, so every comparison is an integer one.
"""
import math

import numpy as np

__all__ = ["unstable_order"]

_INSERTION = 16   # segments this short are left to the final insertion sort
# Replaying costs about 1 us per element of the rows with ties (torch: 20 ns); past this many
# elements the stable order, also a valid unstable sort, is kept.
MAX_REPLAYED = 1 << 18


def unstable_order(order, same):
    """std::sort's order of each row, from `order` (rows, n), a stable argsort of each row,
    and `same` (rows, n - 1): whether neighbours in that order compare equal."""
    rows, n = order.shape
    tied = same.any(axis=1)
    if n <= _INSERTION or not tied.any() or tied.sum() * n > MAX_REPLAYED:
        return order
    # keys: dense ranks, in the sorted order first
    ranked = np.zeros(order.shape, np.int64)
    np.cumsum(~same, axis=1, out=ranked[:, 1:])
    keys = np.empty_like(ranked)
    np.put_along_axis(keys, order, ranked, axis=1)
    # elements whose key occurs more than once in their row: the only ones whose place matters
    dup_sorted = np.zeros(order.shape, bool)
    dup_sorted[:, 1:] = same
    dup_sorted[:, :-1] |= same
    dup = np.empty_like(dup_sorted)
    np.put_along_axis(dup, order, dup_sorted, axis=1)
    k = keys[tied].reshape(-1)
    p = np.tile(np.arange(n, dtype=np.int64), int(tied.sum()))
    d = dup[tied].reshape(-1)
    starts = np.arange(0, k.size, n, dtype=np.int64)
    _quicksort_passes(k, p, d, starts, starts + n, 2 * int(math.log2(n)))
    k, p = k.reshape(-1, n), p.reshape(-1, n)
    out = order.copy()
    out[tied] = np.take_along_axis(p, np.argsort(k, axis=1, kind="stable"), axis=1)
    return out


def _quicksort_passes(k, p, d, s, e, depth):
    """Introsort's partitioning loop on the segments [s, e) of the flat keys k (with their
    original positions p and duplicate marks d), in place. A segment with fewer than two
    duplicated keys is dropped early: the order of its distinct keys is the sorted one
    whatever the passes would do."""
    while s.size:
        if depth == 0:
            for a, b in zip(s.tolist(), e.tolist()):
                _heap_sort(k, p, d, a, b)
            return
        depth -= 1
        _median_to_front(k, p, d, s, e)
        cut = _partition(k, p, d, s, e)
        s, e = np.concatenate([s, cut]), np.concatenate([cut, e])
        running = np.concatenate([[0], np.cumsum(d)])
        keep = (e - s > _INSERTION) & (running[e] - running[s] >= 2)
        s, e = s[keep], e[keep]


def _swap(k, p, d, i, j):
    k[i], k[j] = k[j], k[i]
    p[i], p[j] = p[j], p[i]
    d[i], d[j] = d[j], d[i]


def _median_to_front(k, p, d, s, e):
    """Swap the median of (second, middle, last) to each segment's front, choosing among
    equal keys as std::sort's median-of-three does."""
    a, b, c = s + 1, s + (e - s) // 2, e - 1
    ka, kb, kc = k[a], k[b], k[c]
    m = np.where(ka < kb,
                 np.where(kb < kc, b, np.where(ka < kc, c, a)),
                 np.where(ka < kc, a, np.where(kb < kc, c, b)))
    _swap(k, p, d, s, m)


def _partition(k, p, d, s, e):
    """Hoare's partition of every segment around its front element; returns the cuts."""
    lengths = e - s
    seg = np.repeat(np.arange(s.size), lengths)
    first = np.cumsum(lengths) - lengths              # each segment's start in `pos`
    pos = np.arange(lengths.sum()) - first[seg] + s[seg]
    kv, pivot = k[pos], k[s][seg]
    left = (kv >= pivot) & (pos != s[seg])           # where the left scan stops
    right = kv <= pivot                              # where the right scan stops
    left_rank = _segment_cumsum(left, first, seg) - 1     # the k-th stop from the left
    right_total = np.bincount(seg[right], minlength=s.size)
    after = right_total[seg] - _segment_cumsum(right, first, seg)   # right stops past pos
    right_rank = after                                 # (for a right stop: k-th from the right)
    # the k-th stops swap while the k-th right stop lies beyond the k-th left stop, that is
    # while more than k right stops follow the left one
    swapping = left & (after > left_rank)
    n_swaps = np.bincount(seg[swapping], minlength=s.size)
    offset = np.cumsum(n_swaps) - n_swaps
    lefts = np.empty(n_swaps.sum(), np.int64)
    rights = np.empty_like(lefts)
    lefts[offset[seg[swapping]] + left_rank[swapping]] = pos[swapping]
    r = right & (right_rank < n_swaps[seg])
    rights[offset[seg[r]] + right_rank[r]] = pos[r]
    _swap(k, p, d, lefts, rights)
    # the cut: where the left scan stops once they crossed, the next left stop or the last
    # right stop swapped (which now holds a value not less than the pivot)
    cut = e.copy()
    nxt = left & (left_rank == n_swaps[seg])
    cut[seg[nxt]] = pos[nxt]
    last = r & (right_rank == n_swaps[seg] - 1)
    np.minimum.at(cut, seg[last], pos[last])
    return cut


def _segment_cumsum(mask, first, seg):
    """Inclusive running count of `mask` within each segment."""
    c = np.cumsum(mask)
    return c - (c[first] - mask[first])[seg]


def _heap_sort(k, p, d, a, b):
    """std::sort's fallback past its depth limit: make_heap then sort_heap on [a, b)."""
    keys, idx = k[a:b].tolist(), list(range(b - a))
    n = b - a
    for parent in range((n - 2) // 2, -1, -1):
        _adjust_heap(keys, idx, parent, n, keys[parent], idx[parent])
    for last in range(n - 1, 0, -1):
        kv, iv = keys[last], idx[last]
        keys[last], idx[last] = keys[0], idx[0]
        _adjust_heap(keys, idx, 0, last, kv, iv)
    moved = np.asarray(idx) + a
    k[a:b], p[a:b], d[a:b] = k[moved], p[moved], d[moved]


def _adjust_heap(keys, idx, hole, n, kv, iv):
    """Sift the hole at `hole` down to a leaf (the larger child up each step, the right one
    when they tie), then push (kv, iv) up from there: libstdc++'s __adjust_heap."""
    top = hole
    child = hole
    while child < (n - 1) // 2:
        child = 2 * (child + 1)
        if keys[child] < keys[child - 1]:
            child -= 1
        keys[hole], idx[hole] = keys[child], idx[child]
        hole = child
    if n % 2 == 0 and child == (n - 2) // 2:
        child = 2 * (child + 1)
        keys[hole], idx[hole] = keys[child - 1], idx[child - 1]
        hole = child - 1
    parent = (hole - 1) // 2
    while hole > top and keys[parent] < kv:
        keys[hole], idx[hole] = keys[parent], idx[parent]
        hole = parent
        parent = (hole - 1) // 2
    keys[hole], idx[hole] = kv, iv
