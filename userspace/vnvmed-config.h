/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vnvmed-config.h - the declarative instance files of vnvmed (vnvme.conf(5)):
 * one file per instance, "key = value" lines whose keys are the sysfs
 * attribute names under /sys/bus/mdev/devices/<uuid>/.
 */
#ifndef VNVMED_CONFIG_H
#define VNVMED_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/vn-sysfs.h"

struct vnc_ns {
	bool		used;		/* any key of this namespace given */
	bool		has_path;
	char		device_path[PATH_MAX];
	int		readonly;	/* 0/1, -1: not given (means 0) */
	int		enable;		/* 0/1, -1: not given (1 if has_path) */
	unsigned int	enable_line;
};

struct vnc_instance {
	char		file[PATH_MAX];	/* where it was defined */
	char		uuid[VN_UUID_STRLEN];
	unsigned int	uuid_line;
	char		type[64];
	bool		manual;		/* start = manual: never created by vnvmed */
	bool		has_serial, has_model, has_firmware;
	char		serial[21];
	char		model[41];
	char		firmware[9];
	int		mdts;		/* -1: not given */
	struct vnc_ns	ns[VN_MAX_NS + 1];	/* index = NSID */
};

/* What a namespace should look like: enabled, and with which settings. */
static inline bool vnc_ns_enabled(const struct vnc_ns *ns)
{
	return ns->enable < 0 ? ns->has_path : ns->enable == 1;
}

/*
 * Parses one file.  On error returns -1 and writes "FILE:LINE: reason" into
 * err; nothing of the file is to be used then.
 */
int vnc_parse_file(const char *path, struct vnc_instance *out, char *err,
		   size_t errlen);

typedef void (*vnc_report_fn)(const char *msg, void *arg);

/*
 * Every *.conf in dir, in name order.  Files with errors are reported through
 * report and left out; so is a file repeating an earlier file's UUID.  The
 * names of the rejected files are returned in *bad (one allocation, may be
 * NULL) so a reload can keep their previous definition.
 */
int vnc_load_dir(const char *dir, struct vnc_instance **out, size_t *nr,
		 char (**bad)[PATH_MAX], size_t *nbad, vnc_report_fn report,
		 void *arg);

bool vnc_ns_equal(const struct vnc_ns *a, const struct vnc_ns *b);
bool vnc_ident_equal(const struct vnc_instance *a, const struct vnc_instance *b);

#endif /* VNVMED_CONFIG_H */
