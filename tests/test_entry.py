"""The entry notebooks run headless with papermill through the library functions, and the CLI wires them."""
import json, subprocess, sys
from pathlib import Path

import nbformat
import pytest

from genfocal_nb.cli import build_parser, main
from genfocal_nb.demo import ENTRY_KINDS, entry_notebook

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize('kind', ENTRY_KINDS)
def test_entry_notebook_has_parameters_cell(kind):
    nb = nbformat.read(entry_notebook(kind), as_version=4)
    tagged = [c for c in nb.cells if 'parameters' in c.get('metadata', {}).get('tags', [])]
    assert len(tagged) == 1 and 'config' in tagged[0].source and 'workdir' in tagged[0].source


@pytest.mark.parametrize('cmd', ['synth', 'climatology', 'train', 'validate', 'infer', 'report', 'demo'])
def test_cli_help(cmd, capsys):
    with pytest.raises(SystemExit) as e: build_parser().parse_args([cmd, '--help'])
    assert e.value.code == 0 and cmd in capsys.readouterr().out


def test_cli_unknown_key_is_an_error(capsys):
    rc = main(['train', '--workdir', 'x', '--config', str(REPO / 'configs/config_train_lens2_to_era5.py'),
               '--set', 'optim.peak_lrr=1'])
    assert rc == 2 and 'peak_lr' in capsys.readouterr().err


@pytest.mark.slow
def test_train_entry_notebook_headless(tmp_path):
    import papermill as pm
    out = tmp_path / 'train.ipynb'
    pm.execute_notebook(str(entry_notebook('train')), str(out), parameters={}, cwd=str(REPO), kernel_name='python3', language='python')
    nb = nbformat.read(out, as_version=4)
    text = ''.join(o.get('text', '') for c in nb.cells if c.cell_type == 'code' for o in c.get('outputs', []))
    assert "'step'" in text
