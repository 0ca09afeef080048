"""Train on the real GenFocal stores (the reference's configs/config_train_lens2_to_era5.py).

Store paths are relative to the working directory, as in the reference: copy `gs://genfocal/data/...` to `data/`.
    genfocal-nb train --workdir runs/reflow --config configs/config_train_lens2_to_era5.py
"""
from genfocal_nb.config import base_config
from genfocal_nb.model import reference_model_config


def get_config():
    config = base_config()  # real store paths, the 4 training members, train 1980-1999, eval 2000-2009
    config.model = reference_model_config()  # 6 levels x 128 channels, attention at the 2 coarsest levels
    config.data.batch_size = 4  # 8-day windows per step and host, as the reference (4 chunks per host)
    config.data.worker_count = 2
    return config
