/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vn-util.h - helpers shared by vnvmectl and vnvmed: exit codes, UUIDs,
 * NVMe status names, a small JSON writer and string helpers.
 */
#ifndef VN_UTIL_H
#define VN_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes of vnvmectl (documented in vnvmectl(8)). */
enum vn_exit {
	VN_EXIT_OK		= 0,
	VN_EXIT_FAIL		= 1,	/* the kernel refused, or anything else */
	VN_EXIT_USAGE		= 2,	/* bad command line */
	VN_EXIT_NOTFOUND	= 3,	/* no such instance, type, namespace or device */
	VN_EXIT_PERM		= 4,	/* permission denied */
	VN_EXIT_BUSY		= 5,	/* in use: open by a VM, namespace enabled */
	VN_EXIT_NOVNVME		= 6,	/* module not loaded / netlink family absent */
};

/* Maps a (positive) errno to an exit code. */
int vn_exit_code(int err);

#define VN_UUID_LEN	16
#define VN_UUID_STRLEN	37	/* with the NUL */

int vn_uuid_parse(const char *s, uint8_t out[VN_UUID_LEN]);
void vn_uuid_unparse(const uint8_t uuid[VN_UUID_LEN], char out[VN_UUID_STRLEN]);
/* A random (version 4) UUID string. */
int vn_uuid_generate(char out[VN_UUID_STRLEN]);
bool vn_uuid_valid(const char *s);

/* "Read Error (0x281)" style names of NVMe status values (SCT << 8 | SC). */
const char *vn_nvme_status_name(uint16_t status);

/* Human sizes: "1.5 GiB"; rates "12.3 MB/s" use decimal units. */
void vn_fmt_size(uint64_t bytes, char *buf, size_t len);

/* Latency bucket i as a range label ("<1us", "1-2us", ..., ">=4.2s"). */
void vn_fmt_lat_bucket(unsigned int i, unsigned int nr, char *buf, size_t len);

/* Removes trailing whitespace in place; returns s. */
char *vn_rtrim(char *s);
/* Skips leading whitespace. */
char *vn_ltrim(char *s);

/* ---- JSON writer: compact, one document per call sequence -------------- */

struct vn_json {
	FILE	*out;
	int	depth;
	bool	need_comma[32];
	bool	pretty;
};

void vn_json_init(struct vn_json *j, FILE *out, bool pretty);
void vn_json_obj_open(struct vn_json *j, const char *key);	/* key NULL in arrays */
void vn_json_obj_close(struct vn_json *j);
void vn_json_arr_open(struct vn_json *j, const char *key);
void vn_json_arr_close(struct vn_json *j);
void vn_json_str(struct vn_json *j, const char *key, const char *val);
void vn_json_u64(struct vn_json *j, const char *key, uint64_t val);
void vn_json_double(struct vn_json *j, const char *key, double val);
void vn_json_bool(struct vn_json *j, const char *key, bool val);
void vn_json_null(struct vn_json *j, const char *key);
/* Ends the document with a newline. */
void vn_json_end(struct vn_json *j);

#endif /* VN_UTIL_H */
