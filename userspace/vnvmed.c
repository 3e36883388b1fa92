// SPDX-License-Identifier: GPL-2.0
/*
 * vnvmed - keeps the vnvme instances described in the files /etc/vnvme/NAME.conf alive.
 *
 * It creates the configured instances when the vnvme parent appears (at
 * start, or on the MDEV_STATE=registered uevent after a module load),
 * attaches each namespace once its block device exists, detaches it when
 * the device goes away and attaches it again when it comes back, logs every
 * netlink event, applies only the difference on SIGHUP and stops on SIGTERM
 * without touching the instances.  An instance a VFIO user (a VM) has open
 * is never removed.
 *
 * It runs as root with one capability: sysfs attributes are root-owned
 * files, but the vnvme netlink family answers (and its events group accepts)
 * only CAP_NET_ADMIN, since instances show backing devices and events a
 * VM's I/O errors.  After opening its sockets it drops every capability but
 * CAP_NET_ADMIN, which it keeps permitted, not effective, and raises only
 * around its netlink calls: asking whether an instance is open, and reading
 * events (which joins the group again after a module reload).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <linux/capability.h>
#include <linux/netlink.h>

#include "vnvme.h"	/* include/uapi/vnvme.h */
#include "lib/vn-nl.h"
#include "lib/vn-sysfs.h"
#include "lib/vn-util.h"
#include "vnvmed-config.h"

#define VNVMED_VERSION		"1.0"
#define RETRY_MS		2000	/* pending namespaces are retried this often */

enum { LOG_ERR = 3, LOG_WARNING = 4, LOG_INFO = 6, LOG_DEBUG = 7 };

struct ns_state {
	bool		pending;	/* should be attached, is not yet */
	bool		logged_wait;
	int		last_err;	/* last attach errno, logged once */
	dev_t		dev;		/* backing device while attached by us */
};

struct inst {
	struct vnc_instance cfg;
	bool		exists;
	bool		removing;	/* we asked sysfs to remove it */
	bool		logged_manual;
	bool		logged_type;
	int		last_err;	/* last create errno, logged once */
	struct ns_state	ns[VN_MAX_NS + 1];
};

static const char *opt_config_dir = "/etc/vnvme";
static bool opt_verbose;
static bool opt_keep_caps;
static bool journal;

static struct inst *insts;
static size_t ninsts;
static bool parent_up;

/* ---- logging ------------------------------------------------------------ */

static void __attribute__((format(printf, 3, 4)))
logmsg(int level, const char *uuid, const char *fmt, ...)
{
	static const char *const names[] = {
		[LOG_ERR] = "error", [LOG_WARNING] = "warning",
		[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
	};
	char msg[PATH_MAX * 2];
	va_list ap;

	if (level == LOG_DEBUG && !opt_verbose)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (journal)
		fprintf(stderr, "<%d>", level);
	fprintf(stderr, "vnvmed: %s: %s%s%s\n", names[level], uuid ? uuid : "",
		uuid ? ": " : "", msg);
	fflush(stderr);
}

static void log_attr_error(const char *uuid, const char *attr, const char *value,
			   int ret)
{
	char why[PATH_MAX + 256];

	vn_explain(uuid, attr, value, -ret, why, sizeof(why));
	logmsg(LOG_ERR, uuid, "%s = %s: %s", attr, value ? value : "", why);
}

/* ---- helpers ------------------------------------------------------------ */

static struct inst *find_inst(const char *uuid)
{
	size_t i;

	for (i = 0; i < ninsts; i++)
		if (!strcmp(insts[i].cfg.uuid, uuid))
			return &insts[i];
	return NULL;
}

/* The block device at path exists and has a size: 0, else -errno. */
static int blockdev_ready(const char *path, dev_t *dev)
{
	long long size;
	dev_t d;

	size = vn_blockdev_size(path, &d);
	if (size < 0)
		return (int)size;
	if (size == 0)
		return -ENODATA;	/* e.g. an unbound loop device */
	*dev = d;
	return 0;
}

static void net_admin_raise(void);
static void net_admin_lower(void);

/* Unknown counts as open: never remove what we cannot vouch for. */
static bool instance_opened(const char *uuid_str)
{
	int ret;

	net_admin_raise();
	ret = vn_nl_instance_opened(uuid_str);
	net_admin_lower();
	if (ret < 0)
		logmsg(LOG_WARNING, uuid_str, "cannot tell whether a VFIO user has it open: %s%s",
		       strerror(-ret), ret == -EPERM ? " (vnvmed needs CAP_NET_ADMIN)" : "");
	return ret != 0;
}

static bool read_attr(const char *uuid, const char *attr, char *buf, size_t len)
{
	return vn_attr_read(uuid, attr, buf, len) == 0;
}

/* ---- applying the configuration ----------------------------------------- */

static int write_attr(struct inst *in, const char *attr, const char *value)
{
	int ret = vn_attr_write(in->cfg.uuid, attr, value);

	if (ret)
		log_attr_error(in->cfg.uuid, attr, value, ret);
	else
		logmsg(LOG_DEBUG, in->cfg.uuid, "%s = %s", attr, value);
	return ret;
}

static void apply_ident(struct inst *in, const char *attr, const char *want)
{
	char cur[64];

	if (read_attr(in->cfg.uuid, attr, cur, sizeof(cur)) && !strcmp(cur, want))
		return;
	if (!write_attr(in, attr, want))
		logmsg(LOG_INFO, in->cfg.uuid, "%s set to '%s'", attr, want);
}

static void apply_identity(struct inst *in)
{
	char mdts[8];

	if (in->cfg.has_serial)
		apply_ident(in, "vnvme/serial", in->cfg.serial);
	if (in->cfg.has_model)
		apply_ident(in, "vnvme/model", in->cfg.model);
	if (in->cfg.has_firmware)
		apply_ident(in, "vnvme/firmware", in->cfg.firmware);
	if (in->cfg.mdts > 0) {
		snprintf(mdts, sizeof(mdts), "%d", in->cfg.mdts);
		apply_ident(in, "vnvme/mdts", mdts);
	}
}

static void ns_detach(struct inst *in, unsigned int n, const char *why)
{
	char attr[VN_NS_ATTR_LEN];

	if (!write_attr(in, vn_ns_attr(attr, n, "enable"), "0"))
		logmsg(LOG_INFO, in->cfg.uuid, "ns%u: detached (%s)", n, why);
	in->ns[n].dev = 0;
}

/* Brings namespace n to what the configuration says, if it can now. */
static void ns_apply(struct inst *in, unsigned int n)
{
	const struct vnc_ns *c = &in->cfg.ns[n];
	struct ns_state *st = &in->ns[n];
	const char *uuid = in->cfg.uuid;
	char attr[VN_NS_ATTR_LEN], path[PATH_MAX], ro[8], size[32];
	bool enabled, want_ro = c->readonly == 1;
	long long bytes;
	dev_t dev = 0;
	int ret;

	if (!c->used || !in->exists)
		return;
	enabled = vn_ns_enabled(uuid, n);
	if (!read_attr(uuid, vn_ns_attr(attr, n, "device_path"), path, sizeof(path)))
		path[0] = '\0';
	if (!read_attr(uuid, vn_ns_attr(attr, n, "readonly"), ro, sizeof(ro)))
		ro[0] = '\0';

	if (!vnc_ns_enabled(c)) {
		st->pending = false;
		if (enabled)
			ns_detach(in, n, "ns enable = 0 in the configuration");
		if (c->has_path && strcmp(path, c->device_path) &&
		    !access(c->device_path, F_OK))
			write_attr(in, vn_ns_attr(attr, n, "device_path"), c->device_path);
		if (c->readonly >= 0 && (ro[0] == '1') != want_ro)
			write_attr(in, vn_ns_attr(attr, n, "readonly"), want_ro ? "1" : "0");
		return;
	}
	if (enabled && !strcmp(path, c->device_path) && (ro[0] == '1') == want_ro) {
		st->pending = false;
		if (!st->dev)
			blockdev_ready(c->device_path, &st->dev);
		return;
	}
	if (enabled)
		ns_detach(in, n, "its configuration changed");

	ret = blockdev_ready(c->device_path, &dev);
	if (ret) {
		st->pending = true;
		if (!st->logged_wait)
			logmsg(LOG_INFO, uuid, "ns%u: waiting for %s to appear%s", n,
			       c->device_path, ret == -ENODATA ? " (it has no media yet)" :
			       ret == -ENOTBLK ? " (it is not a block device)" : "");
		st->logged_wait = true;
		return;
	}
	/* attr names the write that failed, for the message below. */
	vn_ns_attr(attr, n, "device_path");
	ret = strcmp(path, c->device_path) ?
	      vn_attr_write(uuid, attr, c->device_path) : 0;
	if (!ret && (ro[0] == '1') != want_ro)
		ret = vn_attr_write(uuid, vn_ns_attr(attr, n, "readonly"),
				    want_ro ? "1" : "0");
	if (!ret)
		ret = vn_attr_write(uuid, vn_ns_attr(attr, n, "enable"), "1");
	if (ret) {
		/* Retried with every block uevent and timer tick; said once. */
		st->pending = true;
		if (st->last_err != -ret)
			log_attr_error(uuid, attr, strstr(attr, "enable") ? "1" :
				       c->device_path, ret);
		st->last_err = -ret;
		return;
	}
	st->pending = false;
	st->logged_wait = false;
	st->last_err = 0;
	st->dev = dev;
	bytes = vn_dev_size(dev);
	if (bytes >= 0)
		vn_fmt_size((uint64_t)bytes, size, sizeof(size));
	else
		size[0] = '\0';
	logmsg(LOG_INFO, uuid, "ns%u: attached %s%s%s%s%s", n, c->device_path,
	       size[0] ? " (" : "", size, size[0] ? ")" : "",
	       want_ro ? ", read-only" : "");
}

/* Creates the instance if it should exist and does not. */
static void inst_ensure(struct inst *in)
{
	char type[64];
	int ret;

	in->exists = vn_instance_exists(in->cfg.uuid);
	if (!in->exists) {
		if (in->cfg.manual) {
			if (!in->logged_manual)
				logmsg(LOG_INFO, in->cfg.uuid,
				       "start = manual: waiting for someone to create it");
			in->logged_manual = true;
			return;
		}
		ret = vn_create(in->cfg.type, in->cfg.uuid);
		if (ret) {
			if (in->last_err != -ret)
				log_attr_error(in->cfg.uuid, "create", in->cfg.type, ret);
			in->last_err = -ret;
			return;
		}
		in->last_err = 0;
		in->exists = true;
		memset(in->ns, 0, sizeof(in->ns));
		logmsg(LOG_INFO, in->cfg.uuid, "created (%s, from %s)", in->cfg.type,
		       in->cfg.file);
	}
	if (!vn_instance_type(in->cfg.uuid, type, sizeof(type)) &&
	    strcmp(type, in->cfg.type)) {
		if (!in->logged_type)
			logmsg(LOG_ERR, in->cfg.uuid,
			       "exists as %s but %s says %s; leaving it alone",
			       type, in->cfg.file, in->cfg.type);
		in->logged_type = true;
		in->exists = false;
		return;
	}
	in->logged_type = false;
}

static void inst_reconcile(struct inst *in)
{
	unsigned int n;

	if (!parent_up)
		return;
	inst_ensure(in);
	if (!in->exists)
		return;
	apply_identity(in);
	for (n = 1; n <= VN_MAX_NS; n++)
		ns_apply(in, n);
}

static void reconcile_all(void)
{
	size_t i;

	for (i = 0; i < ninsts; i++)
		inst_reconcile(&insts[i]);
}

static bool any_pending(void)
{
	unsigned int n;
	size_t i;

	if (!parent_up)
		return false;
	for (i = 0; i < ninsts; i++) {
		if (!insts[i].exists)
			continue;
		for (n = 1; n <= VN_MAX_NS; n++)
			if (insts[i].ns[n].pending)
				return true;
	}
	return false;
}

static void retry_pending(void)
{
	unsigned int n;
	size_t i;

	for (i = 0; i < ninsts; i++) {
		if (!parent_up || !insts[i].exists)
			continue;
		for (n = 1; n <= VN_MAX_NS; n++)
			if (insts[i].ns[n].pending)
				ns_apply(&insts[i], n);
	}
}

static void inst_remove(struct inst *in, const char *why)
{
	int ret;

	if (!vn_instance_exists(in->cfg.uuid))
		return;
	if (instance_opened(in->cfg.uuid)) {
		logmsg(LOG_WARNING, in->cfg.uuid,
		       "not removed although %s: a VFIO user (a VM) has it open", why);
		return;
	}
	in->removing = true;
	ret = vn_remove(in->cfg.uuid);
	if (ret) {
		in->removing = false;
		log_attr_error(in->cfg.uuid, "remove", "1", ret);
		return;
	}
	logmsg(LOG_INFO, in->cfg.uuid, "removed (%s)", why);
}

/* ---- configuration (re)loading ------------------------------------------ */

static void report_config_error(const char *msg, void *arg)
{
	(void)arg;
	logmsg(LOG_ERR, NULL, "%s; nothing from this file is applied", msg);
}

static int load_config(struct vnc_instance **cfg, size_t *nr,
		       char (**bad)[PATH_MAX], size_t *nbad)
{
	int ret = vnc_load_dir(opt_config_dir, cfg, nr, bad, nbad,
			       report_config_error, NULL);

	if (ret == -ENOENT) {
		logmsg(LOG_WARNING, NULL, "%s does not exist: no instances configured",
		       opt_config_dir);
		return 0;
	}
	if (ret)
		logmsg(LOG_ERR, NULL, "cannot read %s: %s", opt_config_dir,
		       strerror(-ret));
	return ret;
}

static void startup_config(void)
{
	char (*bad)[PATH_MAX] = NULL;
	struct vnc_instance *cfg = NULL;
	size_t nr = 0, nbad = 0, i;

	if (load_config(&cfg, &nr, &bad, &nbad))
		return;
	free(bad);
	insts = calloc(nr ? nr : 1, sizeof(*insts));
	if (!insts) {
		logmsg(LOG_ERR, NULL, "out of memory");
		exit(1);
	}
	for (i = 0; i < nr; i++)
		insts[i].cfg = cfg[i];
	ninsts = nr;
	free(cfg);
	logmsg(LOG_INFO, NULL, "%zu instance(s) configured in %s", ninsts,
	       opt_config_dir);
}

static bool file_rejected(const char *file, char (*bad)[PATH_MAX], size_t nbad)
{
	size_t i;

	for (i = 0; i < nbad; i++)
		if (!strcmp(bad[i], file))
			return true;
	return false;
}

static bool uuid_listed(const struct inst *v, size_t nr, const char *uuid)
{
	size_t i;

	for (i = 0; i < nr; i++)
		if (!strcmp(v[i].cfg.uuid, uuid))
			return true;
	return false;
}

/* SIGHUP: only what differs between the old and the new files is applied. */
static void reload_config(void)
{
	char (*bad)[PATH_MAX] = NULL;
	struct vnc_instance *cfg = NULL;
	struct inst *next, *old;
	size_t nr = 0, nbad = 0, nnext = 0, i;
	unsigned int n, changes = 0;

	logmsg(LOG_INFO, NULL, "SIGHUP: reloading %s", opt_config_dir);
	if (load_config(&cfg, &nr, &bad, &nbad))
		return;
	next = calloc(nr + ninsts + 1, sizeof(*next));
	if (!next) {
		logmsg(LOG_ERR, NULL, "out of memory; configuration not reloaded");
		free(cfg);
		free(bad);
		return;
	}
	for (i = 0; i < nr; i++) {
		next[nnext].cfg = cfg[i];
		old = find_inst(cfg[i].uuid);
		if (old) {
			memcpy(next[nnext].ns, old->ns, sizeof(old->ns));
			next[nnext].exists = old->exists;
		}
		nnext++;
	}
	/* A file that became malformed keeps its previous definition. */
	for (i = 0; i < ninsts; i++) {
		if (!file_rejected(insts[i].cfg.file, bad, nbad) ||
		    uuid_listed(next, nnext, insts[i].cfg.uuid))
			continue;
		logmsg(LOG_WARNING, insts[i].cfg.uuid,
		       "keeping the previous configuration from %s", insts[i].cfg.file);
		next[nnext++] = insts[i];
	}

	/* Instances whose file is gone. */
	for (i = 0; i < ninsts; i++) {
		if (uuid_listed(next, nnext, insts[i].cfg.uuid))
			continue;
		changes++;
		if (parent_up)
			inst_remove(&insts[i], "its configuration was removed");
	}

	/* New and changed instances. */
	for (i = 0; i < nnext; i++) {
		struct inst *in = &next[i];

		old = find_inst(in->cfg.uuid);
		if (!old) {
			changes++;
			logmsg(LOG_INFO, in->cfg.uuid, "new in %s", in->cfg.file);
			inst_reconcile(in);
			continue;
		}
		if (!in->exists && parent_up && !in->cfg.manual) {
			/* Removed behind our back: bring it back. */
			inst_reconcile(in);
			continue;
		}
		if (strcmp(old->cfg.type, in->cfg.type) && parent_up &&
		    vn_instance_exists(in->cfg.uuid)) {
			changes++;
			if (instance_opened(in->cfg.uuid)) {
				logmsg(LOG_ERR, in->cfg.uuid,
				       "type changed to %s but a VM has it open; keeping %s until it is closed and vnvmed reloaded",
				       in->cfg.type, old->cfg.type);
				snprintf(in->cfg.type, sizeof(in->cfg.type), "%s", old->cfg.type);
				continue;
			}
			inst_remove(in, "its type changed");
			in->exists = false;
			inst_reconcile(in);
			continue;
		}
		if (!vnc_ident_equal(&old->cfg, &in->cfg)) {
			changes++;
			inst_ensure(in);
			if (in->exists)
				apply_identity(in);
		}
		for (n = 1; n <= VN_MAX_NS; n++) {
			if (vnc_ns_equal(&old->cfg.ns[n], &in->cfg.ns[n]))
				continue;
			changes++;
			if (!in->exists || !parent_up)
				continue;
			if (!in->cfg.ns[n].used) {
				if (vn_ns_enabled(in->cfg.uuid, n))
					ns_detach(in, n, "removed from the configuration");
				memset(&in->ns[n], 0, sizeof(in->ns[n]));
				continue;
			}
			in->ns[n].logged_wait = false;
			in->ns[n].last_err = 0;
			ns_apply(in, n);
		}
	}
	free(insts);
	insts = next;
	ninsts = nnext;
	free(cfg);
	free(bad);
	logmsg(LOG_INFO, NULL, "reloaded: %zu instance(s), %u change(s) applied",
	       ninsts, changes);
}

/* ---- uevents ------------------------------------------------------------ */

struct uevent {
	const char	*action;
	const char	*devpath;
	const char	*subsystem;
	const char	*mdev_state;
	const char	*devname;
	int		major, minor;
};

static void parse_uevent(char *buf, size_t len, struct uevent *ue)
{
	char *p = buf, *end = buf + len;

	memset(ue, 0, sizeof(*ue));
	ue->major = ue->minor = -1;
	/* "ACTION@DEVPATH" first, then KEY=VALUE strings. */
	p += strlen(p) + 1;
	for (; p < end; p += strlen(p) + 1) {
		if (!strncmp(p, "ACTION=", 7))
			ue->action = p + 7;
		else if (!strncmp(p, "DEVPATH=", 8))
			ue->devpath = p + 8;
		else if (!strncmp(p, "SUBSYSTEM=", 10))
			ue->subsystem = p + 10;
		else if (!strncmp(p, "MDEV_STATE=", 11))
			ue->mdev_state = p + 11;
		else if (!strncmp(p, "DEVNAME=", 8))
			ue->devname = p + 8;
		else if (!strncmp(p, "MAJOR=", 6))
			ue->major = atoi(p + 6);
		else if (!strncmp(p, "MINOR=", 6))
			ue->minor = atoi(p + 6);
	}
}

static void parent_registered(void)
{
	size_t i;

	if (parent_up)
		return;
	parent_up = true;
	logmsg(LOG_INFO, NULL, "the vnvme parent is registered: applying the configuration");
	for (i = 0; i < ninsts; i++) {
		memset(insts[i].ns, 0, sizeof(insts[i].ns));
		insts[i].last_err = 0;
		insts[i].logged_manual = false;
	}
	reconcile_all();
}

static void parent_gone(void)
{
	size_t i;

	if (!parent_up)
		return;
	parent_up = false;
	logmsg(LOG_WARNING, NULL,
	       "the vnvme parent went away (module unloaded?); its instances will be restored when it returns");
	for (i = 0; i < ninsts; i++) {
		insts[i].exists = false;
		memset(insts[i].ns, 0, sizeof(insts[i].ns));
	}
}

/* A block device went away: namespaces on it are detached until it returns. */
static void block_removed(const struct uevent *ue)
{
	dev_t dev = makedev((unsigned int)ue->major, (unsigned int)ue->minor);
	unsigned int n;
	size_t i;

	for (i = 0; i < ninsts; i++) {
		struct inst *in = &insts[i];

		for (n = 1; n <= VN_MAX_NS && in->exists; n++) {
			if (!in->ns[n].dev || in->ns[n].dev != dev)
				continue;
			logmsg(LOG_WARNING, in->cfg.uuid,
			       "ns%u: backing device %s (/dev/%s) disappeared; detaching it until it comes back",
			       n, in->cfg.ns[n].device_path, ue->devname ? ue->devname : "?");
			ns_detach(in, n, "backing device gone");
			in->ns[n].pending = true;
			in->ns[n].logged_wait = false;
			in->ns[n].last_err = 0;
		}
	}
}

static void handle_uevent(char *buf, size_t len)
{
	struct uevent ue;
	const char *base;
	struct inst *in;

	parse_uevent(buf, len, &ue);
	if (!ue.action || !ue.devpath || !ue.subsystem)
		return;
	if (ue.mdev_state && !strcmp(ue.subsystem, VN_PARENT)) {
		logmsg(LOG_DEBUG, NULL, "uevent %s %s MDEV_STATE=%s", ue.action,
		       ue.devpath, ue.mdev_state);
		if (!strcmp(ue.mdev_state, "registered"))
			parent_registered();
		else if (!strcmp(ue.mdev_state, "unregistered"))
			parent_gone();
		return;
	}
	if (!strcmp(ue.subsystem, VN_PARENT) && !strcmp(ue.action, "remove")) {
		parent_gone();
		return;
	}
	if (!strcmp(ue.subsystem, "mdev")) {
		base = strrchr(ue.devpath, '/');
		in = base ? find_inst(base + 1) : NULL;
		if (!in)
			return;
		if (!strcmp(ue.action, "add")) {
			/* e.g. created by mdevctl or vnvmectl: configure it. */
			if (!in->exists && parent_up) {
				logmsg(LOG_INFO, in->cfg.uuid, "appeared; configuring it");
				inst_reconcile(in);
			}
		} else if (!strcmp(ue.action, "remove")) {
			/* The parent's class link goes first when it unregisters. */
			if (!vn_parent_present()) {
				parent_gone();
				return;
			}
			if (in->exists && !in->removing && parent_up)
				logmsg(LOG_WARNING, in->cfg.uuid,
				       "was removed outside vnvmed; it comes back on SIGHUP or the next module load");
			in->exists = false;
			in->removing = false;
			memset(in->ns, 0, sizeof(in->ns));
		}
		return;
	}
	if (!strcmp(ue.subsystem, "block")) {
		logmsg(LOG_DEBUG, NULL, "uevent %s %s", ue.action, ue.devpath);
		if (!strcmp(ue.action, "remove") && ue.major >= 0)
			block_removed(&ue);
		else if (!strcmp(ue.action, "add") || !strcmp(ue.action, "change"))
			retry_pending();
	}
}

static int uevent_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1 };
	int fd, size = 4 << 20;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    NETLINK_KOBJECT_UEVENT);
	if (fd < 0)
		return -errno;
	/* Without CAP_NET_ADMIN the plain option, capped by rmem_max. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}

static void uevent_read(int fd)
{
	char buf[8192];
	struct sockaddr_nl sa;
	struct iovec iov = { buf, sizeof(buf) - 1 };
	struct msghdr msg = {
		.msg_name = &sa, .msg_namelen = sizeof(sa),
		.msg_iov = &iov, .msg_iovlen = 1,
	};
	ssize_t n;

	for (;;) {
		n = recvmsg(fd, &msg, 0);
		if (n < 0) {
			if (errno == ENOBUFS) {
				/* Lost some: look at everything again. */
				logmsg(LOG_WARNING, NULL, "uevents were lost; rescanning");
				if (vn_parent_present())
					parent_registered();
				reconcile_all();
				continue;
			}
			return;
		}
		/* Only the kernel speaks on this group. */
		if (sa.nl_pid != 0 || n == 0)
			continue;
		buf[n] = '\0';
		handle_uevent(buf, (size_t)n);
	}
}

/* ---- netlink events ----------------------------------------------------- */

static void on_nl_event(const struct vn_event *ev, void *arg)
{
	char detail[VN_EVENT_DETAIL_LEN];

	(void)arg;
	if (ev->event >= VN_EVENT_MODULE_LOADED) {
		logmsg(LOG_INFO, NULL, "netlink: %s", vn_event_name(ev->event));
		return;
	}
	vn_event_detail(ev, detail, sizeof(detail));
	logmsg(ev->event == VNVME_NL_EVENT_IO_ERROR ? LOG_WARNING : LOG_INFO,
	       ev->uuid_str, "event %s%s", vn_event_name(ev->event), detail);
}

/* ---- privileges --------------------------------------------------------- */

static bool net_admin_kept;

/* Permitted: CAP_NET_ADMIN alone (or nothing); effective: it or nothing. */
static int capset_net_admin(bool permitted, bool effective)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	if (permitted)
		data[CAP_TO_INDEX(CAP_NET_ADMIN)].permitted = CAP_TO_MASK(CAP_NET_ADMIN);
	if (effective)
		data[CAP_TO_INDEX(CAP_NET_ADMIN)].effective = CAP_TO_MASK(CAP_NET_ADMIN);
	return (int)syscall(SYS_capset, &hdr, data);
}

/*
 * Around a netlink call: the kernel checks CAP_NET_ADMIN of the socket's
 * opener for requests and of the caller for joining the events group.
 */
static void net_admin_raise(void)
{
	if (net_admin_kept && capset_net_admin(true, true))
		logmsg(LOG_WARNING, NULL, "cannot raise CAP_NET_ADMIN: %s", strerror(errno));
}

static void net_admin_lower(void)
{
	if (net_admin_kept)
		capset_net_admin(true, false);
}

static void drop_capabilities(void)
{
	unsigned long cap;

	if (opt_keep_caps)
		return;
	for (cap = 0; cap <= 63; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno == EINVAL)
			break;
	/* Fails (EPERM) where CAP_NET_ADMIN was not permitted: then nothing is kept. */
	if (!capset_net_admin(true, false)) {
		net_admin_kept = true;
		logmsg(LOG_DEBUG, NULL, "running with CAP_NET_ADMIN permitted, no capability effective");
	} else if (capset_net_admin(false, false)) {
		logmsg(LOG_WARNING, NULL, "cannot drop capabilities: %s", strerror(errno));
	} else {
		logmsg(LOG_WARNING, NULL, "running without CAP_NET_ADMIN: no netlink events after "
		       "a module reload, and no instance is removed (whether a VM has it open is unknown)");
	}
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

/* ---- main --------------------------------------------------------------- */

static void usage(FILE *out)
{
	fprintf(out,
"Usage: vnvmed [OPTIONS]\n"
"Keep the vnvme instances described in the configuration directory alive.\n"
"\n"
"  -c, --config-dir DIR   instance files DIR/*.conf (default /etc/vnvme)\n"
"      --sysfs-root DIR   use DIR instead of /sys (tests)\n"
"      --check            only parse the configuration; exit 1 if a file is bad\n"
"      --once             apply the configuration once and exit\n"
"      --keep-caps        do not drop capabilities\n"
"  -v, --verbose          log every attribute write and uevent\n"
"  -h, --help             this text\n"
"  -V, --version          print the version\n"
"\n"
"Signals: SIGHUP reloads the configuration (applies only what changed),\n"
"SIGTERM and SIGINT stop vnvmed; instances are left as they are.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config-dir", required_argument, NULL, 'c' },
		{ "sysfs-root", required_argument, NULL, 'r' },
		{ "check", no_argument, NULL, 'C' },
		{ "once", no_argument, NULL, 'o' },
		{ "keep-caps", no_argument, NULL, 'k' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	bool check = false, once = false;
	struct pollfd pfd[3];
	struct vn_nl ev = { 0 };
	sigset_t mask;
	int c, ufd, sfd, ret;

	while ((c = getopt_long(argc, argv, "c:vhV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			opt_config_dir = optarg;
			break;
		case 'r':
			vn_sysfs_set_root(optarg);
			break;
		case 'C':
			check = true;
			break;
		case 'o':
			once = true;
			break;
		case 'k':
			opt_keep_caps = true;
			break;
		case 'v':
			opt_verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("vnvmed %s\n", VNVMED_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	journal = getenv("JOURNAL_STREAM") != NULL;

	if (check) {
		struct vnc_instance *cfg;
		char (*bad)[PATH_MAX];
		size_t nr, nbad, i;

		ret = vnc_load_dir(opt_config_dir, &cfg, &nr, &bad, &nbad,
				   report_config_error, NULL);
		if (ret) {
			logmsg(LOG_ERR, NULL, "cannot read %s: %s", opt_config_dir,
			       strerror(-ret));
			return 1;
		}
		for (i = 0; i < nr; i++)
			printf("%s: %s %s\n", cfg[i].file, cfg[i].uuid, cfg[i].type);
		free(cfg);
		free(bad);
		return nbad ? 1 : 0;
	}

	/* Signals first, so a SIGHUP during start-up is not lost. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	ufd = uevent_open();
	if (sfd < 0 || ufd < 0) {
		logmsg(LOG_ERR, NULL, "cannot open the signal or uevent socket: %s",
		       strerror(errno));
		return 1;
	}
	ret = vn_nl_events_open_any(&ev);
	if (ret)
		logmsg(LOG_WARNING, NULL, "no netlink events: %s%s", strerror(-ret),
		       ret == -EPERM ? " (the events group needs CAP_NET_ADMIN)" : "");
	drop_capabilities();

	logmsg(LOG_INFO, NULL, "vnvmed %s starting (configuration %s)", VNVMED_VERSION,
	       opt_config_dir);
	startup_config();
	if (vn_parent_present())
		parent_registered();
	else
		logmsg(LOG_INFO, NULL, "waiting for the vnvme module (%s/class/mdev_bus/%s)",
		       vn_sysfs_root(), VN_PARENT);
	if (once)
		return 0;

	pfd[0].fd = sfd;
	pfd[1].fd = ufd;
	pfd[2].fd = ev.sk ? vn_nl_fd(&ev) : -1;
	pfd[0].events = pfd[1].events = pfd[2].events = POLLIN;
	for (;;) {
		int timeout = any_pending() ? RETRY_MS : -1;

		c = poll(pfd, 3, timeout);
		if (c < 0 && errno != EINTR) {
			logmsg(LOG_ERR, NULL, "poll: %s", strerror(errno));
			return 1;
		}
		if (c == 0) {
			retry_pending();
			continue;
		}
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP) {
					reload_config();
				} else {
					logmsg(LOG_INFO, NULL, "%s: stopping; instances are left as they are",
					       strsignal((int)si.ssi_signo));
					vn_nl_close(&ev);
					return 0;
				}
			}
		}
		if (pfd[1].revents & POLLIN)
			uevent_read(ufd);
		if (pfd[2].fd >= 0 && (pfd[2].revents & POLLIN)) {
			net_admin_raise();
			ret = vn_nl_events_read(&ev, on_nl_event, NULL);
			net_admin_lower();
			if (ret == -ENOBUFS)
				logmsg(LOG_WARNING, NULL, "netlink events were lost");
		}
	}
}
