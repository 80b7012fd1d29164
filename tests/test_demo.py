"""The README's demo runs and its loss falls."""
import subprocess
import sys

from ember.demo import main


def test_demo_loss_falls(capsys):
    final = main(steps=100)
    out = capsys.readouterr().out
    losses = [float(line.split()[-1]) for line in out.splitlines() if line.startswith("step")]
    assert losses[0] > 0.4 and final < losses[0] / 3
    assert losses == sorted(losses, reverse=True)


def test_python_dash_m_ember():
    r = subprocess.run([sys.executable, "-m", "ember"], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert "step  300" in r.stdout
