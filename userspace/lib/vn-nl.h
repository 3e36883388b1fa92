/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vn-nl.h - the "vnvme" generic netlink family over libnl-genl-3:
 * instance and statistics requests, RESET_STATS and the events group.
 *
 * Functions return 0 or a negative errno (the kernel's, when it refused;
 * ENOENT... see vn_nl_open()).  vn_nl_errmsg() has the kernel's extended
 * ack message of the last failed request, if it sent one.
 */
#ifndef VN_NL_H
#define VN_NL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vn-util.h"

struct nl_sock;

struct vn_nl {
	struct nl_sock	*sk;
	int		family;
	int		mcgrp;		/* events group id */
	int		ctrl_grp;	/* nlctrl "notify", events sockets only */
	char		errmsg[256];	/* extack of the last failure */
};

/* ENODEV when the family is not registered (module not loaded). */
int vn_nl_open(struct vn_nl *nl);
void vn_nl_close(struct vn_nl *nl);
const char *vn_nl_errmsg(const struct vn_nl *nl);

struct vn_ns_info {
	uint32_t	nsid;
	bool		has_path;
	char		device_path[PATH_MAX];
	bool		enabled;
	bool		readonly;
	uint64_t	size;		/* bytes, enabled only */
	uint32_t	lba_size;	/* enabled only */
	uint8_t		nguid[16];
};

struct vn_instance {
	uint8_t		uuid[VN_UUID_LEN];
	char		uuid_str[VN_UUID_STRLEN];
	char		type[64];
	char		state[16];
	char		serial[21];
	char		model[41];
	char		firmware[9];
	uint16_t	cntlid;
	uint8_t		mdts;
	uint32_t	max_io_queues;
	uint32_t	io_queues;
	bool		opened;
	uint32_t	pinned_pages;
	bool		zero_copy;
	unsigned int	nr_ns;
	struct vn_ns_info ns[16];
};

#define VN_MAX_BUCKETS	64

struct vn_io_stats {
	uint32_t	id;		/* qid or nsid */
	uint64_t	cmds;
	uint64_t	bytes_read;
	uint64_t	bytes_written;
	uint64_t	errors;
	uint64_t	irqs;
	unsigned int	nr_buckets;
	uint64_t	lat[VN_MAX_BUCKETS];
};

struct vn_stats {
	uint8_t		uuid[VN_UUID_LEN];
	char		uuid_str[VN_UUID_STRLEN];
	unsigned int	nr_buckets;
	unsigned int	nr_queues;
	struct vn_io_stats queues[64];
	unsigned int	nr_ns;
	struct vn_io_stats ns[16];
	unsigned int	nr_status;
	struct {
		uint16_t status;
		uint64_t count;
	} status[32];
	struct {
		uint32_t pages;		/* data pages pinned now */
		uint64_t hits;
		uint64_t misses;
		uint64_t evictions;
		uint64_t bounce_fallbacks;
	} pin_cache;
};

/* uuid NULL: every instance.  *out is malloc'ed (free()). */
int vn_nl_get_instances(struct vn_nl *nl, const uint8_t *uuid,
			struct vn_instance **out, size_t *nr);
int vn_nl_get_stats(struct vn_nl *nl, const uint8_t *uuid,
		    struct vn_stats **out, size_t *nr);
int vn_nl_reset_stats(struct vn_nl *nl, const uint8_t *uuid);

/*
 * Asks over a socket of its own whether a VFIO user has instance uuid_str
 * open: 1 open, 0 not, -errno when that cannot be told (not a UUID, no
 * family, no such instance); callers choose what "unknown" means to them.
 */
int vn_nl_instance_opened(const char *uuid_str);

struct vn_event {
	uint32_t	event;
	uint64_t	seq;
	uint64_t	time_ns;
	char		uuid_str[VN_UUID_STRLEN];
	char		type[64];
	char		state[16];
	uint32_t	nsid;
	uint16_t	status;
	bool		has_status;
	uint32_t	suppressed;
	uint32_t	lost;
	char		device_path[PATH_MAX];
	uint64_t	size;
};

/*
 * Not kernel events: the family appeared (module loaded; the events socket
 * re-subscribed by itself) or went away (module unloaded).
 */
#define VN_EVENT_MODULE_LOADED		0x100
#define VN_EVENT_MODULE_UNLOADED	0x101

typedef void (*vn_event_fn)(const struct vn_event *ev, void *arg);

/*
 * A second, non-blocking socket subscribed to the events group; poll
 * vn_nl_fd() and call vn_nl_events_read() when it is readable.
 */
int vn_nl_events_open(struct vn_nl *ev);
/* Like vn_nl_events_open(), but also fine when the module is not loaded yet. */
int vn_nl_events_open_any(struct vn_nl *ev);
int vn_nl_fd(const struct vn_nl *nl);
/* Delivers every queued event; 0, or -errno (ENOBUFS: events were lost). */
int vn_nl_events_read(struct vn_nl *ev, vn_event_fn fn, void *arg);

/* "instance-created", "io-error", ... */
const char *vn_event_name(uint32_t event);

/*
 * The details of an event as " key=value" words (" nsid=1 device=/dev/loop0"),
 * the human format of vnvmectl events and of vnvmed's log; "" if it has none.
 * VN_EVENT_DETAIL_LEN bytes hold the longest.
 */
#define VN_EVENT_DETAIL_LEN	(PATH_MAX + 512)
void vn_event_detail(const struct vn_event *ev, char *buf, size_t len);

#endif /* VN_NL_H */
