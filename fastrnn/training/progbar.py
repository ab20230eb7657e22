"""Keras 3's progress output for fit, evaluate and predict."""
import sys
import time


class Progbar:
    """Keras 3's progress output: verbose=1 a bar redrawn per step, 2 one line per epoch."""

    def __init__(self, target, verbose, stream=None):
        self.target = target
        self.verbose = verbose
        self.stream = stream or sys.stdout
        self.start = time.perf_counter()
        self.current = 0
        self.logs = {}

    @staticmethod
    def _values(logs):
        return "".join(f" - {k}: {v:.4f}" if abs(v) >= 1e-3 or v == 0 else f" - {k}: {v:.4e}"
                       for k, v in (logs or {}).items())

    def _timing(self, done):
        elapsed = time.perf_counter() - self.start
        per_step = elapsed / max(self.current, 1)
        unit = f"{per_step * 1e3:.0f}ms/step" if per_step >= 1e-3 else \
            f"{per_step * 1e6:.0f}us/step"
        if done:
            return f"{elapsed:.0f}s {unit}"
        return f"{per_step * (self.target - self.current):.0f}s {unit}"

    def update(self, current, logs=None):
        """``current`` steps done (the target, when None at the start, becomes known at
        ``end``: a generator's length)."""
        self.current = current
        self.logs = logs or self.logs
        if self.verbose != 1:
            return
        if self.target is None:
            self.stream.write(f"\r{current}/Unknown " + self._timing(True) +
                              self._values(self.logs))
            self.stream.flush()
            return
        width = 20
        filled = int(width * current / max(self.target, 1))
        digits = len(str(self.target))
        bar = f"{current:>{digits}}/{self.target} " + "━" * filled + " " * (width - filled)
        done = current >= self.target
        self.stream.write("\r" + bar + " " + self._timing(done) + self._values(self.logs))
        self.stream.flush()

    def end(self, logs=None):
        if logs is not None:
            self.logs = logs
        if self.target is None:
            self.target = self.current
        if self.verbose == 1:
            self.update(self.target, self.logs)
            self.stream.write("\n")
        elif self.verbose == 2:
            elapsed = time.perf_counter() - self.start
            per_step = elapsed / max(self.target, 1)
            self.stream.write(f"{self.target}/{self.target} - {elapsed:.0f}s - "
                              f"{per_step * 1e3:.0f}ms/step{self._values(self.logs)}\n")
        self.stream.flush()
