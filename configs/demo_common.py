"""Shared settings of the demo configs (train / validation / inference on the embedded world)."""
from pathlib import Path
from genfocal_nb.config import world_config
from genfocal_nb.synthetic import PRESETS


def demo_config(arg: str, kind: str):
    "The demo config for `kind` on the world `WORLD_DIR[,PRESET]`."
    world_dir, _, preset = arg.partition(',')
    preset = preset or 'demo'
    config = world_config(world_dir, preset)
    run_dir = Path(world_dir).parent
    config.data.batch_size = 8
    config.data.worker_count = 0
    config.optim.warmup_steps = 200
    config.optim.num_train_steps = 4000 if preset == 'demo' else 40
    config.optim.peak_lr = 1e-3
    config.optim.ema_decay = 0.999 if preset == 'demo' else 0.9
    config.train.log_every = 50 if preset == 'demo' else 10
    config.train.eval_every = 1000 if preset == 'demo' else 20
    config.train.save_every = 500 if preset == 'demo' else 20
    config.validate.model_root = str(run_dir / 'train')
    config.infer.model_dir = str(run_dir / 'train')
    p = PRESETS[preset]  # debias the test decade and the future period into one store
    config.infer.date_range = (p['test'][0], (p['future'] or p['test'])[1])
    config.infer.output = 'debiased.zarr'
    config.validate.cache_dir = str(run_dir / 'cache')
    return config
