"""The bounded cache of loaded codec networks that a ``CodecContext`` carries."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from torch.nn import Module


class NetworkCache:
    """A bounded LRU of loaded networks, shared by every learned codec built on one ``CodecContext``.

    Workers benchmark many codecs x rate points; keeping every network loaded would exhaust memory,
    reloading for every task would waste time. The service sizes it from its ``CODEC_CACHE_SIZE``
    setting when it builds its context.
    """

    def __init__(self, capacity: int = 8) -> None:
        self.capacity = capacity
        self._nets: OrderedDict[tuple, Module] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple, load: Callable[[], Module]) -> Module:
        with self._lock:
            if key in self._nets:
                self._nets.move_to_end(key)
                return self._nets[key]
            net = load()
            self._nets[key] = net
            while len(self._nets) > max(1, self.capacity):
                self._nets.popitem(last=False)
            return net

    def __len__(self) -> int:
        return len(self._nets)

    def clear(self) -> None:
        with self._lock:
            self._nets.clear()
