"""A scripted OpenAI-compatible chat-completions server for tests (real HTTP on 127.0.0.1).

Each request to POST /v1/chat/completions takes the next scripted behaviour (or the default one) and is
recorded (`server.requests`: the JSON bodies received). A behaviour is a `Reply`: text to answer with (or
a function of the request body returning it) and how to deliver it: a clean stream, HTTP status, a delay
before the headers, a stall mid-stream, a stream cut off without finishing, or malformed chunks.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TextFn = Callable[[dict], str]


@dataclass
class Reply:
    text: str | TextFn = "The articles don't cover this."
    mode: str = "ok"  # ok | status | delay | stall | cut (close-delimited) | reset (chunked) | malformed
    status: int = 500
    seconds: float = 0.0  # delay before headers / stall after the first chunk
    piece: int = 7  # characters per streamed chunk

    def render(self, body: dict) -> str:
        return self.text(body) if callable(self.text) else self.text


class StubServer:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.script: list[Reply] = []
        self.default = Reply()
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # /v1/models, for readiness checks
                self._json(200, {"object": "list", "data": [{"id": "scripted", "object": "model"}]})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with stub._lock:
                    stub.requests.append(body)
                    reply = stub.script.pop(0) if stub.script else stub.default
                try:
                    stub._serve(self, reply, body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _json(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # clients hanging up on purpose (timeouts, cut streams) are part of the script

        self.handler = Handler
        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> StubServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def then(self, *replies: Reply) -> StubServer:
        self.script.extend(replies)
        return self

    # ------------------------------------------------------------------ delivery

    def _serve(self, h: BaseHTTPRequestHandler, reply: Reply, body: dict) -> None:
        model = body.get("model", "scripted")
        if reply.mode == "status":
            h._json(reply.status, {"error": {"message": "scripted failure", "type": "server_error"}})
            return
        if reply.mode == "delay":
            time.sleep(reply.seconds)
        text = reply.render(body)
        if not body.get("stream"):
            h._json(200, {"id": "c1", "object": "chat.completion", "created": 0, "model": model,
                          "choices": [{"index": 0, "finish_reason": "stop",
                                       "message": {"role": "assistant", "content": text}}]})
            return
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream")
        h.send_header("Cache-Control", "no-cache")
        if reply.mode == "cut":
            h.send_header("Connection", "close")
        else:
            h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        chunked = reply.mode != "cut"

        def send(payload: str) -> None:
            data = payload.encode()
            if chunked:
                data = f"{len(data):x}\r\n".encode() + data + b"\r\n"
            h.wfile.write(data)
            h.wfile.flush()

        def event(delta: dict, finish: str | None = None) -> str:
            chunk = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": model,
                     "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            return f"data: {json.dumps(chunk)}\n\n"

        send(event({"role": "assistant", "content": ""}))
        pieces = [text[i : i + reply.piece] for i in range(0, len(text), reply.piece)]
        for i, piece in enumerate(pieces):
            if reply.mode == "malformed" and i == 1:
                send('data: {"choices": [{"delta": {"content": "oops"\n\n')
                continue
            send(event({"content": piece}))
            if reply.mode == "stall" and i == 0:
                time.sleep(reply.seconds)
            if reply.mode in ("cut", "reset") and i >= len(pieces) // 2:
                h.close_connection = True
                h.wfile.flush()
                h.connection.shutdown(socket.SHUT_RDWR)
                return
        send(event({}, "stop"))
        send("data: [DONE]\n\n")
        if chunked:
            h.wfile.write(b"0\r\n\r\n")
            h.wfile.flush()


def user_prompt(body: dict) -> str:
    return next(m["content"] for m in body["messages"] if m["role"] == "user")


def system_prompt(body: dict) -> str:
    return next((m["content"] for m in body["messages"] if m["role"] == "system"), "")


def passage_number(body: dict, needle: str) -> int:
    """The number of the first passage in the prompt whose text contains `needle`."""
    import re

    for match in re.finditer(r"<<<PASSAGE (\d+) (\w+)>>>\n(.*?)<<<END PASSAGE \1 \2>>>", user_prompt(body), re.DOTALL):
        if needle.lower() in match.group(3).lower():
            return int(match.group(1))
    raise AssertionError(f"no passage in the prompt contains {needle!r}")


def passage_count(body: dict) -> int:
    import re

    return len(re.findall(r"^<<<PASSAGE \d+ \w+>>>$", user_prompt(body), re.MULTILINE))
