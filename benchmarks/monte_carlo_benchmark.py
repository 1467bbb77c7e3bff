"""Monte Carlo benchmark: the workbench's vectorised Monte Carlo against Brightway's own, side by side.

    python benchmarks/monte_carlo_benchmark.py [--iterations 10000] [--brightway-iterations 500]

For each enterprise it prints iterations per second of
1. the workbench (``Study.monte_carlo`` machinery: the foreground as an affine function of the sampled data, all
   iterations solved at once, ``methodology/core/mc_fast.py``), and
2. Brightway 2.5 (``bw2calc.LCA(..., use_distributions=True)`` iterated with ``next``) on the same foreground
   written into a private copy of the template project, each exchange carrying a lognormal of the sigma of the
   datum it comes from,
their ratio, and the two distributions (median and 95 % interval of the fossil GWP100 score).

Two cases. The grinding station C buys everything and computes no emission from a balance: both sample the same
quantities, so the distributions must agree within sampling error ("agreement"). The integrated works A: the
workbench samples the inputs and lets the carbon balances move the CO2 with them; Brightway samples every
exchange independently, including the CO2 a balance derived from the very inputs it samples and the site-internal
flows, so its interval is wider ("difference", the issue's 1,490-2,700 kg around 2,022 at sigma 0.1).

Only the activity data are sampled here (background factors held), so that both sample the same things. Nothing is
asserted: it prints what it measured. Needs ``pcf setup``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CASES = {"agreement (no balances)": "parameters/cement/js-grinding-station-c.yaml",
         "difference (carbon balances)": "parameters/steel/sd-integrated-works-a.yaml"}


def _stats(x: np.ndarray) -> str:
    return f"median {np.median(x):8.1f}, 95 % {np.percentile(x, 2.5):8.1f} - {np.percentile(x, 97.5):8.1f}"


def workbench(study, iterations: int, sigma: float | None):
    from methodology.core import uncertainty as U
    from methodology.schema.methods import gwp_indicators

    m = U.model(study.enterprise, study.foreground, study.factors, {"fossil": gwp_indicators()["fossil"]},
                U.load_spec())
    m.sigmas[m.n_data:] = 0.0  # background factors held, as Brightway's template background has no distributions
    if sigma is not None:
        m.sigmas[: m.n_data] = sigma
    M = U.draw(m.sigmas, iterations, seed=1)
    m.totals(M[:3])  # set up the affine map (one build per sampled datum), timed apart
    t0 = time.perf_counter()
    y, _ = m.totals(M)
    return m, y, time.perf_counter() - t0


def brightway(study, m, iterations: int, work: Path, every: float | None = None):
    """Brightway's Monte Carlo with each exchange that comes from a sampled datum at that datum's sigma; with
    ``every``, every exchange of the foreground (direct emissions and site-internal flows too) at that sigma."""
    from methodology.brightway import engine

    sig = {}
    for ((p, k), _), s in zip(m.items, m.sigmas[: m.n_data], strict=True):
        sig[(p, k)] = float(s)
        for mode in ("rail", "road", "sea", "inland-waterway"):
            sig[(p, f"{k} transport ({mode})")] = float(s)
    if every is not None:
        sig = {(pid, e.label): every for pid, proc in study.foreground.processes.items() for e in proc.exchanges}
    with engine.run_project(work, study.factors) as bd:
        engine.write_foreground(bd, study.foreground, study.factors, uncertainty=sig)
        engine.monte_carlo_scores(bd, study.foreground, 3, seed=1)  # warm-up: datapackages processed
        t0 = time.perf_counter()
        y = engine.monte_carlo_scores(bd, study.foreground, iterations, seed=1)
        return y, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--iterations", type=int, default=10_000)
    ap.add_argument("--brightway-iterations", type=int, default=500)
    ap.add_argument("--sigma", type=float, default=None, help="one sigma for every datum (default: pedigree)")
    args = ap.parse_args()
    from methodology.study import Study

    for label, path in CASES.items():
        st = Study.prepare(ROOT / path)
        det = st.calculate_without_brightway().gwp100_kg_co2e.fossil
        m, ours, t_ours = workbench(st, args.iterations, args.sigma)
        with tempfile.TemporaryDirectory() as tmp:
            theirs, t_bw = brightway(st, m, args.brightway_iterations, Path(tmp))
        r_ours, r_bw = len(ours) / t_ours, len(theirs) / t_bw
        print(f"{label}: {Path(path).stem}, deterministic fossil {det:.1f} kg CO2e per declared unit, "
              f"{m.n_data} data sampled")
        print(f"  workbench  {len(ours):6d} iterations, {r_ours:10,.0f} /s  {_stats(ours)}")
        print(f"  Brightway  {len(theirs):6d} iterations, {r_bw:10,.0f} /s  {_stats(theirs)}")
        print(f"  speed ratio {r_ours / r_bw:,.0f}x")
        if label.startswith("difference"):
            _, ours01, _ = workbench(st, args.iterations, 0.1)
            with tempfile.TemporaryDirectory() as tmp:
                every, _ = brightway(st, m, args.brightway_iterations, Path(tmp), every=0.1)
            print("  at sigma 0.1 for every datum (workbench) and for every exchange (Brightway):")
            print(f"  workbench  {_stats(ours01)}  (inputs sampled, balances move the CO2 with them)")
            print(f"  Brightway  {_stats(every)}  (every exchange independently: the balances no longer close)")


if __name__ == "__main__":
    main()
