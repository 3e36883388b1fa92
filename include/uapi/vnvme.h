/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vnvme.h - generic netlink ABI of the vnvme module (family "vnvme").
 *
 * Netlink reports what changes over time: instance state, statistics and
 * events.  Configuration stays in sysfs (/sys/bus/mdev/devices/<uuid>/).
 *
 * Commands (family version 1):
 *
 *   VNVME_CMD_GET_INSTANCE  do:   VNVME_ATTR_UUID -> one instance
 *                           dump: every instance
 *       reply: UUID, TYPE, STATE, SERIAL, MODEL, FIRMWARE, CNTLID, MDTS,
 *              MAX_IO_QUEUES, IO_QUEUES, OPENED, PINNED_PAGES, NAMESPACES,
 *              ZERO_COPY
 *   VNVME_CMD_GET_STATS     do:   VNVME_ATTR_UUID -> one instance
 *                           dump: every instance
 *       reply: UUID, LAT_BUCKETS, QUEUE_STATS, NS_STATS, STATUS_COUNTS,
 *              PIN_CACHE
 *   VNVME_CMD_RESET_STATS   do:   VNVME_ATTR_UUID
 *   VNVME_CMD_EVENT         multicast on group "events", never requested
 *       EVENT, EVENT_SEQ, EVENT_TIME_NS, UUID and what changed (see
 *       enum vnvme_nl_event)
 *
 * Everything needs CAP_NET_ADMIN: every command, do and dump, without it
 * is EPERM (GENL_ADMIN_PERM, checked against the opener of the socket),
 * and so is joining the "events" group (GENL_MCAST_CAP_NET_ADMIN, checked
 * against the caller).  Instances show backing-device paths, statistics
 * and events a VM's I/O; none of it is for every local user.  (Until
 * issue 10, reading and the events group were unprivileged.)
 *
 * Requests are strictly validated: a request carrying
 * an attribute the command does not take is rejected with EINVAL and an
 * extended ack naming the attribute.  Replies may gain attributes in later
 * versions; parsers must ignore what they do not know.
 *
 * Integers are in host byte order.  64-bit values are padded with
 * VNVME_ATTR_PAD / VNVME_STATS_ATTR_PAD / ... as usual.
 */
#ifndef _UAPI_LINUX_VNVME_H
#define _UAPI_LINUX_VNVME_H

#define VNVME_GENL_NAME		"vnvme"
#define VNVME_GENL_VERSION	1
#define VNVME_GENL_MCGRP_EVENTS	"events"

#define VNVME_UUID_LEN		16

/*
 * Latency histogram: bucket 0 counts commands that took less than 1 us,
 * bucket i (1 <= i < VNVME_NL_LAT_BUCKETS - 1) those that took
 * [2^(i-1), 2^i) us, and the last bucket everything slower.  The array may
 * grow in later versions; its length is the attribute length / 8.
 */
#define VNVME_NL_LAT_BUCKETS	24

enum vnvme_cmd {
	VNVME_CMD_UNSPEC,
	VNVME_CMD_GET_INSTANCE,
	VNVME_CMD_GET_STATS,
	VNVME_CMD_RESET_STATS,
	VNVME_CMD_EVENT,

	__VNVME_CMD_MAX,
	VNVME_CMD_MAX = __VNVME_CMD_MAX - 1
};

/* Top-level attributes. */
enum vnvme_attr {
	VNVME_ATTR_UNSPEC,
	VNVME_ATTR_PAD,
	/* binary, 16 bytes: the instance UUID in the byte order of its
	 * canonical string (RFC 4122), not mdev's internal guid_t
	 */
	VNVME_ATTR_UUID,
	VNVME_ATTR_TYPE,		/* string: mdev type, "vnvme-small" */
	VNVME_ATTR_STATE,		/* string: off|enabled|ready|shutdown|failed */
	VNVME_ATTR_SERIAL,		/* string */
	VNVME_ATTR_MODEL,		/* string */
	VNVME_ATTR_FIRMWARE,		/* string */
	VNVME_ATTR_CNTLID,		/* u16 */
	VNVME_ATTR_MDTS,		/* u8: max transfer 2^mdts pages */
	VNVME_ATTR_MAX_IO_QUEUES,	/* u32: I/O queue pairs of the type */
	VNVME_ATTR_IO_QUEUES,		/* u32: I/O submission queues the guest created */
	VNVME_ATTR_OPENED,		/* u8: 1 while a VFIO user (a VM) has it open */
	VNVME_ATTR_PINNED_PAGES,	/* u32: guest pages pinned (rings, data) */
	VNVME_ATTR_NAMESPACES,		/* nest: VNVME_ATTR_NS (repeated) */
	VNVME_ATTR_NS,			/* nest: enum vnvme_ns_attr */
	VNVME_ATTR_LAT_BUCKETS,		/* u32: entries in every LAT_HIST */
	/* nest: VNVME_ATTR_STATS (repeated), one per queue with activity */
	VNVME_ATTR_QUEUE_STATS,
	/* nest: VNVME_ATTR_STATS (repeated), one per namespace with activity */
	VNVME_ATTR_NS_STATS,
	VNVME_ATTR_STATS,		/* nest: enum vnvme_stats_attr */
	VNVME_ATTR_STATUS_COUNTS,	/* nest: VNVME_ATTR_STATUS_COUNT (repeated) */
	VNVME_ATTR_STATUS_COUNT,	/* nest: enum vnvme_status_attr */
	VNVME_ATTR_EVENT,		/* u32: enum vnvme_nl_event */
	VNVME_ATTR_EVENT_SEQ,		/* u64: increments by one per event queued */
	VNVME_ATTR_EVENT_TIME_NS,	/* u64: CLOCK_REALTIME when it happened */
	/* u32: events dropped (queue full) just before this one */
	VNVME_ATTR_EVENTS_LOST,
	VNVME_ATTR_NSID,		/* u32: namespace of an NS or I/O error event */
	VNVME_ATTR_STATUS,		/* u16: NVMe status (SCT << 8 | SC) */
	/* u32: I/O errors of this instance not reported (rate limit) since
	 * the previous I/O error event
	 */
	VNVME_ATTR_SUPPRESSED,
	VNVME_ATTR_DEVICE_PATH,		/* string: backing device of an NS event */
	VNVME_ATTR_SIZE,		/* u64: bytes, of an NS attached event */
	VNVME_ATTR_ZERO_COPY,		/* u8: 1 if Read/Write use guest pages */
	VNVME_ATTR_PIN_CACHE,		/* nest: enum vnvme_pin_cache_attr */

	__VNVME_ATTR_MAX,
	VNVME_ATTR_MAX = __VNVME_ATTR_MAX - 1
};

/* Inside VNVME_ATTR_NS: one configured or enabled namespace slot. */
enum vnvme_ns_attr {
	VNVME_NS_ATTR_UNSPEC,
	VNVME_NS_ATTR_PAD,
	VNVME_NS_ATTR_NSID,		/* u32 */
	VNVME_NS_ATTR_DEVICE_PATH,	/* string, absent if none set */
	VNVME_NS_ATTR_ENABLED,		/* u8 */
	VNVME_NS_ATTR_READONLY,		/* u8: as configured, or the device is */
	VNVME_NS_ATTR_SIZE,		/* u64: bytes (enabled only) */
	VNVME_NS_ATTR_LBA_SIZE,		/* u32: bytes (enabled only) */
	VNVME_NS_ATTR_NGUID,		/* binary, 16 bytes */

	__VNVME_NS_ATTR_MAX,
	VNVME_NS_ATTR_MAX = __VNVME_NS_ATTR_MAX - 1
};

/* Inside VNVME_ATTR_STATS: counters of one queue or one namespace. */
enum vnvme_stats_attr {
	VNVME_STATS_ATTR_UNSPEC,
	VNVME_STATS_ATTR_PAD,
	VNVME_STATS_ATTR_QID,		/* u16, queue entries (0 = admin) */
	VNVME_STATS_ATTR_NSID,		/* u32, namespace entries */
	VNVME_STATS_ATTR_CMDS,		/* u64: commands completed */
	VNVME_STATS_ATTR_BYTES_READ,	/* u64: data moved to the guest */
	VNVME_STATS_ATTR_BYTES_WRITTEN,	/* u64: data written by the guest */
	VNVME_STATS_ATTR_ERRORS,	/* u64: completions with a non-zero status */
	VNVME_STATS_ATTR_IRQS,		/* u64: MSI-X interrupts raised (queues) */
	VNVME_STATS_ATTR_LAT_HIST,	/* binary: __u64[LAT_BUCKETS], see above */

	__VNVME_STATS_ATTR_MAX,
	VNVME_STATS_ATTR_MAX = __VNVME_STATS_ATTR_MAX - 1
};

/* Inside VNVME_ATTR_PIN_CACHE: zero-copy data pages (sysfs vnvme/pin_cache). */
enum vnvme_pin_cache_attr {
	VNVME_PIN_CACHE_ATTR_UNSPEC,
	VNVME_PIN_CACHE_ATTR_PAD,
	VNVME_PIN_CACHE_ATTR_PAGES,	/* u32: data pages pinned now */
	VNVME_PIN_CACHE_ATTR_HITS,	/* u64: page lookups that found it pinned */
	VNVME_PIN_CACHE_ATTR_MISSES,	/* u64: page lookups that had to pin */
	VNVME_PIN_CACHE_ATTR_EVICTIONS,	/* u64: unused pages unpinned for room */
	/* u64: Reads and Writes that bounced while zero-copy was on */
	VNVME_PIN_CACHE_ATTR_BOUNCE_FALLBACKS,

	__VNVME_PIN_CACHE_ATTR_MAX,
	VNVME_PIN_CACHE_ATTR_MAX = __VNVME_PIN_CACHE_ATTR_MAX - 1
};

/* Inside VNVME_ATTR_STATUS_COUNT: error completions with one status. */
enum vnvme_status_attr {
	VNVME_STATUS_ATTR_UNSPEC,
	VNVME_STATUS_ATTR_PAD,
	VNVME_STATUS_ATTR_STATUS,	/* u16: SCT << 8 | SC; 0 = any other */
	VNVME_STATUS_ATTR_COUNT,	/* u64 */

	__VNVME_STATUS_ATTR_MAX,
	VNVME_STATUS_ATTR_MAX = __VNVME_STATUS_ATTR_MAX - 1
};

/*
 * VNVME_ATTR_EVENT values.  Every event carries EVENT, EVENT_SEQ,
 * EVENT_TIME_NS and UUID; in addition:
 *   INSTANCE_CREATED           TYPE, STATE
 *   CTRL_*                     STATE (after the change)
 *   NS_ATTACHED                NSID, and DEVICE_PATH, SIZE while the
 *                              namespace is still attached when sent
 *   NS_DETACHED                NSID
 *   IO_ERROR                   NSID, STATUS, SUPPRESSED (if any)
 * I/O errors are rate-limited per instance.
 */
enum vnvme_nl_event {
	VNVME_NL_EVENT_UNSPEC,
	VNVME_NL_EVENT_INSTANCE_CREATED,
	VNVME_NL_EVENT_INSTANCE_REMOVED,
	VNVME_NL_EVENT_CTRL_ENABLED,	/* CC.EN 0 -> 1, CSTS.RDY set */
	VNVME_NL_EVENT_CTRL_DISABLED,	/* CC.EN 1 -> 0 */
	VNVME_NL_EVENT_CTRL_SHUTDOWN,	/* shutdown complete (CC.SHN) */
	VNVME_NL_EVENT_CTRL_RESET,	/* VFIO device reset */
	VNVME_NL_EVENT_CTRL_FATAL,	/* CSTS.CFS set */
	VNVME_NL_EVENT_NS_ATTACHED,
	VNVME_NL_EVENT_NS_DETACHED,
	VNVME_NL_EVENT_IO_ERROR,	/* a backing device failed a command */

	__VNVME_NL_EVENT_MAX,
	VNVME_NL_EVENT_MAX = __VNVME_NL_EVENT_MAX - 1
};

#endif /* _UAPI_LINUX_VNVME_H */
