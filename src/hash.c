/*
 * Streaming xxh128 of a file descriptor.  The hash names a source's
 * content in the manifest and in {hash} output names.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <xxhash.h>

#include "hash.h"

#define HASH_BLOCK (64 * 1024)

int
hash_fd(int fd, char out[HASH_TEXT_LEN])
{
	return hash_fd_while(fd, out, NULL, NULL);
}

int
hash_fd_while(int fd, char out[HASH_TEXT_LEN], int (*go_on)(void *), void *arg)
{
	unsigned char block[HASH_BLOCK];
	XXH3_state_t *state = XXH3_createState();
	XXH128_canonical_t canon;
	int ret = -1;
	size_t i;

	if (!state) {
		errno = ENOMEM;
		return -1;
	}
	XXH3_128bits_reset(state);
	for (i = 0;; i++) {
		ssize_t n;

		/* every 1 MB */
		if (go_on && i % 16 == 0 && !go_on(arg)) {
			errno = ECANCELED;
			goto out;
		}
		n = read(fd, block, sizeof(block));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		if (n == 0)
			break;
		XXH3_128bits_update(state, block, (size_t)n);
	}
	XXH128_canonicalFromHash(&canon, XXH3_128bits_digest(state));
	snprintf(out, HASH_TEXT_LEN, "xxh128:");
	for (i = 0; i < sizeof(canon.digest); i++)
		snprintf(out + 7 + 2 * i, HASH_TEXT_LEN - 7 - 2 * i, "%02x", canon.digest[i]);
	ret = 0;
out:
	XXH3_freeState(state);
	return ret;
}
