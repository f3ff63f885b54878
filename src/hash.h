/*
 * Content hashes of source files (xxh128), streamed in fixed-size
 * blocks so that no file is ever held in memory whole.
 */
#ifndef IMGBAKE_HASH_H
#define IMGBAKE_HASH_H

#define HASH_TEXT_LEN 40	/* "xxh128:" + 32 hex digits + NUL */

/* Hash what is left of fd from its current offset to the end and
 * write "xxh128:<32 hex>" to out.  Returns 0, or -1 with errno set.
 * Thread-safe. */
int hash_fd(int fd, char out[HASH_TEXT_LEN]);
/* ... asking go_on(arg) every megabyte whether to go on: -1 with errno
 * ECANCELED when it says no. */
int hash_fd_while(int fd, char out[HASH_TEXT_LEN], int (*go_on)(void *), void *arg);

#endif
