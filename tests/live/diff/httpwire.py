"""HTTP/1.x framing on a blocking socket, for the differential test's clients and server.

Wire(sock) buffers what it reads from sock. head() returns the next head (and keeps its raw
bytes in last_head, for the test's own record of what went over the wire), body() reads a body
framed by Content-Length or chunked encoding, rest() reads until the peer closes. Every read
honours the socket's timeout; a peer that closes inside a message raises Closed.
"""


class Closed(Exception):
    """The peer closed the connection inside a message."""


class Wire:
    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()
        self.last_head = b""

    def _fill(self):
        data = self.sock.recv(262144)
        self.buf += data
        return bool(data)

    def _take(self, n):
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def _until(self, mark):
        """The bytes before mark (consumed with it); None at EOF before any byte."""
        start = 0
        while True:
            end = self.buf.find(mark, start)
            if end >= 0:
                out = self._take(end)
                del self.buf[:len(mark)]
                return out
            start = max(0, len(self.buf) - len(mark) + 1)
            if not self._fill():
                if self.buf:
                    raise Closed(f"EOF in a message ({len(self.buf)} bytes pending)")
                return None

    def has_head(self):
        """True when a whole head is already buffered (a pipelined request waits)."""
        return b"\r\n\r\n" in self.buf

    def head(self):
        """(start line, {lower-case field name: value}) of the next head; None at a clean EOF."""
        raw = self._until(b"\r\n\r\n")
        if raw is None:
            return None
        self.last_head = raw + b"\r\n\r\n"
        lines = raw.decode("latin-1").split("\r\n")
        fields = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        return lines[0], fields

    def exact(self, n):
        while len(self.buf) < n:
            if not self._fill():
                raise Closed(f"EOF after {len(self.buf)} of {n} body bytes")
        return self._take(n)

    def _line(self):
        line = self._until(b"\r\n")
        if line is None:
            raise Closed("EOF in a chunked body")
        return line

    def chunked(self):
        """A chunked body's data; chunk extensions and trailers are read and dropped."""
        data = b""
        while True:
            size = int(self._line().split(b";")[0].strip(), 16)
            if size == 0:
                break
            data += self.exact(size)
            self.exact(2)
        while self._line():
            pass
        return data

    def body(self, fields):
        """A body framed by the fields; b"" when they frame none (a request without one)."""
        if "chunked" in fields.get("transfer-encoding", "").lower():
            return self.chunked()
        return self.exact(int(fields.get("content-length", "0")))

    def rest(self):
        """Everything until the peer closes (a close-delimited body)."""
        while self._fill():
            pass
        return self._take(len(self.buf))
