/* SPDX-License-Identifier: GPL-2.0 */
/* gmem.h - fake guest memory for the PRP/SGL walker tests */
#ifndef VNVME_GMEM_H
#define VNVME_GMEM_H

#include <stdlib.h>
#include <string.h>
#include "kshim.h"

#define GMEM_PAGE	4096u

/*
 * One flat mapped window [base, base + size).  Reads outside it, or touching
 * [deny_lo, deny_hi), fail like an unmapped IOVA.  Every read is also checked
 * against the contract documented for vnvme_guest_read_t.
 */
struct gmem {
	u8 *buf;
	u64 base;
	u64 size;
	u64 deny_lo, deny_hi;
	unsigned int fail_nth;		/* the Nth read fails (1-based), 0: never */
	unsigned int reads;		/* read() calls */
	u64 bytes;			/* bytes read */
	unsigned int violations;	/* contract violations seen */
};

static void __attribute__((unused))
gmem_init(struct gmem *g, u64 base, u64 size)
{
	memset(g, 0, sizeof(*g));
	g->buf = calloc(1, size);
	if (!g->buf)
		abort();
	g->base = base;
	g->size = size;
}

static void __attribute__((unused)) gmem_free(struct gmem *g)
{
	free(g->buf);
	g->buf = NULL;
}

static int __attribute__((unused))
gmem_read(void *opaque, u64 addr, void *buf, u32 len)
{
	struct gmem *g = opaque;

	g->reads++;
	if (len == 0 || len > 512 || len > ~(u64)0 - addr ||
	    (addr / GMEM_PAGE) != ((addr + len - 1) / GMEM_PAGE))
		g->violations++;
	if (g->fail_nth && g->reads == g->fail_nth)
		return -5;	/* -EIO */
	if (addr < g->base || len > g->size ||
	    addr - g->base > g->size - len)
		return -14;	/* -EFAULT */
	if (addr < g->deny_hi && addr + len > g->deny_lo)
		return -14;
	memcpy(buf, g->buf + (addr - g->base), len);
	g->bytes += len;
	return 0;
}

static void __attribute__((unused)) gmem_put64(struct gmem *g, u64 addr, u64 v)
{
	u64 le = cpu_to_le64(v);

	if (addr < g->base || addr - g->base + 8 > g->size)
		abort();
	memcpy(g->buf + (addr - g->base), &le, 8);
}

/* Encode one SGL descriptor (little endian, identifier in byte 15). */
static void __attribute__((unused))
sgl_desc(u8 d[16], u64 addr, u32 len, u8 type, u8 subtype)
{
	u64 a = cpu_to_le64(addr);
	u32 l = cpu_to_le32(len);

	memset(d, 0, 16);
	memcpy(d, &a, 8);
	memcpy(d + 8, &l, 4);
	d[15] = (u8)(type << 4 | (subtype & 0xf));
}

static void __attribute__((unused))
gmem_put_sgl(struct gmem *g, u64 addr, u64 daddr, u32 len, u8 type, u8 subtype)
{
	if (addr < g->base || addr - g->base + 16 > g->size)
		abort();
	sgl_desc(g->buf + (addr - g->base), daddr, len, type, subtype);
}

#endif
