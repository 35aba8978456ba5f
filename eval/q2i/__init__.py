"""Q2I relevance: a real CPCD music request and four catalog songs, one of them liked for that request."""
