#include "codec_shims.h"
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

int cs_inflate(const uint8_t *data, size_t size, size_t limit, cs_blob *out) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit(&z) != Z_OK) return -1;
    size_t capacity = size * 4 + 1024;
    if (capacity > limit) capacity = limit;
    uint8_t *buffer = malloc(capacity ? capacity : 1);
    if (!buffer) { inflateEnd(&z); return -1; }
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)size;
    size_t used = 0;
    int status;
    do {
        if (used == capacity) {
            if (capacity >= limit) { status = Z_MEM_ERROR; break; }
            size_t grown = capacity * 2 > limit ? limit : capacity * 2;
            uint8_t *bigger = realloc(buffer, grown);
            if (!bigger) { status = Z_MEM_ERROR; break; }
            buffer = bigger;
            capacity = grown;
        }
        z.next_out = buffer + used;
        z.avail_out = (uInt)(capacity - used);
        status = inflate(&z, Z_NO_FLUSH);
        used = capacity - z.avail_out;
    } while (status == Z_OK);
    inflateEnd(&z);
    if (status != Z_STREAM_END) { free(buffer); return -1; }
    out->data = buffer;
    out->size = used;
    return 0;
}
