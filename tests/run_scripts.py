"""Run several tool scripts, one after another, each as ``__main__`` in this
one interpreter, as ``python SCRIPT ARGS`` would run it (its own
``if __name__ == '__main__'`` block, ``sys.argv``, its exit status; an
uncaught exception prints its traceback and gives status 1).

    python tests/run_scripts.py CASES.json RESULTS.json

CASES.json holds ``[[script, [arg, ...]], ...]`` (scripts relative to the
repository root); RESULTS.json gets ``[{returncode, stdout, stderr}, ...]``
in the same order. Every interpreter start costs seconds of CPU (torch,
torchvision, mmengine), so a test that walks many tools through the same
bad input pays it once here instead of once per tool.
"""
import contextlib
import io
import json
import os
import runpy
import sys
import traceback

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_script(script, args):
    out, err = io.StringIO(), io.StringIO()
    argv, path = sys.argv, list(sys.path)
    sys.argv = [script, *args]
    # as `python SCRIPT`: the script's folder first on the import path
    sys.path.insert(0, os.path.dirname(os.path.join(REPO, script)))
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                runpy.run_path(os.path.join(REPO, script),
                               run_name='__main__')
            except SystemExit as e:
                if e.code is None or isinstance(e.code, int):
                    code = e.code or 0
                else:  # sys.exit('message'): printed, status 1, as Python
                    print(e.code, file=sys.stderr)
                    code = 1
            except BaseException:
                traceback.print_exc()
                code = 1
    finally:
        sys.argv, sys.path[:] = argv, path
    return dict(returncode=code, stdout=out.getvalue(),
                stderr=err.getvalue())


def main():
    cases_file, results_file = sys.argv[1:3]
    with open(cases_file) as f:
        cases = json.load(f)
    os.chdir(REPO)
    sys.path.insert(0, REPO)
    results = [run_script(script, args) for script, args in cases]
    with open(results_file, 'w') as f:
        json.dump(results, f)


if __name__ == '__main__':
    main()
