// SPDX-License-Identifier: Apache-2.0
// Fuzzes the scanner for the XML bodies S3 answers with, reading them the way the S3 client
// does: ListObjectsV2 and ListParts pages, multipart results, DeleteObjects failures, and error
// documents turned into the error users see.
#include "remote/s3_errors.hh"
#include "remote/s3_xml.hh"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace xml = tv::remote::xml;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string body(reinterpret_cast<const char*>(data), size);
    for (std::string_view listed : {"Contents", "Part", "Upload", "Error"}) {
        for (std::string_view block : xml::find_all(body, listed)) {
            for (std::string_view field : {"Key", "Size", "ETag", "PartNumber", "UploadId", "Code", "Message"}) {
                (void)xml::find(block, field);
            }
        }
    }
    for (std::string_view field : {"IsTruncated", "NextContinuationToken", "UploadId", "ETag", "RequestId"}) {
        if (auto text = xml::find(body, field)) {
            std::string quoted = xml::printable_prefix(*text, 64);
            if (quoted.size() > 64 + 3) {
                std::abort();  // printable_prefix must honour its limit
            }
        }
    }
    std::string escaped = xml::escape(body);
    if (xml::decode(escaped) != body) {
        std::abort();  // what we escape for a request must read back as it was
    }
    tv::io::http_client_response response;
    response.status = 503;
    response.body = std::move(body);
    (void)tv::remote::http_failure(response, "GetObject", "s3://bucket/key", false);
    return 0;
}
