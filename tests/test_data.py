"""genfocal_nb.data from outside the notebook: worker processes, resume across a fresh loader, shards, pickling."""
import pickle

import numpy as np
import pytest
from ml_collections import ConfigDict

from genfocal_nb.contract import ContractError
from genfocal_nb.data import COUPLINGS, FIELD_KEYS, PairSource, make_train_loader, shift_dates, tiny_world_config


@pytest.fixture(scope='module')
def cfg():
    return tiny_world_config()


def with_(cfg, **kw):
    c = ConfigDict(cfg.to_dict()); c.update(kw); return c


def take(loader, n):
    it = iter(loader)
    return [next(it) for _ in range(n)]


def same(a, b):
    for x, y in zip(a, b):
        assert x.keys() == y.keys()
        for k in x: np.testing.assert_array_equal(x[k], y[k])


@pytest.mark.parametrize('workers', [pytest.param(1, marks=pytest.mark.slow), 2])
def test_workers_give_the_zero_worker_stream(cfg, workers):
    ref = take(make_train_loader(cfg, 3), 3)
    same(ref, take(make_train_loader(with_(cfg, worker_count=workers), 3), 3))


@pytest.mark.slow
def test_workers_with_ot_and_independent(cfg):
    for cp in ('ot', 'independent'):
        c = with_(cfg, coupling=cp)
        same(take(make_train_loader(c, 0), 2), take(make_train_loader(with_(c, worker_count=2), 0), 2))


@pytest.mark.slow  # ~40 s of worker start-up; the notebook restores without workers in make test
def test_restore_with_workers(cfg):
    c = with_(cfg, worker_count=2)
    it = iter(make_train_loader(c, 0))
    for _ in range(2): next(it)
    state = it.get_state()
    want = [next(it) for _ in range(2)]
    it2 = iter(make_train_loader(c, 0)); it2.set_state(state)
    same(want, [next(it2) for _ in range(2)])


def test_restore_refuses_other_data(cfg):
    it = iter(make_train_loader(cfg, 0)); next(it)
    state = it.get_state()
    other = iter(make_train_loader(with_(cfg, coupling='independent'), 0))
    with pytest.raises(ValueError): other.set_state(state)


def test_source_pickles_without_open_stores(cfg):
    src = PairSource(cfg, 0); src[0]
    blob = pickle.dumps(src)
    assert len(blob) < 2_000_000
    copy = pickle.loads(blob)
    assert copy._stores is None
    same([src[5]], [copy[5]])


def test_epochs_cover_every_record_once(cfg):
    c = with_(cfg, date_range_eval=('2000-01-01', '2000-03-31'), members_eval=cfg.members_eval[:1])
    ld = make_train_loader(c, 0, split='eval')
    src = ld._data_source
    starts = np.concatenate([b['date_0'][:, 0] for b in ld])  # one epoch, finite
    assert len(starts) == src.batches_per_epoch * 4 == len(set(starts.tolist()))


@pytest.mark.parametrize('coupling', COUPLINGS)
def test_process_shards_partition_the_global_batch(cfg, coupling):
    c = with_(cfg, coupling=coupling, offset_years=1)
    full = take(make_train_loader(c, 0), 1)[0]
    parts = [take(make_train_loader(c, 0, process_index=p, process_count=2), 1)[0] for p in range(2)]
    if coupling == 'ot':  # OT re-pairs within each process's batch: x_0 and the set of x_1 dates match
        for k in ('x_0', 'date_0', 'member'): np.testing.assert_array_equal(np.concatenate([p[k] for p in parts]), full[k])
        return
    same([full], [{k: np.concatenate([p[k] for p in parts]) for k in full}])


def test_offset_days_only_and_negative_years(cfg):
    b = take(make_train_loader(with_(cfg, coupling='offset', offset_years=-2, offset_days=-5), 0), 2)
    for x in b:
        d0 = x['date_0'].astype('datetime64[D]')
        np.testing.assert_array_equal(x['date_1'].astype('datetime64[D]'), shift_dates(d0.ravel(), -2, -5).reshape(d0.shape))
        assert (x['date_1'] >= np.datetime64('1981-01-01', 'D').astype(np.int64)).all()


def test_chunk_of_four_windows(cfg):
    b = take(make_train_loader(with_(cfg, chunk_size=16, batch_size=4), 0), 1)[0]
    assert b['x_0'].shape[:2] == (4, 8)
    np.testing.assert_array_equal(b['member'][0], b['member'][1])
    assert (b['date_0'][1, 0] - b['date_0'][0, -1]) in (1, 2)  # the record's second window follows the first


def test_errors_name_store_and_fix(cfg):
    with pytest.raises(ContractError, match=r"(?s)lens2 store .*lens2.zarr.*not in the store.*data.members_eval"):
        make_train_loader(with_(cfg, members_eval=('nope',)), 0, split='eval')
    with pytest.raises(ContractError, match="era5 store"):
        make_train_loader(with_(cfg, date_range_train=('1981', '2025')), 0)


@pytest.mark.parametrize('coupling', COUPLINGS)
def test_in_memory_gives_the_lazy_batches(cfg, coupling):
    c = with_(cfg, coupling=coupling, offset_years=1, offset_days=2)
    for split in ('train', 'eval'):
        lazy = take(make_train_loader(c, 7, split=split), 2)
        mem = take(make_train_loader(with_(c, in_memory=True), 7, split=split), 2)
        for x, y in zip(lazy, mem):
            assert x.keys() == y.keys()
            for k in x: np.testing.assert_allclose(y[k], x[k], rtol=0, atol=1e-6)


@pytest.mark.slow
def test_in_memory_workers_and_restore(cfg):
    c = with_(cfg, in_memory=True, worker_count=2)
    ref = take(make_train_loader(cfg, 0), 4)  # lazy, no workers
    it = iter(make_train_loader(c, 0))
    got = [next(it), next(it)]
    state = it.get_state()
    it2 = iter(make_train_loader(c, 0)); it2.set_state(state)  # a fresh loader (grain needs the same worker count)
    same(ref, got + [next(it2) for _ in range(2)])


def test_in_memory_source_pickles_without_arrays(cfg):
    src = PairSource(with_(cfg, in_memory=True), 0); src[0]
    assert src._resident is not None and src._resident['x0'].nbytes > 10_000_000
    blob = pickle.dumps(src)
    assert len(blob) < 2_000_000
    copy = pickle.loads(blob)
    assert copy._resident is None
    same([src[3]], [copy[3]])


def test_in_memory_refuses_when_memory_is_short(cfg, monkeypatch):
    import psutil
    from collections import namedtuple
    mem = namedtuple('mem', 'available')(50 * 2 ** 20)
    monkeypatch.setattr(psutil, 'virtual_memory', lambda: mem)
    with pytest.raises(ContractError, match=r"(?s)data.in_memory=True .*2 reading process.*set data.in_memory=False"):
        make_train_loader(with_(cfg, in_memory=True, worker_count=2), 0)
    make_train_loader(cfg, 0)  # the lazy loader does not care


def test_repr_resolves_store_paths(cfg, tmp_path, monkeypatch):
    "A run resumed from another directory, or with absolute instead of relative paths, has the same source repr."
    from pathlib import Path
    lens2 = Path(cfg.lens2_path).resolve()
    monkeypatch.chdir(lens2.parent.parent)
    rel = with_(cfg, lens2_path=str(Path(lens2.parent.name) / lens2.name))
    assert repr(PairSource(rel, 0)) == repr(PairSource(with_(cfg, lens2_path=str(lens2)), 0))
