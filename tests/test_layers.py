"""easymae's layers point down only, and no module imports itself round a
cycle. Every import is read with ``ast`` (top-level and inside functions),
so a lazy import cannot hide an upward dependency. The order is written in
docs/design_decisions.md ("Layers")."""
import ast
import importlib
import pathlib

import pytest

PKG = pathlib.Path(__file__).resolve().parents[1] / 'easymae'

# low to high; a part may import its own package and any lower layer, never
# a part of the same layer or above. The root package (``easymae``) is the
# facade: it imports the parts and registers them; nothing inside imports it.
LAYERS = [
    {'fileio', 'version', 'resources'},
    {'registry'},
    {'text', 'config_check'},
    {'models', 'datasets', 'evaluation'},
    {'visualization'},
    {'engine'},
    {'hub'},
    {'analysis'},
    {'predict'},
    {'__init__'},
    {'apis'},
    {'cli'},
    {'__main__'},
]
LAYER = {part: i for i, parts in enumerate(LAYERS) for part in parts}


def module_name(path: pathlib.Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix('')
    parts = list(rel.parts)
    if parts[-1] == '__init__':
        parts.pop()
    return '.'.join(parts)


def modules():
    return sorted((module_name(p), p) for p in PKG.rglob('*.py'))


def imports_of(name: str, path: pathlib.Path):
    """(target module, line, inside a function) for every easymae import."""
    package = name if path.name == '__init__.py' else name.rpartition('.')[0]
    tree = ast.parse(path.read_text(), str(path))
    in_function = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            in_function.update(id(n) for n in ast.walk(node) if n is not node)
    found = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split('.')[:len(package.split('.')) -
                                          node.level + 1]
                target = '.'.join(base + ([node.module] if node.module
                                          else []))
            else:
                target = node.module or ''
            # `from pkg import sub` imports the submodule pkg.sub
            subs = [f'{target}.{a.name}' for a in node.names
                    if (PKG.parent / (f'{target}.{a.name}'.replace('.', '/')
                                      + '.py')).exists()
                    or (PKG.parent / f'{target}.{a.name}'.replace(
                        '.', '/') / '__init__.py').exists()]
            targets = [target] + subs
        for target in targets:
            if target == 'easymae' or target.startswith('easymae.'):
                found.append((target, node.lineno, id(node) in in_function))
    return found


def part(name: str) -> str:
    parts = name.split('.')
    return parts[1] if len(parts) > 1 else '__init__'


def test_every_part_has_a_layer():
    unknown = sorted({part(n) for n, _ in modules()} - set(LAYER))
    assert not unknown, f'add {unknown} to LAYERS (and to the docs)'


def test_every_module_imports():
    for name, _ in modules():
        importlib.import_module(name)


def test_imports_point_down_only():
    bad = []
    for name, path in modules():
        for target, line, lazy in imports_of(name, path):
            src, dst = part(name), part(target)
            if src == dst:
                continue
            if LAYER[dst] >= LAYER[src]:
                bad.append(f'{path.relative_to(PKG.parent)}:{line} '
                           f'{"(inside a function) " if lazy else ""}'
                           f'{src} (layer {LAYER[src]}) imports {target} '
                           f'(layer {LAYER[dst]})')
    assert not bad, 'upward or sideways imports:\n' + '\n'.join(bad)


def test_no_import_cycles():
    """Module graph over every import (lazy ones included), leaving out a
    module's imports of its own enclosing packages, which Python has always
    started already. Any strongly connected set of two or more modules is a
    cycle."""
    graph = {}
    for name, path in modules():
        ancestors = {'.'.join(name.split('.')[:i])
                     for i in range(1, len(name.split('.')) + 1)}
        graph[name] = {t for t, _, _ in imports_of(name, path)
                       if t not in ancestors and t in dict(modules())}
    # Tarjan's strongly connected components
    index, low, stack, on, cycles = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on.discard(w)
                scc.append(w)
                if w == v:
                    break
            if len(scc) > 1:
                cycles.append(sorted(scc))

    for v in graph:
        if v not in index:
            visit(v)
    assert not cycles, f'import cycles: {cycles}'


@pytest.mark.parametrize('name', [
    'RUNNERS', 'LOOPS', 'HOOKS', 'DATA_SOURCES', 'TRANSFORMS', 'DATASETS',
    'MODELS', 'WEIGHT_INITIALIZERS', 'CHECKPOINT_LOADERS',
    'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS', 'METRICS'])
def test_registry_locations_hold_their_members(name):
    """Each registry imports its members' packages on first use, so a
    config can name any member without a prior import."""
    import easymae  # noqa: F401 (registers everything)
    from easymae import registry
    reg = getattr(registry, name)
    assert len(reg.module_dict), f'{name} has no members'
    for key, obj in reg.module_dict.items():
        if not obj.__module__.startswith('easymae'):
            continue  # registered by a test's plugin, earlier in the run
        assert any(obj.__module__ == loc or obj.__module__.startswith(
            loc + '.') for loc in reg._locations), \
            f'{name}: {key} lives in {obj.__module__}, outside ' \
            f'{reg._locations}'
