"""The stages of a corpus run, in order: `sample` (demo input), `ingest`. Later stages add themselves here."""
