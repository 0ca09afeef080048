"""Peak memory and time of the LENS2 per-member climatology vs the number of years (fixed grid).

For each number of years a synthetic LENS2-schema store (seasonal cycle + noise, chunks of one member-year) is
written to a temp dir; each case then runs in a fresh subprocess that reports its peak RSS
(`VmHWM` of /proc/self/status) and wall time:
  - `streaming`: `write_lens2_climatology` from the lazily opened store (what `genfocal-nb climatology` does);
  - `in_memory`: the same computation after `ds.load()` (what a load-then-compute script does), for contrast.
`baseline_mb` is the peak RSS after imports and opening (or loading) the store, before computing.
    python benchmarks/bench_climatology.py            # full
    python benchmarks/run.py --quick climatology      # quick
"""
import json, subprocess, sys, tempfile, time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _rss import peak_rss_mb  # noqa: E402

import numpy as np

VARIABLES = ('TREFHT', 'PSL')


def make_store(path: Path, years: int, grid, members: int, start_year: int = 1961) -> float:
    "Write a synthetic LENS2-schema store year by year (bounded memory); returns its raw size in MB."
    import xarray as xr
    from genfocal_nb.contract import MEMBERS, ZARR_FORMAT, grid_coords, noleap_dates, day_of_year
    lon, lat = grid_coords(*grid)
    rng = np.random.default_rng(0)
    for i, y in enumerate(range(start_year, start_year + years)):
        t = noleap_dates(f'{y}-01-01', f'{y}-12-31')
        season = np.cos(2 * np.pi * (day_of_year(t) - 200) / 365.25)[None, :, None, None]
        data = {v: (('member', 'time', 'longitude', 'latitude'),
                    (base + amp * season + amp / 3 * rng.standard_normal((members, len(t), *grid))).astype('f4'),
                    {'units': u}) for v, base, amp, u in (('TREFHT', 280., 10., 'K'), ('PSL', 101300., 1000., 'Pa'))}
        ds = xr.Dataset(data, coords=dict(member=list(MEMBERS[:members]), time=t, longitude=lon, latitude=lat))
        ds = ds.chunk(member=1, time=-1)
        kw = dict(mode='w') if i == 0 else dict(append_dim='time')
        ds.to_zarr(path, zarr_format=ZARR_FORMAT, consolidated=True, **kw)
    return members * years * 365 * grid[0] * grid[1] * 4 * len(VARIABLES) / 2 ** 20




def case(store: str, years: int, mode: str, out: str) -> dict:
    "One measurement (runs inside a fresh subprocess)."
    import xarray as xr
    from genfocal_nb import climatology as cl
    ds = xr.open_zarr(store, chunks={})
    if mode == 'in_memory': ds = ds.load()
    base = peak_rss_mb()
    t0 = time.perf_counter()
    cl.write_lens2_climatology(ds, out, (1961, 1960 + years), 31, variables=VARIABLES, progress=False)
    sec = time.perf_counter() - t0
    return dict(peak_mb=round(peak_rss_mb(), 1), baseline_mb=round(base, 1), seconds=round(sec, 2))


def run_case(store: Path, years: int, mode: str, out: Path) -> dict:
    "Run `case` in a subprocess and parse its JSON."
    args = json.dumps(dict(store=str(store), years=years, mode=mode, out=str(out)))
    res = subprocess.run([sys.executable, __file__, '--case', args], capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def run(quick: bool) -> dict:
    grid, members = ((48, 25), 2) if quick else ((120, 61), 2)
    year_list = (2, 4, 8) if quick else (5, 10, 20, 40)
    out = dict(grid=f"{grid[0]}x{grid[1]}", members=members, variables=len(VARIABLES), window=31, cases={})
    with tempfile.TemporaryDirectory() as d:
        for n in year_list:
            store = Path(d) / f'lens2_{n}.zarr'
            row = dict(input_mb=round(make_store(store, n, grid, members), 1))
            for mode in ('streaming', 'in_memory'):
                r = run_case(store, n, mode, Path(d) / f'clim_{n}_{mode}.zarr')
                row.update({f'{mode}_{k}': v for k, v in r.items()})
            out['cases'][f'{n}y'] = row
            print(f"[climatology] {n} years: {row}", file=sys.stderr, flush=True)
    first, last = out['cases'][f'{year_list[0]}y'], out['cases'][f'{year_list[-1]}y']
    out['streaming_peak_growth_mb'] = round(last['streaming_peak_mb'] - first['streaming_peak_mb'], 1)
    out['in_memory_peak_growth_mb'] = round(last['in_memory_peak_mb'] - first['in_memory_peak_mb'], 1)
    return out


if __name__ == '__main__':
    if sys.argv[1:2] == ['--case']:
        print(json.dumps(case(**json.loads(sys.argv[2]))))
    else:
        print(json.dumps(run('--quick' in sys.argv), indent=1))
