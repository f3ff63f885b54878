/*
 * A minimal TAP producer for the C unit tests, read by prove(1).
 */
#ifndef IMGBAKE_TAP_H
#define IMGBAKE_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_count, tap_failed;

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define is_str(got, want, ...) do { \
	const char *g_ = (got), *w_ = (want); \
	int same_ = (g_ && w_) ? !strcmp(g_, w_) : g_ == w_; \
	tap_ok(same_, __FILE__, __LINE__, __VA_ARGS__); \
	if (!same_) \
		printf("#   got: '%s'\n#  want: '%s'\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
} while (0)

#define is_int(got, want, ...) do { \
	long long g_ = (got), w_ = (want); \
	tap_ok(g_ == w_, __FILE__, __LINE__, __VA_ARGS__); \
	if (g_ != w_) \
		printf("#   got: %lld\n#  want: %lld\n", g_, w_); \
} while (0)

static void tap_ok(int pass, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#include <stdarg.h>

static void
tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", pass ? "" : "not ", ++tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!pass) {
		printf("#   failed at %s:%d\n", file, line);
		tap_failed++;
	}
}

static int
done_testing(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#endif
