"""A minimal SMTP server on 127.0.0.1 for tests: enough of RFC 5321 for Django's SMTP backend (EHLO,
MAIL, RCPT, DATA, RSET, NOOP, QUIT); keeps each message's recipients and text."""

from __future__ import annotations

import socketserver
import threading
from email import message_from_bytes
from email.message import Message


class SMTPReceiver:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []
        receiver = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str) -> None:
                self.wfile.write(line.encode() + b"\r\n")

            def handle(self) -> None:
                self.reply("220 127.0.0.1 test SMTP")
                rcpts: list[str] = []
                while line := self.rfile.readline():
                    cmd = line.decode(errors="replace").strip()
                    verb = cmd.split(" ", 1)[0].split(":", 1)[0].upper()
                    if verb in ("EHLO", "HELO"):
                        self.reply("250 127.0.0.1")
                    elif verb == "MAIL":
                        rcpts = []
                        self.reply("250 OK")
                    elif verb == "RCPT":
                        rcpts.append(cmd.split(":", 1)[1].strip().strip("<>"))
                        self.reply("250 OK")
                    elif verb == "DATA":
                        self.reply("354 end with <CRLF>.<CRLF>")
                        data = []
                        while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                            data.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                        receiver.messages.append((rcpts, message_from_bytes(b"".join(data))))
                        self.reply("250 OK queued")
                    elif verb in ("RSET", "NOOP"):
                        self.reply("250 OK")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:
                        self.reply("502 not implemented")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
