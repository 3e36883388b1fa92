/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vnvme.h - private types and NVMe constants of the vnvme mdev driver.
 *
 * NVMe constants are our own: the values in <linux/nvme.h> were renamed by
 * stable backports and differ between 6.1.x builds.
 */
#ifndef VNVME_H
#define VNVME_H

#include <linux/types.h>
#include <linux/mdev.h>
#include <linux/vfio.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <linux/llist.h>
#include <linux/hrtimer.h>
#include <linux/percpu-refcount.h>
#include <linux/completion.h>
#include <linux/wait.h>
#include <linux/uuid.h>
#include <linux/xarray.h>

#include "compat.h"

/* ---- Device geometry ---------------------------------------------------- */

#define VNVME_MAX_IO_QUEUES	32
#define VNVME_MAX_QUEUES	(VNVME_MAX_IO_QUEUES + 1)	/* + admin */
#define VNVME_MAX_VECTORS	VNVME_MAX_QUEUES
#define VNVME_MAX_NS		16
#define VNVME_MQES		1023	/* 0-based: 1024 entries, a power of two */
#define VNVME_AERL		3	/* 0-based: 4 outstanding AERs */
#define VNVME_ACL		3	/* 0-based: 4 outstanding Aborts */
#define VNVME_ERR_LOG_ENTRIES	64
/* MDTS the identity knob (and a migration stream) may set. */
#define VNVME_MDTS_MIN		1
#define VNVME_MDTS_MAX		8	/* 1 MiB: one bio of at most 256 pages */
#define VNVME_CAP_TO		20	/* 500 ms units: 10 s to become ready */
/*
 * Commands run synchronously, with no data transfer to bound them, have
 * limits of their own (Identify CNS 06h, NVM Command Set): Verify and Write
 * Zeroes at most MDTS (VSL and WZSL), Dataset Management ranges at most
 * DMRSL logical blocks each and DMSL in all.
 */
#define VNVME_DMRSL		65536
#define VNVME_DMSL		(16ULL * VNVME_DMRSL)

#define VNVME_CONFIG_SIZE	4096
#define VNVME_CAP_MSIX		0x50	/* MSI-X capability in config space */
#define VNVME_BAR0_SIZE		0x4000
#define VNVME_DB_OFFSET		0x1000
#define VNVME_MSIX_TABLE_OFFSET	0x2000
#define VNVME_MSIX_PBA_OFFSET	0x3000

/* vfio-pci region file offsets: region index in the top bits. */
#define VNVME_REGION_SHIFT	40
#define VNVME_REGION_INDEX(off)	((off) >> VNVME_REGION_SHIFT)
#define VNVME_REGION_OFFSET(off) ((off) & ((1ULL << VNVME_REGION_SHIFT) - 1))

/* ---- NVMe registers (NVMe 1.4, section 3.1) ------------------------------ */

#define NVME_REG_CAP		0x00
#define NVME_REG_VS		0x08
#define NVME_REG_INTMS		0x0c
#define NVME_REG_INTMC		0x10
#define NVME_REG_CC		0x14
#define NVME_REG_CSTS		0x1c
#define NVME_REG_NSSR		0x20
#define NVME_REG_AQA		0x24
#define NVME_REG_ASQ		0x28
#define NVME_REG_ACQ		0x30

#define VNVME_CC_EN		BIT(0)
#define VNVME_CC_CSS(cc)	(((cc) >> 4) & 0x7)
#define VNVME_CC_MPS(cc)	(((cc) >> 7) & 0xf)
#define VNVME_CC_AMS(cc)	(((cc) >> 11) & 0x7)
#define VNVME_CC_SHN(cc)	(((cc) >> 14) & 0x3)
#define VNVME_CC_IOSQES(cc)	(((cc) >> 16) & 0xf)
#define VNVME_CC_IOCQES(cc)	(((cc) >> 20) & 0xf)
/* Fields that may only change while CC.EN is 0. */
#define VNVME_CC_EN0_ONLY	(GENMASK(6, 4) | GENMASK(10, 7) | GENMASK(13, 11))
#define VNVME_CC_WRITABLE	(VNVME_CC_EN | VNVME_CC_EN0_ONLY | \
				 GENMASK(15, 14) | GENMASK(23, 16))
#define VNVME_CC_CSS_NVM	0
#define VNVME_CC_CSS_ADMIN	7

#define VNVME_CSTS_RDY		BIT(0)
#define VNVME_CSTS_CFS		BIT(1)
#define VNVME_CSTS_SHST_MASK	(3 << 2)
#define VNVME_CSTS_SHST_OCCUR	(1 << 2)
#define VNVME_CSTS_SHST_CMPLT	(2 << 2)

#define VNVME_SQES		6	/* log2(64) */
#define VNVME_CQES		4	/* log2(16) */

/* ---- Status codes: (SCT << 8) | SC, DNR as bit 14 of the status field --- */

#define VNVME_SC_DNR			0x4000
#define VNVME_SC_SUCCESS		0x000
#define VNVME_SC_INVALID_OPCODE		0x001
#define VNVME_SC_INVALID_FIELD		0x002
#define VNVME_SC_CMDID_CONFLICT		0x003
#define VNVME_SC_DATA_XFER_ERROR	0x004
#define VNVME_SC_INTERNAL		0x006
#define VNVME_SC_ABORT_REQ		0x007
#define VNVME_SC_ABORT_SQ_DELETED	0x008
#define VNVME_SC_INVALID_NS		0x00b
#define VNVME_SC_NS_WRITE_PROTECTED	0x020
#define VNVME_SC_CMD_SEQ_ERROR		0x00c
#define VNVME_SC_LBA_RANGE		0x080
#define VNVME_SC_CAP_EXCEEDED		0x081
#define VNVME_SC_NS_NOT_READY		0x082
/* Command specific (SCT 1) */
#define VNVME_SC_CQ_INVALID		0x100
#define VNVME_SC_QID_INVALID		0x101
#define VNVME_SC_QUEUE_SIZE		0x102
#define VNVME_SC_ABORT_LIMIT		0x103
#define VNVME_SC_AER_LIMIT		0x105
#define VNVME_SC_INVALID_VECTOR		0x108
#define VNVME_SC_INVALID_LOG_PAGE	0x109
#define VNVME_SC_INVALID_QUEUE_DELETE	0x10c
#define VNVME_SC_FEATURE_NOT_SAVEABLE	0x10d
#define VNVME_SC_FEATURE_NOT_CHANGEABLE	0x10e
#define VNVME_SC_READ_ONLY		0x182	/* Attempted Write to Read Only Range */
/* Media and data integrity errors (SCT 2) */
#define VNVME_SC_WRITE_FAULT		0x280
#define VNVME_SC_READ_ERROR		0x281
#define VNVME_SC_COMPARE_FAILED		0x285
#define VNVME_SC_ACCESS_DENIED		0x286

/* SGL / PRP statuses are shared with prp.h (which guards its own copies). */
#define VNVME_SC_SGL_INVALID_OFFSET	0x016
#define VNVME_SC_SGL_INVALID_DESCS	0x00e
#define VNVME_SC_SGL_INVALID_DATA_LEN	0x00f
#define VNVME_SC_SGL_INVALID_TYPE	0x011
#define VNVME_SC_INVALID_PRP_OFFSET	0x013

#include "prp.h"

/* ---- Opcodes ------------------------------------------------------------ */

enum vnvme_admin_opcode {
	VNVME_ADM_DELETE_SQ	= 0x00,
	VNVME_ADM_CREATE_SQ	= 0x01,
	VNVME_ADM_GET_LOG_PAGE	= 0x02,
	VNVME_ADM_DELETE_CQ	= 0x04,
	VNVME_ADM_CREATE_CQ	= 0x05,
	VNVME_ADM_IDENTIFY	= 0x06,
	VNVME_ADM_ABORT		= 0x08,
	VNVME_ADM_SET_FEATURES	= 0x09,
	VNVME_ADM_GET_FEATURES	= 0x0a,
	VNVME_ADM_ASYNC_EVENT	= 0x0c,
	VNVME_ADM_KEEP_ALIVE	= 0x18,
	VNVME_ADM_DBBUF_CONFIG	= 0x7c,
};

enum vnvme_io_opcode {
	VNVME_IO_FLUSH		= 0x00,
	VNVME_IO_WRITE		= 0x01,
	VNVME_IO_READ		= 0x02,
	VNVME_IO_COMPARE	= 0x05,
	VNVME_IO_WRITE_ZEROES	= 0x08,
	VNVME_IO_DSM		= 0x09,
	VNVME_IO_VERIFY		= 0x0c,
};

enum vnvme_feature_id {
	VNVME_FEAT_ARBITRATION	= 0x01,
	VNVME_FEAT_POWER_MGMT	= 0x02,
	VNVME_FEAT_TEMP_THRESH	= 0x04,
	VNVME_FEAT_ERR_RECOVERY	= 0x05,
	VNVME_FEAT_VOLATILE_WC	= 0x06,
	VNVME_FEAT_NUM_QUEUES	= 0x07,
	VNVME_FEAT_IRQ_COALESCE	= 0x08,
	VNVME_FEAT_IRQ_CONFIG	= 0x09,
	VNVME_FEAT_WRITE_ATOMIC	= 0x0a,
	VNVME_FEAT_ASYNC_EVENT	= 0x0b,
	VNVME_FEAT_TIMESTAMP	= 0x0e,
};

enum vnvme_log_id {
	VNVME_LOG_ERROR		= 0x01,
	VNVME_LOG_SMART		= 0x02,
	VNVME_LOG_FW_SLOT	= 0x03,
	VNVME_LOG_CHANGED_NS	= 0x04,
	VNVME_LOG_CMD_EFFECTS	= 0x05,
};

/* Asynchronous event types and information (NVMe 1.4, figure 146). */
#define VNVME_AER_TYPE_ERROR		0
#define VNVME_AER_TYPE_SMART		1
#define VNVME_AER_TYPE_NOTICE		2
#define VNVME_AER_ERR_INVALID_DB	0x00
#define VNVME_AER_ERR_INVALID_DB_VALUE	0x01
#define VNVME_AER_NOTICE_NS_CHANGED	0x00
/* Async Event Configuration bit that enables NS Attribute Notices. */
#define VNVME_AEC_NS_ATTR		BIT(8)

/* ---- Queue entries ------------------------------------------------------ */

struct vnvme_sqe {
	u8	opcode;
	u8	flags;		/* FUSE 1:0, PSDT 7:6 */
	__le16	cid;
	__le32	nsid;
	__le32	cdw2;
	__le32	cdw3;
	__le64	mptr;
	union {
		struct {
			__le64	prp1;
			__le64	prp2;
		};
		u8	sgl[16];
	} dptr;
	__le32	cdw10;
	__le32	cdw11;
	__le32	cdw12;
	__le32	cdw13;
	__le32	cdw14;
	__le32	cdw15;
};

#define VNVME_SQE_PSDT(flags)	(((flags) >> 6) & 0x3)
#define VNVME_SQE_FUSE(flags)	((flags) & 0x3)

struct vnvme_cqe {
	__le32	dw0;
	__le32	dw1;
	__le16	sq_head;
	__le16	sq_id;
	__le16	cid;
	__le16	status;		/* phase in bit 0, status field above */
};

/* ---- Driver objects ----------------------------------------------------- */

struct vnvme_ctrl;
struct vnvme_req;
struct vnvme_pin;

/* An mdev type: a profile with its own queue-pair and vector budget. */
struct vnvme_type {
	struct mdev_type	mtype;
	const char		*description;
	unsigned int		nr_io_queues;
};

/*
 * A queue ring in guest memory.  It is pinned and mapped while the VFIO user
 * leaves its memory alone; once dma_unmap has covered it, it stays unpinned
 * and is reached through vfio_dma_rw() until it is deleted (dma.c says why).
 * Access goes through vnvme_ring_read()/vnvme_ring_write(); lock serialises
 * the ring's users (head and tail moves), never the pin itself.
 */
enum vnvme_ring_pin_state {
	VNVME_RING_UNPINNED,	/* reached through vfio_dma_rw() */
	VNVME_RING_PINNING,
	VNVME_RING_PINNED,	/* vaddr published */
	VNVME_RING_UNPINNING,
};

struct vnvme_ring {
	struct mutex		lock;
	struct list_head	node;		/* in ctrl->pins.rings unless unpinned */
	struct list_head	gone_node;	/* dma_unmap's own list */
	enum vnvme_ring_pin_state pin_state;	/* under ctrl->pins.lock */
	struct page		**pages;
	unsigned int		nr_pages;
	u64			iova;		/* page aligned */
	void __rcu		*vaddr;		/* NULL while unpinned */
	void			*mapping;	/* vaddr as pinned, for the unpin */
};

/* An IOVA range dma_unmap has covered while the device was open. */
struct vnvme_iova_range {
	u64			start;
	u64			end;		/* exclusive */
};

#define VNVME_REVOKED_RANGES	8

/* Synchronous commands of one controller running at once (ctrl->cmd_wq). */
#define VNVME_SYNC_CMDS_ACTIVE	16

/*
 * Guest memory this controller holds pinned (dma.c, pincache.c).  lock
 * guards the ring list, the pin states, the revoked ranges and the data pin
 * cache (data, lru), never a pin itself; wait is woken when a pin or unpin
 * ends.  Ring readers use RCU.
 */
struct vnvme_pins {
	spinlock_t		lock;
	struct list_head	rings;
	wait_queue_head_t	wait;
	struct vnvme_iova_range	revoked[VNVME_REVOKED_RANGES];
	unsigned int		nr_revoked;

	/* Zero-copy data pages (pincache.c): struct vnvme_pin by IOVA pfn. */
	struct xarray		data;
	struct list_head	lru;		/* unused entries, oldest first */
	atomic_t		data_pages;	/* pinned data pages, cached or used */
	atomic64_t		hits;
	atomic64_t		misses;
	atomic64_t		evictions;
	atomic64_t		fallbacks;	/* Read/Write that bounced anyway */
};

/*
 * Shadow doorbell and EventIdx pages (dbbuf.c).  lock serialises the
 * writers of enabled and of both pages' pins (Doorbell Buffer Config,
 * teardown), and readers of a page reached through vfio_dma_rw(); it nests
 * inside queue ring locks.  Readers of mapped pages take no lock: enabled is
 * cleared a grace period before the pages go.
 */
struct vnvme_dbbuf {
	struct mutex		lock;
	bool			enabled;
	struct vnvme_ring	shadow;		/* written by the host */
	struct vnvme_ring	eventidx;	/* written by us */
};

enum vnvme_poller_state {
	VNVME_POLLER_POLLING,
	VNVME_POLLER_PARKING,	/* unmapping the page, one last scan */
	VNVME_POLLER_PARKED,
};

/*
 * Mapped doorbells (dbpage.c).  mapped_mode is the instance's mode, under
 * ctrl->open_lock, fixed while the device is open; the page and the poller
 * exist only while it is open in mapped mode.  vma_lock guards vmas and
 * wake; poll_lock makes a scan exclusive with start/stop, and guards
 * running.
 */
struct vnvme_dbpage {
	bool			mapped_mode;
	struct page		*page;
	void			*vaddr;
	struct task_struct	*poller;
	struct mutex		poll_lock;
	bool			running;	/* controller enabled */
	struct mutex		vma_lock;
	struct list_head	vmas;
	bool			wake;		/* a fault or a kick since the zap */
	wait_queue_head_t	wait;
	enum vnvme_poller_state	state;
	atomic64_t		parks;
	atomic64_t		faults;
	atomic64_t		late_writes;	/* found by the scan after a zap */
};

struct vnvme_cq {
	struct vnvme_ctrl	*ctrl;
	u16			qid;
	u16			size;
	u16			vector;
	bool			irq_enabled;
	struct vnvme_ring	ring;

	/* ring.lock also guards tail, phase and overflow */
	u16			tail;
	u8			phase;
	struct list_head	overflow;	/* completions waiting for room */
	/* overflow is stuck on a full ring: a CQ head doorbell kicks work */
	bool			wants_room;
	struct llist_head	done;		/* from any context, incl. end_io */
	struct work_struct	work;
	struct mutex		drain_lock;	/* one drain of done at a time */

	bool			discard;	/* controller going down */
	unsigned int		nr_sqs;		/* under ctrl->queue_lock */
	/* completions since the last irq; the poster and the timer race */
	atomic_t		coalesced;
	struct hrtimer		coalesce_timer;
};

struct vnvme_sq {
	struct vnvme_ctrl	*ctrl;
	u16			qid;
	u16			size;
	struct vnvme_cq		*cq;
	struct vnvme_ring	ring;

	u16			head;		/* next entry to fetch; fetcher only */
	struct work_struct	work;
	/* One fetcher at a time: the worker, or a doorbell write (inline). */
	struct mutex		fetch_lock;
	struct task_struct	*fetcher;	/* its task, while it fetches */
	bool			post_own;	/* fetcher only: it completed commands */
	bool			retired_own;	/* fetcher only: and freed ring room */
	atomic_t		inflight;
	atomic_t		running;	/* fetched, not yet completed */
	bool			stopping;	/* no more fetching or kicks */
	bool			dropping;	/* completions may be dropped */

	/*
	 * size requests, allocated with the queue (queue.c says why and how
	 * they are handed out): free_reqs takes them back from any context,
	 * free_cache is the fetcher's own list, refilled from free_reqs.
	 */
	struct vnvme_req	*reqs;
	struct llist_head	free_reqs;
	struct llist_node	*free_cache;	/* fetcher only */

	spinlock_t		abort_lock;
	struct {
		u16		cid;
		u16		pos;	/* ring index the command sits at */
	} aborts[VNVME_ACL + 1];
	unsigned int		nr_abort;
};

/* What backs an enabled namespace; replaced as a whole under RCU. */
struct vnvme_backing {
	struct vnvme_bdev	bdev;
	u64			nr_lbas;
	u8			lba_shift;
	bool			readonly;
	bool			can_discard;
	bool			can_write_zeroes;
	struct percpu_ref	ref;
	struct completion	released;
};

/* One namespace slot (NSID = index + 1), configured through sysfs. */
struct vnvme_ns {
	struct vnvme_ctrl	*ctrl;
	u32			nsid;
	char			*device_path;	/* under ctrl->ns_lock */
	bool			readonly;
	struct vnvme_backing __rcu *backing;
	u8			nguid[16];
	u8			eui64[8];
};

/* Counters exported over netlink; they live as long as the instance. */
#define VNVME_LAT_BUCKETS	24	/* log2(us): 1 us .. 8 s and above */

struct vnvme_io_stats {
	atomic64_t	cmds;
	atomic64_t	bytes_read;
	atomic64_t	bytes_written;
	atomic64_t	errors;
	atomic64_t	irqs;
	atomic64_t	lat_us_log2[VNVME_LAT_BUCKETS];
};

/* Error completions by status: the statuses a backing device or guest causes. */
#define VNVME_STATUS_SLOTS	16

struct vnvme_smart {
	atomic64_t	bytes_read;
	atomic64_t	bytes_written;
	atomic64_t	read_cmds;
	atomic64_t	write_cmds;
	atomic64_t	busy_ns;
	atomic64_t	media_errors;
	atomic64_t	err_log_count;
	u64		power_cycles;
	u64		unsafe_shutdowns;
};

struct vnvme_error_entry {
	__le64	error_count;
	__le16	sqid;
	__le16	cid;
	__le16	status;
	__le16	param_loc;
	__le64	lba;
	__le32	nsid;
	u8	vs;
	u8	trtype;
	u8	rsvd[2];
	__le64	cs;
	__le16	trtype_specific;
	u8	rsvd2[22];
};

struct vnvme_features {
	u32	arbitration;
	u32	power_mgmt;
	u16	temp_over;
	u16	temp_under;
	u32	err_recovery;
	bool	vwc;
	u16	nr_sqs_granted;	/* 0-based, 0 = not yet set */
	u16	nr_cqs_granted;
	u32	irq_coalesce;	/* THR 7:0 (0-based), TIME 15:8 (100 us) */
	/* bit per vector: coalescing disabled (set_bit/test_bit, any context) */
	DECLARE_BITMAP(irq_config_cd, VNVME_MAX_VECTORS);
	u32	write_atomic;
	u32	async_event;
	u64	timestamp_ms;	/* value set by the host ... */
	u64	timestamp_set_ns; /* ... at this ktime_get_ns() */
	bool	timestamp_set;
};

/*
 * Live migration (migration.c).  state_mutex serialises state changes and
 * the data files; it is taken before ctrl->lock.  paused stops fetching,
 * frozen stops every write to guest memory (both read without a lock).
 * own keeps the instance's identity while one adopted from a stream shows.
 */
struct vnvme_migf;

struct vnvme_mig {
	struct mutex		state_mutex;
	enum vfio_device_mig_state state;
	struct vnvme_migf	*saving;
	struct vnvme_migf	*resuming;
	bool			paused;
	bool			frozen;
	bool			adopted;
	unsigned int		pending;	/* completions a full CQ kept */
	struct {
		char		serial[21];
		char		model[41];
		char		firmware[9];
		u8		mdts;
		u16		cntlid;
		u8		nguid[VNVME_MAX_NS][16];
		u8		eui64[VNVME_MAX_NS][8];
	} own;
};

struct vnvme_ctrl {
	struct vfio_device	vdev;
	struct mdev_device	*mdev;
	const struct vnvme_type	*type;
	u16			cntlid;
	char			serial[21];
	char			model[41];
	char			firmware[9];
	u8			mdts;
	bool			opened;
	struct mutex		open_lock;	/* opened, identity knobs */
	bool			zero_copy;	/* Read/Write bios on guest pages */
	/*
	 * Every work item of this controller: queue workers, CQ posting,
	 * synchronous commands, fatal_work.  One workqueue per controller, so
	 * that a guest whose work items block (guest memory that is slow to
	 * reach, long commands) uses up its own max_active, not another's.
	 */
	struct workqueue_struct	*wq;
	/*
	 * Commands that wait for the block layer in a work item (Flush of
	 * every namespace, Compare, Verify, Write Zeroes, DSM), at most
	 * VNVME_SYNC_CMDS_ACTIVE at once: the kworkers one guest can tie up
	 * are bounded, its queue workers keep running beside them, and what
	 * has not started when its SQ stops is dropped.
	 */
	struct workqueue_struct	*cmd_wq;
	struct work_struct	fatal_work;	/* queue memory lost for good */
	bool			fatal_pending;	/* under lock; reset clears it */

	/* PCI config space */
	u8			config[VNVME_CONFIG_SIZE];

	/*
	 * lock: register state and controller-state transitions.  The admin
	 * worker never takes it; reset waits for that worker with lock held.
	 */
	struct mutex		lock;
	u64			cap;
	u32			cc;
	u32			csts;
	u32			aqa;
	u32			intms;
	u64			asq;
	u64			acq;
	u32			db[2 * VNVME_MAX_QUEUES];	/* last written */
	struct vnvme_dbbuf	dbbuf;
	struct vnvme_dbpage	dbpage;

	/* queue_lock: the queue tables and their lifetime. */
	struct mutex		queue_lock;
	struct vnvme_sq __rcu	*sqs[VNVME_MAX_QUEUES];
	struct vnvme_cq __rcu	*cqs[VNVME_MAX_QUEUES];
	atomic_t		pinned_pages;	/* queue rings and data pins */
	struct vnvme_pins	pins;
	atomic_t		bounce_pages;	/* data buffers in flight */
	atomic_t		admin_bounce_pages;	/* of those, admin commands' */
	atomic_t		throttled;	/* an SQ waits for buffers */
	wait_queue_head_t	idle_wait;	/* inflight drops to zero */

	/* MSI-X and REQ eventfds */
	spinlock_t		irq_lock;
	unsigned int		nr_vectors;
	struct eventfd_ctx	*msix_trig[VNVME_MAX_VECTORS];
	struct eventfd_ctx	*req_trig;

	/* Admin state, touched only by the admin worker (and reset). */
	struct vnvme_features	feat;
	spinlock_t		aer_lock;
	struct vnvme_req	*aer_reqs[VNVME_AERL + 1];
	unsigned int		nr_aer;
	u32			aer_pending[8];	/* queued event DW0s */
	unsigned int		nr_aer_pending;
	u8			aer_masked;	/* bit per event type */

	spinlock_t		log_lock;
	struct vnvme_error_entry err_log[VNVME_ERR_LOG_ENTRIES];
	unsigned int		err_log_next;
	u32			changed_ns[VNVME_MAX_NS];
	unsigned int		nr_changed_ns;
	bool			changed_ns_overflow;
	struct vnvme_smart	smart;

	/* Namespaces */
	struct mutex		ns_lock;
	struct vnvme_ns		ns[VNVME_MAX_NS];

	/* Statistics (stats.c) */
	struct vnvme_io_stats	queue_stats[VNVME_MAX_QUEUES];
	struct vnvme_io_stats	ns_stats[VNVME_MAX_NS];
	atomic64_t		status_counts[VNVME_STATUS_SLOTS];

	struct vnvme_mig	mig;
};

/*
 * One command in flight, from its SQ's pool (sq->reqs).  It goes back to the
 * pool when it retires, and may be reused at once: nothing may touch it
 * after vnvme_req_complete() has queued it, except the CQ drain that retires
 * it.
 */
struct vnvme_req {
	struct vnvme_sq		*sq;
	struct vnvme_sqe	cmd;
	struct vnvme_backing	*backing;	/* holds backing->ref */
	u16			status;
	u32			dw0;
	u64			start_ns;
	u64			slba;

	/*
	 * data: a bounce buffer of whole pages, copied to the guest at
	 * completion; or, zero-copy (pins set), the guest's own pages, one
	 * per page-sized piece of segs in order, pins[i] holding pages[i].
	 */
	bool			to_guest;
	u32			len;
	unsigned int		nr_pages;
	unsigned int		nr_segs;	/* beside nr_pages: 192 bytes in all */
	struct page		**pages;
	struct vnvme_dma_seg	*segs;
	struct vnvme_pin	**pins;

	/* On cq->done while it is posted; on sq->free_reqs while it is free. */
	struct llist_node	done_node;
	struct list_head	overflow_node;
	struct work_struct	work;		/* for commands run synchronously */
};

static inline struct vnvme_ctrl *vdev_to_ctrl(struct vfio_device *vdev)
{
	return container_of(vdev, struct vnvme_ctrl, vdev);
}

static inline struct device *vnvme_dev(struct vnvme_ctrl *ctrl)
{
	return &ctrl->mdev->dev;
}

/* The queues of ctrl's tables, for a caller that holds queue_lock. */
static inline struct vnvme_sq *vnvme_sq_locked(struct vnvme_ctrl *ctrl, int qid)
{
	return rcu_dereference_protected(ctrl->sqs[qid],
					 lockdep_is_held(&ctrl->queue_lock));
}

static inline struct vnvme_cq *vnvme_cq_locked(struct vnvme_ctrl *ctrl, int qid)
{
	return rcu_dereference_protected(ctrl->cqs[qid],
					 lockdep_is_held(&ctrl->queue_lock));
}

static inline bool vnvme_ctrl_ready(struct vnvme_ctrl *ctrl)
{
	return READ_ONCE(ctrl->csts) & VNVME_CSTS_RDY;
}

/* main.c */
extern unsigned int vnvme_max_pinned_pages;
extern unsigned int vnvme_max_bounce_pages;
extern bool vnvme_shadow_doorbells;
extern bool vnvme_inline_fetch;
extern bool vnvme_zero_copy;
extern ushort vnvme_vendor_id;
extern ushort vnvme_device_id;
extern ushort vnvme_subsys_vendor_id;
extern ushort vnvme_subsys_id;

/* mdev.c */
extern struct mdev_driver vnvme_mdev_driver;

/* pci.c */
void vnvme_pci_init_config(struct vnvme_ctrl *ctrl);
void vnvme_pci_reset_config(struct vnvme_ctrl *ctrl);
int vnvme_pci_config_rw(struct vnvme_ctrl *ctrl, u64 pos, void *buf,
			size_t count, bool is_write);

/* regs.c */
void vnvme_regs_init(struct vnvme_ctrl *ctrl);
int vnvme_bar0_rw(struct vnvme_ctrl *ctrl, u64 pos, void *buf, size_t count,
		  bool is_write);
void vnvme_ctrl_reset(struct vnvme_ctrl *ctrl);
void vnvme_ctrl_fatal(struct vnvme_ctrl *ctrl, const char *why,
		      bool only_if_pending);
const char *vnvme_ctrl_state_name(struct vnvme_ctrl *ctrl);

/* queue.c */
int vnvme_cq_create(struct vnvme_ctrl *ctrl, u16 qid, u64 iova, u16 size,
		    u16 vector, bool irq_enabled);
int vnvme_sq_create(struct vnvme_ctrl *ctrl, u16 qid, u64 iova, u16 size,
		    u16 cqid);
void vnvme_sq_delete(struct vnvme_ctrl *ctrl, u16 qid);
void vnvme_cq_delete(struct vnvme_ctrl *ctrl, u16 qid);
void vnvme_queues_delete_all(struct vnvme_ctrl *ctrl);
bool vnvme_queues_stop_io(struct vnvme_ctrl *ctrl);
void vnvme_doorbell_write(struct vnvme_ctrl *ctrl, unsigned int idx, u32 val);
void vnvme_req_complete(struct vnvme_req *req);
void vnvme_queues_kick_all(struct vnvme_ctrl *ctrl);
bool vnvme_sq_mark_abort(struct vnvme_ctrl *ctrl, u16 sqid, u16 cid);
unsigned int vnvme_queues_quiesce(struct vnvme_ctrl *ctrl);
void vnvme_queues_resume(struct vnvme_ctrl *ctrl);
struct vnvme_req *vnvme_sq_adopt_req(struct vnvme_sq *sq, u8 opcode, u16 cid);

/* dma.c */
void vnvme_pins_init(struct vnvme_ctrl *ctrl);
void vnvme_pins_forget_revoked(struct vnvme_ctrl *ctrl);
void vnvme_pins_dma_unmap(struct vnvme_ctrl *ctrl, u64 iova, u64 len);
bool vnvme_pins_revoked(struct vnvme_pins *pins, u64 start, u64 end);
int vnvme_ring_setup(struct vnvme_ctrl *ctrl, struct vnvme_ring *ring,
		     u64 iova, size_t len);
void vnvme_ring_teardown(struct vnvme_ctrl *ctrl, struct vnvme_ring *ring);
int vnvme_ring_read(struct vnvme_ctrl *ctrl, struct vnvme_ring *ring,
		    size_t off, void *buf, size_t len);
int vnvme_ring_write(struct vnvme_ctrl *ctrl, struct vnvme_ring *ring,
		     size_t off, const void *buf, size_t len);
u16 vnvme_req_map_data(struct vnvme_req *req, u32 len, bool to_guest);
u16 vnvme_req_copy_data(struct vnvme_req *req, bool to_guest);
void vnvme_req_free_data(struct vnvme_req *req);
void vnvme_req_fill(struct vnvme_req *req, const void *src, size_t len);
void vnvme_req_extract(struct vnvme_req *req, void *dst, size_t len);
bool vnvme_bounce_available(struct vnvme_ctrl *ctrl, bool admin);
u16 vnvme_req_map_bio_data(struct vnvme_req *req, u32 len, bool to_guest,
			   struct block_device *bdev);
void vnvme_req_data_done(struct vnvme_req *req, bool discard);

/* pincache.c */
void vnvme_pincache_init(struct vnvme_pins *pins);
bool vnvme_pincache_get(struct vnvme_req *req);
bool vnvme_pincache_put(struct vnvme_req *req);
void vnvme_pincache_free(struct vnvme_req *req);
bool vnvme_pins_charge(struct vnvme_ctrl *ctrl, unsigned int nr);
void vnvme_pincache_revoke_locked(struct vnvme_ctrl *ctrl, u64 start, u64 end,
				  struct list_head *gone);
void vnvme_pincache_unpin_list(struct vnvme_ctrl *ctrl, struct list_head *gone);
bool vnvme_pincache_busy_locked(struct vnvme_pins *pins, u64 start, u64 end);
void vnvme_pincache_drop_all(struct vnvme_ctrl *ctrl);

/* dbbuf.c */
void vnvme_dbbuf_init(struct vnvme_ctrl *ctrl);
u16 vnvme_dbbuf_config(struct vnvme_ctrl *ctrl, u64 shadow_iova,
		       u64 eventidx_iova);
void vnvme_dbbuf_release(struct vnvme_ctrl *ctrl);
u32 vnvme_db_read(struct vnvme_ctrl *ctrl, unsigned int idx, u32 idle);
void vnvme_dbbuf_mirror(struct vnvme_ctrl *ctrl, unsigned int idx, u32 val);
int vnvme_dbbuf_restore(struct vnvme_ctrl *ctrl, u64 shadow_iova,
			u64 eventidx_iova);

/* dbpage.c */
void vnvme_dbpage_init(struct vnvme_ctrl *ctrl);
void vnvme_dbpage_destroy(struct vnvme_ctrl *ctrl);
const char *vnvme_dbpage_mode_name(struct vnvme_ctrl *ctrl);
int vnvme_dbpage_set_mode(struct vnvme_ctrl *ctrl, const char *val);
int vnvme_dbpage_open(struct vnvme_ctrl *ctrl);
void vnvme_dbpage_close(struct vnvme_ctrl *ctrl);
void vnvme_dbpage_start(struct vnvme_ctrl *ctrl);
void vnvme_dbpage_stop(struct vnvme_ctrl *ctrl);
void vnvme_dbpage_drain(struct vnvme_ctrl *ctrl);
bool vnvme_dbpage_post(struct vnvme_ctrl *ctrl, unsigned int idx, u32 val);
int vnvme_dbpage_mmap(struct vfio_device *vdev, struct vm_area_struct *vma);
int vnvme_dbpage_region_info(struct vnvme_ctrl *ctrl,
			     struct vfio_region_info *info, void __user *uarg);
ssize_t vnvme_dbpage_show(struct vnvme_ctrl *ctrl, char *buf);

/* irq.c */
int vnvme_irq_set(struct vnvme_ctrl *ctrl, struct vfio_irq_set *hdr,
		  void __user *data);
void vnvme_irq_disable_all(struct vnvme_ctrl *ctrl);
void vnvme_irq_signal(struct vnvme_ctrl *ctrl, u16 vector);
void vnvme_cq_irq(struct vnvme_cq *cq, unsigned int posted);
void vnvme_cq_irq_init(struct vnvme_cq *cq);
void vnvme_cq_irq_stop(struct vnvme_cq *cq);
void vnvme_irq_request(struct vnvme_ctrl *ctrl);

/* admin.c */
void vnvme_admin_exec(struct vnvme_req *req);
void vnvme_admin_reset(struct vnvme_ctrl *ctrl);
void vnvme_aen_post(struct vnvme_ctrl *ctrl, u8 type, u8 info, u8 log_page);
void vnvme_aer_deliver_pending(struct vnvme_ctrl *ctrl);
void vnvme_error_log_add(struct vnvme_ctrl *ctrl, struct vnvme_req *req);
void vnvme_admin_new_user(struct vnvme_ctrl *ctrl);

/* io.c */
void vnvme_io_exec(struct vnvme_req *req);

/* ns.c */
void vnvme_ns_init(struct vnvme_ctrl *ctrl);
void vnvme_ns_release_all(struct vnvme_ctrl *ctrl);
struct vnvme_backing *vnvme_ns_get(struct vnvme_ctrl *ctrl, u32 nsid);
void vnvme_ns_put(struct vnvme_backing *backing);
bool vnvme_ns_active(struct vnvme_ctrl *ctrl, u32 nsid);
int vnvme_ns_set_path(struct vnvme_ns *ns, const char *path);
int vnvme_ns_enable(struct vnvme_ns *ns);
int vnvme_ns_disable(struct vnvme_ns *ns);
int vnvme_ns_flush_all(struct vnvme_ctrl *ctrl);

/* migration.c */
void vnvme_mig_init(struct vnvme_ctrl *ctrl);
void vnvme_mig_reset(struct vnvme_ctrl *ctrl);
void vnvme_mig_close(struct vnvme_ctrl *ctrl);
int vnvme_mig_device_feature(struct vfio_device *vdev, u32 flags,
			     void __user *arg, size_t argsz);

/* stats.c */
void vnvme_stats_account(struct vnvme_req *req);
void vnvme_stats_irq(struct vnvme_ctrl *ctrl, u16 qid);
u16 vnvme_stats_slot_status(unsigned int slot);

/*
 * netlink.c: generic netlink family "vnvme" (events and statistics).
 * vnvme_notify() may be called from any context, hard IRQ included.
 */
enum vnvme_event {
	VNVME_EVENT_INSTANCE_CREATED,
	VNVME_EVENT_INSTANCE_REMOVED,
	VNVME_EVENT_CTRL_ENABLED,
	VNVME_EVENT_CTRL_DISABLED,
	VNVME_EVENT_CTRL_SHUTDOWN,
	VNVME_EVENT_CTRL_RESET,
	VNVME_EVENT_CTRL_FATAL,
	VNVME_EVENT_NS_ATTACHED,
	VNVME_EVENT_NS_DETACHED,
	VNVME_EVENT_IO_ERROR,
};
int vnvme_netlink_init(void);
void vnvme_netlink_exit(void);
void vnvme_notify(struct vnvme_ctrl *ctrl, enum vnvme_event event, u32 nsid,
		  u16 status);

/* sysfs.c */
extern const struct attribute_group *vnvme_mdev_groups[];
void vnvme_sysfs_init(void);

#endif /* VNVME_H */
