"""genfocal_nb.climatology against a brute-force numpy computation, store layouts, resumable writes."""
from types import SimpleNamespace
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from genfocal_nb import climatology as cl
from genfocal_nb.contract import (ContractError, ERA5_LEVELS, MEMBERS, atomic_to_zarr, day_of_year, mock_era5,
                                  mock_lens2, open_store, validate_store)

YEARS = (1999, 2002)  # 2000 is a leap year: LENS2 (noleap) lacks its Feb-29, ERA5 has it


@pytest.fixture(scope='module')
def lens():
    return mock_lens2(start='1999-01-01', end='2002-12-31')


@pytest.fixture(scope='module')
def era():
    return mock_era5(start='1999-01-01', end='2002-12-31')


def brute(x, times, window=31, zero_ends=False):
    "Per day of year: gather samples within the circular window (doy 366 of non-leap years = doy 365), np.average."
    t = pd.DatetimeIndex(times)
    idx, dd = list(range(len(t))), list(t.day_of_year)
    for y in np.unique(t.year):
        ys = t.year == y
        if 365 in t.day_of_year[ys] and 366 not in t.day_of_year[ys]:
            idx.append(int(np.flatnonzero(ys & (t.day_of_year == 365))[0])); dd.append(366)
    idx, dd, h = np.array(idx), np.array(dd), window // 2
    mean, std = np.zeros((366,) + x.shape[1:]), np.zeros((366,) + x.shape[1:])
    for d in range(1, 367):
        k = (dd - d + 183) % 366 - 183
        ok = np.abs(k) <= h
        w = 1 - np.abs(k[ok]) / (h if zero_ends else h + 1)
        v = x[idx[ok]].astype(np.float64)
        mean[d - 1] = np.average(v, axis=0, weights=w)
        std[d - 1] = np.sqrt(np.average((v - mean[d - 1]) ** 2, axis=0, weights=w))
    return mean, std


def rel_err(a, b):
    return float(np.abs(np.asarray(a, dtype=np.float64) - b).max() / np.abs(b).max())


def test_window_weights():
    w = cl.window_weights(31)
    assert len(w) == 31 and np.isclose(w.mean(), 1) and np.isclose(w[15] / w[0], 16)
    assert np.allclose(cl.window_weights(31, zero_ends=True)[[0, -1]], 0)
    with pytest.raises(ValueError, match='odd'):
        cl.window_weights(30)


@pytest.mark.parametrize('window,zero_ends', [(31, False), (11, False), (31, True)])
def test_daily_climatology_matches_brute_force(lens, era, window, zero_ends):
    for da in (lens.PSL.isel(member=1), era.geopotential.sel(level=500), era['2m_temperature']):
        m, s = cl.daily_climatology(da, YEARS, window, zero_ends=zero_ends)
        bm, bs = brute(da.values, da.time.values, window, zero_ends)
        assert m.sizes['dayofyear'] == 366 and m.dayofyear.values[-1] == 366
        assert rel_err(m, bm) < 1e-5 and rel_err(s, bs) < 1e-5


def test_reads_bounded_blocks_of_years(lens, monkeypatch):
    seen, orig = [], cl.doy_sums
    monkeypatch.setattr(cl, 'doy_sums', lambda x, *a, **k: seen.append(len(x)) or orig(x, *a, **k))
    whole = cl.daily_climatology(lens.TREFHT.isel(member=0).chunk(time=100), YEARS)
    assert len(seen) == 1  # 4 years of a tiny grid: one read
    seen.clear(); monkeypatch.setattr(cl, 'BLOCK_BYTES', 366 * 4 * 8 * 5)  # one year of the 8x5 grid per block
    part = cl.daily_climatology(lens.TREFHT.isel(member=0).chunk(time=100), YEARS)
    assert len(seen) == 4 and max(seen) <= 366
    for a, b in zip(whole, part): np.testing.assert_allclose(a, b, rtol=1e-12)


def test_layouts(lens, era):
    clim = cl.lens2_climatology(lens, YEARS, variables=None)
    assert clim.TREFHT_std.dims == ('member', 'dayofyear', 'longitude', 'latitude')
    validate_store(clim, 'lens2_clim', grid=(8, 5), members=MEMBERS[:2])
    bm, _ = brute(lens.Z500.isel(member=0).values, lens.time.values)
    assert rel_err(clim.Z500.isel(member=0), bm) < 1e-5
    look = clim.TREFHT.sel(member=MEMBERS[0], dayofyear=xr.DataArray(day_of_year(lens.time.values), dims='time'))
    assert look.notnull().all()
    eclim = cl.era5_climatology(era, YEARS)
    assert eclim.specific_humidity.dims == ('dayofyear', 'longitude', 'latitude', 'level')
    assert eclim.level.values.tolist() == list(ERA5_LEVELS)
    validate_store(eclim, 'era5_clim', grid=(8, 5))
    mean_ds, std_ds = cl.ensemble_stats(clim)
    for ds in (mean_ds, std_ds):
        validate_store(ds, 'lens2_clim_stats', grid=(8, 5))
    assert np.allclose(std_ds.U200_std, clim.U200_std.values.astype('f8').std(axis=(0, 1)), rtol=1e-5)


def _cfg(d, lens, era):
    atomic_to_zarr(lens.chunk(time=365), d / 'lens2.zarr')
    atomic_to_zarr(era.chunk(time=365), d / 'era5.zarr')
    return SimpleNamespace(lens2_path=d / 'lens2.zarr', era5_path=d / 'era5.zarr', grid=(8, 5),
                           **{f"{k}_path": d / f"{k}.zarr" for k in cl.STORE_KEYS},
                           members_train=MEMBERS[:2], members_eval=(), climatology_years=YEARS,
                           era5_climatology_years=YEARS, climatology_window=31)


def test_write_climatologies_resumable(tmp_path, lens, era):
    cfg = _cfg(tmp_path, lens, era)
    paths = cl.write_climatologies(cfg, progress=False)
    kinds = dict(lens2_clim='lens2_clim', lens2_clim_mean='lens2_clim_stats', lens2_clim_std='lens2_clim_stats',
                 era5_clim='era5_clim')
    for k, p in paths.items():
        ds = open_store(p, kinds[k], grid=(8, 5))
        assert ds.attrs['climatology_window'] == 31 and ds.attrs['climatology_years'] == '1999-2002'
    e5 = open_store(paths['era5_clim'], 'era5_clim').load()
    bm, bs = brute(era.v_component_of_wind.sel(level=200).values, era.time.values)
    assert rel_err(e5.v_component_of_wind.sel(level=200), bm) < 1e-5
    assert rel_err(e5.v_component_of_wind_std.sel(level=200), bs) < 1e-5
    before = {k: p.stat().st_mtime_ns for k, p in paths.items()}
    cl.write_climatologies(cfg, progress=False)
    assert {k: p.stat().st_mtime_ns for k, p in paths.items()} == before
    cfg.climatology_years = (2000, 2002)
    with pytest.raises(ContractError, match='climatology_years'):
        cl.write_climatologies(cfg, progress=False)
    assert not [p for p in tmp_path.iterdir() if '.tmp-' in p.name]


def test_era5_period_error(tmp_path, lens, era):
    cfg = _cfg(tmp_path, lens, era)
    cfg.era5_climatology_years = (1961, 2000)
    with pytest.raises(ContractError, match='era5_climatology_years.*needs 1961-01-01'):
        cl.write_climatologies(cfg, progress=False)
    assert (tmp_path / 'lens2_clim.zarr').exists() and not (tmp_path / 'era5_clim.zarr').exists()


def test_era5_in_a_second_process(tmp_path, lens, era):
    (tmp_path / 'a').mkdir(); (tmp_path / 'b').mkdir()
    paths = cl.write_climatologies(_cfg(tmp_path / 'a', lens, era), progress=False, workers=2)
    open_store(paths['lens2_clim'], 'lens2_clim', grid=(8, 5))
    e5 = open_store(paths['era5_clim'], 'era5_clim', grid=(8, 5)).load()  # written by the second process
    bm, bs = brute(era.v_component_of_wind.sel(level=200).values, era.time.values)
    assert rel_err(e5.v_component_of_wind.sel(level=200), bm) < 1e-5 and rel_err(e5.v_component_of_wind_std.sel(level=200), bs) < 1e-5
    cfg = _cfg(tmp_path / 'b', lens, era)
    cfg.era5_climatology_years = (1961, 2000)  # the child's ContractError arrives here, as one clear error
    with pytest.raises(ContractError, match='second process.*era5_climatology_years.*needs 1961-01-01'):
        cl.write_climatologies(cfg, progress=False, workers=2)
    assert not (tmp_path / 'b' / 'era5_clim.zarr').exists()
