"""Recommendation lists: parse and match answers to the catalog (`match`), list metrics (`metrics`)."""
