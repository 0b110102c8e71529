"""The real OpenAI client against a local OpenAI-compatible server (the endpoint is the fake)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from typer.testing import CliRunner

from assistant import Assistant
from assistant.settings import Settings
from semantic_layer.engine import DuckDBEngine
from semantic_layer.loader import load_model

REPLY = json.dumps(
    {
        "metrics": ["revenue"],
        "filters": [{"dimension": "region", "op": "=", "values": ["华南"]}],
        "time_range": {"start": "2025-01-01", "end": "2026-01-01", "label": "今年"},
    }
)


class Endpoint(BaseHTTPRequestHandler):
    """Answers /v1/chat/completions like an OpenAI-compatible server (vLLM, Ollama…)."""

    requests: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Endpoint.requests.append(body)
        payload = {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": REPLY},
                }
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def endpoint():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Endpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Endpoint.requests = []
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_openai_compatible_endpoint_answers_what_rules_cannot(demo_db, tmp_path, endpoint):
    settings = Settings(
        cache_dir=tmp_path / "cache",
        llm_model="local-model",
        openai_base_url=endpoint,
        openai_api_key="sk-local",
        llm_timeout=10,
    )
    assistant = Assistant(load_model(), DuckDBEngine(demo_db), settings=settings)
    answer = assistant.ask("深圳的收入")
    assert answer.status == "ok" and answer.path == "llm"
    assert Endpoint.requests[0]["model"] == "local-model"
    prompt = Endpoint.requests[0]["messages"][0]["content"]
    assert "深圳的收入" in prompt and len(prompt) < 8000  # retrieved context, not the catalogue
    assert (tmp_path / "cache" / "chroma").exists()


def test_doctor_pings_the_endpoint(demo_db, tmp_path, endpoint, monkeypatch):
    from assistant.cli import app

    monkeypatch.setenv("COCKPIT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COCKPIT_LLM_MODEL", "local-model")
    monkeypatch.setenv("OPENAI_BASE_URL", endpoint)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local")
    result = CliRunner().invoke(app, ["doctor", "--db", str(demo_db)])
    assert result.exit_code == 0, result.output
    assert "local-model" in result.output and "reachable" in result.output
