#!/usr/bin/env python
"""Zero-shot classification of an image-text checkpoint, from its config.

    python tools/zero_shot.py CONFIG CHECKPOINT [--work-dir D]
                              [--cfg-options k=v ...]

The config's test_dataloader names the labelled images (any classification
data source), its ZeroShotClassifierHook the prompt templates and its
test_evaluator the metric (ZeroShotAccuracy); prints top-1 / top-5. The
checkpoint is read safely and loaded strictly; a file that is unsafe or
does not fit the model is one ``error: ...`` line and exit status 1.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from easymae.apis import (DictAction, build_runner, load_config,  # noqa
                          load_model_weights, run_tool)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--work-dir', help='where the log goes')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    if not os.path.isfile(args.checkpoint):
        parser.error(f'checkpoint not found: {args.checkpoint!r}')
    cfg = load_config(args.config, args.cfg_options)
    if cfg.get('test_dataloader') is None:
        parser.error(f'{args.config} has no test_dataloader to evaluate on')
    # the whole image-text model, key for key: mmengine's tolerant
    # load_from would evaluate whatever it could not fill at random
    cfg.load_from = None
    cfg.resume = False
    runner = build_runner(cfg, work_dir=args.work_dir)
    load_model_weights(runner.model, args.checkpoint)
    metrics = runner.test()
    for key, value in metrics.items():
        print(f'{key}: {value:.2f}')
    return metrics


if __name__ == '__main__':
    sys.exit(run_tool(main))
