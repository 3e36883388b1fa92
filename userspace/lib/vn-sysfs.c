// SPDX-License-Identifier: GPL-2.0
/*
 * vn-sysfs.c - types, instances and attributes under sysfs, and the
 * sentences for failed attribute writes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "vn-sysfs.h"

static char vn_root[PATH_MAX] = "/sys";

void vn_sysfs_set_root(const char *root)
{
	if (root && *root) {
		snprintf(vn_root, sizeof(vn_root), "%s", root);
		vn_rtrim(vn_root);
		while (strlen(vn_root) > 1 && vn_root[strlen(vn_root) - 1] == '/')
			vn_root[strlen(vn_root) - 1] = '\0';
	}
}

const char *vn_sysfs_root(void)
{
	return vn_root;
}

static void __attribute__((format(printf, 3, 4)))
vn_path(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(buf, len, "%s/", vn_root);
	va_start(ap, fmt);
	vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
}

static int read_file(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return (int)n;
	}
	close(fd);
	buf[n] = '\0';
	vn_rtrim(buf);
	return 0;
}

static int write_file(const char *path, const char *value)
{
	size_t len = strlen(value);
	ssize_t n;
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, value, len);
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != len)
		ret = -EIO;
	if (close(fd) && !ret)
		ret = -errno;
	return ret;
}

bool vn_parent_present(void)
{
	char path[PATH_MAX];
	struct stat st;

	vn_path(path, sizeof(path), "class/mdev_bus/%s", VN_PARENT);
	return stat(path, &st) == 0;
}

static int cmp_type(const void *a, const void *b)
{
	return strcmp(((const struct vn_type *)a)->id,
		      ((const struct vn_type *)b)->id);
}

int vn_types_list(struct vn_type **types, size_t *nr)
{
	char dir[PATH_MAX], path[PATH_MAX + 300], buf[64];
	struct vn_type *v = NULL, *t;
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	vn_path(dir, sizeof(dir), "class/mdev_bus/%s/mdev_supported_types",
		VN_PARENT);
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? -ENODEV : -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		t = realloc(v, (n + 1) * sizeof(*v));
		if (!t) {
			free(v);
			closedir(d);
			return -ENOMEM;
		}
		v = t;
		t = &v[n++];
		memset(t, 0, sizeof(*t));
		snprintf(t->id, sizeof(t->id), "%s", de->d_name);
		snprintf(path, sizeof(path), "%s/%s/name", dir, de->d_name);
		if (read_file(path, t->name, sizeof(t->name)))
			snprintf(t->name, sizeof(t->name), "%s", t->id);
		snprintf(path, sizeof(path), "%s/%s/description", dir, de->d_name);
		read_file(path, t->description, sizeof(t->description));
		snprintf(path, sizeof(path), "%s/%s/device_api", dir, de->d_name);
		read_file(path, t->device_api, sizeof(t->device_api));
		snprintf(path, sizeof(path), "%s/%s/available_instances", dir,
			 de->d_name);
		t->available = read_file(path, buf, sizeof(buf)) ? -1 : atoi(buf);
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_type);
	*types = v;
	*nr = n;
	return 0;
}

int vn_type_resolve(const char *name, char *id, size_t len)
{
	char path[PATH_MAX];
	struct stat st;

	if (strchr(name, '/') || !*name)
		return -EINVAL;
	if (strncmp(name, VN_PARENT "-", strlen(VN_PARENT) + 1))
		snprintf(id, len, "%s-%s", VN_PARENT, name);
	else
		snprintf(id, len, "%s", name);
	vn_path(path, sizeof(path), "class/mdev_bus/%s/mdev_supported_types/%s",
		VN_PARENT, id);
	if (stat(path, &st))
		return vn_parent_present() ? -ENOENT : -ENODEV;
	return 0;
}

int vn_instance_type(const char *uuid, char *buf, size_t len)
{
	char path[PATH_MAX], link[PATH_MAX];
	const char *base;
	ssize_t n;

	vn_path(path, sizeof(path), "bus/mdev/devices/%s/mdev_type", uuid);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = '\0';
	base = strrchr(link, '/');
	snprintf(buf, len, "%s", base ? base + 1 : link);
	return 0;
}

bool vn_instance_exists(const char *uuid)
{
	char path[PATH_MAX], type[64];
	struct stat st;

	if (!vn_uuid_valid(uuid))
		return false;
	vn_path(path, sizeof(path), "bus/mdev/devices/%s/vnvme", uuid);
	if (stat(path, &st) || !S_ISDIR(st.st_mode))
		return false;
	if (vn_instance_type(uuid, type, sizeof(type)))
		return false;
	return !strncmp(type, VN_PARENT "-", strlen(VN_PARENT) + 1);
}

static int cmp_uuid(const void *a, const void *b)
{
	return strcmp(a, b);
}

int vn_instances_list(char (**uuids)[VN_UUID_STRLEN], size_t *nr)
{
	char (*v)[VN_UUID_STRLEN] = NULL, (*t)[VN_UUID_STRLEN];
	char dir[PATH_MAX];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	vn_path(dir, sizeof(dir), "bus/mdev/devices");
	d = opendir(dir);
	if (!d) {
		if (errno != ENOENT)
			return -errno;
		*uuids = NULL;
		*nr = 0;
		return 0;
	}
	while ((de = readdir(d))) {
		if (!vn_instance_exists(de->d_name))
			continue;
		t = realloc(v, (n + 1) * sizeof(*v));
		if (!t) {
			free(v);
			closedir(d);
			return -ENOMEM;
		}
		v = t;
		snprintf(v[n++], VN_UUID_STRLEN, "%s", de->d_name);
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_uuid);
	*uuids = v;
	*nr = n;
	return 0;
}

int vn_attr_read(const char *uuid, const char *attr, char *buf, size_t len)
{
	char path[PATH_MAX];

	vn_path(path, sizeof(path), "bus/mdev/devices/%s/%s", uuid, attr);
	return read_file(path, buf, len);
}

int vn_attr_write(const char *uuid, const char *attr, const char *value)
{
	char path[PATH_MAX];

	vn_path(path, sizeof(path), "bus/mdev/devices/%s/%s", uuid, attr);
	return write_file(path, value);
}

int vn_create(const char *type_id, const char *uuid)
{
	char path[PATH_MAX];
	int ret;

	vn_path(path, sizeof(path), "class/mdev_bus/%s/mdev_supported_types/%s/create",
		VN_PARENT, type_id);
	ret = write_file(path, uuid);
	if (ret == -ENOENT && !vn_parent_present())
		ret = -ENODEV;
	return ret;
}

int vn_remove(const char *uuid)
{
	char path[PATH_MAX];

	vn_path(path, sizeof(path), "bus/mdev/devices/%s/remove", uuid);
	return write_file(path, "1");
}

int vn_ns_attr_split(const char *attr, const char **name)
{
	char *end;
	long n;

	if (strncmp(attr, "ns", 2) || attr[2] < '1' || attr[2] > '9')
		return -EINVAL;
	n = strtol(attr + 2, &end, 10);
	if (*end != '/' || n < 1 || n > VN_MAX_NS)
		return -EINVAL;
	if (name)
		*name = end + 1;
	return (int)n;
}

const char *vn_ns_attr(char *buf, unsigned int nsid, const char *name)
{
	snprintf(buf, VN_NS_ATTR_LEN, "ns%u/%s", nsid, name);
	return buf;
}

bool vn_ns_enabled(const char *uuid, unsigned int nsid)
{
	char attr[VN_NS_ATTR_LEN], buf[8];

	return !vn_attr_read(uuid, vn_ns_attr(attr, nsid, "enable"), buf, sizeof(buf)) &&
	       buf[0] == '1';
}

long long vn_dev_size(dev_t dev)
{
	char path[PATH_MAX], buf[64];
	int ret;

	vn_path(path, sizeof(path), "dev/block/%u:%u/size", major(dev), minor(dev));
	ret = read_file(path, buf, sizeof(buf));
	if (ret)
		return ret;
	/* sysfs counts 512-byte sectors whatever the logical block size. */
	return (long long)strtoull(buf, NULL, 10) * 512;
}

long long vn_blockdev_size(const char *path, dev_t *dev)
{
	struct stat st;
	long long size;

	if (stat(path, &st))
		return -errno;
	if (!S_ISBLK(st.st_mode))
		return -ENOTBLK;
	size = vn_dev_size(st.st_rdev);
	if (size >= 0 && dev)
		*dev = st.st_rdev;
	return size;
}

/*
 * The identity attributes, frozen while a VFIO user has the instance open:
 * the longest string each takes (mdts: a number, -1), else 0.
 */
static int ident_max(const char *attr)
{
	if (!strcmp(attr, "vnvme/serial"))
		return 20;
	if (!strcmp(attr, "vnvme/model"))
		return 40;
	if (!strcmp(attr, "vnvme/firmware"))
		return 8;
	return !strcmp(attr, "vnvme/mdts") ? -1 : 0;
}

static bool is_root(void)
{
	return geteuid() == 0;
}

void vn_explain(const char *uuid, const char *attr, const char *value, int err,
		char *buf, size_t len)
{
	char cur[PATH_MAX], attr_buf[VN_NS_ATTR_LEN];
	const char *name = NULL, *dev;
	int nsid;

	if ((err == EACCES || err == EPERM) && !is_root()) {
		snprintf(buf, len, "permission denied: changing the vnvme configuration needs root");
		return;
	}
	if (err == ENODEV && !vn_parent_present()) {
		snprintf(buf, len, "the vnvme module is not loaded (no %s/class/mdev_bus/%s)",
			 vn_root, VN_PARENT);
		return;
	}
	if (!strcmp(attr, "create")) {
		switch (err) {
		case EEXIST:
			snprintf(buf, len, "an mdev with UUID %s already exists", uuid);
			return;
		case EUSERS:
		case ENOSPC:
		case EDQUOT:
			snprintf(buf, len, "no %s instances left (available_instances is 0); remove one first",
				 value);
			return;
		case ENOENT:
			snprintf(buf, len, "there is no mdev type %s (see 'vnvmectl types')", value);
			return;
		case EINVAL:
			snprintf(buf, len, "the kernel rejected UUID %s", uuid);
			return;
		}
		snprintf(buf, len, "creating %s instance %s failed: %s", value, uuid,
			 strerror(err));
		return;
	}
	if (uuid && !vn_instance_exists(uuid)) {
		snprintf(buf, len, "there is no vnvme instance %s", uuid);
		return;
	}
	if (!strcmp(attr, "remove")) {
		snprintf(buf, len, "removing instance %s failed: %s", uuid, strerror(err));
		return;
	}

	nsid = vn_ns_attr_split(attr, &name);
	if (nsid > 0 && !strcmp(name, "device_path")) {
		switch (err) {
		case EBUSY:
			snprintf(buf, len, "namespace %d is enabled; detach it before changing its device",
				 nsid);
			return;
		case ENOENT:
			snprintf(buf, len, "%s does not exist", value);
			return;
		case ENOTBLK:
			snprintf(buf, len, "%s is not a block device", value);
			return;
		case ENAMETOOLONG:
			snprintf(buf, len, "the device path is too long");
			return;
		case EINVAL:
			if (value[0] != '/')
				snprintf(buf, len, "the device path must be absolute, not '%s'", value);
			else
				snprintf(buf, len, "the kernel rejected device path %s", value);
			return;
		}
	} else if (nsid > 0 && !strcmp(name, "enable") && value[0] == '1') {
		if (vn_attr_read(uuid, vn_ns_attr(attr_buf, (unsigned int)nsid, "device_path"),
				 cur, sizeof(cur)))
			cur[0] = '\0';
		/* Where the path is unknown, the sentences name "the device". */
		dev = cur[0] ? cur : "the device";
		switch (err) {
		case EINVAL:
			if (!cur[0]) {
				snprintf(buf, len, "namespace %d has no device; give it a device path first",
					 nsid);
			} else if (vn_blockdev_size(cur, NULL) == 0) {
				snprintf(buf, len, "%s is empty (0 bytes); a namespace needs at least one block",
					 cur);
			} else {
				snprintf(buf, len, "cannot enable namespace %d on %s: invalid argument",
					 nsid, cur);
			}
			return;
		case EBUSY:
			snprintf(buf, len, "%s is in use (mounted, or claimed by another namespace, instance or driver)",
				 dev);
			return;
		case ENOENT:
		case ENXIO:
		case ENODEV:
			snprintf(buf, len, "%s: no such device (any more)", dev);
			return;
		case EACCES:
		case EROFS:
			snprintf(buf, len, "%s is read-only; attach it read-only (--readonly)",
				 dev);
			return;
		}
	} else if (nsid > 0 && !strcmp(name, "readonly")) {
		switch (err) {
		case EBUSY:
			snprintf(buf, len, "namespace %d is enabled; detach it before changing read-only",
				 nsid);
			return;
		case EINVAL:
			snprintf(buf, len, "readonly takes 0 or 1, not '%s'", value);
			return;
		}
	} else if (ident_max(attr) && err == EBUSY) {
		snprintf(buf, len, "instance %s is open by a VFIO user (a running VM); its %s can only change while it is closed",
			 uuid, attr + 6);
		return;
	} else if (!strcmp(attr, "vnvme/mdts")) {
		if (err == ERANGE || err == EINVAL) {
			snprintf(buf, len, "mdts must be 1-8 (largest transfer 2^mdts pages), not '%s'",
				 value);
			return;
		}
	} else if (ident_max(attr) && err == EINVAL) {
		snprintf(buf, len, "%s must be 1-%d printable ASCII characters", attr + 6,
			 ident_max(attr));
		return;
	}
	if (err == ENOENT) {
		snprintf(buf, len, "instance %s has no attribute %s (see its vnvme/features)",
			 uuid, attr);
		return;
	}
	if (err == EACCES || err == EPERM) {
		snprintf(buf, len, "permission denied writing %s", attr);
		return;
	}
	snprintf(buf, len, "writing '%s' to %s failed: %s", value ? value : "", attr,
		 strerror(err));
}
