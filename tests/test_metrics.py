"""Core checks of genfocal_nb.metrics on hand-computed cases and oracles (fast)."""
import numpy as np
import pytest
import scipy.stats

from genfocal_nb.metrics import (METRICS, area_mean, compute_metrics, heat_index, heatwave_counts, histogram_l1,
                                 mock_debiased, radial_spectrum, skill_scores, tail_dependence, wasserstein1)


def test_area_mean_uses_cell_areas():
    f = np.broadcast_to([1., 0., 1.], (4, 3))
    assert area_mean(f, np.array([-90., 0., 90.])) == pytest.approx(1 - np.sqrt(2) / 2)


def test_histogram_l1_is_twice_total_variation():
    a, b = np.array([0., 0., 1., 1.]), np.array([0., 1., 1., 1.])
    assert histogram_l1(a, b, bins=2) == pytest.approx(0.5)
    assert histogram_l1(a, a + 10) == pytest.approx(2.0)


def test_wasserstein_matches_scipy_for_unequal_sizes():
    rng = np.random.default_rng(0)
    p, r = rng.gamma(2., size=(23, 2, 3)), rng.normal(size=(3, 11, 2, 3))
    want = [[scipy.stats.wasserstein_distance(p[:, i, j], r[:, :, i, j].ravel()) for j in range(3)] for i in range(2)]
    np.testing.assert_allclose(wasserstein1(p, r, chunk=7), want, rtol=1e-12, atol=1e-12)


def test_radial_spectrum_puts_a_zonal_wave_in_its_shell():
    lon, lat = np.arange(48) * 7.5, np.linspace(-90, 90, 25)
    wave = np.cos(np.deg2rad(3 * lon))[:, None] * np.ones(25)
    k, e = radial_spectrum(wave, lon, lat)
    assert e[k == 3] == pytest.approx(0.5) and e.sum() == pytest.approx(0.5)


def test_heat_index_nws_values():
    to_k = lambda f: (f - 32) / 1.8 + 273.15
    assert heat_index(to_k(90.), 50.) == pytest.approx(to_k(94.59693), abs=1e-4)   # NWS table: 95 F
    assert heat_index(to_k(70.), 50.) == pytest.approx(to_k(69.05), abs=1e-9)      # simple formula


def _greedy(x, thr, length):
    hot, k, n = np.asarray(x) >= thr, 0, 0
    while k <= len(hot) - length:
        if hot[k:k + length].all(): n, k = n + 1, k + length
        else: k += 1
    return n


def test_heatwave_counts_match_the_greedy_scan():
    hi = np.random.default_rng(1).normal(303, 4, size=(80, 2, 2))
    c = heatwave_counts(hi, thresholds=(300., 305.), lengths=(1, 3, 5))
    for i, t in enumerate((300., 305.)):
        for j, n in enumerate((1, 3, 5)):
            assert c[i, j, 1, 0] == _greedy(hi[:, 1, 0], t, n)


def test_tail_dependence_extremes():
    x = np.arange(20.)[:, None, None]
    assert tail_dependence(x, x, 0.9)[0, 0] == 1.0 and tail_dependence(x, -x, 0.9)[0, 0] == 0.0


def test_compute_metrics_identity_shift_and_skill():
    ref = mock_debiased(members=('era5',), seed=1)
    same = compute_metrics(ref, ref)
    for name, per_var in same.items():
        for x in per_var.values():
            assert x == pytest.approx(1.0 if METRICS[name].better == 'closer to 1' else 0.0, abs=1e-9), name
    pred, raw = mock_debiased(seed=0), mock_debiased(seed=2)
    m = compute_metrics(pred, ref, raw=raw)
    assert set(m) == set(METRICS)
    warm = pred.assign(temperature=pred.temperature + 1.0)
    mw = compute_metrics(warm, pred, raw=pred, variables=['temperature'])
    assert mw['wasserstein']['temperature'] == pytest.approx(1.0, abs=1e-4)
    assert mw['trend_change_error']['temperature'] == pytest.approx(0.0, abs=1e-4)
    hot = pred.assign(temperature=pred.temperature + 2.0)   # a "raw" twice as far off
    sk = skill_scores(mw, compute_metrics(hot, pred, raw=pred, variables=['temperature']))
    assert sk['wasserstein']['temperature'] == pytest.approx(0.5, abs=1e-4)


def test_sorted_quantiles_and_histograms_equal_numpy_bit_for_bit():
    from genfocal_nb.metrics import histogram_edges, row_quantiles, sorted_histogram
    a = np.random.default_rng(2).normal(size=(4, 257)).astype(np.float32)
    a[:, :30] = a[:, :1]                                                   # ties
    q = np.array([0.01, 0.5, 0.95, 0.99])
    np.testing.assert_array_equal(row_quantiles(np.sort(a), q, presorted=True), np.quantile(a.T.astype(float), q, axis=0))
    np.testing.assert_array_equal(row_quantiles(a, q), np.quantile(a.T.astype(float), q, axis=0))
    for lo, hi in ((float(a.min()), float(a.max())), (a.min(), a.max()), (-0.5, 0.7)):   # float64, float32, partial range
        e = histogram_edges(lo, hi, 17)
        np.testing.assert_array_equal(sorted_histogram(np.sort(a), e), np.histogram(a.astype(float), e, density=True)[0])


def test_top_k_breaks_ties_like_a_stable_argsort():
    from genfocal_nb.metrics import _top_k
    x = np.random.default_rng(3).integers(0, 3, size=(6, 40)).astype(float)
    for k in (1, 5, 40):
        want = np.zeros(x.shape, bool)
        np.put_along_axis(want, np.argsort(x, axis=-1, kind='stable')[:, 40 - k:], True, axis=-1)
        np.testing.assert_array_equal(_top_k(x, k), want)


def test_shared_reference_stats_give_the_same_metrics():
    from genfocal_nb.metrics import load_fields, reference_stats, summarize
    ref = mock_debiased(members=('era5',), start='1999-12-20', end='2000-01-31', seed=1).squeeze('member', drop=True)
    pred, raw = (mock_debiased(start='1999-12-25', end='2000-01-31', seed=s) for s in (0, 2))
    stats = reference_stats(ref)
    assert compute_metrics(pred, ref, raw=raw, stats=stats) == compute_metrics(pred, ref, raw=raw)
    m = [pred.member.values[1]]
    got, figs = summarize(load_fields(pred).sel(m), stats, raw=load_fields(raw).sel(m))
    assert got == compute_metrics(pred.sel(member=m), ref, raw=raw.sel(member=m))
    assert figs['temperature']['w1'].shape == (8, 5) and figs['heatwaves'].shape == (4, 4, 8, 5)


def test_aggregator_equals_the_plain_definitions():
    from genfocal_nb.metrics import (area_mean, global_mae, heat_index_field, heatwave_rate, lag1_autocorr_error,
                                     percentile_errors, std_ratio, _field)
    ref = mock_debiased(members=('era5',), start='1999-12-20', end='2000-02-28', seed=1).squeeze('member', drop=True)
    pred, raw = (mock_debiased(start='1999-12-25', end='2000-02-20', seed=s) for s in (0, 2))
    m, lat = compute_metrics(pred, ref, raw=raw), ref.latitude.values
    p, r, x = (_field(d, 'temperature', 'x').values for d in (pred, ref, raw))
    rng = (min(a.min() for a in (p, r, x)), max(a.max() for a in (p, r, x)))
    want = dict(histogram_l1=histogram_l1(p, r, range=rng), wasserstein=global_mae(wasserstein1(p, r), lat),
                std_ratio=float(area_mean(std_ratio(p, r), lat)), lag1_autocorr_error=lag1_autocorr_error(p, r, lat),
                percentile_error_01=global_mae(percentile_errors(p, r)[0], lat))
    for k, v in want.items(): assert m[k]['temperature'] == pytest.approx(v, rel=1e-10), k
    t_p, q_p, t_r, q_r = (_field(d, v, 'x').values for d in (pred, ref) for v in ('temperature', 'specific_humidity'))
    assert m['tail_dependence_error']['temperature~specific_humidity'] == pytest.approx(
        global_mae(tail_dependence(t_p, q_p) - tail_dependence(t_r, q_r), lat), rel=1e-10)
    d = heatwave_rate(heat_index_field(pred)) - heatwave_rate(heat_index_field(ref))
    assert m['heatwave_count_error_300K_1d']['heat_index'] == pytest.approx(global_mae(d[0, 0], lat), rel=1e-10)
