"""The index in PostgreSQL with pgvector (`RAG_STORE=postgresql://...`), an optional
backend: its libraries are imported only when it is chosen (rag/index/backends.py).

backend.py   PostgresBackend and its writer: one transaction per change, generations
snapshot.py  PgSnapshot: reading one generation (vector and keyword search)
schema.py    migrations, and one generation's tables
"""
