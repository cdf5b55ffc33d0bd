"""What the tests share, imported as `helpers` (pyproject.toml puts tests/ on the path):

    paths          PROJECT_ROOT, and the real PMC fixtures in ../shared/fixtures
                   (shared_fixture() skips a test when they are absent)
    servers        loopback S3 (moto) and HTTP servers with fault injection
    sources_trees  small cloud and legacy PMC trees written byte by byte
    jats_docs      small JATS documents in the shapes the parser must handle
    jats_fixtures  the real JATS fixtures and what parse_article makes of them
    mirrors        the synthetic mirror's truth file; replacing an article's XML in a mirror
    build_checks   a finished build read back with webdataset, pyarrow and jsonschema
    report_build   the build the data card tests share
    torch_threads  a fixture that runs a test module with one torch thread
    memory_probe   a script: peak resident memory of images.process_image

No test module imports another test module: what two of them need lives here.
"""
