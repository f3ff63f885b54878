/*
 * How imgbake asks glibc for memory.
 *
 * A job's big blocks (decoded pixels, libvips' strips, the encoder's
 * planes) are mapped fresh and given back when the job ends, so that
 * memory follows the jobs running rather than the largest job seen.
 * The price is a page fault for every 4 KB page of every one of them:
 * on a 2-core virtual machine those faults cost a sixth of the CPU time
 * of a batch of full-size WebP conversions.  With transparent huge
 * pages a fault maps 2 MB instead, which cuts the faults ~500-fold and
 * the TLB misses of the encoders with them (59 photos, 354 MP, -j2:
 * 19.3 s and 38.1 CPU-s with 4 KB pages, 16.1 s and 31.5 CPU-s with
 * huge pages).
 *
 * Kernels configured with transparent_hugepage=madvise give huge pages
 * only to mappings that ask for them, and glibc asks only when its
 * glibc.malloc.hugetlb tunable says so, which it reads from the
 * environment as the program starts.  So the setting is made the only
 * way glibc takes it: the program runs itself again, once, with the
 * tunable added to GLIBC_TUNABLES.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "alloc.h"

#define TUNABLE "glibc.malloc.hugetlb"

/* the sanitizers bring their own allocator */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
# define SANITIZED 1
#elif defined(__has_feature)
# if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#  define SANITIZED 1
# endif
#endif
#define THP_MODE "/sys/kernel/mm/transparent_hugepage/enabled"

void
alloc_setup(void)
{
	/* two arenas instead of 8 per core keep freed image buffers from
	 * pinning memory across a long batch */
	mallopt(M_ARENA_MAX, 2);
	/* Give freed memory back to the system as it is freed: with the
	 * default dynamic thresholds glibc keeps a finished job's heap for
	 * the next, and a 128 MB budget run peaked 47 MB higher for it. */
	mallopt(M_TRIM_THRESHOLD, 1 << 20);
	/* Blocks of 4 MB and more, a big picture's, are mapped for
	 * themselves and unmapped when freed; smaller ones, the strips
	 * and a small picture's planes, come from the arenas and are
	 * used again without a fresh page fault for every page (1,000
	 * small images: 9% less CPU time than mapping everything from
	 * 128 KB up). */
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
}

/* The kernel's mode, "always", "madvise" or "never"; "" when unknown. */
static const char *
thp_mode(void)
{
	static const char *const modes[] = { "always", "madvise", "never" };
	char line[128], mark[16];
	FILE *f;
	size_t i;

	if (!(f = fopen(THP_MODE, "r")))
		return "";
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	/* the mode in force is the one in brackets */
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		snprintf(mark, sizeof(mark), "[%s]", modes[i]);
		if (strstr(line, mark))
			return modes[i];
	}
	return "";
}

#ifndef SANITIZED
/* The kernel names a process after the file it executes, "exe" after
 * the second run through /proc/self/exe: give it back the name it was
 * started with, which ps, top, pgrep and killall go by. */
static void
restore_name(const char *argv0)
{
	char name[16] = "";
	const char *base;

	if (!argv0 || prctl(PR_GET_NAME, name) || strcmp(name, "exe"))
		return;
	base = strrchr(argv0, '/');
	base = base ? base + 1 : argv0;
	if (*base)
		prctl(PR_SET_NAME, base);	/* the kernel keeps 15 bytes */
}
#endif

void
alloc_huge_pages(char **argv)
{
#ifdef SANITIZED
	(void)argv;
#else
	const char *tunables = getenv("GLIBC_TUNABLES");
	const char *preload = getenv("LD_PRELOAD");
	char *saved = NULL, *value;
	size_t len;

	/* Named already: the user's choice, or this is the second run. */
	if (tunables && strstr(tunables, TUNABLE)) {
		restore_name(argv[0]);
		return;
	}
	/* Under valgrind, which would not follow the new program. */
	if (preload && strstr(preload, "vgpreload"))
		return;
	if (strcmp(thp_mode(), "madvise"))
		return;

	len = (tunables ? strlen(tunables) + 1 : 0) + sizeof(TUNABLE "=1");
	if (!(value = malloc(len)))
		return;
	snprintf(value, len, "%s%s" TUNABLE "=1", tunables ? tunables : "",
		 tunables ? ":" : "");
	if (tunables && !(saved = strdup(tunables))) {
		free(value);
		return;
	}
	if (!setenv("GLIBC_TUNABLES", value, 1))
		execv("/proc/self/exe", argv);
	/* no /proc, say: run on as we are, with the environment as it was */
	if (saved)
		setenv("GLIBC_TUNABLES", saved, 1);
	else
		unsetenv("GLIBC_TUNABLES");
	free(saved);
	free(value);
#endif
}

const char *
alloc_huge_pages_state(void)
{
	const char *tunables = getenv("GLIBC_TUNABLES");
	const char *mode = thp_mode();

	if (!strcmp(mode, "always"))
		return "yes";
	if (!strcmp(mode, "madvise") && tunables && strstr(tunables, TUNABLE "=1"))
		return "yes";
	return "no";
}
