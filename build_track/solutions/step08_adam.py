"""Step 8: the Adam optimiser. REFERENCE SOLUTION: try your own first.

For each parameter p with gradient g, at step t = 1, 2, ...:

    m = beta1 m + (1 - beta1) g              a running mean of the gradient
    v = beta2 v + (1 - beta2) g^2            a running mean of its square
    m_hat = m / (1 - beta1^t)                both start at 0: undo that bias
    v_hat = v / (1 - beta2^t)
    p = p - lr m_hat / (sqrt(v_hat) + eps)   (PyTorch adds eps after the correction)

So each parameter moves by about lr per step, whatever the scale of its gradient."""
import numpy as np


class Adam:
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        self.params = list(params)
        self.lr, (self.beta1, self.beta2), self.eps = lr, betas, eps
        self.m = [np.zeros_like(p.data) for p in self.params]
        self.v = [np.zeros_like(p.data) for p in self.params]
        self.t = 0

    def zero_grad(self):
        """Forget the gradients (backward adds into .grad)."""
        for p in self.params:
            p.grad = None

    def step(self):
        """One update of every parameter that has a gradient, in place (p.data is changed,
        not replaced). A parameter whose .grad is None is left as it is."""
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        for p, m, v in zip(self.params, self.m, self.v):
            if p.grad is None:
                continue
            g = p.grad
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            m_hat = m / (1 - b1 ** self.t)
            v_hat = v / (1 - b2 ** self.t)
            p.data -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
