"""Validation on the tiny world: raw, Gaussian QM and an identity 'model'; the HDF5 layout read back; the report."""
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope='module')
def vdir(tmp_path_factory, tiny_data_config):
    from genfocal_nb.config import world_config
    from genfocal_nb.validate import validate
    cfg = world_config(Path(tiny_data_config.lens2_path).parent, 'tiny')
    cfg.data = tiny_data_config
    cfg.validate.update(dict(date_range=('2000', '2000'), baselines=('gaussian_qm',), model_root='', per_member=True))
    return validate(cfg, tmp_path_factory.mktemp('val'), progress=False, debias_fns={'identity': lambda raw: raw})


def test_hdf5_layout(vdir):
    from genfocal_nb.contract import LABELS
    with h5py.File(vdir / 'metrics.h5') as f:
        assert set(f['scalars']) == {'raw', 'gaussian_qm', 'identity'}
        assert set(f['scalars/raw']) == {'all', 'cmip6_1001_001', 'cmip6_1251_001'}
        d = f['scalars/gaussian_qm/all/wasserstein/temperature']
        assert d.shape == () and d.attrs['better'] == 'lower' and d.attrs['units'] == 'var'
        assert f['maps/raw/bias/temperature'].shape == (16, 9) and f['maps/raw/bias/temperature'].attrs['units'] == 'K'
        assert len(f['hist/edges/temperature']) == 202 and len(f['hist/era5/temperature']) == 201
        assert f['heatwaves/raw'].shape == (4, 4)
        assert list(f.attrs['variables']) == list(LABELS)


def test_identity_has_zero_skill_and_qm_fixes_the_mean(vdir):
    df = pd.read_csv(vdir / 'metrics.csv')
    assert np.nanmax(np.abs(df[df.candidate == 'identity'].skill)) < 1e-12
    qm = df[(df.candidate == 'gaussian_qm') & (df.member == 'all') & (df.metric == 'mean_abs_bias')]
    assert (qm.skill > 0).all() and qm.skill.mean() > 0.2, qm
    assert '| metric | gaussian_qm | identity |' in (vdir / 'metrics.md').read_text()


@pytest.mark.parametrize('coast', [True, False])
def test_report_renders_with_and_without_coastlines(vdir, tmp_path, monkeypatch, coast):
    import genfocal_nb.report as R
    if not coast: monkeypatch.setattr(R, 'CARTOPY_DATA', tmp_path / 'no-cartopy-data')
    page = R.write_report(vdir / 'metrics.h5', tmp_path / 'report', table_md=(vdir / 'metrics.md').read_text())
    assert page.exists() and len(list(page.parent.glob('*.png'))) >= 10
    text = page.read_text()  # the markdown table is rendered: caption above the table, bold as <strong>
    assert '**' not in text and '<figcaption>Skill relative to raw' in text and '<strong>' in text


def test_metrics_in_threads_equal_one_thread(tiny_data_config):
    from genfocal_nb.baselines import open_era5_labelled, open_raw_labelled
    from genfocal_nb.validate import candidate_metrics
    members, period = ['cmip6_1001_001'], ('2000', '2000')
    ref, raw = open_era5_labelled(tiny_data_config, period), open_raw_labelled(tiny_data_config, members, period)
    cands, kw = {'raw': raw, 'shifted': raw + 1.0}, dict(lat=ref.latitude.values, trend_periods=None)
    (r1, f1), (r2, f2) = (candidate_metrics(cands, ref, raw, members, kw, False, False, workers=w) for w in (1, 2))
    flat = lambda r: {(k, m, v): x for k, per in r.items() for m, pv in per.items() for v, x in pv.items()}
    assert flat(r1).keys() == flat(r2).keys() and f1.keys() == f2.keys()
    assert np.array_equal(list(flat(r1).values()), [flat(r2)[k] for k in flat(r1)], equal_nan=True)
    assert all(np.array_equal(f1[k], f2[k], equal_nan=True) for k in f1)
