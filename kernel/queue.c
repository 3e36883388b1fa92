// SPDX-License-Identifier: GPL-2.0
/*
 * queue.c - submission and completion queue rings, doorbells, the per-queue
 * workers and queue teardown.
 *
 * Every SQ has its own work item on an unbound workqueue, so queues are
 * served in parallel.  A command is copied out of the guest's ring before it
 * is looked at (the guest may rewrite the ring at any time), runs, and ends
 * in vnvme_req_complete(), which may be called from any context: the CQ's
 * work item then copies read data to the guest and posts the CQE.
 */
#include <linux/delay.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sizes.h>

#include "vnvme.h"

/* Commands one SQ work item handles before yielding to other queues. */
#define VNVME_SQ_BUDGET	128
/*
 * Commands a doorbell write fetches itself when its queue is idle: that saves
 * waking the worker, which dominates latency at low queue depth, while the
 * bound limits the time the writer (a vCPU thread under QEMU) spends here.
 */
#define VNVME_SQ_INLINE_BUDGET	16
/* Read data a fetcher copies to the guest itself when posting its own completion. */
#define VNVME_OWN_POST_MAX_COPY	SZ_16K

static struct lock_class_key vnvme_admin_fetch_class;
static struct lock_class_key vnvme_io_fetch_class;

static void vnvme_sq_work(struct work_struct *work);
static void vnvme_cq_work(struct work_struct *work);
static void vnvme_sq_fetch_locked(struct vnvme_sq *sq, unsigned int budget);
static void vnvme_cq_drain_locked(struct vnvme_cq *cq);

int vnvme_cq_create(struct vnvme_ctrl *ctrl, u16 qid, u64 iova, u16 size,
		    u16 vector, bool irq_enabled)
{
	struct vnvme_cq *cq;
	int ret;

	cq = kzalloc(sizeof(*cq), GFP_KERNEL);
	if (!cq)
		return -ENOMEM;
	cq->ctrl = ctrl;
	cq->qid = qid;
	cq->size = size;
	cq->vector = vector;
	cq->irq_enabled = irq_enabled;
	cq->phase = 1;
	INIT_LIST_HEAD(&cq->overflow);
	init_llist_head(&cq->done);
	INIT_WORK(&cq->work, vnvme_cq_work);
	mutex_init(&cq->drain_lock);
	vnvme_cq_irq_init(cq);

	ret = vnvme_ring_setup(ctrl, &cq->ring, iova,
			       (size_t)size * sizeof(struct vnvme_cqe));
	if (ret) {
		kfree(cq);
		return ret;
	}

	mutex_lock(&ctrl->queue_lock);
	WRITE_ONCE(ctrl->db[2 * qid + 1], 0);
	rcu_assign_pointer(ctrl->cqs[qid], cq);
	mutex_unlock(&ctrl->queue_lock);
	return 0;
}

/*
 * The request pool.  An SQ never has more commands in flight than entries
 * (vnvme_sq_fetch() stops at sq->size), so it gets that many requests when
 * it is created and no command allocates one.  Requests are taken only by
 * the SQ's fetcher, under fetch_lock, and given back by retirement, which
 * runs wherever a completion is drained (the CQ's work item, or a fetcher
 * posting its own, possibly another SQ's sharing the CQ).  So the free list
 * is an llist: retirement pushes with llist_add(), lock-free from any context
 * and any number of producers, and the one fetcher takes the whole list
 * with llist_del_all() when its private list (free_cache) runs dry, then
 * pops from that without atomics.  A bitmap would need an atomic per take
 * and a search; a spinlock would bring back the contention the pool removes.
 *
 * A request goes back where it used to be freed: in vnvme_req_retire(),
 * after its completion was posted or dropped and before sq->inflight drops.
 * Whoever may still reference a command holds it in flight, so reuse is no
 * earlier than the kfree() was, and the pool outlives every request: SQ
 * deletion frees it only once inflight is zero and the worker is cancelled.
 */
static int vnvme_sq_alloc_reqs(struct vnvme_sq *sq)
{
	unsigned int i;

	sq->reqs = kvcalloc(sq->size, sizeof(*sq->reqs), GFP_KERNEL);
	if (!sq->reqs)
		return -ENOMEM;
	init_llist_head(&sq->free_reqs);
	sq->free_cache = NULL;
	for (i = sq->size; i--; ) {
		sq->reqs[i].done_node.next = sq->free_cache;
		sq->free_cache = &sq->reqs[i].done_node;
	}
	return 0;
}

/*
 * A request for the next command, cleared, or NULL if the pool is empty.
 * It cannot be while fewer than sq->size commands are in flight (retirement
 * gives the request back before it drops the count, both fully ordered), but
 * if it were the fetcher stops: the retirement that frees one kicks it.
 */
static struct vnvme_req *vnvme_sq_get_req(struct vnvme_sq *sq)
{
	struct llist_node *node;
	struct vnvme_req *req;

	lockdep_assert_held(&sq->fetch_lock);
	node = sq->free_cache;
	if (!node)
		node = llist_del_all(&sq->free_reqs);
	if (!node)
		return NULL;
	sq->free_cache = node->next;
	req = llist_entry(node, struct vnvme_req, done_node);
	memset(req, 0, sizeof(*req));
	req->sq = sq;
	return req;
}

/* A request the fetcher took but did not start. */
static void vnvme_sq_unget_req(struct vnvme_sq *sq, struct vnvme_req *req)
{
	lockdep_assert_held(&sq->fetch_lock);
	req->done_node.next = sq->free_cache;
	sq->free_cache = &req->done_node;
}

static void vnvme_sq_free(struct vnvme_sq *sq)
{
	mutex_destroy(&sq->fetch_lock);
	kvfree(sq->reqs);
	kfree(sq);
}

int vnvme_sq_create(struct vnvme_ctrl *ctrl, u16 qid, u64 iova, u16 size,
		    u16 cqid)
{
	struct vnvme_sq *sq;
	struct vnvme_cq *cq;
	int ret;

	sq = kzalloc(sizeof(*sq), GFP_KERNEL);
	if (!sq)
		return -ENOMEM;
	sq->ctrl = ctrl;
	sq->qid = qid;
	sq->size = size;
	atomic_set(&sq->inflight, 0);
	spin_lock_init(&sq->abort_lock);
	/*
	 * The admin worker deletes I/O SQs: it cancels their work and takes
	 * their fetch_lock while it runs as the admin SQ's work holding the
	 * admin fetch_lock.  Distinct lockdep classes for the two kinds keep
	 * that from reading as recursion, and let lockdep see the order.
	 * (INIT_WORK has a class per call site.)
	 */
	mutex_init(&sq->fetch_lock);
	if (qid) {
		INIT_WORK(&sq->work, vnvme_sq_work);
		lockdep_set_class(&sq->fetch_lock, &vnvme_io_fetch_class);
	} else {
		INIT_WORK(&sq->work, vnvme_sq_work);
		lockdep_set_class(&sq->fetch_lock, &vnvme_admin_fetch_class);
	}
	ret = vnvme_sq_alloc_reqs(sq);
	if (ret) {
		vnvme_sq_free(sq);
		return ret;
	}

	ret = vnvme_ring_setup(ctrl, &sq->ring, iova,
			       (size_t)size * sizeof(struct vnvme_sqe));
	if (ret) {
		vnvme_sq_free(sq);
		return ret;
	}

	mutex_lock(&ctrl->queue_lock);
	cq = vnvme_cq_locked(ctrl, cqid);
	if (!cq) {
		mutex_unlock(&ctrl->queue_lock);
		vnvme_ring_teardown(ctrl, &sq->ring);
		vnvme_sq_free(sq);
		return -ENOENT;
	}
	sq->cq = cq;
	cq->nr_sqs++;
	WRITE_ONCE(ctrl->db[2 * qid], 0);
	rcu_assign_pointer(ctrl->sqs[qid], sq);
	mutex_unlock(&ctrl->queue_lock);
	return 0;
}

/*
 * Waits for a doorbell write that is fetching from an I/O SQ inline.  Those
 * find the queue under RCU and take fetch_lock before leaving it, so once the
 * queue is unpublished and an RCU grace period has passed, this is the last
 * one.  The admin SQ is never fetched inline, and its worker is waited for
 * with cancel_work_sync().
 */
static void vnvme_sq_wait_inline(struct vnvme_sq *sq)
{
	if (!sq->qid)
		return;
	mutex_lock(&sq->fetch_lock);
	mutex_unlock(&sq->fetch_lock);
}

/* Waits for both fetchers of an SQ, its worker and an inline doorbell write. */
static void vnvme_sq_wait_fetchers(struct vnvme_sq *sq)
{
	flush_work(&sq->work);
	vnvme_sq_wait_inline(sq);
}

/*
 * Deletes an SQ.  Commands already fetched run to completion and are posted
 * (or dropped if the CQ stays full); nothing new is fetched.  The caller
 * holds queue_lock, except for the admin SQ (see vnvme_queues_delete_all()).
 */
static void vnvme_sq_destroy(struct vnvme_ctrl *ctrl, struct vnvme_sq *sq)
{
	RCU_INIT_POINTER(ctrl->sqs[sq->qid], NULL);
	/* After this no doorbell or kick can find the queue. */
	synchronize_rcu();
	WRITE_ONCE(sq->stopping, true);
	WRITE_ONCE(sq->dropping, true);
	/*
	 * A fetch that saw stopping clear may not have counted its command
	 * yet: let it finish before counting what is in flight.
	 */
	cancel_work_sync(&sq->work);
	vnvme_sq_wait_inline(sq);
	queue_work(ctrl->wq, &sq->cq->work);
	wait_event(ctrl->idle_wait, atomic_read(&sq->inflight) == 0);
	/* A retiring command may have queued the work again. */
	cancel_work_sync(&sq->work);
	sq->cq->nr_sqs--;
	vnvme_ring_teardown(ctrl, &sq->ring);
	/* Every request is back: none is in flight, and no fetcher is left. */
	vnvme_sq_free(sq);
}

void vnvme_sq_delete(struct vnvme_ctrl *ctrl, u16 qid)
{
	struct vnvme_sq *sq;

	lockdep_assert_held(&ctrl->queue_lock);
	sq = vnvme_sq_locked(ctrl, qid);
	if (sq)
		vnvme_sq_destroy(ctrl, sq);
}

static void vnvme_cq_destroy(struct vnvme_ctrl *ctrl, struct vnvme_cq *cq)
{
	lockdep_assert_held(&ctrl->queue_lock);

	RCU_INIT_POINTER(ctrl->cqs[cq->qid], NULL);
	synchronize_rcu();
	cancel_work_sync(&cq->work);
	vnvme_cq_irq_stop(cq);
	/*
	 * No SQ is left, and each SQ's deletion waited until all its requests
	 * had retired, so nothing can be waiting here.  A request that were
	 * would belong to a freed SQ's pool: there is nothing left to free.
	 */
	WARN_ON_ONCE(!list_empty(&cq->overflow) || !llist_empty(&cq->done));
	vnvme_ring_teardown(ctrl, &cq->ring);
	mutex_destroy(&cq->drain_lock);
	kfree(cq);
}

void vnvme_cq_delete(struct vnvme_ctrl *ctrl, u16 qid)
{
	struct vnvme_cq *cq;

	lockdep_assert_held(&ctrl->queue_lock);
	cq = vnvme_cq_locked(ctrl, qid);
	if (cq)
		vnvme_cq_destroy(ctrl, cq);
}

/*
 * Controller reset: stop every worker, let in-flight commands finish without
 * posting anything, then free all queues and unpin their rings.  The admin
 * worker never takes ctrl->lock, so waiting for it here is safe.
 */
void vnvme_queues_delete_all(struct vnvme_ctrl *ctrl)
{
	struct vnvme_sq *sq;
	struct vnvme_cq *cq;
	int qid;

	lockdep_assert_held(&ctrl->lock);

	mutex_lock(&ctrl->queue_lock);
	for (qid = 0; qid < VNVME_MAX_QUEUES; qid++) {
		sq = rcu_dereference_protected(ctrl->sqs[qid], 1);
		if (sq)
			WRITE_ONCE(sq->stopping, true);
		cq = rcu_dereference_protected(ctrl->cqs[qid], 1);
		if (cq)
			WRITE_ONCE(cq->discard, true);
	}
	mutex_unlock(&ctrl->queue_lock);

	/* Outside queue_lock: an admin command may be waiting for it. */
	for (qid = 0; qid < VNVME_MAX_QUEUES; qid++) {
		sq = rcu_dereference_protected(ctrl->sqs[qid], 1);
		if (sq)
			cancel_work_sync(&sq->work);
	}
	vnvme_admin_reset(ctrl);

	mutex_lock(&ctrl->queue_lock);
	for (qid = VNVME_MAX_QUEUES - 1; qid > 0; qid--)
		vnvme_sq_delete(ctrl, qid);
	mutex_unlock(&ctrl->queue_lock);
	/*
	 * The admin SQ's worker takes queue_lock (Create and Delete commands),
	 * so its work is waited for without queue_lock held, as lockdep
	 * rightly insists.  Nothing else changes the queue tables meanwhile:
	 * ctrl->lock is held and the admin worker is stopped.
	 */
	sq = rcu_dereference_protected(ctrl->sqs[0],
				       lockdep_is_held(&ctrl->lock));
	if (sq)
		vnvme_sq_destroy(ctrl, sq);
	mutex_lock(&ctrl->queue_lock);
	for (qid = VNVME_MAX_QUEUES - 1; qid >= 0; qid--)
		vnvme_cq_delete(ctrl, qid);
	mutex_unlock(&ctrl->queue_lock);
	vnvme_dbbuf_release(ctrl);
}

/*
 * Shutdown: wait (bounded) until the fetched commands have completed and
 * been posted.  Returns false if some had not even completed (their backing
 * I/O may still be under way, so a flush now would not cover it) when the
 * wait gave up; completions held only by a full CQ do not count.
 */
bool vnvme_queues_stop_io(struct vnvme_ctrl *ctrl)
{
	/* One deadline for all queues, not one per queue (33 SQs on vnvme-large). */
	unsigned long deadline = jiffies + 5 * HZ;
	struct vnvme_sq *sq;
	bool drained = true;
	long left;
	int qid;

	mutex_lock(&ctrl->queue_lock);
	for (qid = 1; qid < VNVME_MAX_QUEUES; qid++) {
		sq = vnvme_sq_locked(ctrl, qid);
		if (!sq)
			continue;
		vnvme_sq_wait_fetchers(sq);
		left = time_before(jiffies, deadline) ? deadline - jiffies : 0;
		if (!wait_event_timeout(ctrl->idle_wait,
					atomic_read(&sq->inflight) == 0, left) &&
		    atomic_read(&sq->running))
			drained = false;
	}
	mutex_unlock(&ctrl->queue_lock);
	return drained;
}

void vnvme_queues_kick_all(struct vnvme_ctrl *ctrl)
{
	struct vnvme_sq *sq;
	int qid;

	if (READ_ONCE(ctrl->mig.paused))
		return;
	rcu_read_lock();
	for (qid = 0; qid < VNVME_MAX_QUEUES; qid++) {
		sq = rcu_dereference(ctrl->sqs[qid]);
		if (sq && !READ_ONCE(sq->stopping))
			queue_work(ctrl->wq, &sq->work);
	}
	rcu_read_unlock();
}

/* A doorbell value beyond its queue: an Error event, and it is not used. */
static void vnvme_db_invalid_value(struct vnvme_ctrl *ctrl)
{
	vnvme_aen_post(ctrl, VNVME_AER_TYPE_ERROR,
		       VNVME_AER_ERR_INVALID_DB_VALUE, VNVME_LOG_ERROR);
}

/* The size of the queue behind doorbell idx, 0 if there is no such queue. */
static u16 vnvme_doorbell_queue_size(struct vnvme_ctrl *ctrl, unsigned int idx)
{
	unsigned int qid = idx / 2;
	struct vnvme_sq *sq;
	struct vnvme_cq *cq;
	u16 size = 0;

	if (qid >= VNVME_MAX_QUEUES)
		return 0;
	rcu_read_lock();
	if (idx & 1) {
		cq = rcu_dereference(ctrl->cqs[qid]);
		if (cq)
			size = cq->size;
	} else {
		sq = rcu_dereference(ctrl->sqs[qid]);
		if (sq)
			size = sq->size;
	}
	rcu_read_unlock();
	return size;
}

/* Queues the worker behind doorbell idx, if its queue still exists. */
static void vnvme_doorbell_kick(struct vnvme_ctrl *ctrl, unsigned int idx)
{
	unsigned int qid = idx / 2;
	struct vnvme_sq *sq;
	struct vnvme_cq *cq;

	/* Migration holds the queues; RUNNING kicks them all again. */
	if (READ_ONCE(ctrl->mig.paused))
		return;
	rcu_read_lock();
	if (idx & 1) {
		cq = rcu_dereference(ctrl->cqs[qid]);
		/*
		 * A new CQ head matters only to completions that found the ring
		 * full; anything else is posted by whoever completes it.  The
		 * head is stored before the flag is read; vnvme_cq_drain() sets
		 * the flag before it reads the head again.
		 */
		smp_mb();
		if (cq && READ_ONCE(cq->wants_room))
			queue_work(ctrl->wq, &cq->work);
	} else {
		sq = rcu_dereference(ctrl->sqs[qid]);
		/*
		 * An idle I/O queue (nothing in flight, no fetcher) is fetched by
		 * this write itself; a busy one by its worker, which then reads
		 * the new tail and keeps the work off the writer's CPU.  Admin
		 * commands may wait for locks: they stay with the worker.
		 */
		if (sq && qid && READ_ONCE(vnvme_inline_fetch) &&
		    !atomic_read(&sq->inflight) && !READ_ONCE(sq->stopping) &&
		    !work_pending(&sq->work) && mutex_trylock(&sq->fetch_lock)) {
			rcu_read_unlock();
			vnvme_sq_fetch_locked(sq, VNVME_SQ_INLINE_BUDGET);
			mutex_unlock(&sq->fetch_lock);
			return;
		}
		if (sq)
			queue_work(ctrl->wq, &sq->work);
	}
	rcu_read_unlock();
}

/*
 * A doorbell register write.  Values are checked against the queue before
 * they are stored; a write to a queue that does not exist or beyond its
 * size is reported with an Error asynchronous event and otherwise ignored.
 */
void vnvme_doorbell_write(struct vnvme_ctrl *ctrl, unsigned int idx, u32 val)
{
	u16 size;

	if (!vnvme_ctrl_ready(ctrl))
		return;
	size = vnvme_doorbell_queue_size(ctrl, idx);
	if (!size) {
		vnvme_aen_post(ctrl, VNVME_AER_TYPE_ERROR,
			       VNVME_AER_ERR_INVALID_DB, VNVME_LOG_ERROR);
		return;
	}
	if (val >= size) {
		vnvme_db_invalid_value(ctrl);
		return;
	}
	WRITE_ONCE(ctrl->db[idx], val);
	if (idx < 2)
		vnvme_dbbuf_mirror(ctrl, idx, val);
	/* The value is in place before the worker is queued to read it. */
	vnvme_doorbell_kick(ctrl, idx);
}

/*
 * The SQ tail the host published, from the doorbell register or the shadow
 * buffer.  arm: we stop if nothing is new, so ask for a doorbell (EventIdx).
 * A value outside the queue is reported and means nothing new.
 */
static u16 vnvme_sq_tail(struct vnvme_sq *sq, bool arm)
{
	u16 head = READ_ONCE(sq->head);
	u32 tail = vnvme_db_read(sq->ctrl, 2 * sq->qid, arm ? head : U32_MAX);

	if (tail < sq->size)
		return tail;
	vnvme_db_invalid_value(sq->ctrl);
	return head;
}

/*
 * Abort marks a command that is still in the ring, not yet fetched, by its
 * ring position.  The fetcher consumes the mark when it reaches that
 * position: a matching CID is completed as aborted, and a stale mark (the
 * slot was fetched before the mark landed) simply disappears.
 */
bool vnvme_sq_mark_abort(struct vnvme_ctrl *ctrl, u16 sqid, u16 cid)
{
	struct vnvme_sq *sq;
	bool marked = false;
	__le16 slot_cid;
	u32 tail;
	u16 pos;

	if (sqid >= VNVME_MAX_QUEUES)
		return false;
	mutex_lock(&ctrl->queue_lock);
	sq = vnvme_sq_locked(ctrl, sqid);
	if (!sq || READ_ONCE(sq->stopping))
		goto out;
	/* The head moves only under ring.lock. */
	mutex_lock(&sq->ring.lock);
	tail = vnvme_sq_tail(sq, false);
	for (pos = READ_ONCE(sq->head); pos != tail; pos = (pos + 1) % sq->size) {
		if (vnvme_ring_read(ctrl, &sq->ring,
				    (size_t)pos * sizeof(struct vnvme_sqe) +
				    offsetof(struct vnvme_sqe, cid),
				    &slot_cid, sizeof(slot_cid)))
			break;
		if (le16_to_cpu(slot_cid) != cid)
			continue;
		spin_lock(&sq->abort_lock);
		if (sq->nr_abort < ARRAY_SIZE(sq->aborts)) {
			sq->aborts[sq->nr_abort].cid = cid;
			sq->aborts[sq->nr_abort].pos = pos;
			sq->nr_abort++;
			marked = true;
		}
		spin_unlock(&sq->abort_lock);
		break;
	}
	mutex_unlock(&sq->ring.lock);
out:
	mutex_unlock(&ctrl->queue_lock);
	return marked;
}

static bool vnvme_sq_take_abort(struct vnvme_sq *sq, u16 pos, u16 cid)
{
	bool found = false;
	unsigned int i = 0;

	if (!READ_ONCE(sq->nr_abort))
		return false;
	spin_lock(&sq->abort_lock);
	while (i < sq->nr_abort) {
		if (sq->aborts[i].pos != pos) {
			i++;
			continue;
		}
		found |= sq->aborts[i].cid == cid;
		sq->aborts[i] = sq->aborts[--sq->nr_abort];
	}
	spin_unlock(&sq->abort_lock);
	return found;
}

/*
 * No room for another command's data (admin commands have an allowance of
 * their own): stop fetching until a retirement frees buffers and kicks every
 * SQ.  The flag is set before the budget is read again, and retirement frees
 * before it reads the flag with a fully ordered xchg, so one of the two sees
 * the other and the kick is not lost.
 */
static bool vnvme_sq_throttle(struct vnvme_sq *sq)
{
	struct vnvme_ctrl *ctrl = sq->ctrl;
	bool admin = !sq->qid;

	if (vnvme_bounce_available(ctrl, admin))
		return false;
	atomic_set(&ctrl->throttled, 1);
	smp_mb();	/* the flag before the budget; pairs with atomic_xchg() */
	return !vnvme_bounce_available(ctrl, admin);
}

/*
 * Fetches and runs up to budget commands; the caller holds sq->fetch_lock.
 * Returns what is left of the budget.
 */
static unsigned int vnvme_sq_fetch(struct vnvme_sq *sq, unsigned int budget)
{
	struct vnvme_ctrl *ctrl = sq->ctrl;
	struct vnvme_req *req;
	u16 pos;

	while (!READ_ONCE(sq->stopping) && !READ_ONCE(ctrl->mig.paused)) {
		if (sq->head == vnvme_sq_tail(sq, true))
			break;
		/* Completions kick us again when room or buffers free up. */
		if (atomic_read(&sq->inflight) >= sq->size)
			break;
		if (vnvme_sq_throttle(sq))
			break;
		if (!budget) {
			queue_work(ctrl->wq, &sq->work);
			break;
		}
		req = vnvme_sq_get_req(sq);
		if (!req)
			break;
		budget--;
		mutex_lock(&sq->ring.lock);
		/* The entry is read only after the doorbell that published it. */
		smp_rmb();
		pos = sq->head;
		if (vnvme_ring_read(ctrl, &sq->ring,
				    (size_t)pos * sizeof(req->cmd), &req->cmd,
				    sizeof(req->cmd))) {
			mutex_unlock(&sq->ring.lock);
			vnvme_sq_unget_req(sq, req);
			break;
		}
		WRITE_ONCE(sq->head, (pos + 1) % sq->size);
		mutex_unlock(&sq->ring.lock);
		req->start_ns = ktime_get_ns();
		atomic_inc(&sq->inflight);
		atomic_inc(&sq->running);

		if (vnvme_sq_take_abort(sq, pos, le16_to_cpu(req->cmd.cid))) {
			req->status = VNVME_SC_ABORT_REQ;
			vnvme_req_complete(req);
		} else if (sq->qid == 0) {
			vnvme_admin_exec(req);
		} else {
			vnvme_io_exec(req);
		}
		cond_resched();
	}
	return budget;
}

/*
 * Fetches as sq->fetcher, then posts the commands that completed in this
 * task meanwhile (admin commands, a backing device that finished inside
 * submit_bio()), so that no CQ worker has to be woken for them.  Also when
 * stopping: nothing else would post them.  Their retirement does not kick
 * the SQ's worker either; the fetcher looks at the ring again instead.
 */
static void vnvme_sq_fetch_locked(struct vnvme_sq *sq, unsigned int budget)
{
	lockdep_assert_held(&sq->fetch_lock);
	WRITE_ONCE(sq->fetcher, current);
	for (;;) {
		sq->retired_own = false;
		budget = vnvme_sq_fetch(sq, budget);
		if (!sq->post_own)
			break;
		/*
		 * Posting can complete more of our own: the admin CQ's drain
		 * reads a shadow CQ head, and an invalid one completes an AER
		 * with an Error event.  Nobody else would post that AER.
		 */
		while (sq->post_own) {
			sq->post_own = false;
			vnvme_cq_drain_locked(sq->cq);
		}
		/* Retiring them did not kick the worker: look at the ring again. */
		if (!sq->retired_own || READ_ONCE(sq->stopping))
			break;
		if (!budget) {
			queue_work(sq->ctrl->wq, &sq->work);
			break;
		}
	}
	WRITE_ONCE(sq->fetcher, NULL);
}

static void vnvme_sq_work(struct work_struct *work)
{
	struct vnvme_sq *sq = container_of(work, struct vnvme_sq, work);

	mutex_lock(&sq->fetch_lock);
	vnvme_sq_fetch_locked(sq, VNVME_SQ_BUDGET);
	mutex_unlock(&sq->fetch_lock);
}

void vnvme_req_complete(struct vnvme_req *req)
{
	struct vnvme_sq *sq = req->sq;
	struct vnvme_cq *cq = sq->cq;

	/* Its backing I/O has ended; the request itself lives on until posted. */
	smp_mb__before_atomic();
	atomic_dec(&sq->running);
	/*
	 * The fetcher completing its own command posts it when it is done,
	 * unless much read data has to be copied to the guest first: that copy
	 * is better done by the CQ worker, beside the fetcher.
	 */
	if (in_task() && READ_ONCE(sq->fetcher) == current &&
	    (!req->to_guest || req->pins ||
	     req->len <= VNVME_OWN_POST_MAX_COPY)) {
		llist_add(&req->done_node, &cq->done);
		sq->post_own = true;
		return;
	}
	/*
	 * Once the request is on the list a drainer may retire it, and the SQ
	 * and then the CQ may be deleted before queue_work() returns.  CQ
	 * teardown waits for an RCU grace period before it cancels the work
	 * and frees the CQ, so the window is an RCU read-side section: on a
	 * preemptible kernel a completer in task context (a work item, AEN
	 * from a vCPU or sysfs thread, loop or dm-crypt end_io) may be
	 * preempted inside it.
	 */
	rcu_read_lock();
	if (llist_add(&req->done_node, &cq->done))
		queue_work(cq->ctrl->wq, &cq->work);
	rcu_read_unlock();
}

/*
 * The CQ head the host published.  If it leaves no room we stop posting, so
 * ask for a doorbell (EventIdx).  A value outside the queue is reported and
 * means no room yet.
 */
static u16 vnvme_cq_head(struct vnvme_cq *cq)
{
	u32 full = (cq->tail + 1) % cq->size;
	u32 head = vnvme_db_read(cq->ctrl, 2 * cq->qid + 1, full);

	if (head < cq->size)
		return head;
	vnvme_db_invalid_value(cq->ctrl);
	return full;
}

/*
 * Writes one CQE: 0, -ENOSPC if the ring has no room, another error if its
 * memory is gone.  The caller holds cq->ring.lock.  *head caches the host's
 * CQ head (cq->size: not read yet).
 */
static int vnvme_cq_post(struct vnvme_cq *cq, struct vnvme_req *req, u16 *head)
{
	size_t off = (size_t)cq->tail * sizeof(struct vnvme_cqe);
	struct vnvme_cqe cqe = {
		.dw0	= cpu_to_le32(req->dw0),
		.sq_head = cpu_to_le16(READ_ONCE(req->sq->head)),
		.sq_id	= cpu_to_le16(req->sq->qid),
		.cid	= req->cmd.cid,
		.status	= cpu_to_le16(req->status << 1 | cq->phase),
	};
	int ret;

	lockdep_assert_held(&cq->ring.lock);

	if (*head >= cq->size || (cq->tail + 1) % cq->size == *head)
		*head = vnvme_cq_head(cq);
	if ((cq->tail + 1) % cq->size == *head)
		return -ENOSPC;
	ret = vnvme_ring_write(cq->ctrl, &cq->ring, off, &cqe,
			       offsetof(struct vnvme_cqe, status));
	if (ret)
		return ret;
	/* The phase bit makes the entry valid: it goes last. */
	smp_wmb();
	ret = vnvme_ring_write(cq->ctrl, &cq->ring,
			       off + offsetof(struct vnvme_cqe, status),
			       &cqe.status, sizeof(cqe.status));
	if (ret)
		return ret;
	if (++cq->tail == cq->size) {
		cq->tail = 0;
		cq->phase ^= 1;
	}
	return 0;
}

/*
 * Gives back a request whose completion has been posted or dropped.  The
 * fetcher may take it again at once: only sq is used after llist_add().
 */
static void vnvme_req_retire(struct vnvme_req *req)
{
	struct vnvme_sq *sq = req->sq;
	struct vnvme_ctrl *ctrl = sq->ctrl;

	vnvme_stats_account(req);
	vnvme_req_free_data(req);
	/* Fully ordered, like the inflight drop below: the fetcher relies on it. */
	llist_add(&req->done_node, &sq->free_reqs);
	if (atomic_xchg(&ctrl->throttled, 0))
		vnvme_queues_kick_all(ctrl);
	/*
	 * Kick before the count drops: SQ deletion waits for zero.  A fetcher
	 * retiring its own commands looks at the ring again by itself.
	 */
	if (READ_ONCE(sq->fetcher) == current)
		sq->retired_own = true;
	else if (!READ_ONCE(sq->stopping) && !READ_ONCE(ctrl->mig.paused))
		queue_work(ctrl->wq, &sq->work);
	if (atomic_dec_and_test(&sq->inflight))
		wake_up(&ctrl->idle_wait);
}

/* Posts the completions in cq->done; the caller holds cq->drain_lock. */
static void vnvme_cq_drain(struct vnvme_cq *cq)
{
	struct vnvme_req *req, *tmp;
	struct llist_node *done;
	LIST_HEAD(ready);
	LIST_HEAD(retire);
	unsigned int posted = 0;
	bool discard = READ_ONCE(cq->discard);
	bool stopped = discard, again = false;
	u16 head = cq->size;
	int err = 0;

	lockdep_assert_held(&cq->drain_lock);
	/* Frozen for migration: what is left is posted once RUNNING again. */
	if (!discard && READ_ONCE(cq->ctrl->mig.frozen))
		return;
	done = llist_reverse_order(llist_del_all(&cq->done));
	llist_for_each_entry_safe(req, tmp, done, done_node) {
		/* Read data and admin output reach the guest before the CQE. */
		vnvme_req_data_done(req, discard);
		if (!discard && req->status != VNVME_SC_SUCCESS)
			vnvme_error_log_add(cq->ctrl, req);
		list_add_tail(&req->overflow_node, &ready);
	}

	mutex_lock(&cq->ring.lock);
	list_splice_tail_init(&ready, &cq->overflow);
	/*
	 * A full CQ (or a lost ring) keeps completions for the host, but not
	 * those of a deleted SQ, even behind others: its deletion waits for them.
	 */
	list_for_each_entry_safe(req, tmp, &cq->overflow, overflow_node) {
		if (!stopped) {
			err = vnvme_cq_post(cq, req, &head);
			stopped = err != 0;
			if (!stopped) {
				posted++;
				list_move_tail(&req->overflow_node, &retire);
				continue;
			}
		}
		if (!discard && !READ_ONCE(req->sq->dropping))
			continue;
		list_move_tail(&req->overflow_node, &retire);
	}
	/*
	 * Out of room, the host's next CQ head doorbell must bring the worker
	 * back (vnvme_doorbell_kick()).  The flag is set before the head is
	 * read once more, and the doorbell stores the head before it reads
	 * the flag: one side sees the other.
	 */
	WRITE_ONCE(cq->wants_room, err == -ENOSPC);
	if (err == -ENOSPC) {
		smp_mb();	/* the flag before the head; see vnvme_doorbell_kick() */
		again = vnvme_cq_head(cq) != head;
	}
	mutex_unlock(&cq->ring.lock);
	if (again)
		queue_work(cq->ctrl->wq, &cq->work);

	list_for_each_entry_safe(req, tmp, &retire, overflow_node)
		vnvme_req_retire(req);
	if (posted)
		vnvme_cq_irq(cq, posted);
}

static void vnvme_cq_drain_locked(struct vnvme_cq *cq)
{
	mutex_lock(&cq->drain_lock);
	vnvme_cq_drain(cq);
	mutex_unlock(&cq->drain_lock);
}

static void vnvme_cq_work(struct work_struct *work)
{
	vnvme_cq_drain_locked(container_of(work, struct vnvme_cq, work));
}

/*
 * Commands fetched but not yet completed, beyond the AERs the admin SQ
 * holds on purpose (they stay fetched until an event arrives).
 */
static bool vnvme_queues_busy(struct vnvme_ctrl *ctrl)
{
	unsigned long flags;
	struct vnvme_sq *sq;
	unsigned int held;
	int qid;

	spin_lock_irqsave(&ctrl->aer_lock, flags);
	held = ctrl->nr_aer;
	spin_unlock_irqrestore(&ctrl->aer_lock, flags);
	for (qid = 0; qid < VNVME_MAX_QUEUES; qid++) {
		sq = vnvme_sq_locked(ctrl, qid);
		if (sq && atomic_read(&sq->running) > (qid ? 0 : (int)held))
			return true;
	}
	return false;
}

/* Lets every CQ post what has completed, as its worker would. */
static void vnvme_queues_post_all(struct vnvme_ctrl *ctrl)
{
	struct vnvme_cq *cq;
	int qid;

	for (qid = 0; qid < VNVME_MAX_QUEUES; qid++) {
		cq = vnvme_cq_locked(ctrl, qid);
		if (!cq)
			continue;
		flush_work(&cq->work);
		vnvme_cq_drain_locked(cq);
	}
}

/*
 * RUNNING -> RUNNING_P2P: stop fetching, let every fetched command complete
 * and be posted, then stop writing guest memory at all.  No completion is
 * lost (each one fetched is posted here, or kept if its CQ is full) and
 * none is posted twice (nothing is posted again until
 * vnvme_queues_resume()).  The caller holds ctrl->lock, so no CC transition
 * runs meanwhile; the admin worker never takes it.  Returns the number of
 * completions that did not fit their CQ and stay pending.
 */
unsigned int vnvme_queues_quiesce(struct vnvme_ctrl *ctrl)
{
	unsigned long warn_at = jiffies + 5 * HZ;
	unsigned int pending = 0;
	struct vnvme_sq *sq;
	struct vnvme_cq *cq;
	int qid;

	lockdep_assert_held(&ctrl->lock);
	WRITE_ONCE(ctrl->mig.paused, true);
	/* Doorbell writers that saw paused clear have left their kick. */
	synchronize_rcu();
	/* The admin worker takes queue_lock: wait for it without. */
	sq = rcu_dereference_protected(ctrl->sqs[0],
				       lockdep_is_held(&ctrl->lock));
	if (sq)
		flush_work(&sq->work);

	mutex_lock(&ctrl->queue_lock);
	for (qid = 1; qid < VNVME_MAX_QUEUES; qid++) {
		sq = vnvme_sq_locked(ctrl, qid);
		if (!sq)
			continue;
		vnvme_sq_wait_fetchers(sq);
	}
	/* Commands run in the block layer or on cmd_wq: wait like a reset. */
	for (;;) {
		bool busy = vnvme_queues_busy(ctrl);

		vnvme_queues_post_all(ctrl);
		if (!busy)
			break;
		if (time_after(jiffies, warn_at)) {
			dev_warn_ratelimited(vnvme_dev(ctrl),
					     "migration: still waiting for commands in flight\n");
			warn_at = jiffies + 5 * HZ;
		}
		usleep_range(200, 1000);
	}
	vnvme_queues_post_all(ctrl);
	WRITE_ONCE(ctrl->mig.frozen, true);
	for (qid = 0; qid < VNVME_MAX_QUEUES; qid++) {
		cq = vnvme_cq_locked(ctrl, qid);
		if (!cq)
			continue;
		/* A drain that started before frozen was set is over. */
		mutex_lock(&cq->drain_lock);
		mutex_unlock(&cq->drain_lock);
		mutex_lock(&cq->ring.lock);
		pending += !list_empty(&cq->overflow) || !llist_empty(&cq->done);
		mutex_unlock(&cq->ring.lock);
		vnvme_cq_irq_stop(cq);
	}
	mutex_unlock(&ctrl->queue_lock);
	return pending;
}

/*
 * Back to RUNNING (source after a failed migration, destination after
 * loading): post what waited, raise every CQ's vector once (an interrupt
 * the other side signalled may not have reached the guest; a spurious one
 * is harmless to NVMe drivers) and look at every SQ again.
 */
void vnvme_queues_resume(struct vnvme_ctrl *ctrl)
{
	struct vnvme_cq *cq;
	int qid;

	WRITE_ONCE(ctrl->mig.frozen, false);
	WRITE_ONCE(ctrl->mig.paused, false);
	vnvme_aer_deliver_pending(ctrl);
	rcu_read_lock();
	for (qid = 0; qid < VNVME_MAX_QUEUES; qid++) {
		cq = rcu_dereference(ctrl->cqs[qid]);
		if (!cq)
			continue;
		queue_work(ctrl->wq, &cq->work);
		if (cq->irq_enabled)
			vnvme_irq_signal(ctrl, cq->vector);
	}
	rcu_read_unlock();
	vnvme_queues_kick_all(ctrl);
}

/*
 * A command the source had fetched and holds (an AER), recreated on the
 * destination's SQ from its opcode and CID.  It counts as fetched and not
 * completed, as on the source.
 */
struct vnvme_req *vnvme_sq_adopt_req(struct vnvme_sq *sq, u8 opcode, u16 cid)
{
	struct vnvme_req *req;

	mutex_lock(&sq->fetch_lock);
	req = vnvme_sq_get_req(sq);
	mutex_unlock(&sq->fetch_lock);
	if (!req)
		return NULL;
	req->cmd.opcode = opcode;
	req->cmd.cid = cpu_to_le16(cid);
	req->start_ns = ktime_get_ns();
	atomic_inc(&sq->inflight);
	atomic_inc(&sq->running);
	return req;
}
