"""The contrastive trainer: the BiomedCLIP recipe on a build's WebDataset shards, on open_clip.

Modules (each imports torch only when used; none imports apache_beam):

- config      TrainConfig (every option, the recipe's defaults), model configs (model_configs/)
- reader      the build's shards, pair counts and captions (local, s3://, gs://)
- tokenizer   WordPiece vocabulary learnt from the captions, BERT config, HF tokenizer dirs
- decode      a shard sample's caption and JPEG (at the size the transform needs), or why not
- plan        how each epoch is dealt out to the loader streams (no pair twice in a batch)
- data        resumable training streams and evaluation batches, corrupt samples counted
- run         the run directory: run.json, text tower, open_clip spec
- modeling    model (open_clip), optimizer (AdamW), warmup + cosine schedule
- checkpoint  save / load / prune, RNG state, parameter digests
- distributed torchrun process groups (NCCL on GPU, gloo on CPU)
- loop        train(config) -> TrainResult
- export      RUN_DIR/export/ for plain open_clip
- evaluate    retrieval recall@k, zero-shot classification
- synthetic   a small synthetic build for tests and benchmarks

See docs/training.md.
"""
