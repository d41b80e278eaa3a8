"""radio.data.segment_map: the in-memory segment -> episode map stays true as segments change."""

import numpy as np

from radio.data.segment_map import int_list, segment_map


def add_segments(db, episode_id, n, first_idx=0):
    db["segments"].insert_all(
        {"episode_id": episode_id, "idx": first_idx + i, "start": i, "end": i + 1, "text": "x"}
        for i in range(n)
    )


def episodes_in_db(db):
    rows = db.execute("select id, episode_id from segments order by id").fetchall()
    return {r[0]: r[1] for r in rows}


def check(db):
    smap = segment_map(db)
    truth = episodes_in_db(db)
    ids = np.array(list(truth), dtype=np.int64)
    assert smap.episodes_of(ids).tolist() == list(truth.values())
    return smap


def make_episodes(db, n):
    for i in range(n):
        db["episodes"].insert({"guid": f"g{i}", "title": f"E{i}", "source_sha256": f"s{i}"})


def test_new_segments_are_added_to_the_map(db):
    make_episodes(db, 2)
    add_segments(db, 1, 3)
    first = check(db)
    add_segments(db, 2, 4)
    second = check(db)
    assert second.deletions == first.deletions
    assert len(second.ids) == 7 and second.lengths()[1:].tolist() == [3, 4]


def test_a_deletion_freeing_ids_for_another_episode_is_seen(db):
    make_episodes(db, 3)
    add_segments(db, 1, 2)
    add_segments(db, 2, 3)
    assert check(db).episodes_of(np.array([3, 4, 5])).tolist() == [2, 2, 2]
    db.execute("delete from segments where episode_id = 2")
    add_segments(db, 3, 3)  # SQLite gives the freed ids 3-5 to episode 3
    assert check(db).episodes_of(np.array([3, 4, 5])).tolist() == [3, 3, 3]


def test_unknown_ids_and_an_empty_archive(db):
    assert segment_map(db).episodes_of(np.array([1, 2])).tolist() == [-1, -1]
    make_episodes(db, 1)
    add_segments(db, 1, 2)
    assert segment_map(db).episodes_of(np.array([0, 2, 99])).tolist() == [-1, 1, -1]


def test_int_list_parses_group_concat_output():
    assert int_list("3,10,200").tolist() == [3, 10, 200]
    assert int_list(None).tolist() == [] and int_list("").tolist() == []
