#!/usr/bin/env python3
"""Captures what the project's Dovecot (scripts/servers/dovecot) sends, byte for byte, for the
parser's real-world tests. Only server bytes are saved; credentials are never written.

    python3 capture.py      (with scripts/servers/dovecot running) rewrites the *.imap files here
"""
import base64, os, socket, ssl

env = dict(l.rstrip("\n").split("=", 1) for l in open("/tmp/mailgauge-dovecot/env"))
HERE = os.path.dirname(os.path.abspath(__file__))
ctx = ssl.create_default_context(cafile=env["MAILGAUGE_DOVECOT_CA_FILE"])


def pw(user):
    return open(f"{env['MAILGAUGE_DOVECOT_DIR']}/secrets/{user}.pass").read().strip()


def quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Session:
    def __init__(self, tls=True):
        port = int(env["MAILGAUGE_DOVECOT_IMAPS_PORT" if tls else "MAILGAUGE_DOVECOT_IMAP_PORT"])
        raw = socket.create_connection(("127.0.0.1", port))
        self.s = ctx.wrap_socket(raw, server_hostname="localhost") if tls else raw
        self.buf = b""
        self.out = bytearray()
        self.read_line()

    def read_line(self):
        while b"\r\n" not in self.buf:
            self.buf += self.s.recv(65536)
        line, self.buf = self.buf.split(b"\r\n", 1)
        line += b"\r\n"
        if line.rstrip().endswith(b"}") and b"{" in line:
            n = int(line[line.rindex(b"{") + 1:line.rstrip().rindex(b"}")].rstrip(b"+"))
            while len(self.buf) < n:
                self.buf += self.s.recv(65536)
            line += self.buf[:n]
            self.buf = self.buf[n:]
            line += self.read_line_raw()
        self.out += line
        return line

    def read_line_raw(self):
        out = self.out
        self.out = bytearray()
        line = self.read_line()
        self.out = out
        return line

    def cmd(self, tag, text, then=None):
        self.s.sendall(f"{tag} {text}\r\n".encode())
        while True:
            line = self.read_line()
            if line.startswith(b"+ ") and then is not None:
                self.s.sendall(then.encode() + b"\r\n")
                then = None
            if line.startswith(tag.encode() + b" "):
                return line

    def save(self, name):
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(bytes(self.out))


s = Session()
s.cmd("a1", "CAPABILITY")
s.cmd("a2", 'ID ("name" "mailgauge")')
s.cmd("a3", f"LOGIN alice {quote(pw('alice'))}")
s.cmd("a4", "CAPABILITY")
s.cmd("a5", "GETQUOTAROOT INBOX")
s.cmd("a6", 'LIST "" "*" RETURN (SPECIAL-USE STATUS (MESSAGES SIZE))')
s.cmd("a7", 'LIST "" "*"')
s.cmd("a8", 'STATUS "Sent" (MESSAGES SIZE UNSEEN UIDNEXT UIDVALIDITY RECENT HIGHESTMODSEQ)')
s.cmd("a9", "EXAMINE Drafts")
s.cmd("a10", "FETCH 1:* (RFC822.SIZE)")
s.cmd("a11", "FETCH 1:2 (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)])")
s.cmd("a12", "LOGOUT")
s.save("dovecot-2.3.19-alice-imaps.imap")

s = Session(tls=False)
s.cmd("b1", "CAPABILITY")
s.cmd("b2", "STARTTLS")
s.save("dovecot-2.3.19-starttls-plaintext-part.imap")

s = Session()
plain = base64.b64encode(b"\0carol\0" + pw("carol").encode()).decode()
s.cmd("c1", "AUTHENTICATE PLAIN", then=plain)
s.cmd("c2", "GETQUOTAROOT INBOX")
s.cmd("c3", "GETQUOTA \"User quota\"")
s.cmd("c4", "LOGOUT")
s.save("dovecot-2.3.19-carol-authenticate.imap")

s = Session()
s.cmd("d1", f"LOGIN dave {quote(pw('dave'))}")
s.cmd("d2", "GETQUOTAROOT INBOX")
s.cmd("d3", "LOGIN again")
s.cmd("d4", "STATUS nosuchfolder (MESSAGES)")
s.cmd("d5", "LOGOUT")
s.save("dovecot-2.3.19-dave-unlimited-and-errors.imap")

s = Session()
s.cmd("e1", f"LOGIN erin {quote(pw('erin'))}")
s.cmd("e2", 'LIST "" "*" RETURN (SPECIAL-USE STATUS (MESSAGES SIZE))')
s.cmd("e3", "LOGOUT")
s.save("dovecot-2.3.19-erin-200-folders.imap")

s = Session()
s.cmd("f1", "LOGIN alice wrong-password")
s.cmd("f2", "LOGOUT")
s.save("dovecot-2.3.19-failed-login.imap")
