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
