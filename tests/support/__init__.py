"""Test harness pieces: private servers and signed requests."""
