"""Peak memory and throughput of `genfocal_nb.infer.run_inference` vs the length of the period, stub and real network.

One synthetic LENS2 store of 40 years (1 member) and hand-made climatologies are written once
(`infer.mock_inference_world`, year by year); then each case runs in a fresh subprocess. Reported per case:
  - `peak_rss_mb`: peak RSS of the process (`VmHWM`), `baseline_mb`: the peak after imports and opening the inputs;
  - `days_per_s`: debiased days per second (network cases: after a one-block warm-up that compiles, `warmup_s`);
    `blocks`: regions written.
Cases:
  - `stub`: debias function `v = x0`, 10 and 40 years: the pipeline alone (reads, normalization, windows, blending,
    region writes, markers). If memory is bounded, the peak is the same for 10 and 40 years.
  - `network` (full mode): the demo-shaped U-Net (`model.demo_model_config()`, weights as initialized: the cost of a
    network evaluation does not depend on the weights) through the real sampler, 48x25 grid:
    10 and 40 years with Euler-1 in the Gaussian frame (memory with the network in the loop), and days/s of the
    default solver (`sample.default_sample_config()`: Heun-8, Gaussian frame, 16 NFE) and of the reference's RK4-100
    (400 NFE) on a short period, side by side.
  - `reference` (full mode): the reference-shaped network (`model.reference_model_config()`, 35 M parameters) on the
    240x121 grid, one 8-day window: compile time, seconds per network evaluation (NFE), and the days/s that follow
    for the default solver and RK4-100 (derived: 8 days / (NFE x measured s per NFE)).
    With GENFOCAL_BENCH_REFERENCE=1 one whole default-solver window (16 NFE) is also timed end to end.
    python benchmarks/bench_infer.py            # full: demo grid 48x25, network and reference cases
    python benchmarks/run.py --quick infer      # quick: tiny grid 16x9, stub only
"""
import json, os, subprocess, sys, tempfile, time
from pathlib import Path

CHILD = r'''
import json, sys, time
from pathlib import Path
def hwm():
    for line in open('/proc/self/status'):
        if line.startswith('VmHWM'): return int(line.split()[1]) / 1024
a = json.loads(sys.argv[1])
from genfocal_nb.infer import run_inference, open_inputs, debias_fn_from_velocity
import jax  # imported by run_inference anyway (device count); count it in the baseline
world = a['world']
open_inputs(**world, members=a['members'], date_range=a['period'])
debias = lambda x0, cond: x0
if a['solver']:
    from flax import nnx
    from genfocal_nb.model import build_model, demo_model_config
    from genfocal_nb.sample import default_sample_config
    from genfocal_nb.train import velocity_of
    velocity = velocity_of(build_model(demo_model_config(), rngs=nnx.Rngs(0)))
    scfg = default_sample_config(); scfg.solver, scfg.num_steps, scfg.frame = a['solver']
    debias = debias_fn_from_velocity(velocity, scfg)
    import pandas as pd  # compile outside the timed run: one block of the same shape into a scratch store
    d0 = pd.Timestamp(a['period'][0])
    tw = time.time(); run_inference(debias, **world, members=a['members'], out_path=a['out'] + '.warmup', progress=False,
                                    date_range=(str(d0.date()), str((d0 + pd.Timedelta(days=31)).date())), batch_windows=a['batch_windows'])
    compile_s = time.time() - tw
base = hwm()
t0 = time.time()
out = run_inference(debias, **world, members=a['members'], date_range=a['period'], out_path=a['out'],
                    batch_windows=a['batch_windows'], progress=False)
dt = time.time() - t0
import xarray as xr
ntime = xr.open_zarr(out).sizes['time']
print(json.dumps(dict(peak_rss_mb=round(hwm(), 1), baseline_mb=round(base, 1), seconds=round(dt, 1), days=ntime,
                      days_per_s=round(ntime / dt, 2), **({'warmup_s': round(compile_s, 1)} if a['solver'] else {}))))
'''


def run_case(world: dict, period, out: Path, batch_windows: int = 4, solver=None) -> dict:
    "Run one inference in a fresh process (stub, or the demo-shaped network with `solver=(name, steps, frame)`)."
    from genfocal_nb.contract import MEMBERS
    arg = json.dumps(dict(world=world, members=[MEMBERS[0]], period=list(period), out=str(out), batch_windows=batch_windows,
                          solver=solver))
    p = subprocess.run([sys.executable, '-c', CHILD, arg], capture_output=True, text=True)
    if p.returncode: raise RuntimeError(p.stderr[-2000:])
    res = json.loads(p.stdout.strip().splitlines()[-1])
    res['blocks'] = -(-res['days'] // (8 * batch_windows))
    return res


def run(quick: bool) -> dict:
    from genfocal_nb.contract import MEMBERS
    from genfocal_nb.infer import mock_inference_world
    grid = (16, 9) if quick else (48, 25)
    with tempfile.TemporaryDirectory() as d:
        t0 = time.time()
        world = mock_inference_world(Path(d) / 'world', [MEMBERS[0]], '1961-01-01', '2000-12-31', grid=grid)
        res = dict(grid=f"{grid[0]}x{grid[1]}", members=1, batch_windows=4, world_seconds=round(time.time() - t0, 1))
        for years in (10, 40):
            res[f"{years}y"] = run_case(world, ('1961', str(1960 + years)), Path(d) / f'out{years}.zarr')
        res['peak_ratio_40y_over_10y'] = round(res['40y']['peak_rss_mb'] / res['10y']['peak_rss_mb'], 3)
        if not quick: res['network'] = network_cases(world, Path(d))
    if not quick: res['reference'] = reference_case(full_window=os.environ.get('GENFOCAL_BENCH_REFERENCE') == '1')
    return res


def network_cases(world: dict, d: Path) -> dict:
    "The demo-shaped network in the loop: memory over 10 vs 40 years (Euler-1), days/s of Heun-8 vs RK4-100."
    from genfocal_nb.sample import default_sample_config, nfe
    s = default_sample_config()
    out = dict(model='demo_model_config (48x25)', memory_solver='euler-1, gaussian frame')
    for years in (10, 40):
        out[f"{years}y"] = run_case(world, ('1961', str(1960 + years)), d / f'net{years}.zarr', solver=('euler', 1, 'gaussian'))
    out['peak_ratio_40y_over_10y'] = round(out['40y']['peak_rss_mb'] / out['10y']['peak_rss_mb'], 3)
    for name, solver, period in ((f"default {s.solver}-{s.num_steps} {s.frame}", (s.solver, s.num_steps, s.frame), ('1961-01-01', '1961-05-08')),
                                 ('rk4-100 plain (reference)', ('rk4', 100, 'plain'), ('1961-01-01', '1961-02-01'))):
        r = run_case(world, period, d / f"speed_{solver[0]}.zarr", solver=solver)
        out[name] = dict(nfe_per_window=nfe(solver[0], solver[1]), days=r['days'], seconds=r['seconds'], days_per_s=r['days_per_s'])
    a, b = (out[k]['days_per_s'] for k in list(out)[-2:])
    out['default_over_rk4_100_days_per_s'] = round(a / b, 1)
    return out


def reference_case(full_window: bool = False) -> dict:
    "The reference-shaped network on 240x121: compile time, s per network evaluation (1 window), derived days/s."
    import jax, jax.numpy as jnp, numpy as np
    from flax import nnx
    from genfocal_nb.model import build_model, reference_model_config, count_params
    from genfocal_nb.sample import default_sample_config, integrate_with_config, nfe
    from genfocal_nb.train import velocity_of
    sys.path.insert(0, str(Path(__file__).parent)); from bench_train import _flops
    model = build_model(reference_model_config(), rngs=nnx.Rngs(0))
    velocity = velocity_of(model)
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.standard_normal((1, 8, 240, 121, 10)), jnp.float32)
    c = jnp.asarray(rng.standard_normal((1, 8, 240, 121, 20)), jnp.float32)
    f = jax.jit(velocity)
    t0 = time.perf_counter(); compiled = f.lower(x, 0.5, c).compile(); t_compile = time.perf_counter() - t0
    flops = _flops(compiled)
    jax.block_until_ready(compiled(x, 0.5, c))  # warm-up
    t0 = time.perf_counter(); runs = 2
    for _ in range(runs): y = compiled(x, 0.5, c)
    jax.block_until_ready(y); s_nfe = (time.perf_counter() - t0) / runs
    s = default_sample_config()
    out = dict(grid='240x121', params=count_params(model), window_days=8, batch_windows=1, compile_s=round(t_compile, 1),
               tflop_per_nfe=round(flops / 1e12, 3), s_per_nfe=round(s_nfe, 2),
               achieved_gflop_per_s=round(flops / s_nfe / 1e9, 1))
    for name, n in ((f"default {s.solver}-{s.num_steps} {s.frame}", nfe(s.solver, s.num_steps)), ('rk4-100 plain (reference)', 400)):
        out[name] = dict(nfe_per_window=n, derived_s_per_window=round(n * s_nfe, 1), derived_days_per_s=round(8 / (n * s_nfe), 5))
    if full_window:
        g = jax.jit(lambda x0, cond: integrate_with_config(lambda x, t: velocity(x, t, cond), x0, s)[0])
        t0 = time.perf_counter(); g = g.lower(x, c).compile(); tc = time.perf_counter() - t0
        t0 = time.perf_counter(); jax.block_until_ready(g(x, c)); dt = time.perf_counter() - t0
        out[f"default {s.solver}-{s.num_steps} {s.frame}"].update(measured_compile_s=round(tc, 1), measured_s_per_window=round(dt, 1),
                                                             measured_days_per_s=round(8 / dt, 5))
    return out


if __name__ == '__main__':
    print(json.dumps(run('--quick' in sys.argv), indent=1))
