"""Understanding questions: offline rules (and, when configured, an LLM) → SemanticQuery."""
