import socket

from tests.support.peers import HELLO
from tests.support.sockets import read_until_eof


def test_nginx_serves_hello(nginx):
    with socket.create_connection(("127.0.0.1", nginx.port), timeout=5) as sock:
        sock.sendall(b"GET /index.html HTTP/1.0\r\nHost: localhost\r\n\r\n")
        data = read_until_eof(sock)
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")
    assert data.endswith(HELLO)
