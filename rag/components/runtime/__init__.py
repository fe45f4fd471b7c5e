"""What the model adapters (embedding.py, generation.py, verifier.py in rag/components/)
run on: where the model files live (model_files.py), the threads that run model calls
(model_thread.py), memory (heap.py, model_memory.py), int8 quantization and its cache
(quantization.py, generator_cache.py), the transformers-only encoder (mean_pooling.py)
and reading answer spans out of logits (span_reading.py).

Nothing here imports an adapter: the adapters import these.
"""
