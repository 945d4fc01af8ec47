"""A tiny ng protocol client for tests: bencode both ways over UDP."""

import os
import socket


def bencode(value):
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes):
        return b"%d:%s" % (len(value), value)
    if isinstance(value, (list, tuple)):
        return b"l" + b"".join(bencode(v) for v in value) + b"e"
    if isinstance(value, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, v) for k, v in value.items())
        return b"d" + b"".join(bencode(k) + bencode(v) for k, v in items) + b"e"
    raise TypeError(f"cannot bencode {type(value)}")


def bdecode(data):
    def parse(i):
        c = data[i:i + 1]
        if c == b"i":
            end = data.index(b"e", i)
            return int(data[i + 1:end]), end + 1
        if c == b"l":
            i += 1
            out = []
            while data[i:i + 1] != b"e":
                item, i = parse(i)
                out.append(item)
            return out, i + 1
        if c == b"d":
            i += 1
            out = {}
            while data[i:i + 1] != b"e":
                key, i = parse(i)
                out[key], i = parse(i)
            return out, i + 1
        colon = data.index(b":", i)
        length = int(data[i:colon])
        start = colon + 1
        return data[start:start + length].decode("utf-8", "replace"), start + length

    value, end = parse(0)
    if end != len(data):
        raise ValueError("trailing bytes")
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
