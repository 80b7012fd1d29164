"""`python -m ember`: fit a small model with autograd and print the loss falling.

Fits a cubic polynomial to sin(x) by gradient descent, written exactly as one would with torch
(`import ember as torch`).
"""
import math

import ember as torch


def main(steps: int = 300, lr: float = 0.3) -> float:
    x = torch.linspace(-math.pi, math.pi, 200)
    y = torch.tensor([math.sin(v) for v in x.tolist()])
    features = [x ** k / math.pi ** k for k in range(4)]   # scaled 1, x, x^2, x^3
    w = torch.zeros(4, requires_grad=True)

    print(f"fitting y = sin(x) with a cubic, {steps} steps of gradient descent (lr={lr})")
    loss = None
    for step in range(steps + 1):
        pred = sum(w[k] * features[k] for k in range(4))
        loss = ((pred - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            w.grad = None
        if step % 50 == 0:
            print(f"step {step:4d}  loss {loss:.6f}")
    print("coefficients:", [round(c, 4) for c in w.tolist()])
    return float(loss)


if __name__ == "__main__":
    main()
