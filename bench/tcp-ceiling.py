#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# What plain TCP carries as data across a link: the ceiling a transfer over it can reach.
#   tcp-ceiling.py sink HOST PORT                     discards whatever is sent to HOST:PORT
#   tcp-ceiling.py send HOST PORT STREAMS SECONDS WARMUP [CONGESTION_CONTROL]
#       sends from STREAMS connections for SECONDS and prints the payload rate, MB/s (10^6 bytes),
#       that the far side acknowledged between WARMUP and SECONDS. Acknowledged = written minus
#       what is still in the send queue (TIOCOUTQ), so bytes sitting in buffers do not count.
#       CONGESTION_CONTROL (cubic, bbr): the senders' instead of the kernel's default.
import fcntl
import socket
import struct
import sys
import termios
import threading
import time


def sink(host, port):
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((host, port))
    server.listen(64)

    def drain(conn):
        while conn.recv(1 << 20):
            pass

    while True:
        conn, _ = server.accept()
        threading.Thread(target=drain, args=(conn,), daemon=True).start()


def unacknowledged(conn):
    return struct.unpack("i", fcntl.ioctl(conn.fileno(), termios.TIOCOUTQ, b"\0" * 4))[0]


def connect(host, port, congestion_control):
    conn = socket.socket()
    if congestion_control:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, congestion_control.encode())
    conn.connect((host, port))
    return conn


def send(host, port, streams, seconds, warmup, congestion_control=None):
    conns = [connect(host, port, congestion_control) for _ in range(streams)]
    written = [0] * streams
    lock = threading.Lock()
    start = time.monotonic()
    end = start + seconds
    chunk = b"\xa5" * (256 * 1024)

    def pump(i):
        conn = conns[i]
        while time.monotonic() < end:
            n = conn.send(chunk)
            with lock:
                written[i] += n

    def acknowledged():
        with lock:
            return sum(written[i] - unacknowledged(conns[i]) for i in range(streams))

    threads = [threading.Thread(target=pump, args=(i,)) for i in range(streams)]
    for t in threads:
        t.start()
    time.sleep(warmup)
    t0, a0 = time.monotonic(), acknowledged()
    time.sleep(max(0.0, end - time.monotonic() - 0.05))
    t1, a1 = time.monotonic(), acknowledged()
    for t in threads:
        t.join()
    for conn in conns:
        conn.close()
    print(f"{(a1 - a0) / (t1 - t0) / 1e6:.3f}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "sink":
        sink(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) in (7, 8) and sys.argv[1] == "send":
        send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6]),
             sys.argv[7] if len(sys.argv) == 8 else None)
    else:
        sys.exit("usage: tcp-ceiling.py sink HOST PORT | send HOST PORT STREAMS SECONDS WARMUP [CONGESTION_CONTROL]")
