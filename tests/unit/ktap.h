/* SPDX-License-Identifier: GPL-2.0 */
/* ktap.h - a minimal KTAP v1 test runner for the userspace unit tests */
#ifndef VNVME_KTAP_H
#define VNVME_KTAP_H

#include <stdio.h>
#include <string.h>

struct ktap_case {
	const char *name;
	void (*fn)(void);
};

#define KTAP_CASE(f)	{ #f, f }

/* Failures of the running case; reset by ktap_run() before each case. */
static int ktap_failures;

static void __attribute__((unused))
ktap_fail(const char *file, int line, const char *what)
{
	printf("# %s:%d: FAILED: %s\n", file, line, what);
	ktap_failures++;
}

#define EXPECT(cond) do {						\
	if (!(cond))							\
		ktap_fail(__FILE__, __LINE__, #cond);			\
} while (0)

#define EXPECT_EQ(a, b) do {						\
	unsigned long long _a = (unsigned long long)(a);		\
	unsigned long long _b = (unsigned long long)(b);		\
	if (_a != _b) {							\
		printf("# %s:%d: FAILED: %s == %s (0x%llx != 0x%llx)\n",\
		       __FILE__, __LINE__, #a, #b, _a, _b);		\
		ktap_failures++;					\
	}								\
} while (0)

/* Stop the case: later checks would only repeat the same failure. */
#define ASSERT_EQ(a, b) do {						\
	int _before = ktap_failures;					\
	EXPECT_EQ(a, b);						\
	if (ktap_failures != _before)					\
		return;							\
} while (0)

#define ASSERT(cond) do {						\
	if (!(cond)) {							\
		ktap_fail(__FILE__, __LINE__, #cond);			\
		return;							\
	}								\
} while (0)

/*
 * Run all cases (or those named on the command line), print KTAP v1 and
 * return the process exit status.  "-l" lists the case names.
 */
static int __attribute__((unused))
ktap_run(const struct ktap_case *cases, int n, int argc, char **argv)
{
	int i, k, nr = 0, failed = 0, sel;

	if (argc > 1 && !strcmp(argv[1], "-l")) {
		for (i = 0; i < n; i++)
			printf("%s\n", cases[i].name);
		return 0;
	}
	for (i = 0; i < n; i++) {
		sel = argc <= 1;
		for (k = 1; k < argc; k++)
			sel |= !strcmp(argv[k], cases[i].name);
		nr += sel;
	}
	printf("KTAP version 1\n1..%d\n", nr);
	fflush(stdout);
	for (i = 0, k = 0; i < n; i++) {
		int j;

		sel = argc <= 1;
		for (j = 1; j < argc; j++)
			sel |= !strcmp(argv[j], cases[i].name);
		if (!sel)
			continue;
		ktap_failures = 0;
		cases[i].fn();
		k++;
		printf("%s %d %s\n", ktap_failures ? "not ok" : "ok", k,
		       cases[i].name);
		fflush(stdout);
		failed += !!ktap_failures;
	}
	printf("# %d passed, %d failed\n", nr - failed, failed);
	return failed || nr == 0 ? 1 : 0;
}

#endif
