"""OpenID Connect over HTTP: discovery, the code exchange, ID-token verification."""
