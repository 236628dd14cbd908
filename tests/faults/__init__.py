"""Fault-injection and bad-input suite: crashes, full disks, damaged sessions, odd audio, failing
devices and model servers, concurrent writers, fuzzed loaders and leaked secrets.

Runs with the rest of the tests (``pytest``) or alone (``python -m tests.faults``); either way it
prints a table per fault class: injected, survived, and recorded answers lost (must be 0).
"""
