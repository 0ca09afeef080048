"""genfocal_nb.train from outside the notebook: 4 simulated devices vs 1, a real SIGKILL and resume, refusals.

Uses the notebook's stand-ins (`train.TOY`: tiny velocity net, reference loss, in-memory grain loader) so the whole
file runs in ~20 s on a 2-core CPU.
"""
import json, os, subprocess, sys, textwrap
from pathlib import Path

import jax
import numpy as np
import pytest
from ml_collections import ConfigDict

from genfocal_nb.train import TOY, check_batch_size, load_model, restore_checkpoint, toy_config, train

# 20 steps, one window per device on 4 devices, a checkpoint every 10 steps, the loss of every step logged
SECTIONS = dict(optim=dict(num_train_steps=20, warmup_steps=5),
                train=dict(log_every=1, eval_every=10, save_every=10, num_eval_batches=1))

CHILD = textwrap.dedent('''
    import json, os, signal, sys, time
    from pathlib import Path
    from genfocal_nb.train import TOY, toy_config, train
    out = []
    for job in json.loads(sys.argv[1]):
        cfg = toy_config(**job['sections'])
        def kill(step, row, job=job):
            if step == job.get('kill_at'):
                done = Path(job['workdir']) / 'checkpoints' / str(job['wait_for'])
                t0 = time.time()
                while not done.exists() and time.time() - t0 < 60: time.sleep(0.02)  # the checkpoint is finalized
                print(json.dumps(out), flush=True)
                os.kill(os.getpid(), signal.SIGKILL)
        try:
            s = train(cfg, job['workdir'], progress=False, components=TOY, callback=kill)
            out.append(dict(losses=[h['train_loss'] for h in s['history']], devices=s['devices'], step=s['step']))
        except ValueError as e:
            out.append(dict(error=str(e)))
    print(json.dumps(out), flush=True)
''')


def child(jobs: list, devices: int = 1, check: bool = True) -> tuple[list, int]:
    "Run `jobs` (train calls) in a fresh process with `devices` simulated CPU devices; (results, return code)."
    env = dict(os.environ, XLA_FLAGS=f'--xla_force_host_platform_device_count={devices}', JAX_PLATFORMS='cpu')
    p = subprocess.run([sys.executable, '-c', CHILD, json.dumps(jobs)], capture_output=True, text=True, env=env,
                       timeout=300)
    if check and p.returncode: raise RuntimeError(p.stderr[-3000:])
    lines = [l for l in p.stdout.splitlines() if l.startswith('[') and not l.startswith('[train]')]
    return (json.loads(lines[-1]) if lines else []), p.returncode


def sections(**data):
    return dict(SECTIONS, data=data) if data else SECTIONS


@pytest.fixture(scope='module')
def reference(tmp_path_factory):
    "One uninterrupted run in this process."
    s = train(toy_config(**SECTIONS), tmp_path_factory.mktemp('ref'), progress=False, components=TOY)
    return [h['train_loss'] for h in s['history']]


def test_four_devices_match_one(reference, tmp_path):
    res, _ = child([dict(sections=SECTIONS, workdir=str(tmp_path / 'four')),
                    dict(sections=sections(batch_size=6), workdir=str(tmp_path / 'bad'))], devices=4)
    assert res[0]['devices'] == 4 and res[0]['step'] == 20
    np.testing.assert_allclose(res[0]['losses'], reference, rtol=2e-5)
    # a global batch that does not split over the 4 devices is refused up front, with the fix in the message
    assert 'data.batch_size=6' in res[1]['error'] and 'multiple of 4' in res[1]['error']
    assert not (tmp_path / 'bad' / 'checkpoints').exists()


def test_sigkill_then_resume_continues_exactly(reference, tmp_path):
    workdir = tmp_path / 'killed'
    res, code = child([dict(sections=SECTIONS, workdir=str(workdir), kill_at=13, wait_for=10)], check=False)
    assert code == -9, code  # really killed, mid-run
    assert sorted(os.listdir(workdir / 'checkpoints')) == ['10']
    s = train(toy_config(**SECTIONS), workdir, progress=False, components=TOY)
    assert (s['start_step'], s['step']) == (10, 20)
    # same losses for steps 11..20 as the uninterrupted run: weights, optimizer, EMA *and* data stream restored
    np.testing.assert_allclose([h['train_loss'] for h in s['history']], reference[10:], rtol=1e-6)


def test_checkpoint_roundtrip_params_and_ema(tmp_path):
    s = train(toy_config(**SECTIONS), tmp_path, progress=False, components=TOY)
    ema, _, step = load_model(tmp_path, components=TOY)
    raw, _, _ = load_model(tmp_path, use_ema=False, components=TOY)
    assert step == 20
    from flax import nnx
    pe, pr = nnx.state(ema, nnx.Param), nnx.state(raw, nnx.Param)
    assert any(not np.array_equal(a, b) for a, b in zip(jax.tree.leaves(pe), jax.tree.leaves(pr)))
    # restore the full train state and compare with what load_model returns
    from genfocal_nb.train import checkpoint_manager, init_train_state, make_optimizer, build_tiny_model
    cfg = toy_config(**SECTIONS)
    _, _, fresh = init_train_state(build_tiny_model(cfg.model, rngs=nnx.Rngs(123)), make_optimizer(cfg.optim))
    back = restore_checkpoint(checkpoint_manager(tmp_path), fresh)
    assert int(back.step) == 20
    for a, b in [(back.ema, pe), (back.params, pr)]:
        assert all(np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


def test_refusals(tmp_path):
    with pytest.raises(ValueError, match='data.batch_size=3'):
        check_batch_size(3, 2)
    with pytest.raises(FileNotFoundError, match='not a model dir'):
        load_model(tmp_path / 'nothing', components=TOY)
    def half_batch_loader(data_cfg, seed, **kw):  # a loader that disagrees with data.batch_size
        small = ConfigDict(data_cfg.to_dict()); small.batch_size //= 2
        return TOY.make_loader(small, seed, **kw)
    with pytest.raises(ValueError, match='the train loader yields batches of'):
        train(toy_config(**SECTIONS), tmp_path / 'x', progress=False, components=TOY._replace(make_loader=half_batch_loader))


MULTIHOST = textwrap.dedent('''
    import json, sys
    import jax
    from genfocal_nb.train import TOY, toy_config, train
    s = train(toy_config(**json.loads(sys.argv[2])), sys.argv[1], progress=False, components=TOY)
    print(json.dumps(dict(losses=[h['train_loss'] for h in s['history']], devices=s['devices'], processes=s['processes'])))
''')


@pytest.mark.slow
def test_two_processes_two_devices_each(tmp_path):
    "A real multi-controller run on localhost: 2 processes x 2 CPU devices (jax.distributed + gloo)."
    import socket
    with socket.socket() as s: s.bind(('localhost', 0)); port = s.getsockname()[1]
    procs = [subprocess.Popen([sys.executable, '-c', MULTIHOST, str(tmp_path / 'run'), json.dumps(SECTIONS)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=dict(os.environ, JAX_PLATFORMS='cpu', XLA_FLAGS='--xla_force_host_platform_device_count=2',
                                       JAX_COORDINATOR_ADDRESS=f'localhost:{port}', JAX_NUM_PROCESSES='2', JAX_PROCESS_ID=str(i)))
             for i in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs[0][1][-3000:]
    res = [json.loads(o.strip().splitlines()[-1]) for o, _ in outs]
    assert res[0] == res[1] and (res[0]['devices'], res[0]['processes']) == (4, 2)
    assert sorted(os.listdir(tmp_path / 'run' / 'checkpoints' / '20' / 'data_iter')) == [
        'commit_success.txt', 'process_0-of-2.json', 'process_1-of-2.json']
