"""The HTML report renders in a real browser (headless Chromium screenshot); skipped where Chromium is missing."""
import os, shutil, subprocess

import pytest

CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser') or shutil.which('google-chrome')
TABLE_MD = ("Skill relative to raw (1 − error/error_raw, mean over variables; 1 = perfect, 0 = no better than raw, "
            "< 0 = worse), members a, b, 2000–2009.\n\n"
            "| metric | gaussian_qm | model |\n|---|---:|---:|\n| wasserstein | 0.68 | **0.70** |\n"
            "| lag1_autocorr_error | -0.11 | **0.37** |\n| std_ratio_error | **0.72** | -0.67 |\n")


@pytest.mark.skipif(CHROMIUM is None, reason='no Chromium on this machine (Debian: apt-get install chromium)')
def test_report_screenshot_in_headless_chromium(tmp_path):
    from genfocal_nb.report import example_results, write_report
    page = write_report(example_results(tmp_path / 'metrics.h5', variables=('temperature', 'wind_speed')),
                        tmp_path / 'report', table_md=TABLE_MD)
    text = page.read_text()
    assert '**' not in text and '<figcaption>Skill relative' in text and '<strong>0.70</strong>' in text
    shot = tmp_path / 'shot.png'
    subprocess.run([CHROMIUM, '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars',
                    f'--screenshot={shot}', '--window-size=1200,1600', page.as_uri()],
                   check=True, capture_output=True, timeout=120)
    if os.environ.get('GENFOCAL_SCREENSHOT'): shutil.copy(shot, os.environ['GENFOCAL_SCREENSHOT'])  # to look at it
    from PIL import Image
    img = Image.open(shot).convert('L')
    lo, hi = img.getextrema()
    assert img.size == (1200, 1600) and hi - lo > 100  # something was drawn, not a blank page
    colours = len(set(img.resize((120, 160)).getdata()))
    assert colours > 20, colours  # text, figures and table, not a single error message


def test_maps_in_a_second_process_match_one_process(tmp_path, monkeypatch):
    from genfocal_nb import report as R
    h5 = R.example_results(tmp_path / 'metrics.h5', variables=('temperature', 'wind_speed'))
    one, two = (R.write_report(h5, tmp_path / f'r{w}', workers=w) for w in (1, 2))
    names = lambda page: sorted(p.name for p in page.parent.glob('*.png'))
    assert names(one) == names(two) and len(names(one)) == 2 * 2 + 2 + 1
    strip = lambda page: page.read_text().split('report written')[0].replace(str(page.parent), '')
    assert strip(one) == strip(two)  # the same figures, in the same order
    monkeypatch.setattr(R, '_MAPS_CHILD', 'raise SystemExit("boom")')  # the second process fails: drawn here instead
    with pytest.warns(UserWarning, match='second process failed'):
        page = R.write_report(h5, tmp_path / 'r3', workers=2)
    assert names(page) == names(one)
