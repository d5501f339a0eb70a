"""The ``easymae`` command (and ``python -m easymae``).

    easymae train CONFIG [--work-dir D] [--amp] [--cfg-options k=v ...]
    easymae test CONFIG CHECKPOINT
    easymae main-job [--pretrain-epochs N] [--finetune-epochs N]
    easymae list-configs [PATTERN ...]
    easymae predict | export | convert | download | publish | visualize ...

Each subcommand runs the ``main(argv)`` of the tool of the same job
(``tools/train.py`` for ``train``, ...), so a checkout's ``python
tools/train.py`` and an installed ``easymae train`` are the same code. An
installed package carries the tools and configs inside it
(``easymae/.mim``, see ``easymae.resources``). CONFIG may be a path or a
config name (``mae_vit-tiny-d6-p4_1xb64-30e_digits``, or a unique part of
one), looked up in the shipped configs.
"""
import argparse
import importlib.util
import os.path as osp
import sys
from typing import List, Optional

from .resources import configs_root, list_configs, tools_root
from .version import __version__

# command -> (tool file, one-line help, its first argument is a config)
COMMANDS = {
    'train': ('train.py', 'train from a config (pretrain or finetune)',
              True),
    'test': ('test.py', "evaluate a checkpoint on a config's test split",
             True),
    'predict': ('predict.py', 'classify images or extract features', False),
    'export': ('export.py', 'export to ONNX / TorchScript', False),
    'convert': ('convert_checkpoint.py',
                'convert checkpoint keys (timm, official MAE, ...)', False),
    'download': ('download.py', 'fetch a model-zoo checkpoint or a URL',
                 False),
    'publish': ('publish_checkpoint.py',
                'release files, a timm / Hub folder, --push', False),
    'visualize': ('visualize_mae.py', 'MAE reconstruction pictures', False),
    'knn-eval': ('knn_eval.py', 'k-nearest-neighbour evaluation', True),
    'zero-shot': ('zero_shot.py', 'zero-shot classification (FLIP)', True),
    'consolidate': ('consolidate_checkpoint.py',
                    'one file from a sharded (FSDP) checkpoint', False),
    'build-vocab': ('build_vocab.py', 'train a WordPiece vocabulary', False),
    'main-job': ('main_job.py',
                 'MAE pretrain -> finetune -> top-1 on the digits', False),
}
BUILTIN = {
    'list-configs': 'list the shipped configs (optionally filtered)',
    'list-models': 'list the model zoo',
}


def load_tool(filename: str):
    """The tool module ``filename`` from the tools folder, or None."""
    path = osp.join(tools_root(), filename)
    if not osp.isfile(path):
        return None
    name = 'easymae_tools.' + osp.splitext(filename)[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look it up
    spec.loader.exec_module(module)
    return module


def _usage() -> str:
    width = max(map(len, list(COMMANDS) + list(BUILTIN)))
    lines = [f'easymae {__version__}', '',
             'usage: easymae COMMAND [ARGS ...]   (easymae COMMAND -h for '
             'its options)', '', 'commands:']
    for name, (filename, text, _) in COMMANDS.items():
        missing = '' if osp.isfile(osp.join(tools_root(), filename)) else \
            ' (not available in this installation)'
        lines.append(f'  {name:{width}}  {text}{missing}')
    for name, text in BUILTIN.items():
        lines.append(f'  {name:{width}}  {text}')
    lines += ['', f'configs: {configs_root()}']
    return '\n'.join(lines)


def _list_configs(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(
        prog='easymae list-configs',
        description='List the shipped configs whose path contains every '
        'PATTERN (or matches it as a glob).')
    parser.add_argument('patterns', nargs='*')
    parser.add_argument('--paths', action='store_true',
                        help='print full paths instead of names')
    args = parser.parse_args(argv)
    root = configs_root()
    found = list_configs(args.patterns, root)
    for rel in found:
        print(osp.join(root, rel) if args.paths else
              osp.splitext(rel)[0])
    if not found:
        print(f'no config matches {" ".join(args.patterns)!r} under {root}',
              file=sys.stderr)
        return 1
    return 0


def _list_models(argv: List[str]) -> int:
    argparse.ArgumentParser(prog='easymae list-models',
                            description=BUILTIN['list-models']
                            ).parse_args(argv)
    from .hub.zoo import list_models
    for name in list_models():
        print(name)
    return 0


def _resolve_config(args: List[str]) -> List[str]:
    """The first argument as a config file: a path, or a name looked up
    in the shipped configs."""
    if not args or args[0].startswith('-') or osp.isfile(args[0]):
        return args
    from .resources import find_config
    return [find_config(args[0], configs_root())] + args[1:]


def run(command: str, args: List[str]) -> int:
    filename, _, takes_config = COMMANDS[command]
    prog = f'easymae {command}'
    tool = load_tool(filename)
    if tool is None:
        print(f'error: `{prog}` is not available in this installation '
              f'({filename} is not in {tools_root()})', file=sys.stderr)
        return 2
    from .apis import CHECKPOINT_ERRORS
    from .resources import ConfigNameError
    argv0 = sys.argv[0]
    sys.argv[0] = prog  # argparse's usage line names the command
    try:
        if takes_config:
            args = _resolve_config(args)
        result = tool.main(args)
    except (ConfigNameError, *CHECKPOINT_ERRORS) as e:
        print(f'error: {type(e).__name__}: {e}', file=sys.stderr)
        return 1
    finally:
        sys.argv[0] = argv0
    return result if isinstance(result, int) else 0


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ('-h', '--help', 'help'):
        print(_usage())
        return 0 if argv else 2
    if argv[0] == '--version':
        print(f'easymae {__version__}')
        return 0
    command, rest = argv[0], argv[1:]
    if command == 'list-configs':
        return _list_configs(rest)
    if command == 'list-models':
        return _list_models(rest)
    if command not in COMMANDS:
        import difflib
        close = difflib.get_close_matches(command, list(COMMANDS) +
                                          list(BUILTIN), n=3)
        hint = f' (did you mean {", ".join(close)}?)' if close else ''
        print(f'error: unknown command {command!r}{hint}\n\n{_usage()}',
              file=sys.stderr)
        return 2
    return run(command, rest)
