"""`Expiring` (app/lib/remembered.py): copies kept until a time, at most so many, forgotten when told."""

from __future__ import annotations

from app.lib.remembered import MISSING, Expiring


def test_it_answers_until_the_time_it_was_given() -> None:
    copies: Expiring[str, int | None] = Expiring(10)
    copies.put("acme", None, until=5.0)  # None is a value like any other ("not a member")

    assert copies.get("acme", now=4.9) is None
    assert copies.get("acme", now=5.0) is MISSING
    assert copies.get("noor", now=0.0) is MISSING


def test_it_forgets_the_oldest_first_when_full() -> None:
    copies: Expiring[str, int] = Expiring(2)
    copies.put("a", 1, until=9.0)
    copies.put("b", 2, until=9.0)
    copies.put("a", 3, until=9.0)  # put again: the newest now
    copies.put("c", 4, until=9.0)

    assert len(copies) == 2
    assert copies.get("b", now=0.0) is MISSING
    assert (copies.get("a", now=0.0), copies.get("c", now=0.0)) == (3, 4)


def test_it_counts_every_forgetting_so_a_reader_can_tell() -> None:
    copies: Expiring[tuple[str, str], str] = Expiring(10)
    copies.put(("alice", "acme"), "owner", until=9.0)
    copies.put(("alice", "noor"), "member", until=9.0)
    copies.put(("bob", "acme"), "member", until=9.0)
    seen = copies.changes

    copies.forget_where(lambda key, _role: key[0] == "alice")
    copies.forget(("nobody", "acme"))  # not remembered: still counted

    assert copies.changes == seen + 2
    assert copies.get(("alice", "acme"), now=0.0) is MISSING
    assert copies.get(("alice", "noor"), now=0.0) is MISSING
    assert copies.get(("bob", "acme"), now=0.0) == "member"
    copies.clear()
    assert len(copies) == 0
    assert copies.changes == seen + 3
