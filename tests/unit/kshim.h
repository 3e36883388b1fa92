/* SPDX-License-Identifier: GPL-2.0 */
/* kshim.h - userspace stand-ins for the kernel types used by kernel/prp.c */
#ifndef VNVME_KSHIM_H
#define VNVME_KSHIM_H

/*
 * prp.c includes this instead of <linux/types.h> when __KERNEL__ is not
 * defined, so the unit tests and the fuzzer compile the module's own source.
 */
#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;

/* sparse annotations are meaningless here */
typedef uint16_t __le16;
typedef uint32_t __le32;
typedef uint64_t __le64;

#define le16_to_cpu(x)	le16toh(x)
#define le32_to_cpu(x)	le32toh(x)
#define le64_to_cpu(x)	le64toh(x)
#define cpu_to_le16(x)	htole16(x)
#define cpu_to_le32(x)	htole32(x)
#define cpu_to_le64(x)	htole64(x)

#endif
