"""The machine's float32 matmul peak: the best of a few square products C = A B,
counted as 2 n^3 floating-point operations each."""

from __future__ import annotations

import time

import torch


def matmul_peak_gflops(sizes: tuple[int, ...] = (1024, 2048), repeats: int = 5,
                       device: torch.device | None = None) -> dict[str, float]:
    """{"gflops": best GFLOP/s over sizes and repeats, "size": the n that reached it}."""
    device = device or torch.device("cpu")
    best, best_n = 0.0, 0
    for n in sizes:
        a = torch.randn(n, n, device=device)
        b = torch.randn(n, n, device=device)
        a @ b  # warm-up (thread pool, caches)
        for _ in range(repeats):
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            a @ b
            if device.type == "cuda":
                torch.cuda.synchronize()
            rate = 2 * n**3 / (time.perf_counter() - start) / 1e9
            if rate > best:
                best, best_n = rate, n
    return {"gflops": round(best, 1), "size": best_n}
