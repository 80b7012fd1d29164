"""End to end: the same small CNN (conv, BatchNorm, ReLU, max-pool, dropout off, linear)
trained for 20 SGD steps in torch and ember from the same initial weights on the same
batches; the losses agree step by step within 1e-4 relative."""
import numpy as np
import pytest
import torch

import ember
from nn_helpers import copy_state


def cnn(t):
    nn = t.nn
    F = t.nn.functional

    class Conv(nn.Module):   # nn.Conv2d's parameters and forward (used until it exists)
        def __init__(self, cin, cout, k):
            super().__init__()
            self.weight = nn.Parameter(t.randn(cout, cin, k, k) * 0.3)
            self.bias = nn.Parameter(t.zeros(cout))

        def forward(self, x):
            return F.conv2d(x, self.weight, self.bias, padding=1)

    conv = nn.Conv2d if hasattr(nn, "Conv2d") else Conv

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = conv(1, 4, 3) if conv is Conv else conv(1, 4, 3, padding=1)
            self.bn = nn.BatchNorm2d(4)
            self.drop = nn.Dropout(0.0)
            self.fc = nn.Linear(4 * 4 * 4, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.bn(self.conv(x))), 2)
            return self.fc(self.drop(x.flatten(1)))
    return Net()


@pytest.mark.skipif(not hasattr(ember, "optim"), reason="needs ember.optim")
def test_cnn_sgd_20_steps_matches_torch():
    torch.manual_seed(0)
    tm = cnn(torch)
    em = cnn(ember)
    copy_state(tm, em)
    topt = torch.optim.SGD(tm.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    eopt = ember.optim.SGD(em.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    rng = np.random.default_rng(0)
    t_losses, e_losses = [], []
    for step in range(20):
        x = rng.standard_normal((8, 1, 8, 8)).astype(np.float32)
        y = rng.integers(0, 10, 8)
        for m, opt, lib, losses in ((tm, topt, torch, t_losses), (em, eopt, ember, e_losses)):
            opt.zero_grad()
            loss = lib.nn.functional.cross_entropy(m(lib.tensor(x)), lib.tensor(y))
            loss.backward()
            opt.step()
            losses.append(loss.item())
    np.testing.assert_allclose(e_losses, t_losses, rtol=1e-4)
    for (k, tv), (k2, ev) in zip(tm.state_dict().items(), em.state_dict().items()):
        assert k == k2
        np.testing.assert_allclose(ev.numpy(), tv.numpy(), rtol=1e-3, atol=1e-5)
