"""Ingest, scan orchestration and the job queue.

Service functions for the API and CLI:
- ``ingest.submit_item(ItemIn) -> (Item, created)``
- ``views.get_item(id) -> ItemView``, ``views.wait_for_verdict(id, timeout)``, ``views.get_account(id) -> AccountView``
- ``worker.run_worker(stop_event, concurrency)``, ``worker.start_background_workers(n)``, ``worker.scan_now(id)``
- ``queue.claim_jobs / finish_jobs / fail_job / queue_depth``

``wakeups`` turns new work and finished scans into events (PostgreSQL LISTEN/NOTIFY across
processes), so idle workers and ``?wait=true`` requests do not poll.
"""
