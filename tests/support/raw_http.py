"""One raw HTTP/1.1 exchange on an open connection: for requests no client library sends
(broken request lines, oversized headers), read to the end."""

from __future__ import annotations

import socket


def exchange_on(connection: socket.socket, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``raw``, read the whole answer (the server closes the connection), and split it
    into status, headers and body."""
    connection.sendall(raw)
    answer = b""
    while chunk := connection.recv(65536):
        answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines)
    return int(status_line.split(" ")[1]), headers, body
