"""`app.lib.remembered.Remembered`: what the dashboard renders once per process (rows, sidebar, blank forms)."""

from __future__ import annotations

from app.lib.remembered import Remembered


class Catalogue:
    """Stands for an object whose identity a key holds."""


def test_it_forgets_the_oldest_first() -> None:
    memory: Remembered[str] = Remembered(size=2)
    owner = Catalogue()

    memory.put(owner, 1, "row 1")
    memory.put(owner, 2, "row 2")
    memory.put(owner, 3, "row 3")

    assert len(memory) == 2
    assert memory.get(owner, 1) is None
    assert memory.get(owner, 2) == "row 2"
    assert memory.get(owner, 3) == "row 3"


def test_it_never_answers_for_another_owner() -> None:
    memory: Remembered[str] = Remembered(size=10)
    first, second = Catalogue(), Catalogue()
    memory.put(first, "people", "rendered from the first")

    assert memory.get(second, "people") is None
    assert memory.get(None, "people") is None
    assert memory.get(first, "people") == "rendered from the first"


def test_it_keeps_its_owner_alive_so_no_other_object_takes_its_identity() -> None:
    memory: Remembered[str] = Remembered(size=10)
    owner = Catalogue()
    identity = id(owner)
    memory.put(owner, "sidebar", "html")
    del owner

    newcomers = [Catalogue() for _ in range(1000)]

    assert all(id(newcomer) != identity for newcomer in newcomers)
