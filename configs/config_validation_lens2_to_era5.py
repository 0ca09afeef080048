"""Validate trained model(s) on the real stores (the reference's configs/config_validation_lens2_to_era5.py).

`validate.model_root` is an experiments root: every sub-directory holding a `config.json` is a model.
    genfocal-nb validate --workdir runs/validation --config configs/config_validation_lens2_to_era5.py --set validate.model_root=runs
"""
from genfocal_nb.config import base_config
from genfocal_nb.contract import MEMBERS


def get_config():
    config = base_config()
    config.validate.model_root = 'runs'
    config.validate.members = MEMBERS  # the reference validates 4 members by default (its sweep: 14)
    config.validate.date_range = ('2000', '2009')  # the validation decade (reference: "2000"-"2010" = 2000-01-01..2010-01-01)
    config.validate.baseline_train_range = ('1980', '1999')
    return config
