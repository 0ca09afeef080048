"""Demo validation config: the embedded synthetic world, sized for a 2-core CPU.

Argument: WORLD_DIR[,PRESET] (default demo_run/world,demo), e.g. --config configs/config_validation_demo.py:demo_run/world
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from demo_common import demo_config  # noqa: E402


def get_config(arg: str = 'demo_run/world,demo'):
    return demo_config(arg, 'validation')
