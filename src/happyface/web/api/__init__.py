"""The JSON API under `/api/v1` and the upload endpoint for pushed files."""
