// SPDX-License-Identifier: GPL-2.0
/*
 * vnvmectl - create, configure and watch vnvme virtual NVMe controllers.
 *
 * Configuration goes through sysfs (/sys/bus/mdev/devices/<uuid>/), the
 * same files mdevctl and libvirt write; state, statistics and events come
 * from the "vnvme" generic netlink family.
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

#include "lib/vn-nl.h"
#include "lib/vn-sysfs.h"
#include "lib/vn-util.h"

#define VNVMECTL_VERSION "1.0"

static bool opt_json;
static bool opt_pretty;
static const char *prog = "vnvmectl";

static void __attribute__((format(printf, 1, 2))) err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void usage(FILE *out)
{
	fprintf(out,
"Usage: vnvmectl [--json] COMMAND [ARGS]\n"
"Create, configure and watch vnvme virtual NVMe controllers (VFIO mdevs).\n"
"\n"
"Commands:\n"
"  types                        list the mdev types and free instances\n"
"  list                         list the instances\n"
"  show UUID                    one instance: identity, state, namespaces\n"
"  create [--type T] [--uuid U] [--ns PATH]... [--serial S] [--model M]\n"
"                               create an instance (PATHs become NSIDs 1, 2, ...)\n"
"  remove UUID [--force]        remove an instance (--force: even if a VM has it open)\n"
"  attach UUID [--nsid N] PATH [--readonly]\n"
"                               attach a block device as a namespace\n"
"  detach UUID NSID             detach a namespace\n"
"  stats [UUID] [--watch [SECONDS]] [--count N]\n"
"                               counters; --watch prints per-second rates\n"
"  reset-stats UUID             zero the counters (needs CAP_NET_ADMIN)\n"
"  events [--uuid U] [--count N] [--timeout SECONDS]\n"
"                               follow the events until interrupted\n"
"\n"
"Options:\n"
"  -j, --json        JSON output (one document; one line per item when following)\n"
"      --pretty      indented JSON\n"
"      --sysfs-root DIR  use DIR instead of /sys (tests)\n"
"  -h, --help        this text\n"
"  -V, --version     print the version\n"
"\n"
"Exit status: 0 success, 1 failure, 2 usage error, 3 no such instance, type,\n"
"namespace or device, 4 permission denied, 5 busy (open by a VM, namespace\n"
"enabled), 6 vnvme module not loaded.\n");
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", prog);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'vnvmectl --help'.\n");
	return VN_EXIT_USAGE;
}

/* No vnvme parent under sysfs: nothing to list types of or create under. */
static int parent_missing(void)
{
	err("the vnvme module is not loaded (no %s/class/mdev_bus/vnvme)",
	    vn_sysfs_root());
	return VN_EXIT_NOVNVME;
}

/* No generic netlink family: nothing to ask for state, stats or events. */
static int family_missing(void)
{
	err("the vnvme module is not loaded (no generic netlink family \"vnvme\")");
	return VN_EXIT_NOVNVME;
}

/* Turns a failed attribute write into a sentence and an exit code. */
static int attr_fail(const char *uuid, const char *attr, const char *value,
		     int ret)
{
	char why[PATH_MAX + 200];

	vn_explain(uuid, attr, value, -ret, why, sizeof(why));
	err("%s", why);
	if (-ret == ENODEV && !vn_parent_present())
		return VN_EXIT_NOVNVME;
	if (-ret == ENOENT && uuid && !vn_instance_exists(uuid))
		return VN_EXIT_NOTFOUND;
	return vn_exit_code(-ret);
}

/* Writes an attribute; if that fails, says why and returns the exit code. */
static int attr_set(const char *uuid, const char *attr, const char *value)
{
	int ret = vn_attr_write(uuid, attr, value);

	return ret ? attr_fail(uuid, attr, value, ret) : VN_EXIT_OK;
}

/* The same for attribute <name> of namespace nsid. */
static int ns_attr_set(const char *uuid, unsigned int nsid, const char *name,
		       const char *value)
{
	char attr[VN_NS_ATTR_LEN];

	return attr_set(uuid, vn_ns_attr(attr, nsid, name), value);
}

static int nl_open_or_explain(struct vn_nl *nl)
{
	int ret = vn_nl_open(nl);

	if (ret == -ENODEV)
		return family_missing();
	if (ret) {
		err("cannot open a generic netlink socket: %s", strerror(-ret));
		return VN_EXIT_FAIL;
	}
	return 0;
}

static int nl_fail(struct vn_nl *nl, const char *what, const char *uuid, int ret)
{
	const char *msg = vn_nl_errmsg(nl);

	if (ret == -ENODEV && uuid) {
		err("there is no vnvme instance %s", uuid);
		return VN_EXIT_NOTFOUND;
	}
	if (ret == -EPERM || ret == -EACCES) {
		err("permission denied: %s needs CAP_NET_ADMIN (run as root)", what);
		return VN_EXIT_PERM;
	}
	err("%s failed: %s%s%s", what, strerror(-ret), *msg ? ": " : "", msg);
	return vn_exit_code(-ret);
}

/* A UUID argument: VN_EXIT_USAGE (said) if s is not one; its bytes to uuid unless NULL. */
static int parse_uuid_arg(const char *s, uint8_t *uuid)
{
	uint8_t tmp[VN_UUID_LEN];

	if (vn_uuid_parse(s, uuid ? uuid : tmp))
		return usage_error("'%s' is not a UUID", s);
	return VN_EXIT_OK;
}

/* After the options: a word left over is a usage error. */
static int no_more_args(int argc, char **argv)
{
	if (optind != argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	return VN_EXIT_OK;
}

/* getopt_long() that takes -j/--json itself: every command accepts it after its name. */
static int next_opt(int argc, char **argv, const char *optstring,
		    const struct option *opts)
{
	int c;

	while ((c = getopt_long(argc, argv, optstring, opts, NULL)) == 'j')
		opt_json = true;
	return c;
}

/* --count N of stats and events. */
static int parse_count(const char *arg, long *count)
{
	char *end;

	*count = strtol(arg, &end, 0);
	if (*end || *count < 1)
		return usage_error("--count takes a positive number, not '%s'", arg);
	return VN_EXIT_OK;
}

/* A namespace ID 1-16 from the command line; 0 if arg is not one. */
static unsigned int parse_nsid(const char *arg)
{
	char *end;
	long v = strtol(arg, &end, 0);

	return *end || v < 1 || v > VN_MAX_NS ? 0 : (unsigned int)v;
}

/* Attach and detach: the instance must exist; if not, which exit code says why. */
static int instance_missing(const char *uuid)
{
	if (vn_instance_exists(uuid))
		return VN_EXIT_OK;
	err("there is no vnvme instance %s", uuid);
	return vn_parent_present() ? VN_EXIT_NOTFOUND : VN_EXIT_NOVNVME;
}

/*
 * GET_INSTANCE over a socket of its own: every instance (uuid NULL) or the
 * one named uuid_str, which must come back alone.  Failures are said.
 */
static int fetch_instances(const char *uuid_str, const uint8_t *uuid,
			   const char *what, struct vn_instance **in, size_t *nr)
{
	struct vn_nl nl;
	int ret;

	ret = nl_open_or_explain(&nl);
	if (ret)
		return ret;
	ret = vn_nl_get_instances(&nl, uuid, in, nr);
	if (!ret && uuid && *nr != 1) {
		free(*in);
		ret = -EPROTO;
	}
	if (ret)
		ret = nl_fail(&nl, what, uuid_str, ret);
	vn_nl_close(&nl);
	return ret;
}

/* Opens a one-object JSON document on stdout; json_doc_close() ends it. */
static void json_doc_open(struct vn_json *j)
{
	vn_json_init(j, stdout, opt_pretty);
	vn_json_obj_open(j, NULL);
}

static void json_doc_close(struct vn_json *j)
{
	vn_json_obj_close(j);
	vn_json_end(j);
}

/* ---- types -------------------------------------------------------------- */

static int cmd_types(int argc, char **argv)
{
	struct vn_type *types;
	struct vn_json j;
	size_t i, nr;
	int ret;

	(void)argv;
	if (argc > 1)
		return usage_error("types takes no arguments%s", "");
	ret = vn_types_list(&types, &nr);
	if (ret == -ENODEV)
		return parent_missing();
	if (ret) {
		err("cannot list the mdev types: %s", strerror(-ret));
		return VN_EXIT_FAIL;
	}
	if (opt_json) {
		vn_json_init(&j, stdout, opt_pretty);
		vn_json_arr_open(&j, NULL);
		for (i = 0; i < nr; i++) {
			vn_json_obj_open(&j, NULL);
			vn_json_str(&j, "type", types[i].id);
			vn_json_str(&j, "name", types[i].name);
			vn_json_str(&j, "description", types[i].description);
			vn_json_str(&j, "device_api", types[i].device_api);
			vn_json_u64(&j, "available_instances",
				    types[i].available < 0 ? 0 : types[i].available);
			vn_json_obj_close(&j);
		}
		vn_json_arr_close(&j);
		vn_json_end(&j);
	} else {
		printf("%-14s %-9s %s\n", "TYPE", "AVAILABLE", "DESCRIPTION");
		for (i = 0; i < nr; i++)
			printf("%-14s %-9d %s\n", types[i].id, types[i].available,
			       types[i].description);
	}
	free(types);
	return VN_EXIT_OK;
}

/* ---- list / show -------------------------------------------------------- */

static void json_instance(struct vn_json *j, const struct vn_instance *in)
{
	char nguid[33];
	unsigned int i, k;

	vn_json_obj_open(j, NULL);
	vn_json_str(j, "uuid", in->uuid_str);
	vn_json_str(j, "type", in->type);
	vn_json_str(j, "state", in->state);
	vn_json_str(j, "serial", in->serial);
	vn_json_str(j, "model", in->model);
	vn_json_str(j, "firmware", in->firmware);
	vn_json_u64(j, "cntlid", in->cntlid);
	vn_json_u64(j, "mdts", in->mdts);
	vn_json_u64(j, "max_io_queues", in->max_io_queues);
	vn_json_u64(j, "io_queues", in->io_queues);
	vn_json_bool(j, "opened", in->opened);
	vn_json_u64(j, "pinned_pages", in->pinned_pages);
	vn_json_bool(j, "zero_copy", in->zero_copy);
	vn_json_arr_open(j, "namespaces");
	for (i = 0; i < in->nr_ns; i++) {
		const struct vn_ns_info *ns = &in->ns[i];

		vn_json_obj_open(j, NULL);
		vn_json_u64(j, "nsid", ns->nsid);
		if (ns->has_path)
			vn_json_str(j, "device_path", ns->device_path);
		else
			vn_json_null(j, "device_path");
		vn_json_bool(j, "enabled", ns->enabled);
		vn_json_bool(j, "readonly", ns->readonly);
		if (ns->enabled) {
			vn_json_u64(j, "size", ns->size);
			vn_json_u64(j, "lba_size", ns->lba_size);
		}
		for (k = 0; k < 16; k++)
			snprintf(nguid + 2 * k, 3, "%02x", ns->nguid[k]);
		vn_json_str(j, "nguid", nguid);
		vn_json_obj_close(j);
	}
	vn_json_arr_close(j);
	vn_json_obj_close(j);
}

static int cmd_list(int argc, char **argv)
{
	struct vn_instance *in;
	struct vn_json j;
	size_t i, nr;
	unsigned int k;
	int ret;

	(void)argv;
	if (argc > 1)
		return usage_error("list takes no arguments%s", "");
	ret = fetch_instances(NULL, NULL, "listing the instances", &in, &nr);
	if (ret)
		return ret;
	if (opt_json) {
		vn_json_init(&j, stdout, opt_pretty);
		vn_json_arr_open(&j, NULL);
		for (i = 0; i < nr; i++)
			json_instance(&j, &in[i]);
		vn_json_arr_close(&j);
		vn_json_end(&j);
	} else {
		printf("%-36s  %-12s %-8s %-4s %-9s %s\n", "UUID", "TYPE", "STATE",
		       "OPEN", "IO-QUEUES", "NAMESPACES");
		for (i = 0; i < nr; i++) {
			char q[16];

			snprintf(q, sizeof(q), "%u/%u", in[i].io_queues,
				 in[i].max_io_queues);
			printf("%-36s  %-12s %-8s %-4s %-9s", in[i].uuid_str, in[i].type,
			       in[i].state, in[i].opened ? "yes" : "no", q);
			if (!in[i].nr_ns)
				printf(" -");
			for (k = 0; k < in[i].nr_ns; k++) {
				const struct vn_ns_info *ns = &in[i].ns[k];

				printf(" %u:%s%s%s", ns->nsid,
				       ns->has_path ? ns->device_path : "?",
				       ns->readonly ? "(ro)" : "",
				       ns->enabled ? "" : "(off)");
			}
			printf("\n");
		}
	}
	free(in);
	return VN_EXIT_OK;
}

static int get_instance(const char *uuid_str, struct vn_instance **in)
{
	uint8_t uuid[VN_UUID_LEN];
	size_t nr;

	if (parse_uuid_arg(uuid_str, uuid))
		return VN_EXIT_USAGE;
	return fetch_instances(uuid_str, uuid, "reading the instance", in, &nr);
}

static int cmd_show(int argc, char **argv)
{
	struct vn_instance *in;
	struct vn_json j;
	char size[32], buf[64];
	unsigned int k;
	int ret;

	if (argc != 2)
		return usage_error("show needs one UUID%s", "");
	ret = get_instance(argv[1], &in);
	if (ret)
		return ret;
	if (opt_json) {
		vn_json_init(&j, stdout, opt_pretty);
		json_instance(&j, in);
		vn_json_end(&j);
		free(in);
		return VN_EXIT_OK;
	}
	printf("uuid:          %s\n", in->uuid_str);
	printf("type:          %s\n", in->type);
	printf("state:         %s\n", in->state);
	printf("open by a VM:  %s\n", in->opened ? "yes" : "no");
	printf("serial:        %s\n", in->serial);
	printf("model:         %s\n", in->model);
	printf("firmware:      %s\n", in->firmware);
	printf("cntlid:        %u\n", in->cntlid);
	printf("mdts:          %u (%u KiB)\n", in->mdts, 4u << in->mdts);
	printf("I/O queues:    %u created, %u at most\n", in->io_queues,
	       in->max_io_queues);
	printf("pinned pages:  %u\n", in->pinned_pages);
	printf("zero-copy:     %s\n", in->zero_copy ? "on" : "off");
	if (!vn_attr_read(in->uuid_str, "vnvme/features", buf, sizeof(buf)))
		printf("features:      %s\n", buf);
	printf("namespaces:%s\n", in->nr_ns ? "" : "    none");
	for (k = 0; k < in->nr_ns; k++) {
		const struct vn_ns_info *ns = &in->ns[k];

		printf("  %2u  %-32s %s%s", ns->nsid,
		       ns->has_path ? ns->device_path : "(no device)",
		       ns->enabled ? "attached" : "detached",
		       ns->readonly ? ", read-only" : "");
		if (ns->enabled) {
			vn_fmt_size(ns->size, size, sizeof(size));
			printf(", %s, %u-byte blocks", size, ns->lba_size);
		}
		printf("\n");
	}
	free(in);
	return VN_EXIT_OK;
}

/* ---- create / remove ---------------------------------------------------- */

static int cmd_create(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "type", required_argument, NULL, 't' },
		{ "uuid", required_argument, NULL, 'u' },
		{ "ns", required_argument, NULL, 'n' },
		{ "serial", required_argument, NULL, 's' },
		{ "model", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *type = "vnvme-small", *serial = NULL, *model = NULL;
	const char *ns[VN_MAX_NS];
	char uuid[VN_UUID_STRLEN] = "", type_id[64];
	unsigned int nr_ns = 0, i;
	struct vn_json j;
	int c, ret;

	optind = 1;
	while ((c = next_opt(argc, argv, "t:u:n:s:m:j", opts)) != -1) {
		switch (c) {
		case 't':
			type = optarg;
			break;
		case 'u':
			if (parse_uuid_arg(optarg, NULL))
				return VN_EXIT_USAGE;
			snprintf(uuid, sizeof(uuid), "%s", optarg);
			break;
		case 'n':
			if (nr_ns == VN_MAX_NS)
				return usage_error("at most 16 namespaces%s", "");
			ns[nr_ns++] = optarg;
			break;
		case 's':
			serial = optarg;
			break;
		case 'm':
			model = optarg;
			break;
		default:
			return VN_EXIT_USAGE;
		}
	}
	if (no_more_args(argc, argv))
		return VN_EXIT_USAGE;
	ret = vn_type_resolve(type, type_id, sizeof(type_id));
	if (ret == -ENODEV)
		return parent_missing();
	if (ret) {
		err("there is no mdev type %s (see 'vnvmectl types')", type_id);
		return VN_EXIT_NOTFOUND;
	}
	if (!uuid[0] && vn_uuid_generate(uuid)) {
		err("cannot generate a UUID: %s", strerror(errno));
		return VN_EXIT_FAIL;
	}
	ret = vn_create(type_id, uuid);
	if (ret)
		return attr_fail(uuid, "create", type_id, ret);

	/* Like mdevctl: a failed attribute removes the new instance again. */
	if (serial && (c = attr_set(uuid, "vnvme/serial", serial)))
		goto undo;
	if (model && (c = attr_set(uuid, "vnvme/model", model)))
		goto undo;
	for (i = 0; i < nr_ns; i++) {
		c = ns_attr_set(uuid, i + 1, "device_path", ns[i]);
		if (!c)
			c = ns_attr_set(uuid, i + 1, "enable", "1");
		if (c)
			goto undo;
	}
	if (opt_json) {
		json_doc_open(&j);
		vn_json_str(&j, "uuid", uuid);
		vn_json_str(&j, "type", type_id);
		json_doc_close(&j);
	} else {
		printf("%s\n", uuid);
	}
	return VN_EXIT_OK;

undo:
	ret = vn_remove(uuid);
	if (ret)
		err("could not remove the half-configured instance %s: %s", uuid,
		    strerror(-ret));
	else
		err("instance %s was not created", uuid);
	return c;
}

/* Quietly: true only if netlink says a VFIO user has the instance open. */
static bool instance_opened(const char *uuid_str)
{
	return vn_nl_instance_opened(uuid_str) > 0;
}

static int cmd_remove(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	bool force = false;
	const char *uuid;
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f", opts, NULL)) != -1) {
		if (c != 'f')
			return VN_EXIT_USAGE;
		force = true;
	}
	if (optind + 1 != argc)
		return usage_error("remove needs one UUID%s", "");
	uuid = argv[optind];
	if (parse_uuid_arg(uuid, NULL))
		return VN_EXIT_USAGE;
	if (!vn_instance_exists(uuid)) {
		if (!vn_parent_present()) {
			err("the vnvme module is not loaded");
			return VN_EXIT_NOVNVME;
		}
		err("there is no vnvme instance %s", uuid);
		return VN_EXIT_NOTFOUND;
	}
	/* Removing an open instance blocks until the VM lets go of it. */
	if (!force && instance_opened(uuid)) {
		err("instance %s is open by a VFIO user (a running VM); stop the VM first, or use --force to ask it to release the device (the removal waits until it does)",
		    uuid);
		return VN_EXIT_BUSY;
	}
	ret = vn_remove(uuid);
	if (ret)
		return attr_fail(uuid, "remove", NULL, ret);
	if (!opt_json)
		printf("removed %s\n", uuid);
	return VN_EXIT_OK;
}

/* ---- attach / detach ---------------------------------------------------- */

static bool ns_has_path(const char *uuid, unsigned int nsid)
{
	char attr[VN_NS_ATTR_LEN], buf[PATH_MAX];

	return !vn_attr_read(uuid, vn_ns_attr(attr, nsid, "device_path"), buf, sizeof(buf)) &&
	       buf[0];
}

/* First slot never configured, else first detached one; 0 if all in use. */
static unsigned int ns_free_slot(const char *uuid)
{
	unsigned int n;

	for (n = 1; n <= VN_MAX_NS; n++)
		if (!vn_ns_enabled(uuid, n) && !ns_has_path(uuid, n))
			return n;
	for (n = 1; n <= VN_MAX_NS; n++)
		if (!vn_ns_enabled(uuid, n))
			return n;
	return 0;
}

static int cmd_attach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "nsid", required_argument, NULL, 'n' },
		{ "readonly", no_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *uuid, *path, *ro;
	unsigned int nsid = 0;
	bool readonly = false;
	struct vn_json j;
	int c, ret;

	optind = 1;
	while ((c = next_opt(argc, argv, "n:rj", opts)) != -1) {
		switch (c) {
		case 'n':
			nsid = parse_nsid(optarg);
			if (!nsid)
				return usage_error("--nsid takes 1-16, not '%s'", optarg);
			break;
		case 'r':
			readonly = true;
			break;
		default:
			return VN_EXIT_USAGE;
		}
	}
	if (optind + 2 != argc)
		return usage_error("attach needs a UUID and a device path%s", "");
	uuid = argv[optind];
	path = argv[optind + 1];
	if (parse_uuid_arg(uuid, NULL))
		return VN_EXIT_USAGE;
	ret = instance_missing(uuid);
	if (ret)
		return ret;
	if (!nsid) {
		nsid = ns_free_slot(uuid);
		if (!nsid) {
			err("all %d namespaces of %s are attached; detach one first",
			    VN_MAX_NS, uuid);
			return VN_EXIT_BUSY;
		}
	}
	/* device_path first: on an enabled namespace it fails with EBUSY. */
	ro = readonly ? "1" : "0";
	ret = ns_attr_set(uuid, nsid, "device_path", path);
	if (!ret)
		ret = ns_attr_set(uuid, nsid, "readonly", ro);
	if (!ret)
		ret = ns_attr_set(uuid, nsid, "enable", "1");
	if (ret)
		return ret;
	if (opt_json) {
		json_doc_open(&j);
		vn_json_str(&j, "uuid", uuid);
		vn_json_u64(&j, "nsid", nsid);
		vn_json_str(&j, "device_path", path);
		vn_json_bool(&j, "readonly", readonly);
		json_doc_close(&j);
	} else {
		printf("attached %s to %s as namespace %u%s\n", path, uuid, nsid,
		       readonly ? " (read-only)" : "");
	}
	return VN_EXIT_OK;
}

static int cmd_detach(int argc, char **argv)
{
	unsigned int nsid;
	const char *uuid;
	int ret;

	if (argc != 3)
		return usage_error("detach needs a UUID and a namespace ID%s", "");
	uuid = argv[1];
	if (parse_uuid_arg(uuid, NULL))
		return VN_EXIT_USAGE;
	nsid = parse_nsid(argv[2]);
	if (!nsid)
		return usage_error("namespace IDs are 1-16, not '%s'", argv[2]);
	ret = instance_missing(uuid);
	if (ret)
		return ret;
	if (!vn_ns_enabled(uuid, nsid)) {
		if (!opt_json)
			printf("namespace %u of %s is not attached\n", nsid, uuid);
		return VN_EXIT_OK;
	}
	ret = ns_attr_set(uuid, nsid, "enable", "0");
	if (ret)
		return ret;
	if (!opt_json)
		printf("detached namespace %u of %s\n", nsid, uuid);
	return VN_EXIT_OK;
}

/* ---- stats -------------------------------------------------------------- */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void json_io_stats(struct vn_json *j, const char *idkey,
			  const struct vn_io_stats *st)
{
	char label[32];
	unsigned int i;

	vn_json_obj_open(j, NULL);
	vn_json_u64(j, idkey, st->id);
	vn_json_u64(j, "commands", st->cmds);
	vn_json_u64(j, "bytes_read", st->bytes_read);
	vn_json_u64(j, "bytes_written", st->bytes_written);
	vn_json_u64(j, "errors", st->errors);
	vn_json_u64(j, "interrupts", st->irqs);
	vn_json_arr_open(j, "latency_us_log2");
	for (i = 0; i < st->nr_buckets; i++)
		vn_json_u64(j, NULL, st->lat[i]);
	vn_json_arr_close(j);
	vn_json_obj_open(j, "latency");
	for (i = 0; i < st->nr_buckets; i++) {
		if (!st->lat[i])
			continue;
		vn_fmt_lat_bucket(i, st->nr_buckets, label, sizeof(label));
		vn_json_u64(j, label, st->lat[i]);
	}
	vn_json_obj_close(j);
	vn_json_obj_close(j);
}

static void json_stats(struct vn_json *j, const struct vn_stats *s)
{
	unsigned int i;

	vn_json_obj_open(j, NULL);
	vn_json_str(j, "uuid", s->uuid_str);
	vn_json_arr_open(j, "queues");
	for (i = 0; i < s->nr_queues; i++)
		json_io_stats(j, "qid", &s->queues[i]);
	vn_json_arr_close(j);
	vn_json_arr_open(j, "namespaces");
	for (i = 0; i < s->nr_ns; i++)
		json_io_stats(j, "nsid", &s->ns[i]);
	vn_json_arr_close(j);
	vn_json_arr_open(j, "errors_by_status");
	for (i = 0; i < s->nr_status; i++) {
		char st[8];

		vn_json_obj_open(j, NULL);
		snprintf(st, sizeof(st), "0x%03x", s->status[i].status);
		vn_json_str(j, "status", st);
		vn_json_str(j, "name", s->status[i].status ?
			    vn_nvme_status_name(s->status[i].status) : "other");
		vn_json_u64(j, "count", s->status[i].count);
		vn_json_obj_close(j);
	}
	vn_json_arr_close(j);
	vn_json_obj_open(j, "pin_cache");
	vn_json_u64(j, "pages", s->pin_cache.pages);
	vn_json_u64(j, "hits", s->pin_cache.hits);
	vn_json_u64(j, "misses", s->pin_cache.misses);
	vn_json_u64(j, "evictions", s->pin_cache.evictions);
	vn_json_u64(j, "bounce_fallbacks", s->pin_cache.bounce_fallbacks);
	vn_json_obj_close(j);
	vn_json_obj_close(j);
}

/* The bucket that holds the p-th fraction of the commands. */
static const char *lat_quantile(const struct vn_io_stats *st, double p,
				char *buf, size_t len)
{
	uint64_t total = 0, seen = 0;
	unsigned int i;

	for (i = 0; i < st->nr_buckets; i++)
		total += st->lat[i];
	if (!total)
		return "-";
	for (i = 0; i < st->nr_buckets; i++) {
		seen += st->lat[i];
		if ((double)seen >= p * (double)total)
			break;
	}
	vn_fmt_lat_bucket(i < st->nr_buckets ? i : st->nr_buckets - 1,
			  st->nr_buckets, buf, len);
	return buf;
}

static void print_io_row(const char *label, const struct vn_io_stats *st)
{
	char r[32], w[32], p50[32], p99[32];

	vn_fmt_size(st->bytes_read, r, sizeof(r));
	vn_fmt_size(st->bytes_written, w, sizeof(w));
	printf("  %-8s %12llu %12s %12s %8llu %10llu  %-12s %s\n", label,
	       (unsigned long long)st->cmds, r, w,
	       (unsigned long long)st->errors, (unsigned long long)st->irqs,
	       lat_quantile(st, 0.5, p50, sizeof(p50)),
	       lat_quantile(st, 0.99, p99, sizeof(p99)));
}

/* Row label of a queue ("admin", "q1", ...) or a namespace ("ns1", ...). */
static const char *io_label(bool queue, uint32_t id, char *buf, size_t len)
{
	if (queue)
		snprintf(buf, len, id ? "q%u" : "admin", id);
	else
		snprintf(buf, len, "ns%u", id);
	return buf;
}

/* Adds up the I/O queues of s (the admin queue left out) into *all. */
static void sum_io_queues(const struct vn_stats *s, struct vn_io_stats *all)
{
	unsigned int i, k;

	for (i = 0; i < s->nr_queues; i++) {
		const struct vn_io_stats *q = &s->queues[i];

		if (!q->id)
			continue;
		all->cmds += q->cmds;
		all->bytes_read += q->bytes_read;
		all->bytes_written += q->bytes_written;
		all->errors += q->errors;
		all->irqs += q->irqs;
		all->nr_buckets = q->nr_buckets;
		for (k = 0; k < q->nr_buckets; k++)
			all->lat[k] += q->lat[k];
	}
}

static void print_stats(const struct vn_stats *s)
{
	struct vn_io_stats all = { .nr_buckets = 0 };
	char label[32];
	unsigned int i, k;

	printf("%s\n", s->uuid_str);
	printf("  %-8s %12s %12s %12s %8s %10s  %-12s %s\n", "", "COMMANDS",
	       "READ", "WRITTEN", "ERRORS", "IRQS", "P50", "P99");
	for (i = 0; i < s->nr_queues; i++)
		print_io_row(io_label(true, s->queues[i].id, label, sizeof(label)),
			     &s->queues[i]);
	for (i = 0; i < s->nr_ns; i++)
		print_io_row(io_label(false, s->ns[i].id, label, sizeof(label)), &s->ns[i]);
	sum_io_queues(s, &all);
	if (!s->nr_queues && !s->nr_ns)
		printf("  (no commands yet)\n");
	for (i = 0; i < s->nr_status; i++)
		printf("  status 0x%03x %-40s %llu\n", s->status[i].status,
		       s->status[i].status ? vn_nvme_status_name(s->status[i].status) :
		       "(any other)", (unsigned long long)s->status[i].count);
	printf("  pin cache: %u pages, %llu hits, %llu misses, %llu evictions, %llu bounce fallbacks\n",
	       s->pin_cache.pages, (unsigned long long)s->pin_cache.hits,
	       (unsigned long long)s->pin_cache.misses,
	       (unsigned long long)s->pin_cache.evictions,
	       (unsigned long long)s->pin_cache.bounce_fallbacks);
	if (all.cmds) {
		printf("  I/O latency:");
		for (k = 0; k < all.nr_buckets; k++) {
			if (!all.lat[k])
				continue;
			vn_fmt_lat_bucket(k, all.nr_buckets, label, sizeof(label));
			printf(" %s:%llu", label, (unsigned long long)all.lat[k]);
		}
		printf("\n");
	}
}

static const struct vn_io_stats *find_io(const struct vn_io_stats *v,
					 unsigned int nr, uint32_t id)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if (v[i].id == id)
			return &v[i];
	return NULL;
}

static const struct vn_stats *find_stats(const struct vn_stats *v, size_t nr,
					 const char *uuid)
{
	size_t i;

	for (i = 0; i < nr; i++)
		if (!strcmp(v[i].uuid_str, uuid))
			return &v[i];
	return NULL;
}

struct vn_rate {
	double iops, rbps, wbps, errs, irqs;
};

static struct vn_rate rate_of(const struct vn_io_stats *cur,
			      const struct vn_io_stats *prev, double dt)
{
	struct vn_rate r = { 0 };
	struct vn_io_stats zero = { 0 };

	if (!prev)
		prev = &zero;
	/* Counters went backwards: reset-stats in between. */
	if (cur->cmds < prev->cmds)
		prev = &zero;
	r.iops = (double)(cur->cmds - prev->cmds) / dt;
	r.rbps = (double)(cur->bytes_read - prev->bytes_read) / dt;
	r.wbps = (double)(cur->bytes_written - prev->bytes_written) / dt;
	r.errs = (double)(cur->errors - prev->errors) / dt;
	r.irqs = (double)(cur->irqs - prev->irqs) / dt;
	return r;
}

/* The rate members of a --watch JSON object. */
static void json_rate_fields(struct vn_json *j, const struct vn_rate *r)
{
	vn_json_double(j, "iops", r->iops);
	vn_json_double(j, "read_bytes_per_s", r->rbps);
	vn_json_double(j, "written_bytes_per_s", r->wbps);
	vn_json_double(j, "errors_per_s", r->errs);
	vn_json_double(j, "interrupts_per_s", r->irqs);
}

static void print_rate(const char *label, const struct vn_rate *r)
{
	printf("  %-8s %10.1f %10.2f %10.2f %8.1f %10.1f\n", label, r->iops,
	       r->rbps / 1e6, r->wbps / 1e6, r->errs, r->irqs);
}

/*
 * The rows of the queues (or namespaces) of one instance in --watch: cur
 * against prev (NULL: the instance is new) over dt seconds.
 */
static void watch_io_rows(struct vn_json *j, bool queues, const struct vn_io_stats *cur,
			  unsigned int nr, const struct vn_io_stats *prev,
			  unsigned int nprev, double dt)
{
	char label[32];
	struct vn_rate r;
	unsigned int k;

	if (opt_json)
		vn_json_arr_open(j, queues ? "queues" : "namespaces");
	for (k = 0; k < nr; k++) {
		r = rate_of(&cur[k], prev ? find_io(prev, nprev, cur[k].id) : NULL, dt);
		if (opt_json) {
			vn_json_obj_open(j, NULL);
			vn_json_u64(j, queues ? "qid" : "nsid", cur[k].id);
			json_rate_fields(j, &r);
			vn_json_obj_close(j);
		} else {
			print_rate(io_label(queues, cur[k].id, label, sizeof(label)), &r);
		}
	}
	if (opt_json)
		vn_json_arr_close(j);
}

static void print_watch(const struct vn_stats *cur, size_t nr,
			const struct vn_stats *prev, size_t nprev, double dt)
{
	char when[32];
	struct vn_json j;
	time_t now = time(NULL);
	size_t i;

	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", localtime(&now));
	if (opt_json) {
		vn_json_init(&j, stdout, false);
		vn_json_obj_open(&j, NULL);
		vn_json_str(&j, "time", when);
		vn_json_double(&j, "interval", dt);
		vn_json_arr_open(&j, "instances");
	} else {
		printf("%s (per second over %.1f s)\n", when, dt);
		printf("  %-8s %10s %10s %10s %8s %10s\n", "", "IOPS", "READ MB/s",
		       "WRITE MB/s", "ERR/s", "IRQ/s");
	}
	for (i = 0; i < nr; i++) {
		const struct vn_stats *s = &cur[i], *p = find_stats(prev, nprev, s->uuid_str);
		struct vn_io_stats tot = { 0 }, ptot = { 0 };
		struct vn_rate r;

		sum_io_queues(s, &tot);
		if (p)
			sum_io_queues(p, &ptot);
		r = rate_of(&tot, p ? &ptot : NULL, dt);
		if (opt_json) {
			vn_json_obj_open(&j, NULL);
			vn_json_str(&j, "uuid", s->uuid_str);
			json_rate_fields(&j, &r);
		} else {
			printf("%s\n", s->uuid_str);
			print_rate("io", &r);
		}
		watch_io_rows(&j, true, s->queues, s->nr_queues, p ? p->queues : NULL,
			      p ? p->nr_queues : 0, dt);
		watch_io_rows(&j, false, s->ns, s->nr_ns, p ? p->ns : NULL,
			      p ? p->nr_ns : 0, dt);
		if (opt_json)
			vn_json_obj_close(&j);
	}
	if (opt_json) {
		vn_json_arr_close(&j);
		vn_json_obj_close(&j);
		vn_json_end(&j);
	}
	fflush(stdout);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* --watch: rates every interval seconds until count (-1: no limit) or a signal. */
static int watch_stats(struct vn_nl *nl, const uint8_t *uuid, double interval,
		       long count)
{
	struct vn_stats *cur = NULL, *prev = NULL;
	size_t nr = 0, nprev = 0;
	double t0, t1;
	int ret;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	ret = vn_nl_get_stats(nl, uuid, &prev, &nprev);
	t0 = now_s();
	while (!ret && !stop && count != 0) {
		struct timespec ts = {
			.tv_sec = (time_t)interval,
			.tv_nsec = (long)((interval - (time_t)interval) * 1e9),
		};

		while (nanosleep(&ts, &ts) && !stop)
			;
		if (stop)
			break;
		ret = vn_nl_get_stats(nl, uuid, &cur, &nr);
		if (ret)
			break;
		t1 = now_s();
		print_watch(cur, nr, prev, nprev, t1 - t0);
		free(prev);
		prev = cur;
		nprev = nr;
		cur = NULL;
		t0 = t1;
		if (count > 0)
			count--;
	}
	free(prev);
	return ret;
}

static int cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "watch", optional_argument, NULL, 'w' },
		{ "count", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *uuid_str = NULL;
	uint8_t uuid[VN_UUID_LEN];
	double interval = 0;
	struct vn_stats *cur;
	long count = -1;
	struct vn_json j;
	struct vn_nl nl;
	size_t nr, i;
	char *end;
	int c, ret;

	optind = 1;
	while ((c = next_opt(argc, argv, "w::c:j", opts)) != -1) {
		switch (c) {
		case 'w':
			interval = 1;
			/* "--watch 2": the optional value as the next word. */
			if (!optarg && optind < argc && argv[optind][0] >= '0' &&
			    argv[optind][0] <= '9')
				optarg = argv[optind++];
			if (optarg) {
				interval = strtod(optarg, &end);
				if (*end || interval < 0.1 || interval > 3600)
					return usage_error("--watch takes 0.1-3600 seconds, not '%s'",
							   optarg);
			}
			break;
		case 'c':
			if (parse_count(optarg, &count))
				return VN_EXIT_USAGE;
			break;
		default:
			return VN_EXIT_USAGE;
		}
	}
	if (optind < argc)
		uuid_str = argv[optind++];
	if (no_more_args(argc, argv))
		return VN_EXIT_USAGE;
	if (uuid_str && parse_uuid_arg(uuid_str, uuid))
		return VN_EXIT_USAGE;
	ret = nl_open_or_explain(&nl);
	if (ret)
		return ret;
	if (interval)
		ret = watch_stats(&nl, uuid_str ? uuid : NULL, interval, count);
	else
		ret = vn_nl_get_stats(&nl, uuid_str ? uuid : NULL, &cur, &nr);
	if (ret)
		ret = nl_fail(&nl, "reading the statistics", uuid_str, ret);
	vn_nl_close(&nl);
	if (ret || interval)
		return ret;

	if (opt_json) {
		vn_json_init(&j, stdout, opt_pretty);
		if (uuid_str) {
			json_stats(&j, &cur[0]);
		} else {
			vn_json_arr_open(&j, NULL);
			for (i = 0; i < nr; i++)
				json_stats(&j, &cur[i]);
			vn_json_arr_close(&j);
		}
		vn_json_end(&j);
	} else {
		for (i = 0; i < nr; i++)
			print_stats(&cur[i]);
		if (!nr)
			printf("no vnvme instances\n");
	}
	free(cur);
	return VN_EXIT_OK;
}

static int cmd_reset_stats(int argc, char **argv)
{
	uint8_t uuid[VN_UUID_LEN];
	struct vn_nl nl;
	int ret;

	if (argc != 2)
		return usage_error("reset-stats needs one UUID%s", "");
	if (parse_uuid_arg(argv[1], uuid))
		return VN_EXIT_USAGE;
	ret = nl_open_or_explain(&nl);
	if (ret)
		return ret;
	ret = vn_nl_reset_stats(&nl, uuid);
	if (ret)
		ret = nl_fail(&nl, "resetting the statistics", argv[1], ret);
	else if (!opt_json)
		printf("statistics of %s reset\n", argv[1]);
	vn_nl_close(&nl);
	return ret;
}

/* ---- events ------------------------------------------------------------- */

struct events_ctx {
	const char	*uuid;
	long		left;		/* events still to print; -1: no limit */
};

static void fmt_time(uint64_t ns, char *buf, size_t len)
{
	struct timespec ts;
	time_t sec;
	struct tm tm;
	char tmp[32];

	if (!ns) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	}
	sec = (time_t)(ns / 1000000000ull);
	gmtime_r(&sec, &tm);
	strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%06lluZ", tmp,
		 (unsigned long long)(ns % 1000000000ull) / 1000);
}

static void on_event(const struct vn_event *ev, void *arg)
{
	struct events_ctx *c = arg;
	char when[48];
	struct vn_json j;
	bool module = ev->event >= VN_EVENT_MODULE_LOADED;
	char detail[VN_EVENT_DETAIL_LEN];

	if (c->left == 0)
		return;
	if (c->uuid && (module || strcmp(c->uuid, ev->uuid_str)))
		return;
	fmt_time(ev->time_ns, when, sizeof(when));
	if (opt_json) {
		vn_json_init(&j, stdout, false);
		vn_json_obj_open(&j, NULL);
		vn_json_str(&j, "event", vn_event_name(ev->event));
		vn_json_str(&j, "time", when);
		if (!module) {
			vn_json_u64(&j, "seq", ev->seq);
			vn_json_u64(&j, "time_ns", ev->time_ns);
			vn_json_str(&j, "uuid", ev->uuid_str);
		}
		if (ev->type[0])
			vn_json_str(&j, "type", ev->type);
		if (ev->state[0])
			vn_json_str(&j, "state", ev->state);
		if (ev->nsid)
			vn_json_u64(&j, "nsid", ev->nsid);
		if (ev->device_path[0])
			vn_json_str(&j, "device_path", ev->device_path);
		if (ev->size)
			vn_json_u64(&j, "size", ev->size);
		if (ev->has_status) {
			char st[8];

			snprintf(st, sizeof(st), "0x%03x", ev->status);
			vn_json_str(&j, "status", st);
			vn_json_str(&j, "status_name", vn_nvme_status_name(ev->status));
		}
		if (ev->suppressed)
			vn_json_u64(&j, "suppressed", ev->suppressed);
		if (ev->lost)
			vn_json_u64(&j, "lost", ev->lost);
		vn_json_obj_close(&j);
		vn_json_end(&j);
	} else {
		/* A module event carries no details: they are all zero. */
		vn_event_detail(ev, detail, sizeof(detail));
		if (module)
			printf("%s %s%s\n", when, vn_event_name(ev->event), detail);
		else
			printf("%s #%llu %s %s%s\n", when, (unsigned long long)ev->seq,
			       ev->uuid_str, vn_event_name(ev->event), detail);
		fflush(stdout);
	}
	if (c->left > 0)
		c->left--;
}

static int cmd_events(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "uuid", required_argument, NULL, 'u' },
		{ "count", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct events_ctx ctx = { .left = -1 };
	double timeout = 0, deadline = 0;
	struct pollfd pfd;
	struct vn_nl ev;
	char *end;
	int c, ret;

	optind = 1;
	while ((c = next_opt(argc, argv, "u:c:t:j", opts)) != -1) {
		switch (c) {
		case 'u':
			if (parse_uuid_arg(optarg, NULL))
				return VN_EXIT_USAGE;
			ctx.uuid = optarg;
			break;
		case 'c':
			if (parse_count(optarg, &ctx.left))
				return VN_EXIT_USAGE;
			break;
		case 't':
			timeout = strtod(optarg, &end);
			if (*end || timeout <= 0)
				return usage_error("--timeout takes seconds, not '%s'", optarg);
			break;
		default:
			return VN_EXIT_USAGE;
		}
	}
	if (no_more_args(argc, argv))
		return VN_EXIT_USAGE;
	ret = vn_nl_events_open(&ev);
	if (ret == -ENODEV)
		return family_missing();
	if (ret == -EPERM || ret == -EACCES) {
		err("permission denied: following the events needs CAP_NET_ADMIN (run as root)");
		return VN_EXIT_PERM;
	}
	if (ret) {
		err("cannot subscribe to the vnvme events: %s", strerror(-ret));
		return vn_exit_code(-ret);
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_DFL);
	if (!opt_json)
		setvbuf(stdout, NULL, _IOLBF, 0);
	if (timeout)
		deadline = now_s() + timeout;
	/* Tests wait for this line before they make something happen. */
	fprintf(stderr, "%s: following vnvme events%s\n", prog,
		ctx.left > 0 || timeout ? "" : " (Ctrl-C to stop)");
	pfd.fd = vn_nl_fd(&ev);
	pfd.events = POLLIN;
	ret = 0;
	while (!stop && ctx.left != 0) {
		int ms = -1;

		if (deadline) {
			double left = deadline - now_s();

			if (left <= 0)
				break;
			ms = (int)(left * 1000) + 1;
		}
		c = poll(&pfd, 1, ms);
		if (c < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		if (c == 0)
			continue;
		ret = vn_nl_events_read(&ev, on_event, &ctx);
		if (ret == -ENOBUFS) {
			err("events were lost (socket receive buffer overflow)");
			ret = 0;
		} else if (ret) {
			break;
		}
	}
	vn_nl_close(&ev);
	if (ret) {
		err("reading events failed: %s", strerror(-ret));
		return VN_EXIT_FAIL;
	}
	/* --count not reached before --timeout: say so in the exit status. */
	return ctx.left > 0 ? VN_EXIT_FAIL : VN_EXIT_OK;
}

/* ---- main --------------------------------------------------------------- */

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} cmds[] = {
	{ "types", cmd_types },
	{ "list", cmd_list },
	{ "show", cmd_show },
	{ "create", cmd_create },
	{ "remove", cmd_remove },
	{ "attach", cmd_attach },
	{ "detach", cmd_detach },
	{ "stats", cmd_stats },
	{ "reset-stats", cmd_reset_stats },
	{ "events", cmd_events },
};

int main(int argc, char **argv)
{
	const char *root = getenv("VNVME_SYSFS_ROOT");
	int i, k, nargs;
	char **args;

	if (root)
		vn_sysfs_set_root(root);
	/* Global options may come anywhere: pick them out first. */
	args = calloc((size_t)argc + 1, sizeof(*args));
	if (!args)
		return VN_EXIT_FAIL;
	nargs = 0;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j")) {
			opt_json = true;
		} else if (!strcmp(argv[i], "--pretty")) {
			opt_json = opt_pretty = true;
		} else if (!strcmp(argv[i], "--sysfs-root")) {
			if (++i == argc)
				return usage_error("--sysfs-root needs a directory%s", "");
			vn_sysfs_set_root(argv[i]);
		} else if (!strncmp(argv[i], "--sysfs-root=", 13)) {
			vn_sysfs_set_root(argv[i] + 13);
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return VN_EXIT_OK;
		} else if (!strcmp(argv[i], "-V") || !strcmp(argv[i], "--version")) {
			printf("vnvmectl %s\n", VNVMECTL_VERSION);
			return VN_EXIT_OK;
		} else {
			args[nargs++] = argv[i];
		}
	}
	if (!nargs) {
		usage(stderr);
		return VN_EXIT_USAGE;
	}
	for (k = 0; k < (int)(sizeof(cmds) / sizeof(cmds[0])); k++)
		if (!strcmp(args[0], cmds[k].name))
			return cmds[k].fn(nargs, args);
	return usage_error("unknown command '%s'", args[0]);
}
