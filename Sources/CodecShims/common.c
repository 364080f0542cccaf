#include "codec_shims.h"
#include <stdlib.h>

void cs_free(void *p) { free(p); }

void cs_free_metadata(cs_metadata *m) {
    free(m->exif.data);
    free(m->icc.data);
    free(m->xmp.data);
    m->exif = (cs_blob){0, 0};
    m->icc = (cs_blob){0, 0};
    m->xmp = (cs_blob){0, 0};
}
