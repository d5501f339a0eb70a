"""A real HTTP server on 127.0.0.1 for the hub tests (started/stopped by
the tests). Paths:

  /files/NAME   the file, honouring ``Range: bytes=N-`` (206)
  /drop/NAME    first request: announces the full length, sends half, then
                drops the connection; later requests behave as /files/
  /slow/NAME    waits ``slow_s`` seconds before answering
  /nolength/NAME  no Content-Length, half the file, then closes: a body cut
                short that HTTP alone cannot tell from a complete one
  /html/NAME    an HTML error page with status 200 (as some proxies and
                file hosts send)
  /badrange/NAME  answers a ``Range`` request with 206 from the wrong
                offset (``Content-Range: bytes 0-...``); plain requests 200
  /endless/NAME   no Content-Length, the file's bytes over and over until
                the client goes away
  /trickle/NAME   announces the full length, then sends ``trickle_bytes``
                bytes every ``trickle_s`` seconds
  anything else 404
"""
import http.server
import re
import threading
import time


class HubServer:
    HTML = (b'<!DOCTYPE html><html><head><title>Error</title></head>'
            b'<body>Quota exceeded, try again later</body></html>')

    def __init__(self, files: dict, slow_s: float = 3.0,
                 trickle_s: float = 0.2, trickle_bytes: int = 64):
        self.files = dict(files)  # name -> bytes
        self.slow_s = slow_s
        self.trickle_s, self.trickle_bytes = trickle_s, trickle_bytes
        self.stopping = threading.Event()
        self.requests = []  # (path, Range header or None)
        self.dropped = set()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, *args):
                pass

            def do_GET(self):
                server.requests.append((self.path,
                                        self.headers.get('Range')))
                m = re.match(r'^/(files|drop|slow|nolength|html|badrange|'
                             r'endless|trickle)/(.+)$', self.path)
                if not m or m.group(2) not in server.files:
                    self.send_error(404, 'Not Found')
                    return
                kind, name = m.groups()
                data = server.files[name]
                try:
                    if kind in ('nolength', 'html', 'badrange', 'endless',
                                'trickle'):
                        getattr(self, 'send_' + kind)(data)
                        return
                except (BrokenPipeError, ConnectionResetError):
                    return
                if kind == 'slow':
                    time.sleep(server.slow_s)
                if kind == 'drop' and name not in server.dropped:
                    server.dropped.add(name)
                    self.send_response(200)
                    self.send_header('Content-Length', str(len(data)))
                    self.end_headers()
                    self.wfile.write(data[:len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                start = 0
                rng = self.headers.get('Range')
                if rng:
                    start = int(re.match(r'bytes=(\d+)-', rng).group(1))
                    self.send_response(206)
                    self.send_header(
                        'Content-Range',
                        f'bytes {start}-{len(data) - 1}/{len(data)}')
                else:
                    self.send_response(200)
                self.send_header('Content-Length', str(len(data) - start))
                self.end_headers()
                try:
                    self.wfile.write(data[start:])
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def send_nolength(self, data):
                self.send_response(200)
                self.send_header('Connection', 'close')
                self.end_headers()
                self.wfile.write(data[:len(data) // 2])
                self.close_connection = True

            def send_html(self, data):
                self.send_response(200)
                self.send_header('Content-Type', 'text/html')
                self.send_header('Content-Length', str(len(server.HTML)))
                self.end_headers()
                self.wfile.write(server.HTML)

            def send_badrange(self, data):
                if self.headers.get('Range'):
                    self.send_response(206)
                    self.send_header('Content-Range',
                                     f'bytes 0-{len(data) - 1}/{len(data)}')
                else:
                    self.send_response(200)
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def send_endless(self, data):
                self.send_response(200)
                self.send_header('Connection', 'close')
                self.end_headers()
                self.close_connection = True
                while not server.stopping.is_set():
                    self.wfile.write(data)

            def send_trickle(self, data):
                self.send_response(200)
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                step = server.trickle_bytes
                for i in range(0, len(data), step):
                    if server.stopping.wait(server.trickle_s):
                        break
                    self.wfile.write(data[i:i + step])
                    self.wfile.flush()
                self.close_connection = True

        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                     Handler)
        self.httpd.daemon_threads = True
        self.url = f'http://127.0.0.1:{self.httpd.server_address[1]}'
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def count(self, path: str) -> int:
        """How many requests asked for ``path``."""
        return sum(1 for p, _ in self.requests if p == path)

    def __exit__(self, *exc):
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)
