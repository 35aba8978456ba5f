"""The user-query pool of query-to-item synthesis: queries generated per song from its metadata and real requests,
embedded (WordLlama or TF-IDF/SVD) and clustered into intents."""
