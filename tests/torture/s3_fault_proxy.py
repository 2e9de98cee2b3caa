# SPDX-License-Identifier: Apache-2.0
# An HTTP/1.1 proxy between the server and an S3 store that spoils a share of the requests, the
# way stores and networks do: 503 SlowDown, a connection reset in the middle of the answer's
# body, an answer that stalls past the client's request timeout, and an answer cut short (fewer
# body bytes than its Content-Length, then FIN). Everything else is relayed byte for byte, so
# SigV4 signatures stay valid. Seeded: the same seed spoils the same request numbers.
#
# Faults can also be made permanent for tests of errors that must end a job: `forbid(key part)`
# answers 403 AccessDenied to every request whose target contains it.
import random
import socket
import socketserver
import struct
import threading
import time

FAULTS = ("slowdown", "reset", "stall", "truncate")


def read_until(sock, buffer, marker):
    while marker not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("peer closed")
        buffer += chunk
    i = buffer.index(marker) + len(marker)
    return buffer[:i], buffer[i:]


def read_exact(sock, buffer, n):
    while len(buffer) < n:
        chunk = sock.recv(min(1 << 20, n - len(buffer)) if n - len(buffer) > 0 else 65536)
        if not chunk:
            raise ConnectionError("peer closed")
        buffer += chunk
    return buffer[:n], buffer[n:]


def headers_of(head):
    lines = head.decode("latin-1").split("\r\n")
    fields = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            fields[k.strip().lower()] = v.strip()
    return lines[0], fields


def read_chunked(sock, buffer):
    """The raw bytes of a chunked body, through its last chunk and trailers."""
    out = b""
    while True:
        line, buffer = read_until(sock, buffer, b"\r\n")
        out += line
        size = int(line.split(b";")[0].strip(), 16)
        if size == 0:
            while True:
                trailer, buffer = read_until(sock, buffer, b"\r\n")
                out += trailer
                if trailer == b"\r\n":
                    return out, buffer
        data, buffer = read_exact(sock, buffer, size + 2)
        out += data


def error_answer(status, reason, code, message):
    body = (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
            f"<Message>{message}</Message></Error>").encode()
    return (f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/xml\r\nContent-Length: {len(body)}\r\n"
            f"Connection: close\r\n\r\n").encode() + body


class FaultProxy:
    def __init__(self, upstream, rate, seed, stall_s):
        self.upstream = upstream  # (host, port)
        self.rate, self.stall_s = rate, stall_s
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.requests = 0
        self.injected = {f: 0 for f in FAULTS}
        self.faulted = []  # (fault, method, target), in the order injected
        self.forbidden = []
        self.enabled = True
        # A short run must not go fault-free by chance (at 5 %, 32 requests draw none 19 % of
        # the time): with no fault yet, the request this many after enabling is faulted.
        self.first_fault_by = 8
        self.enabled_requests = 0
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                proxy.serve(self.request)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def forbid(self, part):
        with self.lock:
            self.forbidden.append(part)

    def pick(self, method, target):
        with self.lock:
            self.requests += 1
            if any(part in target for part in self.forbidden):
                return "forbidden"
            if self.enabled:
                self.enabled_requests += 1
            overdue = not self.faulted and self.enabled_requests >= self.first_fault_by
            if self.enabled and (overdue or self.rng.random() < self.rate):
                fault = self.rng.choice(FAULTS)
                self.injected[fault] += 1
                self.faulted.append((fault, method, target))
                return fault
            return None

    def serve(self, client):
        buffer = b""
        upstream = None
        try:
            while True:
                try:
                    head, buffer = read_until(client, buffer, b"\r\n\r\n")
                except ConnectionError:
                    return
                request_line, fields = headers_of(head)
                method, target = request_line.split(" ")[:2]
                length = int(fields.get("content-length", "0"))
                expects = fields.get("expect", "").lower() == "100-continue"
                fault = self.pick(method, target)
                if fault in ("slowdown", "forbidden"):
                    # Answered before the body is read (as a store may): the connection closes.
                    answer = (error_answer(503, "Slow Down", "SlowDown", "Please reduce your request rate.")
                              if fault == "slowdown" else
                              error_answer(403, "Forbidden", "AccessDenied", "Access Denied"))
                    client.sendall(answer)
                    return
                if upstream is None:
                    upstream = socket.create_connection(self.upstream)
                upstream.sendall(head)
                up_buffer = b""
                if expects and length > 0:
                    interim, up_buffer = read_until(upstream, up_buffer, b"\r\n\r\n")
                    if b" 100 " not in interim.split(b"\r\n")[0]:
                        # A final answer instead of 100 Continue: relay it, and close.
                        client.sendall(interim + self.rest_of(upstream, up_buffer, interim, method))
                        return
                    client.sendall(interim)
                body, buffer = read_exact(client, buffer, length)
                upstream.sendall(body)
                answer_head, up_buffer = read_until(upstream, up_buffer, b"\r\n\r\n")
                answer_body = self.rest_of(upstream, up_buffer, answer_head, method)
                if fault is None:
                    client.sendall(answer_head + answer_body)
                    if headers_of(answer_head)[1].get("connection", "").lower() == "close":
                        return
                    continue
                upstream.close()
                upstream = None
                if fault == "stall":
                    time.sleep(self.stall_s)
                    return
                if fault == "truncate":
                    # An answer without a body (UploadPart's) is cut in its head, or the client
                    # would have all of it and the fault would be none.
                    client.sendall(answer_head + answer_body[: len(answer_body) // 2] if answer_body
                                   else answer_head[: len(answer_head) // 2])
                    client.shutdown(socket.SHUT_WR)
                    return
                # reset: part of the answer, then RST.
                part = answer_head + answer_body[: len(answer_body) // 2] if answer_body else answer_head[:20]
                client.sendall(part)
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return
        except (ConnectionError, OSError, ValueError):
            return
        finally:
            if upstream is not None:
                upstream.close()
            client.close()

    @staticmethod
    def rest_of(upstream, up_buffer, answer_head, method):
        status_line, fields = headers_of(answer_head)
        status = int(status_line.split(" ")[1])
        if method == "HEAD" or status in (100, 204, 304):
            return b""
        if fields.get("transfer-encoding", "").lower() == "chunked":
            body, _ = read_chunked(upstream, up_buffer)
            return body
        if "content-length" in fields:
            body, _ = read_exact(upstream, up_buffer, int(fields["content-length"]))
            return body
        # Read until close.
        out = up_buffer
        while True:
            chunk = upstream.recv(65536)
            if not chunk:
                return out
            out += chunk
