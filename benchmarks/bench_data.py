"""Loader throughput (8-day windows/s) for 0, 1 and 2 grain workers, lazy and `data.in_memory`, and peak memory;
the demo model's training consumption rate; xarray vs tensorstore reads.

Worlds: `demo` (48×25, 3 members, `data.cached_world_config('demo')`, ≈ 80 s and 1.7 GB on first use) and a
one-member, two-year full-grid world (240×121; the `full-grid` preset shortened with `write_world` overrides; workers
0 and 2 only). Quick mode uses the tiny world (16×9) instead of the demo one. Each case runs in a fresh subprocess
that reports its windows/s after a warm-up (opening the stores, starting workers, loading the climatologies or, in
memory, the whole split), its own peak RSS (`VmHWM`) and the RSS of its worker processes at the end. The training
consumption rate is the demo model's jitted train step (`bench_train.step_cost`, batch 8) on the demo grid;
`loader_over_training` = loader windows/s ÷ training windows/s. The read micro-benchmark times random 8-day
single-variable LENS2 reads through lazy xarray (what the lazy loader does) and through tensorstore (with and without
its decompressed-chunk cache).
    python benchmarks/bench_data.py            # full
    python benchmarks/run.py --quick data      # quick
"""
import json, os, subprocess, sys, time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _rss import peak_rss_mb  # noqa: E402

import numpy as np




def world_config(preset: str, quick: bool):
    "The data config of a benchmark world (climatologies written once next to it)."
    from genfocal_nb import synthetic, climatology, data
    from genfocal_nb.contract import MEMBERS
    if preset in ('tiny', 'demo'): return data.cached_world_config(preset)
    y0, y1 = years = (1995, 1996)
    over = dict(lens2_years=years, era5_years=years, clim_years=years, members=MEMBERS[:1])
    world = synthetic.cached_world('full-grid', **over)
    clim = world.with_name(world.name + '_clim')
    c = data.world_data_config(world, clim, preset)
    c.members_train = c.members_eval = tuple(over['members'])
    c.climatology_years = c.era5_climatology_years = (y0, y1)
    c.date_range_train, c.date_range_eval = (str(y0), str(y1)), (str(y1), str(y1))
    if not (clim / 'complete').exists():
        climatology.write_climatologies(c, progress=False); (clim / 'complete').touch()
    return c


def case(preset: str, quick: bool, workers: int, batches: int, coupling: str, in_memory: bool = False) -> dict:
    "Windows/s of one loader setting (runs inside a fresh subprocess)."
    import psutil
    from genfocal_nb.data import make_train_loader
    c = world_config(preset, quick)
    c.worker_count, c.coupling, c.batch_size, c.in_memory = workers, coupling, 8, in_memory
    ld = make_train_loader(c, 0)
    it = iter(ld)
    t0 = time.perf_counter()
    for _ in range(2 + 2 * workers): next(it)  # warm-up: open, start workers, load climatologies (or the whole split)
    warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(batches): next(it)
    sec = time.perf_counter() - t0
    kids = sum(p.memory_info().rss for p in psutil.Process().children(recursive=True)) / 2 ** 20
    return dict(windows_per_s=round(batches * c.batch_size / sec, 1), warmup_s=round(warm, 1),
                peak_rss_mb=round(peak_rss_mb(), 1), workers_rss_mb=round(kids, 1),
                resident_mb_per_process=round(ld._data_source.resident_nbytes / 2 ** 20, 1))


def train_rate(grid, steps: int) -> dict:
    "Windows/s the demo model's jitted train step consumes (batch 8 windows of 8 days on `grid`), via bench_train."
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_train import _components, step_cost
    comps, cfgs, flow_cfg, name = _components()
    return dict(model=name, **step_cost(comps, cfgs['demo'], flow_cfg, tuple(grid), 8, 8, steps))


def read_case(preset: str, quick: bool, n: int) -> dict:
    "Random 8-day reads of one LENS2 variable: lazy xarray vs tensorstore (no cache / 512 MB chunk cache)."
    import xarray as xr
    c = world_config(preset, quick)
    ds = xr.open_zarr(c.lens2_path, chunks=None)
    nm, nt = ds.sizes['member'], ds.sizes['time']
    rng = np.random.default_rng(0)
    picks = [(int(rng.integers(nm)), int(rng.integers(nt - 8))) for _ in range(n)]
    out = {}
    t0 = time.perf_counter()
    for m, s in picks: ds['TREFHT'].isel(member=m, time=slice(s, s + 8)).values
    out['xarray_reads_per_s'] = round(n / (time.perf_counter() - t0), 1)
    try: import tensorstore as ts
    except ImportError: return out
    for name, cache in (('tensorstore', 0), ('tensorstore_cached', 512 * 2 ** 20)):
        spec = {'driver': 'zarr', 'kvstore': {'driver': 'file', 'path': str(Path(c.lens2_path) / 'TREFHT')}}
        if cache: spec['context'] = {'cache_pool': {'total_bytes_limit': cache}}
        try: arr = ts.open(spec, read=True).result()
        except ValueError as e:  # e.g. the synthetic stores' lossy quantization filters: tensorstore has no zarr filters
            out[f'{name}_reads_per_s'] = f"unsupported: {str(e).split('[tensorstore_spec')[0][-120:]}"
            continue
        dims = ds['TREFHT'].dims  # stored order
        t0 = time.perf_counter()
        for m, s in picks:
            idx = tuple({'member': m, 'time': slice(s, s + 8)}.get(d, slice(None)) for d in dims)
            arr[idx].read().result()
        out[f'{name}_reads_per_s'] = round(n / (time.perf_counter() - t0), 1)
    return out


def _sub(fn: str, *args) -> dict:
    "Run `fn(*args)` of this file in a fresh interpreter; return its JSON result."
    code = f"import json, sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import bench_data as b; " \
           f"print('RESULT' + json.dumps(b.{fn}(*{args!r})))"
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    line = next((l for l in r.stdout.splitlines() if l.startswith('RESULT')), None)
    if line is None: return dict(error=(r.stderr or r.stdout)[-800:])
    return json.loads(line[6:])


def run(quick: bool = False) -> dict:
    "Windows/s for 0, 1, 2 workers, lazy and in memory, on two worlds; OT coupling; training rate; read micro-benchmark."
    presets = ('tiny', 'full-grid') if quick else ('demo', 'full-grid')
    out = dict(batch_size=8, window_days=8, cores=os.cpu_count(), worlds={})
    out['training'] = train = _sub('train_rate', (48, 25), 2 if quick else 10)
    for p in presets:
        world_config(p, quick)  # build the world + climatologies once, outside the timed subprocesses
        big = p == 'full-grid'
        workers, lazy_batches = ((0, 2), 3 if quick else 5) if big else ((0, 1, 2), 4 if quick else 20)
        res = {f'lazy_workers_{w}': _sub('case', p, quick, w, lazy_batches, 'date') for w in workers}
        res.update({f'in_memory_workers_{w}': _sub('case', p, quick, w, 20 if big else 200, 'date', True) for w in workers})
        res['ot_in_memory_workers_0'] = _sub('case', p, quick, 0, 20 if big else 100, 'ot', True)
        res['reads'] = _sub('read_case', p, quick, 50 if quick or big else 200)
        if p == 'demo' and 'windows_per_s' in train:  # the demo model trains on the demo grid
            res['loader_over_training'] = {k: round(v['windows_per_s'] / train['windows_per_s'], 1)
                                           for k, v in res.items() if isinstance(v, dict) and 'windows_per_s' in v and k != 'reads'}
        out['worlds'][p] = res
    return out


if __name__ == '__main__':
    print(json.dumps(run('--quick' in sys.argv), indent=1))
