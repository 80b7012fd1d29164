"""Time and peak memory of `import ember` vs `import torch`, each in a fresh interpreter.

    python bench/import_time.py

Target (issue #3): ember under 0.25 s and 60 MiB peak.

Both imports run with compiled bytecode, as an installed package has it (pip writes .pyc files):
the children write and read their caches under a temporary PYTHONPYCACHEPREFIX, one untimed
import first, so a checkout run with PYTHONDONTWRITEBYTECODE does not time the compiler.
"""
import os
import subprocess
import sys
import tempfile

PROBE = """
import resource, sys, time
t0 = time.perf_counter()
import {name}
dt = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{{dt:.3f}} {{peak:.1f}}")
"""


def measure(name, env, repeat=5):
    times, peaks = [], []
    for i in range(repeat + 1):   # the first import writes the bytecode caches
        out = subprocess.run([sys.executable, "-c", PROBE.format(name=name)], capture_output=True,
                             text=True, check=True, env=env).stdout.split()
        if i:
            times.append(float(out[0]))
            peaks.append(float(out[1]))
    return min(times), min(peaks)


def main():
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, PYTHONPYCACHEPREFIX=cache)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        baseline_t, baseline_m = measure("sys", env)
        print(f"{'module':8s} {'import s':>9s} {'peak MiB':>9s}   (bare interpreter: "
              f"{baseline_m:.1f} MiB)")
        for name in ("torch", "ember"):
            t, m = measure(name, env)
            print(f"{name:8s} {t:9.3f} {m:9.1f}")


if __name__ == "__main__":
    main()
