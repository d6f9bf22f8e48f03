"""Mail: the SMTP and .eml-file mailers, MIME rendering, sending after the answer."""
