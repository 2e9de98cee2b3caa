// SPDX-License-Identifier: Apache-2.0
// Fuzzes the reader of a snapshot's job-info object (`__info_<ts>.<xxh3>`), untrusted input
// from a repository. What decodes must encode and decode again to the same text.
#include "jobs/job_info.hh"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto info = tv::jobs::decode_job_info(text, "__info_fuzz");
    if (info) {
        std::string encoded = tv::jobs::encode_job_info(*info);
        auto again = tv::jobs::decode_job_info(encoded, "__info_fuzz");
        if (!again || tv::jobs::encode_job_info(*again) != encoded) {
            std::abort();  // we would write an info object we cannot read back
        }
        (void)tv::jobs::brief_job_info(*info);
    }
    return 0;
}
