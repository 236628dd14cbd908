"""Test harnesses shipped with the package: a scripted OpenAI-compatible server, virtual audio."""
