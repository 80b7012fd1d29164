"""AdaptiveLogSoftmaxWithLoss: the adaptive softmax of Grave et al. (2017)."""
from collections import namedtuple

from ember._ops.manipulation import cat
from ember.nn import functional as F
from ember.nn.modules.container import ModuleList, Sequential
from ember.nn.modules.linear import Linear
from ember.nn.modules.module import Module

__all__ = ["AdaptiveLogSoftmaxWithLoss"]

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveLogSoftmaxWithLoss(Module):
    """Log-probabilities over n_classes split by `cutoffs` into a head (the first cutoffs[0]
    classes plus one entry per tail cluster) and tail clusters; cluster i projects to
    in_features // div_value**(i+1) features first. log p(c) = head log-prob of c when c is in
    the shortlist, else head log-prob of its cluster + the cluster's log-prob of c.

    forward(input (N, in_features) or (in_features,), target (N,) or ()) returns
    (output: the target log-probabilities (N,), loss: their negative mean). Parameters:
    head (Linear(in_features, shortlist + n_clusters)), tail[i] (Sequential of two bias-free
    Linears), as torch names them so that state_dicts load."""

    def __init__(self, in_features, n_classes, cutoffs, div_value=4.0, head_bias=False,
                 device=None, dtype=None):
        super().__init__()
        cutoffs = list(cutoffs)
        if len(cutoffs) == 0:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if (cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1
                or len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs)):
            raise ValueError("cutoffs should be a sequence of unique, positive integers sorted "
                             "in an increasing order, where each value is between 1 and "
                             "n_classes-1")
        kw = {k: v for k, v in (("device", device), ("dtype", dtype)) if v is not None}
        self.in_features = in_features
        self.n_classes = n_classes
        self.cutoffs = cutoffs + [n_classes]
        self.div_value = div_value
        self.head_bias = head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(in_features, self.head_size, bias=head_bias, **kw)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hidden = int(in_features // (div_value ** (i + 1)))
            size = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(Sequential(Linear(in_features, hidden, bias=False, **kw),
                                        Linear(hidden, size, bias=False, **kw)))

    def reset_parameters(self):
        self.head.reset_parameters()
        for proj, out in self.tail:
            proj.reset_parameters()
            out.reset_parameters()

    def forward(self, input_, target_):
        tdim = target_.dim()
        if tdim == 1:
            if input_.size(0) != target_.size(0):
                raise RuntimeError("Input and target should have the same size in the batch "
                                   "dimension.")
            if input_.dim() != 2:
                raise RuntimeError(f"1D target tensor expects 2D input tensors, but found "
                                   f"inputs with size {input_.size()}")
        elif tdim == 0:
            if input_.dim() != 1:
                raise RuntimeError(f"0D target tensor expects 1D input tensors, but found "
                                   f"inputs with size {input_.size()}")
        else:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        batched = tdim > 0
        x = input_ if batched else input_.unsqueeze(0)
        target = target_ if batched else target_.unsqueeze(0)
        n = target.size(0)
        output = x.new_zeros(n)     # the tail clusters' part of each row's log-prob
        head_col = target.clone()   # which head column each row reads
        covered = 0
        bounds = [0] + self.cutoffs
        for i in range(len(bounds) - 1):
            lo, hi = bounds[i], bounds[i + 1]
            in_cluster = (target >= lo) & (target < hi)
            rows = in_cluster.nonzero().flatten()
            if rows.numel() == 0:
                continue
            covered += rows.numel()
            if i == 0:
                continue   # shortlist rows read their own class in the head
            head_col = head_col.index_fill(0, rows, self.shortlist_size + i - 1)
            logp = F.log_softmax(self.tail[i - 1](x.index_select(0, rows)), dim=1)
            local = (target[in_cluster] - lo).unsqueeze(1)
            output = output.index_copy(0, rows, logp.gather(1, local).squeeze(1))
        if covered != n:
            raise RuntimeError(f"Target values should be in [0, {self.n_classes - 1}], but "
                               f"values in range [{target.min().item()}, "
                               f"{target.max().item()}] were found. ")
        head_logp = F.log_softmax(self.head(x), dim=1)
        output = output + head_logp.gather(1, head_col.unsqueeze(1)).squeeze(1)
        loss = (-output).mean()
        if not batched:
            output = output.squeeze(0)
        return _ASMoutput(output, loss)

    def _get_full_log_prob(self, input, head_output):
        """(N, n_classes) log-probabilities from the input and the head's output."""
        head_logp = F.log_softmax(head_output, dim=1)
        parts = [head_logp[:, :self.shortlist_size]]
        for i in range(self.n_clusters):
            cluster_logp = F.log_softmax(self.tail[i](input), dim=1)
            parts.append(cluster_logp + head_logp[:, self.shortlist_size + i].unsqueeze(1))
        return cat(parts, 1)

    def log_prob(self, input):
        """Log-probabilities of all n_classes: (N, in_features) -> (N, n_classes)."""
        return self._get_full_log_prob(input, self.head(input))

    def predict(self, input):
        """The most likely class per row, (N,): log_prob(input).argmax(1), computing the tail
        clusters only for rows whose head argmax is a cluster."""
        head_output = self.head(input)
        output = head_output.argmax(dim=1)
        outside = output >= self.shortlist_size
        if not outside.any():
            return output
        if outside.all():
            return self._get_full_log_prob(input, head_output).argmax(dim=1)
        full = self._get_full_log_prob(input[outside], head_output[outside])
        output[outside] = full.argmax(dim=1)
        return output
