"""A small OpenAI-compatible chat-completions server on loopback that replies from a script.

Tests push `Reply`s; each request takes the next one (the last one repeats) and is recorded, so a
test can read the prompt exactly as the server received it. A reply's text may hold lone
surrogates (`"\udcff"`): they are sent as the raw byte they escape, i.e. as invalid UTF-8. Run as a script to serve one fixed
reply for trying `aiqa ask` by hand: `python tests/openai_peer.py --port 8765 --reply "..."`.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    text: str = ""
    status: int = 200
    delay: float = 0.0  # seconds before anything is sent
    body: bytes | None = None  # sent verbatim instead of a well-formed reply (malformed bodies)
    pieces: int = 4  # streamed chunks the text is cut into
    stall: float = 0.0  # seconds to stop for after the first streamed chunk
    drip: float = 0.0  # seconds between streamed chunks
    endless: bool = False  # stream the text's pieces over and over until the client hangs up


class ChatServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.script: list[Reply] = []
        self.requests: list[dict] = []
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def next_reply(self) -> Reply:
        return self.script.pop(0) if len(self.script) > 1 else self.script[0]

    def start(self) -> ChatServer:
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def handle_error(self, request, client_address) -> None:
        """A client that gave up (timeout tests) closes the socket mid-reply; that is expected."""


class _Handler(BaseHTTPRequestHandler):
    server: ChatServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(request)
        reply = self.server.next_reply()
        time.sleep(reply.delay)
        if reply.body is not None:
            kind = "text/event-stream" if request.get("stream") else "application/json"
            self._send(reply.status, kind, reply.body)
        elif reply.status != 200:
            error = {"error": {"message": "scripted failure", "type": "server_error", "code": None}}
            self._send(reply.status, "application/json", json.dumps(error).encode())
        elif request.get("stream"):
            self._stream(request["model"], reply)
        else:
            body = json.dumps(_completion(request["model"], reply.text), ensure_ascii=False)
            self._send(200, "application/json", _encode(body))

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _stream(self, model: str, reply: Reply) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        size = max(1, -(-len(reply.text) // reply.pieces))
        pieces = [reply.text[i : i + size] for i in range(0, len(reply.text), size)]
        index = 0
        while index < len(pieces) or reply.endless:
            piece = pieces[index % len(pieces)]
            delta = {"role": "assistant", "content": piece} if index == 0 else {"content": piece}
            try:
                self._event(_chunk(model, delta, None))
            except OSError:  # the client gave up on an endless reply
                return
            time.sleep(reply.stall if index == 0 else reply.drip)
            index += 1
        self._event(_chunk(model, {}, "stop"))
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
        self.close_connection = True

    def _event(self, payload: dict) -> None:
        self.wfile.write(_encode(f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"))
        self.wfile.flush()


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _completion(model: str, text: str) -> dict:
    return {
        "id": "chatcmpl-peer",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }


def _chunk(model: str, delta: dict, finish_reason: str | None) -> dict:
    return {
        "id": "chatcmpl-peer",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--reply", required=True, help="the answer text every request gets")
    options = parser.parse_args()
    server = ChatServer(options.port)
    server.script.append(Reply(options.reply))
    print(f"serving {server.base_url}", flush=True)
    server.serve_forever()
