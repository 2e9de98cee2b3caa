// SPDX-License-Identifier: Apache-2.0
// How an S3 request's failure becomes an s3_error: a transport failure (no answer, or an answer
// that is not S3's), an S3 error document, or an unusable success. s3_client builds them; the
// rule for what users see of each is s3_error::to_remote_error() (docs/security.md).
#pragma once

#include "io/http_codec.hh"
#include "remote/http_client.hh"
#include "remote/s3_client.hh"

#include <string>
#include <string_view>
#include <system_error>

namespace tv::remote {

/// A failed exchange: a timeout, our stop, a request http_client would not write, or the
/// connection's failure (refused, reset, TLS, not HTTP), which is a transport error.
s3_error io_failure(const std::error_code& ec, std::string_view op, const std::string& target,
                    const http_endpoint& endpoint);

/// A success whose body is not what S3 sends (a listing without keys, no UploadId): transport.
s3_error protocol_failure(std::string_view op, const std::string& target, std::string_view what,
                          std::string endpoint);

/// An error status: S3's own error document (code and message kept, capped and printable), a
/// HEAD's bodiless status, or anything else (a transport error).
s3_error http_failure(const io::http_client_response& response, std::string_view op, const std::string& target,
                      bool head_request);

/// An HTTP date ("Wed, 21 Oct 2015 07:28:00 GMT") -> milliseconds since the epoch; 0 when unreadable.
int64_t parse_http_date_ms(std::string_view text);

/// Logs a transport failure's detail, which users do not see.
void log_transport_failure(const s3_error& e);

}  // namespace tv::remote
