#include "heap_settings.h"

#include <stdlib.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

int cp_keep_freed_blocks(long mmap_threshold, long trim_threshold) {
#if defined(__GLIBC__)
    return mallopt(M_MMAP_THRESHOLD, (int)mmap_threshold) == 1 && mallopt(M_TRIM_THRESHOLD, (int)trim_threshold) == 1;
#else
    (void)mmap_threshold; (void)trim_threshold;
    return 0;
#endif
}
