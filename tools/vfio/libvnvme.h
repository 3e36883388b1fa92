/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libvnvme: a small userspace NVMe driver over VFIO, used to test and
 * benchmark vnvme mdev instances (and any other VFIO NVMe function).
 *
 * Conventions:
 *  - Functions return 0 (or a count) on success and a negative errno on a
 *    system failure.  Functions that execute an NVMe command return the
 *    NVMe status field (> 0) when the controller completed it with an error,
 *    so "ret < 0" is a transport failure and "ret > 0" an NVMe failure.
 *  - vnvme_last_error() describes the most recent failure in words.
 *  - Nothing here is thread-safe: one thread drives one device (bench.c
 *    drives several queues from a single thread).
 *  - The host is little endian (x86-64, arm64); NVMe and PCI are too, so the
 *    structures below are used as they are laid out in memory.
 */
#ifndef LIBVNVME_H
#define LIBVNVME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/vfio.h>

/* ------------------------------------------------------------------------ */
/* NVMe definitions (our own: linux/nvme.h is not uapi)                     */
/* ------------------------------------------------------------------------ */

/* Controller registers in BAR0 */
#define NVME_REG_CAP		0x00	/* 64-bit */
#define NVME_REG_VS		0x08
#define NVME_REG_INTMS		0x0c
#define NVME_REG_INTMC		0x10
#define NVME_REG_CC		0x14
#define NVME_REG_CSTS		0x1c
#define NVME_REG_NSSR		0x20
#define NVME_REG_AQA		0x24
#define NVME_REG_ASQ		0x28	/* 64-bit */
#define NVME_REG_ACQ		0x30	/* 64-bit */
#define NVME_REG_CMBLOC		0x38
#define NVME_REG_CMBSZ		0x3c
#define NVME_REG_DOORBELLS	0x1000

#define NVME_CAP_MQES(cap)	((uint32_t)((cap) & 0xffff))
#define NVME_CAP_CQR(cap)	((uint32_t)(((cap) >> 16) & 0x1))
#define NVME_CAP_AMS(cap)	((uint32_t)(((cap) >> 17) & 0x3))
#define NVME_CAP_TO(cap)	((uint32_t)(((cap) >> 24) & 0xff))
#define NVME_CAP_DSTRD(cap)	((uint32_t)(((cap) >> 32) & 0xf))
#define NVME_CAP_NSSRS(cap)	((uint32_t)(((cap) >> 36) & 0x1))
#define NVME_CAP_CSS(cap)	((uint32_t)(((cap) >> 37) & 0xff))
#define NVME_CAP_BPS(cap)	((uint32_t)(((cap) >> 45) & 0x1))
#define NVME_CAP_MPSMIN(cap)	((uint32_t)(((cap) >> 48) & 0xf))
#define NVME_CAP_MPSMAX(cap)	((uint32_t)(((cap) >> 52) & 0xf))
#define NVME_CAP_PMRS(cap)	((uint32_t)(((cap) >> 56) & 0x1))
#define NVME_CAP_CMBS(cap)	((uint32_t)(((cap) >> 57) & 0x1))
#define NVME_CAP_CSS_NVM	0x01

#define NVME_CC_EN		(1u << 0)
#define NVME_CC_CSS_NVM		(0u << 4)
#define NVME_CC_MPS_4K		(0u << 7)
#define NVME_CC_AMS_RR		(0u << 11)
#define NVME_CC_SHN_NORMAL	(1u << 14)
#define NVME_CC_SHN_MASK	(3u << 14)
#define NVME_CC_IOSQES(log2)	((uint32_t)(log2) << 16)
#define NVME_CC_IOCQES(log2)	((uint32_t)(log2) << 20)

#define NVME_CSTS_RDY		(1u << 0)
#define NVME_CSTS_CFS		(1u << 1)
#define NVME_CSTS_SHST_MASK	(3u << 2)
#define NVME_CSTS_SHST_CMPLT	(2u << 2)
#define NVME_CSTS_NSSRO		(1u << 4)
#define NVME_CSTS_PP		(1u << 5)

#define NVME_VS(major, minor, tertiary) \
	(((uint32_t)(major) << 16) | ((uint32_t)(minor) << 8) | (tertiary))

#define NVME_PAGE_SIZE		4096u	/* CC.MPS = 0; the only size we use */
#define NVME_SQE_SIZE_LOG2	6
#define NVME_CQE_SIZE_LOG2	4
#define NVME_MAX_QID		0xfffe

enum nvme_admin_opcode {
	NVME_ADMIN_DELETE_SQ		= 0x00,
	NVME_ADMIN_CREATE_SQ		= 0x01,
	NVME_ADMIN_GET_LOG_PAGE		= 0x02,
	NVME_ADMIN_DELETE_CQ		= 0x04,
	NVME_ADMIN_CREATE_CQ		= 0x05,
	NVME_ADMIN_IDENTIFY		= 0x06,
	NVME_ADMIN_ABORT		= 0x08,
	NVME_ADMIN_SET_FEATURES		= 0x09,
	NVME_ADMIN_GET_FEATURES		= 0x0a,
	NVME_ADMIN_ASYNC_EVENT		= 0x0c,
	NVME_ADMIN_KEEP_ALIVE		= 0x18,
	NVME_ADMIN_DBBUF_CONFIG		= 0x7c,
};

enum nvme_io_opcode {
	NVME_IO_FLUSH			= 0x00,
	NVME_IO_WRITE			= 0x01,
	NVME_IO_READ			= 0x02,
	NVME_IO_WRITE_UNCOR		= 0x04,
	NVME_IO_COMPARE			= 0x05,
	NVME_IO_WRITE_ZEROES		= 0x08,
	NVME_IO_DSM			= 0x09,
	NVME_IO_VERIFY			= 0x0c,
};

enum nvme_identify_cns {
	NVME_ID_CNS_NS			= 0x00,
	NVME_ID_CNS_CTRL		= 0x01,
	NVME_ID_CNS_NS_ACTIVE_LIST	= 0x02,
	NVME_ID_CNS_NS_DESC_LIST	= 0x03,
	NVME_ID_CNS_CS_CTRL		= 0x06,
};

enum nvme_feature_id {
	NVME_FEAT_ARBITRATION		= 0x01,
	NVME_FEAT_POWER_MGMT		= 0x02,
	NVME_FEAT_TEMP_THRESH		= 0x04,
	NVME_FEAT_ERR_RECOVERY		= 0x05,
	NVME_FEAT_VOLATILE_WC		= 0x06,
	NVME_FEAT_NUM_QUEUES		= 0x07,
	NVME_FEAT_IRQ_COALESCE		= 0x08,
	NVME_FEAT_IRQ_CONFIG		= 0x09,
	NVME_FEAT_WRITE_ATOMIC		= 0x0a,
	NVME_FEAT_ASYNC_EVENT		= 0x0b,
	NVME_FEAT_TIMESTAMP		= 0x0e,
	NVME_FEAT_KATO			= 0x0f,
};

enum nvme_log_page_id {
	NVME_LOG_ERROR			= 0x01,
	NVME_LOG_SMART			= 0x02,
	NVME_LOG_FW_SLOT		= 0x03,
	NVME_LOG_CHANGED_NS		= 0x04,
	NVME_LOG_CMD_EFFECTS		= 0x05,
};

/* Create I/O CQ cdw11 / Create I/O SQ cdw11 */
#define NVME_QUEUE_PHYS_CONTIG	(1u << 0)
#define NVME_CQ_IRQ_ENABLED	(1u << 1)

/* SQE flags: FUSE bits 1:0, PSDT bits 7:6 */
#define NVME_SQE_FUSE_MASK	0x03u
#define NVME_SQE_PSDT_MASK	0xc0u
#define NVME_SQE_PSDT_PRP	(0u << 6)
#define NVME_SQE_PSDT_SGL	(1u << 6)	/* SGL, MPTR is a contiguous buffer */
#define NVME_SQE_PSDT_SGL_MPTR	(2u << 6)	/* SGL, MPTR points to an SGL segment */

/* SGL descriptor (NVMe 1.4 figure 114); the SQE's PRP1/PRP2 hold SGL1 */
struct nvme_sgl_desc {
	uint64_t addr;
	uint32_t len;
	uint8_t rsvd[3];
	uint8_t id;		/* descriptor type bits 7:4, sub type bits 3:0 */
};
#define NVME_SGL_DATA_BLOCK	0x0u
#define NVME_SGL_BIT_BUCKET	0x1u
#define NVME_SGL_SEGMENT	0x2u
#define NVME_SGL_LAST_SEGMENT	0x3u
#define NVME_SGL_KEYED_DATA	0x4u
#define NVME_SGL_TRANSPORT_DATA	0x5u
#define NVME_SGL_ID(type, subtype)	((uint8_t)((type) << 4 | ((subtype) & 0xf)))

/* Asynchronous Event Request completion dword 0 */
#define NVME_AER_TYPE(dw0)	((dw0) & 0x7)
#define NVME_AER_INFO(dw0)	(((dw0) >> 8) & 0xff)
#define NVME_AER_LOG_PAGE(dw0)	(((dw0) >> 16) & 0xff)
#define NVME_AER_TYPE_ERROR	0
#define NVME_AER_TYPE_SMART	1
#define NVME_AER_TYPE_NOTICE	2
#define NVME_AER_ERR_INVALID_DB		0x00
#define NVME_AER_ERR_INVALID_DB_VALUE	0x01
#define NVME_AER_NOTICE_NS_CHANGED	0x00
/* Asynchronous Event Configuration (feature 0Bh): Namespace Attribute Notices */
#define NVME_AEC_NS_ATTR	(1u << 8)

/* Error Information log entry (NVMe 1.4 figure 194) */
struct nvme_error_log_entry {
	uint64_t error_count;
	uint16_t sqid;
	uint16_t cid;
	uint16_t status;	/* status field << 1 | phase, as in the CQE */
	uint16_t param_loc;
	uint64_t lba;
	uint32_t nsid;
	uint8_t vs;
	uint8_t trtype;
	uint8_t rsvd[2];
	uint64_t cs;
	uint16_t trtype_specific;
	uint8_t rsvd2[22];
};

/* SMART / Health Information log (NVMe 1.4 figure 196); 128-bit counters as lo/hi */
struct nvme_smart_log {
	uint8_t critical_warning;
	uint8_t temperature[2];
	uint8_t avail_spare;
	uint8_t spare_thresh;
	uint8_t percent_used;
	uint8_t endu_grp_crit_warn;
	uint8_t rsvd7[25];
	uint64_t data_units_read[2];
	uint64_t data_units_written[2];
	uint64_t host_reads[2];
	uint64_t host_writes[2];
	uint64_t ctrl_busy_time[2];
	uint64_t power_cycles[2];
	uint64_t power_on_hours[2];
	uint64_t unsafe_shutdowns[2];
	uint64_t media_errors[2];
	uint64_t num_err_log_entries[2];
	uint8_t rsvd192[320];
};

/* Dataset Management */
#define NVME_DSM_ATTR_DEALLOCATE	(1u << 2)
struct nvme_dsm_range {
	uint32_t cattr;
	uint32_t nlb;		/* 1-based count, unlike the SQE's NLB */
	uint64_t slba;
};

/* Read/write cdw12 */
#define NVME_RW_FUA		(1u << 30)
#define NVME_RW_LIMITED_RETRY	(1u << 31)
#define NVME_WZ_DEAC		(1u << 25)

/* Submission queue entry (NVMe 1.4 figure 105) */
struct nvme_sqe {
	uint8_t opcode;
	uint8_t flags;		/* FUSE bits 1:0, PSDT bits 7:6 (0 = PRPs) */
	uint16_t cid;
	uint32_t nsid;
	uint32_t cdw2;
	uint32_t cdw3;
	uint64_t mptr;
	uint64_t prp1;
	uint64_t prp2;
	uint32_t cdw10;
	uint32_t cdw11;
	uint32_t cdw12;
	uint32_t cdw13;
	uint32_t cdw14;
	uint32_t cdw15;
};

/* Completion queue entry (NVMe 1.4 figure 121) */
struct nvme_cqe {
	uint32_t result;	/* command specific dword 0 */
	uint32_t dw1;
	uint16_t sq_head;
	uint16_t sq_id;
	uint16_t cid;
	uint16_t status;	/* bit 0 phase tag, bits 15:1 status field */
};

/*
 * The "status field" used as return value everywhere is cqe.status >> 1:
 * SC bits 7:0, SCT bits 10:8, CRD bits 12:11, More bit 13, DNR bit 14.
 */
#define NVME_CQE_STATUS_FIELD(cqe_status)	((cqe_status) >> 1)
#define NVME_STATUS_SC(st)	((st) & 0xff)
#define NVME_STATUS_SCT(st)	(((st) >> 8) & 0x7)
#define NVME_STATUS_CODE(st)	((st) & 0x7ff)	/* SCT << 8 | SC */
#define NVME_STATUS_MORE	(1u << 13)
#define NVME_STATUS_DNR		(1u << 14)

/* Status codes as SCT << 8 | SC */
enum nvme_status_code {
	NVME_SC_SUCCESS			= 0x000,
	NVME_SC_INVALID_OPCODE		= 0x001,
	NVME_SC_INVALID_FIELD		= 0x002,
	NVME_SC_CMDID_CONFLICT		= 0x003,
	NVME_SC_DATA_XFER_ERROR		= 0x004,
	NVME_SC_POWER_LOSS		= 0x005,
	NVME_SC_INTERNAL		= 0x006,
	NVME_SC_ABORT_REQ		= 0x007,
	NVME_SC_ABORT_SQ_DELETED	= 0x008,
	NVME_SC_INVALID_NS		= 0x00b,
	NVME_SC_PRP_OFFSET_INVALID	= 0x013,
	NVME_SC_LBA_RANGE		= 0x080,
	NVME_SC_CAP_EXCEEDED		= 0x081,
	NVME_SC_NS_NOT_READY		= 0x082,
	NVME_SC_CQ_INVALID		= 0x100,
	NVME_SC_QID_INVALID		= 0x101,
	NVME_SC_QUEUE_SIZE		= 0x102,
	NVME_SC_ABORT_LIMIT		= 0x103,
	NVME_SC_ASYNC_LIMIT		= 0x105,
	NVME_SC_INVALID_VECTOR		= 0x108,
	NVME_SC_INVALID_LOG_PAGE	= 0x109,
	NVME_SC_INVALID_QUEUE_DELETE	= 0x10c,
	NVME_SC_FEATURE_NOT_SAVEABLE	= 0x10d,
	NVME_SC_FEATURE_NOT_CHANGEABLE	= 0x10e,
	NVME_SC_ATTR_CONFLICT		= 0x180,
	NVME_SC_READ_ONLY		= 0x182,
	NVME_SC_WRITE_FAULT		= 0x280,
	NVME_SC_READ_ERROR		= 0x281,
	NVME_SC_COMPARE_FAILED		= 0x285,
	NVME_SC_ACCESS_DENIED		= 0x286,
};

struct nvme_lbaf {
	uint16_t ms;
	uint8_t lbads;
	uint8_t rp;
};

/* Identify Controller data structure (NVMe 1.4 figure 247) */
struct nvme_id_ctrl {
	uint16_t vid;
	uint16_t ssvid;
	char sn[20];
	char mn[40];
	char fr[8];
	uint8_t rab;
	uint8_t ieee[3];
	uint8_t cmic;
	uint8_t mdts;
	uint16_t cntlid;
	uint32_t ver;
	uint32_t rtd3r;
	uint32_t rtd3e;
	uint32_t oaes;
	uint32_t ctratt;
	uint16_t rrls;
	uint8_t rsvd102[9];
	uint8_t cntrltype;
	uint8_t fguid[16];
	uint16_t crdt1;
	uint16_t crdt2;
	uint16_t crdt3;
	uint8_t rsvd134[122];
	uint16_t oacs;
	uint8_t acl;
	uint8_t aerl;
	uint8_t frmw;
	uint8_t lpa;
	uint8_t elpe;
	uint8_t npss;
	uint8_t avscc;
	uint8_t apsta;
	uint16_t wctemp;
	uint16_t cctemp;
	uint16_t mtfa;
	uint32_t hmpre;
	uint32_t hmmin;
	uint8_t tnvmcap[16];
	uint8_t unvmcap[16];
	uint32_t rpmbs;
	uint16_t edstt;
	uint8_t dsto;
	uint8_t fwug;
	uint16_t kas;
	uint16_t hctma;
	uint16_t mntmt;
	uint16_t mxtmt;
	uint32_t sanicap;
	uint32_t hmminds;
	uint16_t hmmaxd;
	uint16_t nsetidmax;
	uint16_t endgidmax;
	uint8_t anatt;
	uint8_t anacap;
	uint32_t anagrpmax;
	uint32_t nanagrpid;
	uint32_t pels;
	uint8_t rsvd356[156];
	uint8_t sqes;
	uint8_t cqes;
	uint16_t maxcmd;
	uint32_t nn;
	uint16_t oncs;
	uint16_t fuses;
	uint8_t fna;
	uint8_t vwc;
	uint16_t awun;
	uint16_t awupf;
	uint8_t nvscc;
	uint8_t nwpc;
	uint16_t acwu;
	uint8_t rsvd534[2];
	uint32_t sgls;
	uint32_t mnan;
	uint8_t rsvd544[224];
	char subnqn[256];
	uint8_t rsvd1024[1024];
	uint8_t psd[1024];
	uint8_t vs[1024];
};

/* Identify Namespace data structure (NVMe 1.4 figure 245) */
struct nvme_id_ns {
	uint64_t nsze;
	uint64_t ncap;
	uint64_t nuse;
	uint8_t nsfeat;
	uint8_t nlbaf;
	uint8_t flbas;
	uint8_t mc;
	uint8_t dpc;
	uint8_t dps;
	uint8_t nmic;
	uint8_t rescap;
	uint8_t fpi;
	uint8_t dlfeat;
	uint16_t nawun;
	uint16_t nawupf;
	uint16_t nacwu;
	uint16_t nabsn;
	uint16_t nabo;
	uint16_t nabspf;
	uint16_t noiob;
	uint8_t nvmcap[16];
	uint16_t npwg;
	uint16_t npwa;
	uint16_t npdg;
	uint16_t npda;
	uint16_t nows;
	uint8_t rsvd74[18];
	uint32_t anagrpid;
	uint8_t rsvd96[3];
	uint8_t nsattr;
	uint16_t nvmsetid;
	uint16_t endgid;
	uint8_t nguid[16];
	uint8_t eui64[8];
	struct nvme_lbaf lbaf[16];
	uint8_t rsvd192[192];
	uint8_t vs[3712];
};

_Static_assert(sizeof(struct nvme_sqe) == 64, "SQE is 64 bytes");
_Static_assert(sizeof(struct nvme_cqe) == 16, "CQE is 16 bytes");
_Static_assert(sizeof(struct nvme_dsm_range) == 16, "DSM range is 16 bytes");
_Static_assert(sizeof(struct nvme_sgl_desc) == 16, "SGL descriptor is 16 bytes");
_Static_assert(sizeof(struct nvme_error_log_entry) == 64, "Error log entry is 64 bytes");
_Static_assert(sizeof(struct nvme_smart_log) == 512, "SMART log is 512 bytes");
_Static_assert(offsetof(struct nvme_smart_log, media_errors) == 160, "media errors offset");
_Static_assert(sizeof(struct nvme_id_ctrl) == 4096, "Identify Controller is 4 KiB");
_Static_assert(sizeof(struct nvme_id_ns) == 4096, "Identify Namespace is 4 KiB");
_Static_assert(offsetof(struct nvme_id_ctrl, oacs) == 256, "OACS offset");
_Static_assert(offsetof(struct nvme_id_ctrl, sqes) == 512, "SQES offset");
_Static_assert(offsetof(struct nvme_id_ctrl, subnqn) == 768, "SUBNQN offset");
_Static_assert(offsetof(struct nvme_id_ns, nguid) == 104, "NGUID offset");
_Static_assert(offsetof(struct nvme_id_ns, lbaf) == 128, "LBAF offset");

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

/* Words for the last failure of this thread ("" if none was recorded). */
const char *vnvme_last_error(void);
/* Name of an NVMe status (SCT << 8 | SC), e.g. "INVALID_FIELD". */
const char *vnvme_status_name(int status);

/* ------------------------------------------------------------------------ */
/* VFIO device (vfio.c)                                                     */
/* ------------------------------------------------------------------------ */

#define VNVME_DEFAULT_ARENA_SIZE	(64ul << 20)
#define VNVME_DEFAULT_IOVA_BASE		0x100000000ull

struct vnvme_open_opts {
	bool use_iommufd;	/* iommufd + vfio cdev instead of type1 container */
	size_t arena_size;	/* DMA arena bytes; 0: VNVME_DEFAULT_ARENA_SIZE */
	uint64_t iova_base;	/* arena IOVA; 0: VNVME_DEFAULT_IOVA_BASE */
	/*
	 * Map the arena as separate mappings of this many bytes (a page
	 * multiple) so that pieces of it can be unmapped and mapped again
	 * (vnvme_arena_unmap); 0: one mapping.
	 */
	size_t map_chunk;
	/* Map BAR0's doorbell page (vnvme_doorbells_map); the open fails without it. */
	bool map_doorbells;
};

/* A DMA-able buffer: CPU address and the IOVA the device uses for it. */
struct vnvme_dma_buf {
	void *vaddr;
	uint64_t iova;
	size_t size;
};

struct vnvme_region {
	uint64_t offset;	/* file offset in the device fd, from GET_REGION_INFO */
	uint64_t size;
	uint32_t flags;
};

struct vnvme_dev {
	char uuid[64];
	bool uses_iommufd;
	int container_fd;	/* type1: /dev/vfio/vfio, else -1 */
	int group_fd;		/* type1: /dev/vfio/<group>, else -1 */
	int iommufd;		/* iommufd: /dev/iommu, else -1 */
	uint32_t ioas_id;	/* iommufd: IO address space of the device */
	int device_fd;
	struct vfio_device_info info;
	struct vnvme_region bar0;
	struct vnvme_region config;
	unsigned int msix_count;	/* vectors reported by GET_IRQ_INFO */
	int *msix_fds;			/* eventfds of vnvme_msix_enable(), -1 unused */
	int req_fd;			/* eventfd of vnvme_req_irq_enable(), or -1 */
	/*
	 * BAR0's doorbell page mapped by vnvme_doorbells_map() (the device
	 * offers it as a sparse mmap area in mapped doorbell mode), or NULL.
	 * While it is set, the queue helpers write doorbells into it instead
	 * of calling write() on the device (vnvme_bar_write stays trapped).
	 */
	volatile uint32_t *doorbells;

	/* DMA arena: one anonymous mapping, mapped once at iova_base */
	struct vnvme_dma_buf arena;
	bool arena_mapped;
	size_t map_chunk;		/* bytes per mapping; arena.size if one mapping */
	uint8_t *chunk_mapped;		/* per mapping: currently mapped (chunked arenas) */
	size_t arena_pages;
	uint8_t *page_in_use;		/* one flag per arena page */
	size_t alloc_hint;		/* first page to look at */
};

/* Open the mdev instance named by its UUID; *devp is freed by vnvme_close. */
int vnvme_open(const char *uuid, const struct vnvme_open_opts *opts,
	       struct vnvme_dev **devp);
void vnvme_close(struct vnvme_dev *dev);
/*
 * Map BAR0's doorbell page (offset NVME_REG_DOORBELLS, one page) if the
 * region info offers it as a sparse mmap area: 0, -ENODEV if the device
 * does not offer it (trapped doorbell mode), or -errno.
 */
int vnvme_doorbells_map(struct vnvme_dev *dev);
void vnvme_doorbells_unmap(struct vnvme_dev *dev);
/*
 * The sparse mmap areas of a region (VFIO_REGION_INFO_CAP_SPARSE_MMAP):
 * up to max areas into areas, the count (0: none, region not mmap-able) or
 * -errno.
 */
int vnvme_region_sparse_areas(struct vnvme_dev *dev, unsigned int index,
			      struct vfio_region_sparse_mmap_area *areas,
			      unsigned int max);
/* 1 if this build and machine can use iommufd for the instance, else 0. */
int vnvme_iommufd_available(const char *uuid);

/* Info ioctls; the caller's struct is filled (argsz is set here). */
int vnvme_device_info(struct vnvme_dev *dev, struct vfio_device_info *info);
int vnvme_region_info(struct vnvme_dev *dev, unsigned int index,
		      struct vfio_region_info *info);
int vnvme_irq_info(struct vnvme_dev *dev, unsigned int index,
		   struct vfio_irq_info *info);
int vnvme_device_reset(struct vnvme_dev *dev);

/*
 * Raw region access at region offset + off.  len is passed to the device
 * unchanged (so tests can probe its size checks); 0 on a full transfer,
 * -errno on failure, -EIO on a short one.
 */
int vnvme_region_read(struct vnvme_dev *dev, const struct vnvme_region *region,
		      uint64_t off, void *buf, size_t len);
int vnvme_region_write(struct vnvme_dev *dev, const struct vnvme_region *region,
		       uint64_t off, const void *buf, size_t len);
int vnvme_cfg_read(struct vnvme_dev *dev, uint64_t off, void *buf, size_t len);
int vnvme_cfg_write(struct vnvme_dev *dev, uint64_t off, const void *buf, size_t len);
int vnvme_bar_read(struct vnvme_dev *dev, uint64_t off, void *buf, size_t len);
int vnvme_bar_write(struct vnvme_dev *dev, uint64_t off, const void *buf, size_t len);

/* Sized config-space helpers (values are little endian on the wire). */
int vnvme_cfg_read8(struct vnvme_dev *dev, uint64_t off, uint8_t *val);
int vnvme_cfg_read16(struct vnvme_dev *dev, uint64_t off, uint16_t *val);
int vnvme_cfg_read32(struct vnvme_dev *dev, uint64_t off, uint32_t *val);
int vnvme_cfg_write8(struct vnvme_dev *dev, uint64_t off, uint8_t val);
int vnvme_cfg_write16(struct vnvme_dev *dev, uint64_t off, uint16_t val);
int vnvme_cfg_write32(struct vnvme_dev *dev, uint64_t off, uint32_t val);

/*
 * DMA.  vnvme_dma_map/unmap take arbitrary page-aligned ranges (tests use
 * them to exercise the device's dma_unmap); the arena itself is mapped by
 * vnvme_open.  vnvme_dma_alloc hands out zeroed, page-aligned, IOVA- and
 * VA-contiguous buffers from the arena.
 */
int vnvme_dma_map(struct vnvme_dev *dev, void *vaddr, uint64_t iova, size_t size);
int vnvme_dma_unmap(struct vnvme_dev *dev, uint64_t iova, size_t size);
int vnvme_dma_alloc(struct vnvme_dev *dev, size_t size, struct vnvme_dma_buf *buf);
void vnvme_dma_free(struct vnvme_dev *dev, struct vnvme_dma_buf *buf);
/*
 * Unmap / map again the arena mappings that [off, off + len) of the arena
 * touches (whole map_chunk pieces; the whole arena if it is one mapping).
 * The CPU view of the memory is not affected.  Counts of pieces changed, or
 * -errno.  vnvme_arena_remap_all maps whatever is unmapped.
 */
int vnvme_arena_unmap(struct vnvme_dev *dev, uint64_t off, size_t len);
int vnvme_arena_remap(struct vnvme_dev *dev, uint64_t off, size_t len);
int vnvme_arena_remap_all(struct vnvme_dev *dev);

/*
 * Interrupts.  vnvme_set_irqs is VFIO_DEVICE_SET_IRQS as is: data holds
 * count bytes (BOOL), count s32 fds (EVENTFD) or nothing (NONE).
 */
int vnvme_set_irqs(struct vnvme_dev *dev, unsigned int index, uint32_t flags,
		   unsigned int start, unsigned int count, const void *data);
int vnvme_irq_set_eventfds(struct vnvme_dev *dev, unsigned int index,
			   unsigned int start, unsigned int count, const int *fds);
int vnvme_irq_disable(struct vnvme_dev *dev, unsigned int index);
int vnvme_irq_trigger(struct vnvme_dev *dev, unsigned int index,
		      unsigned int start, unsigned int count);

/* Library-owned MSI-X eventfds for vectors 0..nvec-1 (nvec <= msix_count). */
int vnvme_msix_enable(struct vnvme_dev *dev, unsigned int nvec);
int vnvme_msix_disable(struct vnvme_dev *dev);
int vnvme_msix_fd(struct vnvme_dev *dev, unsigned int vector);	/* -1 if unset */
/* REQ interrupt (device asks to be released); sets dev->req_fd. */
int vnvme_req_irq_enable(struct vnvme_dev *dev);

/* Non-blocking eventfd (EFD_NONBLOCK | EFD_CLOEXEC); fd or -errno. */
int vnvme_eventfd_create(void);
/* Wait up to timeout_ms for fd; returns the counter (> 0), -ETIMEDOUT or -errno. */
int64_t vnvme_eventfd_wait(int fd, int timeout_ms);
/* Read the counter without waiting: counter, 0 if not signalled, or -errno. */
int64_t vnvme_eventfd_consume(int fd);

/* ------------------------------------------------------------------------ */
/* Live migration, VFIO migration v2 (migrate.c)                            */
/* ------------------------------------------------------------------------ */

/* VFIO_MIGRATION_* flags of the device. */
int vnvme_mig_flags(struct vnvme_dev *dev, uint64_t *flags);
int vnvme_mig_get_state(struct vnvme_dev *dev, uint32_t *state);
/*
 * Move to state (the kernel walks the arcs between); *data_fd gets the data
 * file the last arc opens, or -1 (data_fd NULL: closed if any).
 */
int vnvme_mig_set_state(struct vnvme_dev *dev, uint32_t state, int *data_fd);
/* VFIO_DEVICE_FEATURE_MIG_DATA_SIZE: the device's estimate of its state. */
int vnvme_mig_data_size(struct vnvme_dev *dev, uint64_t *len);
/* Read the saving file to its end into a malloc()ed *buf. */
int vnvme_mig_read_stream(int fd, uint8_t **buf, size_t *len);
/* Write len bytes in writes of chunk bytes (0: one write); -errno of the failing write. */
int vnvme_mig_write_stream(int fd, const void *buf, size_t len, size_t chunk);

/* type1 dirty page tracking of the container; bitmaps have a bit per arena page. */
int vnvme_dirty_start(struct vnvme_dev *dev);
int vnvme_dirty_stop(struct vnvme_dev *dev);
int vnvme_dirty_arena_bitmap(struct vnvme_dev *dev, uint64_t *bitmap);

/*
 * dst maps src's arena memory at the same IOVAs (guest RAM as it arrives on
 * a migration destination) and takes over its allocations; both devices
 * must have been opened with the same arena options.
 */
int vnvme_arena_share(struct vnvme_dev *dst, struct vnvme_dev *src);

/* CRC32C as the vnvme migration stream uses it. */
uint32_t vnvme_crc32c(const void *buf, size_t len);

/* ------------------------------------------------------------------------ */
/* NVMe controller (nvme.c)                                                 */
/* ------------------------------------------------------------------------ */

#define VNVME_DEFAULT_CMD_TIMEOUT_MS	10000
#define VNVME_ADMIN_QUEUE_DEPTH		32
#define VNVME_SCRATCH_SIZE		(128u << 10)	/* admin data bounce buffer */

struct vnvme_ctrl;

struct vnvme_queue {
	struct vnvme_ctrl *ctrl;
	uint16_t qid;
	uint16_t depth;			/* SQ entries */
	uint16_t cq_depth;		/* CQ entries (usually depth) */
	struct vnvme_dma_buf sq_mem;
	struct vnvme_dma_buf cq_mem;
	uint16_t sq_tail;		/* next SQ slot we fill */
	uint16_t sq_tail_rung;		/* tail value last written to the doorbell */
	uint16_t sq_head;		/* last SQ head reported in a CQE */
	uint16_t cq_head;
	uint8_t cq_phase;		/* phase tag of a new entry at cq_head */
	int irq_vector;			/* MSI-X vector, -1 when polled (IEN=0) */
	int irq_fd;			/* eventfd of that vector, -1 when polled */
	uint16_t next_cid;
	uint64_t stray_cqes;		/* CQEs skipped while waiting for another CID */
	uint64_t doorbell_writes;	/* register doorbell writes (SQ tail + CQ head) */
	uint64_t doorbells_skipped;	/* updates that stayed in the shadow buffer */
};

struct vnvme_ctrl {
	struct vnvme_dev *dev;
	uint64_t cap;
	uint32_t vs;
	uint32_t doorbell_stride;	/* bytes: 4 << CAP.DSTRD */
	unsigned int ready_timeout_ms;	/* CAP.TO * 500 ms */
	unsigned int cmd_timeout_ms;	/* every command wait */
	bool enabled;
	struct vnvme_queue admin;
	struct vnvme_queue **io_queues;	/* by qid; grows as queues are created */
	unsigned int io_queue_slots;	/* entries of io_queues */
	struct vnvme_dma_buf scratch;	/* bounce buffer for admin data */
	struct vnvme_dma_buf scratch_prp_list;	/* PRP list covering scratch */
	/* Doorbell Buffer Config pages while the controller uses them, else NULL. */
	uint32_t *shadow_db;
	volatile uint32_t *eventidx;
};

/* Register access (64-bit writes are two 32-bit writes, low then high). */
int vnvme_reg_read32(struct vnvme_ctrl *ctrl, uint32_t reg, uint32_t *val);
int vnvme_reg_read64(struct vnvme_ctrl *ctrl, uint32_t reg, uint64_t *val);
int vnvme_reg_write32(struct vnvme_ctrl *ctrl, uint32_t reg, uint32_t val);
int vnvme_reg_write64(struct vnvme_ctrl *ctrl, uint32_t reg, uint64_t val);

/* Read CAP/VS and allocate scratch buffers; touches no register. */
int vnvme_ctrl_init(struct vnvme_ctrl *ctrl, struct vnvme_dev *dev);
/* I/O queue qid, or NULL. */
struct vnvme_queue *vnvme_io_queue(struct vnvme_ctrl *ctrl, uint16_t qid);
/* Free queues and buffers (does not disable the controller). */
void vnvme_ctrl_fini(struct vnvme_ctrl *ctrl);
/* CC.EN = 0, wait CSTS.RDY = 0; forgets all queues. */
int vnvme_ctrl_disable(struct vnvme_ctrl *ctrl);
/*
 * Disable, set up an admin queue of admin_depth entries (0: default; its
 * completions signal MSI-X vector 0 if enabled, the wait uses admin_irq_fd
 * if >= 0), enable and wait CSTS.RDY = 1.  -EIO if CSTS.CFS is set.
 */
int vnvme_ctrl_enable(struct vnvme_ctrl *ctrl, unsigned int admin_depth,
		      int admin_irq_fd);
/* CC.SHN = normal, wait CSTS.SHST = complete. */
int vnvme_ctrl_shutdown(struct vnvme_ctrl *ctrl);
/* Wait until (CSTS & mask) == value; 0, -ETIMEDOUT or -errno. */
int vnvme_ctrl_wait_csts(struct vnvme_ctrl *ctrl, uint32_t mask, uint32_t value,
			 unsigned int timeout_ms);

/*
 * Create I/O CQ qid (PC=1; IEN=1 with IV=irq_vector, or IEN=0 if
 * irq_vector < 0) and I/O SQ qid bound to it, depth entries each.
 * The wait for completions uses dev's MSI-X eventfd of irq_vector.
 * Returns NVMe status or -errno; *qp is set on success.
 */
int vnvme_create_io_queue_pair(struct vnvme_ctrl *ctrl, uint16_t qid,
			       uint16_t depth, int irq_vector,
			       struct vnvme_queue **qp);
/* Delete SQ then CQ of qid and free its memory. */
int vnvme_delete_io_queue_pair(struct vnvme_ctrl *ctrl, uint16_t qid);
/*
 * The memory and bookkeeping of I/O queue pair qid without any command:
 * tests send their own (possibly invalid) Create commands for it, using
 * q->sq_mem / q->cq_mem, and then drive it with the functions below.
 * vnvme_queue_release forgets qid and frees its memory; only call it
 * once the controller no longer uses the queues (deleted or reset).
 */
int vnvme_queue_alloc(struct vnvme_ctrl *ctrl, uint16_t qid, uint16_t sq_depth,
		      uint16_t cq_depth, int irq_vector, struct vnvme_queue **qp);
void vnvme_queue_release(struct vnvme_ctrl *ctrl, uint16_t qid);
/* Create I/O CQ and SQ commands for an allocated queue (cdw11 flags: PC, IEN...). */
void vnvme_cmd_create_cq(struct nvme_sqe *sqe, const struct vnvme_queue *q);
void vnvme_cmd_create_sq(struct nvme_sqe *sqe, const struct vnvme_queue *q, uint16_t cqid);

/*
 * Doorbell Buffer Config (OACS bit 8) with one page each for the shadow
 * doorbells and the EventIdx values.  On success the I/O queues keep their
 * doorbell values in the shadow page and write the registers only when the
 * controller's EventIdx asks for it; the admin queue always writes its
 * registers (as Linux does).  Until the controller is disabled.  Returns the
 * NVMe status or -errno.
 */
int vnvme_shadow_doorbells_config(struct vnvme_ctrl *ctrl, const struct vnvme_dma_buf *shadow,
				  const struct vnvme_dma_buf *eventidx);
/* Shadow slot of a doorbell register offset (for tests poking the pages). */
static inline unsigned int vnvme_doorbell_slot(uint32_t reg)
{
	return (reg - NVME_REG_DOORBELLS) / 4;
}
uint32_t vnvme_sq_doorbell_reg(const struct vnvme_queue *q);
uint32_t vnvme_cq_doorbell_reg(const struct vnvme_queue *q);

/* Submission: copy the SQE to the tail slot (-EAGAIN if full). */
int vnvme_sq_push(struct vnvme_queue *q, const struct nvme_sqe *sqe);
/* Write the SQ tail doorbell (no-op if nothing new). */
int vnvme_sq_ring(struct vnvme_queue *q);
/* Set sqe->cid to a fresh CID, push and ring. */
int vnvme_submit(struct vnvme_queue *q, struct nvme_sqe *sqe);
/* Free SQ slots (one slot always stays empty). */
unsigned int vnvme_sq_space(const struct vnvme_queue *q);

/* Reap up to max new CQEs and ring the CQ head doorbell once; count or -errno. */
int vnvme_cq_poll(struct vnvme_queue *q, struct nvme_cqe *cqes, unsigned int max);
/*
 * Reap up to max new CQEs without telling the device (its CQ stays as full
 * as it was); vnvme_cq_ring_head then writes the CQ head doorbell.
 */
int vnvme_cq_reap(struct vnvme_queue *q, struct nvme_cqe *cqes, unsigned int max);
int vnvme_cq_ring_head(struct vnvme_queue *q);
/* Wait (eventfd or polling) for one CQE; 0, -ETIMEDOUT or -errno. */
int vnvme_cq_wait(struct vnvme_queue *q, struct nvme_cqe *cqe,
		  unsigned int timeout_ms);
/*
 * Submit and wait for the completion carrying the same CID (CQEs of
 * other commands are counted in stray_cqes and dropped).  vnvme_exec
 * assigns the CID, vnvme_exec_raw keeps sqe->cid.  cqe may be NULL.
 * Returns the NVMe status field, -ETIMEDOUT or -errno.
 */
int vnvme_exec(struct vnvme_queue *q, struct nvme_sqe *sqe, struct nvme_cqe *cqe);
int vnvme_exec_raw(struct vnvme_queue *q, const struct nvme_sqe *sqe,
		   struct nvme_cqe *cqe);

/*
 * PRPs for [iova, iova + len) of a buffer contiguous in IOVA: PRP1, PRP2
 * or a PRP list (chained if it spans more than one page) built in
 * prp_list, which may be NULL when len spans at most two pages.
 */
int vnvme_set_prps(struct nvme_sqe *sqe, uint64_t iova, size_t len,
		   const struct vnvme_dma_buf *prp_list);
/* PRP list bytes needed for a transfer of len bytes at iova (0 if none). */
size_t vnvme_prp_list_size(uint64_t iova, size_t len);
/*
 * PRPs for a transfer of len bytes that starts at pages[0] + offset (offset
 * dword aligned, or not, for tests) and continues at the start of pages[1],
 * pages[2]... (any page-aligned IOVAs).  A list, when needed, starts at
 * list->iova + list_off; when it reaches the end of a page with entries
 * left, its last slot chains to the start of the next page of list.
 */
int vnvme_build_prps(struct nvme_sqe *sqe, const uint64_t *pages, size_t npages,
		     uint32_t offset, size_t len, const struct vnvme_dma_buf *list,
		     size_t list_off);
/* SGL1 = *desc and PSDT = SGL (MPTR contiguous). */
void vnvme_set_sgl(struct nvme_sqe *sqe, const struct nvme_sgl_desc *desc);
static inline void vnvme_sgl_desc(struct nvme_sgl_desc *d, uint8_t type, uint64_t addr,
				  uint32_t len)
{
	d->addr = addr;
	d->len = len;
	d->rsvd[0] = d->rsvd[1] = d->rsvd[2] = 0;
	d->id = NVME_SGL_ID(type, 0);
}

/* Admin helpers; data goes through ctrl->scratch (len <= VNVME_SCRATCH_SIZE). */
int vnvme_identify(struct vnvme_ctrl *ctrl, uint8_t cns, uint32_t nsid, void *buf);
int vnvme_get_features(struct vnvme_ctrl *ctrl, uint8_t fid, uint32_t nsid,
		       uint32_t cdw11, uint32_t *result);
int vnvme_set_features(struct vnvme_ctrl *ctrl, uint8_t fid, uint32_t nsid,
		       uint32_t cdw11, uint32_t *result);
int vnvme_get_log_page(struct vnvme_ctrl *ctrl, uint8_t lid, uint32_t nsid,
		       void *buf, size_t len);
/* Admin command with an optional data buffer (dir: true = to the device). */
int vnvme_admin_exec(struct vnvme_ctrl *ctrl, struct nvme_sqe *sqe, void *data,
		     size_t len, bool to_device, struct nvme_cqe *cqe);

/* A namespace as the I/O helpers see it. */
struct vnvme_ns {
	struct vnvme_ctrl *ctrl;
	uint32_t nsid;
	uint64_t nsze;		/* blocks */
	uint32_t lba_size;	/* bytes */
	struct nvme_id_ns id;
};

/* Identify the namespace; NVMe status, -errno, or -ENODEV if NSZE is 0. */
int vnvme_ns_init(struct vnvme_ns *ns, struct vnvme_ctrl *ctrl, uint32_t nsid);

/* Fill the command dwords of Read/Write/Compare/Verify/Write Zeroes; nlb is a 1-based count. */
void vnvme_cmd_rw(struct nvme_sqe *sqe, uint8_t opcode, uint32_t nsid,
		  uint64_t slba, uint32_t nlb);

/*
 * Synchronous I/O on queue q.  nlb is a 1-based block count (1..65536);
 * buf must hold nlb * lba_size bytes.  A PRP list, when needed, is taken
 * from the arena for the duration of the command.
 */
int vnvme_io_read(struct vnvme_ns *ns, struct vnvme_queue *q, uint64_t slba,
		  uint32_t nlb, const struct vnvme_dma_buf *buf);
int vnvme_io_write(struct vnvme_ns *ns, struct vnvme_queue *q, uint64_t slba,
		   uint32_t nlb, const struct vnvme_dma_buf *buf);
int vnvme_io_compare(struct vnvme_ns *ns, struct vnvme_queue *q, uint64_t slba,
		     uint32_t nlb, const struct vnvme_dma_buf *buf);
int vnvme_io_verify(struct vnvme_ns *ns, struct vnvme_queue *q, uint64_t slba,
		    uint32_t nlb);
int vnvme_io_write_zeroes(struct vnvme_ns *ns, struct vnvme_queue *q,
			  uint64_t slba, uint32_t nlb, uint32_t cdw12_flags);
int vnvme_io_flush(struct vnvme_ns *ns, struct vnvme_queue *q);
/* ranges: nr (1..256) struct nvme_dsm_range in a DMA buffer. */
int vnvme_io_dsm(struct vnvme_ns *ns, struct vnvme_queue *q,
		 const struct vnvme_dma_buf *ranges, unsigned int nr,
		 uint32_t attributes);

/* ------------------------------------------------------------------------ */
/* Workloads: benchmark and data verification (bench.c)                     */
/* ------------------------------------------------------------------------ */

enum vnvme_rw {
	VNVME_RW_READ,
	VNVME_RW_WRITE,
	VNVME_RW_RANDREAD,
	VNVME_RW_RANDWRITE,
};

/* "read", "write", "randread", "randwrite" -> 0 and *rw, else -EINVAL. */
int vnvme_rw_parse(const char *name, enum vnvme_rw *rw);
const char *vnvme_rw_name(enum vnvme_rw rw);

struct vnvme_bench_opts {
	enum vnvme_rw rw;
	uint32_t bs;		/* bytes per I/O, a multiple of the LBA size */
	unsigned int qd;	/* outstanding I/Os per queue */
	double seconds;		/* stop issuing after this time (0: no limit) */
	uint64_t ios;		/* stop issuing after this many I/Os (0: no limit) */
	uint64_t slba;		/* first LBA of the region used */
	uint64_t nlb;		/* region size in blocks (0: to the end of the namespace) */
	uint64_t seed;		/* random offsets and verify pattern */
	bool verify;		/* writes stamp the pattern, reads check it */
};

struct vnvme_bench_result {
	uint64_t ios;
	uint64_t bytes;
	double seconds;
	double iops;
	double mbps;		/* 10^6 bytes per second */
	double lat_avg_us;
	double lat_min_us;
	double lat_p50_us;
	double lat_p99_us;
	double lat_max_us;
	double cpu_user_s;	/* this process (getrusage) */
	double cpu_sys_s;
	double cpu_us_per_io;	/* (user + sys) per I/O */
	double host_cpu_s;	/* all CPUs busy time from /proc/stat (includes the device's workers) */
	double host_cpu_us_per_io;
	int nvme_status;	/* first NVMe error status (0 if none) */
	uint64_t bad_lba;	/* first LBA whose data did not verify (if -EBADMSG) */
};

/*
 * Run a workload on the given I/O queues (round-robin, one thread).  Stops
 * issuing at the time or I/O limit (or after one pass over the region for
 * sequential patterns when neither is set), then drains.  Returns 0, the
 * first NVMe error status (> 0), -EBADMSG on a data mismatch, -ETIMEDOUT if
 * an I/O took longer than the command timeout, or -errno.  Queues with an
 * irq_fd are waited for with poll(); others are polled.
 */
int vnvme_bench(struct vnvme_ns *ns, struct vnvme_queue **queues,
		unsigned int nr_queues, const struct vnvme_bench_opts *opts,
		struct vnvme_bench_result *res);

/*
 * Write [slba, slba + nlb) sequentially with the verify pattern, then read
 * it back and check it; bs/qd per queue as in vnvme_bench.  Same returns.
 */
int vnvme_verify_range(struct vnvme_ns *ns, struct vnvme_queue **queues,
		       unsigned int nr_queues, uint64_t slba, uint64_t nlb,
		       uint32_t bs, unsigned int qd, uint64_t seed,
		       struct vnvme_bench_result *res);

/*
 * Verify pattern: every block starts with its LBA and the seed (so a block
 * read from the wrong place or an old run is recognised), then bytes that
 * depend on both.
 */
void vnvme_pattern_fill(void *buf, uint32_t lba_size, uint64_t slba,
			uint32_t nlb, uint64_t seed);
/* 0 if all nlb blocks match, else -EBADMSG and *bad_lba = first bad LBA. */
int vnvme_pattern_check(const void *buf, uint32_t lba_size, uint64_t slba,
			uint32_t nlb, uint64_t seed, uint64_t *bad_lba);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t vnvme_now_ns(void);

/* ------------------------------------------------------------------------ */
/* Hostile-guest fuzzer (fuzz.c)                                            */
/* ------------------------------------------------------------------------ */

/*
 * A seeded random mix of everything a hostile guest can do to a controller:
 * register and config-space accesses of every size at any offset, doorbells
 * for absent queues and beyond queue sizes, controller enable/shutdown
 * toggles, random admin and I/O commands with random fields, PRPs and PRP
 * lists that point outside mapped memory, loop or chain without end, SGLs
 * of every malformed kind, queues on unmapped or overlapping memory, queue
 * deletion with commands in flight, AER floods, DMA unmaps under the device
 * and device resets.  Between the hostile operations it checks that the
 * controller still serves verified I/O: every check_every operations it
 * writes a stamped pattern to a region no hostile command targets and reads
 * it back (re-initialising the controller first if its state is unknown).
 * The same seed replays the same operations.
 */
enum vnvme_fuzz_kind {
	VNVME_FUZZ_REG_READ,
	VNVME_FUZZ_REG_WRITE,
	VNVME_FUZZ_CC,
	VNVME_FUZZ_DOORBELL,
	VNVME_FUZZ_CONFIG,
	VNVME_FUZZ_ADMIN,
	VNVME_FUZZ_IO,
	VNVME_FUZZ_QUEUE,
	VNVME_FUZZ_DELETE_BUSY,
	VNVME_FUZZ_AER,
	VNVME_FUZZ_DMA_UNMAP,
	VNVME_FUZZ_IOCTL,
	VNVME_FUZZ_RESET,
	VNVME_FUZZ_NS_TOGGLE,
	VNVME_FUZZ_VERIFIED_IO,
	VNVME_FUZZ_NR_KINDS
};

struct vnvme_fuzz_opts {
	uint64_t seed;
	uint64_t ops;			/* stop after this many operations (0: no limit) */
	double seconds;			/* stop after this time (0: no limit) */
	uint32_t nsid;			/* an active namespace: verified and hostile I/O */
	unsigned int check_every;	/* health check every N operations (0: 2000) */
	unsigned int cmd_timeout_ms;	/* per hostile command (0: 5000) */
	const char *ns_toggle;		/* sysfs nsN/enable file toggled now and then, or NULL */
	bool chaos_thread;		/* a second thread unmaps/maps memory and reads state */
	bool verbose;			/* one line per re-initialisation on stderr */
};

struct vnvme_fuzz_result {
	uint64_t ops;
	uint64_t by_kind[VNVME_FUZZ_NR_KINDS];
	uint64_t ns_by_kind[VNVME_FUZZ_NR_KINDS];	/* time spent per kind */
	uint64_t reinit_ns;			/* time spent re-initialising */
	uint64_t commands;		/* hostile commands submitted */
	uint64_t completions;		/* their completions seen */
	uint64_t error_statuses;	/* completions with a non-zero status */
	uint64_t timeouts;		/* hostile commands never completed (then re-init) */
	uint64_t reinits;		/* controller re-initialisations */
	uint64_t fatal_seen;		/* CSTS.CFS observed */
	uint64_t health_checks;
	uint64_t verified_ios;		/* verified write+read pairs */
	uint64_t recovered;		/* verified I/O that failed until a re-init */
	uint64_t chaos_ops;		/* operations of the chaos thread */
	double seconds;
	uint64_t failed_op;		/* operation index of a failure */
	char failure[256];		/* empty on success */
};

/* 0, -EIO when the controller stopped serving verified I/O (see res->failure), or -errno. */
int vnvme_fuzz(struct vnvme_dev *dev, const struct vnvme_fuzz_opts *opts,
	       struct vnvme_fuzz_result *res);
const char *vnvme_fuzz_kind_name(unsigned int kind);

#endif /* LIBVNVME_H */
