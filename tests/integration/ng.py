"""A tiny ng protocol client for tests: bencode both ways over UDP."""

import os
import socket


def bencode(value):
    if isinstance(value, bool):
        raise TypeError("bencode has no booleans")
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, (bytes, bytearray)):
        return b"%d:%s" % (len(value), bytes(value))
    if isinstance(value, (list, tuple)):
        return b"l" + b"".join(bencode(v) for v in value) + b"e"
    if isinstance(value, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, v) for k, v in value.items())
        return b"d" + b"".join(bencode(k) + bencode(v) for k, v in items) + b"e"
    raise TypeError(f"cannot bencode {type(value).__name__}")


def bdecode(data):
    """Decodes one bencoded value; byte strings become str when they are UTF-8."""

    def parse(pos):
        if pos >= len(data):
            raise ValueError("bencode: truncated")
        lead = data[pos:pos + 1]
        if lead == b"i":
            end = data.index(b"e", pos)
            return int(data[pos + 1:end]), end + 1
        if lead in (b"l", b"d"):
            pos += 1
            items = []
            while data[pos:pos + 1] != b"e":
                if pos >= len(data):
                    raise ValueError("bencode: unterminated container")
                item, pos = parse(pos)
                items.append(item)
            if lead == b"l":
                return items, pos + 1
            return dict(zip(items[0::2], items[1::2])), pos + 1
        if lead.isdigit():
            colon = data.index(b":", pos)
            length = int(data[pos:colon])
            raw = data[colon + 1:colon + 1 + length]
            if len(raw) != length:
                raise ValueError("bencode: string past the end")
            try:
                return raw.decode(), colon + 1 + length
            except UnicodeDecodeError:
                return raw, colon + 1 + length
        raise ValueError(f"bencode: unexpected byte {lead!r} at {pos}")

    value, end = parse(0)
    if end != len(data):
        raise ValueError("bencode: trailing bytes")
    return value


class NgClient:
    def __init__(self, host="127.0.0.1", port=2223, timeout=2.0, sock=None):
        self.address = (host, port)
        self.sock = sock or socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.settimeout(timeout)
        self.counter = 0

    def request(self, command, **keys):
        self.counter += 1
        cookie = f"{os.getpid()}_{self.counter}".encode()
        body = {k.replace("_", "-"): v for k, v in keys.items()}
        body["command"] = command
        self.sock.sendto(cookie + b" " + bencode(body), self.address)
        while True:
            data, _ = self.sock.recvfrom(65536)
            got_cookie, _, payload = data.partition(b" ")
            if got_cookie == cookie:
                return bdecode(payload)

    def close(self):
        self.sock.close()
