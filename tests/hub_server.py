"""A real HTTP server on 127.0.0.1 for the hub tests (started/stopped by
the tests). Paths:

  /files/NAME   the file, honouring ``Range: bytes=N-`` (206)
  /drop/NAME    first request: announces the full length, sends half, then
                drops the connection; later requests behave as /files/
  /slow/NAME    waits ``slow_s`` seconds before answering
  anything else 404
"""
import http.server
import re
import threading
import time


class HubServer:
    def __init__(self, files: dict, slow_s: float = 3.0):
        self.files = dict(files)  # name -> bytes
        self.slow_s = slow_s
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
                m = re.match(r'^/(files|drop|slow)/(.+)$', self.path)
                if not m or m.group(2) not in server.files:
                    self.send_error(404, 'Not Found')
                    return
                kind, name = m.groups()
                data = server.files[name]
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

        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                     Handler)
        self.httpd.daemon_threads = True
        self.url = f'http://127.0.0.1:{self.httpd.server_address[1]}'
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)
