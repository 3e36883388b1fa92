// SPDX-License-Identifier: GPL-2.0
/*
 * sysfs.c - per-instance attributes under /sys/bus/mdev/devices/<uuid>/:
 * vnvme/ (identity, knobs, state) and ns1..ns16/ (namespaces).
 *
 * They come from the mdev driver's dev_groups, so they exist the moment a
 * write to 'create' returns (mdevctl writes its attrs right after).  Every
 * store fails with a specific errno and a one-line reason in the kernel log.
 */
#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/ctype.h>

#include "vnvme.h"

static struct vnvme_ctrl *vnvme_dev_ctrl(struct device *dev)
{
	return dev_get_drvdata(dev);
}

/* ---- vnvme/: identity and controller knobs ------------------------------ */

static ssize_t state_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%s\n", vnvme_ctrl_state_name(vnvme_dev_ctrl(dev)));
}
static DEVICE_ATTR_RO(state);

static ssize_t cntlid_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	return sysfs_emit(buf, "%u\n", vnvme_dev_ctrl(dev)->cntlid);
}
static DEVICE_ATTR_RO(cntlid);

static ssize_t max_queues_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", vnvme_dev_ctrl(dev)->type->nr_io_queues);
}
static DEVICE_ATTR_RO(max_queues);

static ssize_t pinned_pages_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n",
			  atomic_read(&vnvme_dev_ctrl(dev)->pinned_pages));
}
static DEVICE_ATTR_RO(pinned_pages);

/* 1 while the guest's driver keeps its doorbells in a shadow buffer. */
static ssize_t shadow_doorbells_show(struct device *dev,
				     struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n",
			  READ_ONCE(vnvme_dev_ctrl(dev)->dbbuf.enabled));
}
static DEVICE_ATTR_RO(shadow_doorbells);

static ssize_t features_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "serial,model,firmware,mdts,ns_device_path,ns_enable,ns_readonly,doorbell_mode,zero_copy\n");
}
static DEVICE_ATTR_RO(features);

/*
 * Identity strings are printable ASCII (the NVMe fields are ASCII, space
 * padded) and may change only while no VFIO user has the device open.
 */
static ssize_t vnvme_store_ident(struct device *dev, char *field, size_t size,
				 const char *name, const char *buf, size_t count)
{
	struct vnvme_ctrl *ctrl = vnvme_dev_ctrl(dev);
	size_t len = count, i;

	if (len && buf[len - 1] == '\n')
		len--;
	if (len == 0 || len >= size) {
		dev_err(dev, "%s must be 1-%zu characters\n", name, size - 1);
		return -EINVAL;
	}
	for (i = 0; i < len; i++) {
		if (buf[i] < 0x20 || buf[i] > 0x7e) {
			dev_err(dev, "%s must be printable ASCII\n", name);
			return -EINVAL;
		}
	}
	mutex_lock(&ctrl->open_lock);
	if (ctrl->opened) {
		mutex_unlock(&ctrl->open_lock);
		dev_err(dev, "%s cannot change while a VFIO user has the device open\n",
			name);
		return -EBUSY;
	}
	memcpy(field, buf, len);
	field[len] = '\0';
	mutex_unlock(&ctrl->open_lock);
	return count;
}

#define VNVME_IDENT_ATTR(field)						\
static ssize_t field##_show(struct device *dev,				\
			    struct device_attribute *attr, char *buf)	\
{									\
	return sysfs_emit(buf, "%s\n", vnvme_dev_ctrl(dev)->field);	\
}									\
static ssize_t field##_store(struct device *dev,			\
			     struct device_attribute *attr,		\
			     const char *buf, size_t count)		\
{									\
	struct vnvme_ctrl *ctrl = vnvme_dev_ctrl(dev);			\
									\
	return vnvme_store_ident(dev, ctrl->field, sizeof(ctrl->field),	\
				 #field, buf, count);			\
}									\
static DEVICE_ATTR_RW(field)

VNVME_IDENT_ATTR(serial);
VNVME_IDENT_ATTR(model);
VNVME_IDENT_ATTR(firmware);

static ssize_t mdts_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	return sysfs_emit(buf, "%u\n", vnvme_dev_ctrl(dev)->mdts);
}

static ssize_t mdts_store(struct device *dev, struct device_attribute *attr,
			  const char *buf, size_t count)
{
	struct vnvme_ctrl *ctrl = vnvme_dev_ctrl(dev);
	u8 mdts;
	int ret;

	ret = kstrtou8(buf, 0, &mdts);
	if (ret || mdts < VNVME_MDTS_MIN || mdts > VNVME_MDTS_MAX) {
		dev_err(dev, "mdts must be %u-%u (max transfer 2^mdts pages)\n",
			VNVME_MDTS_MIN, VNVME_MDTS_MAX);
		return -ERANGE;
	}
	mutex_lock(&ctrl->open_lock);
	if (ctrl->opened) {
		mutex_unlock(&ctrl->open_lock);
		dev_err(dev, "mdts cannot change while a VFIO user has the device open\n");
		return -EBUSY;
	}
	ctrl->mdts = mdts;
	mutex_unlock(&ctrl->open_lock);
	return count;
}
static DEVICE_ATTR_RW(mdts);

/* trapped or mapped (dbpage.c); the mode of the next open. */
static ssize_t doorbell_mode_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%s\n", vnvme_dbpage_mode_name(vnvme_dev_ctrl(dev)));
}

static ssize_t doorbell_mode_store(struct device *dev,
				   struct device_attribute *attr,
				   const char *buf, size_t count)
{
	struct vnvme_ctrl *ctrl = vnvme_dev_ctrl(dev);
	int ret;

	mutex_lock(&ctrl->open_lock);
	if (ctrl->opened) {
		mutex_unlock(&ctrl->open_lock);
		dev_err(dev, "doorbell_mode cannot change while a VFIO user has the device open\n");
		return -EBUSY;
	}
	ret = vnvme_dbpage_set_mode(ctrl, buf);
	mutex_unlock(&ctrl->open_lock);
	if (ret) {
		dev_err(dev, "doorbell_mode must be trapped or mapped\n");
		return ret;
	}
	return count;
}
static DEVICE_ATTR_RW(doorbell_mode);

static ssize_t doorbell_poller_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	return vnvme_dbpage_show(vnvme_dev_ctrl(dev), buf);
}
static DEVICE_ATTR_RO(doorbell_poller);
/* Zero-copy Read/Write (pincache.c); set before the VFIO user opens it. */
static ssize_t zero_copy_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n", READ_ONCE(vnvme_dev_ctrl(dev)->zero_copy));
}

static ssize_t zero_copy_store(struct device *dev,
			       struct device_attribute *attr,
			       const char *buf, size_t count)
{
	struct vnvme_ctrl *ctrl = vnvme_dev_ctrl(dev);
	bool on;

	if (kstrtobool(buf, &on)) {
		dev_err(dev, "zero_copy takes 0 or 1\n");
		return -EINVAL;
	}
	mutex_lock(&ctrl->open_lock);
	if (ctrl->opened) {
		mutex_unlock(&ctrl->open_lock);
		dev_err(dev, "zero_copy cannot change while a VFIO user has the device open\n");
		return -EBUSY;
	}
	WRITE_ONCE(ctrl->zero_copy, on);
	mutex_unlock(&ctrl->open_lock);
	return count;
}
static DEVICE_ATTR_RW(zero_copy);

/* The pin cache: pages it holds, and what happened to Read/Write data. */
static ssize_t pin_cache_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	struct vnvme_pins *pins = &vnvme_dev_ctrl(dev)->pins;

	return sysfs_emit(buf, "pages %d\nhits %lld\nmisses %lld\nevictions %lld\nbounce_fallbacks %lld\n",
			  atomic_read(&pins->data_pages),
			  atomic64_read(&pins->hits),
			  atomic64_read(&pins->misses),
			  atomic64_read(&pins->evictions),
			  atomic64_read(&pins->fallbacks));
}
static DEVICE_ATTR_RO(pin_cache);

static struct attribute *vnvme_ctrl_attrs[] = {
	&dev_attr_state.attr,
	&dev_attr_cntlid.attr,
	&dev_attr_max_queues.attr,
	&dev_attr_pinned_pages.attr,
	&dev_attr_features.attr,
	&dev_attr_shadow_doorbells.attr,
	&dev_attr_serial.attr,
	&dev_attr_model.attr,
	&dev_attr_firmware.attr,
	&dev_attr_mdts.attr,
	&dev_attr_doorbell_mode.attr,
	&dev_attr_doorbell_poller.attr,
	&dev_attr_zero_copy.attr,
	&dev_attr_pin_cache.attr,
	NULL,
};

static const struct attribute_group vnvme_ctrl_group = {
	.name = "vnvme",
	.attrs = vnvme_ctrl_attrs,
};

/* ---- ns<N>/: namespaces ------------------------------------------------- */

/* The same show/store serve every nsN group; the group index picks the NS. */
struct vnvme_ns_attr {
	struct device_attribute attr;
	unsigned int index;
};

static struct vnvme_ns *vnvme_attr_ns(struct device *dev,
				      struct device_attribute *attr)
{
	struct vnvme_ns_attr *na = container_of(attr, struct vnvme_ns_attr, attr);

	return &vnvme_dev_ctrl(dev)->ns[na->index];
}

static ssize_t device_path_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	struct vnvme_ns *ns = vnvme_attr_ns(dev, attr);
	ssize_t ret;

	mutex_lock(&ns->ctrl->ns_lock);
	ret = sysfs_emit(buf, "%s\n", ns->device_path ?: "");
	mutex_unlock(&ns->ctrl->ns_lock);
	return ret;
}

static ssize_t device_path_store(struct device *dev,
				 struct device_attribute *attr,
				 const char *buf, size_t count)
{
	struct vnvme_ns *ns = vnvme_attr_ns(dev, attr);
	char *path;
	int ret;

	path = kstrndup(buf, count, GFP_KERNEL);
	if (!path)
		return -ENOMEM;
	ret = vnvme_ns_set_path(ns, strim(path));
	kfree(path);
	return ret ? ret : count;
}

static ssize_t enable_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	struct vnvme_ns *ns = vnvme_attr_ns(dev, attr);

	return sysfs_emit(buf, "%d\n", vnvme_ns_active(ns->ctrl, ns->nsid));
}

static ssize_t enable_store(struct device *dev, struct device_attribute *attr,
			    const char *buf, size_t count)
{
	struct vnvme_ns *ns = vnvme_attr_ns(dev, attr);
	bool enable;
	int ret;

	if (kstrtobool(buf, &enable)) {
		dev_err(dev, "ns%u: enable takes 0 or 1\n", ns->nsid);
		return -EINVAL;
	}
	ret = enable ? vnvme_ns_enable(ns) : vnvme_ns_disable(ns);
	return ret ? ret : count;
}

static ssize_t readonly_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "%d\n", vnvme_attr_ns(dev, attr)->readonly);
}

static ssize_t readonly_store(struct device *dev, struct device_attribute *attr,
			      const char *buf, size_t count)
{
	struct vnvme_ns *ns = vnvme_attr_ns(dev, attr);
	bool readonly;

	if (kstrtobool(buf, &readonly)) {
		dev_err(dev, "ns%u: readonly takes 0 or 1\n", ns->nsid);
		return -EINVAL;
	}
	mutex_lock(&ns->ctrl->ns_lock);
	if (rcu_access_pointer(ns->backing)) {
		mutex_unlock(&ns->ctrl->ns_lock);
		dev_err(dev, "ns%u is enabled; disable it before changing readonly\n",
			ns->nsid);
		return -EBUSY;
	}
	ns->readonly = readonly;
	mutex_unlock(&ns->ctrl->ns_lock);
	return count;
}

static ssize_t nguid_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%*phN\n", 16, vnvme_attr_ns(dev, attr)->nguid);
}

enum { VNVME_NS_NR_ATTRS = 4 };

static struct vnvme_ns_attr vnvme_ns_attrs[VNVME_MAX_NS][VNVME_NS_NR_ATTRS];
static struct attribute *vnvme_ns_attr_ptrs[VNVME_MAX_NS][VNVME_NS_NR_ATTRS + 1];
static struct attribute_group vnvme_ns_groups[VNVME_MAX_NS];
static char vnvme_ns_group_names[VNVME_MAX_NS][8];

const struct attribute_group *vnvme_mdev_groups[VNVME_MAX_NS + 2];

static void vnvme_ns_attr_init(struct vnvme_ns_attr *na, unsigned int index,
			       const char *name, umode_t mode,
			       ssize_t (*show)(struct device *,
					       struct device_attribute *, char *),
			       ssize_t (*store)(struct device *,
						struct device_attribute *,
						const char *, size_t))
{
	sysfs_attr_init(&na->attr.attr);
	na->attr.attr.name = name;
	na->attr.attr.mode = mode;
	na->attr.show = show;
	na->attr.store = store;
	na->index = index;
}

/* Builds ns1..ns16; called once at module init, before the driver registers. */
void vnvme_sysfs_init(void)
{
	unsigned int i, j;

	vnvme_mdev_groups[0] = &vnvme_ctrl_group;
	for (i = 0; i < VNVME_MAX_NS; i++) {
		struct vnvme_ns_attr *na = vnvme_ns_attrs[i];

		/*
		 * The path names the host's storage (which LV, which image
		 * file): root's alone, like the netlink requests that show it.
		 */
		vnvme_ns_attr_init(&na[0], i, "device_path", 0600,
				   device_path_show, device_path_store);
		vnvme_ns_attr_init(&na[1], i, "enable", 0644,
				   enable_show, enable_store);
		vnvme_ns_attr_init(&na[2], i, "readonly", 0644,
				   readonly_show, readonly_store);
		vnvme_ns_attr_init(&na[3], i, "nguid", 0444, nguid_show, NULL);
		for (j = 0; j < VNVME_NS_NR_ATTRS; j++)
			vnvme_ns_attr_ptrs[i][j] = &na[j].attr.attr;
		snprintf(vnvme_ns_group_names[i], sizeof(vnvme_ns_group_names[i]),
			 "ns%u", i + 1);
		vnvme_ns_groups[i].name = vnvme_ns_group_names[i];
		vnvme_ns_groups[i].attrs = vnvme_ns_attr_ptrs[i];
		vnvme_mdev_groups[i + 1] = &vnvme_ns_groups[i];
	}
}
