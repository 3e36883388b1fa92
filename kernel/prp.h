/* SPDX-License-Identifier: GPL-2.0 */
/* PRP and SGL walking for NVMe data pointers; no kernel calls so it is unit-testable */
#ifndef VNVME_PRP_H
#define VNVME_PRP_H
/*
 * The includer provides u8/u16/u32/u64, bool and le64_to_cpu/le32_to_cpu
 * (kernel: <linux/types.h>, <asm/byteorder.h>; tests: kshim.h).
 */

#define VNVME_PAGE_SIZE 4096u      /* CC.MPS is fixed at 0 (CAP.MPSMIN=MPSMAX=0) */

/*
 * NVMe status field values, (SCT << 8) | SC, without DNR or phase.  The
 * kernel's private header may define the same names first; the asserts below
 * catch any definition that disagrees with the NVMe Generic Command Status
 * table (NVMe 1.4 figure 128 / 2.x figure "Generic Command Status Values").
 */
#ifndef VNVME_SC_SUCCESS
#define VNVME_SC_SUCCESS		0x000
#endif
#ifndef VNVME_SC_INVALID_FIELD
#define VNVME_SC_INVALID_FIELD		0x002	/* Invalid Field in Command */
#endif
#ifndef VNVME_SC_DATA_XFER_ERROR
#define VNVME_SC_DATA_XFER_ERROR	0x004	/* Data Transfer Error */
#endif
#ifndef VNVME_SC_SGL_INVALID_LAST
#define VNVME_SC_SGL_INVALID_LAST	0x00d	/* Invalid SGL Segment Descriptor */
#endif
#ifndef VNVME_SC_SGL_INVALID_DESCS
#define VNVME_SC_SGL_INVALID_DESCS	0x00e	/* Invalid Number of SGL Descriptors */
#endif
#ifndef VNVME_SC_SGL_INVALID_DATA_LEN
#define VNVME_SC_SGL_INVALID_DATA_LEN	0x00f	/* Data SGL Length Invalid */
#endif
#ifndef VNVME_SC_SGL_INVALID_TYPE
#define VNVME_SC_SGL_INVALID_TYPE	0x011	/* SGL Descriptor Type Invalid */
#endif
#ifndef VNVME_SC_INVALID_PRP_OFFSET
#define VNVME_SC_INVALID_PRP_OFFSET	0x013	/* PRP Offset Invalid */
#endif
#ifndef VNVME_SC_SGL_INVALID_OFFSET
#define VNVME_SC_SGL_INVALID_OFFSET	0x016	/* SGL Offset Invalid (unused here) */
#endif

_Static_assert(VNVME_SC_SUCCESS == 0x000, "VNVME_SC_SUCCESS must be 0x000");
_Static_assert(VNVME_SC_INVALID_FIELD == 0x002,
	       "VNVME_SC_INVALID_FIELD must be 0x002");
_Static_assert(VNVME_SC_DATA_XFER_ERROR == 0x004,
	       "VNVME_SC_DATA_XFER_ERROR must be 0x004");
_Static_assert(VNVME_SC_SGL_INVALID_LAST == 0x00d,
	       "VNVME_SC_SGL_INVALID_LAST (Invalid SGL Segment Descriptor) must be 0x00d");
_Static_assert(VNVME_SC_SGL_INVALID_DESCS == 0x00e,
	       "VNVME_SC_SGL_INVALID_DESCS (Invalid Number of SGL Descriptors) must be 0x00e");
_Static_assert(VNVME_SC_SGL_INVALID_DATA_LEN == 0x00f,
	       "VNVME_SC_SGL_INVALID_DATA_LEN (Data SGL Length Invalid) must be 0x00f");
_Static_assert(VNVME_SC_SGL_INVALID_TYPE == 0x011,
	       "VNVME_SC_SGL_INVALID_TYPE (SGL Descriptor Type Invalid) must be 0x011");
_Static_assert(VNVME_SC_INVALID_PRP_OFFSET == 0x013,
	       "VNVME_SC_INVALID_PRP_OFFSET (PRP Offset Invalid) must be 0x013");
_Static_assert(VNVME_SC_SGL_INVALID_OFFSET == 0x016,
	       "VNVME_SC_SGL_INVALID_OFFSET (SGL Offset Invalid) must be 0x016, not 0x00d");

/* One guest-physical extent of the data buffer. */
struct vnvme_dma_seg {
	u64 addr;       /* guest IOVA; meaningless when bit_bucket */
	u32 len;
	bool bit_bucket; /* SGL bit bucket: read data for this extent is discarded */
};

/*
 * Reads guest memory (PRP list pages, SGL segments). Returns 0 or a negative
 * errno.  The walker guarantees 0 < len <= 512, that addr + len does not wrap
 * past 2^64, and that [addr, addr + len) stays inside one 4 KiB page, so a
 * read never touches a guest page the walk does not need.
 */
typedef int (*vnvme_guest_read_t)(void *opaque, u64 addr, void *buf, u32 len);

struct vnvme_dptr_walk {
	vnvme_guest_read_t read;
	void *opaque;
	struct vnvme_dma_seg *segs;   /* output array provided by caller */
	unsigned int max_segs;        /* capacity of segs */
	unsigned int nr_segs;         /* out */
	/*
	 * Loop protection: bound on read() calls for one walk.  Each call
	 * fetches at most 512 bytes (64 PRP entries or 32 SGL descriptors) of
	 * one list page or segment, so 1024 allows 64K PRP entries (256 MiB).
	 */
	unsigned int max_list_reads;
};

/*
 * Both return an NVMe status code (0 = success, else a VNVME_SC_* value
 * above). Adjacent extents that are contiguous are merged (bit buckets merge
 * with bit buckets). len is the transfer length in bytes (> 0, already
 * checked against MDTS by the caller; 0 gives VNVME_SC_INVALID_FIELD).
 *
 * On success segs[0..nr_segs) describe exactly len bytes, every extent has
 * len > 0 and addr + len <= 2^64 - 1 (no wrap).  nr_segs never exceeds
 * max_segs; on error the extents are unspecified and must not be used.  The
 * walkers do not check that data pages are mapped; pinning them does that.
 *
 * vnvme_prp_walk (NVMe 1.4 section 4.3):
 *  INVALID_PRP_OFFSET  PRP1 not dword aligned; PRP2 page pointer, list entry
 *                      or chained list pointer with a non-zero page offset;
 *                      PRP2 list pointer not qword aligned.
 *  DATA_XFER_ERROR     read() failed, or an extent/list ends past 2^64 - 1.
 *  INVALID_FIELD       more than max_segs extents or max_list_reads reads.
 *
 * vnvme_sgl_walk (NVMe 1.4 section 4.4; SGL1 may be any of Data Block, Bit
 * Bucket, Segment, Last Segment; only sub type 0 (address) is accepted):
 *  SGL_INVALID_TYPE    unsupported type (Keyed, Transport, reserved, vendor)
 *                      or non-zero sub type.
 *  SGL_INVALID_DESCS   Segment/Last Segment descriptor that is not the last
 *                      of its segment; more than max_segs extents or
 *                      max_list_reads reads.
 *  SGL_INVALID_LAST    (Last) Segment descriptor inside a last segment; a
 *                      segment length of 0 or not a multiple of 16; a
 *                      segment address not qword aligned.
 *  SGL_INVALID_DATA_LEN SGL shorter than len; a descriptor that runs past
 *                      len (SGLS bit 18 "longer SGL" must stay clear); an
 *                      extent or segment ending past 2^64 - 1.
 *  DATA_XFER_ERROR     read() failed.
 * Bit Bucket descriptors of a write (source buffer) have no effect, as the
 * spec requires.  Descriptors after the one that completes len are not
 * examined.  Data blocks may have any byte alignment (SGLS bits 1:0 = 01b).
 */
u16 vnvme_prp_walk(struct vnvme_dptr_walk *w, u64 prp1, u64 prp2, u32 len);
u16 vnvme_sgl_walk(struct vnvme_dptr_walk *w, const u8 sgl1[16], u32 len, bool is_write);
#endif
