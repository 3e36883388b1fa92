/* SPDX-License-Identifier: GPL-2.0 */
/*
 * migration.h - the vnvme migration stream, version 1 (wire format).
 *
 * Documentation/migration.md is the reference.  Everything is little
 * endian; the stream is a 64-byte header and a payload of TLV sections,
 * each 8-byte aligned, with zero padding.  The header carries CRC32C of
 * itself and of the payload.
 */
#ifndef VNVME_MIGRATION_H
#define VNVME_MIGRATION_H

#include <linux/build_bug.h>
#include <linux/types.h>

#define VNVME_MIG_MAGIC		"VNVMEMIG"
#define VNVME_MIG_VERSION_MAJOR	1
#define VNVME_MIG_VERSION_MINOR	0
#define VNVME_MIG_MAX_STREAM	(1U << 20)
/* Header flags 0-15 are features a reader must know; v1 defines none. */
#define VNVME_MIG_FLAGS_REQUIRED	0xffffU

struct vnvme_mig_header {
	u8	magic[8];
	__le16	version_major;
	__le16	version_minor;
	__le32	flags;
	__le32	header_size;
	__le32	payload_len;
	__le32	payload_crc;
	__le32	header_crc;	/* of the header with this field zero */
	__le16	nr_io_queues;
	__le16	nr_vectors;
	__le16	max_ns;
	__le16	page_shift;
	__le32	nr_sections;
	__le32	module_abi;
	u8	reserved[16];
};
static_assert(sizeof(struct vnvme_mig_header) == 64);

/* An unknown section with this flag is skipped; without it, refused. */
#define VNVME_MIG_SECTION_OPTIONAL	BIT(0)

struct vnvme_mig_section {
	__le16	type;
	__le16	flags;
	__le32	length;		/* bytes after this header, without padding */
};
static_assert(sizeof(struct vnvme_mig_section) == 8);

enum vnvme_mig_section_type {
	VNVME_MIG_IDENT		= 0x0001,
	VNVME_MIG_PCI		= 0x0002,
	VNVME_MIG_REGS		= 0x0003,
	VNVME_MIG_DOORBELLS	= 0x0004,
	VNVME_MIG_FEATURES	= 0x0005,
	VNVME_MIG_DBBUF		= 0x0006,
	VNVME_MIG_CQ		= 0x0010,
	VNVME_MIG_SQ		= 0x0011,
	VNVME_MIG_AER		= 0x0020,
	VNVME_MIG_ERROR_LOG	= 0x0021,
	VNVME_MIG_CHANGED_NS	= 0x0022,
	VNVME_MIG_SMART		= 0x0023,
	VNVME_MIG_NAMESPACE	= 0x0030,
	/*
	 * How the source host served the guest: its doorbell mode (u32, 1 =
	 * mapped) and zero-copy flag (u32).  OPTIONAL and for the record: the
	 * guest sees neither, and the destination keeps its own settings.
	 */
	VNVME_MIG_DOORBELL_MODE	= 0x0040,
	VNVME_MIG_ZERO_COPY	= 0x0041,
	VNVME_MIG_END		= 0x7fff,
};

struct vnvme_mig_ident {
	u8	serial[20];
	u8	model[40];
	u8	firmware[8];
	u8	mdts;
	u8	reserved;
	__le16	cntlid;
};
static_assert(sizeof(struct vnvme_mig_ident) == 72);

struct vnvme_mig_pci {
	__le16	command;
	__le16	msix_flags;
	u8	reserved[4];
};
static_assert(sizeof(struct vnvme_mig_pci) == 8);

struct vnvme_mig_regs {
	__le64	cap;
	__le32	cc;
	__le32	csts;
	__le32	aqa;
	__le32	intms;
	__le64	asq;
	__le64	acq;
	u8	fatal_pending;
	u8	reserved[7];
};
static_assert(sizeof(struct vnvme_mig_regs) == 48);

/* Followed by count little-endian u32 values, SQ 2 * qid, CQ 2 * qid + 1. */
struct vnvme_mig_doorbells {
	__le16	count;
	u8	reserved[6];
};
static_assert(sizeof(struct vnvme_mig_doorbells) == 8);

struct vnvme_mig_features {
	__le32	arbitration;
	__le32	power_mgmt;
	__le16	temp_over;
	__le16	temp_under;
	__le32	err_recovery;
	u8	vwc;
	u8	timestamp_set;
	__le16	nr_sqs_granted;
	__le16	nr_cqs_granted;
	__le16	reserved;
	__le32	irq_coalesce;
	__le32	write_atomic;
	__le32	async_event;
	__le32	reserved2;
	__le64	irq_config_cd;	/* bit per vector: coalescing disabled */
	__le64	timestamp_ms;	/* value at the snapshot */
};
static_assert(sizeof(struct vnvme_mig_features) == 56);

struct vnvme_mig_dbbuf {
	u8	enabled;
	u8	reserved[7];
	__le64	shadow_iova;
	__le64	eventidx_iova;
};
static_assert(sizeof(struct vnvme_mig_dbbuf) == 24);

#define VNVME_MIG_CQ_IEN	BIT(0)

struct vnvme_mig_cq {
	__le16	qid;
	__le16	size;
	__le16	vector;
	__le16	flags;
	__le64	iova;
	__le16	tail;
	u8	phase;
	u8	reserved;
	__le16	coalesced;
	__le16	reserved2;
};
static_assert(sizeof(struct vnvme_mig_cq) == 24);

struct vnvme_mig_sq {
	__le16	qid;
	__le16	size;
	__le16	cqid;
	__le16	head;
	__le64	iova;
};
static_assert(sizeof(struct vnvme_mig_sq) == 16);

struct vnvme_mig_aer {
	u8	masked;
	u8	nr_held;
	u8	nr_pending;
	u8	reserved;
	__le16	held_cid[4];
	u8	reserved2[4];
	__le32	pending_dw0[8];
};
static_assert(sizeof(struct vnvme_mig_aer) == 48);

/* Followed by VNVME_ERR_LOG_ENTRIES entries of 64 bytes, as the log page. */
struct vnvme_mig_error_log {
	__le16	next;
	u8	reserved[6];
	__le64	count;
};
static_assert(sizeof(struct vnvme_mig_error_log) == 16);

struct vnvme_mig_changed_ns {
	__le16	nr;
	u8	overflow;
	u8	reserved[5];
	__le32	nsid[16];
};
static_assert(sizeof(struct vnvme_mig_changed_ns) == 72);

struct vnvme_mig_smart {
	__le64	bytes_read;
	__le64	bytes_written;
	__le64	read_cmds;
	__le64	write_cmds;
	__le64	busy_ns;
	__le64	media_errors;
	__le64	err_log_count;
	__le64	unsafe_shutdowns;
};
static_assert(sizeof(struct vnvme_mig_smart) == 64);

#define VNVME_MIG_NS_READONLY	BIT(0)

/* One per enabled namespace. */
struct vnvme_mig_namespace {
	__le32	nsid;
	__le32	flags;
	__le64	nr_lbas;
	u8	lba_shift;
	u8	reserved[7];
	u8	nguid[16];
	u8	eui64[8];
};
static_assert(sizeof(struct vnvme_mig_namespace) == 48);

/* ---- In-kernel side (after vnvme.h) ------------------------------------- */

/* Upper bound of a stream this module writes (and of its data size). */
#define VNVME_MIG_SECTION_MAX(body)	(8 + ALIGN(body, 8))
#define VNVME_MIG_SAVE_MAX						\
	(sizeof(struct vnvme_mig_header) +				\
	 VNVME_MIG_SECTION_MAX(sizeof(struct vnvme_mig_ident)) +		\
	 VNVME_MIG_SECTION_MAX(sizeof(struct vnvme_mig_pci)) +		\
	 VNVME_MIG_SECTION_MAX(sizeof(struct vnvme_mig_regs)) +		\
	 VNVME_MIG_SECTION_MAX(sizeof(struct vnvme_mig_doorbells) +	\
			       8 * VNVME_MAX_QUEUES) +			\
	 VNVME_MIG_SECTION_MAX(sizeof(struct vnvme_mig_features)) +	\
	 VNVME_MIG_SECTION_MAX(sizeof(struct vnvme_mig_dbbuf)) +		\
	 VNVME_MAX_QUEUES *						\
	 (VNVME_MIG_SECTION_MAX(sizeof(struct vnvme_mig_cq)) +		\
	  VNVME_MIG_SECTION_MAX(sizeof(struct vnvme_mig_sq))) +		\
	 VNVME_MIG_SECTION_MAX(sizeof(struct vnvme_mig_aer)) +		\
	 VNVME_MIG_SECTION_MAX(sizeof(struct vnvme_mig_error_log) +	\
			       64 * VNVME_ERR_LOG_ENTRIES) +		\
	 VNVME_MIG_SECTION_MAX(sizeof(struct vnvme_mig_changed_ns)) +	\
	 VNVME_MIG_SECTION_MAX(sizeof(struct vnvme_mig_smart)) +		\
	 VNVME_MAX_NS *							\
	 VNVME_MIG_SECTION_MAX(sizeof(struct vnvme_mig_namespace)) +	\
	 VNVME_MIG_SECTION_MAX(0))

/* A validated stream: pointers into its buffer, one per section. */
struct vnvme_mig_image {
	const struct vnvme_mig_ident		*ident;
	const struct vnvme_mig_pci		*pci;
	const struct vnvme_mig_regs		*regs;
	const struct vnvme_mig_doorbells	*db;
	const __le32				*db_values;
	const struct vnvme_mig_features		*feat;
	const struct vnvme_mig_dbbuf		*dbbuf;
	const struct vnvme_mig_cq		*cq[VNVME_MAX_QUEUES];
	const struct vnvme_mig_sq		*sq[VNVME_MAX_QUEUES];
	const struct vnvme_mig_aer		*aer;
	const struct vnvme_mig_error_log	*err_log;
	const struct vnvme_error_entry		*err_entries;
	const struct vnvme_mig_changed_ns	*changed_ns;
	const struct vnvme_mig_smart		*smart;
	const struct vnvme_mig_namespace	*ns[VNVME_MAX_NS];
	bool					end;
};

/* migration_stream.c */
int vnvme_mig_snapshot(struct vnvme_ctrl *ctrl, u8 **stream, size_t *len);
int vnvme_mig_check_header(struct vnvme_ctrl *ctrl,
			   const struct vnvme_mig_header *hdr, size_t *total);
int vnvme_mig_parse(struct vnvme_ctrl *ctrl, const u8 *stream, size_t len,
		    struct vnvme_mig_image *img);
int vnvme_mig_check_namespaces(struct vnvme_ctrl *ctrl,
			       const struct vnvme_mig_image *img);

#endif /* VNVME_MIGRATION_H */
