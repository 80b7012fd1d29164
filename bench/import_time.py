"""Time and peak memory of `import ember` vs `import torch`, each in a fresh interpreter.

    python bench/import_time.py

Target (issue #3): ember under 0.25 s and 60 MiB peak.
"""
import subprocess
import sys

PROBE = """
import resource, sys, time
t0 = time.perf_counter()
import {name}
dt = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{{dt:.3f}} {{peak:.1f}}")
"""


def measure(name, repeat=5):
    times, peaks = [], []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", PROBE.format(name=name)], capture_output=True,
                             text=True, check=True).stdout.split()
        times.append(float(out[0]))
        peaks.append(float(out[1]))
    return min(times), min(peaks)


def main():
    baseline_t, baseline_m = measure("sys")
    print(f"{'module':8s} {'import s':>9s} {'peak MiB':>9s}   (bare interpreter: "
          f"{baseline_m:.1f} MiB)")
    for name in ("torch", "ember"):
        t, m = measure(name)
        print(f"{name:8s} {t:9.3f} {m:9.1f}")


if __name__ == "__main__":
    main()
