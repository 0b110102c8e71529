"""Retrieval in chromadb: the few catalogue entries and examples relevant to a question.

An LLM prompt must carry only what the question needs, never the whole catalogue of a large
model. The index holds metrics, dimensions, dimension values and example question → query
pairs; it lives in the cache directory, keyed by a fingerprint of the model and the data, so
it is rebuilt only when either changes. The default embedding needs no download and works for
Chinese: hashed character n-grams. An OpenAI-compatible embedding endpoint can replace it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.understand.lexicon import Lexicon, normalize
from semantic_layer.model import SemanticModel

DIMENSIONS = 512
Embedder = Callable[[Sequence[str]], list[list[float]]]


def hashed_ngrams(texts: Sequence[str]) -> list[list[float]]:
    """Offline embedding: character 1–3-grams (Chinese) and words (English), hashed, L2-normed."""
    vectors = []
    for text in texts:
        text = normalize(text)
        vector = np.zeros(DIMENSIONS, dtype=np.float32)
        grams = re.findall(r"[a-z0-9]+", text)
        chars = re.sub(r"[\sa-z0-9]", "", text)
        for n in (1, 2, 3):
            grams += [chars[i : i + n] for i in range(len(chars) - n + 1)]
        for gram in grams:
            digest = hashlib.blake2b(gram.encode(), digest_size=8).digest()
            index = int.from_bytes(digest[:4], "little") % DIMENSIONS
            sign = 1.0 if digest[4] & 1 else -1.0
            vector[index] += sign * (1.0 + 0.5 * (len(gram) - 1))
        norm = float(np.linalg.norm(vector))
        vectors.append((vector / norm if norm else vector).tolist())
    return vectors


@dataclass(frozen=True)
class Hidden:
    """What must never reach a role's prompt: its masked dimensions' members, its denied
    metrics, and member names outside its rows (`words`)."""

    dimensions: frozenset[str] = frozenset()
    metrics: frozenset[str] = frozenset()
    words: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Hit:
    kind: str  # metric | dimension | value | example
    name: str
    text: str
    payload: str  # JSON with what the prompt needs
    distance: float


class CatalogIndex:
    """A persistent chromadb collection over one model and database."""

    def __init__(self, path: Path, fingerprint: str, embed: Embedder = hashed_ngrams) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        self.embed = embed
        self.client = chromadb.PersistentClient(
            path=str(path), settings=ChromaSettings(anonymized_telemetry=False)
        )
        self.name = f"catalog-{fingerprint}"
        self.collection = self.client.get_or_create_collection(
            self.name, embedding_function=None, metadata={"hnsw:space": "cosine"}
        )

    @property
    def empty(self) -> bool:
        return self.collection.count() == 0

    def add(self, items: list[tuple[str, str, str, str, str]]) -> None:
        """Items: (id, kind, name, text to embed, payload JSON)."""
        for start in range(0, len(items), 1000):
            chunk = items[start : start + 1000]
            self.collection.upsert(
                ids=[i[0] for i in chunk],
                embeddings=self.embed([i[3] for i in chunk]),
                documents=[i[3] for i in chunk],
                metadatas=[{"kind": i[1], "name": i[2], "payload": i[4]} for i in chunk],
            )

    def search(self, question: str, kind: str, n: int) -> list[Hit]:
        count = self.collection.count()
        if not count:
            return []
        # Each name is indexed once per surface form; keep the best form of each name.
        wanted = n if kind in ("value", "example") else n * 6
        found = self.collection.query(
            query_embeddings=self.embed([question]),
            n_results=min(wanted, count),
            where={"kind": kind},
        )
        hits: dict[str, Hit] = {}
        for doc, meta, dist in zip(
            found["documents"][0], found["metadatas"][0], found["distances"][0], strict=True
        ):
            key = doc if kind in ("value", "example") else str(meta["name"])
            if key not in hits:
                hits[key] = Hit(kind, str(meta["name"]), doc, str(meta["payload"]), float(dist))
        return sorted(hits.values(), key=lambda h: h.distance)[:n]


def fingerprint(model: SemanticModel, lexicon: Lexicon, embedder_name: str) -> str:
    """Changes when the model, the dimension values or the embedding change."""
    digest = hashlib.sha256(model.model_dump_json().encode())
    digest.update(json.dumps(lexicon.values, ensure_ascii=False, sort_keys=True).encode())
    digest.update(embedder_name.encode())
    return digest.hexdigest()[:16]


def catalog_items(
    model: SemanticModel, lexicon: Lexicon, hidden: Hidden | None = None
) -> list[tuple[str, str, str, str, str]]:
    """What the index holds about the model: metrics, dimensions and their values — for a
    role, only what it may see (`hidden` leaves out masked members and denied metrics)."""
    hidden = hidden or Hidden()
    items = []
    for metric in model.metrics:
        if metric.name in hidden.metrics:
            continue
        description = (
            metric.description.zh + " / " + metric.description.en if metric.description else ""
        )
        payload = json.dumps(
            {
                "label": metric.label.zh,
                "label_en": metric.label.en,
                "definition": description,
                "unit": metric.unit,
                "balance": metric.semi_additive,
            },
            ensure_ascii=False,
        )
        # One entry per name people use (not the long definition, which would drown them out).
        forms = dict.fromkeys([metric.name, metric.label.zh, metric.label.en, *metric.synonyms])
        for index, form in enumerate(forms):
            items.append((f"metric:{metric.name}:{index}", "metric", metric.name, form, payload))
    for dim in model.dimensions:
        payload = json.dumps(
            {
                "label": dim.label.zh,
                "label_en": dim.label.en,
                "type": dim.type,
                "parent": dim.parent,
            },
            ensure_ascii=False,
        )
        forms = dict.fromkeys([dim.name, dim.label.zh, dim.label.en, *dim.synonyms])
        for index, form in enumerate(forms):
            items.append((f"dimension:{dim.name}:{index}", "dimension", dim.name, form, payload))
        if dim.name in hidden.dimensions:
            continue  # masked: not even the pseudonyms go to an LLM
        for value in lexicon.values.get(dim.name, []):
            english = dim.value_labels.get(value, "")
            synonyms = " ".join(dim.value_synonyms.get(value, []))
            items.append(
                (
                    f"value:{dim.name}:{value}",
                    "value",
                    dim.name,
                    f"{value} {english} {synonyms}",
                    json.dumps({"dimension": dim.name, "value": value}, ensure_ascii=False),
                )
            )
    return items


def example_items(examples: list[tuple[str, dict]]) -> list[tuple[str, str, str, str, str]]:
    """Question → SemanticQuery pairs, as index items."""
    items = []
    for question, query in examples:
        key = hashlib.sha1(question.encode()).hexdigest()[:16]
        items.append(
            (
                f"example:{key}",
                "example",
                "example",
                question,
                json.dumps(query, ensure_ascii=False),
            )
        )
    return items
