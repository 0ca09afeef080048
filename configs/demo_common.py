"""Shared settings of the demo configs (train / validation / inference on the embedded world).

Sized for a 2-core CPU, where the 0.25 M-parameter demo U-Net trains at roughly 10-20 windows/s (48x25 grid, 8 days; the two cores as two JAX devices, `demo.MALLOC_ENV`):
600 steps of 4 windows (twice the updates of 300 steps of 8, in the same time), a cheap ODE solve (Euler, 4 steps = 4 network
evaluations per window, in the Gaussian frame that integrates the model's Gaussian skip exactly; see nbs/06_sample.ipynb
and `make bench`), validation of one member
over the validation decade (all three: `validate.members=...`, about 5 minutes more), and inference of one member over
the test decade and the future period. On GPUs use the *_lens2_to_era5.py
configs. `config.world_config` also switches on `data.detrend` (the slow climate signal carried outside the flow,
nbs/03_data; README, What mattered 9).
"""
from pathlib import Path
from genfocal_nb.config import world_config
from genfocal_nb.synthetic import PRESETS


def demo_config(arg: str, kind: str):
    "The demo config for `kind` on the world `WORLD_DIR[,PRESET]`."
    world_dir, _, preset = arg.partition(',')
    preset = preset or 'demo'
    demo = preset == 'demo'
    config = world_config(world_dir, preset)
    p = PRESETS[preset]
    run_dir = Path(world_dir).parent
    config.data.batch_size = 4 if demo else 8  # demo: more, smaller steps learn more in the same time (README, What mattered)
    config.data.worker_count = 0
    config.data.in_memory = True  # the demo world's training period fits in memory; reads are then free
    config.data.resident_dtype = 'float16'  # held in ~0.75 GB instead of ~1.5 GB; rounding below the stores' quantization
    config.optim.warmup_steps = 100 if demo else 5
    config.optim.num_train_steps = 600 if demo else 30
    config.optim.peak_lr = 2e-3
    config.optim.end_lr = 1e-4
    config.optim.ema_decay = 0.99 if demo else 0.8  # a short run: the EMA must forget the initial weights
    config.train.log_every = 50 if demo else 5
    config.train.eval_every = 600 if demo else 15  # once, at the end
    config.train.save_every = 200 if demo else 15
    config.train.num_eval_batches = 4 if demo else 2  # the same 16 windows as 2 batches of 8 (checked: identical arrays)
    config.sample.solver, config.sample.num_steps, config.sample.frame = 'euler', 4 if demo else 2, 'gaussian'
    config.validate.model_root = str(run_dir / 'train')
    config.validate.cache_dir = str(run_dir / 'cache')
    config.validate.per_member = False
    config.validate.members = tuple(p['members'][:1])  # the 15-minute budget: one member (3 pooled add ~5 min)
    config.infer.model_dir = str(run_dir / 'train')
    config.infer.date_range = (p['test'][0], (p['future'] or p['test'])[1])  # the test decade and the future period
    config.infer.members = tuple(p['members'][:1])
    config.infer.output = 'debiased.zarr'
    return config
