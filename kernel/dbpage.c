// SPDX-License-Identifier: GPL-2.0
/*
 * dbpage.c - mapped doorbells: BAR0's doorbell page as a sparse mmap area,
 * backed by a host page that a poller thread reads.
 *
 * In trapped mode (the default) every doorbell write is a write() into
 * vnvme_bar0_rw().  In mapped mode the VFIO user (QEMU, an SPDK-style
 * driver) maps BAR0's doorbell page, which is an ordinary host page, and
 * writes doorbells into it with no exit at all; the registers, the MSI-X
 * table and the PBA stay trapped.  A kthread per instance, the poller,
 * takes every dword the user wrote out of the page and hands it to
 * vnvme_doorbell_write(), the same validation and the same queue logic as
 * a trapped write, so ctrl->db[] and the shadow doorbells stay the one
 * truth either way.
 *
 * A slot the poller has taken holds VNVME_DB_EMPTY (all ones), and it is
 * taken with xchg(), so every write is seen, even one of the value written
 * before: with shadow doorbells that is a real event (the host rings the
 * register to make us read the shadow page again, with whatever tail it
 * had, and after a wrap that may equal the last one it rang).  Comparing
 * with the last value would lose it, and the queue would stall.  The one
 * value that cannot be seen is all ones itself, which is no valid doorbell
 * (queues have at most 1024 entries); it goes unreported in the page (a
 * trapped write of it is reported as always).
 *
 * The poller spins while doorbells change and parks after
 * vnvme_poll_idle_us without a change.  A parked poller must still learn of
 * the next write without polling, so before it sleeps it removes the page
 * from every user mapping (zap) and then reads the page once more: a write
 * that landed before the zap is seen by that last scan, a write after it
 * faults, and the fault handler maps the page again and wakes the poller.
 * The wake flag is cleared under vma_lock before the first zap and set
 * under vma_lock by every fault, so no fault between the two is missed.
 * An idle instance therefore costs a sleeping thread and nothing else; the
 * price of waking is one page fault (a few microseconds, an EPT fault under
 * KVM) on the first doorbell of a burst.
 *
 * The page is zapped per vma: 6.1's vfio_device has no inode of its own
 * (unmap_mapping_range() would hit every anon-inode mapping), so every vma
 * is tracked, from mmap and from vm_ops->open (fork, mremap), until
 * vm_ops->close.  A vma holds the device file, so close_device, which frees
 * the page, never runs while one exists.  Fork is allowed (no VM_DONTCOPY):
 * fork copies the PTEs of a VM_PFNMAP vma, so a child's vma starts out
 * counted as mapped, and is zapped and faulted like any other.
 *
 * Lock order: mmap_lock -> vma_lock (the fault handler, mmap and
 * vm_ops->open/close run under mmap_lock); the zap takes a user's mmap_lock
 * with vma_lock dropped.  ctrl->lock -> poll_lock: start and stop run under
 * ctrl->lock and wait for the scan in progress; a scan (doorbell writes,
 * inline fetches, AENs) never takes ctrl->lock or queue_lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/vfio.h>

#include "vnvme.h"

#define VNVME_DBPAGE_SIZE	(VNVME_MSIX_TABLE_OFFSET - VNVME_DB_OFFSET)
#define VNVME_DBPAGE_SLOTS	(VNVME_DBPAGE_SIZE / sizeof(u32))
/* The page is scanned 8 bytes at a time; doorbells are its dwords. */
#define VNVME_DBPAGE_WORDS	(VNVME_DBPAGE_SIZE / sizeof(u64))
/* A slot with nothing new; the page is filled with it (memset 0xff). */
#define VNVME_DB_EMPTY		U32_MAX

static bool vnvme_default_mapped;

static int vnvme_doorbell_mode_set(const char *val,
				   const struct kernel_param *kp)
{
	if (sysfs_streq(val, "mapped"))
		WRITE_ONCE(vnvme_default_mapped, true);
	else if (sysfs_streq(val, "trapped"))
		WRITE_ONCE(vnvme_default_mapped, false);
	else
		return -EINVAL;
	return 0;
}

static int vnvme_doorbell_mode_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n",
			  READ_ONCE(vnvme_default_mapped) ? "mapped" : "trapped");
}

static const struct kernel_param_ops vnvme_doorbell_mode_ops = {
	.set = vnvme_doorbell_mode_set,
	.get = vnvme_doorbell_mode_get,
};
module_param_cb(doorbell_mode, &vnvme_doorbell_mode_ops, NULL, 0644);
MODULE_PARM_DESC(doorbell_mode, "Doorbell mode of new instances: trapped (default) or mapped (doorbell page mmap-able, served by a poller thread)");

static unsigned int vnvme_poll_idle_us = 1000;
module_param_named(doorbell_poll_idle_us, vnvme_poll_idle_us, uint, 0644);
MODULE_PARM_DESC(doorbell_poll_idle_us, "Mapped doorbells: microseconds without a doorbell change before the poller parks, default 1000");

/* A vma that maps (or may map) the doorbell page. */
struct vnvme_dbpage_vma {
	struct list_head	node;
	struct vm_area_struct	*vma;
	bool			mapped;		/* may hold the PTE */
};

void vnvme_dbpage_init(struct vnvme_ctrl *ctrl)
{
	struct vnvme_dbpage *dbp = &ctrl->dbpage;

	dbp->mapped_mode = READ_ONCE(vnvme_default_mapped);
	mutex_init(&dbp->vma_lock);
	mutex_init(&dbp->poll_lock);
	INIT_LIST_HEAD(&dbp->vmas);
	init_waitqueue_head(&dbp->wait);
}

void vnvme_dbpage_destroy(struct vnvme_ctrl *ctrl)
{
	mutex_destroy(&ctrl->dbpage.vma_lock);
	mutex_destroy(&ctrl->dbpage.poll_lock);
}

const char *vnvme_dbpage_mode_name(struct vnvme_ctrl *ctrl)
{
	return READ_ONCE(ctrl->dbpage.mapped_mode) ? "mapped" : "trapped";
}

/* Sysfs: the mode of the next open; the caller holds ctrl->open_lock. */
int vnvme_dbpage_set_mode(struct vnvme_ctrl *ctrl, const char *val)
{
	lockdep_assert_held(&ctrl->open_lock);
	if (sysfs_streq(val, "mapped"))
		WRITE_ONCE(ctrl->dbpage.mapped_mode, true);
	else if (sysfs_streq(val, "trapped"))
		WRITE_ONCE(ctrl->dbpage.mapped_mode, false);
	else
		return -EINVAL;
	return 0;
}

/*
 * Removes the page from every user mapping.  The wake flag is cleared
 * first, under vma_lock: a fault from here on sets it again.  Each user's
 * page tables are zapped under its mmap_lock, taken with vma_lock dropped
 * (mmap_lock -> vma_lock is the order the fault handler imposes).
 */
static void vnvme_dbpage_zap(struct vnvme_dbpage *dbp)
{
	struct vnvme_dbpage_vma *v;
	struct mm_struct *mm;

	mutex_lock(&dbp->vma_lock);
	WRITE_ONCE(dbp->wake, false);
	mutex_unlock(&dbp->vma_lock);

	for (;;) {
		mm = NULL;
		mutex_lock(&dbp->vma_lock);
		list_for_each_entry(v, &dbp->vmas, node) {
			if (!v->mapped)
				continue;
			if (mmget_not_zero(v->vma->vm_mm)) {
				mm = v->vma->vm_mm;
				break;
			}
			/* The process is exiting: exit_mmap() tears it down. */
			v->mapped = false;
		}
		mutex_unlock(&dbp->vma_lock);
		if (!mm)
			return;

		mmap_read_lock(mm);
		mutex_lock(&dbp->vma_lock);
		list_for_each_entry(v, &dbp->vmas, node) {
			if (!v->mapped || v->vma->vm_mm != mm)
				continue;
			zap_vma_ptes(v->vma, v->vma->vm_start,
				     v->vma->vm_end - v->vma->vm_start);
			v->mapped = false;
		}
		mutex_unlock(&dbp->vma_lock);
		mmap_read_unlock(mm);
		mmput(mm);
	}
}

/*
 * One pass over the page: every dword written since the last pass is taken
 * (and the slot emptied) and is a doorbell write.  Returns whether there
 * was any.  Under poll_lock.
 */
static bool vnvme_dbpage_scan(struct vnvme_ctrl *ctrl)
{
	struct vnvme_dbpage *dbp = &ctrl->dbpage;
	const u64 *words = dbp->vaddr;
	u32 *slots = dbp->vaddr;
	bool written = false;
	unsigned int i, idx;
	u32 val;

	lockdep_assert_held(&dbp->poll_lock);
	for (i = 0; i < VNVME_DBPAGE_WORDS; i++) {
		if (READ_ONCE(words[i]) == U64_MAX)
			continue;
		for (idx = 2 * i; idx < 2 * i + 2; idx++) {
			/* A full barrier: queue entries are read after the value. */
			val = xchg(&slots[idx], VNVME_DB_EMPTY);
			if (val == VNVME_DB_EMPTY)
				continue;
			written = true;
			vnvme_doorbell_write(ctrl, idx, val);
		}
	}
	return written;
}

/* A scan if the controller is enabled; false if there is nothing to do. */
static bool vnvme_dbpage_poll_once(struct vnvme_ctrl *ctrl)
{
	struct vnvme_dbpage *dbp = &ctrl->dbpage;
	bool changed = false;

	mutex_lock(&dbp->poll_lock);
	if (dbp->running)
		changed = vnvme_dbpage_scan(ctrl);
	mutex_unlock(&dbp->poll_lock);
	return changed;
}

static int vnvme_dbpage_poller(void *data)
{
	struct vnvme_ctrl *ctrl = data;
	struct vnvme_dbpage *dbp = &ctrl->dbpage;
	u64 last_change = ktime_get_ns();

	while (!kthread_should_stop()) {
		if (vnvme_dbpage_poll_once(ctrl)) {
			last_change = ktime_get_ns();
			cond_resched();
			continue;
		}
		if (READ_ONCE(dbp->running) &&
		    ktime_get_ns() - last_change <
		    (u64)READ_ONCE(vnvme_poll_idle_us) * NSEC_PER_USEC) {
			cond_resched();
			cpu_relax();
			continue;
		}

		/* Park: unmap, then look once more (see the top of the file). */
		WRITE_ONCE(dbp->state, VNVME_POLLER_PARKING);
		vnvme_dbpage_zap(dbp);
		if (vnvme_dbpage_poll_once(ctrl)) {
			atomic64_inc(&dbp->late_writes);
			WRITE_ONCE(dbp->state, VNVME_POLLER_POLLING);
			last_change = ktime_get_ns();
			continue;
		}
		atomic64_inc(&dbp->parks);
		WRITE_ONCE(dbp->state, VNVME_POLLER_PARKED);
		wait_event_idle(dbp->wait, READ_ONCE(dbp->wake) ||
				kthread_should_stop());
		WRITE_ONCE(dbp->state, VNVME_POLLER_POLLING);
		last_change = ktime_get_ns();
	}
	return 0;
}

static void vnvme_dbpage_wake(struct vnvme_dbpage *dbp)
{
	WRITE_ONCE(dbp->wake, true);
	wake_up(&dbp->wait);
}

/* open_device, under open_lock: the page and the poller of mapped mode. */
int vnvme_dbpage_open(struct vnvme_ctrl *ctrl)
{
	struct vnvme_dbpage *dbp = &ctrl->dbpage;
	struct task_struct *task;

	lockdep_assert_held(&ctrl->open_lock);
	if (!dbp->mapped_mode)
		return 0;
	/* The BAR layout is in 4 KiB pages; so is the mapping. */
	if (PAGE_SIZE != VNVME_DBPAGE_SIZE)
		return -EOPNOTSUPP;
	dbp->page = alloc_page(GFP_KERNEL);
	if (!dbp->page)
		return -ENOMEM;
	dbp->vaddr = page_address(dbp->page);
	memset(dbp->vaddr, 0xff, VNVME_DBPAGE_SIZE);
	dbp->running = false;
	dbp->wake = false;
	dbp->state = VNVME_POLLER_POLLING;
	task = kthread_create(vnvme_dbpage_poller, ctrl, "vnvme%u-db",
			      ctrl->cntlid);
	if (IS_ERR(task)) {
		__free_page(dbp->page);
		dbp->page = NULL;
		dbp->vaddr = NULL;
		return PTR_ERR(task);
	}
	dbp->poller = task;
	wake_up_process(task);
	return 0;
}

/*
 * close_device, after the controller reset stopped the poller: no vma is
 * left (each holds the device file), so the page can go.
 */
void vnvme_dbpage_close(struct vnvme_ctrl *ctrl)
{
	struct vnvme_dbpage *dbp = &ctrl->dbpage;

	if (!dbp->poller)
		return;
	kthread_stop(dbp->poller);
	dbp->poller = NULL;
	WARN_ON_ONCE(!list_empty(&dbp->vmas));
	dbp->vaddr = NULL;
	__free_page(dbp->page);
	dbp->page = NULL;
}

/*
 * Controller enable, under ctrl->lock before CSTS.RDY is set: what the page
 * took while the controller was off means nothing (as for a trapped write),
 * so it starts empty.
 */
void vnvme_dbpage_start(struct vnvme_ctrl *ctrl)
{
	struct vnvme_dbpage *dbp = &ctrl->dbpage;

	if (!dbp->poller)
		return;
	mutex_lock(&dbp->poll_lock);
	memset(dbp->vaddr, 0xff, VNVME_DBPAGE_SIZE);
	dbp->running = true;
	mutex_unlock(&dbp->poll_lock);
	vnvme_dbpage_wake(dbp);
}

/*
 * Controller disable (reset, CC.EN 0, fatal, close), under ctrl->lock: once
 * the scan in progress is over no doorbell of the old controller is served,
 * and nothing is left mapped.  The poller parks by itself.
 */
void vnvme_dbpage_stop(struct vnvme_ctrl *ctrl)
{
	struct vnvme_dbpage *dbp = &ctrl->dbpage;

	if (!dbp->poller)
		return;
	mutex_lock(&dbp->poll_lock);
	dbp->running = false;
	mutex_unlock(&dbp->poll_lock);
	vnvme_dbpage_zap(dbp);
	vnvme_dbpage_wake(dbp);
}

/*
 * Migration: every doorbell written into the page so far is taken and
 * recorded (ctrl->db[], the SQ tails) before the device state is read or
 * the queues are quiesced; the guest's vCPUs are stopped by then.
 */
void vnvme_dbpage_drain(struct vnvme_ctrl *ctrl)
{
	struct vnvme_dbpage *dbp = &ctrl->dbpage;

	if (!dbp->poller)
		return;
	mutex_lock(&dbp->poll_lock);
	if (dbp->running)
		vnvme_dbpage_scan(ctrl);
	mutex_unlock(&dbp->poll_lock);
}

/*
 * A trapped doorbell write (write() at a doorbell offset).  In mapped mode
 * it goes into the page like a mapped write, and the poller is woken to
 * serve it, so writes of both kinds are served in the order they landed.
 * Returns false when the caller serves it itself: trapped mode, and the
 * one value the page cannot carry.
 */
bool vnvme_dbpage_post(struct vnvme_ctrl *ctrl, unsigned int idx, u32 val)
{
	struct vnvme_dbpage *dbp = &ctrl->dbpage;
	u32 *slots = dbp->vaddr;

	if (!dbp->poller || val == VNVME_DB_EMPTY || idx >= VNVME_DBPAGE_SLOTS)
		return false;
	WRITE_ONCE(slots[idx], val);
	vnvme_dbpage_wake(dbp);
	return true;
}

static struct vnvme_dbpage_vma *vnvme_dbpage_find(struct vnvme_dbpage *dbp,
						  struct vm_area_struct *vma)
{
	struct vnvme_dbpage_vma *v;

	lockdep_assert_held(&dbp->vma_lock);
	list_for_each_entry(v, &dbp->vmas, node)
		if (v->vma == vma)
			return v;
	return NULL;
}

static void vnvme_dbpage_track(struct vnvme_dbpage *dbp,
			       struct vnvme_dbpage_vma *v,
			       struct vm_area_struct *vma, bool mapped)
{
	v->vma = vma;
	v->mapped = mapped;
	mutex_lock(&dbp->vma_lock);
	list_add(&v->node, &dbp->vmas);
	mutex_unlock(&dbp->vma_lock);
}

/*
 * A copy of a vma: fork (whose copied PTEs may map the page) or mremap.
 * vm_ops->open cannot fail, and an untracked vma could never be zapped,
 * which would lose doorbells once the poller parks; the entry is a few
 * bytes, so the allocation may not fail either.
 */
static void vnvme_dbpage_vma_open(struct vm_area_struct *vma)
{
	struct vnvme_ctrl *ctrl = vma->vm_private_data;
	struct vnvme_dbpage_vma *v;

	v = kzalloc(sizeof(*v), GFP_KERNEL | __GFP_NOFAIL);
	vnvme_dbpage_track(&ctrl->dbpage, v, vma, true);
}

static void vnvme_dbpage_vma_close(struct vm_area_struct *vma)
{
	struct vnvme_ctrl *ctrl = vma->vm_private_data;
	struct vnvme_dbpage *dbp = &ctrl->dbpage;
	struct vnvme_dbpage_vma *v;

	mutex_lock(&dbp->vma_lock);
	v = vnvme_dbpage_find(dbp, vma);
	if (v)
		list_del(&v->node);
	mutex_unlock(&dbp->vma_lock);
	kfree(v);
}

/*
 * A write (or read) to the unmapped page: map it again and wake the poller.
 * The instruction is restarted and lands in the page.
 */
static vm_fault_t vnvme_dbpage_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct vnvme_ctrl *ctrl = vma->vm_private_data;
	struct vnvme_dbpage *dbp = &ctrl->dbpage;
	struct vnvme_dbpage_vma *v;
	vm_fault_t ret;

	mutex_lock(&dbp->vma_lock);
	v = vnvme_dbpage_find(dbp, vma);
	if (!v) {
		mutex_unlock(&dbp->vma_lock);
		return VM_FAULT_SIGBUS;
	}
	ret = vmf_insert_pfn(vma, vma->vm_start, page_to_pfn(dbp->page));
	v->mapped = true;
	atomic64_inc(&dbp->faults);
	vnvme_dbpage_wake(dbp);
	mutex_unlock(&dbp->vma_lock);
	return ret;
}

static const struct vm_operations_struct vnvme_dbpage_vm_ops = {
	.open	= vnvme_dbpage_vma_open,
	.close	= vnvme_dbpage_vma_close,
	.fault	= vnvme_dbpage_fault,
};

/*
 * vfio_device_ops.mmap: only BAR0's doorbell page, one page, shared, and
 * only in mapped mode.  The page is mapped on the first fault, as after a
 * park.  Flags as vfio-pci gives BAR mappings: no expansion (mremap),
 * no core dump of device memory, a PFN map that fork copies.
 */
int vnvme_dbpage_mmap(struct vfio_device *vdev, struct vm_area_struct *vma)
{
	struct vnvme_ctrl *ctrl = vdev_to_ctrl(vdev);
	u64 want = ((u64)VFIO_PCI_BAR0_REGION_INDEX << VNVME_REGION_SHIFT) +
		   VNVME_DB_OFFSET;
	struct vnvme_dbpage_vma *v;

	if (!ctrl->dbpage.poller)
		return -EINVAL;
	if (vma->vm_pgoff != want >> PAGE_SHIFT ||
	    vma->vm_end - vma->vm_start != VNVME_DBPAGE_SIZE)
		return -EINVAL;
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	v = kzalloc(sizeof(*v), GFP_KERNEL);
	if (!v)
		return -ENOMEM;
	vma->vm_private_data = ctrl;
	vma->vm_ops = &vnvme_dbpage_vm_ops;
	vnvme_vm_flags_set(vma, VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP);
	vnvme_dbpage_track(&ctrl->dbpage, v, vma, false);
	return 0;
}

/*
 * VFIO_DEVICE_GET_REGION_INFO of BAR0 in mapped mode: the doorbell page is
 * the one sparse mmap area.  Fills the capability chain after the info at
 * uarg when argsz leaves room for it, else asks for a larger argsz.
 */
int vnvme_dbpage_region_info(struct vnvme_ctrl *ctrl,
			     struct vfio_region_info *info, void __user *uarg)
{
	struct vfio_info_cap caps = { .buf = NULL, .size = 0 };
	struct vfio_region_info_cap_sparse_mmap *sparse;
	size_t size = struct_size(sparse, areas, 1);
	int ret;

	if (info->index != VFIO_PCI_BAR0_REGION_INDEX ||
	    !READ_ONCE(ctrl->dbpage.poller))
		return 0;
	sparse = kzalloc(size, GFP_KERNEL);
	if (!sparse)
		return -ENOMEM;
	sparse->header.id = VFIO_REGION_INFO_CAP_SPARSE_MMAP;
	sparse->header.version = 1;
	sparse->nr_areas = 1;
	sparse->areas[0].offset = VNVME_DB_OFFSET;
	sparse->areas[0].size = VNVME_DBPAGE_SIZE;
	ret = vfio_info_add_capability(&caps, &sparse->header, size);
	kfree(sparse);
	if (ret)
		return ret;

	info->flags |= VFIO_REGION_INFO_FLAG_MMAP | VFIO_REGION_INFO_FLAG_CAPS;
	if (info->argsz < sizeof(*info) + caps.size) {
		info->argsz = sizeof(*info) + caps.size;
		info->cap_offset = 0;
	} else {
		vfio_info_cap_shift(&caps, sizeof(*info));
		if (copy_to_user(uarg + sizeof(*info), caps.buf, caps.size))
			ret = -EFAULT;
		info->cap_offset = sizeof(*info);
	}
	kfree(caps.buf);
	return ret;
}

/* Sysfs doorbell_poller: state and counters of the poller. */
ssize_t vnvme_dbpage_show(struct vnvme_ctrl *ctrl, char *buf)
{
	struct vnvme_dbpage *dbp = &ctrl->dbpage;
	static const char * const names[] = {
		[VNVME_POLLER_POLLING] = "polling",
		[VNVME_POLLER_PARKING] = "parking",
		[VNVME_POLLER_PARKED] = "parked",
	};
	struct task_struct *task;
	pid_t pid = 0;

	mutex_lock(&ctrl->open_lock);
	task = dbp->poller;
	if (task)
		pid = task_pid_nr(task);
	mutex_unlock(&ctrl->open_lock);
	return sysfs_emit(buf, "%s pid %d parks %lld faults %lld late_writes %lld\n",
			  task ? names[READ_ONCE(dbp->state)] : "none", pid,
			  (long long)atomic64_read(&dbp->parks),
			  (long long)atomic64_read(&dbp->faults),
			  (long long)atomic64_read(&dbp->late_writes));
}
