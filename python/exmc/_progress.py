"""Progress of a Python sample(): tqdm bars in a notebook (or when asked for), the command's own
per-chain display on a terminal; nothing where nobody watches."""

from __future__ import annotations

import sys


def _in_notebook() -> bool:
    ip = sys.modules.get("IPython")
    if ip is None:
        return False
    try:
        shell = ip.get_ipython()
    except Exception:
        return False
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


class _TqdmProgress:
    """One tqdm bar per chain over all its iterations (warmup included), advanced from the
    sampler's per-chain count of finished iterations."""

    def __init__(self, chains: int, totals: int, notebook: bool):
        if notebook:
            from tqdm.auto import tqdm
        else:
            from tqdm import tqdm
        self.bars = [tqdm(total=totals, desc=f"chain {c + 1}", position=c, leave=True,
                          unit="it", dynamic_ncols=True) for c in range(chains)]

    def __call__(self, iterations, final):
        for bar, n in zip(self.bars, iterations):
            bar.n = n
            bar.refresh()
        if final:
            for bar in self.bars:
                bar.close()
