"""Contract checks from outside the notebooks: the package imports without side effects."""
import subprocess, sys


def test_import_has_no_side_effects(tmp_path):
    out = subprocess.run([sys.executable, '-c', 'import genfocal_nb.contract, os; print(sorted(os.listdir(".")))'],
                         cwd=tmp_path, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == '[]'
