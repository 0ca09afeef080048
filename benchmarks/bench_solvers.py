"""Quality versus cost of the ODE solvers on the demo model, and debiased days/s with the real network.

For a trained model (default: `demo_run/train`, written by `make demo`; in quick mode or when it is missing, a tiny
model trained for a few steps on the tiny world by `genfocal_nb.demo.prepare_tiny`), two 8-day windows of the
validation period of member 0 are debiased with each solver setting and compared with RK4-100 (the reference's
solver, 396 NFE there; 400 here because we integrate the whole [0, 1]):
  rel_diff = ||y - y_ref|| / ||y_ref - x0||  (the error relative to the size of the correction itself)
and each setting's NFE and wall time give debiased days/s (jitted, after compilation).
The cheapest setting within 1 % is named in the results.
    python benchmarks/bench_solvers.py [--quick] [--model-dir DIR --config FILE:ARG]
"""
import json, sys, time
from pathlib import Path

PLAIN = [('euler', 1), ('euler', 2), ('euler', 8), ('heun', 1), ('heun', 4), ('heun', 8), ('rk4', 2), ('rk4', 4),
         ('rk4', 10), ('dopri5', 1e-2), ('dopri5', 1e-3)]
GAUSSIAN = [('euler', 1), ('euler', 2), ('euler', 4), ('euler', 8), ('euler', 16), ('heun', 1), ('heun', 2), ('heun', 4), ('heun', 8), ('rk4', 1),
            ('rk4', 2), ('rk4', 4), ('dopri5', 1e-2), ('dopri5', 1e-3)]
# plain frame (x) and Gaussian frame (y = x / sigma(t), sample.frame='gaussian'), see nbs/06_sample.ipynb
SETTINGS = [dict(solver=a, p=b, frame=f) for f, group in (('gaussian', GAUSSIAN), ('plain', PLAIN)) for a, b in group]
REPO = Path(__file__).resolve().parent.parent


def _model_and_config(quick: bool):
    "(model_dir, data config) of the demo run if present (full mode), else of the tiny run."
    from genfocal_nb.config import load_config
    from genfocal_nb.demo import prepare_tiny, demo_config_spec
    from genfocal_nb.train import SUMMARY_FILE
    run = REPO / 'demo_run'
    if not quick and (run / 'train' / SUMMARY_FILE).exists():
        return run / 'train', load_config(demo_config_spec('validate', run / 'world', 'demo')), 'demo'
    spec, workdir = prepare_tiny('validate')
    return Path(workdir) / 'train', load_config(spec), 'tiny'


def _windows(cfg, n: int = 2):
    "x0, cond of `n` consecutive 8-day windows of member 0 at the start of the validation period."
    import numpy as np
    from genfocal_nb.infer import open_inputs, read_days, normalize_inputs
    d = cfg.data
    inp = open_inputs(lens2_path=d.lens2_path, lens2_clim_path=d.lens2_clim_path, lens2_clim_mean_path=d.lens2_clim_mean_path,
                      lens2_clim_std_path=d.lens2_clim_std_path, era5_clim_path=d.era5_clim_path,
                      members=[d.members_eval[0]], date_range=cfg.validate.date_range)
    r = read_days(inp, d.members_eval[0], 0, 8 * n)
    x0, cond = normalize_inputs(r['L'], r['mu'], r['sd'], inp.stats)
    return x0.reshape(n, 8, *x0.shape[1:]), cond.reshape(n, 8, *cond.shape[1:])


def run(quick: bool) -> dict:
    import jax, jax.numpy as jnp, numpy as np
    from genfocal_nb.train import restore_velocity
    from genfocal_nb.sample import integrate, _setting_kwargs, _setting_label
    model_dir, cfg, which = _model_and_config(quick)
    velocity, info = restore_velocity(model_dir)
    x0, cond = (jnp.asarray(a) for a in _windows(cfg))
    v = jax.jit(lambda x, t: velocity(x, t, cond))
    def solve(kw):
        f = jax.jit(lambda x: integrate(v, x, **kw))
        y, n = f(x0); jax.block_until_ready(y)          # compile
        t0 = time.perf_counter(); y, n = f(x0); jax.block_until_ready(y)
        return np.asarray(y), int(n), time.perf_counter() - t0
    ref = dict(solver='rk4', num_steps=100)
    y_ref, n_ref, t_ref = solve(ref)
    moved = float(np.linalg.norm(y_ref - np.asarray(x0)))
    days = x0.shape[0] * x0.shape[1]
    rows = [dict(setting='rk4-100', nfe=n_ref, rel_diff=0.0, days_per_s=round(days / t_ref, 2))]
    for s in SETTINGS[:6] if quick else SETTINGS:
        kw = {**_setting_kwargs((s['solver'], s['p'])), 'frame': s['frame']}
        y, n, dt = solve(kw)
        rows.append(dict(setting=_setting_label(kw), nfe=n, rel_diff=float(np.linalg.norm(y - y_ref)) / moved,
                         days_per_s=round(days / dt, 2)))
    ok = [r for r in rows[1:] if r['rel_diff'] <= 0.01]
    best = min(ok, key=lambda r: r['nfe']) if ok else None
    return dict(model=which, model_dir=str(model_dir), step=info['step'], num_params=info['num_params'],
                windows=int(x0.shape[0]), correction_norm=moved, table=rows,
                cheapest_within_1pct=best['setting'] if best else None,
                cheapest_nfe=best['nfe'] if best else None, reference_nfe=396,
                speedup_vs_rk4_100=round(best['days_per_s'] / rows[0]['days_per_s'], 1) if best else None)


if __name__ == '__main__':
    print(json.dumps(run('--quick' in sys.argv), indent=1))
