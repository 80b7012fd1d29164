"""Training-step benchmark: ms per step (forward, backward, optimizer step) for ember and
torch on the same models, and the ratio ember/torch, plus peak memory.

    python bench/train.py [--steps N] [--rounds R] [--cases mlp,lenet,resnet,transformer,lstm]

Each (case, library) runs in its own child process so that peak RSS (ru_maxrss, minus the
RSS after imports and model construction) is that library's alone; the step time is the
median over --steps steps, and the best of --rounds alternating runs. Cases whose modules are not
in ember yet (nn.Conv2d / nn.LSTM from the conv/RNN issue) fall back to a local Conv2d built on
F.conv2d, or are reported as n/a.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

CASES = ("mlp", "lenet", "resnet", "transformer", "lstm")
TARGETS = {"mlp": 1.0, "lenet": 1.5, "resnet": 1.5, "transformer": 1.2, "lstm": 1.5}


def _conv(t, cin, cout, k, stride=1, padding=0, bias=True):
    nn = t.nn
    if hasattr(nn, "Conv2d"):
        return nn.Conv2d(cin, cout, k, stride=stride, padding=padding, bias=bias)

    class Conv2d(nn.Module):   # the same parameters and init as nn.Conv2d
        def __init__(self):
            super().__init__()
            import math
            self.weight = nn.Parameter(t.empty(cout, cin, k, k))
            self.bias = nn.Parameter(t.empty(cout)) if bias else None
            nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
            if bias:
                b = 1 / math.sqrt(cin * k * k)
                nn.init.uniform_(self.bias, -b, b)

        def forward(self, x):
            return t.nn.functional.conv2d(x, self.weight, self.bias, stride, padding)
    return Conv2d()


def build(case, t):
    nn, F = t.nn, t.nn.functional
    if case == "mlp":
        model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                              nn.Linear(512, 10))
        x, y = t.randn(128, 784), t.randint(0, 10, (128,))
        return model, t.optim.SGD(model.parameters(), lr=0.01, momentum=0.9), x, y

    if case == "lenet":
        class LeNet(nn.Module):
            def __init__(self):
                super().__init__()
                self.c1 = _conv(t, 1, 6, 5, padding=2)
                self.c2 = _conv(t, 6, 16, 5)
                self.f1 = nn.Linear(16 * 5 * 5, 120)
                self.f2 = nn.Linear(120, 84)
                self.f3 = nn.Linear(84, 10)

            def forward(self, x):
                x = F.max_pool2d(F.relu(self.c1(x)), 2)
                x = F.max_pool2d(F.relu(self.c2(x)), 2)
                x = F.relu(self.f1(x.flatten(1)))
                return self.f3(F.relu(self.f2(x)))
        model = LeNet()
        x, y = t.randn(64, 1, 28, 28), t.randint(0, 10, (64,))
        return model, t.optim.SGD(model.parameters(), lr=0.01, momentum=0.9), x, y

    if case == "resnet":
        class Block(nn.Module):
            def __init__(self, cin, cout, stride):
                super().__init__()
                self.c1 = _conv(t, cin, cout, 3, stride, 1, bias=False)
                self.b1 = nn.BatchNorm2d(cout)
                self.c2 = _conv(t, cout, cout, 3, 1, 1, bias=False)
                self.b2 = nn.BatchNorm2d(cout)
                self.short = None
                if stride != 1 or cin != cout:
                    self.short = nn.Sequential(_conv(t, cin, cout, 1, stride, 0, bias=False),
                                               nn.BatchNorm2d(cout))

            def forward(self, x):
                out = F.relu(self.b1(self.c1(x)))
                out = self.b2(self.c2(out))
                return F.relu(out + (x if self.short is None else self.short(x)))

        class ResNet(nn.Module):
            def __init__(self):
                super().__init__()
                self.stem = _conv(t, 3, 16, 3, 1, 1, bias=False)
                self.bn = nn.BatchNorm2d(16)
                self.layers = nn.Sequential(Block(16, 16, 1), Block(16, 32, 2), Block(32, 64, 2))
                self.fc = nn.Linear(64, 10)

            def forward(self, x):
                x = self.layers(F.relu(self.bn(self.stem(x))))
                return self.fc(x.mean((2, 3)))
        model = ResNet()
        x, y = t.randn(32, 3, 32, 32), t.randint(0, 10, (32,))
        return model, t.optim.SGD(model.parameters(), lr=0.01, momentum=0.9), x, y

    if case == "transformer":
        class Block(nn.Module):   # a pre-norm encoder block: attention + MLP
            def __init__(self, d=256, h=4):
                super().__init__()
                self.ln1 = nn.LayerNorm(d)
                self.attn = nn.MultiheadAttention(d, h, batch_first=True)
                self.ln2 = nn.LayerNorm(d)
                self.ff = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))
                self.head = nn.Linear(d, 10)

            def forward(self, x):
                a = self.ln1(x)
                x = x + self.attn(a, a, a, need_weights=False)[0]
                x = x + self.ff(self.ln2(x))
                return self.head(x.mean(1))
        model = Block()
        x, y = t.randn(8, 128, 256), t.randint(0, 10, (8,))
        return model, t.optim.AdamW(model.parameters(), lr=1e-3), x, y

    if case == "lstm":
        if not hasattr(nn, "LSTM"):
            return None

        class LM(nn.Module):
            def __init__(self):
                super().__init__()
                self.rnn = nn.LSTM(256, 256, num_layers=2)
                self.fc = nn.Linear(256, 10)

            def forward(self, x):
                return self.fc(self.rnn(x)[0][-1])
        model = LM()
        x, y = t.randn(35, 20, 256), t.randint(0, 10, (20,))
        return model, t.optim.SGD(model.parameters(), lr=0.01), x, y
    raise ValueError(case)


def child(case, lib, steps):
    if lib == "torch":
        import torch as t
    else:
        sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
        import ember as t
    t.manual_seed(0)
    built = build(case, t)
    if built is None:
        print(json.dumps({"ms": None, "mb": None}))
        return
    model, opt, x, y = built
    F = t.nn.functional

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _ in range(3):   # warm-up
        step()
    times = []
    for _ in range(steps):
        s = time.perf_counter()
        step()
        times.append(time.perf_counter() - s)
    times.sort()
    ms = 1e3 * times[len(times) // 2]   # the median step
    peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024
    print(json.dumps({"ms": ms, "mb": peak}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--child", nargs=2, metavar=("CASE", "LIB"))
    args = ap.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.steps)
        return
    print(f"| case | torch ms/step | ember ms/step | ratio | target | torch peak MB | "
          f"ember peak MB |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for case in args.cases.split(","):
        res = {}
        # alternate the libraries over several rounds and keep each one's best round, so
        # that load from other processes on the machine hits both alike
        for _ in range(args.rounds):
            for lib in ("torch", "ember"):
                out = subprocess.run([sys.executable, __file__, "--child", case, lib,
                                      "--steps", str(args.steps)], capture_output=True,
                                     text=True)
                try:
                    r = json.loads(out.stdout.strip().splitlines()[-1])
                except (IndexError, json.JSONDecodeError):
                    r = {"ms": None, "mb": None, "err": out.stderr.strip()[-300:]}
                best = res.get(lib)
                if best is None or (r["ms"] is not None and (best["ms"] is None or
                                                             r["ms"] < best["ms"])):
                    res[lib] = r
        t, e = res["torch"], res["ember"]
        if e.get("ms") is None or t.get("ms") is None:
            note = e.get("err") or t.get("err") or "n/a (module not in ember yet)"
            print(f"| {case} | {t.get('ms') or 'n/a'} | n/a | n/a | {TARGETS[case]} | | | "
                  f"<!-- {note[-120:]} -->")
            continue
        print(f"| {case} | {t['ms']:.2f} | {e['ms']:.2f} | {e['ms'] / t['ms']:.2f} | "
              f"{TARGETS[case]} | {t['mb']:.0f} | {e['mb']:.0f} |")


if __name__ == "__main__":
    main()
