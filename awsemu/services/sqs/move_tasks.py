"""Message move tasks (StartMessageMoveTask & co): redrive a dead-letter queue's messages.

A task runs in its own thread and moves messages oldest first, each move one atomic write_batch
(delete from the source, put in the destination), at most ``MaxNumberOfMessagesPerSecond`` (default:
as fast as it can). Without a DestinationArn each message goes back to the queue it was dead-lettered
from (its ``DeadLetterQueueSourceArn``). Tasks are lsm records: their status and counts survive a
restart, and a task still RUNNING at start resumes.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any, Callable

from awsemu.services.sqs import keys
from awsemu.services.sqs.errors import ResourceNotFoundException, UnsupportedOperation
from awsemu.services.sqs.message_store import MessageStore, QueueState, now_ms
from awsemu.services.sqs.records import MoveTask

if TYPE_CHECKING:
    from awsemu.services.sqs.urls import QueueRef

ResolveArn = Callable[[str], QueueState | None]


def task_handle(task_id: str, source_arn: str) -> str:
    raw = json.dumps({"taskId": task_id, "sourceArn": source_arn}, separators=(",", ":"))
    return base64.b64encode(raw.encode()).decode()


def parse_handle(handle: str) -> tuple[str, str]:
    try:
        data = json.loads(base64.b64decode(handle.encode("ascii"), validate=True))
        return str(data["taskId"]), str(data["sourceArn"])
    except Exception:  # any malformed handle names no task
        raise ResourceNotFoundException("Task does not exist.") from None


class MoveTasks:
    def __init__(self, db: Any, store: MessageStore, resolve: ResolveArn) -> None:
        self.db = db
        self.store = store
        self.resolve = resolve
        self._lock = threading.Lock()
        self._cancel: dict[str, threading.Event] = {}
        self._threads: dict[str, threading.Thread] = {}
        # Running tasks as the threads update them (lsm holds a copy saved every few moves).
        self._live: dict[str, MoveTask] = {}
        self._stopping = threading.Event()

    def _key(self, source: "QueueRef", task: MoveTask) -> bytes:
        return keys.move_task(source.account, source.region, source.name, task.started_ms, task.task_id)

    def _save(self, source: "QueueRef", task: MoveTask) -> None:
        self.db.put(self._key(source, task), task.to_bytes())

    def list(self, source: "QueueRef") -> list[MoveTask]:
        start, end = keys.move_tasks_range(source.account, source.region, source.name)
        tasks = [MoveTask.from_bytes(raw) for _, raw in self.db.scan(start, end, reverse=True)]
        with self._lock:
            return [self._live.get(t.task_id, t) for t in tasks]

    def running(self, source: "QueueRef") -> MoveTask | None:
        for task in self.list(source):
            if task.status in ("RUNNING", "CANCELLING"):
                return task
        return None

    def start(self, source: "QueueRef", source_arn: str, destination_arn: str | None, rate: int | None, to_move: int) -> MoveTask:
        task_id = str(uuid.uuid4())
        task = MoveTask(
            task_id=task_id,
            task_handle=task_handle(task_id, source_arn),
            source_arn=source_arn,
            destination_arn=destination_arn,
            max_per_second=rate,
            started_ms=now_ms(),
            to_move=to_move,
        )
        self._save(source, task)
        self._launch(source, task)
        return task

    def _launch(self, source: "QueueRef", task: MoveTask) -> None:
        cancel = threading.Event()
        thread = threading.Thread(target=self._run, args=(source, task, cancel), name=f"sqs-move-{task.task_id[:8]}", daemon=True)
        with self._lock:
            self._cancel[task.task_id] = cancel
            self._threads[task.task_id] = thread
            self._live[task.task_id] = task
        thread.start()

    def cancel(self, source: "QueueRef", task_id: str) -> MoveTask:
        for task in self.list(source):
            if task.task_id == task_id:
                break
        else:
            raise ResourceNotFoundException("Task does not exist.")
        if task.status != "RUNNING":
            raise UnsupportedOperation("Only active tasks can be cancelled.")
        with self._lock:
            event = self._cancel.get(task_id)
        task.status = "CANCELLING"
        self._save(source, task)
        if event is not None:
            event.set()
        return task

    def _run(self, source: "QueueRef", task: MoveTask, cancel: threading.Event) -> None:
        try:
            self._move_all(source, task, cancel)
        except Exception as exc:  # a task that dies says why in ListMessageMoveTasks
            task.status = "FAILED"
            task.failure_reason = f"{type(exc).__name__}: {exc}"
            self._save(source, task)
        finally:
            with self._lock:
                self._cancel.pop(task.task_id, None)
                self._threads.pop(task.task_id, None)
                self._live.pop(task.task_id, None)

    def _move_all(self, source: "QueueRef", task: MoveTask, cancel: threading.Event) -> None:
        interval = 1.0 / task.max_per_second if task.max_per_second else 0.0
        source_state = self.resolve(task.source_arn)
        started = time.monotonic()
        done_in_run = 0
        while source_state is not None and not cancel.is_set() and not self._stopping.is_set():
            batch = self.store.iter_messages(source_state, 100)
            batch = [m for m in batch if m.visible_ms <= now_ms()]
            if not batch or task.moved >= task.to_move:
                break
            moved_before = task.moved
            for m in batch:
                if cancel.is_set() or self._stopping.is_set() or task.moved >= task.to_move:
                    break
                target_arn = task.destination_arn or m.dead_letter_source_arn
                target = self.resolve(target_arn) if target_arn else None
                if target is None:
                    task.status = "FAILED"
                    task.failure_reason = (
                        "Destination queue of the message does not exist."
                        if target_arn else "Message has no DeadLetterQueueSourceArn to move it back to."
                    )
                    self._save(source, task)
                    return
                if self.store.move(source_state, m, target):
                    task.moved += 1
                    done_in_run += 1
                    target.waiters.wake(1)
                    if task.moved % 20 == 0:
                        self._save(source, task)
                if interval:
                    delay = started + done_in_run * interval - time.monotonic()
                    if delay > 0 and cancel.wait(delay):
                        break
            if task.moved == moved_before and cancel.wait(0.05):
                break  # nothing movable this pass (contended locks): try again shortly
        if self._stopping.is_set() and not cancel.is_set():
            self._save(source, task)  # resumes at next start
            return
        task.status = "CANCELLED" if cancel.is_set() else "COMPLETED"
        self._save(source, task)

    def resume_all(self, ref_of: Callable[[str], "QueueRef | None"]) -> None:
        """At start: tasks that were running when the process stopped carry on."""
        start, end = keys.all_move_tasks_range()
        for _, raw in self.db.scan(start, end):
            task = MoveTask.from_bytes(raw)
            if task.status in ("RUNNING", "CANCELLING"):
                source = ref_of(task.source_arn)
                if source is None:
                    continue
                if task.status == "CANCELLING":
                    task.status = "CANCELLED"
                    self._save(source, task)
                else:
                    self._launch(source, task)

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            threads = list(self._threads.values())
        for thread in threads:
            thread.join(timeout=5)
        self._stopping.clear()

    @staticmethod
    def describe(task: MoveTask) -> dict[str, Any]:
        out: dict[str, Any] = {
            "Status": task.status,
            "SourceArn": task.source_arn,
            "ApproximateNumberOfMessagesMoved": task.moved,
            "ApproximateNumberOfMessagesToMove": task.to_move,
            "StartedTimestamp": task.started_ms,
        }
        if task.status == "RUNNING":
            out["TaskHandle"] = task.task_handle
        if task.destination_arn:
            out["DestinationArn"] = task.destination_arn
        if task.max_per_second:
            out["MaxNumberOfMessagesPerSecond"] = task.max_per_second
        if task.failure_reason:
            out["FailureReason"] = task.failure_reason
        return out
