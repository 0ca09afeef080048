"""Render README.md from nbs/index.ipynb with nbconvert (nbdev-readme needs Quarto, which cannot install offline)."""
import sys
from pathlib import Path
import nbformat
from nbconvert import MarkdownExporter

HEADER = "<!-- generated from nbs/index.ipynb by tools/readme.py: edit the notebook, not this file -->\n\n"


def render(nb_path: Path = Path('nbs/index.ipynb')) -> str:
    "README text: the notebook's markdown and code cells, minus cells marked `#| hide`."
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells = [c for c in nb.cells if not c.source.lstrip().startswith('#| hide')]
    for c in nb.cells:
        if c.cell_type == 'code': c.source = '\n'.join(l for l in c.source.splitlines() if not l.startswith('#|'))
    body, _ = MarkdownExporter().from_notebook_node(nb)
    return HEADER + body.strip() + '\n'


if __name__ == '__main__':
    text, out = render(), Path('README.md')
    if '--check' in sys.argv:
        if not out.exists() or out.read_text() != text:
            sys.exit("README.md is out of date with nbs/index.ipynb: run `python tools/readme.py`")
    else:
        out.write_text(text)
