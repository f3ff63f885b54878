/*
 * How imgbake asks glibc for memory.
 */
#ifndef IMGBAKE_ALLOC_H
#define IMGBAKE_ALLOC_H

/* Arena and trim settings; call before any thread exists. */
void alloc_setup(void);

/* Where the kernel gives transparent huge pages only to memory that asks
 * for them, run this program again with glibc asking for them for every
 * block it maps (GLIBC_TUNABLES glibc.malloc.hugetlb=1).  Returns only
 * when it does not: huge pages are already on, off, or the user's
 * GLIBC_TUNABLES names the setting itself.  Call before any thread
 * exists, any file is open that the run depends on, or anything is
 * printed. */
void alloc_huge_pages(char **argv);

/* Whether blocks glibc maps from now on use huge pages: "yes", "no". */
const char *alloc_huge_pages_state(void);

#endif
