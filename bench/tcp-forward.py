# SPDX-License-Identifier: Apache-2.0
"""A plain TCP forwarder: accepts on LISTEN_ADDR:LISTEN_PORT and connects each connection to
TO_ADDR:TO_PORT, copying both ways until either side closes. restore-bench.sh runs it in the far
namespace of a wan-link, where Ceph RGW (ceph-rgw binds everything to 127.0.0.1) is reachable
only on that namespace's loopback. Runs until killed.

Usage: python3 tcp-forward.py LISTEN_ADDR LISTEN_PORT TO_ADDR TO_PORT
"""
import socket
import sys
import threading

listen_addr, listen_port, to_addr, to_port = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])


def pump(src, dst):
    buf = bytearray(1 << 20)
    view = memoryview(buf)
    try:
        while True:
            n = src.recv_into(buf)
            if n == 0:
                break
            dst.sendall(view[:n])
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def serve(client):
    try:
        upstream = socket.create_connection((to_addr, to_port))
    except OSError:
        client.close()
        return
    for s in (client, upstream):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    t = threading.Thread(target=pump, args=(upstream, client), daemon=True)
    t.start()
    pump(client, upstream)
    t.join()
    client.close()
    upstream.close()


server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind((listen_addr, listen_port))
server.listen(256)
print(f"forwarding {listen_addr}:{listen_port} -> {to_addr}:{to_port}", flush=True)
while True:
    conn, _ = server.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
