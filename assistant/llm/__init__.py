"""The optional LLM path: retrieval in chromadb, LLM → SemanticQuery, guarded SQL."""
