"""A small op profiler: where does the time go, per op, in forward and in backward?

    with minigrad.autograd.profiler.profile() as prof:
        loss = model(x).sum(); loss.backward()
    print(prof.table())

It swaps in timing wrappers only while the block runs, so ops pay nothing when it is off."""

from __future__ import annotations

import time
from collections import defaultdict

from minigrad.autograd import engine
from minigrad.autograd.function import Function


class profile:
    """Context manager collecting calls and seconds per (op, forward|backward)."""

    def __init__(self):
        self.calls: dict[tuple[str, str], int] = defaultdict(int)
        self.seconds: dict[tuple[str, str], float] = defaultdict(float)
        self._depth = 0

    def __enter__(self):
        self._apply = Function.__dict__["apply"]
        self._run_node = engine._run_node
        prof = self
        original_apply = self._apply.__func__
        original_run_node = self._run_node

        def apply(cls, *args, **kwargs):
            prof._depth += 1
            start = time.perf_counter()
            try:
                return original_apply(cls, *args, **kwargs)
            finally:
                prof._depth -= 1
                if prof._depth == 0:  # ops called inside other ops count for the outer one
                    key = (cls.__name__, "forward" if not prof._in_backward else "backward op")
                    prof.calls[key] += 1
                    prof.seconds[key] += time.perf_counter() - start

        def run_node(node, *args):
            prof._in_backward = True
            start = time.perf_counter()
            try:
                return original_run_node(node, *args)
            finally:
                prof._in_backward = False
                key = (type(node).__name__, "backward")
                prof.calls[key] += 1
                prof.seconds[key] += time.perf_counter() - start

        self._in_backward = False
        Function.apply = classmethod(apply)
        engine._run_node = run_node
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.total = time.perf_counter() - self._start
        Function.apply = self._apply
        engine._run_node = self._run_node
        return False

    def table(self, top: int = 25) -> str:
        """A markdown table of the most expensive (op, phase) pairs."""
        rows = sorted(self.seconds.items(), key=lambda kv: -kv[1])[:top]
        lines = [
            "| op | phase | calls | total ms | µs per call | share |",
            "|---|---|---:|---:|---:|---:|",
        ]
        for (name, phase), sec in rows:
            n = self.calls[(name, phase)]
            lines.append(
                f"| {name} | {phase} | {n} | {sec * 1e3:.2f} | {sec / n * 1e6:.1f} | "
                f"{sec / self.total:.1%} |"
            )
        accounted = sum(s for (_, phase), s in self.seconds.items() if phase != "backward op")
        lines.append(
            f"\nwall time {self.total * 1e3:.1f} ms; ops and backward nodes account for "
            f"{accounted / self.total:.0%} (the rest is Python between ops: modules, "
            "optimizer, the engine's bookkeeping)"
        )
        return "\n".join(lines)
