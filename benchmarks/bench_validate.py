"""Seconds per candidate of the validation metrics: ERA5 summarized once and reused, vs rebuilt for every candidate.

Synthetic stores shaped like the demo world's validation decade (`metrics.mock_debiased`: ERA5-like reference with one
member, a raw candidate and two others with 3 members, 10 noleap years, 48x25, the ten channels; chunks of one
member-year, read lazily as `genfocal-nb validate` reads its stores) are written once to a temp dir. Each mode then
runs in a fresh subprocess:
  - `per_candidate`: `metrics.compute_metrics(cand, ref, raw=raw)` for each candidate, so every call reads ref and raw
    again and rebuilds the reference side (the shape of the old validation loop, on today's metric code);
  - `shared`: `reference_stats(ref)` once, raw read once, then `summarize(cand, stats, raw=raw)` per candidate
    (what `validate` does, per group of variables).
Reported per mode: seconds per candidate (reading included), the one-off reference seconds, total seconds and peak
RSS (`VmHWM`); `max_rel_diff` compares the metrics of the two modes (0: the same numbers).
    python benchmarks/bench_validate.py            # full: 48x25, 3 members x 10 years
    python benchmarks/run.py --quick validate      # quick: 24x13, 2 members x 3 years
"""
import json, pickle, subprocess, sys, tempfile, warnings
from pathlib import Path

import numpy as np

CHILD = r'''
import json, pickle, sys, time
a = json.loads(sys.argv[1])
import xarray as xr
from genfocal_nb import metrics as M
def hwm():
    for line in open('/proc/self/status'):
        if line.startswith('VmHWM'): return int(line.split()[1]) / 1024
ref, raw = xr.open_zarr(a['ref']), xr.open_zarr(a['raw'])
cands = {n: xr.open_zarr(p) for n, p in a['cands'].items()}
lat, base, out, secs, ref_s = ref.latitude.values, hwm(), {}, {}, 0.0
if a['mode'] == 'shared':
    t0 = time.perf_counter(); stats = M.reference_stats(ref, lat=lat); ref_s = time.perf_counter() - t0
    xf = None
    for n, ds in cands.items():
        t0 = time.perf_counter()
        f = M.load_fields(ds, n)
        xf = f if n == 'raw' else xf if xf is not None else M.load_fields(raw, 'raw')
        out[n] = M.summarize(f, stats, raw=xf)[0]; secs[n] = time.perf_counter() - t0
else:
    for n, ds in cands.items():
        t0 = time.perf_counter(); out[n] = M.compute_metrics(ds, ref, raw=raw, lat=lat); secs[n] = time.perf_counter() - t0
pickle.dump(out, open(a['out'], 'wb'))
print(json.dumps(dict(reference_s=round(ref_s, 2), per_candidate_s={n: round(s, 2) for n, s in secs.items()},
                      mean_per_candidate_s=round(sum(secs.values()) / len(secs), 2),
                      total_s=round(ref_s + sum(secs.values()), 2), peak_rss_mb=round(hwm(), 1), baseline_mb=round(base, 1))))
'''


def make_stores(d: Path, grid, members: int, years: int) -> dict:
    "Write the reference, raw and two candidates (chunks of one member-year); returns their paths."
    from genfocal_nb.contract import MEMBERS
    from genfocal_nb.metrics import mock_debiased
    end = f'{1999 + years}-12-31'
    paths = dict(ref=d / 'ref.zarr', raw=d / 'raw.zarr', gaussian_like=d / 'gaussian_like.zarr', shifted=d / 'shifted.zarr')
    ref = mock_debiased(members=('era5',), start='2000-01-01', end=end, grid=grid, seed=1).squeeze('member', drop=True)
    ref.chunk(time=365).to_zarr(paths['ref'], mode='w')
    raw = mock_debiased(members=MEMBERS[:members], start='2000-01-01', end=end, grid=grid, seed=2)
    raw.chunk(member=1, time=365).to_zarr(paths['raw'], mode='w')
    for name, f in (('gaussian_like', lambda a: a.mean() + (a - a.mean()) * 0.9), ('shifted', lambda a: a * 1.01)):
        raw.map(lambda a: f(a).astype('float32'), keep_attrs=True).chunk(member=1, time=365).to_zarr(paths[name], mode='w')
    return {k: str(v) for k, v in paths.items()}


def run_mode(paths: dict, mode: str, out: Path) -> dict:
    "One mode in a fresh process: its timings and peak memory."
    cands = {n: paths[n] for n in ('raw', 'gaussian_like', 'shifted')}
    arg = json.dumps(dict(ref=paths['ref'], raw=paths['raw'], cands=cands, mode=mode, out=str(out)))
    p = subprocess.run([sys.executable, '-c', CHILD, arg], capture_output=True, text=True)
    if p.returncode: raise RuntimeError(p.stderr[-2000:])
    return json.loads(p.stdout.strip().splitlines()[-1])


def max_rel_diff(a: dict, b: dict) -> float:
    "Largest relative difference between two `{candidate: {metric: {var: value}}}` results (NaN where both are NaN)."
    worst = 0.0
    for n in a:
        for metric, per_var in a[n].items():
            for v, x in per_var.items():
                y = b[n][metric][v]
                if x != y and not (np.isnan(x) and np.isnan(y)): worst = max(worst, abs(x - y) / max(abs(x), 1e-300))
    return worst


def run(quick: bool) -> dict:
    grid, members, years = ((24, 13), 2, 3) if quick else ((48, 25), 3, 10)
    res = dict(grid=f"{grid[0]}x{grid[1]}", members=members, years=years, candidates=3, variables=10)
    with tempfile.TemporaryDirectory() as d:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')                              # zarr v3 notes on string member labels
            paths = make_stores(Path(d), grid, members, years)
        for mode in ('per_candidate', 'shared'):
            res[mode] = run_mode(paths, mode, Path(d) / f'{mode}.pkl')
            print(f"[validate] {mode}: {res[mode]}", file=sys.stderr, flush=True)
        out = {m: pickle.load(open(Path(d) / f'{m}.pkl', 'rb')) for m in ('per_candidate', 'shared')}
    res['max_rel_diff'] = max_rel_diff(out['per_candidate'], out['shared'])
    res['speedup_total'] = round(res['per_candidate']['total_s'] / res['shared']['total_s'], 2)
    per = [res[m]['mean_per_candidate_s'] for m in ('per_candidate', 'shared')]
    res['speedup_per_candidate'] = round(per[0] / per[1], 2)
    return res


if __name__ == '__main__':
    print(json.dumps(run('--quick' in sys.argv), indent=1))
