"""The HTML report renders in a real browser (headless Chromium screenshot); skipped where Chromium is missing."""
import shutil, subprocess

import pytest

CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser') or shutil.which('google-chrome')


@pytest.mark.skipif(CHROMIUM is None, reason='no Chromium on this machine (Debian: apt-get install chromium)')
def test_report_screenshot_in_headless_chromium(tmp_path):
    from genfocal_nb.report import example_results, write_report
    page = write_report(example_results(tmp_path / 'metrics.h5', variables=('temperature', 'wind_speed')),
                        tmp_path / 'report', table_md='| metric | model |\n|---|---:|\n| wasserstein | 0.5 |')
    shot = tmp_path / 'shot.png'
    subprocess.run([CHROMIUM, '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars',
                    f'--screenshot={shot}', '--window-size=1200,1600', page.as_uri()],
                   check=True, capture_output=True, timeout=120)
    from PIL import Image
    img = Image.open(shot).convert('L')
    lo, hi = img.getextrema()
    assert img.size == (1200, 1600) and hi - lo > 100  # something was drawn, not a blank page
    colours = len(set(img.resize((120, 160)).getdata()))
    assert colours > 20, colours  # text, figures and table, not a single error message
