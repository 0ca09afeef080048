"""genfocal_nb.infer from outside the notebook: real concurrent processes, a real SIGKILL, resume, refusals, SR export."""
import json, os, signal, subprocess, sys, textwrap, time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from genfocal_nb import contract
from genfocal_nb.infer import (ContractError, done_regions, edge_jump_ratio, export_sr, is_complete,
                               mock_inference_world, run_inference, store_digest)

MEMBERS = list(contract.MEMBERS[:2])
PERIOD = ('2001-01-01', '2001-02-14')  # 45 days: 3 blocks of 16 days (batch_windows=2), the last one partial


def identity(x0, cond):
    return x0


@pytest.fixture(scope='module')
def world(tmp_path_factory):
    return mock_inference_world(tmp_path_factory.mktemp('world'), MEMBERS, '2001-01-01', '2001-02-20', grid=(8, 5))


@pytest.fixture(scope='module')
def kw(world):
    return dict(world, members=MEMBERS, date_range=PERIOD, batch_windows=2, progress=False,
                provenance=dict(model_dir='stub', solver='identity'))


@pytest.fixture(scope='module')
def reference(kw, tmp_path_factory):
    "One uninterrupted single-process run."
    return run_inference(identity, out_path=tmp_path_factory.mktemp('ref') / 'ref.zarr', **kw)


SCRIPT = textwrap.dedent('''
    import json, sys, time
    from genfocal_nb.infer import run_inference
    args = json.loads(sys.argv[1])
    delay = args.pop('delay')
    def stub(x0, cond):
        time.sleep(delay)
        return x0
    args['shard'] = tuple(args['shard'])
    run_inference(stub, **args)
''')


def _spawn(tmp_path, kw, out, shard, delay=0.0):
    "Start run_inference in a fresh Python process."
    script = tmp_path / 'run.py'
    script.write_text(SCRIPT)
    args = {k: (str(v) if isinstance(v, Path) else v) for k, v in kw.items()}
    args.update(out_path=str(out), shard=list(shard), delay=delay)
    return subprocess.Popen([sys.executable, str(script), json.dumps(args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_every_day_once(reference, world):
    ds = xr.open_zarr(reference)
    lens2 = xr.open_zarr(world['lens2_path'])
    want = lens2.time.sel(time=slice(*PERIOD)).values
    np.testing.assert_array_equal(ds.time.values, want)
    assert ds.sizes == {'member': 2, 'time': 45, 'longitude': 8, 'latitude': 5}
    assert not any(bool(ds[v].isnull().any()) for v in contract.LABELS)
    assert is_complete(reference) and len(done_regions(reference)) == 2 * 3
    assert list(ds.member.values) == MEMBERS and ds.temperature.attrs['units'] == 'K'
    contract.validate_store(ds, 'debiased', grid=(8, 5), members=MEMBERS)


def test_overlap_keeps_every_day(kw, tmp_path, reference):
    "With overlapping windows an identity stub still gives the same values (blend of equal values)."
    out = run_inference(identity, out_path=tmp_path / 'o.zarr', **{**kw, 'overlap': 3})
    a, b = xr.open_zarr(out).temperature.values, xr.open_zarr(reference).temperature.values
    np.testing.assert_allclose(a, b, rtol=1e-6)


def test_two_processes_write_one_store_concurrently(kw, tmp_path, reference):
    out = tmp_path / 'two.zarr'
    procs = [_spawn(tmp_path, kw, out, (i, 2), delay=0.05) for i in range(2)]  # start together; both may create
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    assert is_complete(out)
    assert store_digest(out) == store_digest(reference)
    assert not list(tmp_path.glob('.two.zarr.tmp-*'))  # the losing creator cleaned up


def test_sigkill_then_resume_is_bitwise_identical(kw, tmp_path, reference):
    out = tmp_path / 'killed.zarr'
    p = _spawn(tmp_path, kw, out, (0, 1), delay=0.4)
    t0 = time.time()
    while len(done_regions(out)) < 2 and time.time() - t0 < 60 and p.poll() is None:
        time.sleep(0.05)
    p.send_signal(signal.SIGKILL); p.wait()
    n = len(done_regions(out))
    assert 2 <= n < 6 and not is_complete(out)
    run_inference(identity, out_path=out, **kw)
    assert is_complete(out) and store_digest(out) == store_digest(reference)


def test_changed_batch_size_is_refused(kw, tmp_path, reference):
    before = store_digest(reference)
    with pytest.raises(ContractError, match='batch_windows: store has 2, this run has 4'):
        run_inference(identity, out_path=reference, **{**kw, 'batch_windows': 4})
    with pytest.raises(ContractError, match='members'):
        run_inference(identity, out_path=reference, **{**kw, 'members': MEMBERS[:1]})
    assert store_digest(reference) == before


def test_sr_export_layout(reference, tmp_path):
    sr = xr.open_zarr(export_sr(reference, tmp_path / 'sr.zarr', MEMBERS[0]))
    assert sorted(sr.data_vars) == sorted(['T2m', 'W10m', 'Q1000', 'MSL', 'Z200', 'Z500'])
    assert all(sr[v].dims == ('time', 'longitude', 'latitude') for v in sr.data_vars)
    np.testing.assert_array_equal(sr.MSL.values, xr.open_zarr(reference).mean_sea_level_pressure.sel(member=MEMBERS[0]).values)
    assert sr.attrs['member'] == MEMBERS[0]


def test_edge_jump_ratio_detects_window_edges():
    rng = np.random.default_rng(0)
    smooth = np.cumsum(rng.standard_normal((80, 3)), 0)
    jumpy = smooth + np.repeat(rng.standard_normal(10) * 10, 8)[:, None]
    assert edge_jump_ratio(jumpy) > 3 > 1.5 > edge_jump_ratio(smooth)


def test_provenance_from_config_takes_the_models_info():
    from genfocal_nb.config import base_config
    from genfocal_nb.infer import _provenance_from_config
    cfg = base_config()
    p = _provenance_from_config(cfg, dict(step=7, model_dir='/abs/model', weights='ema', num_params=3))
    assert p['model_dir'] == '/abs/model' and p['checkpoint_step'] == 7 and p['num_params'] == 3
    assert p['nfe_per_window'] == 16 and p['solver'] == 'heun' and p['frame'] == 'gaussian'


DEVICES_SCRIPT = textwrap.dedent('''
    import json, sys
    import jax, jax.numpy as jnp
    from genfocal_nb.infer import run_inference, debias_fn_from_velocity
    from genfocal_nb.sample import default_sample_config
    args = json.loads(sys.argv[1])
    scfg = default_sample_config(); scfg.solver, scfg.num_steps = 'heun', 3
    f = debias_fn_from_velocity(lambda x, t, cond: 0.3 * jnp.tanh(x) + 0.1 * cond[..., :10] - t * x, scfg)
    run_inference(f, **args)
    print(jax.device_count())
''')


def test_windows_split_over_four_devices_match_one(kw, tmp_path):
    "Blocks of 3 windows on 4 simulated devices (padded to 4) give the same store as on 1 device."
    script = tmp_path / 'dev.py'
    script.write_text(DEVICES_SCRIPT)
    outs = {}
    for n in (1, 4):
        args = {k: (str(v) if isinstance(v, Path) else v) for k, v in kw.items()}
        args.update(out_path=str(tmp_path / f'dev{n}.zarr'), batch_windows=3)
        env = dict(os.environ, JAX_PLATFORMS='cpu', XLA_FLAGS=f'--xla_force_host_platform_device_count={n}')
        p = subprocess.run([sys.executable, str(script), json.dumps(args)], capture_output=True, text=True, env=env, timeout=300)
        assert p.returncode == 0, p.stderr[-3000:]
        assert p.stdout.split()[-1] == str(n)
        outs[n] = xr.open_zarr(tmp_path / f'dev{n}.zarr').load()
    assert json.loads(outs[4].attrs['genfocal_run'])['devices'] == 4
    # resuming the 1-device store with 4 devices is refused, naming the difference
    args.update(out_path=str(tmp_path / 'dev1.zarr'))
    p = subprocess.run([sys.executable, str(script), json.dumps(args)], capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode != 0 and 'devices: store has 1, this run has 4' in p.stderr
    for v in outs[1].data_vars:
        np.testing.assert_allclose(outs[4][v].values, outs[1][v].values, rtol=1e-6, atol=1e-6 * float(abs(outs[1][v]).max()))


def test_detrended_inference_adds_the_members_slow_change_back(tmp_path):
    "data.detrend at inference: with an identity flow the output is (x0 − d)·σE + μE plus the change d·σL (as a ratio for humidity and wind speed); the settings are provenance."
    from ml_collections import ConfigDict
    from genfocal_nb.climatology import open_annual, slow_signal_of
    from genfocal_nb.data import tiny_world_config, write_annual_anomalies
    from genfocal_nb.infer import RELATIVE_CHANGE, open_inputs, read_days
    c = ConfigDict(tiny_world_config().to_dict())
    c.lens2_annual_path, c.era5_annual_path = str(tmp_path / 'lens2_annual.zarr'), str(tmp_path / 'era5_annual.zarr')
    write_annual_anomalies(c, progress=False)
    paths = {k: c[k] for k in ('lens2_path', 'lens2_clim_path', 'lens2_clim_mean_path', 'lens2_clim_std_path', 'era5_clim_path')}
    member, period = c.members_eval[0], ('2025-01-01', '2025-02-14')
    kw = dict(paths, members=[member], date_range=period, batch_windows=2, progress=False)
    detrend = dict(lens2_annual_path=c.lens2_annual_path, trend_halfwidth=15.0, reference=['1981', '1999'])
    plain = xr.open_zarr(run_inference(identity, out_path=tmp_path / 'plain.zarr', **kw)).load()
    store = run_inference(identity, out_path=tmp_path / 'detrended.zarr', detrend=detrend, **kw)
    out = xr.open_zarr(store).load()
    inp = open_inputs(**paths, members=[member], date_range=period)
    r = read_days(inp, member, 0, len(inp.times))
    d = slow_signal_of(open_annual(c.lens2_annual_path), 15.0, ('1981', '1999'), member)(inp.times)
    assert d[..., 1].mean() > 0.3  # 2025 is warmer than 1981-1999 in the tiny world's LENS2 (σ units)
    flow = ((r['L'] - r['mu']) / r['sd'] - d) * r['sd_e'] + r['mu_e']
    for i, lab in enumerate(contract.LABELS):
        change = d[..., i] * r['sd'][..., i]
        want = flow[..., i] * (1 + change / r['mu'][..., i]) if lab in RELATIVE_CHANGE else flow[..., i] + change
        np.testing.assert_allclose(out[lab].sel(member=member).values, want, rtol=1e-5, atol=1e-5 * float(abs(plain[lab]).max()))
    assert not np.allclose(out['temperature'].values, plain['temperature'].values)
    assert json.loads(json.loads(out.attrs['genfocal_run'])['provenance']['detrend']) == detrend
    with pytest.raises(ContractError, match='detrend'):  # resuming it without the slow signal is refused
        run_inference(identity, out_path=store, **kw)
