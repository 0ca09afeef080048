"""Peak memory and throughput of `genfocal_nb.infer.run_inference` vs the length of the period (stub model).

One synthetic LENS2 store of 40 years (1 member) and hand-made climatologies are written once
(`infer.mock_inference_world`, year by year); then each period (10 and 40 years, the same store) runs in a fresh
subprocess with a stub debias function (`v = x0`, so the numbers measure the pipeline: reads, normalization,
windows, blending, region writes, markers — not a model). Reported per period:
  - `peak_rss_mb`: peak RSS of the process (`VmHWM`), `baseline_mb`: the peak after imports and opening the inputs;
  - `days_per_s`: debiased days per second; `blocks`: regions written.
If memory is bounded, `peak_rss_mb` is the same for 10 and 40 years (the reference held a whole member in RAM).
The lead adds the trained-model numbers (days/s with the real network) later.
    python benchmarks/bench_infer.py            # full: demo grid 48x25
    python benchmarks/run.py --quick infer      # quick: tiny grid 16x9
"""
import json, subprocess, sys, tempfile, time
from pathlib import Path

CHILD = r'''
import json, sys, time
from pathlib import Path
def hwm():
    for line in open('/proc/self/status'):
        if line.startswith('VmHWM'): return int(line.split()[1]) / 1024
a = json.loads(sys.argv[1])
from genfocal_nb.infer import run_inference, open_inputs
import jax  # imported by run_inference anyway (device count); count it in the baseline
world = a['world']
open_inputs(**world, members=a['members'], date_range=a['period'])
base = hwm()
t0 = time.time()
out = run_inference(lambda x0, cond: x0, **world, members=a['members'], date_range=a['period'], out_path=a['out'],
                    batch_windows=a['batch_windows'], progress=False)
dt = time.time() - t0
import xarray as xr
ntime = xr.open_zarr(out).sizes['time']
print(json.dumps(dict(peak_rss_mb=round(hwm(), 1), baseline_mb=round(base, 1), seconds=round(dt, 1), days=ntime,
                      days_per_s=round(ntime / dt, 1))))
'''


def run_case(world: dict, period, out: Path, batch_windows: int = 4) -> dict:
    "Run one inference in a fresh process; return its measurements."
    from genfocal_nb.contract import MEMBERS
    arg = json.dumps(dict(world=world, members=[MEMBERS[0]], period=list(period), out=str(out), batch_windows=batch_windows))
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
    return res


if __name__ == '__main__':
    print(json.dumps(run('--quick' in sys.argv), indent=1))
