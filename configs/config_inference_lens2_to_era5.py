"""Debias all 100 LENS2 members, 1960-2100, into ONE Zarr store (the reference's configs/config_inference_lens2_to_era5.py).

Needs the 100-member LENS2 store and per-member climatologies for all members you run (the download has them
for the 4 training members only: compute the others with `genfocal-nb climatology`). No ERA5 data store is needed,
only the ERA5 climatology.
    genfocal-nb infer --workdir runs/inference --config configs/config_inference_lens2_to_era5.py --set infer.model_dir=runs/reflow
Many processes: add --shard i/n to each (they write disjoint regions of the same store).
"""
import sys
from pathlib import Path
from genfocal_nb.config import base_config

sys.path.insert(0, str(Path(__file__).parent))
from members import lens2_members  # noqa: E402


def get_config():
    config = base_config()
    config.data.lens2_path = 'data/lens2/lens2_240x121_lonlat_1960-2100_10_vars_100_members.zarr'
    config.infer.model_dir = 'runs/reflow'
    config.infer.members = lens2_members()
    config.infer.date_range = ('1960', '2100')
    return config
