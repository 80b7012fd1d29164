"""The order torch's CPU sorting kernels give equal elements: C++'s standard algorithms, and
kthvalue's own quickselect, replayed.

torch.sort(stable=False), the default, sorts each row with std::sort; topk picks the k best
with std::partial_sort (k * 64 <= n) or with std::nth_element, then (sorted=True) std::sorts
the first k - 1; mode reads a std::sort.
On Linux these are libstdc++'s. Where elements tie, they leave them in an order which the
algorithm fixes: any order would be a correct sort, but only this one is torch's, and code that
sorts labels or lengths (pack_padded_sequence's `lengths.sort(descending=True)`) or takes
the top k of tied scores sees other indices otherwise. This module replays the algorithms, on
the rows where the order is not fixed by the values alone.

std::sort is an introsort:
1. Quicksort passes partition every segment longer than 16 elements: the median of the
   segment's second, middle and last elements is swapped to its front and becomes the pivot;
   then a left scan stops at elements not less than the pivot and a right scan at elements not
   greater, and the two stops swap, until the scans cross (Hoare's partition). Each part is
   partitioned again, up to a depth of 2 * floor(log2(n)) passes; a segment still longer than 16
   there is heap-sorted.
2. A final insertion sort orders what the passes left, which keeps equal elements in the order
   the passes left them: a stable sort of that arrangement.
std::nth_element partitions the same way, following only the part that holds the n-th place,
down to 3 elements, which it insertion-sorts. std::partial_sort keeps a heap of the k first
elements, replaces its top by each later element that beats it, then sorts the heap.

The segments of one pass are disjoint, so all of them (over all rows) are partitioned at once,
with NumPy: a scan's k-th stop can be read off the data as it stood before the pass, because
positions already swapped are behind the scans. Keys are dense integer ranks in the order of
the comparison (NaN the largest value; equal elements one rank), so every comparison is an
integer one. The heaps are replayed in Python, element by element.
"""
import numpy as np

__all__ = ["dense_ranks", "unstable_order", "std_sort", "topk_order", "quick_select"]

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
    keys = dense_ranks(order, same)
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
    _quicksort_passes(k, p, d, starts, starts + n, 2 * (n.bit_length() - 1))
    k, p = k.reshape(-1, n), p.reshape(-1, n)
    out = order.copy()
    out[tied] = np.take_along_axis(p, np.argsort(k, axis=1, kind="stable"), axis=1)
    return out


def dense_ranks(order, same):
    """Each element's rank among the distinct values of its row (equal elements, one rank),
    from the row's stable argsort `order` and `same` (see unstable_order)."""
    ranked = np.zeros(order.shape, np.int64)
    np.cumsum(~same, axis=1, out=ranked[:, 1:])
    keys = np.empty_like(ranked)
    np.put_along_axis(keys, order, ranked, axis=1)
    return keys


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
        running = np.concatenate([[0], np.cumsum(d, dtype=np.int32)])
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
    first = np.cumsum(lengths) - lengths              # each segment's start in `pos`
    pos = np.repeat(s - first, lengths) + np.arange(lengths.sum())

    def per_element(v):   # a value per segment, spread over its elements
        return np.repeat(v, lengths)
    kv, pivot = k[pos], per_element(k[s])
    left = kv >= pivot                                # where the left scan stops ...
    left[first] = False                               # ... past the pivot
    right = kv <= pivot                               # where the right scan stops
    left_rank = _segment_cumsum(left, first, lengths) - 1     # the k-th stop from the left
    right_total = np.add.reduceat(right.view(np.uint8), first, dtype=np.int64)
    after = per_element(right_total) - _segment_cumsum(right, first, lengths)  # past pos
    right_rank = after                                # (for a right stop: k-th from the right)
    # the k-th stops swap while the k-th right stop lies beyond the k-th left stop, that is
    # while more than k right stops follow the left one
    swapping = left & (after > left_rank)
    n_swaps = np.add.reduceat(swapping.view(np.uint8), first, dtype=np.int64)
    offset, swaps = per_element(np.cumsum(n_swaps) - n_swaps), per_element(n_swaps)
    lefts = np.empty(n_swaps.sum(), np.int64)
    rights = np.empty_like(lefts)
    lefts[(offset + left_rank)[swapping]] = pos[swapping]
    r = right & (right_rank < swaps)
    rights[(offset + right_rank)[r]] = pos[r]
    _swap(k, p, d, lefts, rights)
    # the cut: where the left scan stops once they crossed, the next left stop or the last
    # right stop swapped (which now holds a value not less than the pivot)
    seg = np.repeat(np.arange(s.size), lengths)
    cut = e.copy()
    nxt = left & (left_rank == swaps)
    cut[seg[nxt]] = pos[nxt]
    last = r & (right_rank == swaps - 1)
    np.minimum.at(cut, seg[last], pos[last])
    return cut


def _segment_cumsum(mask, first, lengths):
    """Inclusive running count of `mask` within each segment (in int32: NumPy's int64 running
    sum is ten times slower, and the replayed elements are far fewer than 2**31)."""
    c = np.cumsum(mask, dtype=np.int32)
    return c - np.repeat(c[first] - mask[first], lengths)


def _heap_sort(k, p, d, a, b):
    """std::sort's fallback past its depth limit, partial_sort(first, last, last): make_heap
    then sort_heap on [a, b)."""
    keys, idx = k[a:b].tolist(), list(range(b - a))
    _make_heap(keys, idx, b - a)
    _sort_heap(keys, idx, b - a)
    moved = np.asarray(idx) + a
    k[a:b], p[a:b], d[a:b] = k[moved], p[moved], d[moved]


# --- libstdc++'s heaps, on Python lists: keys (the larger key on top) and what moves with them

def _make_heap(keys, idx, n):
    for parent in range((n - 2) // 2, -1, -1):
        _adjust_heap(keys, idx, parent, n, keys[parent], idx[parent])


def _pop_heap(keys, idx, n, result):
    """The top of the heap keys[:n] goes to `result`, whose element enters the heap."""
    kv, iv = keys[result], idx[result]
    keys[result], idx[result] = keys[0], idx[0]
    _adjust_heap(keys, idx, 0, n, kv, iv)


def _sort_heap(keys, idx, n):
    for last in range(n - 1, 0, -1):
        _pop_heap(keys, idx, last, last)


def _heap_select(keys, idx, middle, candidates):
    """The heap of keys[:middle] takes each later element that beats its top; `candidates`:
    the positions that beat the first top (the top only gets better, so no other can)."""
    _make_heap(keys, idx, middle)
    for i in candidates:
        if keys[i] < keys[0]:
            _pop_heap(keys, idx, middle, i)


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


# --- sort of arbitrary keys, nth_element, and topk -------------------------------------------

def std_sort(keys):
    """The positions std::sort leaves each row of `keys` (rows, n; integers) in."""
    order = np.argsort(keys, axis=1, kind="stable")
    ranked = np.take_along_axis(keys, order, axis=1)
    return unstable_order(order, ranked[:, 1:] == ranked[:, :-1])


def _nth_element(keys, nth):
    """The positions std::nth_element(first, first + nth, last) leaves each row in."""
    rows, n = keys.shape
    k = keys.reshape(-1).copy()
    p = np.tile(np.arange(n, dtype=np.int64), rows)
    d = np.zeros(k.size, bool)   # (no segment is dropped here)
    s = np.arange(0, k.size, n, dtype=np.int64)
    e, target = s + n, s + nth
    depth = 2 * (n.bit_length() - 1)
    while True:
        active = np.flatnonzero(e - s > 3)
        if not active.size:
            break
        sa, ea = s[active], e[active]
        if depth == 0:   # past the depth limit: heap_select(first, nth + 1, last), then
            for a, b, t in zip(sa.tolist(), ea.tolist(), target[active].tolist()):
                keys_, idx = k[a:b].tolist(), list(range(b - a))
                m = t - a + 1
                _heap_select(keys_, idx, m, range(m, b - a))
                idx[0], idx[m - 1] = idx[m - 1], idx[0]   # iter_swap(first, nth)
                moved = np.asarray(idx) + a
                k[a:b], p[a:b] = k[moved], p[moved]
            s[active] = e[active]
            break
        depth -= 1
        _median_to_front(k, p, d, sa, ea)
        cut = _partition(k, p, d, sa, ea)
        right = cut <= target[active]
        s[active] = np.where(right, cut, sa)
        e[active] = np.where(right, ea, cut)
    for a, b in zip(s.tolist(), e.tolist()):   # the insertion sort of the last few
        if b - a > 1:
            o = np.argsort(k[a:b], kind="stable") + a
            k[a:b], p[a:b] = k[o], p[o]
    return p.reshape(rows, n)


def topk_order(order, same, k, in_order):
    """The positions torch.topk returns for each row, from its stable argsort `order` (the
    better first) and `same` (see unstable_order): std::partial_sort's first k if
    k * 64 <= n, else std::nth_element's, the first k - 1 of them then std::sort-ed if
    `in_order`."""
    rows, n = order.shape
    out = np.ascontiguousarray(order[:, :k])
    if k == 0:
        return out
    partial = k * 64 <= n
    if partial or in_order:   # the values alone fix the answer unless two of the first k + 1 tie
        replay = same[:, :k].any(axis=1)
    else:   # (unsorted: the order nth_element leaves)
        replay = np.ones(rows, bool)
    if not replay.any() or replay.sum() * n > MAX_REPLAYED:
        return out
    keys = dense_ranks(order, same)
    if partial:
        for r in np.flatnonzero(replay).tolist():
            row = keys[r]
            keys_, idx = row.tolist(), list(range(n))
            top = max(keys_[:k])
            _heap_select(keys_, idx, k, (np.flatnonzero(row[k:] < top) + k).tolist())
            _sort_heap(keys_, idx, k)
            out[r] = idx[:k]
        return out
    picked = _nth_element(keys[replay], k - 1)[:, :k]
    if in_order and k > 2:
        head = picked[:, :k - 1]
        picked[:, :k - 1] = np.take_along_axis(
            head, std_sort(np.take_along_axis(keys[replay], head, axis=1)), axis=1)
    out[replay] = picked
    return out


# ---------------------------------------------------------------------------------------------
# kthvalue: not a C++ standard algorithm but torch's own quickselect (Sedgewick's, from TH).
# On a segment [L, R]: the element at (L + R) // 2 is swapped to L + 1, then three conditional
# swaps order L + 1 <= L <= R, and L holds the pivot. A left scan from L + 2 stops at elements
# not less than the pivot, a right scan from R - 1 at elements not greater; the stops swap
# while the right one is not left of the left one (a stop where both meet swaps with itself,
# and the scans go on past it). The pivot then swaps with the right scan's last stop j, and the
# search goes on in [i, R] (j <= k) or [L, j - 1] (j >= k), i the left scan's last stop; two
# elements are ordered by one conditional swap. Every row has one segment, so each pass does
# all rows at once.

def _swap_where(k, p, a, b, m):
    a, b = a[m], b[m]
    k[a], k[b] = k[b], k[a]
    p[a], p[b] = p[b], p[a]


def _select_pass(k, p, lo, hi):
    """One partitioning pass on the segments [lo, hi] (at least three elements each) of the
    flat keys k and positions p, in place; returns (i, j), the scans' last stops."""
    a, mid = lo + 1, (lo + hi) >> 1
    _swap_where(k, p, mid, a, np.ones(lo.size, bool))
    _swap_where(k, p, a, hi, k[a] > k[hi])
    _swap_where(k, p, lo, hi, k[lo] > k[hi])
    _swap_where(k, p, a, lo, k[a] > k[lo])
    lengths = hi - lo                                   # positions lo + 1 ... hi
    first = np.cumsum(lengths) - lengths
    pos = np.repeat(lo + 1 - first, lengths) + np.arange(lengths.sum())
    kv, pivot = k[pos], np.repeat(k[lo], lengths)
    left = (kv >= pivot) & (pos >= np.repeat(lo + 2, lengths))
    right = (kv <= pivot) & (pos <= np.repeat(hi - 1, lengths))
    left_rank = _segment_cumsum(left, first, lengths) - 1
    right_total = np.add.reduceat(right.view(np.uint8), first, dtype=np.int64)
    right_from = np.repeat(right_total, lengths) - _segment_cumsum(right, first, lengths) + right
    right_rank = right_from - 1                         # (for a right stop: t-th from the right)
    # the t-th stops swap while the t-th right stop is at or right of the t-th left stop,
    # that is while more than t right stops lie at or after it
    swapping = left & (right_from > left_rank)
    n_swaps = np.add.reduceat(swapping.view(np.uint8), first, dtype=np.int64)
    offset, swaps = np.repeat(np.cumsum(n_swaps) - n_swaps, lengths), np.repeat(n_swaps, lengths)
    lefts = np.empty(n_swaps.sum(), np.int64)
    rights = np.empty_like(lefts)
    lefts[(offset + left_rank)[swapping]] = pos[swapping]
    r = right & (right_rank < swaps)
    rights[(offset + right_rank)[r]] = pos[r]
    k[lefts], k[rights], p[lefts], p[rights] = k[rights], k[lefts], p[rights], p[lefts]
    # where the scans stop after the last swap, read off the data as it is now
    last = np.cumsum(n_swaps) - 1
    start_i = np.where(n_swaps > 0, lefts[np.maximum(last, 0)] + 1, lo + 2) if lefts.size \
        else lo + 2
    start_j = np.where(n_swaps > 0, rights[np.maximum(last, 0)] - 1, hi - 1) if rights.size \
        else hi - 1
    kv = k[pos]
    big = np.iinfo(np.int64).max
    i = np.minimum.reduceat(np.where((kv >= pivot) & (pos >= np.repeat(start_i, lengths)),
                                     pos, big), first)
    j = np.maximum.reduceat(np.where((kv <= pivot) & (pos <= np.repeat(start_j, lengths)),
                                     pos, -1), first)
    _swap_where(k, p, lo, j, np.ones(lo.size, bool))
    return i, j


def quick_select(keys, kth):
    """The position torch's kthvalue kernel brings to place kth of each row of integer keys
    (rows, n): the index it reports among equal elements."""
    rows, n = keys.shape
    k = keys.reshape(-1).copy()
    p = np.tile(np.arange(n, dtype=np.int64), rows)
    base = np.arange(rows, dtype=np.int64) * n
    lo, hi, target = base.copy(), base + n - 1, base + kth
    while True:
        two = np.flatnonzero(hi == lo + 1)
        if two.size:   # two elements: one conditional swap, and done
            _swap_where(k, p, lo[two], hi[two], k[lo[two]] > k[hi[two]])
            hi[two] = lo[two]
        act = np.flatnonzero(hi > lo + 1)
        if not act.size:
            return p[target]
        i, j = _select_pass(k, p, lo[act], hi[act])
        t = target[act]
        lo[act] = np.where(j <= t, i, lo[act])
        hi[act] = np.where(j >= t, j - 1, hi[act])
