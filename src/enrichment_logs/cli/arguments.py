"""Argument types shared by subcommands: each rejects bad input with a message argparse prints."""

from __future__ import annotations

import argparse


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a whole number of at least 1")
    return int(text)


def failure_rate(text: str) -> tuple[str, float]:
    """`PROVIDER=RATE`, the share of a provider's emulated calls that fail."""
    provider, separator, rate = text.partition("=")
    try:
        value = float(rate)
    except ValueError:
        value = -1.0
    if not separator or not provider or not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r}: expected PROVIDER=RATE with RATE in 0..1")
    return provider, value
