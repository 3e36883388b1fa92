// SPDX-License-Identifier: GPL-2.0
/*
 * vn-nl.c - requests to and events from the "vnvme" generic netlink family.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netlink.h>

#include <netlink/netlink.h>
#include <netlink/genl/genl.h>
#include <netlink/genl/ctrl.h>

#include "vnvme.h"	/* include/uapi/vnvme.h */
#include "vn-nl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* libnl error codes back to errnos, for the failures that are not the kernel's. */
static int nlerr_to_errno(int err)
{
	switch (-err) {
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_AGAIN:
		return -EAGAIN;
	case NLE_PERM:
		return -EPERM;
	case NLE_NOACCESS:
		return -EACCES;
	case NLE_OBJ_NOTFOUND:
	case NLE_NODEV:
		return -ENODEV;
	case NLE_INVAL:
		return -EINVAL;
	case NLE_MSGSIZE:
		return -EMSGSIZE;
	case NLE_BUSY:
		return -EBUSY;
	case NLE_INTR:
		return -EINTR;
	case NLE_NOADDR:
	case NLE_BAD_SOCK:
		return -ENOTCONN;
	default:
		return -EIO;
	}
}

static int resolve(struct vn_nl *nl)
{
	nl->family = genl_ctrl_resolve(nl->sk, VNVME_GENL_NAME);
	if (nl->family < 0)
		return -ENODEV;
	nl->mcgrp = genl_ctrl_resolve_grp(nl->sk, VNVME_GENL_NAME,
					  VNVME_GENL_MCGRP_EVENTS);
	if (nl->mcgrp < 0)
		return -ENODEV;
	return 0;
}

/* A connected generic netlink socket, the first steps of both kinds of socket. */
static int genl_open(struct vn_nl *nl)
{
	int ret;

	memset(nl, 0, sizeof(*nl));
	nl->sk = nl_socket_alloc();
	if (!nl->sk)
		return -ENOMEM;
	ret = genl_connect(nl->sk);
	if (ret < 0) {
		nl_socket_free(nl->sk);
		nl->sk = NULL;
		return nlerr_to_errno(ret);
	}
	/* Large dumps arrive in messages of up to 32 KiB. */
	nl_socket_set_msg_buf_size(nl->sk, 65536);
	return 0;
}

int vn_nl_open(struct vn_nl *nl)
{
	int one = 1, ret;

	ret = genl_open(nl);
	if (ret)
		return ret;
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_EXT_ACK, &one,
		   sizeof(one));
	ret = resolve(nl);
	if (ret)
		vn_nl_close(nl);
	return ret;
}

void vn_nl_close(struct vn_nl *nl)
{
	if (nl->sk)
		nl_socket_free(nl->sk);
	nl->sk = NULL;
}

const char *vn_nl_errmsg(const struct vn_nl *nl)
{
	return nl->errmsg;
}

int vn_nl_fd(const struct vn_nl *nl)
{
	return nl_socket_get_fd(nl->sk);
}

/* ---- attribute helpers -------------------------------------------------- */

static uint64_t attr_uint(const struct nlattr *a)
{
	uint64_t v64;
	uint32_t v32;
	uint16_t v16;

	if (!a)
		return 0;
	switch (nla_len(a)) {
	case 1:
		return *(const uint8_t *)nla_data(a);
	case 2:
		memcpy(&v16, nla_data(a), 2);
		return v16;
	case 4:
		memcpy(&v32, nla_data(a), 4);
		return v32;
	case 8:
		memcpy(&v64, nla_data(a), 8);
		return v64;
	}
	return 0;
}

static void attr_str(const struct nlattr *a, char *buf, size_t len)
{
	size_t n;

	buf[0] = '\0';
	if (!a || !len)
		return;
	n = (size_t)nla_len(a);
	if (n >= len)
		n = len - 1;
	memcpy(buf, nla_data(a), n);
	buf[n] = '\0';
}

static void attr_uuid(const struct nlattr *a, uint8_t *uuid, char *str)
{
	memset(uuid, 0, VN_UUID_LEN);
	if (a && nla_len(a) == VN_UUID_LEN)
		memcpy(uuid, nla_data(a), VN_UUID_LEN);
	vn_uuid_unparse(uuid, str);
}

/* Collects the top-level attributes of a message by type (last one wins). */
static int parse_top(struct nl_msg *msg, struct nlattr **tb)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);

	return genlmsg_parse(nlh, 0, tb, VNVME_ATTR_MAX, NULL);
}

/* ---- request/response --------------------------------------------------- */

struct vn_vec {
	void	*items;
	size_t	nr;
	size_t	size;
};

static void *vec_add(struct vn_vec *v)
{
	void *items = realloc(v->items, (v->nr + 1) * v->size);
	char *item;

	if (!items)
		return NULL;
	v->items = items;
	item = (char *)items + v->nr++ * v->size;
	memset(item, 0, v->size);
	return item;
}

/* Fills one item from the top-level attributes of one reply. */
typedef void (*vn_parse_fn)(struct nlattr **tb, void *item);

struct vn_req {
	struct vn_nl	*nl;
	int		err;
	bool		done;
	vn_parse_fn	parse;
	struct vn_vec	*vec;
};

static int req_valid(struct nl_msg *msg, void *arg)
{
	struct vn_req *r = arg;
	struct nlattr *tb[VNVME_ATTR_MAX + 1];
	void *item;

	if (!r->parse || r->err)
		return NL_OK;
	if (parse_top(msg, tb) < 0)
		r->err = -EPROTO;
	else if (!(item = vec_add(r->vec)))
		r->err = -ENOMEM;
	else
		r->parse(tb, item);
	return NL_OK;
}

static int req_finish(struct nl_msg *msg, void *arg)
{
	struct vn_req *r = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	int err;

	/* NLMSG_DONE of a dump carries the dump's status. */
	if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) {
		memcpy(&err, nlmsg_data(nlh), sizeof(err));
		if (err < 0 && !r->err)
			r->err = err;
	}
	r->done = true;
	return NL_STOP;
}

static int req_ack(struct nl_msg *msg, void *arg)
{
	struct vn_req *r = arg;

	(void)msg;
	r->done = true;
	return NL_STOP;
}

/* Takes the extended ack message, if the kernel attached one. */
static void req_extack(struct vn_req *r, struct nlmsgerr *e)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);
	const char *p, *end;
	size_t skip;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	skip = (nlh->nlmsg_flags & NLM_F_CAPPED) ? sizeof(e->msg) : e->msg.nlmsg_len;
	p = (const char *)&e->msg + NLMSG_ALIGN(skip);
	end = (const char *)nlh + nlh->nlmsg_len;
	while (p + sizeof(struct nlattr) <= end) {
		const struct nlattr *a = (const struct nlattr *)p;

		if (a->nla_len < sizeof(*a) || p + a->nla_len > end)
			break;
		if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG)
			attr_str(a, r->nl->errmsg, sizeof(r->nl->errmsg));
		p += NLA_ALIGN(a->nla_len);
	}
}

static int req_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct vn_req *r = arg;

	(void)nla;
	r->err = e->error;
	req_extack(r, e);
	r->done = true;
	return NL_STOP;
}

static int vn_nl_request(struct vn_nl *nl, uint8_t cmd, bool dump,
			 const uint8_t *uuid, vn_parse_fn parse, struct vn_vec *vec)
{
	struct vn_req r = { .nl = nl, .parse = parse, .vec = vec };
	struct nl_msg *msg;
	struct nl_cb *cb;
	int ret;

	nl->errmsg[0] = '\0';
	msg = nlmsg_alloc();
	if (!msg)
		return -ENOMEM;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0,
			 dump ? NLM_F_DUMP : 0, cmd, VNVME_GENL_VERSION) ||
	    (uuid && nla_put(msg, VNVME_ATTR_UUID, VN_UUID_LEN, uuid) < 0)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, req_valid, &r);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, req_finish, &r);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, req_ack, &r);
	nl_cb_err(cb, NL_CB_CUSTOM, req_error, &r);

	ret = nl_send_auto(nl->sk, msg);
	nlmsg_free(msg);
	if (ret < 0) {
		nl_cb_put(cb);
		return nlerr_to_errno(ret);
	}
	while (!r.done) {
		ret = nl_recvmsgs(nl->sk, cb);
		if (ret < 0) {
			if (!r.err)
				r.err = nlerr_to_errno(ret);
			break;
		}
	}
	nl_cb_put(cb);
	return r.err;
}

/*
 * GET_INSTANCE and GET_STATS: one reply per instance (a dump when uuid is
 * NULL), each parsed into an item of size bytes of the malloc'ed *out.
 */
static int vn_nl_get_items(struct vn_nl *nl, uint8_t cmd, const uint8_t *uuid,
			   vn_parse_fn parse, size_t size, void **out, size_t *nr)
{
	struct vn_vec v = { .size = size };
	int ret;

	ret = vn_nl_request(nl, cmd, !uuid, uuid, parse, &v);
	if (ret) {
		free(v.items);
		return ret;
	}
	*out = v.items;
	*nr = v.nr;
	return 0;
}

/* ---- GET_INSTANCE ------------------------------------------------------- */

static void parse_ns(const struct nlattr *nest, struct vn_ns_info *ns)
{
	struct nlattr *tb[VNVME_NS_ATTR_MAX + 1];

	if (nla_parse_nested(tb, VNVME_NS_ATTR_MAX, (struct nlattr *)nest, NULL) < 0)
		return;
	ns->nsid = (uint32_t)attr_uint(tb[VNVME_NS_ATTR_NSID]);
	ns->has_path = tb[VNVME_NS_ATTR_DEVICE_PATH] != NULL;
	attr_str(tb[VNVME_NS_ATTR_DEVICE_PATH], ns->device_path,
		 sizeof(ns->device_path));
	ns->enabled = attr_uint(tb[VNVME_NS_ATTR_ENABLED]);
	ns->readonly = attr_uint(tb[VNVME_NS_ATTR_READONLY]);
	ns->size = attr_uint(tb[VNVME_NS_ATTR_SIZE]);
	ns->lba_size = (uint32_t)attr_uint(tb[VNVME_NS_ATTR_LBA_SIZE]);
	if (tb[VNVME_NS_ATTR_NGUID] && nla_len(tb[VNVME_NS_ATTR_NGUID]) == 16)
		memcpy(ns->nguid, nla_data(tb[VNVME_NS_ATTR_NGUID]), 16);
}

static void parse_instance(struct nlattr **tb, void *item)
{
	struct vn_instance *in = item;
	struct nlattr *pos;
	int rem;

	attr_uuid(tb[VNVME_ATTR_UUID], in->uuid, in->uuid_str);
	attr_str(tb[VNVME_ATTR_TYPE], in->type, sizeof(in->type));
	attr_str(tb[VNVME_ATTR_STATE], in->state, sizeof(in->state));
	attr_str(tb[VNVME_ATTR_SERIAL], in->serial, sizeof(in->serial));
	attr_str(tb[VNVME_ATTR_MODEL], in->model, sizeof(in->model));
	attr_str(tb[VNVME_ATTR_FIRMWARE], in->firmware, sizeof(in->firmware));
	in->cntlid = (uint16_t)attr_uint(tb[VNVME_ATTR_CNTLID]);
	in->mdts = (uint8_t)attr_uint(tb[VNVME_ATTR_MDTS]);
	in->max_io_queues = (uint32_t)attr_uint(tb[VNVME_ATTR_MAX_IO_QUEUES]);
	in->io_queues = (uint32_t)attr_uint(tb[VNVME_ATTR_IO_QUEUES]);
	in->opened = attr_uint(tb[VNVME_ATTR_OPENED]);
	in->pinned_pages = (uint32_t)attr_uint(tb[VNVME_ATTR_PINNED_PAGES]);
	in->zero_copy = attr_uint(tb[VNVME_ATTR_ZERO_COPY]);
	if (tb[VNVME_ATTR_NAMESPACES]) {
		nla_for_each_nested(pos, tb[VNVME_ATTR_NAMESPACES], rem) {
			if (nla_type(pos) != VNVME_ATTR_NS || in->nr_ns >= 16)
				continue;
			parse_ns(pos, &in->ns[in->nr_ns++]);
		}
	}
}

int vn_nl_get_instances(struct vn_nl *nl, const uint8_t *uuid,
			struct vn_instance **out, size_t *nr)
{
	return vn_nl_get_items(nl, VNVME_CMD_GET_INSTANCE, uuid, parse_instance,
			       sizeof(**out), (void **)out, nr);
}

int vn_nl_instance_opened(const char *uuid_str)
{
	uint8_t uuid[VN_UUID_LEN];
	struct vn_instance *in;
	struct vn_nl nl;
	size_t nr;
	int ret;

	ret = vn_uuid_parse(uuid_str, uuid);
	if (ret)
		return ret;
	ret = vn_nl_open(&nl);
	if (ret)
		return ret;
	ret = vn_nl_get_instances(&nl, uuid, &in, &nr);
	vn_nl_close(&nl);
	if (ret)
		return ret;
	ret = nr == 1 ? in->opened : -EPROTO;
	free(in);
	return ret;
}

/* ---- GET_STATS ---------------------------------------------------------- */

static void parse_io_stats(const struct nlattr *nest, struct vn_io_stats *st)
{
	struct nlattr *tb[VNVME_STATS_ATTR_MAX + 1];
	const struct nlattr *h;
	unsigned int i, n;

	if (nla_parse_nested(tb, VNVME_STATS_ATTR_MAX, (struct nlattr *)nest, NULL) < 0)
		return;
	if (tb[VNVME_STATS_ATTR_QID])
		st->id = (uint32_t)attr_uint(tb[VNVME_STATS_ATTR_QID]);
	else
		st->id = (uint32_t)attr_uint(tb[VNVME_STATS_ATTR_NSID]);
	st->cmds = attr_uint(tb[VNVME_STATS_ATTR_CMDS]);
	st->bytes_read = attr_uint(tb[VNVME_STATS_ATTR_BYTES_READ]);
	st->bytes_written = attr_uint(tb[VNVME_STATS_ATTR_BYTES_WRITTEN]);
	st->errors = attr_uint(tb[VNVME_STATS_ATTR_ERRORS]);
	st->irqs = attr_uint(tb[VNVME_STATS_ATTR_IRQS]);
	h = tb[VNVME_STATS_ATTR_LAT_HIST];
	if (h) {
		n = (unsigned int)nla_len(h) / sizeof(uint64_t);
		if (n > VN_MAX_BUCKETS)
			n = VN_MAX_BUCKETS;
		for (i = 0; i < n; i++)
			memcpy(&st->lat[i], (const char *)nla_data(h) + i * 8, 8);
		st->nr_buckets = n;
	}
}

static void parse_stats(struct nlattr **tb, void *item)
{
	struct vn_stats *s = item;
	struct nlattr *pos;
	int rem;

	attr_uuid(tb[VNVME_ATTR_UUID], s->uuid, s->uuid_str);
	s->nr_buckets = (unsigned int)attr_uint(tb[VNVME_ATTR_LAT_BUCKETS]);
	if (tb[VNVME_ATTR_QUEUE_STATS]) {
		nla_for_each_nested(pos, tb[VNVME_ATTR_QUEUE_STATS], rem) {
			if (nla_type(pos) != VNVME_ATTR_STATS || s->nr_queues >= 64)
				continue;
			parse_io_stats(pos, &s->queues[s->nr_queues++]);
		}
	}
	if (tb[VNVME_ATTR_NS_STATS]) {
		nla_for_each_nested(pos, tb[VNVME_ATTR_NS_STATS], rem) {
			if (nla_type(pos) != VNVME_ATTR_STATS || s->nr_ns >= 16)
				continue;
			parse_io_stats(pos, &s->ns[s->nr_ns++]);
		}
	}
	if (tb[VNVME_ATTR_STATUS_COUNTS]) {
		nla_for_each_nested(pos, tb[VNVME_ATTR_STATUS_COUNTS], rem) {
			struct nlattr *st[VNVME_STATUS_ATTR_MAX + 1];

			if (nla_type(pos) != VNVME_ATTR_STATUS_COUNT || s->nr_status >= 32)
				continue;
			if (nla_parse_nested(st, VNVME_STATUS_ATTR_MAX, pos, NULL) < 0)
				continue;
			s->status[s->nr_status].status =
				(uint16_t)attr_uint(st[VNVME_STATUS_ATTR_STATUS]);
			s->status[s->nr_status++].count =
				attr_uint(st[VNVME_STATUS_ATTR_COUNT]);
		}
	}
	if (tb[VNVME_ATTR_PIN_CACHE]) {
		struct nlattr *pc[VNVME_PIN_CACHE_ATTR_MAX + 1];

		if (nla_parse_nested(pc, VNVME_PIN_CACHE_ATTR_MAX, tb[VNVME_ATTR_PIN_CACHE],
				     NULL) >= 0) {
			s->pin_cache.pages = (uint32_t)attr_uint(pc[VNVME_PIN_CACHE_ATTR_PAGES]);
			s->pin_cache.hits = attr_uint(pc[VNVME_PIN_CACHE_ATTR_HITS]);
			s->pin_cache.misses = attr_uint(pc[VNVME_PIN_CACHE_ATTR_MISSES]);
			s->pin_cache.evictions = attr_uint(pc[VNVME_PIN_CACHE_ATTR_EVICTIONS]);
			s->pin_cache.bounce_fallbacks =
				attr_uint(pc[VNVME_PIN_CACHE_ATTR_BOUNCE_FALLBACKS]);
		}
	}
}

int vn_nl_get_stats(struct vn_nl *nl, const uint8_t *uuid,
		    struct vn_stats **out, size_t *nr)
{
	return vn_nl_get_items(nl, VNVME_CMD_GET_STATS, uuid, parse_stats,
			       sizeof(**out), (void **)out, nr);
}

int vn_nl_reset_stats(struct vn_nl *nl, const uint8_t *uuid)
{
	return vn_nl_request(nl, VNVME_CMD_RESET_STATS, false, uuid, NULL, NULL);
}

/* ---- events ------------------------------------------------------------- */

static const char *const vn_event_names[] = {
	[VNVME_NL_EVENT_UNSPEC]			= "unknown",
	[VNVME_NL_EVENT_INSTANCE_CREATED]	= "instance-created",
	[VNVME_NL_EVENT_INSTANCE_REMOVED]	= "instance-removed",
	[VNVME_NL_EVENT_CTRL_ENABLED]		= "ctrl-enabled",
	[VNVME_NL_EVENT_CTRL_DISABLED]		= "ctrl-disabled",
	[VNVME_NL_EVENT_CTRL_SHUTDOWN]		= "ctrl-shutdown",
	[VNVME_NL_EVENT_CTRL_RESET]		= "ctrl-reset",
	[VNVME_NL_EVENT_CTRL_FATAL]		= "ctrl-fatal",
	[VNVME_NL_EVENT_NS_ATTACHED]		= "ns-attached",
	[VNVME_NL_EVENT_NS_DETACHED]		= "ns-detached",
	[VNVME_NL_EVENT_IO_ERROR]		= "io-error",
};

const char *vn_event_name(uint32_t event)
{
	if (event == VN_EVENT_MODULE_LOADED)
		return "module-loaded";
	if (event == VN_EVENT_MODULE_UNLOADED)
		return "module-unloaded";
	if (event >= sizeof(vn_event_names) / sizeof(vn_event_names[0]) ||
	    !vn_event_names[event])
		return "unknown";
	return vn_event_names[event];
}

static void __attribute__((format(printf, 3, 4)))
append(char *buf, size_t len, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	if (n + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
}

void vn_event_detail(const struct vn_event *ev, char *buf, size_t len)
{
	char size[32];

	buf[0] = '\0';
	if (ev->type[0])
		append(buf, len, " type=%s", ev->type);
	if (ev->state[0])
		append(buf, len, " state=%s", ev->state);
	if (ev->nsid)
		append(buf, len, " nsid=%u", ev->nsid);
	if (ev->device_path[0])
		append(buf, len, " device=%s", ev->device_path);
	if (ev->size) {
		vn_fmt_size(ev->size, size, sizeof(size));
		append(buf, len, " size=\"%s\"", size);
	}
	if (ev->has_status)
		append(buf, len, " status=0x%03x (%s)", ev->status,
		       vn_nvme_status_name(ev->status));
	if (ev->suppressed)
		append(buf, len, " suppressed=%u", ev->suppressed);
	if (ev->lost)
		append(buf, len, " lost=%u", ev->lost);
}

static int events_subscribe(struct vn_nl *ev)
{
	int ret;

	ret = nl_socket_add_membership(ev->sk, ev->mcgrp);
	return ret < 0 ? nlerr_to_errno(ret) : 0;
}

/*
 * Follows nlctrl's "notify" group too, so that a module reload (the family
 * goes and comes back, maybe with new ids) is noticed and survived.
 */
int vn_nl_events_open_any(struct vn_nl *ev)
{
	int ret;

	ret = genl_open(ev);
	if (ret)
		return ret;
	ev->family = -1;
	ev->mcgrp = -1;
	/* Bursts of I/O errors and instance churn: a deep receive queue. */
	nl_socket_set_buffer_size(ev->sk, 1 << 20, 0);
	ev->ctrl_grp = genl_ctrl_resolve_grp(ev->sk, "nlctrl", "notify");
	if (ev->ctrl_grp < 0) {
		ret = -ENODEV;
		goto fail;
	}
	ret = nl_socket_add_membership(ev->sk, ev->ctrl_grp);
	if (ret < 0) {
		ret = nlerr_to_errno(ret);
		goto fail;
	}
	if (!resolve(ev)) {
		ret = events_subscribe(ev);
		if (ret)
			goto fail;
	} else {
		ev->family = -1;
		ev->mcgrp = -1;
	}
	nl_socket_disable_seq_check(ev->sk);
	nl_socket_set_nonblocking(ev->sk);
	return 0;

fail:
	vn_nl_close(ev);
	return ret;
}

int vn_nl_events_open(struct vn_nl *ev)
{
	int ret = vn_nl_events_open_any(ev);

	if (!ret && ev->family < 0) {
		vn_nl_close(ev);
		return -ENODEV;
	}
	return ret;
}

struct vn_ev_ctx {
	struct vn_nl	*ev;
	vn_event_fn	fn;
	void		*arg;
};

/* nlctrl notifications about our family: module loaded or unloaded. */
static void ev_ctrl(struct vn_ev_ctx *c, struct nl_msg *msg)
{
	struct nlattr *tb[CTRL_ATTR_MAX + 1], *grp;
	struct genlmsghdr *gh = nlmsg_data(nlmsg_hdr(msg));
	struct vn_event ev;
	char name[GENL_NAMSIZ];
	int rem;

	if (gh->cmd != CTRL_CMD_NEWFAMILY && gh->cmd != CTRL_CMD_DELFAMILY)
		return;
	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, CTRL_ATTR_MAX, NULL) < 0)
		return;
	attr_str(tb[CTRL_ATTR_FAMILY_NAME], name, sizeof(name));
	if (strcmp(name, VNVME_GENL_NAME))
		return;
	memset(&ev, 0, sizeof(ev));
	if (gh->cmd == CTRL_CMD_DELFAMILY) {
		c->ev->family = -1;
		c->ev->mcgrp = -1;
		ev.event = VN_EVENT_MODULE_UNLOADED;
		c->fn(&ev, c->arg);
		return;
	}
	c->ev->family = (int)attr_uint(tb[CTRL_ATTR_FAMILY_ID]);
	if (tb[CTRL_ATTR_MCAST_GROUPS]) {
		nla_for_each_nested(grp, tb[CTRL_ATTR_MCAST_GROUPS], rem) {
			struct nlattr *g[CTRL_ATTR_MCAST_GRP_MAX + 1];

			if (nla_parse_nested(g, CTRL_ATTR_MCAST_GRP_MAX, grp, NULL) < 0)
				continue;
			attr_str(g[CTRL_ATTR_MCAST_GRP_NAME], name, sizeof(name));
			if (!strcmp(name, VNVME_GENL_MCGRP_EVENTS))
				c->ev->mcgrp = (int)attr_uint(g[CTRL_ATTR_MCAST_GRP_ID]);
		}
	}
	if (c->ev->mcgrp >= 0)
		events_subscribe(c->ev);
	ev.event = VN_EVENT_MODULE_LOADED;
	c->fn(&ev, c->arg);
}

static int ev_valid(struct nl_msg *msg, void *arg)
{
	struct vn_ev_ctx *c = arg;
	struct nlattr *tb[VNVME_ATTR_MAX + 1];
	struct genlmsghdr *gh = nlmsg_data(nlmsg_hdr(msg));
	struct vn_event ev;
	uint8_t uuid[VN_UUID_LEN];

	if (nlmsg_hdr(msg)->nlmsg_type == GENL_ID_CTRL) {
		ev_ctrl(c, msg);
		return NL_OK;
	}
	if (nlmsg_hdr(msg)->nlmsg_type != c->ev->family ||
	    gh->cmd != VNVME_CMD_EVENT || parse_top(msg, tb) < 0)
		return NL_OK;
	memset(&ev, 0, sizeof(ev));
	ev.event = (uint32_t)attr_uint(tb[VNVME_ATTR_EVENT]);
	ev.seq = attr_uint(tb[VNVME_ATTR_EVENT_SEQ]);
	ev.time_ns = attr_uint(tb[VNVME_ATTR_EVENT_TIME_NS]);
	attr_uuid(tb[VNVME_ATTR_UUID], uuid, ev.uuid_str);
	attr_str(tb[VNVME_ATTR_TYPE], ev.type, sizeof(ev.type));
	attr_str(tb[VNVME_ATTR_STATE], ev.state, sizeof(ev.state));
	ev.nsid = (uint32_t)attr_uint(tb[VNVME_ATTR_NSID]);
	ev.has_status = tb[VNVME_ATTR_STATUS] != NULL;
	ev.status = (uint16_t)attr_uint(tb[VNVME_ATTR_STATUS]);
	ev.suppressed = (uint32_t)attr_uint(tb[VNVME_ATTR_SUPPRESSED]);
	ev.lost = (uint32_t)attr_uint(tb[VNVME_ATTR_EVENTS_LOST]);
	attr_str(tb[VNVME_ATTR_DEVICE_PATH], ev.device_path, sizeof(ev.device_path));
	ev.size = attr_uint(tb[VNVME_ATTR_SIZE]);
	c->fn(&ev, c->arg);
	return NL_OK;
}

static int ev_noseq(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

int vn_nl_events_read(struct vn_nl *ev, vn_event_fn fn, void *arg)
{
	struct vn_ev_ctx c = { .ev = ev, .fn = fn, .arg = arg };
	struct nl_cb *cb;
	int ret;

	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, ev_valid, &c);
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, ev_noseq, NULL);
	do {
		/* The number of messages handled; 0 once the socket is empty. */
		ret = nl_recvmsgs_report(ev->sk, cb);
	} while (ret > 0);
	nl_cb_put(cb);
	if (ret == 0 || ret == -NLE_AGAIN)
		return 0;
	/* The socket buffer overflowed: ENOBUFS. */
	if (ret == -NLE_NOMEM)
		return -ENOBUFS;
	return nlerr_to_errno(ret);
}
