#ifndef CNNPIPE_HEAP_SETTINGS_H
#define CNNPIPE_HEAP_SETTINGS_H

/* glibc: blocks below mmap_threshold bytes come from the heap, and up to trim_threshold bytes of free
 * heap stay with the process (HeapReuse.swift says why). 1 when set, 0 elsewhere. */
int cp_keep_freed_blocks(long mmap_threshold, long trim_threshold);

#endif
