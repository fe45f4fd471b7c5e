"""The embedded index backend (the default, `RAG_STORE=faiss`): FAISS vectors and bm25s
keywords in versioned folders on local disk.

backend.py      FaissBackend and its writer: changes published as new versions
snapshot.py     FaissSnapshot: the read view of one ArticleStore
article_store.py ArticleStore: articles, chunks, vectors and keywords in memory, immutable
vector_index.py which FAISS index holds the vectors (exact or IVF), and searching it
versions.py     versions on disk: saved atomically, found and loaded

Every module imports the FAISS library as ``import faiss``: imports are absolute, so
that name is the library, never this package (``rag.index.faiss``).
"""
