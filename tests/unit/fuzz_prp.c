// SPDX-License-Identifier: GPL-2.0
/* fuzz_prp.c - fuzz target for the PRP/SGL walker: libFuzzer or standalone */

/*
 * Each input picks PRP1/PRP2/SGL1, a length, limits and a seed for a 1 MiB
 * fake guest address space whose pages hold generated PRP lists, SGL
 * segments, random bytes or holes (reads outside it or in a hole fail).
 * Input bytes past the header are overlaid on guest memory so libFuzzer
 * can steer list contents directly.
 *
 * Checked on every run: the read() contract (len, wrap, one page), the read
 * budget, nr_segs <= max_segs (segs is malloc'ed at exactly max_segs so ASan
 * sees any overrun) and, on success, that the extents add up to len, have no
 * wrap, are maximally merged and, for PRP, are page-shaped.  The result is
 * also compared with a deliberately naive reference walker that reads one
 * entry or descriptor at a time.
 *
 * Build with clang -fsanitize=fuzzer -DVNVME_LIBFUZZER, or with any compiler
 * as a standalone driver: fuzz_prp [-n iterations] [-s seed] [-i iteration].
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kshim.h"
#include "prp.h"

#define FZ_BASE		0x40000000ull
#define FZ_SIZE		(1u << 20)
#define FZ_PAGE		4096u
#define FZ_PAGES	(FZ_SIZE / FZ_PAGE)
#define FZ_MAX_OVL	4096u
#define REF_CAPPED	0xffff	/* reference walker gave up (loop) */

struct fz {
	u64 seed;
	const u8 *ovl;
	u32 ovl_len;
	u64 ovl_addr;
	unsigned int reads;
};

/* Standalone driver: the iteration to replay with -s SEED -i ITER */
static unsigned long long cur_iter = ~0ull, cur_seed;

static void fz_die(const char *what)
{
	fprintf(stderr, "fuzz_prp: invariant violated: %s\n", what);
	if (cur_iter != ~0ull)
		fprintf(stderr, "fuzz_prp: reproduce with -s %llu -i %llu\n",
			cur_seed, cur_iter);
	abort();
}

#define CHECK(c) do { if (!(c)) fz_die(#c); } while (0)

static u64 mix64(u64 x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static u64 h2(u64 a, u64 b)
{
	return mix64(a ^ mix64(b));
}

/*
 * Page kinds of the fake guest memory.  Kinds repeat every 8 pages (rotated
 * by the seed) so that generated pointers can aim at a page of the kind they
 * need; 1 page in 32 is a hole (unmapped).
 */
enum { PG_PRP, PG_SGL, PG_RANDOM, PG_ZERO, PG_MIXED, PG_HOLE };
static const int kind_of[8] = {
	PG_PRP, PG_PRP, PG_SGL, PG_SGL, PG_SGL, PG_RANDOM, PG_ZERO, PG_MIXED
};

static int page_kind(const struct fz *f, u64 pg)
{
	if (h2(f->seed, pg) % 32 == 0)
		return PG_HOLE;
	return kind_of[(pg + (f->seed >> 8)) % 8];
}

static bool mapped(const struct fz *f, u64 addr)
{
	return addr >= FZ_BASE && addr - FZ_BASE < FZ_SIZE &&
	       page_kind(f, (addr - FZ_BASE) / FZ_PAGE) != PG_HOLE;
}

/* Address of a random page of kind @want (PG_PRP or PG_SGL) */
static u64 pick_page(const struct fz *f, u64 h, int want)
{
	u64 pg = (h >> 8) % FZ_PAGES, rot = (f->seed >> 8) % 8, k, t;

	t = want == PG_PRP ? (h >> 40) % 2 : 2 + (h >> 40) % 3;
	k = (pg + rot) % 8;
	pg = pg - k + t;
	if (pg >= FZ_PAGES)
		pg -= 8;
	return FZ_BASE + pg * FZ_PAGE;
}

/* A pointer as a buggy or hostile guest might write it */
static u64 gen_ptr(const struct fz *f, u64 h, u64 here, int want)
{
	u64 pg = pick_page(f, h, want);
	unsigned int r = h % 100;

	if (r < 60)
		return pg;
	if (r < 68)
		return pg + ((h >> 44) & 0xff8);
	if (r < 72)
		return pg + ((h >> 44) & 0xfff);
	if (r < 80)
		return here & ~(u64)(FZ_PAGE - 1);	/* loops back */
	if (r < 85)
		return FZ_BASE + FZ_SIZE + ((h >> 20) & 0xf) * FZ_PAGE;
	if (r < 88)
		return FZ_BASE - FZ_PAGE;
	if (r < 92)
		return 0xfffffffffffff000ull - ((h >> 20) & 1) * FZ_PAGE +
		       ((h >> 30) & 1) * 0xff8;
	if (r < 94)
		return 0;
	return mix64(h);
}

static u32 gen_len(u64 h)
{
	switch (h % 8) {
	case 0:
		return 0;
	case 1:
		return (u32)(h >> 8) % 64 + 1;
	case 2:
	case 3:
		return ((u32)(h >> 8) % 16 + 1) * 512;
	case 4:
		return (u32)(h >> 8) % 9000;
	case 5:
		return ((u32)(h >> 8) % 64 + 1) * FZ_PAGE;
	case 6:
		return (u32)(h >> 8) % (1u << 20);
	default:
		return (u32)(h >> 16);
	}
}

static void put_le64(u8 *p, u64 v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (u8)(v >> (8 * i));
}

static void put_le32(u8 *p, u32 v)
{
	int i;

	for (i = 0; i < 4; i++)
		p[i] = (u8)(v >> (8 * i));
}

static void mk_desc(u8 d[16], u64 addr, u32 len, u8 type, u8 sub)
{
	memset(d, 0, 16);
	put_le64(d, addr);
	put_le32(d + 8, len);
	d[15] = (u8)(type << 4 | (sub & 0xf));
}

/*
 * A (Last) Segment descriptor.  Segments mostly start on a 128-byte
 * boundary and span a multiple of 8 descriptors, so that their last slot is
 * one where the generator likes to put the next segment descriptor.
 */
static void gen_seg_desc(const struct fz *f, u64 h, u64 here, u8 d[16])
{
	u64 h1 = mix64(h), addr;
	u32 len;

	addr = pick_page(f, h1, PG_SGL) + ((h1 >> 32) % 32) * 128;
	len = ((u32)(h1 >> 48) % 8 + 1) * 128;
	switch (h % 16) {
	case 0:
		addr = gen_ptr(f, h1, here, PG_SGL);
		break;
	case 1:
		addr += 8;			/* qword aligned only */
		break;
	case 2:
		len = ((u32)(h1 >> 20) % 300 + 1) * 16;
		break;
	case 3:
		len = (u32)(h1 >> 20) % 70;	/* often invalid */
		break;
	case 4:
		addr = here & ~(u64)127;	/* loops back */
		break;
	}
	mk_desc(d, addr, len, (h >> 8) % 3 ? 0x2 : 0x3,
		(h >> 12) % 64 ? 0 : (u8)(h >> 16));
}

/* A data-carrying or malformed SGL descriptor */
static void gen_desc(const struct fz *f, u64 h, u64 here, u8 d[16])
{
	u64 h1 = mix64(h);
	unsigned int r = h % 100;
	u8 sub = (h1 % 64) ? 0 : (u8)(h1 >> 8) & 0xf;
	u32 len = gen_len(h1 >> 3);
	u64 addr = mix64(h1) & 0xfffffffffull;

	if (r < 60) {
		mk_desc(d, addr, len, 0x0, sub);
	} else if (r < 72) {
		mk_desc(d, 0, len, 0x1, sub);
	} else if (r < 82) {
		mk_desc(d, 0, 0, 0x0, 0);	/* NULL descriptor */
	} else if (r < 90) {
		gen_seg_desc(f, h1, here, d);
	} else if (r < 94) {
		mk_desc(d, gen_ptr(f, h1, here, PG_SGL), len,
			(u8)(4 + (h1 >> 16) % 12), sub);
	} else if (r < 96) {
		mk_desc(d, 0xffffffffffffffffull - (h1 >> 40) % 4096, len,
			0x0, 0);
	} else {
		put_le64(d, mix64(h1));
		put_le64(d + 8, mix64(h1 + 1));
	}
}

/* Contents of the 16-byte slot at @a (16-byte aligned, mapped). */
static void gen_slot(const struct fz *f, u64 a, u8 out[16])
{
	u64 pg = (a - FZ_BASE) / FZ_PAGE;
	u64 h = h2(f->seed ^ 0x51075107ull, a);
	/* Per page error rate: none, 1/1000, 1/100 or 1/10 of the slots */
	static const unsigned int bad_per_mille[4] = { 0, 0, 1, 20 };
	unsigned int bad = bad_per_mille[h2(f->seed, pg + 7777) % 4];
	int kind = page_kind(f, pg), i;

	if (kind == PG_MIXED)
		kind = (h & 1) ? PG_PRP : PG_SGL;
	switch (kind) {
	case PG_PRP:
		for (i = 0; i < 2; i++) {
			u64 hh = mix64(h + i);

			if ((hh >> 50) % 1000 < bad)
				put_le64(out + 8 * i, gen_ptr(f, hh, a, PG_PRP));
			else if (hh % 10 == 0)
				put_le64(out + 8 * i, a & ~(u64)(FZ_PAGE - 1));
			else
				put_le64(out + 8 * i, pick_page(f, hh, PG_PRP));
		}
		break;
	case PG_SGL:
		if ((h >> 50) % 1000 < bad)
			gen_desc(f, h, a, out);
		else if ((a / 16) % 8 == 7 ? h % 2 : h % 32 == 0)
			gen_seg_desc(f, mix64(h) & ~(u64)0xf0f, a, out);
		else if (h % 10 < 8)
			mk_desc(out, mix64(h) & 0xfffffffffull,
				((u32)(h >> 20) % 8 + 1) * 512 -
				(h % 7 == 0) * ((u32)(h >> 40) % 512), 0x0, 0);
		else if (h % 10 == 8)
			mk_desc(out, 0, (u32)(h >> 20) % 4096 + 1, 0x1, 0);
		else
			mk_desc(out, 0, 0, 0x0, 0);
		break;
	case PG_RANDOM:
		put_le64(out, mix64(h));
		put_le64(out + 8, mix64(h + 1));
		break;
	default:
		memset(out, 0, 16);
	}
}

/* Raw guest memory access shared by the walker callback and the reference */
static int fz_mem(const struct fz *f, u64 addr, u8 *buf, u32 len)
{
	u64 a, slot_at = 1, page_at = 1;
	u8 slot[16];
	u32 i;

	if (len > ~(u64)0 - addr)
		return -14;
	for (i = 0; i < len; i++) {
		a = addr + i;
		if ((a & ~(u64)(FZ_PAGE - 1)) != page_at) {
			if (!mapped(f, a))
				return -14;
			page_at = a & ~(u64)(FZ_PAGE - 1);
		}
		if ((a & ~(u64)15) != slot_at) {
			slot_at = a & ~(u64)15;
			gen_slot(f, slot_at, slot);
		}
		buf[i] = slot[a & 15];
		if (a - f->ovl_addr < f->ovl_len)
			buf[i] = f->ovl[a - f->ovl_addr];
	}
	return 0;
}

static int fz_read(void *opaque, u64 addr, void *buf, u32 len)
{
	struct fz *f = opaque;

	/* The contract documented for vnvme_guest_read_t */
	CHECK(len > 0 && len <= 512);
	CHECK(len <= ~(u64)0 - addr);
	CHECK(addr / FZ_PAGE == (addr + len - 1) / FZ_PAGE);
	f->reads++;
	memset(buf, 0xee, len);
	return fz_mem(f, addr, buf, len);
}

/* ------------------------------------------- naive reference walkers -- */

struct ref {
	struct vnvme_dma_seg *segs;
	unsigned int max_segs, nr_segs;
};

static bool ref_add(struct ref *r, u64 addr, u32 len, bool bb)
{
	struct vnvme_dma_seg *p = r->nr_segs ? &r->segs[r->nr_segs - 1] : NULL;

	if (!r->segs)		/* only measuring the SGL length */
		return true;

	if (p && p->bit_bucket == bb && (bb || p->addr + p->len == addr)) {
		p->len += len;
		return true;
	}
	if (r->nr_segs == r->max_segs)
		return false;
	r->segs[r->nr_segs].addr = bb ? 0 : addr;
	r->segs[r->nr_segs].len = len;
	r->segs[r->nr_segs].bit_bucket = bb;
	r->nr_segs++;
	return true;
}

static u64 rd_le64(const u8 *p)
{
	u64 v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v |= (u64)p[i] << (8 * i);
	return v;
}

/* PRP, one entry at a time, following the spec's prose literally. */
static u16 ref_prp(const struct fz *f, struct ref *r, u64 prp1, u64 prp2,
		   u32 len, u64 cap)
{
	u64 rem, cur, e, n;
	u8 b[8];

	if (!len)
		return VNVME_SC_INVALID_FIELD;
	if (prp1 & 3)
		return VNVME_SC_INVALID_PRP_OFFSET;
	n = FZ_PAGE - prp1 % FZ_PAGE;
	if (n > len)
		n = len;
	if (prp1 + n < prp1 || prp1 + n == 0)
		return VNVME_SC_DATA_XFER_ERROR;
	if (!ref_add(r, prp1, (u32)n, false))
		return VNVME_SC_INVALID_FIELD;
	rem = len - n;
	if (!rem)
		return 0;
	if (rem <= FZ_PAGE) {
		if (prp2 % FZ_PAGE)
			return VNVME_SC_INVALID_PRP_OFFSET;
		if (prp2 + rem < prp2 || prp2 + rem == 0)
			return VNVME_SC_DATA_XFER_ERROR;
		return ref_add(r, prp2, (u32)rem, false) ? 0 :
		       VNVME_SC_INVALID_FIELD;
	}
	if (prp2 % 8)
		return VNVME_SC_INVALID_PRP_OFFSET;
	for (cur = prp2; rem; ) {
		if (!cap--)
			return REF_CAPPED;
		if (cur + 8 < cur || cur + 8 == 0 || fz_mem(f, cur, b, 8))
			return VNVME_SC_DATA_XFER_ERROR;
		e = rd_le64(b);
		if (e % FZ_PAGE)
			return VNVME_SC_INVALID_PRP_OFFSET;
		/* The last entry of a list page chains if more than one remains */
		if (cur % FZ_PAGE == FZ_PAGE - 8 && rem > FZ_PAGE) {
			cur = e;
			continue;
		}
		n = rem < FZ_PAGE ? rem : FZ_PAGE;
		if (e + n < e || e + n == 0)
			return VNVME_SC_DATA_XFER_ERROR;
		if (!ref_add(r, e, (u32)n, false))
			return VNVME_SC_INVALID_FIELD;
		rem -= n;
		cur += 8;
	}
	return 0;
}

/* SGL, one descriptor at a time; *remp is the length still to describe */
static u16 ref_sgl_core(const struct fz *f, struct ref *r, const u8 *sgl1,
			u64 *remp, bool wr, u64 cap)
{
	u64 seg_pos = 0, seg_end = 0, addr;
	bool in_last = false, have_seg = false, last_of_seg;
	const u8 *d = sgl1;
	u8 b[16];
	u32 dlen;
	u8 type, sub;

	if (!*remp)
		return VNVME_SC_INVALID_FIELD;
	last_of_seg = true;	/* SGL1 is alone in its "segment" */
	for (;;) {
		if (!*remp)
			return 0;
		if (have_seg) {
			if (seg_pos == seg_end)
				return VNVME_SC_SGL_INVALID_DATA_LEN;
			if (!cap--)
				return REF_CAPPED;
			if (fz_mem(f, seg_pos, b, 16))
				return VNVME_SC_DATA_XFER_ERROR;
			d = b;
			last_of_seg = seg_pos + 16 == seg_end;
			seg_pos += 16;
		}
		addr = rd_le64(d);
		dlen = (u32)d[8] | (u32)d[9] << 8 | (u32)d[10] << 16 |
		       (u32)d[11] << 24;
		type = d[15] >> 4;
		sub = d[15] & 0xf;
		if (type > 3 || sub)
			return VNVME_SC_SGL_INVALID_TYPE;
		if (type == 0 || type == 1) {
			if (type == 1 && wr)
				dlen = 0;
			if (dlen) {
				if (dlen > *remp)
					return VNVME_SC_SGL_INVALID_DATA_LEN;
				if (type == 0 && (addr + dlen < addr ||
						  addr + dlen == 0))
					return VNVME_SC_SGL_INVALID_DATA_LEN;
				if (!ref_add(r, addr, dlen, type == 1))
					return VNVME_SC_SGL_INVALID_DESCS;
				*remp -= dlen;
			}
			if (!have_seg && d == sgl1) {
				/* SGL1 was data: nothing follows it */
				return *remp ? VNVME_SC_SGL_INVALID_DATA_LEN : 0;
			}
			continue;
		}
		if (in_last)
			return VNVME_SC_SGL_INVALID_LAST;
		if (!last_of_seg)
			return VNVME_SC_SGL_INVALID_DESCS;
		if (dlen == 0 || dlen % 16 || addr % 8)
			return VNVME_SC_SGL_INVALID_LAST;
		if (addr + dlen < addr || addr + dlen == 0)
			return VNVME_SC_SGL_INVALID_DATA_LEN;
		have_seg = true;
		in_last = type == 3;
		seg_pos = addr;
		seg_end = addr + dlen;
	}
}

/* Also reports how many bytes the SGL described before it stopped */
static u16 ref_sgl(const struct fz *f, struct ref *r, const u8 *sgl1,
		   u32 len, bool wr, u64 cap, u64 *described)
{
	u64 rem = len;
	u16 sc = ref_sgl_core(f, r, sgl1, &rem, wr, cap);

	*described = len - rem;
	return sc;
}

/* --------------------------------------------------------- the target -- */

struct rd {
	const u8 *p;
	size_t n;
};

static u64 take(struct rd *rd, unsigned int bytes)
{
	u64 v = 0;
	unsigned int i;

	for (i = 0; i < bytes; i++) {
		v |= (u64)(rd->n ? *rd->p : 0) << (8 * i);
		if (rd->n) {
			rd->p++;
			rd->n--;
		}
	}
	return v;
}

#define SEG_POOL	4097u
static struct vnvme_dma_seg *seg_pool, *rseg_pool;
static unsigned long long stat_runs[2], stat_ok[2], stat_sc[2][32];
static unsigned long long stat_budget[2], stat_reads;

static void check_segs(const struct vnvme_dptr_walk *w, bool sgl, bool wr,
		       u64 prp1, u32 len)
{
	u64 total = 0;
	unsigned int i;

	for (i = 0; i < w->nr_segs; i++) {
		const struct vnvme_dma_seg *s = &w->segs[i];

		CHECK(s->len > 0);
		total += s->len;
		if (s->bit_bucket)
			CHECK(sgl && !wr);
		else
			CHECK(s->len <= ~(u64)0 - s->addr);
		if (i) {
			const struct vnvme_dma_seg *p = &w->segs[i - 1];

			CHECK(!(p->bit_bucket && s->bit_bucket));
			CHECK(p->bit_bucket || s->bit_bucket ||
			      p->addr + p->len != s->addr);
		}
		if (!sgl) {
			CHECK(i || s->addr == prp1);
			CHECK(!i || s->addr % FZ_PAGE == 0);
			CHECK(i + 1 == w->nr_segs ||
			      (s->addr + s->len) % FZ_PAGE == 0);
		}
	}
	CHECK(total == len);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct rd rd = { data, size };
	struct vnvme_dptr_walk w = { 0 };
	struct vnvme_dma_seg *rsegs;
	struct ref r = { 0 };
	struct fz f = { 0 };
	u8 flags, sgl1[16];
	u64 prp1, prp2, cap, x = 0, described;
	u16 sc, rsc;
	bool sgl, wr, budget_hit;
	u32 len;
	int i;

	flags = (u8)take(&rd, 1);
	f.seed = take(&rd, 4);
	len = (u32)take(&rd, 4);
	prp1 = take(&rd, 8);
	prp2 = take(&rd, 8);
	for (i = 0; i < 16; i++)
		sgl1[i] = (u8)take(&rd, 1);
	w.max_list_reads = (unsigned int)take(&rd, 2);
	w.max_segs = (unsigned int)take(&rd, 2);
	f.ovl_addr = FZ_BASE + take(&rd, 4) % FZ_SIZE;
	f.ovl = rd.p;
	f.ovl_len = rd.n < FZ_MAX_OVL ? (u32)rd.n : FZ_MAX_OVL;

	sgl = flags & 1;
	wr = flags & 2;
	/* Bias the raw fields towards structures that reach deep paths */
	switch ((flags >> 2) & 3) {
	case 0:
		len = len % 16384 + 1;
		break;
	case 1:
		len = len % (8u << 20) + 1;
		break;
	case 2:
		len = (len % 2048 + 1) * FZ_PAGE - (len >> 24) % 8 * 4;
		break;
	default:
		break;
	}
	switch ((flags >> 4) & 3) {
	case 0:
		w.max_list_reads = 1024;
		break;
	case 1:
		w.max_list_reads %= 16;
		break;
	default:
		w.max_list_reads %= 4096;
		break;
	}
	switch (flags >> 6) {
	case 0:
		w.max_segs = 4096;
		break;
	case 1:
		w.max_segs %= 9;
		break;
	default:
		w.max_segs %= 4097;
		break;
	}
	/* Mostly structured pointers; raw input bits 1 time in 8 */
	if ((f.seed >> 4) % 8) {
		prp1 = gen_ptr(&f, prp1, FZ_BASE, PG_PRP);
		prp2 = gen_ptr(&f, prp2, FZ_BASE, PG_PRP);
		x = rd_le64(sgl1) ^ f.seed;
		switch (x % 20) {
		case 0 ... 8:
			gen_seg_desc(&f, mix64(x), FZ_BASE, sgl1);
			break;
		case 9 ... 16:
			mk_desc(sgl1, prp1, len, 0x0, 0);
			break;
		case 17 ... 18:
			mk_desc(sgl1, 0, len, 0x1, 0);
			break;
		default:
			gen_desc(&f, mix64(x), FZ_BASE, sgl1);
		}
	}
	w.read = fz_read;
	w.opaque = &f;
	r.max_segs = 0;
	cap = (u64)w.max_list_reads * 64 + 64;

	/*
	 * Random lengths almost never match a generated SGL: measure what the
	 * SGL describes with the reference walker and aim at, just under or
	 * just over that length.
	 */
	if (sgl && ((flags >> 2) & 3) >= 2) {
		r.segs = NULL;
		r.max_segs = 0;
		ref_sgl(&f, &r, sgl1, ~0u, wr, cap, &described);
		if (described && described < ~0u) {
			len = (u32)described;
			if ((x >> 8) % 4 == 2)
				len--;
			else if ((x >> 8) % 4 == 3)
				len++;
			if (!len)
				len = 1;
		}
	}

	/*
	 * The last max_segs entries of a heap block: ASan flags any write
	 * past max_segs as a heap overflow.
	 */
	if (!seg_pool) {
		seg_pool = malloc(sizeof(*seg_pool) * SEG_POOL);
		rseg_pool = malloc(sizeof(*rseg_pool) * SEG_POOL);
		if (!seg_pool || !rseg_pool)
			abort();
	}
	w.segs = seg_pool + SEG_POOL - w.max_segs;
	rsegs = rseg_pool + SEG_POOL - w.max_segs;
	w.nr_segs = 12345;

	if (sgl)
		sc = vnvme_sgl_walk(&w, sgl1, len, wr);
	else
		sc = vnvme_prp_walk(&w, prp1, prp2, len);

	CHECK(f.reads <= w.max_list_reads);
	CHECK(w.nr_segs <= w.max_segs);
	if (!sc)
		check_segs(&w, sgl, wr, prp1, len);

	/*
	 * Differential check.  When the walker spent its whole read budget
	 * the outcomes may legitimately differ, so only compare otherwise.
	 */
	budget_hit = f.reads == w.max_list_reads &&
		     sc == (sgl ? VNVME_SC_SGL_INVALID_DESCS :
			    VNVME_SC_INVALID_FIELD);
	r.segs = rsegs;
	r.max_segs = w.max_segs;
	r.nr_segs = 0;
	if (sgl)
		rsc = ref_sgl(&f, &r, sgl1, len, wr, cap, &described);
	else
		rsc = ref_prp(&f, &r, prp1, prp2, len, cap);
	if (!budget_hit) {
		if (rsc != sc) {
			fprintf(stderr, "walker 0x%x, reference 0x%x\n", sc, rsc);
			fz_die("walker and reference disagree");
		}
		if (!sc) {
			CHECK(r.nr_segs == w.nr_segs);
			for (i = 0; i < (int)r.nr_segs; i++) {
				CHECK(r.segs[i].addr == w.segs[i].addr);
				CHECK(r.segs[i].len == w.segs[i].len);
				CHECK(r.segs[i].bit_bucket ==
				      w.segs[i].bit_bucket);
			}
		}
	}

	stat_runs[sgl]++;
	stat_ok[sgl] += !sc;
	stat_sc[sgl][sc & 31]++;
	stat_budget[sgl] += budget_hit;
	stat_reads += f.reads;
	return 0;
}

#ifndef VNVME_LIBFUZZER
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FZ_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(FZ_ASAN)
#include <sanitizer/common_interface_defs.h>

/* An ASan report ends the process without reaching fz_die() */
static void fz_asan_death(void)
{
	if (cur_iter != ~0ull)
		fprintf(stderr, "fuzz_prp: reproduce with -s %llu -i %llu\n",
			cur_seed, cur_iter);
}
#define fz_set_death_callback() __sanitizer_set_death_callback(fz_asan_death)
#else
#define fz_set_death_callback() do { } while (0)
#endif

static void usage(void)
{
	fprintf(stderr, "usage: fuzz_prp [-n iterations] [-s seed] [-i iteration]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned long long n = 200000, seed = 1, only = ~0ull, it, x;
	u8 buf[64 + 512];
	struct timespec t0, t1;
	size_t len, k;
	int i, s;

	for (i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		if (!strcmp(argv[i], "-n"))
			n = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "-s"))
			seed = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "-i"))
			only = strtoull(argv[++i], NULL, 0);
		else
			usage();
	}
	cur_seed = seed;
	fz_set_death_callback();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (it = 0; it < n; it++) {
		if (only != ~0ull && it != only)
			continue;
		/* Every iteration is reproducible from (seed, it) alone */
		x = h2(seed, it);
		len = 61 + (x % 4 ? x % 64 : x % 512);
		for (k = 0; k < len; k++) {
			if (k % 8 == 0)
				x = mix64(x);
			buf[k] = (u8)(x >> (8 * (k % 8)));
		}
		cur_iter = it;
		LLVMFuzzerTestOneInput(buf, len);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("# fuzz_prp: %llu iterations, seed %llu, %.1f s, %llu reads\n",
	       n, seed, (double)(t1.tv_sec - t0.tv_sec) +
	       (t1.tv_nsec - t0.tv_nsec) / 1e9, stat_reads);
	for (s = 0; s < 2; s++) {
		printf("# %s: %llu runs, %llu ok, %llu read budget exhausted; status:",
		       s ? "sgl" : "prp", stat_runs[s], stat_ok[s],
		       stat_budget[s]);
		for (i = 1; i < 32; i++)
			if (stat_sc[s][i])
				printf(" 0x%02x=%llu", i, stat_sc[s][i]);
		printf("\n");
	}
	return 0;
}
#endif
