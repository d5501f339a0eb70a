"""The one JSON line every benchmark ends with."""
import json
import os
import os.path as osp
from datetime import datetime, timezone


def emit(out: dict, json_out=None) -> dict:
    """Stamp ``out`` with the date (UTC), print it as one JSON line and,
    given a path (``--json-out``), write the same line there."""
    out['date'] = datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')
    line = json.dumps(out)
    if json_out:
        os.makedirs(osp.dirname(osp.abspath(json_out)), exist_ok=True)
        with open(json_out, 'w') as f:
            f.write(line + '\n')
    print(line)
    return out
