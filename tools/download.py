#!/usr/bin/env python
"""Download a model-zoo checkpoint or a URL once, verified, into the cache.

    python tools/download.py NAME|URL [--sha256 HEX] [--out DIR] [--offline]

Prints the local path. The cache is ``$EASYMAE_HOME`` (default under the
torch hub dir); ``--out`` places the file elsewhere. Zoo entries carry their
own hashes; ``--sha256`` checks a URL (a short hex is a prefix).
"""
import argparse
import os
import sys
from urllib.parse import urlparse

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from easymae.hub import download_url, get_cache_dir, get_entry  # noqa: E402
from easymae.hub.resolve import is_url  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('name', help='model-zoo name or http(s) URL')
    parser.add_argument('--sha256', help='expected sha256 (or its prefix)')
    parser.add_argument('--out', help='folder to put the file in '
                        '(default: <cache>/checkpoints)')
    parser.add_argument('--offline', action='store_true', default=None,
                        help='only look in the cache')
    parser.add_argument('--timeout', type=float, default=30.0)
    parser.add_argument('--retries', type=int, default=3)
    args = parser.parse_args(argv)
    try:
        if is_url(args.name):
            urls, sha256, md5, size = [args.name], args.sha256, None, None
            filename = None
        else:
            entry = get_entry(args.name)
            urls, filename = entry['urls'], entry.get('filename')
            sha256 = args.sha256 or entry.get('sha256') or None
            md5, size = entry.get('md5') or None, entry.get('size')
        folder = args.out or os.path.join(get_cache_dir(), 'checkpoints')
        error = None
        for url in urls:
            dst = os.path.join(folder, filename or
                               os.path.basename(urlparse(url).path))
            try:
                path = download_url(url, dst, sha256=sha256, md5=md5,
                                    size=size, timeout=args.timeout,
                                    retries=args.retries,
                                    offline=args.offline)
                break
            except Exception as e:  # next mirror
                error = e
        else:
            raise error
    except Exception as e:
        print(f'error: {type(e).__name__}: {e}', file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == '__main__':
    sys.exit(main())
