"""`make bench`: run every benchmarks/bench_*.py, write benchmarks/results/<name>.json and a markdown table.

Each module exposes `run(quick: bool) -> dict`. Ratios are measured side by side within one run.
    python benchmarks/run.py [--quick] [name ...]
"""
import importlib.util, json, platform, sys, time, traceback
from pathlib import Path

HERE = Path(__file__).parent
RESULTS = HERE / 'results'


def load(path: Path):
    "Import a benchmark module from its file."
    spec = importlib.util.spec_from_file_location(path.stem, path)
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    return mod


def flat(d: dict, prefix: str = '') -> dict:
    "Flatten nested dicts to dotted keys for the markdown table."
    out = {}
    for k, v in d.items():
        if isinstance(v, dict): out.update(flat(v, f"{prefix}{k}."))
        else: out[f"{prefix}{k}"] = v
    return out


def main(argv):
    quick = '--quick' in argv
    names = [a for a in argv if not a.startswith('--')]
    RESULTS.mkdir(exist_ok=True)
    machine = dict(python=platform.python_version(), machine=platform.machine(), cpus=__import__('os').cpu_count(),
                   date=time.strftime('%Y-%m-%d'))
    rows = []
    for path in sorted(HERE.glob('bench_*.py')):
        name = path.stem.removeprefix('bench_')
        if names and name not in names: continue
        print(f"[bench] {name} ...", flush=True)
        t0 = time.time()
        try: res = load(path).run(quick)
        except Exception:
            traceback.print_exc(); res = dict(error=traceback.format_exc(limit=3))
        res = dict(benchmark=name, seconds=round(time.time() - t0, 1), machine=machine, results=res)
        (RESULTS / f'{name}.json').write_text(json.dumps(res, indent=1, default=str))
    for path in sorted(RESULTS.glob('*.json')):  # the table shows every benchmark's latest result, with its date
        res = json.loads(path.read_text())
        when = f"{res['machine'].get('date')}, {res['machine'].get('cpus')} CPUs, {res['seconds']} s"
        rows += [(f"{res['benchmark']} ({when})", k, v) for k, v in flat(res['results']).items()]
    table = ['| benchmark | measure | value |', '|---|---|---|'] + [f"| {n} | {k} | {v} |" for n, k, v in rows]
    (RESULTS / 'README.md').write_text("# Benchmark results\n\nWritten by `make bench` (`benchmarks/run.py`); ratios "
                                       "are measured side by side within one run.\n\n" + '\n'.join(table) + '\n')
    print('\n'.join(table))


if __name__ == '__main__':
    main(sys.argv[1:])
