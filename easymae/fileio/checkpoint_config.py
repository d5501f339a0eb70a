"""The run's config inside a checkpoint, as data that is never executed.

mmengine stores ``meta['cfg']`` as Python text, and reading that back with
``Config.fromstring`` executes it: a checkpoint could then run code. easymae
writes the config as a JSON string of plain values instead
(:func:`config_to_json`). Older checkpoints keep Python text; it is read
with ``ast`` and accepted only when every statement assigns a literal (or a
``dict(...)`` of literals) to a name, which is exactly what mmengine's
``pretty_text`` produces. Anything else is refused, unexecuted.
"""
import ast
import json
from typing import Any, Mapping


class CheckpointConfigError(ValueError):
    """A checkpoint's stored config is absent or unreadable."""


class UnsafeConfigError(CheckpointConfigError):
    """The config text stored in a checkpoint is more than plain data."""


def plain(value: Any) -> Any:
    """``value`` with only dict / list / str / number / bool / None left;
    anything else (a class named by a lazy config, ...) becomes its str."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def config_to_json(cfg) -> str:
    """A config (mmengine Config or dict) as a JSON string of plain data."""
    data = cfg.to_dict() if hasattr(cfg, 'to_dict') else dict(cfg)
    return json.dumps(plain(data), sort_keys=True)


def _literal(node: ast.AST, where: str) -> Any:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
            node.func.id == 'dict' and not node.args and \
            all(kw.arg is not None for kw in node.keywords):
        return {kw.arg: _literal(kw.value, where) for kw in node.keywords}
    if isinstance(node, ast.Dict):
        if any(k is None for k in node.keys):
            raise UnsafeConfigError(f'{where}: ** unpacking in a dict')
        return {_literal(k, where): _literal(v, where)
                for k, v in zip(node.keys, node.values)}
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return [_literal(v, where) for v in node.elts]
    try:  # constants, negative numbers: literal_eval runs nothing
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError):
        raise UnsafeConfigError(
            f'{where}: {ast.unparse(node)[:80]!r} is not a plain value')


def parse_config_text(text: str) -> dict:
    """Python config text -> dict, without executing it. Only statements
    ``name = <literal or dict(...) of literals>`` are accepted."""
    try:
        tree = ast.parse(text)
    except SyntaxError as e:
        raise UnsafeConfigError(f'not valid Python ({e.msg}, line '
                                f'{e.lineno})') from None
    out = {}
    for stmt in tree.body:
        where = f'line {stmt.lineno}'
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)):
            raise UnsafeConfigError(
                f'{where}: {ast.unparse(stmt)[:80]!r} is not an assignment '
                'of a plain value')
        out[stmt.targets[0].id] = _literal(stmt.value, where)
    return out


def read_checkpoint_config(meta: Any, source: str = 'checkpoint') -> dict:
    """The config stored in a checkpoint's ``meta['cfg']``, as a dict.

    Raises :class:`CheckpointConfigError` when there is none and
    :class:`UnsafeConfigError` when its text is more than plain data (both
    naming ``source``)."""
    text = meta.get('cfg') if isinstance(meta, dict) else None
    if text is None:
        raise CheckpointConfigError(
            f'{source} stores no config (meta["cfg"]); pass the config '
            'file explicitly (--config)')
    if isinstance(text, dict):
        return plain(text)
    if not isinstance(text, str):
        raise UnsafeConfigError(
            f'{source}: meta["cfg"] is a {type(text).__name__}, not text')
    if text.lstrip().startswith('{'):
        try:
            data = json.loads(text)
        except ValueError as e:
            raise UnsafeConfigError(
                f'{source}: meta["cfg"] is not valid JSON ({e})') from None
        if not isinstance(data, dict):
            raise UnsafeConfigError(f'{source}: meta["cfg"] is not a dict')
        return data
    try:
        return parse_config_text(text)
    except UnsafeConfigError as e:
        raise UnsafeConfigError(
            f'{source}: the config stored in the checkpoint (meta["cfg"]) '
            f'is Python code, not plain data ({e}); it was not executed. '
            'Pass the config file explicitly (--config)') from None
