"""Instrumentation: what turns client calls to the providers into tool calls, unchanged code."""
