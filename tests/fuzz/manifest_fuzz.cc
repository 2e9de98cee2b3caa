// SPDX-License-Identifier: Apache-2.0
// Fuzzes the reader of a snapshot's manifest, untrusted input from a repository. What decodes
// must encode and decode again to the same text.
#include "jobs/snapshot_manifest.hh"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto manifest = tv::jobs::decode_manifest(text, "__manifest_fuzz");
    if (manifest) {
        std::string encoded = tv::jobs::encode_manifest(*manifest);
        auto again = tv::jobs::decode_manifest(encoded, "__manifest_fuzz");
        if (!again || tv::jobs::encode_manifest(*again) != encoded) {
            std::abort();  // we would write a manifest we cannot read back
        }
    }
    return 0;
}
