// SPDX-License-Identifier: GPL-2.0
/* test_prp.c - KTAP unit tests for the PRP/SGL walker in kernel/prp.c */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kshim.h"
#include "prp.h"
#include "gmem.h"
#include "ktap.h"

#define PG		4096u
#define GBASE		0x10000000ull		/* guest memory holding lists */
#define GSIZE		(1u << 20)
#define LP(n)		(GBASE + (u64)(n) * PG)	/* list / segment page n */
#define DBASE		0x200000000ull		/* data pages: never read */
#define DPC(n)		(DBASE + (u64)(n) * PG)	/* contiguous data pages */
#define DPX(n)		(DBASE + (u64)(n) * 2 * PG) /* never contiguous */
#define MAX_SEGS	(1u << 17)

#define SGL_DATA	0x0
#define SGL_BB		0x1
#define SGL_SEG		0x2
#define SGL_LAST	0x3

static struct gmem g;
static struct vnvme_dma_seg segs[MAX_SEGS];
static struct vnvme_dptr_walk w;

static void setup(unsigned int max_segs, unsigned int max_reads)
{
	gmem_free(&g);
	gmem_init(&g, GBASE, GSIZE);
	memset(segs, 0xa5, sizeof(segs));
	memset(&w, 0, sizeof(w));
	w.read = gmem_read;
	w.opaque = &g;
	w.segs = segs;
	w.max_segs = max_segs;
	w.max_list_reads = max_reads;
}

static void setup_default(void)
{
	setup(MAX_SEGS, 1024);
}

static u64 seg_total(void)
{
	u64 t = 0;
	unsigned int i;

	for (i = 0; i < w.nr_segs; i++)
		t += segs[i].len;
	return t;
}

#define EXPECT_SEG(i, a, l, bb) do {					\
	EXPECT((i) < w.nr_segs);					\
	if ((i) < w.nr_segs) {						\
		if (!(bb))						\
			EXPECT_EQ(segs[i].addr, (a));			\
		EXPECT_EQ(segs[i].len, (l));				\
		EXPECT_EQ(segs[i].bit_bucket, (bb));			\
	}								\
} while (0)

/* Fill list page entries [first, first + n) at @list with pages from @pg */
static void put_entries(u64 list, unsigned int n, u64 (*pg)(unsigned int),
			unsigned int first_page)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		gmem_put64(&g, list + 8ull * i, pg(first_page + i));
}

static u64 dpx(unsigned int n) { return DPX(n); }
static u64 dpc(unsigned int n) { return DPC(n); }

/* ---------------------------------------------------------------- PRP -- */

static void prp_single_page(void)
{
	setup_default();
	ASSERT_EQ(vnvme_prp_walk(&w, DPX(0), 0xdeadbeef1, PG), VNVME_SC_SUCCESS);
	EXPECT_EQ(w.nr_segs, 1);
	EXPECT_SEG(0, DPX(0), PG, false);
	EXPECT_EQ(g.reads, 0);

	ASSERT_EQ(vnvme_prp_walk(&w, DPX(3), 0, 1), VNVME_SC_SUCCESS);
	EXPECT_EQ(w.nr_segs, 1);
	EXPECT_SEG(0, DPX(3), 1, false);
}

static void prp_offset_in_prp1(void)
{
	setup_default();
	/* Fits in PRP1's page: PRP2 is ignored however malformed */
	ASSERT_EQ(vnvme_prp_walk(&w, DPX(0) + 0x204, 0x7, PG - 0x204),
		  VNVME_SC_SUCCESS);
	EXPECT_EQ(w.nr_segs, 1);
	EXPECT_SEG(0, DPX(0) + 0x204, PG - 0x204, false);

	/* Spills into the second page: PRP2 is a page pointer */
	ASSERT_EQ(vnvme_prp_walk(&w, DPX(0) + 0x204, DPX(1), PG - 0x204 + 100),
		  VNVME_SC_SUCCESS);
	EXPECT_EQ(w.nr_segs, 2);
	EXPECT_SEG(0, DPX(0) + 0x204, PG - 0x204, false);
	EXPECT_SEG(1, DPX(1), 100, false);
	EXPECT_EQ(g.reads, 0);
}

static void prp_two_pages_exact(void)
{
	setup_default();
	ASSERT_EQ(vnvme_prp_walk(&w, DPX(0), DPX(1), 2 * PG), VNVME_SC_SUCCESS);
	EXPECT_EQ(w.nr_segs, 2);
	EXPECT_SEG(0, DPX(0), PG, false);
	EXPECT_SEG(1, DPX(1), PG, false);

	/* With an offset, one page worth of data still needs only PRP2 */
	ASSERT_EQ(vnvme_prp_walk(&w, DPX(0) + 0x800, DPX(1), PG),
		  VNVME_SC_SUCCESS);
	EXPECT_EQ(w.nr_segs, 2);
	EXPECT_SEG(0, DPX(0) + 0x800, 0x800, false);
	EXPECT_SEG(1, DPX(1), 0x800, false);
	EXPECT_EQ(g.reads, 0);
}

static void prp_prp2_offset_error(void)
{
	setup_default();
	EXPECT_EQ(vnvme_prp_walk(&w, DPX(0), DPX(1) + 0x10, 2 * PG),
		  VNVME_SC_INVALID_PRP_OFFSET);
	EXPECT_EQ(vnvme_prp_walk(&w, DPX(0), DPX(1) + 4, 2 * PG),
		  VNVME_SC_INVALID_PRP_OFFSET);
	EXPECT_EQ(vnvme_prp_walk(&w, DPX(0) + 0x100, DPX(1) + 0x100, PG),
		  VNVME_SC_INVALID_PRP_OFFSET);
	EXPECT_EQ(g.reads, 0);
}

static void prp1_misaligned(void)
{
	setup_default();
	EXPECT_EQ(vnvme_prp_walk(&w, DPX(0) + 1, 0, 512),
		  VNVME_SC_INVALID_PRP_OFFSET);
	EXPECT_EQ(vnvme_prp_walk(&w, DPX(0) + 2, 0, 512),
		  VNVME_SC_INVALID_PRP_OFFSET);
	EXPECT_EQ(vnvme_prp_walk(&w, DPX(0) + 0x803, DPX(1), PG),
		  VNVME_SC_INVALID_PRP_OFFSET);
	EXPECT_EQ(vnvme_prp_walk(&w, DPX(0) + 4, 0, 512), VNVME_SC_SUCCESS);
}

/*
 * Linux puts lists of up to 32 entries in 256-byte dma_pool blocks: PRP2 has
 * an offset and the rest of the page is another command's list.
 */
static void prp_list_with_offset(void)
{
	setup_default();
	put_entries(LP(0) + 0x100, 4, dpx, 1);
	g.deny_lo = LP(0) + 0x100 + 4 * 8;
	g.deny_hi = LP(1);
	ASSERT_EQ(vnvme_prp_walk(&w, DPX(0), LP(0) + 0x100, 5 * PG),
		  VNVME_SC_SUCCESS);
	EXPECT_EQ(w.nr_segs, 5);
	EXPECT_SEG(0, DPX(0), PG, false);
	EXPECT_SEG(4, DPX(4), PG, false);
	EXPECT_EQ(g.reads, 1);
	EXPECT_EQ(g.bytes, 32);

	/* The last 256-byte block of a page: 32 entries end at the boundary */
	setup_default();
	put_entries(LP(0) + 0xf00, 32, dpx, 1);
	g.deny_lo = LP(1);
	g.deny_hi = LP(2);
	ASSERT_EQ(vnvme_prp_walk(&w, DPX(0), LP(0) + 0xf00, 33 * PG),
		  VNVME_SC_SUCCESS);
	EXPECT_EQ(w.nr_segs, 33);
	EXPECT_SEG(32, DPX(32), PG, false);
	EXPECT_EQ(g.bytes, 256);
	EXPECT_EQ(g.violations, 0);
}

static void prp_list_ptr_misaligned(void)
{
	setup_default();
	put_entries(LP(0), 4, dpx, 1);
	EXPECT_EQ(vnvme_prp_walk(&w, DPX(0), LP(0) + 4, 3 * PG),
		  VNVME_SC_INVALID_PRP_OFFSET);
	EXPECT_EQ(vnvme_prp_walk(&w, DPX(0), LP(0) + 2, 3 * PG),
		  VNVME_SC_INVALID_PRP_OFFSET);
	EXPECT_EQ(g.reads, 0);
	/* qword aligned with an offset is fine */
	put_entries(LP(0) + 8, 2, dpx, 1);
	EXPECT_EQ(vnvme_prp_walk(&w, DPX(0), LP(0) + 8, 3 * PG),
		  VNVME_SC_SUCCESS);
}

static void prp_list_exact_fill(void)
{
	/* 512 entries fill the page: the last slot is data, not a chain */
	setup_default();
	put_entries(LP(0), 512, dpx, 1);
	g.deny_lo = LP(1);
	g.deny_hi = LP(2);
	ASSERT_EQ(vnvme_prp_walk(&w, DPX(0), LP(0), 513 * PG),
		  VNVME_SC_SUCCESS);
	EXPECT_EQ(w.nr_segs, 513);
	EXPECT_SEG(512, DPX(512), PG, false);
	EXPECT_EQ(g.bytes, PG);
	EXPECT_EQ(g.reads, 8);

	/* Same with a short last page */
	ASSERT_EQ(vnvme_prp_walk(&w, DPX(0), LP(0), 512 * PG + 100),
		  VNVME_SC_SUCCESS);
	EXPECT_EQ(w.nr_segs, 513);
	EXPECT_SEG(512, DPX(512), 100, false);
	EXPECT_EQ(seg_total(), 512 * PG + 100);
	EXPECT_EQ(g.violations, 0);
}

static void prp_chain_2_levels(void)
{
	unsigned int i;

	setup_default();
	/* 600 entries: 511 + chain in LP0, 89 in LP1 */
	put_entries(LP(0), 511, dpx, 1);
	gmem_put64(&g, LP(0) + 511 * 8, LP(1));
	put_entries(LP(1), 89, dpx, 512);
	g.deny_lo = LP(1) + 89 * 8;
	g.deny_hi = LP(2);
	ASSERT_EQ(vnvme_prp_walk(&w, DPX(0), LP(0), 601 * PG),
		  VNVME_SC_SUCCESS);
	ASSERT_EQ(w.nr_segs, 601);
	for (i = 0; i < 601; i++)
		EXPECT_SEG(i, DPX(i), PG, false);
	EXPECT_EQ(g.bytes, PG + 89 * 8);
	EXPECT_EQ(g.reads, 8 + 2);

	/* The first list starts at an offset: 31 + chain, then 69 */
	setup_default();
	put_entries(LP(0) + 0xf00, 31, dpx, 1);
	gmem_put64(&g, LP(0) + 0xff8, LP(5));
	put_entries(LP(5), 69, dpx, 32);
	ASSERT_EQ(vnvme_prp_walk(&w, DPX(0), LP(0) + 0xf00, 101 * PG - 7),
		  VNVME_SC_SUCCESS);
	ASSERT_EQ(w.nr_segs, 101);
	EXPECT_SEG(31, DPX(31), PG, false);
	EXPECT_SEG(32, DPX(32), PG, false);
	EXPECT_SEG(100, DPX(100), PG - 7, false);
	EXPECT_EQ(g.violations, 0);
}

static void prp_chain_3_levels(void)
{
	unsigned int i;

	setup_default();
	put_entries(LP(0), 511, dpx, 1);
	gmem_put64(&g, LP(0) + 511 * 8, LP(7));
	put_entries(LP(7), 511, dpx, 512);
	gmem_put64(&g, LP(7) + 511 * 8, LP(3));
	put_entries(LP(3), 10, dpx, 1023);
	ASSERT_EQ(vnvme_prp_walk(&w, DPX(0) + 0x40, LP(0), 1032 * PG + 0x10),
		  VNVME_SC_SUCCESS);
	ASSERT_EQ(w.nr_segs, 1033);
	EXPECT_SEG(0, DPX(0) + 0x40, PG - 0x40, false);
	for (i = 1; i < 1032; i++)
		EXPECT_SEG(i, DPX(i), PG, false);
	EXPECT_SEG(1032, DPX(1032), 0x50, false);
	EXPECT_EQ(seg_total(), 1032 * PG + 0x10);
	EXPECT_EQ(g.bytes, 2 * PG + 10 * 8);

	/* A chain pointer in the first slot of a list that starts at 0xff8 */
	setup_default();
	gmem_put64(&g, LP(0) + 0xff8, LP(1));
	put_entries(LP(1), 2, dpx, 1);
	ASSERT_EQ(vnvme_prp_walk(&w, DPX(0), LP(0) + 0xff8, 3 * PG),
		  VNVME_SC_SUCCESS);
	EXPECT_EQ(w.nr_segs, 3);
	EXPECT_SEG(2, DPX(2), PG, false);
	EXPECT_EQ(g.violations, 0);
}

static void prp_chain_ptr_offset(void)
{
	setup_default();
	put_entries(LP(0), 511, dpx, 1);
	put_entries(LP(1), 89, dpx, 512);
	put_entries(LP(1) + 8, 89, dpx, 512);
	/* The spec: "The next PRP List page shall be memory page aligned" */
	gmem_put64(&g, LP(0) + 511 * 8, LP(1) + 8);
	EXPECT_EQ(vnvme_prp_walk(&w, DPX(0), LP(0), 601 * PG),
		  VNVME_SC_INVALID_PRP_OFFSET);
	gmem_put64(&g, LP(0) + 511 * 8, LP(1) + 0x800);
	EXPECT_EQ(vnvme_prp_walk(&w, DPX(0), LP(0), 601 * PG),
		  VNVME_SC_INVALID_PRP_OFFSET);
	gmem_put64(&g, LP(0) + 511 * 8, LP(1));
	EXPECT_EQ(vnvme_prp_walk(&w, DPX(0), LP(0), 601 * PG),
		  VNVME_SC_SUCCESS);
}

static void prp_list_entry_misaligned(void)
{
	setup_default();
	put_entries(LP(0), 8, dpx, 1);
	gmem_put64(&g, LP(0) + 3 * 8, DPX(4) + 0x200);
	EXPECT_EQ(vnvme_prp_walk(&w, DPX(0), LP(0), 9 * PG),
		  VNVME_SC_INVALID_PRP_OFFSET);
	/* Even the last, partial entry must be page aligned */
	put_entries(LP(0), 8, dpx, 1);
	gmem_put64(&g, LP(0) + 7 * 8, DPX(8) + 4);
	EXPECT_EQ(vnvme_prp_walk(&w, DPX(0), LP(0), 8 * PG + 4),
		  VNVME_SC_INVALID_PRP_OFFSET);
	gmem_put64(&g, LP(0) + 7 * 8, DPX(8));
	EXPECT_EQ(vnvme_prp_walk(&w, DPX(0), LP(0), 8 * PG + 4),
		  VNVME_SC_SUCCESS);
}

/*
 * A list whose last entry points back to itself is not malformed as such
 * (each pass yields 511 valid entries); the read budget is what ends it.
 */
static void prp_loop_self(void)
{
	setup(MAX_SEGS, 1024);
	put_entries(LP(0), 511, dpc, 0);
	gmem_put64(&g, LP(0) + 511 * 8, LP(0));
	EXPECT_EQ(vnvme_prp_walk(&w, DPX(10000), LP(0), 0xfffff000u),
		  VNVME_SC_INVALID_FIELD);
	EXPECT_EQ(g.reads, 1024);
	EXPECT(w.nr_segs <= w.max_segs);

	setup(MAX_SEGS, 3);
	put_entries(LP(0), 511, dpc, 0);
	gmem_put64(&g, LP(0) + 511 * 8, LP(0));
	EXPECT_EQ(vnvme_prp_walk(&w, DPX(10000), LP(0), 0xfffff000u),
		  VNVME_SC_INVALID_FIELD);
	EXPECT_EQ(g.reads, 3);

	/* Within budget, revisiting a list page is just a long list */
	setup(MAX_SEGS, 1024);
	put_entries(LP(0), 511, dpc, 0);
	gmem_put64(&g, LP(0) + 511 * 8, LP(0));
	ASSERT_EQ(vnvme_prp_walk(&w, DPX(10000), LP(0), 601 * PG),
		  VNVME_SC_SUCCESS);
	EXPECT_EQ(w.nr_segs, 3);
	EXPECT_SEG(1, DPC(0), 511 * PG, false);
	EXPECT_SEG(2, DPC(0), 89 * PG, false);
}

static void prp_max_segs_overflow(void)
{
	setup(9, 1024);
	put_entries(LP(0), 9, dpx, 1);
	EXPECT_EQ(vnvme_prp_walk(&w, DPX(0), LP(0), 10 * PG),
		  VNVME_SC_INVALID_FIELD);
	EXPECT(w.nr_segs <= 9);
	w.max_segs = 10;
	EXPECT_EQ(vnvme_prp_walk(&w, DPX(0), LP(0), 10 * PG), VNVME_SC_SUCCESS);
	EXPECT_EQ(w.nr_segs, 10);

	/* Merging keeps a contiguous buffer at one extent */
	put_entries(LP(0), 9, dpc, 1);
	w.max_segs = 1;
	EXPECT_EQ(vnvme_prp_walk(&w, DPC(0), LP(0), 10 * PG), VNVME_SC_SUCCESS);
	EXPECT_EQ(w.nr_segs, 1);

	w.max_segs = 0;
	EXPECT_EQ(vnvme_prp_walk(&w, DPC(0), 0, PG), VNVME_SC_INVALID_FIELD);
	EXPECT_EQ(w.nr_segs, 0);
}

static void prp_guest_read_failure(void)
{
	setup_default();
	/* List page outside guest memory */
	EXPECT_EQ(vnvme_prp_walk(&w, DPX(0), GBASE + GSIZE, 3 * PG),
		  VNVME_SC_DATA_XFER_ERROR);
	/* Chained list page outside guest memory */
	put_entries(LP(0), 511, dpx, 1);
	gmem_put64(&g, LP(0) + 511 * 8, GBASE - PG);
	EXPECT_EQ(vnvme_prp_walk(&w, DPX(0), LP(0), 601 * PG),
		  VNVME_SC_DATA_XFER_ERROR);
	/* The read callback reports an error on its third call */
	gmem_put64(&g, LP(0) + 511 * 8, LP(1));
	g.reads = 0;
	g.fail_nth = 3;
	EXPECT_EQ(vnvme_prp_walk(&w, DPX(0), LP(0), 601 * PG),
		  VNVME_SC_DATA_XFER_ERROR);
	EXPECT_EQ(g.reads, 3);
}

static void prp_merge_contiguous(void)
{
	setup_default();
	ASSERT_EQ(vnvme_prp_walk(&w, DPC(0) + 0x100, DPC(1), PG),
		  VNVME_SC_SUCCESS);
	EXPECT_EQ(w.nr_segs, 1);
	EXPECT_SEG(0, DPC(0) + 0x100, PG, false);

	put_entries(LP(0), 3, dpc, 1);
	put_entries(LP(0) + 24, 3, dpc, 10);
	ASSERT_EQ(vnvme_prp_walk(&w, DPC(0), LP(0), 7 * PG), VNVME_SC_SUCCESS);
	EXPECT_EQ(w.nr_segs, 2);
	EXPECT_SEG(0, DPC(0), 4 * PG, false);
	EXPECT_SEG(1, DPC(10), 3 * PG, false);

	/* Contiguous only backwards is not contiguous */
	ASSERT_EQ(vnvme_prp_walk(&w, DPC(1), DPC(0), 2 * PG), VNVME_SC_SUCCESS);
	EXPECT_EQ(w.nr_segs, 2);
}

static void prp_large_2mib(void)
{
	unsigned int i;

	setup_default();
	put_entries(LP(0), 512, dpx, 1);
	ASSERT_EQ(vnvme_prp_walk(&w, DPX(0), LP(0), 2u << 20),
		  VNVME_SC_SUCCESS);
	ASSERT_EQ(w.nr_segs, 512);
	for (i = 0; i < 512; i++)
		EXPECT_SEG(i, DPX(i), PG, false);
	EXPECT_EQ(g.bytes, 511 * 8);
	EXPECT_EQ(g.reads, 8);

	/* With an offset the 2 MiB spans 513 pages: 512 entries, no chain */
	ASSERT_EQ(vnvme_prp_walk(&w, DPX(0) + 0x200, LP(0), 2u << 20),
		  VNVME_SC_SUCCESS);
	ASSERT_EQ(w.nr_segs, 513);
	EXPECT_SEG(512, DPX(512), 0x200, false);
	EXPECT_EQ(seg_total(), 2u << 20);

	/* Physically contiguous: a single extent */
	put_entries(LP(0), 512, dpc, 1);
	ASSERT_EQ(vnvme_prp_walk(&w, DPC(0), LP(0), 2u << 20),
		  VNVME_SC_SUCCESS);
	EXPECT_EQ(w.nr_segs, 1);
	EXPECT_SEG(0, DPC(0), 2u << 20, false);

	/* 8 MiB (Linux 6.12 with MDTS 0): five chained list pages */
	setup_default();
	for (i = 0; i < 4; i++) {
		put_entries(LP(i), 511, dpx, 1 + 511 * i);
		gmem_put64(&g, LP(i) + 511 * 8, LP(i + 1));
	}
	put_entries(LP(4), 3, dpx, 1 + 511 * 4);
	ASSERT_EQ(vnvme_prp_walk(&w, DPX(0), LP(0), 8u << 20),
		  VNVME_SC_SUCCESS);
	ASSERT_EQ(w.nr_segs, 2048);
	for (i = 0; i < 2048; i++)
		EXPECT_SEG(i, DPX(i), PG, false);
	EXPECT_EQ(g.violations, 0);
}

static void prp_top_of_address_space(void)
{
	setup_default();
	EXPECT_EQ(vnvme_prp_walk(&w, 0xfffffffffffff000ull, 0, PG),
		  VNVME_SC_DATA_XFER_ERROR);
	EXPECT_EQ(vnvme_prp_walk(&w, 0xfffffffffffff000ull, 0, PG - 1),
		  VNVME_SC_SUCCESS);
	EXPECT_EQ(vnvme_prp_walk(&w, 0xffffffffffffe000ull, 0, PG),
		  VNVME_SC_SUCCESS);
	EXPECT_EQ(vnvme_prp_walk(&w, DPX(0), 0xfffffffffffff000ull, 2 * PG),
		  VNVME_SC_DATA_XFER_ERROR);
	/* A list in the last qword of the address space is never read */
	EXPECT_EQ(vnvme_prp_walk(&w, DPX(0), 0xfffffffffffffff8ull, 3 * PG),
		  VNVME_SC_DATA_XFER_ERROR);
	EXPECT_EQ(g.reads, 0);
}

static void prp_len_zero(void)
{
	setup_default();
	EXPECT_EQ(vnvme_prp_walk(&w, DPX(0), 0, 0), VNVME_SC_INVALID_FIELD);
	EXPECT_EQ(w.nr_segs, 0);
}

/* ---------------------------------------------------------------- SGL -- */

static u16 sgl_walk1(u64 addr, u32 dlen, u8 type, u8 sub, u32 len, bool wr)
{
	u8 d[16];

	sgl_desc(d, addr, dlen, type, sub);
	return vnvme_sgl_walk(&w, d, len, wr);
}

static void sgl_data_block(void)
{
	setup_default();
	/* Byte alignment is allowed for SGL data blocks */
	ASSERT_EQ(sgl_walk1(DPX(0) + 3, 1000, SGL_DATA, 0, 1000, false),
		  VNVME_SC_SUCCESS);
	EXPECT_EQ(w.nr_segs, 1);
	EXPECT_SEG(0, DPX(0) + 3, 1000, false);
	ASSERT_EQ(sgl_walk1(DPX(0), 2 * PG, SGL_DATA, 0, 2 * PG, true),
		  VNVME_SC_SUCCESS);
	EXPECT_SEG(0, DPX(0), 2 * PG, false);
	EXPECT_EQ(g.reads, 0);
}

static void sgl_unaligned_sgl1(void)
{
	u8 raw[17];

	setup_default();
	sgl_desc(raw + 1, DPX(1) + 5, 777, SGL_DATA, 0);
	ASSERT_EQ(vnvme_sgl_walk(&w, raw + 1, 777, false), VNVME_SC_SUCCESS);
	EXPECT_SEG(0, DPX(1) + 5, 777, false);
}

static void sgl_last_segment(void)
{
	unsigned int i;

	setup_default();
	for (i = 0; i < 4; i++)
		gmem_put_sgl(&g, LP(0) + 16 * i, DPX(i), 100 + i, SGL_DATA, 0);
	ASSERT_EQ(sgl_walk1(LP(0), 64, SGL_LAST, 0, 406, false),
		  VNVME_SC_SUCCESS);
	ASSERT_EQ(w.nr_segs, 4);
	for (i = 0; i < 4; i++)
		EXPECT_SEG(i, DPX(i), 100 + i, false);
	EXPECT_EQ(g.reads, 1);
	EXPECT_EQ(g.bytes, 64);
}

static void sgl_segment_chain(void)
{
	setup_default();
	gmem_put_sgl(&g, LP(0), DPX(0), 100, SGL_DATA, 0);
	gmem_put_sgl(&g, LP(0) + 16, DPX(1), 200, SGL_DATA, 0);
	gmem_put_sgl(&g, LP(0) + 32, LP(1), 32, SGL_SEG, 0);
	gmem_put_sgl(&g, LP(1), DPX(2), 300, SGL_DATA, 0);
	gmem_put_sgl(&g, LP(1) + 16, LP(2) + 8, 32, SGL_LAST, 0);
	gmem_put_sgl(&g, LP(2) + 8, DPX(3), 400, SGL_DATA, 0);
	gmem_put_sgl(&g, LP(2) + 24, DPX(4), 500, SGL_DATA, 0);
	ASSERT_EQ(sgl_walk1(LP(0), 48, SGL_SEG, 0, 1500, true),
		  VNVME_SC_SUCCESS);
	ASSERT_EQ(w.nr_segs, 5);
	EXPECT_SEG(0, DPX(0), 100, false);
	EXPECT_SEG(2, DPX(2), 300, false);
	EXPECT_SEG(4, DPX(4), 500, false);
	EXPECT_EQ(g.reads, 3);
	EXPECT_EQ(g.violations, 0);
}

static void sgl_bit_bucket_read(void)
{
	setup_default();
	gmem_put_sgl(&g, LP(0), DPX(0), 512, SGL_DATA, 0);
	gmem_put_sgl(&g, LP(0) + 16, 0xdead, 512, SGL_BB, 0);
	gmem_put_sgl(&g, LP(0) + 32, DPX(1), 3072, SGL_DATA, 0);
	ASSERT_EQ(sgl_walk1(LP(0), 48, SGL_LAST, 0, PG, false),
		  VNVME_SC_SUCCESS);
	ASSERT_EQ(w.nr_segs, 3);
	EXPECT_SEG(0, DPX(0), 512, false);
	EXPECT_SEG(1, 0, 512, true);
	EXPECT_SEG(2, DPX(1), 3072, false);

	/* A bit bucket may also be SGL1 itself */
	ASSERT_EQ(sgl_walk1(0, PG, SGL_BB, 0, PG, false), VNVME_SC_SUCCESS);
	EXPECT_EQ(w.nr_segs, 1);
	EXPECT_SEG(0, 0, PG, true);
}

/*
 * NVMe: a Bit Bucket describing a source buffer "shall be treated as if
 * [its length] were cleared to 0h", so on a write it is skipped, not an error.
 */
static void sgl_bit_bucket_write(void)
{
	setup_default();
	gmem_put_sgl(&g, LP(0), DPC(0), 512, SGL_DATA, 0);
	gmem_put_sgl(&g, LP(0) + 16, 0, 1000, SGL_BB, 0);
	gmem_put_sgl(&g, LP(0) + 32, DPC(0) + 512, 3584, SGL_DATA, 0);
	ASSERT_EQ(sgl_walk1(LP(0), 48, SGL_LAST, 0, PG, true),
		  VNVME_SC_SUCCESS);
	EXPECT_EQ(w.nr_segs, 1);
	EXPECT_SEG(0, DPC(0), PG, false);
	/* The same SGL on a read discards 1000 bytes and is then too long */
	EXPECT_EQ(sgl_walk1(LP(0), 48, SGL_LAST, 0, PG, false),
		  VNVME_SC_SGL_INVALID_DATA_LEN);
	/* A lone bit bucket describes nothing for a write: too short */
	EXPECT_EQ(sgl_walk1(0, PG, SGL_BB, 0, PG, true),
		  VNVME_SC_SGL_INVALID_DATA_LEN);
	/* Its sub type is still checked */
	EXPECT_EQ(sgl_walk1(0, PG, SGL_BB, 1, PG, true),
		  VNVME_SC_SGL_INVALID_TYPE);
}

static void sgl_bad_type(void)
{
	static const u8 bad[] = { 0x4, 0x5, 0x6, 0x9, 0xe, 0xf };
	unsigned int i;

	setup_default();
	for (i = 0; i < sizeof(bad); i++) {
		EXPECT_EQ(sgl_walk1(DPX(0), 512, bad[i], 0, 512, false),
			  VNVME_SC_SGL_INVALID_TYPE);
		gmem_put_sgl(&g, LP(0), DPX(0), 256, SGL_DATA, 0);
		gmem_put_sgl(&g, LP(0) + 16, DPX(1), 256, bad[i], 0);
		EXPECT_EQ(sgl_walk1(LP(0), 32, SGL_LAST, 0, 512, false),
			  VNVME_SC_SGL_INVALID_TYPE);
	}
}

static void sgl_bad_subtype(void)
{
	setup_default();
	/* Offset (1h) is fabrics only; Ah-Fh are transport specific */
	EXPECT_EQ(sgl_walk1(DPX(0), 512, SGL_DATA, 1, 512, false),
		  VNVME_SC_SGL_INVALID_TYPE);
	EXPECT_EQ(sgl_walk1(DPX(0), 512, SGL_DATA, 0xa, 512, false),
		  VNVME_SC_SGL_INVALID_TYPE);
	EXPECT_EQ(sgl_walk1(DPX(0), 0, SGL_DATA, 1, 512, false),
		  VNVME_SC_SGL_INVALID_TYPE);
	EXPECT_EQ(sgl_walk1(0, 512, SGL_BB, 1, 512, false),
		  VNVME_SC_SGL_INVALID_TYPE);
	gmem_put_sgl(&g, LP(0), DPX(0), 512, SGL_DATA, 0);
	EXPECT_EQ(sgl_walk1(LP(0), 16, SGL_SEG, 1, 512, false),
		  VNVME_SC_SGL_INVALID_TYPE);
	EXPECT_EQ(sgl_walk1(LP(0), 16, SGL_LAST, 0xf, 512, false),
		  VNVME_SC_SGL_INVALID_TYPE);
	gmem_put_sgl(&g, LP(0), DPX(0), 512, SGL_DATA, 2);
	EXPECT_EQ(sgl_walk1(LP(0), 16, SGL_LAST, 0, 512, false),
		  VNVME_SC_SGL_INVALID_TYPE);
	EXPECT_EQ(g.reads, 1);
}

static void sgl_seg_len_invalid(void)
{
	setup_default();
	gmem_put_sgl(&g, LP(0), DPX(0), 512, SGL_DATA, 0);
	EXPECT_EQ(sgl_walk1(LP(0), 0, SGL_SEG, 0, 512, false),
		  VNVME_SC_SGL_INVALID_LAST);
	EXPECT_EQ(sgl_walk1(LP(0), 24, SGL_LAST, 0, 512, false),
		  VNVME_SC_SGL_INVALID_LAST);
	EXPECT_EQ(sgl_walk1(LP(0), 17, SGL_SEG, 0, 512, false),
		  VNVME_SC_SGL_INVALID_LAST);
	EXPECT_EQ(sgl_walk1(LP(0), 8, SGL_LAST, 0, 512, false),
		  VNVME_SC_SGL_INVALID_LAST);
	/* Segments are qword aligned */
	EXPECT_EQ(sgl_walk1(LP(0) + 4, 16, SGL_LAST, 0, 512, false),
		  VNVME_SC_SGL_INVALID_LAST);
	/* ... also when named inside a segment */
	gmem_put_sgl(&g, LP(1), LP(0), 20, SGL_LAST, 0);
	EXPECT_EQ(sgl_walk1(LP(1), 16, SGL_SEG, 0, 512, false),
		  VNVME_SC_SGL_INVALID_LAST);
	EXPECT_EQ(g.reads, 1);
	EXPECT_EQ(sgl_walk1(LP(0), 16, SGL_LAST, 0, 512, false),
		  VNVME_SC_SUCCESS);
}

/* Qword alignment lets a descriptor straddle two guest pages */
static void sgl_seg_straddles_page(void)
{
	setup_default();
	gmem_put_sgl(&g, LP(0) + 0xff8, DPX(0), 100, SGL_DATA, 0);
	gmem_put_sgl(&g, LP(1) + 8, DPX(1), 200, SGL_DATA, 0);
	ASSERT_EQ(sgl_walk1(LP(0) + 0xff8, 32, SGL_LAST, 0, 300, false),
		  VNVME_SC_SUCCESS);
	EXPECT_EQ(w.nr_segs, 2);
	EXPECT_SEG(0, DPX(0), 100, false);
	EXPECT_SEG(1, DPX(1), 200, false);
	EXPECT_EQ(g.reads, 3);
	EXPECT_EQ(g.violations, 0);
}

static void sgl_segment_not_last(void)
{
	setup_default();
	gmem_put_sgl(&g, LP(0), DPX(0), 100, SGL_DATA, 0);
	gmem_put_sgl(&g, LP(0) + 16, LP(1), 16, SGL_SEG, 0);
	gmem_put_sgl(&g, LP(0) + 32, DPX(1), 100, SGL_DATA, 0);
	gmem_put_sgl(&g, LP(1), DPX(2), 100, SGL_DATA, 0);
	EXPECT_EQ(sgl_walk1(LP(0), 48, SGL_SEG, 0, 300, false),
		  VNVME_SC_SGL_INVALID_DESCS);
	gmem_put_sgl(&g, LP(0) + 16, LP(1), 16, SGL_LAST, 0);
	EXPECT_EQ(sgl_walk1(LP(0), 48, SGL_SEG, 0, 300, false),
		  VNVME_SC_SGL_INVALID_DESCS);
}

static void sgl_last_contains_segment(void)
{
	setup_default();
	gmem_put_sgl(&g, LP(0), DPX(0), 100, SGL_DATA, 0);
	gmem_put_sgl(&g, LP(0) + 16, LP(1), 16, SGL_SEG, 0);
	gmem_put_sgl(&g, LP(1), DPX(1), 100, SGL_DATA, 0);
	EXPECT_EQ(sgl_walk1(LP(0), 32, SGL_LAST, 0, 200, false),
		  VNVME_SC_SGL_INVALID_LAST);
	gmem_put_sgl(&g, LP(0) + 16, LP(1), 16, SGL_LAST, 0);
	EXPECT_EQ(sgl_walk1(LP(0), 32, SGL_LAST, 0, 200, false),
		  VNVME_SC_SGL_INVALID_LAST);
	/* The same chain is valid from a (non-last) Segment */
	EXPECT_EQ(sgl_walk1(LP(0), 32, SGL_SEG, 0, 200, false),
		  VNVME_SC_SUCCESS);
}

static void sgl_too_short(void)
{
	setup_default();
	EXPECT_EQ(sgl_walk1(DPX(0), 512, SGL_DATA, 0, 1024, false),
		  VNVME_SC_SGL_INVALID_DATA_LEN);
	gmem_put_sgl(&g, LP(0), DPX(0), 100, SGL_DATA, 0);
	gmem_put_sgl(&g, LP(0) + 16, DPX(1), 100, SGL_DATA, 0);
	EXPECT_EQ(sgl_walk1(LP(0), 32, SGL_LAST, 0, 201, false),
		  VNVME_SC_SGL_INVALID_DATA_LEN);
	/* A Segment whose segment ends without naming the next one */
	EXPECT_EQ(sgl_walk1(LP(0), 32, SGL_SEG, 0, 201, false),
		  VNVME_SC_SGL_INVALID_DATA_LEN);
	EXPECT_EQ(sgl_walk1(LP(0), 32, SGL_SEG, 0, 200, false),
		  VNVME_SC_SUCCESS);
}

/* SGLS bit 18 is clear, so an SGL longer than the transfer is rejected */
static void sgl_too_long(void)
{
	setup_default();
	EXPECT_EQ(sgl_walk1(DPX(0), 2048, SGL_DATA, 0, 1024, false),
		  VNVME_SC_SGL_INVALID_DATA_LEN);
	gmem_put_sgl(&g, LP(0), DPX(0), 100, SGL_DATA, 0);
	gmem_put_sgl(&g, LP(0) + 16, DPX(1), 100, SGL_DATA, 0);
	EXPECT_EQ(sgl_walk1(LP(0), 32, SGL_LAST, 0, 150, true),
		  VNVME_SC_SGL_INVALID_DATA_LEN);
	gmem_put_sgl(&g, LP(0) + 16, 0, 100, SGL_BB, 0);
	EXPECT_EQ(sgl_walk1(LP(0), 32, SGL_LAST, 0, 150, false),
		  VNVME_SC_SGL_INVALID_DATA_LEN);
}

/* Descriptors after the one that completes the transfer are not examined */
static void sgl_trailing_not_examined(void)
{
	setup_default();
	gmem_put_sgl(&g, LP(0), DPX(0), 1024, SGL_DATA, 0);
	gmem_put_sgl(&g, LP(0) + 16, DPX(1), 5, 0xe, 7);
	gmem_put_sgl(&g, LP(0) + 32, LP(0), 17, SGL_SEG, 0);
	EXPECT_EQ(sgl_walk1(LP(0), 48, SGL_SEG, 0, 1024, false),
		  VNVME_SC_SUCCESS);
	EXPECT_EQ(w.nr_segs, 1);
}

static void sgl_zero_length_descs(void)
{
	setup_default();
	gmem_put_sgl(&g, LP(0), 0xffffffffffffffffull, 0, SGL_DATA, 0);
	gmem_put_sgl(&g, LP(0) + 16, 0, 0, SGL_DATA, 0);	/* NULL */
	gmem_put_sgl(&g, LP(0) + 32, 0, 0, SGL_BB, 0);
	gmem_put_sgl(&g, LP(0) + 48, DPC(0), 512, SGL_DATA, 0);
	gmem_put_sgl(&g, LP(0) + 64, DPX(9), 0, SGL_DATA, 0);
	gmem_put_sgl(&g, LP(0) + 80, DPC(0) + 512, 512, SGL_DATA, 0);
	ASSERT_EQ(sgl_walk1(LP(0), 96, SGL_LAST, 0, 1024, false),
		  VNVME_SC_SUCCESS);
	EXPECT_EQ(w.nr_segs, 1);
	EXPECT_SEG(0, DPC(0), 1024, false);
	/* SGL1 describing nothing */
	EXPECT_EQ(sgl_walk1(DPX(0), 0, SGL_DATA, 0, 512, false),
		  VNVME_SC_SGL_INVALID_DATA_LEN);
}

static void sgl_loop(void)
{
	unsigned int i;

	/* A segment naming itself after a zero-length descriptor */
	setup(MAX_SEGS, 1024);
	gmem_put_sgl(&g, LP(0), DPX(0), 0, SGL_DATA, 0);
	gmem_put_sgl(&g, LP(0) + 16, LP(0), 32, SGL_SEG, 0);
	EXPECT_EQ(sgl_walk1(LP(0), 32, SGL_SEG, 0, PG, false),
		  VNVME_SC_SGL_INVALID_DESCS);
	EXPECT_EQ(g.reads, 1024);

	/* Two segments naming each other */
	setup(MAX_SEGS, 50);
	gmem_put_sgl(&g, LP(0), LP(1), 16, SGL_SEG, 0);
	gmem_put_sgl(&g, LP(1), LP(0), 16, SGL_SEG, 0);
	EXPECT_EQ(sgl_walk1(LP(0), 16, SGL_SEG, 0, PG, false),
		  VNVME_SC_SGL_INVALID_DESCS);
	EXPECT_EQ(g.reads, 50);

	/* A whole page of NULL descriptors and a pointer back to it */
	setup(MAX_SEGS, 1024);
	for (i = 0; i < 255; i++)
		gmem_put_sgl(&g, LP(0) + 16 * i, 0, 0, SGL_DATA, 0);
	gmem_put_sgl(&g, LP(0) + 16 * 255, LP(0), PG, SGL_SEG, 0);
	EXPECT_EQ(sgl_walk1(LP(0), PG, SGL_SEG, 0, PG, false),
		  VNVME_SC_SGL_INVALID_DESCS);
	EXPECT_EQ(g.reads, 1024);
	EXPECT_EQ(g.violations, 0);
}

static void sgl_max_segs_overflow(void)
{
	unsigned int i;

	setup(3, 1024);
	for (i = 0; i < 4; i++)
		gmem_put_sgl(&g, LP(0) + 16 * i, DPX(i), 10, SGL_DATA, 0);
	EXPECT_EQ(sgl_walk1(LP(0), 64, SGL_LAST, 0, 40, false),
		  VNVME_SC_SGL_INVALID_DESCS);
	EXPECT(w.nr_segs <= 3);
	for (i = 0; i < 4; i++)
		gmem_put_sgl(&g, LP(0) + 16 * i, DPC(0) + 10 * i, 10,
			     SGL_DATA, 0);
	w.max_segs = 1;
	EXPECT_EQ(sgl_walk1(LP(0), 64, SGL_LAST, 0, 40, false),
		  VNVME_SC_SUCCESS);
	EXPECT_EQ(w.nr_segs, 1);
	w.max_segs = 0;
	EXPECT_EQ(sgl_walk1(0, 40, SGL_BB, 0, 40, false),
		  VNVME_SC_SGL_INVALID_DESCS);
}

static void sgl_read_failure(void)
{
	setup_default();
	EXPECT_EQ(sgl_walk1(GBASE + GSIZE, 32, SGL_LAST, 0, 512, false),
		  VNVME_SC_DATA_XFER_ERROR);
	gmem_put_sgl(&g, LP(0), DPX(0), 100, SGL_DATA, 0);
	gmem_put_sgl(&g, LP(0) + 16, GBASE - 64, 64, SGL_LAST, 0);
	EXPECT_EQ(sgl_walk1(LP(0), 32, SGL_SEG, 0, 512, false),
		  VNVME_SC_DATA_XFER_ERROR);
	gmem_put_sgl(&g, LP(0) + 16, LP(1), 16, SGL_LAST, 0);
	gmem_put_sgl(&g, LP(1), DPX(1), 412, SGL_DATA, 0);
	g.reads = 0;
	g.fail_nth = 2;
	EXPECT_EQ(sgl_walk1(LP(0), 32, SGL_SEG, 0, 512, false),
		  VNVME_SC_DATA_XFER_ERROR);
	g.fail_nth = 0;
	EXPECT_EQ(sgl_walk1(LP(0), 32, SGL_SEG, 0, 512, false),
		  VNVME_SC_SUCCESS);
}

static void sgl_addr_wrap(void)
{
	setup_default();
	EXPECT_EQ(sgl_walk1(0xffffffffffffff00ull, 0x100, SGL_DATA, 0, 0x100,
			    false), VNVME_SC_SGL_INVALID_DATA_LEN);
	EXPECT_EQ(sgl_walk1(0xffffffffffffff00ull, 0xff, SGL_DATA, 0, 0xff,
			    false), VNVME_SC_SUCCESS);
	EXPECT_EQ(sgl_walk1(0xfffffffffffffff0ull, 0x20, SGL_LAST, 0, 0x100,
			    false), VNVME_SC_SGL_INVALID_DATA_LEN);
	EXPECT_EQ(g.reads, 0);
}

static void sgl_merge(void)
{
	setup_default();
	gmem_put_sgl(&g, LP(0), DPC(0), 100, SGL_DATA, 0);
	gmem_put_sgl(&g, LP(0) + 16, DPC(0) + 100, 100, SGL_DATA, 0);
	gmem_put_sgl(&g, LP(0) + 32, 0, 50, SGL_BB, 0);
	gmem_put_sgl(&g, LP(0) + 48, 0, 50, SGL_BB, 0);
	gmem_put_sgl(&g, LP(0) + 64, DPC(0) + 200, 100, SGL_DATA, 0);
	ASSERT_EQ(sgl_walk1(LP(0), 80, SGL_LAST, 0, 400, false),
		  VNVME_SC_SUCCESS);
	EXPECT_EQ(w.nr_segs, 3);
	EXPECT_SEG(0, DPC(0), 200, false);
	EXPECT_SEG(1, 0, 100, true);
	/* Not merged across the bit bucket, even though contiguous */
	EXPECT_SEG(2, DPC(0) + 200, 100, false);
	/* On a write the bit buckets vanish and all data merges */
	ASSERT_EQ(sgl_walk1(LP(0), 80, SGL_LAST, 0, 300, true),
		  VNVME_SC_SUCCESS);
	EXPECT_EQ(w.nr_segs, 1);
	EXPECT_SEG(0, DPC(0), 300, false);
}

static void sgl_chunked_segment(void)
{
	unsigned int i;

	setup_default();
	for (i = 0; i < 100; i++)
		gmem_put_sgl(&g, LP(0) + 16 * i, DPX(i), 10, SGL_DATA, 0);
	ASSERT_EQ(sgl_walk1(LP(0), 100 * 16, SGL_LAST, 0, 1000, false),
		  VNVME_SC_SUCCESS);
	ASSERT_EQ(w.nr_segs, 100);
	for (i = 0; i < 100; i++)
		EXPECT_SEG(i, DPX(i), 10, false);
	EXPECT_EQ(g.reads, 4);
	EXPECT_EQ(g.bytes, 1600);
	/* Stops reading once the transfer is described */
	g.reads = 0;
	g.bytes = 0;
	ASSERT_EQ(sgl_walk1(LP(0), 100 * 16, SGL_LAST, 0, 300, false),
		  VNVME_SC_SUCCESS);
	EXPECT_EQ(w.nr_segs, 30);
	EXPECT_EQ(g.reads, 1);
}

static void sgl_large_2mib(void)
{
	unsigned int i;

	setup_default();
	/* 512 descriptors cross into a second segment page */
	for (i = 0; i < 255; i++)
		gmem_put_sgl(&g, LP(0) + 16 * i, DPX(i), PG, SGL_DATA, 0);
	gmem_put_sgl(&g, LP(0) + 16 * 255, LP(1), 257 * 16, SGL_LAST, 0);
	for (i = 0; i < 257; i++)
		gmem_put_sgl(&g, LP(1) + 16 * i, DPX(255 + i), PG, SGL_DATA, 0);
	ASSERT_EQ(sgl_walk1(LP(0), PG, SGL_SEG, 0, 2u << 20, false),
		  VNVME_SC_SUCCESS);
	ASSERT_EQ(w.nr_segs, 512);
	for (i = 0; i < 512; i++)
		EXPECT_SEG(i, DPX(i), PG, false);
	EXPECT_EQ(g.violations, 0);
}

static void sgl_len_zero(void)
{
	setup_default();
	EXPECT_EQ(sgl_walk1(DPX(0), 0, SGL_DATA, 0, 0, false),
		  VNVME_SC_INVALID_FIELD);
}

static const struct ktap_case cases[] = {
	KTAP_CASE(prp_single_page),
	KTAP_CASE(prp_offset_in_prp1),
	KTAP_CASE(prp_two_pages_exact),
	KTAP_CASE(prp_prp2_offset_error),
	KTAP_CASE(prp1_misaligned),
	KTAP_CASE(prp_list_with_offset),
	KTAP_CASE(prp_list_ptr_misaligned),
	KTAP_CASE(prp_list_exact_fill),
	KTAP_CASE(prp_chain_2_levels),
	KTAP_CASE(prp_chain_3_levels),
	KTAP_CASE(prp_chain_ptr_offset),
	KTAP_CASE(prp_list_entry_misaligned),
	KTAP_CASE(prp_loop_self),
	KTAP_CASE(prp_max_segs_overflow),
	KTAP_CASE(prp_guest_read_failure),
	KTAP_CASE(prp_merge_contiguous),
	KTAP_CASE(prp_large_2mib),
	KTAP_CASE(prp_top_of_address_space),
	KTAP_CASE(prp_len_zero),
	KTAP_CASE(sgl_data_block),
	KTAP_CASE(sgl_unaligned_sgl1),
	KTAP_CASE(sgl_last_segment),
	KTAP_CASE(sgl_segment_chain),
	KTAP_CASE(sgl_bit_bucket_read),
	KTAP_CASE(sgl_bit_bucket_write),
	KTAP_CASE(sgl_bad_type),
	KTAP_CASE(sgl_bad_subtype),
	KTAP_CASE(sgl_seg_len_invalid),
	KTAP_CASE(sgl_seg_straddles_page),
	KTAP_CASE(sgl_segment_not_last),
	KTAP_CASE(sgl_last_contains_segment),
	KTAP_CASE(sgl_too_short),
	KTAP_CASE(sgl_too_long),
	KTAP_CASE(sgl_trailing_not_examined),
	KTAP_CASE(sgl_zero_length_descs),
	KTAP_CASE(sgl_loop),
	KTAP_CASE(sgl_max_segs_overflow),
	KTAP_CASE(sgl_read_failure),
	KTAP_CASE(sgl_addr_wrap),
	KTAP_CASE(sgl_merge),
	KTAP_CASE(sgl_chunked_segment),
	KTAP_CASE(sgl_large_2mib),
	KTAP_CASE(sgl_len_zero),
};

int main(int argc, char **argv)
{
	int ret = ktap_run(cases, (int)(sizeof(cases) / sizeof(cases[0])),
			   argc, argv);

	gmem_free(&g);
	return ret;
}
