"""Loaded networks live in the cache the codec context carries: bounded, shared by the codecs of one
context, and never a module-level object that callers resize from outside."""

from __future__ import annotations

from torch import nn

from models.base import CodecContext
from models.network_cache import NetworkCache


def test_cache_is_bounded_least_recently_used_first():
    cache = NetworkCache(capacity=2)
    loads = []

    def load(name):
        loads.append(name)
        return nn.Identity()

    a = cache.get(("a",), lambda: load("a"))
    cache.get(("b",), lambda: load("b"))
    assert cache.get(("a",), lambda: load("a")) is a  # hit, now most recent
    cache.get(("c",), lambda: load("c"))  # evicts b
    cache.get(("b",), lambda: load("b"))
    assert loads == ["a", "b", "c", "b"] and len(cache) == 2


def test_each_context_has_its_own_cache_unless_given_one():
    assert CodecContext().networks is not CodecContext().networks
    shared = NetworkCache(capacity=3)
    assert CodecContext(networks=shared).networks is shared
    assert CodecContext(networks=shared) == CodecContext()  # the cache is not part of the settings
