"""EQM and QDM with day-of-year groups (31-day window, 50 quantiles): xsdba vs the numpy engine, same input, side by side.

The input is synthetic and the same for both engines: one member on the demo grid (48x25), a seasonal cycle plus noise,
ERA5 warmer and wider than the model, `train_years` of training days and `sim_years` to adjust, for a few channels
of different units (temperature in K and pressure in Pa, kind '+'; wind speed in m s-1, kind '*'). Each case runs in a
fresh subprocess that reports its wall time and peak RSS (`VmHWM` of /proc/self/status); `baseline_mb` is the peak
after imports and building the input. Per method and engine:
  - `seconds`, `peak_mb`, `baseline_mb`; the numpy engine with 1 thread and with `THREADS`;
  - `speedup`: xsdba seconds / numpy seconds (1 thread), measured in the same run;
  - agreement: `max_abs_diff` and `differ_frac` (fraction of values that are not identical) between the engines.
Plus `numpy_eqm_qdm_together_s`: both methods with one shared training (what `run_baselines` does).
    python benchmarks/bench_baselines.py            # full: 3 channels, 10 training years, 10 adjusted years
    python benchmarks/run.py --quick baselines      # quick: 2 channels, 10 training years, 2 adjusted years
"""
import json, subprocess, sys, tempfile, time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _rss import peak_rss_mb  # noqa: E402

import numpy as np

CHANNELS = {'temperature': ('K', 280., 10., 3., '+'), 'mean_sea_level_pressure': ('Pa', 101300., 800., 900., '+'),
            'wind_speed': ('m s-1', 6., 1.5, 2., '*')}  # units, mean, seasonal amplitude, noise, kind




def make_input(channel: str, grid, train_years: int, sim_years: int, seed: int = 0):
    "ref, hist (1981-...) and sim (2001-...) DataArrays (time, longitude, latitude), float32, with units."
    import pandas as pd, xarray as xr
    units, mean, amp, noise, kind = CHANNELS[channel]
    rng = np.random.default_rng(seed)
    def series(start, years, shift, spread):
        t = pd.date_range(f'{start}-01-01', f'{start + years - 1}-12-31', freq='D')
        season = amp * np.cos(2 * np.pi * (t.day_of_year.values - 200) / 365.25)[:, None, None]
        v = mean + shift + season + spread * noise * rng.standard_normal((len(t), *grid))
        v = np.maximum(v, 0.1) if kind == '*' else v
        co = dict(time=t, longitude=np.arange(grid[0]) * 360 / grid[0], latitude=np.linspace(-90, 90, grid[1]))
        return xr.DataArray(v.astype('f4'), co, ('time', 'longitude', 'latitude'), attrs=dict(units=units))
    return series(1981, train_years, 0.05 * noise, 1.2), series(1981, train_years, 0., 1.), series(2001, sim_years, 0.1 * noise, 1.)


def case(channel: str, grid, train_years: int, sim_years: int, engine: str, methods, threads: int, out: str) -> dict:
    "One measurement (runs inside a fresh subprocess); the adjusted values are saved to `out` (.npz)."
    from genfocal_nb import baselines as B
    ref, hist, sim = make_input(channel, grid, train_years, sim_years)
    kind = CHANNELS[channel][4]
    if engine == 'xsdba': B._xsdba()  # import outside the timing
    base = peak_rss_mb()
    t0 = time.perf_counter()
    if engine == 'xsdba': res = {m: B.xsdba_adjust(m, ref, hist, sim, kind=kind) for m in methods}
    else: res = B.numpy_adjust(tuple(methods), ref, hist, sim, kind=kind, threads=threads)
    sec = time.perf_counter() - t0
    np.savez(out, **{m: res[m].values for m in methods})
    return dict(seconds=round(sec, 2), peak_mb=round(peak_rss_mb(), 1), baseline_mb=round(base, 1))


def run_case(**kw) -> dict:
    "Run `case` in a subprocess and parse its JSON."
    res = subprocess.run([sys.executable, __file__, '--case', json.dumps(kw)], capture_output=True, text=True)
    if res.returncode: raise RuntimeError(res.stderr[-2000:])
    return json.loads(res.stdout.strip().splitlines()[-1])


def run(quick: bool) -> dict:
    from genfocal_nb import baselines as B
    grid, train_years, sim_years = (48, 25), 10, (2 if quick else 10)
    channels = ['temperature', 'mean_sea_level_pressure'] + ([] if quick else ['wind_speed'])
    out = dict(grid=f"{grid[0]}x{grid[1]}", members=1, train_years=train_years, sim_years=sim_years, window=B.WINDOW,
               nquantiles=B.NQUANTILES, threads=B.THREADS, xsdba_version=B.xsdba_version(), channels={})
    with tempfile.TemporaryDirectory() as d:
        for ch in channels:
            row = dict(units=CHANNELS[ch][0], kind=CHANNELS[ch][4])
            common = dict(channel=ch, grid=grid, train_years=train_years, sim_years=sim_years)
            for m in B.METHODS:
                runs = {}
                for name, engine, threads in (('xsdba', 'xsdba', 1), ('numpy', 'numpy', 1), (f'numpy_{B.THREADS}threads', 'numpy', B.THREADS)):
                    f = str(Path(d) / f'{ch}_{m}_{name}.npz')
                    runs[name] = run_case(engine=engine, methods=[m], threads=threads, out=f, **common)
                    runs[name]['values'] = f
                    print(f"[baselines] {ch} {m} {name}: {runs[name]}", file=sys.stderr, flush=True)
                a, b = np.load(runs['numpy']['values'])[m], np.load(runs['xsdba']['values'])[m]
                diff = np.abs(a - b)
                row[m] = {**{f'{n}_{k}': v for n, r in runs.items() for k, v in r.items() if k != 'values'},
                          'speedup': round(runs['xsdba']['seconds'] / runs['numpy']['seconds'], 1),
                          'max_abs_diff': float(diff.max()), 'differ_frac': float((diff > 0).mean())}
            together = run_case(engine='numpy', methods=list(B.METHODS), threads=B.THREADS, out=str(Path(d) / 'both.npz'), **common)
            row['numpy_eqm_qdm_together_s'] = together['seconds']
            out['channels'][ch] = row
            print(f"[baselines] {ch}: {row}", file=sys.stderr, flush=True)
    tot = {e: sum(out['channels'][c][m][f'{e}_seconds'] for c in channels for m in B.METHODS) for e in ('xsdba', 'numpy')}
    out['total_xsdba_s'], out['total_numpy_s'] = round(tot['xsdba'], 1), round(tot['numpy'], 1)
    out['total_speedup'] = round(tot['xsdba'] / tot['numpy'], 1)
    return out


if __name__ == '__main__':
    if sys.argv[1:2] == ['--case']:
        kw = json.loads(sys.argv[2])
        kw['grid'] = tuple(kw['grid'])
        print(json.dumps(case(**kw)))
    else:
        print(json.dumps(run('--quick' in sys.argv), indent=1))
