/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vn-sysfs.h - the vnvme sysfs ABI from userspace: types, instances and
 * their attributes, and the errno -> sentence table for failed writes.
 *
 * Paths are built under a sysfs root ("/sys" unless vn_sysfs_set_root()
 * was called), so tests can point the tools at a fake tree.
 */
#ifndef VN_SYSFS_H
#define VN_SYSFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vn-util.h"

#define VN_PARENT		"vnvme"
#define VN_MAX_NS		16

void vn_sysfs_set_root(const char *root);
const char *vn_sysfs_root(void);

/* <root>/class/mdev_bus/vnvme exists. */
bool vn_parent_present(void);

struct vn_type {
	char	id[64];			/* directory name: vnvme-small */
	char	name[64];
	char	description[256];
	char	device_api[32];
	int	available;		/* -1 if unreadable */
};

/* Sorted by id; *types is malloc'ed.  -errno (ENODEV: no parent). */
int vn_types_list(struct vn_type **types, size_t *nr);
/* Accepts "vnvme-small" or "small"; writes the directory name. */
int vn_type_resolve(const char *name, char *id, size_t len);

/* UUIDs of the vnvme instances, sorted; *uuids is malloc'ed. */
int vn_instances_list(char (**uuids)[VN_UUID_STRLEN], size_t *nr);
bool vn_instance_exists(const char *uuid);
/* The instance's mdev type id ("vnvme-small"). */
int vn_instance_type(const char *uuid, char *buf, size_t len);

/* Instance attribute "vnvme/serial", "ns1/device_path", ...: trimmed value. */
int vn_attr_read(const char *uuid, const char *attr, char *buf, size_t len);
/* 0 or -errno of the write(2). */
int vn_attr_write(const char *uuid, const char *attr, const char *value);

int vn_create(const char *type_id, const char *uuid);
int vn_remove(const char *uuid);

/*
 * One sentence saying why writing value to attr of instance uuid failed with
 * err (positive errno).  attr "create" has the type id as value, "remove"
 * none.  Reads sysfs to tell the cases apart.
 */
void vn_explain(const char *uuid, const char *attr, const char *value, int err,
		char *buf, size_t len);

/* Parses "ns<N>/<name>": returns N (1..16) and points *name past the '/'. */
int vn_ns_attr_split(const char *attr, const char **name);

/* The inverse: "ns<N>/<name>" into buf, which has VN_NS_ATTR_LEN bytes; returns buf. */
#define VN_NS_ATTR_LEN		32
const char *vn_ns_attr(char *buf, unsigned int nsid, const char *name);
/* ns<N>/enable of instance uuid reads "1" (false if it cannot be read). */
bool vn_ns_enabled(const char *uuid, unsigned int nsid);

/* Size in bytes of block device dev (<root>/dev/block/M:m/size), or -errno. */
long long vn_dev_size(dev_t dev);
/* The same for the block device node at path, whose number goes to *dev. */
long long vn_blockdev_size(const char *path, dev_t *dev);

#endif /* VN_SYSFS_H */
