"""Fail when `nbdev-clean` or `nbdev-export` would change a tracked file (notebooks are the source)."""
import hashlib, subprocess, sys
from pathlib import Path

def snapshot() -> dict[str, str]:
    "Hash of every notebook and generated module."
    files = list(Path('nbs').rglob('*.ipynb')) + list(Path('genfocal_nb').rglob('*.py'))
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files
            if '.ipynb_checkpoints' not in p.parts}

before = snapshot()
bin_dir = Path(sys.executable).parent
for cmd in ('nbdev-clean', 'nbdev-export'):
    subprocess.run([str(bin_dir / cmd)], check=True)
after = snapshot()
changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
if changed:
    print("nbdev-clean/nbdev-export changed these files; run them and commit the result:\n  " + "\n  ".join(changed))
    sys.exit(1)
readme = subprocess.run([sys.executable, 'tools/readme.py', '--check'])
if readme.returncode: sys.exit(1)
print(f"nbdev hygiene: {len(after)} notebooks/modules clean and exported")
