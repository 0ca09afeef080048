"""genfocal_nb.synthetic: the tiny world writes, passes the contract, is deterministic, physical and biased as documented."""
import json

import numpy as np
import pytest
import xarray as xr

from genfocal_nb import synthetic as syn
from genfocal_nb.contract import ERA5_LEVELS, MEMBERS, open_store

SHORT = dict(lens2_years=(1999, 2000), era5_years=(1999, 2000))


@pytest.fixture(scope='module')
def world(tmp_path_factory):
    return syn.write_world(tmp_path_factory.mktemp('world') / 'tiny', 'tiny', seed=0, progress=False)


def test_tiny_world_passes_the_contract(world):
    p = syn.get_preset('tiny')
    lens = open_store(world['lens2'], 'lens2', grid=p['grid'], members=p['members'], period=('1981-01-01', '2030-12-31'))
    era = open_store(world['era5'], 'era5', grid=p['grid'], period=('1981-01-01', '2020-12-31'))
    assert list(lens.member.values) == list(MEMBERS[:2])
    assert lens.sizes['time'] == 50 * 365 and era.sizes['time'] == 40 * 365 + 10
    assert not ((lens.time.dt.month == 2) & (lens.time.dt.day == 29)).any()
    assert int(((era.time.dt.month == 2) & (era.time.dt.day == 29)).sum()) == 10
    assert era.level.values.tolist() == list(ERA5_LEVELS)
    assert lens.Z500.attrs['units'] == 'm' and era.geopotential.attrs['units'] == 'm2 s-2'
    ratio = float(era.geopotential.sel(level=500).isel(time=slice(0, 365)).mean() / lens.Z500.isel(time=slice(0, 365)).mean())
    assert abs(ratio - 9.80665) < 0.2


def test_tiny_world_values(world):
    lens, era = xr.open_zarr(world['lens2']).load(), xr.open_zarr(world['era5']).load()
    for ds in (lens, era):
        for v in ds.data_vars:
            assert ds[v].dtype == np.float32 and np.isfinite(ds[v].values).all(), v
    assert float(lens.QREFHT.min()) > 0 and float(era.specific_humidity.min()) > 0
    assert float(lens.WSPDSRFAV.min()) > 0 and float(era['10m_magnitude_of_wind'].min()) > 0
    assert 180 < float(lens.TREFHT.min()) and float(lens.TREFHT.max()) < 330


def test_world_json(world):
    info = json.loads(world['world'].read_text())
    assert info['preset'] == 'tiny' and info['seed'] == 0 and info['grid'] == [16, 9]
    assert info['members'] == list(MEMBERS[:2])
    assert info['periods'] == json.loads(json.dumps(syn.preset_periods('tiny')))
    kinds = {b['fixed_by_per_pixel_qm'] for b in info['biases']}
    assert {'yes', 'no'} <= kinds and all(b['size'] for b in info['biases'])
    assert info['version'] and info['worlds']['lens2']['ar'] != info['worlds']['era5']['ar']


def test_deterministic_whatever_the_chunking(tmp_path):
    a = syn.write_world(tmp_path / 'a', 'tiny', seed=7, progress=False, **SHORT)
    b = syn.write_world(tmp_path / 'b', 'tiny', seed=7, progress=False, chunk_days=50, block_days=30, **SHORT)
    c = syn.write_world(tmp_path / 'c', 'tiny', seed=8, progress=False, **SHORT)
    for k in ('lens2', 'era5'):
        A, B, C = (xr.open_zarr(x[k]).load() for x in (a, b, c))
        xr.testing.assert_identical(A, B)
        assert not np.allclose(A[next(iter(A.data_vars))].values, C[next(iter(C.data_vars))].values)


def test_failed_write_leaves_nothing(tmp_path, monkeypatch):
    calls = []
    def broken(f):
        calls.append(1)
        if len(calls) > 1: raise RuntimeError('boom')
        return {v: f[s].astype(np.float32) for v, s in syn.LENS2_SOURCE.items()}
    monkeypatch.setattr(syn, 'lens2_arrays', broken)
    with pytest.raises(RuntimeError, match='boom'):
        syn.write_world(tmp_path / 'w', 'tiny', seed=0, progress=False, **SHORT)
    assert [p.name for p in (tmp_path / 'w').iterdir()] == []


def test_presets():
    for name in syn.PRESETS:
        p = syn.preset_periods(name)
        assert set(p) == set(syn.PERIOD_KEYS)
        lo, hi = max(p['lens2_years'][0], p['era5_years'][0]), min(p['lens2_years'][1], p['era5_years'][1])
        for k in ('clim_years', 'train', 'val', 'test'):
            assert lo <= int(p[k][0]) <= int(p[k][1]) <= hi, (name, k)
    assert syn.get_preset('full-grid')['grid'] == (240, 121) and syn.get_preset('full-grid')['members'] == MEMBERS
    with pytest.raises(KeyError, match='choose one of'):
        syn.get_preset('nope')
    with pytest.raises(KeyError, match='unknown preset keys'):
        syn.write_world('unused', 'tiny', chunk_dayz=3)


def test_biases_quantile_mapping_cannot_fix():
    "Persistence, T–q coupling and smoothness differ between the worlds (two years, demo grid, in memory)."
    grid, years = (48, 25), (1990, 1991)
    lm = syn.lens2_dataset(grid, years, MEMBERS[:1], seed=2).isel(member=0)
    em = syn.era5_dataset(grid, years, seed=2)
    lat = em.latitude.values
    aTE, aTM = (syn.anomalies(d.values, d.time) for d in (em['2m_temperature'], lm.TREFHT))
    aQE = syn.anomalies(em.specific_humidity.sel(level=1000).values, em.time)
    aQM = syn.anomalies(lm.QREFHT.values, lm.time)
    assert syn.lag1(aTE) - syn.lag1(aTM) > 0.08
    assert np.mean(syn.pixel_corr(aTE, aQE)) - np.mean(syn.pixel_corr(aTM, aQM)) > 0.15
    slope = lambda a: syn.spectral_slope(syn.zonal_spectrum(a, lat), 2, 12)
    assert slope(aTM) < slope(aTE) - 1.0
    jE = syn.jet_latitudes(em.u_component_of_wind.sel(level=200).values, lat)
    jM = syn.jet_latitudes(lm.U200.values, lat)
    assert all(m - e > 2 for e, m in zip(jE, jM))
