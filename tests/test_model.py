"""genfocal_nb.model from outside the notebook: shapes on odd grids, longitude equivariance, time preserved,
the reference's attention collapse vs ours, the loss going down, determinism, and the real model in `train.train`.

Tiny nets and shapes; XLA compiles most optimisations off (set here) so the file runs in about a minute on 2 cores.
"""
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from genfocal_nb import model as M
from genfocal_nb import train as T


@pytest.fixture(autouse=True, scope='module')
def fast_compile():
    old = jax.config.read("jax_disable_most_optimizations")
    jax.config.update('jax_disable_most_optimizations', True)
    yield
    jax.config.update('jax_disable_most_optimizations', old)


def tiny_cfg(**kw):
    cfg = M.demo_model_config()
    cfg.update(dict(num_channels=(8, 16), num_res_blocks=(1, 1), attn_levels=(1,), fourier_dim=8, emb_dim=16,
                    norm_groups=4, dropout=0.0))
    cfg.update(kw)
    return cfg


def inputs(shape, seed=0):
    k1, k2, k3 = jax.random.split(jax.random.key(seed), 3)
    return (jax.random.normal(k1, (*shape, 10)), jax.random.uniform(k2, shape[:1]), jax.random.normal(k3, (*shape, 20)))


@nnx.jit
def velocity(model, x, t, cond):
    return model(x, t, cond, deterministic=True)


def perturbed(model, seed=1):
    "Move the weights off their init (the output layer starts at 0)."
    rng = np.random.default_rng(seed)
    nnx.update(model, jax.tree.map(lambda p: p + 0.1 * rng.standard_normal(p.shape, np.float32), nnx.state(model, nnx.Param)))
    return model


@pytest.mark.parametrize('shape', [(2, 8, 16, 9), (1, 3, 48, 25), (1, 8, 240, 121), (2, 1, 5, 3)])
def test_shapes_on_odd_grids(shape):
    model = M.build_model(tiny_cfg(), rngs=nnx.Rngs(0))
    out = jax.eval_shape(lambda *a: model(*a, deterministic=True), *inputs(shape))
    assert out.shape == (*shape, 10)  # T preserved too (8, 3, 1 days)


def test_periodic_in_longitude_and_mixes_time():
    model = perturbed(M.build_model(tiny_cfg(), rngs=nnx.Rngs(0)))
    x, t, cond = inputs((1, 8, 16, 9))
    v = velocity(model, x, t, cond)
    roll = lambda a, n: jnp.roll(a, n, axis=2)
    np.testing.assert_allclose(velocity(model, roll(x, 2), t, roll(cond, 2)), roll(v, 2), atol=1e-4)
    dv = velocity(model, x.at[:, 0].add(1.0), t, cond) - v
    assert float(jnp.abs(dv[:, -1]).max()) > 1e-4  # day 0 reaches day 7
    # the padding of every convolution wraps: a change at lon 0 reaches lon 15 (its neighbour across the date line)
    dv = velocity(model, x.at[:, :, 0].add(1.0), t, cond) - v
    assert float(jnp.abs(dv[:, :, -1]).max()) > 1e-4


def test_reference_attention_collapses_ours_does_not():
    x = jax.random.normal(jax.random.key(0), (1, 4, 8, 4, 128))
    ref = M.AxisAttention(128, 1, axis=2, qk_norm=True, rngs=nnx.Rngs(0))   # 128 heads of size 1 + qk-norm
    ours = M.AxisAttention(128, 32, axis=2, qk_norm=True, rngs=nnx.Rngs(0))
    w_ref, w_ours = ref.weights(x), ours.weights(x)
    np.testing.assert_allclose(w_ref, 1 / 8, atol=1e-6)
    assert float(jnp.abs(w_ours - 1 / 8).max()) > 0.05
    o = ours(x) - x
    assert float(jnp.abs(o - o[:, :, :1]).max()) > 1e-2  # the output depends on the query position
    bad = M.default_model_config(); bad.attn_head_dim = 1
    with pytest.raises(ValueError, match='attn_head_dim=1 < 16'):
        M.build_model(bad, rngs=nnx.Rngs(0))
    for cfg in (M.default_model_config(), M.reference_model_config(), M.demo_model_config()):
        assert cfg.attn_head_dim >= 16


def test_loss_decreases():
    k = jax.random.split(jax.random.key(0), 4)
    x0, mu, sd = (jax.random.normal(k[i], (4, 3, 8, 5, 10)) for i in range(3))
    batch = {'x_0': x0, 'x_1': 0.5 * x0 + mu + 0.3 * jax.random.normal(k[3], x0.shape), 'channel:mean': mu, 'channel:std': sd}
    flow = M.default_flow_config(); flow.area_weighting = True
    lat = np.linspace(-90, 90, 5)
    model = M.build_model(tiny_cfg(), rngs=nnx.Rngs(0))
    opt = nnx.Optimizer(model, optax.adam(3e-3), wrt=nnx.Param)

    @nnx.jit
    def step(model, opt, key):
        (loss, aux), g = nnx.value_and_grad(lambda m: M.flow_loss(m, batch, key, flow, lat=lat), has_aux=True)(model)
        opt.update(model, g)
        return loss, aux

    held = nnx.jit(lambda m, key: M.flow_loss(m, batch, key, flow, lat=lat)[0])  # fixed flow-time draws
    held_loss = lambda: np.mean([float(held(model, jax.random.key(100 + i))) for i in range(8)])
    before = held_loss()
    for i in range(20): step(model, opt, jax.random.key(i))
    after = held_loss()
    assert after < 0.9 * before, (before, after)
    _, aux = step(model, opt, jax.random.key(0))
    assert len(aux) == 10 and all(k.startswith('mse/') for k in aux)


def test_time_sampling_and_weights():
    flow = M.default_flow_config()
    t = M.sample_flow_time(jax.random.key(0), 1000, flow)
    assert flow.t_min <= float(t.min()) and float(t.max()) <= flow.t_max
    flow.time_sampling = 'logit_normal'
    assert float(M.sample_flow_time(jax.random.key(0), 1000, flow).std()) < float(t.std())
    flow.variable_weights = (1.0, 2.0)
    with pytest.raises(ValueError, match='variable_weights'):
        M.loss_weights(flow, 5, 10)


def test_deterministic_given_rngs():
    leaves = lambda m: jax.tree.leaves(nnx.state(m, nnx.Param))
    a, b = (M.build_model(tiny_cfg(), rngs=nnx.Rngs(3)) for _ in range(2))
    c = M.build_model(tiny_cfg(), rngs=nnx.Rngs(4))
    assert all(np.array_equal(x, y) for x, y in zip(leaves(a), leaves(b)))
    assert not all(np.array_equal(x, y) for x, y in zip(leaves(a), leaves(c)))


def test_param_counts():
    n_demo = M.count_params(M.demo_model_config())
    assert 0.2e6 < n_demo < 0.6e6
    model = M.build_model(M.demo_model_config(), rngs=nnx.Rngs(0))
    assert M.count_params(model) == n_demo
    print(f"demo: {n_demo:,} parameters")


@pytest.mark.slow
def test_reference_param_count():
    n = M.count_params(M.reference_model_config())
    print(f"reference-shaped: {n:,} parameters (reference UNet3d: 37,922,106)")
    assert 30e6 < n < 40e6


@pytest.mark.slow
def test_real_model_in_trainer(tmp_path):
    cfg = T.toy_config(optim=dict(num_train_steps=10, warmup_steps=2),
                       train=dict(log_every=5, eval_every=10, save_every=10, num_eval_batches=1))
    cfg.model, cfg.flow = tiny_cfg(), M.default_flow_config()
    s = T.train(cfg, tmp_path, progress=False, components=T.Components(M.build_model, M.flow_loss, T.make_toy_loader))
    assert s['step'] == 10 and np.isfinite(s['train_loss'])
    model, _, step = T.load_model(tmp_path, components=T.Components(M.build_model, M.flow_loss, T.make_toy_loader))
    assert step == 10 and M.count_params(model) == s['num_params']
