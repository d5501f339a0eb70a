#!/usr/bin/env python
"""Download a model-zoo checkpoint or a URL once, verified, into the cache.

    python tools/download.py NAME|URL [--sha256 HEX] [--out DIR] [--offline]
                             [--timeout S] [--deadline S] [--no-verify]

Prints the local path. The cache is ``$EASYMAE_HOME`` (default under the
torch hub dir), one folder per URL (``checkpoints/<url key>/<file name>``);
``--out`` places the file in DIR instead. Zoo entries carry their own
hashes; ``--sha256`` checks a URL (a short hex is a prefix). Without a full
sha256 the file must load as a safe checkpoint before it is kept
(``--no-verify`` skips that, for files that are not checkpoints).
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from easymae.fileio.download import (  # noqa: E402
    cache_path,
    download_url,
    url_filename,
    verify_checkpoint,
)
from easymae.hub import get_entry  # noqa: E402
from easymae.hub.resolve import is_url  # noqa: E402
from easymae.hub.zoo import verified_by  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('name', help='model-zoo name or http(s) URL')
    parser.add_argument('--sha256', help='expected sha256 (or its prefix)')
    parser.add_argument('--out', help='folder to put the file in '
                        '(default: the cache, <cache>/checkpoints/<url key>)')
    parser.add_argument('--offline', action='store_true', default=None,
                        help='only look in the cache')
    parser.add_argument('--timeout', type=float, default=30.0,
                        help='seconds one network read may wait')
    parser.add_argument('--deadline', type=float, default=None,
                        help='seconds the whole download may take (default '
                        '$EASYMAE_DOWNLOAD_DEADLINE_S or 3600)')
    parser.add_argument('--retries', type=int, default=3)
    parser.add_argument('--no-verify', action='store_true',
                        help='do not require the file to load as a '
                        'checkpoint (for other kinds of files)')
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
            if not args.sha256:
                print(f'{args.name}: checked by ' +
                      ', '.join(verified_by(entry)), file=sys.stderr)
        verify = None if args.no_verify else verify_checkpoint
        error = None
        for url in urls:
            # a URL that names no file is an error, not a download
            dst = (os.path.join(args.out, url_filename(url, filename))
                   if args.out else cache_path(url, filename))
            try:
                path = download_url(url, dst, sha256=sha256, md5=md5,
                                    size=size, timeout=args.timeout,
                                    retries=args.retries,
                                    offline=args.offline, verify=verify,
                                    deadline_s=args.deadline)
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
