// SPDX-License-Identifier: Apache-2.0
// Fuzzes the reader of a snapshot's meta object (`__meta_<ts>.<xxh3>`: every object's
// definition), untrusted input from a repository that RESTORE decodes before planning.
#include "storage/catalog_ops.hh"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto meta = tv::storage::decode_backup_meta(text, "__meta_fuzz");
    if (meta) {
        (void)tv::storage::encode_backup_meta(meta->objects, meta->catalogs);
    }
    return 0;
}
