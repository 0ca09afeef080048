"""Training throughput of `genfocal_nb.train`: samples/s, achieved FLOP/s and the share of step time spent on data.

Per model config the jitted, sharded train step (`make_train_step`: forward + backward + Adam + EMA, global batch of
`batch` 8-day windows) is lowered and compiled once; XLA's cost analysis of the compiled step gives FLOPs per step.
  - demo model config (48x25 grid): `steps` timed steps -> s/step, windows/s, achieved GFLOP/s;
  - the same demo step with the CPU cores exposed as JAX devices, one thread each (`demo.cpu_device_flags`, what
    `make demo` does), in a subprocess: the side-by-side ratio of the two;
  - reference model config (240x121, 1 window per step; the reference uses 4 per host): in full mode (`make bench`)
    compile time, cost analysis and one timed step (compiling took 7-11 minutes on the 2-core CPU, a step over
    2 minutes); skipped in quick mode unless GENFOCAL_BENCH_REFERENCE=1 (GENFOCAL_BENCH_REFERENCE=0 skips it in full);
  - the same, with and without `demo.MALLOC_ENV` (glibc keeps XLA's per-step scratch buffer), side by side:
    s/step, minor page faults, peak RSS;
  - data wait: `train()` for a few steps on an embedded world with the real loader (tiny 16x9 world in quick mode,
    demo 48x25 in full mode); `data_wait_share` = time in `next(loader)` + host-to-device transfer / wall time.
Falls back to the notebook's stand-ins (and says so in the results) if genfocal_nb.model/data do not import.
    python benchmarks/bench_train.py [--quick]
    python benchmarks/run.py --quick train
"""
import json, os, sys, tempfile, time
from pathlib import Path


def _flops(compiled) -> float:
    "FLOPs of a compiled XLA program from its cost analysis (dict or list of dicts depending on the JAX version)."
    cost = compiled.cost_analysis()
    if isinstance(cost, (list, tuple)): cost = cost[0]
    return float(cost.get('flops', float('nan')))


def _components():
    "The real model/loss/loader if they import, else the stand-ins; (components, model configs, name)."
    from genfocal_nb import train as T
    try:
        from genfocal_nb import model as M
        cfgs = dict(demo=M.demo_model_config(), reference=M.reference_model_config())
        return T.default_components(), cfgs, M.default_flow_config(), 'genfocal_nb.model'
    except ImportError as e:
        from ml_collections import ConfigDict
        cfgs = dict(demo=ConfigDict(dict(features=64, dropout=0.0)), reference=ConfigDict(dict(features=128, dropout=0.0)))
        return T.TOY, cfgs, ConfigDict(dict(t_min=1e-4, t_max=1 - 1e-4)), f'stand-in ({e})'


def step_cost(comps, model_cfg, flow_cfg, grid, window: int, batch: int, steps: int) -> dict:
    "Compile the train step for `batch` windows of `window` days on `grid`; cost analysis and `steps` timed steps."
    import jax, numpy as np
    from flax import nnx
    from genfocal_nb import train as T
    model = comps.build_model(model_cfg, rngs=nnx.Rngs(0))
    tx = T.make_optimizer(T.default_optim_config())
    graphdef, rng_state, state = T.init_train_state(model, tx)
    mesh = T.make_mesh(); state = T.replicate(state, mesh)
    from jax.sharding import NamedSharding, PartitionSpec as P
    repl, data = NamedSharding(mesh, P()), NamedSharding(mesh, P("data"))
    lat = np.linspace(-90, 90, grid[1]).astype(np.float32)
    fn = jax.jit(T.make_train_step(graphdef, rng_state, tx, comps.flow_loss, flow_cfg, ema_decay=0.999, lat=lat),
                 in_shardings=(repl, data, repl), out_shardings=(repl, repl), donate_argnums=0)
    rng = np.random.default_rng(0)
    b = T.shard_batch({k: rng.standard_normal((batch, window, *grid, 10), np.float32) for k in T.BATCH_KEYS}, mesh)
    key = T.replicate(jax.random.key(0), mesh)
    t0 = time.perf_counter(); compiled = fn.lower(state, b, key).compile(); t_compile = time.perf_counter() - t0
    flops = _flops(compiled)
    n = sum(int(np.prod(x.shape)) for x in jax.tree.leaves(state.params))
    out = dict(grid=f"{grid[0]}x{grid[1]}", window_days=window, batch_windows=batch, params=n,
               compile_s=round(t_compile, 1), gflop_per_step=round(flops / 1e9, 2),
               gflop_per_window_fwd_bwd=round(flops / 1e9 / batch, 2))
    if steps:
        state, m = compiled(state, b, key); jax.block_until_ready(m)  # warm-up
        t0 = time.perf_counter()
        for _ in range(steps): state, m = compiled(state, b, key)
        jax.block_until_ready(m); dt = (time.perf_counter() - t0) / steps
        out.update(s_per_step=round(dt, 3), windows_per_s=round(batch / dt, 2), achieved_gflop_per_s=round(flops / dt / 1e9, 1))
    return out


CHILD = """
import json, resource, sys
sys.path.insert(0, sys.argv[1])
import jax, bench_train as B
comps, cfgs, flow, _ = B._components()
out = B.step_cost(comps, cfgs['demo'], flow, (48, 25), 8, int(sys.argv[3]), int(sys.argv[2]))
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps(dict(out, devices=jax.device_count(), minor_page_faults=ru.ru_minflt, peak_rss_mb=ru.ru_maxrss // 1024)))
"""

def cores_as_devices(steps: int, malloc: bool = False, batch: int = 8) -> dict:
    "The demo train step (`batch` windows) in a subprocess with the XLA flags `make demo` gives its kernels (cores as devices), and its `MALLOC_ENV` if `malloc`."
    import subprocess
    from genfocal_nb.demo import cpu_device_flags, MALLOC_ENV
    flags = cpu_device_flags(batch)  # as make demo derives them from the train batch size
    if not flags: return dict(skipped='one CPU core: nothing to split')
    env = {k: v for k, v in os.environ.items() if k not in MALLOC_ENV}
    env.update(XLA_FLAGS=flags, JAX_PLATFORMS='cpu', **(MALLOC_ENV if malloc else {}))
    p = subprocess.run([sys.executable, '-c', CHILD, str(Path(__file__).parent), str(steps), str(batch)], capture_output=True,
                       text=True, env=env)
    if p.returncode: return dict(error=p.stderr[-1500:])
    return dict(json.loads(p.stdout.strip().splitlines()[-1]), xla_flags=flags)


def steps_of_4_vs_8(steps: int) -> dict:
    "The demo's training budget two ways, side by side as `make demo` runs it: 300 steps of 8 windows vs 600 of 4."
    b8, b4 = (cores_as_devices(steps, malloc=True, batch=b) for b in (8, 4))
    if 's_per_step' not in b8 or 's_per_step' not in b4: return dict(batch_8=b8, batch_4=b4)
    return dict(batch_8=b8, batch_4=b4, run_300x8_s=round(300 * b8['s_per_step'], 1),
                run_600x4_s=round(600 * b4['s_per_step'], 1), ratio=round(600 * b4['s_per_step'] / (300 * b8['s_per_step']), 2))


def data_wait(quick: bool, steps: int) -> dict:
    "A short real `train()` on an embedded world: throughput and the share of wall time waiting on data."
    try:
        from genfocal_nb.synthetic import synth_main
        from genfocal_nb.climatology import climatology_main
        from genfocal_nb.config import load_config
        from genfocal_nb.train import train
    except ImportError as e:
        return dict(skipped=f"needs genfocal_nb.synthetic/data/config: {e}")
    preset = 'tiny' if quick else 'demo'
    spec = Path(__file__).resolve().parents[1] / 'configs' / 'config_train_demo.py'
    with tempfile.TemporaryDirectory() as d:
        world = Path(d) / 'world'
        t0 = time.time(); synth_main(str(world), preset, 0)
        overrides = [f'optim.num_train_steps={steps}', f'train.log_every={steps}', f'train.eval_every={10 * steps}',
                     f'train.save_every={10 * steps}', 'train.num_eval_batches=1']
        cfg = load_config(f"{spec}:{world},{preset}", overrides)
        climatology_main(cfg); t_world = time.time() - t0
        s = train(cfg, Path(d) / 'train', progress=False)
    return dict(world=preset, world_s=round(t_world, 1), grid=f"{cfg.data.grid[0]}x{cfg.data.grid[1]}",
                batch_windows=cfg.data.batch_size, worker_count=cfg.data.worker_count, steps=steps,
                steps_per_s=round(s['steps_per_sec'], 3), windows_per_s=round(s['samples_per_sec'], 2),
                data_wait_share=round(s['data_wait_share'], 3), compile_s=round(s['compile_seconds'], 1))


def run(quick: bool) -> dict:
    import jax
    comps, cfgs, flow_cfg, source = _components()
    res = dict(model=source, devices=jax.device_count(), platform=jax.devices()[0].platform)
    res['demo'] = step_cost(comps, cfgs['demo'], flow_cfg, (48, 25), 8, 8, 2 if quick else 5)
    res['demo_cores_as_devices'] = cores_as_devices(2 if quick else 5)
    if 's_per_step' in res['demo'] and 's_per_step' in res['demo_cores_as_devices']:
        res['cores_as_devices_speedup'] = round(res['demo']['s_per_step'] / res['demo_cores_as_devices']['s_per_step'], 2)
    res['demo_cores_as_devices_malloc_env'] = cores_as_devices(10 if quick else 20, malloc=True)  # side by side:
    res['demo_cores_as_devices_default_malloc'] = cores_as_devices(10 if quick else 20)           # what make demo sets
    a, b = res['demo_cores_as_devices_default_malloc'], res['demo_cores_as_devices_malloc_env']
    if 's_per_step' in a and 's_per_step' in b: res['malloc_env_speedup'] = round(a['s_per_step'] / b['s_per_step'], 2)
    res['demo_steps_of_4_vs_8'] = steps_of_4_vs_8(10 if quick else 40)
    if os.environ.get('GENFOCAL_BENCH_REFERENCE', '0' if quick else '1') == '1':
        res['reference'] = step_cost(comps, cfgs['reference'], flow_cfg, (240, 121), 8, 1, 0 if quick else 1)
    else:
        res['reference'] = ('skipped: GENFOCAL_BENCH_REFERENCE=1 runs it (compiling the reference-shaped train step '
                            'takes 7-11 minutes on a 2-core CPU and one step over 2 minutes more; it is a GPU model)')
    res['data'] = data_wait(quick, 6 if quick else 20)
    return res


if __name__ == '__main__':
    print(json.dumps(run('--quick' in sys.argv), indent=1))
