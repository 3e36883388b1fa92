// SPDX-License-Identifier: GPL-2.0
/*
 * Generic netlink family "vnvme": instance and statistics dumps, a
 * RESET_STATS command and the "events" multicast group.
 *
 * Configuration stays in sysfs; this family reports what changes over time.
 * The ABI is include/uapi/vnvme.h.
 *
 * Everything here needs CAP_NET_ADMIN: instances show the backing-device
 * paths (the host's storage layout), statistics and events a VM's I/O and
 * its errors, which are the admin's business, not any local user's.  The
 * requests check it per operation (GENL_ADMIN_PERM, against the opener of
 * the socket), the events group when a socket joins it.
 *
 * Instances are tracked here, not in the mdev core: probe reports
 * INSTANCE_CREATED after the vfio device is registered and remove reports
 * INSTANCE_REMOVED after it is unregistered but before the controller is
 * freed, so an instance found on vnvme_nl_insts under vnvme_nl_lock is alive.
 *
 * vnvme_notify() may be called from hard IRQ context (bio end_io) and with
 * spinlocks held.  It only copies the event into a fixed ring, dropping and
 * counting on overflow; a work item builds and multicasts the messages.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/rculist.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/jiffies.h>
#include <linux/timekeeping.h>
#include <linux/workqueue.h>
#include <net/genetlink.h>

#include "vnvme.h"
#include "uapi/vnvme.h"

/* I/O error events per instance and second; the rest are counted. */
#define VNVME_NL_IO_ERR_BURST	10
/* Events waiting for the work item; more are dropped and counted. */
#define VNVME_NL_EVENT_RING	256
/* Large enough for any instance: netlink_dump's default is one page. */
#define VNVME_NL_DUMP_ALLOC	32768

struct vnvme_nl_inst {
	struct list_head	node;		/* vnvme_nl_insts; RCU for readers */
	struct vnvme_ctrl	*ctrl;
	u64			id;		/* creation order; resumes dumps */
	spinlock_t		rl_lock;	/* I/O error rate limit */
	unsigned long		rl_begin;
	unsigned int		rl_count;
	unsigned int		rl_suppressed;
	struct rcu_head		rcu;
};

static LIST_HEAD(vnvme_nl_insts);
static DEFINE_MUTEX(vnvme_nl_lock);	/* the list and what it points to */
static u64 vnvme_nl_next_id = 1;
static unsigned int vnvme_nl_gen = 1;	/* changes on create/remove */

struct vnvme_nl_evrec {
	u8			uuid[VNVME_UUID_LEN];
	const struct vnvme_type	*type;		/* static in main.c */
	const char		*state;		/* string literal */
	u64			seq;
	u64			time_ns;
	u32			event;		/* enum vnvme_nl_event */
	u32			nsid;
	u32			suppressed;
	u32			lost;
	u16			status;
};

static struct {
	spinlock_t		lock;
	unsigned int		head;
	unsigned int		count;
	u32			lost;		/* since the last queued event */
	u64			seq;
	struct vnvme_nl_evrec	ring[VNVME_NL_EVENT_RING];
} vnvme_nl_evq = {
	.lock = __SPIN_LOCK_UNLOCKED(vnvme_nl_evq.lock),
};

static void vnvme_nl_event_work(struct work_struct *work);
static DECLARE_WORK(vnvme_nl_work, vnvme_nl_event_work);

static struct genl_family vnvme_nl_family;

enum { VNVME_NL_MCGRP_EVENTS };

/* ---- Message builders --------------------------------------------------- */

/*
 * mdev keeps the UUID as a guid_t (first three fields little endian, as
 * guid_parse() stores them); netlink carries the bytes in the order of the
 * canonical string, so userspace can parse and print it as a plain UUID.
 */
static void vnvme_nl_uuid(const struct vnvme_ctrl *ctrl, u8 *uuid)
{
	const u8 *g = ctrl->mdev->uuid.b;

	uuid[0] = g[3];
	uuid[1] = g[2];
	uuid[2] = g[1];
	uuid[3] = g[0];
	uuid[4] = g[5];
	uuid[5] = g[4];
	uuid[6] = g[7];
	uuid[7] = g[6];
	memcpy(uuid + 8, g + 8, 8);
}

static int vnvme_nl_put_uuid(struct sk_buff *skb, const struct vnvme_ctrl *ctrl)
{
	u8 uuid[VNVME_UUID_LEN];

	vnvme_nl_uuid(ctrl, uuid);
	return nla_put(skb, VNVME_ATTR_UUID, VNVME_UUID_LEN, uuid);
}

static int vnvme_nl_put_type(struct sk_buff *skb, const struct vnvme_type *type)
{
	char name[32];

	snprintf(name, sizeof(name), "%s-%s", KBUILD_MODNAME,
		 type->mtype.sysfs_name);
	return nla_put_string(skb, VNVME_ATTR_TYPE, name);
}

static struct vnvme_backing *vnvme_nl_backing(struct vnvme_ns *ns)
{
	return rcu_dereference_protected(ns->backing,
					 lockdep_is_held(&ns->ctrl->ns_lock));
}

static int vnvme_nl_put_ns(struct sk_buff *skb, struct vnvme_ns *ns)
{
	struct vnvme_backing *b = vnvme_nl_backing(ns);
	struct nlattr *nest;

	lockdep_assert_held(&ns->ctrl->ns_lock);

	if (!b && !ns->device_path)
		return 0;
	nest = nla_nest_start(skb, VNVME_ATTR_NS);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u32(skb, VNVME_NS_ATTR_NSID, ns->nsid) ||
	    (ns->device_path &&
	     nla_put_string(skb, VNVME_NS_ATTR_DEVICE_PATH, ns->device_path)) ||
	    nla_put_u8(skb, VNVME_NS_ATTR_ENABLED, !!b) ||
	    nla_put_u8(skb, VNVME_NS_ATTR_READONLY, b ? b->readonly : ns->readonly) ||
	    nla_put(skb, VNVME_NS_ATTR_NGUID, sizeof(ns->nguid), ns->nguid))
		goto cancel;
	if (b && (nla_put_u64_64bit(skb, VNVME_NS_ATTR_SIZE,
				    b->nr_lbas << b->lba_shift,
				    VNVME_NS_ATTR_PAD) ||
		  nla_put_u32(skb, VNVME_NS_ATTR_LBA_SIZE, 1U << b->lba_shift)))
		goto cancel;
	nla_nest_end(skb, nest);
	return 0;

cancel:
	nla_nest_cancel(skb, nest);
	return -EMSGSIZE;
}

static int vnvme_nl_put_namespaces(struct sk_buff *skb, struct vnvme_ctrl *ctrl)
{
	struct nlattr *nest;
	unsigned int i;
	int ret = 0;

	nest = nla_nest_start(skb, VNVME_ATTR_NAMESPACES);
	if (!nest)
		return -EMSGSIZE;
	mutex_lock(&ctrl->ns_lock);
	for (i = 0; i < VNVME_MAX_NS && !ret; i++)
		ret = vnvme_nl_put_ns(skb, &ctrl->ns[i]);
	mutex_unlock(&ctrl->ns_lock);
	if (ret) {
		nla_nest_cancel(skb, nest);
		return ret;
	}
	nla_nest_end(skb, nest);
	return 0;
}

static unsigned int vnvme_nl_io_queues(struct vnvme_ctrl *ctrl)
{
	unsigned int qid, n = 0;

	rcu_read_lock();
	for (qid = 1; qid < VNVME_MAX_QUEUES; qid++)
		if (rcu_access_pointer(ctrl->sqs[qid]))
			n++;
	rcu_read_unlock();
	return n;
}

/* Puts a message header; with a dump callback, flags an inconsistent dump. */
static void *vnvme_nl_put_hdr(struct sk_buff *skb, struct netlink_callback *cb,
			      struct genl_info *info, u8 cmd)
{
	void *hdr;

	if (!cb)
		return genlmsg_put_reply(skb, info, &vnvme_nl_family, 0, cmd);
	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &vnvme_nl_family, NLM_F_MULTI, cmd);
	if (hdr)
		genl_dump_check_consistent(cb, hdr);
	return hdr;
}

static int vnvme_nl_fill_instance(struct sk_buff *skb, struct vnvme_ctrl *ctrl,
				  struct netlink_callback *cb,
				  struct genl_info *info)
{
	char serial[sizeof(ctrl->serial)];
	char model[sizeof(ctrl->model)];
	char firmware[sizeof(ctrl->firmware)];
	bool opened;
	u8 mdts;
	void *hdr;

	mutex_lock(&ctrl->open_lock);
	memcpy(serial, ctrl->serial, sizeof(serial));
	memcpy(model, ctrl->model, sizeof(model));
	memcpy(firmware, ctrl->firmware, sizeof(firmware));
	mdts = ctrl->mdts;
	opened = ctrl->opened;
	mutex_unlock(&ctrl->open_lock);

	hdr = vnvme_nl_put_hdr(skb, cb, info, VNVME_CMD_GET_INSTANCE);
	if (!hdr)
		return -EMSGSIZE;
	if (vnvme_nl_put_uuid(skb, ctrl) ||
	    vnvme_nl_put_type(skb, ctrl->type) ||
	    nla_put_string(skb, VNVME_ATTR_STATE, vnvme_ctrl_state_name(ctrl)) ||
	    nla_put_string(skb, VNVME_ATTR_SERIAL, serial) ||
	    nla_put_string(skb, VNVME_ATTR_MODEL, model) ||
	    nla_put_string(skb, VNVME_ATTR_FIRMWARE, firmware) ||
	    nla_put_u16(skb, VNVME_ATTR_CNTLID, ctrl->cntlid) ||
	    nla_put_u8(skb, VNVME_ATTR_MDTS, mdts) ||
	    nla_put_u32(skb, VNVME_ATTR_MAX_IO_QUEUES, ctrl->type->nr_io_queues) ||
	    nla_put_u32(skb, VNVME_ATTR_IO_QUEUES, vnvme_nl_io_queues(ctrl)) ||
	    nla_put_u8(skb, VNVME_ATTR_OPENED, opened) ||
	    nla_put_u32(skb, VNVME_ATTR_PINNED_PAGES,
			atomic_read(&ctrl->pinned_pages)) ||
	    nla_put_u8(skb, VNVME_ATTR_ZERO_COPY, READ_ONCE(ctrl->zero_copy)) ||
	    vnvme_nl_put_namespaces(skb, ctrl)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

static bool vnvme_nl_stats_active(struct vnvme_io_stats *st)
{
	return atomic64_read(&st->cmds) || atomic64_read(&st->irqs);
}

/* One VNVME_ATTR_STATS nest: id_attr is the QID (u16) or the NSID (u32). */
static int vnvme_nl_put_io_stats(struct sk_buff *skb, struct vnvme_io_stats *st,
				 int id_attr, u32 id)
{
	struct nlattr *nest, *hist;
	u64 *buckets;
	unsigned int i;

	nest = nla_nest_start(skb, VNVME_ATTR_STATS);
	if (!nest)
		return -EMSGSIZE;
	if ((id_attr == VNVME_STATS_ATTR_QID ?
	     nla_put_u16(skb, id_attr, id) : nla_put_u32(skb, id_attr, id)) ||
	    nla_put_u64_64bit(skb, VNVME_STATS_ATTR_CMDS,
			      atomic64_read(&st->cmds), VNVME_STATS_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, VNVME_STATS_ATTR_BYTES_READ,
			      atomic64_read(&st->bytes_read),
			      VNVME_STATS_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, VNVME_STATS_ATTR_BYTES_WRITTEN,
			      atomic64_read(&st->bytes_written),
			      VNVME_STATS_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, VNVME_STATS_ATTR_ERRORS,
			      atomic64_read(&st->errors), VNVME_STATS_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, VNVME_STATS_ATTR_IRQS,
			      atomic64_read(&st->irqs), VNVME_STATS_ATTR_PAD))
		goto cancel;
	/* 8-byte aligned payload, so readers may use it as a __u64 array. */
	hist = nla_reserve_64bit(skb, VNVME_STATS_ATTR_LAT_HIST,
				 sizeof(u64) * VNVME_LAT_BUCKETS,
				 VNVME_STATS_ATTR_PAD);
	if (!hist)
		goto cancel;
	buckets = nla_data(hist);
	for (i = 0; i < VNVME_LAT_BUCKETS; i++)
		buckets[i] = atomic64_read(&st->lat_us_log2[i]);
	nla_nest_end(skb, nest);
	return 0;

cancel:
	nla_nest_cancel(skb, nest);
	return -EMSGSIZE;
}

static int vnvme_nl_put_status_counts(struct sk_buff *skb,
				      struct vnvme_ctrl *ctrl)
{
	struct nlattr *nest, *entry;
	unsigned int slot;
	u64 count;

	nest = nla_nest_start(skb, VNVME_ATTR_STATUS_COUNTS);
	if (!nest)
		return -EMSGSIZE;
	for (slot = 0; slot < VNVME_STATUS_SLOTS; slot++) {
		count = atomic64_read(&ctrl->status_counts[slot]);
		if (!count)
			continue;
		entry = nla_nest_start(skb, VNVME_ATTR_STATUS_COUNT);
		if (!entry ||
		    nla_put_u16(skb, VNVME_STATUS_ATTR_STATUS,
				vnvme_stats_slot_status(slot)) ||
		    nla_put_u64_64bit(skb, VNVME_STATUS_ATTR_COUNT, count,
				      VNVME_STATUS_ATTR_PAD)) {
			nla_nest_cancel(skb, nest);
			return -EMSGSIZE;
		}
		nla_nest_end(skb, entry);
	}
	nla_nest_end(skb, nest);
	return 0;
}

static int vnvme_nl_put_pin_cache(struct sk_buff *skb, struct vnvme_pins *pins)
{
	struct nlattr *nest = nla_nest_start(skb, VNVME_ATTR_PIN_CACHE);

	if (!nest ||
	    nla_put_u32(skb, VNVME_PIN_CACHE_ATTR_PAGES,
			atomic_read(&pins->data_pages)) ||
	    nla_put_u64_64bit(skb, VNVME_PIN_CACHE_ATTR_HITS,
			      atomic64_read(&pins->hits), VNVME_PIN_CACHE_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, VNVME_PIN_CACHE_ATTR_MISSES,
			      atomic64_read(&pins->misses), VNVME_PIN_CACHE_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, VNVME_PIN_CACHE_ATTR_EVICTIONS,
			      atomic64_read(&pins->evictions),
			      VNVME_PIN_CACHE_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, VNVME_PIN_CACHE_ATTR_BOUNCE_FALLBACKS,
			      atomic64_read(&pins->fallbacks),
			      VNVME_PIN_CACHE_ATTR_PAD))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

static int vnvme_nl_fill_stats(struct sk_buff *skb, struct vnvme_ctrl *ctrl,
			       struct netlink_callback *cb,
			       struct genl_info *info)
{
	struct nlattr *nest;
	unsigned int i;
	void *hdr;

	hdr = vnvme_nl_put_hdr(skb, cb, info, VNVME_CMD_GET_STATS);
	if (!hdr)
		return -EMSGSIZE;
	if (vnvme_nl_put_uuid(skb, ctrl) ||
	    nla_put_u32(skb, VNVME_ATTR_LAT_BUCKETS, VNVME_LAT_BUCKETS))
		goto cancel;

	nest = nla_nest_start(skb, VNVME_ATTR_QUEUE_STATS);
	if (!nest)
		goto cancel;
	for (i = 0; i < VNVME_MAX_QUEUES; i++) {
		if (!vnvme_nl_stats_active(&ctrl->queue_stats[i]))
			continue;
		if (vnvme_nl_put_io_stats(skb, &ctrl->queue_stats[i],
					  VNVME_STATS_ATTR_QID, i))
			goto cancel;
	}
	nla_nest_end(skb, nest);

	nest = nla_nest_start(skb, VNVME_ATTR_NS_STATS);
	if (!nest)
		goto cancel;
	for (i = 0; i < VNVME_MAX_NS; i++) {
		if (!vnvme_nl_stats_active(&ctrl->ns_stats[i]))
			continue;
		if (vnvme_nl_put_io_stats(skb, &ctrl->ns_stats[i],
					  VNVME_STATS_ATTR_NSID, i + 1))
			goto cancel;
	}
	nla_nest_end(skb, nest);

	if (vnvme_nl_put_status_counts(skb, ctrl) ||
	    vnvme_nl_put_pin_cache(skb, &ctrl->pins))
		goto cancel;
	genlmsg_end(skb, hdr);
	return 0;

cancel:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

/* Upper bound of a GET_STATS reply payload (every queue and NS active). */
static size_t vnvme_nl_stats_size(void)
{
	size_t entry = nla_total_size(0) + nla_total_size(sizeof(u32)) +
		       5 * nla_total_size_64bit(sizeof(u64)) +
		       nla_total_size_64bit(sizeof(u64) * VNVME_LAT_BUCKETS);
	size_t status = nla_total_size(0) + nla_total_size(sizeof(u16)) +
			nla_total_size_64bit(sizeof(u64));

	size_t pin_cache = nla_total_size(0) + nla_total_size(sizeof(u32)) +
			   4 * nla_total_size_64bit(sizeof(u64));

	return nla_total_size(VNVME_UUID_LEN) + nla_total_size(sizeof(u32)) +
	       3 * nla_total_size(0) +
	       (VNVME_MAX_QUEUES + VNVME_MAX_NS) * entry +
	       VNVME_STATUS_SLOTS * status + pin_cache;
}

/* ---- Requests ----------------------------------------------------------- */

typedef int (*vnvme_nl_fill_t)(struct sk_buff *skb, struct vnvme_ctrl *ctrl,
			       struct netlink_callback *cb,
			       struct genl_info *info);

static struct vnvme_nl_inst *vnvme_nl_find_uuid(const u8 *uuid)
{
	struct vnvme_nl_inst *inst;

	lockdep_assert_held(&vnvme_nl_lock);

	list_for_each_entry(inst, &vnvme_nl_insts, node) {
		u8 u[VNVME_UUID_LEN];

		vnvme_nl_uuid(inst->ctrl, u);
		if (!memcmp(u, uuid, VNVME_UUID_LEN))
			return inst;
	}
	return NULL;
}

/* Finds the instance a do request names; the caller holds vnvme_nl_lock. */
static struct vnvme_ctrl *vnvme_nl_req_ctrl(struct genl_info *info)
{
	struct vnvme_nl_inst *inst;

	if (GENL_REQ_ATTR_CHECK(info, VNVME_ATTR_UUID))
		return ERR_PTR(-EINVAL);
	inst = vnvme_nl_find_uuid(nla_data(info->attrs[VNVME_ATTR_UUID]));
	if (!inst) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[VNVME_ATTR_UUID],
				    "no vnvme instance with this UUID");
		return ERR_PTR(-ENODEV);
	}
	return inst->ctrl;
}

/*
 * A reply for one instance.  Device paths make the size of an instance
 * message open-ended, so grow the buffer until it fits.
 */
static int vnvme_nl_doit(struct genl_info *info, vnvme_nl_fill_t fill,
			 size_t size)
{
	struct vnvme_ctrl *ctrl;
	struct sk_buff *skb;
	int ret;

	mutex_lock(&vnvme_nl_lock);
	ctrl = vnvme_nl_req_ctrl(info);
	if (IS_ERR(ctrl)) {
		mutex_unlock(&vnvme_nl_lock);
		return PTR_ERR(ctrl);
	}
	for (;;) {
		skb = genlmsg_new(size, GFP_KERNEL);
		if (!skb) {
			ret = -ENOMEM;
			break;
		}
		ret = fill(skb, ctrl, NULL, info);
		if (ret != -EMSGSIZE || size >= 16 * VNVME_NL_DUMP_ALLOC)
			break;
		nlmsg_free(skb);
		size *= 2;
	}
	mutex_unlock(&vnvme_nl_lock);
	if (ret) {
		nlmsg_free(skb);
		return ret;
	}
	return genlmsg_reply(skb, info);
}

/* Dumps resume after the last instance sent, by creation order. */
static int vnvme_nl_dumpit(struct sk_buff *skb, struct netlink_callback *cb,
			   vnvme_nl_fill_t fill)
{
	struct vnvme_nl_inst *inst;
	int ret = 0;

	mutex_lock(&vnvme_nl_lock);
	cb->seq = vnvme_nl_gen;
	list_for_each_entry(inst, &vnvme_nl_insts, node) {
		if (inst->id < cb->args[0])
			continue;
		ret = fill(skb, inst->ctrl, cb, NULL);
		if (ret)
			break;
		cb->args[0] = inst->id + 1;
	}
	mutex_unlock(&vnvme_nl_lock);
	/* A full skb is sent and the dump goes on; an empty one means too big. */
	if (ret == -EMSGSIZE && skb->len)
		return skb->len;
	return ret ?: skb->len;
}

static int vnvme_nl_dump_start(struct netlink_callback *cb)
{
	cb->min_dump_alloc = VNVME_NL_DUMP_ALLOC;
	return 0;
}

static int vnvme_nl_get_instance_doit(struct sk_buff *skb,
				      struct genl_info *info)
{
	return vnvme_nl_doit(info, vnvme_nl_fill_instance, NLMSG_GOODSIZE);
}

static int vnvme_nl_get_instance_dumpit(struct sk_buff *skb,
					struct netlink_callback *cb)
{
	return vnvme_nl_dumpit(skb, cb, vnvme_nl_fill_instance);
}

static int vnvme_nl_get_stats_doit(struct sk_buff *skb, struct genl_info *info)
{
	return vnvme_nl_doit(info, vnvme_nl_fill_stats, vnvme_nl_stats_size());
}

static int vnvme_nl_get_stats_dumpit(struct sk_buff *skb,
				     struct netlink_callback *cb)
{
	return vnvme_nl_dumpit(skb, cb, vnvme_nl_fill_stats);
}

static void vnvme_nl_io_stats_reset(struct vnvme_io_stats *st)
{
	unsigned int i;

	atomic64_set(&st->cmds, 0);
	atomic64_set(&st->bytes_read, 0);
	atomic64_set(&st->bytes_written, 0);
	atomic64_set(&st->errors, 0);
	atomic64_set(&st->irqs, 0);
	for (i = 0; i < VNVME_LAT_BUCKETS; i++)
		atomic64_set(&st->lat_us_log2[i], 0);
}

/* Commands completing meanwhile may be counted or not; both are fine. */
static int vnvme_nl_reset_stats_doit(struct sk_buff *skb,
				     struct genl_info *info)
{
	struct vnvme_ctrl *ctrl;
	unsigned int i;

	mutex_lock(&vnvme_nl_lock);
	ctrl = vnvme_nl_req_ctrl(info);
	if (IS_ERR(ctrl)) {
		mutex_unlock(&vnvme_nl_lock);
		return PTR_ERR(ctrl);
	}
	for (i = 0; i < VNVME_MAX_QUEUES; i++)
		vnvme_nl_io_stats_reset(&ctrl->queue_stats[i]);
	for (i = 0; i < VNVME_MAX_NS; i++)
		vnvme_nl_io_stats_reset(&ctrl->ns_stats[i]);
	for (i = 0; i < VNVME_STATUS_SLOTS; i++)
		atomic64_set(&ctrl->status_counts[i], 0);
	atomic64_set(&ctrl->pins.hits, 0);
	atomic64_set(&ctrl->pins.misses, 0);
	atomic64_set(&ctrl->pins.evictions, 0);
	atomic64_set(&ctrl->pins.fallbacks, 0);
	/* Under the lock: once it is dropped the instance may go away. */
	dev_info(vnvme_dev(ctrl), "statistics reset over netlink\n");
	mutex_unlock(&vnvme_nl_lock);
	return 0;
}

/* Every request names at most an instance; anything else is rejected. */
static const struct nla_policy vnvme_nl_policy[VNVME_ATTR_UUID + 1] = {
	[VNVME_ATTR_UUID] = NLA_POLICY_EXACT_LEN(VNVME_UUID_LEN),
};

static const struct genl_ops vnvme_nl_ops[] = {
	{
		.cmd	= VNVME_CMD_GET_INSTANCE,
		.doit	= vnvme_nl_get_instance_doit,
		.start	= vnvme_nl_dump_start,
		.dumpit	= vnvme_nl_get_instance_dumpit,
		.policy	= vnvme_nl_policy,
		.maxattr = ARRAY_SIZE(vnvme_nl_policy) - 1,
		.flags	= GENL_ADMIN_PERM,
	},
	{
		.cmd	= VNVME_CMD_GET_STATS,
		.doit	= vnvme_nl_get_stats_doit,
		.start	= vnvme_nl_dump_start,
		.dumpit	= vnvme_nl_get_stats_dumpit,
		.policy	= vnvme_nl_policy,
		.maxattr = ARRAY_SIZE(vnvme_nl_policy) - 1,
		.flags	= GENL_ADMIN_PERM,
	},
	{
		.cmd	= VNVME_CMD_RESET_STATS,
		.doit	= vnvme_nl_reset_stats_doit,
		.policy	= vnvme_nl_policy,
		.maxattr = ARRAY_SIZE(vnvme_nl_policy) - 1,
		.flags	= GENL_ADMIN_PERM,
	},
};

/* Events carry backing-device paths and a VM's I/O errors: admins only. */
static const struct genl_multicast_group vnvme_nl_mcgrps[] = {
	[VNVME_NL_MCGRP_EVENTS] = {
		.name	= VNVME_GENL_MCGRP_EVENTS,
		.flags	= VNVME_GENL_MCAST_CAP_NET_ADMIN,
	},
};

static struct genl_family vnvme_nl_family __ro_after_init = {
	.name		= VNVME_GENL_NAME,
	.version	= VNVME_GENL_VERSION,
	.module		= THIS_MODULE,
	.ops		= vnvme_nl_ops,
	.n_ops		= ARRAY_SIZE(vnvme_nl_ops),
	.mcgrps		= vnvme_nl_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(vnvme_nl_mcgrps),
};

/* ---- Events ------------------------------------------------------------- */

/* Adds what is known now about an attached namespace, if it still is. */
static int vnvme_nl_put_ns_event(struct sk_buff *skb,
				 const struct vnvme_nl_evrec *ev)
{
	struct vnvme_nl_inst *inst;
	struct vnvme_backing *b;
	struct vnvme_ns *ns;
	int ret = 0;

	if (ev->nsid < 1 || ev->nsid > VNVME_MAX_NS)
		return 0;
	mutex_lock(&vnvme_nl_lock);
	inst = vnvme_nl_find_uuid(ev->uuid);
	if (inst) {
		ns = &inst->ctrl->ns[ev->nsid - 1];
		mutex_lock(&inst->ctrl->ns_lock);
		b = vnvme_nl_backing(ns);
		if (b && ns->device_path)
			ret = nla_put_string(skb, VNVME_ATTR_DEVICE_PATH,
					     ns->device_path) ?:
			      nla_put_u64_64bit(skb, VNVME_ATTR_SIZE,
						b->nr_lbas << b->lba_shift,
						VNVME_ATTR_PAD);
		mutex_unlock(&inst->ctrl->ns_lock);
	}
	mutex_unlock(&vnvme_nl_lock);
	return ret;
}

static void vnvme_nl_event_send(const struct vnvme_nl_evrec *ev)
{
	struct sk_buff *skb;
	void *hdr;
	int ret;

	skb = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!skb)
		return;
	hdr = genlmsg_put(skb, 0, 0, &vnvme_nl_family, 0, VNVME_CMD_EVENT);
	if (!hdr)
		goto free;
	ret = nla_put_u32(skb, VNVME_ATTR_EVENT, ev->event) ?:
	      nla_put_u64_64bit(skb, VNVME_ATTR_EVENT_SEQ, ev->seq,
				VNVME_ATTR_PAD) ?:
	      nla_put_u64_64bit(skb, VNVME_ATTR_EVENT_TIME_NS, ev->time_ns,
				VNVME_ATTR_PAD) ?:
	      nla_put(skb, VNVME_ATTR_UUID, VNVME_UUID_LEN, ev->uuid);
	if (!ret && ev->lost)
		ret = nla_put_u32(skb, VNVME_ATTR_EVENTS_LOST, ev->lost);
	if (!ret && ev->state)
		ret = nla_put_string(skb, VNVME_ATTR_STATE, ev->state);
	if (!ret && ev->event == VNVME_NL_EVENT_INSTANCE_CREATED)
		ret = vnvme_nl_put_type(skb, ev->type);
	if (!ret && ev->nsid)
		ret = nla_put_u32(skb, VNVME_ATTR_NSID, ev->nsid);
	if (!ret && ev->event == VNVME_NL_EVENT_IO_ERROR) {
		ret = nla_put_u16(skb, VNVME_ATTR_STATUS, ev->status);
		if (!ret && ev->suppressed)
			ret = nla_put_u32(skb, VNVME_ATTR_SUPPRESSED,
					  ev->suppressed);
	}
	if (!ret && ev->event == VNVME_NL_EVENT_NS_ATTACHED)
		ret = vnvme_nl_put_ns_event(skb, ev);
	if (ret)
		goto free;
	genlmsg_end(skb, hdr);
	/* -ESRCH: the last listener left meanwhile. */
	genlmsg_multicast(&vnvme_nl_family, skb, 0, VNVME_NL_MCGRP_EVENTS,
			  GFP_KERNEL);
	return;

free:
	nlmsg_free(skb);
}

static void vnvme_nl_event_work(struct work_struct *work)
{
	struct vnvme_nl_evrec ev;

	for (;;) {
		spin_lock_irq(&vnvme_nl_evq.lock);
		if (!vnvme_nl_evq.count) {
			spin_unlock_irq(&vnvme_nl_evq.lock);
			return;
		}
		ev = vnvme_nl_evq.ring[vnvme_nl_evq.head];
		vnvme_nl_evq.head = (vnvme_nl_evq.head + 1) % VNVME_NL_EVENT_RING;
		vnvme_nl_evq.count--;
		spin_unlock_irq(&vnvme_nl_evq.lock);
		vnvme_nl_event_send(&ev);
		cond_resched();
	}
}

/* Any context: copies the event into the ring and kicks the work item. */
static void vnvme_nl_event_queue(struct vnvme_ctrl *ctrl, u32 event, u32 nsid,
				 u16 status, u32 suppressed, bool with_state)
{
	struct vnvme_nl_evrec *ev;
	unsigned long flags;

	spin_lock_irqsave(&vnvme_nl_evq.lock, flags);
	vnvme_nl_evq.seq++;
	if (vnvme_nl_evq.count == VNVME_NL_EVENT_RING) {
		vnvme_nl_evq.lost++;
		spin_unlock_irqrestore(&vnvme_nl_evq.lock, flags);
		return;
	}
	ev = &vnvme_nl_evq.ring[(vnvme_nl_evq.head + vnvme_nl_evq.count) %
				VNVME_NL_EVENT_RING];
	vnvme_nl_evq.count++;
	vnvme_nl_uuid(ctrl, ev->uuid);
	ev->type = ctrl->type;
	ev->state = with_state ? vnvme_ctrl_state_name(ctrl) : NULL;
	ev->seq = vnvme_nl_evq.seq;
	ev->time_ns = ktime_get_real_ns();
	ev->event = event;
	ev->nsid = nsid;
	ev->status = status;
	ev->suppressed = suppressed;
	ev->lost = vnvme_nl_evq.lost;
	vnvme_nl_evq.lost = 0;
	spin_unlock_irqrestore(&vnvme_nl_evq.lock, flags);
	schedule_work(&vnvme_nl_work);
}

/* Any context: false if this instance already had its share this second. */
static bool vnvme_nl_io_error_allowed(struct vnvme_ctrl *ctrl, u32 *suppressed)
{
	struct vnvme_nl_inst *inst;
	unsigned long flags;
	bool allowed = false;

	rcu_read_lock();
	list_for_each_entry_rcu(inst, &vnvme_nl_insts, node) {
		if (inst->ctrl != ctrl)
			continue;
		spin_lock_irqsave(&inst->rl_lock, flags);
		if (time_after_eq(jiffies, inst->rl_begin + HZ)) {
			inst->rl_begin = jiffies;
			inst->rl_count = 0;
		}
		if (inst->rl_count < VNVME_NL_IO_ERR_BURST) {
			inst->rl_count++;
			*suppressed = inst->rl_suppressed;
			inst->rl_suppressed = 0;
			allowed = true;
		} else {
			inst->rl_suppressed++;
		}
		spin_unlock_irqrestore(&inst->rl_lock, flags);
		break;
	}
	rcu_read_unlock();
	return allowed;
}

/* Process context (probe). */
static void vnvme_nl_inst_add(struct vnvme_ctrl *ctrl)
{
	struct vnvme_nl_inst *inst;

	/* On failure the instance works but is not listed over netlink. */
	inst = kzalloc(sizeof(*inst), GFP_KERNEL);
	if (!inst)
		return;
	inst->ctrl = ctrl;
	spin_lock_init(&inst->rl_lock);
	inst->rl_begin = jiffies;
	mutex_lock(&vnvme_nl_lock);
	inst->id = vnvme_nl_next_id++;
	vnvme_nl_gen++;
	list_add_tail_rcu(&inst->node, &vnvme_nl_insts);
	mutex_unlock(&vnvme_nl_lock);
}

/* Process context (remove), before the controller is freed. */
static void vnvme_nl_inst_del(struct vnvme_ctrl *ctrl)
{
	struct vnvme_nl_inst *inst;

	mutex_lock(&vnvme_nl_lock);
	list_for_each_entry(inst, &vnvme_nl_insts, node) {
		if (inst->ctrl == ctrl) {
			list_del_rcu(&inst->node);
			vnvme_nl_gen++;
			kfree_rcu(inst, rcu);
			break;
		}
	}
	mutex_unlock(&vnvme_nl_lock);
}

static u32 vnvme_nl_event_id(enum vnvme_event event)
{
	switch (event) {
	case VNVME_EVENT_INSTANCE_CREATED:
		return VNVME_NL_EVENT_INSTANCE_CREATED;
	case VNVME_EVENT_INSTANCE_REMOVED:
		return VNVME_NL_EVENT_INSTANCE_REMOVED;
	case VNVME_EVENT_CTRL_ENABLED:
		return VNVME_NL_EVENT_CTRL_ENABLED;
	case VNVME_EVENT_CTRL_DISABLED:
		return VNVME_NL_EVENT_CTRL_DISABLED;
	case VNVME_EVENT_CTRL_SHUTDOWN:
		return VNVME_NL_EVENT_CTRL_SHUTDOWN;
	case VNVME_EVENT_CTRL_RESET:
		return VNVME_NL_EVENT_CTRL_RESET;
	case VNVME_EVENT_CTRL_FATAL:
		return VNVME_NL_EVENT_CTRL_FATAL;
	case VNVME_EVENT_NS_ATTACHED:
		return VNVME_NL_EVENT_NS_ATTACHED;
	case VNVME_EVENT_NS_DETACHED:
		return VNVME_NL_EVENT_NS_DETACHED;
	case VNVME_EVENT_IO_ERROR:
		return VNVME_NL_EVENT_IO_ERROR;
	}
	return VNVME_NL_EVENT_UNSPEC;
}

void vnvme_notify(struct vnvme_ctrl *ctrl, enum vnvme_event event, u32 nsid,
		  u16 status)
{
	u32 id = vnvme_nl_event_id(event);
	u32 suppressed = 0;

	if (event == VNVME_EVENT_INSTANCE_CREATED)
		vnvme_nl_inst_add(ctrl);
	else if (event == VNVME_EVENT_INSTANCE_REMOVED)
		vnvme_nl_inst_del(ctrl);

	if (id == VNVME_NL_EVENT_UNSPEC ||
	    !genl_has_listeners(&vnvme_nl_family, &init_net,
				VNVME_NL_MCGRP_EVENTS))
		return;
	if (event == VNVME_EVENT_IO_ERROR &&
	    !vnvme_nl_io_error_allowed(ctrl, &suppressed))
		return;
	vnvme_nl_event_queue(ctrl, id, nsid, status, suppressed,
			     event != VNVME_EVENT_INSTANCE_REMOVED &&
			     event != VNVME_EVENT_IO_ERROR &&
			     event != VNVME_EVENT_NS_ATTACHED &&
			     event != VNVME_EVENT_NS_DETACHED);
}

int vnvme_netlink_init(void)
{
	int ret;

	BUILD_BUG_ON(VNVME_LAT_BUCKETS != VNVME_NL_LAT_BUCKETS);
	ret = genl_register_family(&vnvme_nl_family);
	if (ret)
		pr_err("cannot register generic netlink family %s: %d\n",
		       VNVME_GENL_NAME, ret);
	return ret;
}

/* Every instance is gone: deliver what is queued, then unregister. */
void vnvme_netlink_exit(void)
{
	flush_work(&vnvme_nl_work);
	genl_unregister_family(&vnvme_nl_family);
	WARN_ON(!list_empty(&vnvme_nl_insts));
}

MODULE_ALIAS_GENL_FAMILY(VNVME_GENL_NAME);
