// SPDX-License-Identifier: GPL-2.0
/* Walk and validate guest NVMe PRP lists and SGLs into DMA extents */

/*
 * Everything the guest controls here is hostile: list and segment pointers,
 * lengths, descriptor types, and chains that loop back on themselves.  The
 * file is pure logic (guest memory is reached only through w->read) so that
 * the same source builds into vnvme.ko and into the userspace unit tests and
 * fuzzer in tests/unit, which provide the kernel types through kshim.h.
 */
#ifdef __KERNEL__
#include <linux/types.h>
#else
#include "kshim.h"
#endif
#include "prp.h"

#define PRP_PAGE_MASK		((u64)VNVME_PAGE_SIZE - 1)
#define PRP_ENTRY_SIZE		8u
#define SGL_DESC_SIZE		16u

/*
 * List memory is fetched through a bounded on-stack buffer: kernel stacks are
 * small, and the guest decides how long lists and segments are.
 */
#define DPTR_CHUNK		512u

/* SGL Identifier (byte 15): descriptor type in bits 7:4, sub type in 3:0 */
#define SGL_TYPE_DATA		0x0
#define SGL_TYPE_BIT_BUCKET	0x1
#define SGL_TYPE_SEGMENT	0x2
#define SGL_TYPE_LAST_SEGMENT	0x3
#define SGL_SUBTYPE_ADDRESS	0x0

/* The next segment named by a Segment or Last Segment descriptor */
struct sgl_next {
	u64 addr;
	u32 ndesc;
	bool last;
	bool valid;
};

/*
 * Descriptors and list entries are little endian and, for the SGL1 field in
 * the command, not necessarily aligned: assemble them byte by byte.
 */
static u64 get_le64(const u8 *p)
{
	u64 v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static u32 get_le32(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

/* [addr, addr + len) must not wrap, so consumers can compute the end safely */
static bool range_ok(u64 addr, u64 len)
{
	return len <= ~(u64)0 - addr;
}

static u32 min_u32(u32 a, u32 b)
{
	return a < b ? a : b;
}

/* Append an extent, merging with the previous one when contiguous. */
static bool dptr_add(struct vnvme_dptr_walk *w, u64 addr, u32 len, bool bb)
{
	struct vnvme_dma_seg *seg;

	/* No overflow: the sum of all extents never exceeds the u32 len */
	if (w->nr_segs) {
		seg = &w->segs[w->nr_segs - 1];
		if (bb && seg->bit_bucket) {
			seg->len += len;
			return true;
		}
		if (!bb && !seg->bit_bucket && seg->addr + seg->len == addr) {
			seg->len += len;
			return true;
		}
	}
	if (w->nr_segs >= w->max_segs)
		return false;
	seg = &w->segs[w->nr_segs++];
	seg->addr = bb ? 0 : addr;
	seg->len = len;
	seg->bit_bucket = bb;
	return true;
}

/*
 * Fetch list memory, charging one read against the loop budget; budget_sc is
 * the status to report when the guest's structure needs too many reads.
 */
static u16 dptr_read(struct vnvme_dptr_walk *w, unsigned int *reads, u64 addr,
		     void *buf, u32 len, u16 budget_sc)
{
	if (*reads >= w->max_list_reads)
		return budget_sc;
	(*reads)++;
	if (!range_ok(addr, len))
		return VNVME_SC_DATA_XFER_ERROR;
	if (w->read(w->opaque, addr, buf, len))
		return VNVME_SC_DATA_XFER_ERROR;
	return VNVME_SC_SUCCESS;
}

static u16 prp_add(struct vnvme_dptr_walk *w, u64 addr, u32 len)
{
	/* No guest can have DMA-mapped memory at the top of the address space */
	if (!range_ok(addr, len))
		return VNVME_SC_DATA_XFER_ERROR;
	if (!dptr_add(w, addr, len, false))
		return VNVME_SC_INVALID_FIELD;
	return VNVME_SC_SUCCESS;
}

/*
 * Walk the PRP list starting at @list for the @rem bytes left after PRP1.
 * Only the entries the transfer needs are read: Linux places short lists in
 * 256-byte pool blocks, so the rest of the page belongs to someone else.
 */
static u16 prp_walk_list(struct vnvme_dptr_walk *w, u64 list, u32 rem)
{
	u8 buf[DPTR_CHUNK];
	unsigned int reads = 0;
	u32 slots, need, nents, i, j, n, len;
	bool chain;
	u64 ent;
	u16 sc;

	while (rem) {
		slots = (VNVME_PAGE_SIZE - (u32)(list & PRP_PAGE_MASK)) /
			PRP_ENTRY_SIZE;
		need = rem / VNVME_PAGE_SIZE + !!(rem & PRP_PAGE_MASK);
		/* The last slot of a page chains on only if entries remain */
		chain = need > slots;
		nents = chain ? slots : need;

		for (i = 0; i < nents; i += n) {
			n = min_u32(nents - i, DPTR_CHUNK / PRP_ENTRY_SIZE);
			sc = dptr_read(w, &reads, list + (u64)i * PRP_ENTRY_SIZE,
				       buf, n * PRP_ENTRY_SIZE,
				       VNVME_SC_INVALID_FIELD);
			if (sc)
				return sc;
			for (j = 0; j < n; j++) {
				ent = get_le64(buf + j * PRP_ENTRY_SIZE);
				/* Data and chain entries are both page aligned */
				if (ent & PRP_PAGE_MASK)
					return VNVME_SC_INVALID_PRP_OFFSET;
				if (chain && i + j == nents - 1) {
					list = ent;
					break;
				}
				len = min_u32(rem, VNVME_PAGE_SIZE);
				sc = prp_add(w, ent, len);
				if (sc)
					return sc;
				rem -= len;
			}
		}
	}
	return VNVME_SC_SUCCESS;
}

u16 vnvme_prp_walk(struct vnvme_dptr_walk *w, u64 prp1, u64 prp2, u32 len)
{
	u32 first, rem;
	u16 sc;

	w->nr_segs = 0;
	if (!len)
		return VNVME_SC_INVALID_FIELD;
	/* PRP1 may carry a page offset, but only a dword-aligned one */
	if (prp1 & 3)
		return VNVME_SC_INVALID_PRP_OFFSET;

	first = min_u32(len, VNVME_PAGE_SIZE - (u32)(prp1 & PRP_PAGE_MASK));
	sc = prp_add(w, prp1, first);
	if (sc)
		return sc;
	rem = len - first;
	if (!rem)
		return VNVME_SC_SUCCESS;	/* PRP2 is not used */

	if (rem <= VNVME_PAGE_SIZE) {
		/* PRP2 is the second data page */
		if (prp2 & PRP_PAGE_MASK)
			return VNVME_SC_INVALID_PRP_OFFSET;
		return prp_add(w, prp2, rem);
	}

	/* PRP2 points to a list: an offset is allowed, but only qword aligned */
	if (prp2 & (PRP_ENTRY_SIZE - 1))
		return VNVME_SC_INVALID_PRP_OFFSET;
	return prp_walk_list(w, prp2, rem);
}

/*
 * Check one SGL descriptor and account for it.  @last_in_seg: it is the last
 * descriptor of its segment; @in_last_seg: that segment is a last segment.
 * A (Last) Segment descriptor is returned through @next.
 */
static u16 sgl_one(struct vnvme_dptr_walk *w, const u8 *d, bool last_in_seg,
		   bool in_last_seg, bool is_write, u32 *rem,
		   struct sgl_next *next)
{
	u8 type = d[15] >> 4, subtype = d[15] & 0xf;
	u64 addr = get_le64(d);
	u32 dlen = get_le32(d + 8);

	/* PCIe defines no sub type but Address; Offset is fabrics only */
	if (type <= SGL_TYPE_LAST_SEGMENT && subtype != SGL_SUBTYPE_ADDRESS)
		return VNVME_SC_SGL_INVALID_TYPE;

	switch (type) {
	case SGL_TYPE_DATA:
		if (!dlen)
			return VNVME_SC_SUCCESS;	/* NULL descriptor */
		/* SGLS bit 18 is clear: the SGL may not exceed the transfer */
		if (dlen > *rem || !range_ok(addr, dlen))
			return VNVME_SC_SGL_INVALID_DATA_LEN;
		if (!dptr_add(w, addr, dlen, false))
			return VNVME_SC_SGL_INVALID_DESCS;
		*rem -= dlen;
		return VNVME_SC_SUCCESS;

	case SGL_TYPE_BIT_BUCKET:
		/* On a source buffer it has no effect (NVMe Bit Bucket LEN) */
		if (is_write || !dlen)
			return VNVME_SC_SUCCESS;
		if (dlen > *rem)
			return VNVME_SC_SGL_INVALID_DATA_LEN;
		if (!dptr_add(w, 0, dlen, true))
			return VNVME_SC_SGL_INVALID_DESCS;
		*rem -= dlen;
		return VNVME_SC_SUCCESS;

	case SGL_TYPE_SEGMENT:
	case SGL_TYPE_LAST_SEGMENT:
		if (in_last_seg)
			return VNVME_SC_SGL_INVALID_LAST;
		if (!last_in_seg)
			return VNVME_SC_SGL_INVALID_DESCS;
		if (!dlen || dlen % SGL_DESC_SIZE || addr & 7)
			return VNVME_SC_SGL_INVALID_LAST;
		if (!range_ok(addr, dlen))
			return VNVME_SC_SGL_INVALID_DATA_LEN;
		next->addr = addr;
		next->ndesc = dlen / SGL_DESC_SIZE;
		next->last = type == SGL_TYPE_LAST_SEGMENT;
		next->valid = true;
		return VNVME_SC_SUCCESS;

	default:
		/* Keyed and Transport Data Blocks, reserved, vendor specific */
		return VNVME_SC_SGL_INVALID_TYPE;
	}
}

/*
 * Read up to *@n descriptors at @addr without leaving its guest page, since
 * the descriptors in later pages may never be needed.  A segment need only
 * be qword aligned, so a descriptor can straddle two pages: fetch its halves
 * separately.  *@n is updated to the number of descriptors read.
 */
static u16 sgl_fetch(struct vnvme_dptr_walk *w, unsigned int *reads, u64 addr,
		     u8 *buf, u32 *n)
{
	u32 room = VNVME_PAGE_SIZE - (u32)(addr & PRP_PAGE_MASK);
	u16 sc;

	if (room >= SGL_DESC_SIZE) {
		*n = min_u32(*n, room / SGL_DESC_SIZE);
		return dptr_read(w, reads, addr, buf, *n * SGL_DESC_SIZE,
				 VNVME_SC_SGL_INVALID_DESCS);
	}
	*n = 1;
	sc = dptr_read(w, reads, addr, buf, room, VNVME_SC_SGL_INVALID_DESCS);
	if (sc)
		return sc;
	return dptr_read(w, reads, addr + room, buf + room,
			 SGL_DESC_SIZE - room, VNVME_SC_SGL_INVALID_DESCS);
}

u16 vnvme_sgl_walk(struct vnvme_dptr_walk *w, const u8 sgl1[16], u32 len,
		   bool is_write)
{
	u8 buf[DPTR_CHUNK];
	struct sgl_next next = { .valid = false };
	unsigned int reads = 0;
	u32 rem = len, i, j, n, ndesc;
	u64 seg;
	bool last;
	u16 sc;

	w->nr_segs = 0;
	if (!len)
		return VNVME_SC_INVALID_FIELD;

	/* SGL1 acts as a one-descriptor segment that is not a last segment */
	sc = sgl_one(w, sgl1, true, false, is_write, &rem, &next);
	if (sc)
		return sc;

	/* Every pass reads at least once, so the read budget ends any loop */
	while (rem && next.valid) {
		seg = next.addr;
		ndesc = next.ndesc;
		last = next.last;
		next.valid = false;

		for (i = 0; i < ndesc && rem; i += n) {
			n = min_u32(ndesc - i, DPTR_CHUNK / SGL_DESC_SIZE);
			sc = sgl_fetch(w, &reads, seg + (u64)i * SGL_DESC_SIZE,
				       buf, &n);
			if (sc)
				return sc;
			for (j = 0; j < n && rem; j++) {
				sc = sgl_one(w, buf + j * SGL_DESC_SIZE,
					     i + j == ndesc - 1, last, is_write,
					     &rem, &next);
				if (sc)
					return sc;
			}
		}
	}
	return rem ? VNVME_SC_SGL_INVALID_DATA_LEN : VNVME_SC_SUCCESS;
}
