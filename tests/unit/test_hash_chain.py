from __future__ import annotations

from dataclasses import replace

from records.domain.chain import GENESIS, ChainEntry, audit, next_link


def chain(n: int) -> list[ChainEntry]:
    entries: list[ChainEntry] = []
    for i in range(n):
        entries.append(next_link(entries[-1] if entries else None, f'{{"n":{i}}}'.encode()))
    return entries


def test_a_chain_links_each_entry_to_the_one_before() -> None:
    entries = chain(3)
    assert entries[0].previous_hash == GENESIS
    assert [e.previous_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]
    assert audit(entries).valid
    assert audit(entries).head == entries[-1].hash


def test_a_changed_event_is_named_by_the_audit() -> None:
    entries = chain(4)
    entries[2] = replace(entries[2], canonical_event=b'{"n":99}')
    result = audit(entries)
    assert not result.valid
    assert result.first_invalid_sequence == 3
    assert result.problem == "the stored event does not match its event_hash"


def test_a_rewritten_entry_breaks_the_link_of_the_next() -> None:
    entries = chain(4)
    forged = next_link(entries[0], b'{"n":"forged"}')
    entries[1] = forged
    result = audit(entries)
    assert result.first_invalid_sequence == 3
    assert result.problem == "previous_hash does not match the entry before"


def test_a_missing_entry_is_found() -> None:
    entries = chain(3)
    del entries[1]
    assert audit(entries).first_invalid_sequence == 3


def test_an_empty_timeline_is_valid() -> None:
    assert audit([]).valid
