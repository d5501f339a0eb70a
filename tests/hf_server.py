"""A small Hugging Face Hub stand-in on 127.0.0.1 for the tests: the few
calls ``hf_hub_download`` and ``HfApi.create_repo`` / ``upload_folder``
make, point ``HF_ENDPOINT`` at it.

  HEAD/GET /{repo}/resolve/{rev}/{file}   a stored file, with the headers
      hf_hub_download reads (X-Repo-Commit, ETag, Content-Length); 404 with
      X-Error-Code EntryNotFound when the repository lacks the file
  POST /api/repos/create                   creates an empty repository
  POST /api/validate-yaml                  accepts a model card's header
  POST /api/models/{repo}/preupload/{rev}  every file is uploaded 'regular'
      (inline, base64 in the commit), so no LFS or Xet transfer is needed
  POST /api/models/{repo}/commit/{rev}     NDJSON commit: stores the files
  anything else 404 (and is recorded in ``unknown``)

``repos`` maps repo id -> {path: bytes}; ``requests`` records every call.
"""
import base64
import hashlib
import http.server
import json
import re
import threading
from urllib.parse import unquote, urlparse


class HfServer:
    def __init__(self, repos=None, token=None):
        self.repos = {k: dict(v) for k, v in (repos or {}).items()}
        self.token = token  # when set, writes need 'Bearer <token>'
        self.requests = []
        self.unknown = []
        self.commits = 0
        self.cards = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, *args):
                pass

            def _send(self, status, body=b'', headers=None,
                      head_only=False):
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                if not head_only:
                    self.wfile.write(body)

            def _json(self, status, obj):
                self._send(status, json.dumps(obj).encode(),
                           {'Content-Type': 'application/json'})

            def _resolve(self, head_only):
                path = unquote(urlparse(self.path).path)
                m = re.match(r'^/(?:models/)?([^/]+/[^/]+)/resolve/([^/]+)/'
                             r'(.+)$', path)
                if not m:
                    return False
                repo, rev, name = m.groups()
                files = server.repos.get(repo)
                if files is None:
                    self._send(404, b'', {'X-Error-Code': 'RepoNotFound'},
                               head_only)
                    return True
                if name not in files:
                    self._send(404, b'', {'X-Error-Code': 'EntryNotFound'},
                               head_only)
                    return True
                data = files[name]
                etag = hashlib.sha256(data).hexdigest()
                commit = hashlib.sha1(repo.encode() + rev.encode()
                                      ).hexdigest()
                self._send(200, data, {'X-Repo-Commit': commit,
                                       'ETag': f'"{etag}"',
                                       'Content-Type':
                                       'application/octet-stream'},
                           head_only)
                return True

            def do_HEAD(self):
                server.requests.append(('HEAD', self.path))
                if not self._resolve(True):
                    server.unknown.append(('HEAD', self.path))
                    self._send(404, head_only=True)

            def do_GET(self):
                server.requests.append(('GET', self.path))
                if not self._resolve(False):
                    server.unknown.append(('GET', self.path))
                    self._send(404)

            def do_POST(self):
                server.requests.append(('POST', self.path))
                length = int(self.headers.get('Content-Length') or 0)
                body = self.rfile.read(length)
                if server.token and self.headers.get('Authorization') != \
                        f'Bearer {server.token}':
                    self._json(401, {'error': 'Invalid credentials'})
                    return
                path = urlparse(self.path).path
                if path == '/api/repos/create':
                    req = json.loads(body or b'{}')
                    repo = (f"{req['organization']}/{req['name']}"
                            if req.get('organization') else req['name'])
                    if repo in server.repos:
                        self._json(409, {'error': 'already exists',
                                         'url': f'{server.endpoint}/{repo}'})
                        return
                    server.repos[repo] = {}
                    self._json(200, {'url': f'{server.endpoint}/{repo}',
                                     'name': repo})
                    return
                if path == '/api/validate-yaml':
                    # the Hub checks a model card's YAML header; record it
                    server.cards.append(json.loads(body or b'{}'))
                    self._json(200, {'errors': [], 'warnings': []})
                    return
                m = re.match(r'^/api/models/([^/]+/[^/]+)/preupload/(.+)$',
                             path)
                if m:
                    req = json.loads(body or b'{}')
                    self._json(200, {'files': [
                        {'path': f['path'], 'uploadMode': 'regular',
                         'shouldIgnore': False}
                        for f in req.get('files', [])]})
                    return
                m = re.match(r'^/api/models/([^/]+/[^/]+)/commit/(.+)$',
                             path)
                if m:
                    repo = unquote(m.group(1))
                    files = server.repos.setdefault(repo, {})
                    for line in body.splitlines():
                        item = json.loads(line)
                        if item.get('key') == 'file':
                            value = item['value']
                            files[value['path']] = base64.b64decode(
                                value['content'])
                    server.commits += 1
                    oid = hashlib.sha1(str(server.commits).encode()
                                       ).hexdigest()
                    self._json(200, {'commitUrl':
                                     f'{server.endpoint}/{repo}/commit/{oid}',
                                     'commitOid': oid,
                                     'success': True})
                    return
                server.unknown.append(('POST', self.path))
                self._json(404, {'error': 'unknown'})

        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                     Handler)
        self.httpd.daemon_threads = True
        self.endpoint = f'http://127.0.0.1:{self.httpd.server_address[1]}'
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
