"""A worker process freezes what it inherits (Django, the apps, the modules): a full garbage collection
during a push then walks only what the push made, not the whole heap (~0.1 s pauses before)."""

from __future__ import annotations

import gc

from celery.signals import worker_process_init

from regui import celery as regui_celery


def test_each_worker_process_freezes_its_inherited_objects_when_it_starts():
    receivers = [ref() for _, ref in worker_process_init.receivers]
    assert regui_celery._freeze_inherited_objects in receivers
    before = gc.get_freeze_count()
    try:
        regui_celery._freeze_inherited_objects()
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()


def test_a_full_collection_after_the_freeze_walks_only_what_came_later():
    kept = [[i] for i in range(200_000)]  # stands for a worker's inherited heap
    try:
        regui_celery._freeze_inherited_objects()
        tracked = len(gc.get_objects())
        assert tracked < len(kept), "the frozen objects are no longer among those the collector walks"
    finally:
        gc.unfreeze()
    assert len(gc.get_objects()) > len(kept)
