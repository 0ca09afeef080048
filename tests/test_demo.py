"""`make demo` end to end on the tiny preset: world, train, validate, infer and report, all complete."""
import json

import h5py
import pytest
import xarray as xr


@pytest.mark.slow
def test_demo_end_to_end_tiny(tmp_path):
    from genfocal_nb.demo import run_demo
    from genfocal_nb.infer import is_complete
    s = run_demo(tmp_path / 'run', preset='tiny', progress=False)
    run = tmp_path / 'run'
    store = run / 'infer' / 'debiased.zarr'
    assert is_complete(store)
    ds = xr.open_zarr(store)
    assert ds.sizes['member'] == 1 and str(ds.time.values[0])[:10] == '2010-01-01' and str(ds.time.values[-1])[:10] == '2030-12-31'
    with h5py.File(run / 'validation' / 'metrics.h5') as f:
        cands = list(f['scalars'])
        assert {'raw', 'gaussian_qm', 'eqm', 'qdm', 'model'} <= set(cands)
        assert 'maps/model/bias/temperature' in f
    assert (run / 'report' / 'index.html').stat().st_size > 1000
    for k in ('train', 'validate', 'infer'): assert (run / 'notebooks' / f'{k}.ipynb').exists()
    assert json.loads((run / 'demo_summary.json').read_text())['report'] == s['report']
