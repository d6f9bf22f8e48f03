"""Blob storage and content sniffing of attachments (file system; ``filetype``)."""
