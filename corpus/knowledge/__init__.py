"""Structured music data to training text: metadata templating (stage 1, objective knowledge),
subjective-knowledge rendering (stage 2: comments joined to items, playlists, item relations) and
entity linking of documents to the catalog."""
