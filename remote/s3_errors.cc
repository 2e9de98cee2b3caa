// SPDX-License-Identifier: Apache-2.0
// S3 failures as s3_error values, and the one rule for what users read of them: the store's
// own error document when it sent one, else only "could not reach endpoint E: connection
// failed" (the detail goes to the server log).
#include "remote/s3_errors.hh"

#include "io/log.hh"
#include "io/tls.hh"
#include "remote/s3_xml.hh"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <optional>

namespace tv::remote {

namespace {

bool throttling_code(std::string_view code) {
    return code == "SlowDown" || code == "Throttling" || code == "ThrottlingException" ||
           code == "RequestLimitExceeded" || code == "TooManyRequests";
}

bool retryable_code(std::string_view code) {
    return throttling_code(code) || code == "RequestTimeout" || code == "InternalError" ||
           code == "ServiceUnavailable";
}

bool retryable_status(int status) {
    return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

/// Retry-After: seconds, or an HTTP date; at most a minute (a wait past the retry deadline
/// would be cut anyway), 0 when absent or unreadable.
std::chrono::milliseconds retry_after_of(const io::http_client_response& response) {
    std::string_view value = response.header("Retry-After");
    if (value.empty()) {
        return std::chrono::milliseconds(0);
    }
    int64_t ms = 0;
    if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }) && value.size() < 10) {
        ms = std::stoll(std::string(value)) * 1000;
    } else if (int64_t at = parse_http_date_ms(value); at != 0) {
        ms = at - std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    }
    return std::chrono::milliseconds(std::clamp<int64_t>(ms, 0, 60'000));
}

/// Error codes a response without a body (HEAD) implies.
std::string code_for_status(int status) {
    switch (status) {
    case 400: return "BadRequest";
    case 403: return "AccessDenied";
    case 404: return "NotFound";
    case 412: return "PreconditionFailed";
    case 416: return "InvalidRange";
    case 503: return "ServiceUnavailable";
    default: return status >= 500 ? "InternalError" : "";
    }
}

}  // namespace

int64_t parse_http_date_ms(std::string_view text) {
    std::tm tm{};
    std::string s(text);
    if (::strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S", &tm) == nullptr) {
        return 0;
    }
    return static_cast<int64_t>(::timegm(&tm)) * 1000;
}

s3_error io_failure(const std::error_code& ec, std::string_view op, const std::string& target,
                    const http_endpoint& endpoint) {
    s3_error e;
    // Everything but our own stop and a request http_client refused to write (a header with
    // CR/LF) is the connection's failure.
    e.transport = !io::is_cancelled(ec) && ec != std::errc::invalid_argument;
    if (ec == std::errc::timed_out) {
        e.kind = s3_error_kind::timeout;
        e.retryable = true;
    } else if (io::is_cancelled(ec)) {
        e.kind = s3_error_kind::cancelled;
    } else if (ec == std::errc::message_size) {
        e.kind = s3_error_kind::protocol;
    } else {
        e.kind = s3_error_kind::network;
        e.retryable = ec == std::errc::connection_reset || ec == std::errc::broken_pipe ||
                      ec == std::errc::connection_aborted || ec == std::errc::bad_message ||
                      ec == std::errc::connection_refused;
    }
    e.message = io::describe(ec, fmt::format("{} {}", op, target));
    if (ec == std::errc::invalid_argument) {
        e.message = fmt::format("{} {}: request not sent: a header, the method or the target holds a control "
                                "character",
                                op, target);
    }
    if (io::is_tls_handshake_error(ec)) {  // a certificate problem: say which server showed it
        e.message = fmt::format("{} {}: TLS handshake with {}:{} failed: {}", op, target,
                                endpoint.tls_server_name.empty() ? endpoint.host : endpoint.tls_server_name,
                                endpoint.port, io::tls_error_reason(ec));
    }
    return e;
}

s3_error protocol_failure(std::string_view op, const std::string& target, std::string_view what,
                          std::string endpoint) {
    s3_error e;
    e.kind = s3_error_kind::protocol;
    e.transport = true;  // an answer, but not one S3 gives
    e.endpoint = std::move(endpoint);
    e.message = fmt::format("{} {}: {}", op, target, what);
    return e;
}

/// An S3 error document (or a bodiless error status of a HEAD) as an s3_error. An error status
/// with any other body (an HTML 404 page, a proxy's 502) is not S3 talking: a transport error.
s3_error http_failure(const io::http_client_response& response, std::string_view op, const std::string& target,
                      bool head_request) {
    s3_error e;
    e.kind = s3_error_kind::http;
    e.http_status = response.status;
    e.retry_after = retry_after_of(response);
    auto error_document = xml::find_all(response.body, "Error");
    std::optional<std::string> code;
    if (!error_document.empty()) {
        code = xml::find(error_document.front(), "Code");
    }
    if ((!code || code->empty()) && !(head_request && response.body.empty())) {
        // The status alone says what it would mean from S3 (a load balancer's bodiless 503 is
        // still worth retrying); the log shows it, users only the transport failure.
        e.transport = true;
        e.code = code_for_status(response.status);
        e.retryable = retryable_status(response.status);
        e.throttled = response.status == 503 || response.status == 429;
        e.message = fmt::format("{} {}: {} (HTTP {}, no S3 error document)", op, target,
                                e.code.empty() ? "error" : e.code, response.status);
        return e;
    }
    e.code = xml::printable_prefix(code.value_or(""), 64);
    if (e.code.empty()) {
        e.code = code_for_status(response.status);
    }
    std::string text = xml::printable_prefix(xml::find(error_document.empty() ? std::string_view{} : error_document.front(),
                                            "Message")
                                      .value_or(""),
                                  512);
    e.request_id = xml::printable_prefix(
        xml::find(response.body, "RequestId").value_or(std::string(response.header("x-amz-request-id"))), 128);
    e.retryable = retryable_status(response.status) || retryable_code(e.code);
    e.throttled = response.status == 503 || response.status == 429 || throttling_code(e.code);
    e.message = fmt::format("{} {}: {} (HTTP {}{}{})", op, target, e.code.empty() ? "error" : e.code,
                            response.status, text.empty() ? "" : ": ", text);
    if (!e.request_id.empty()) {
        e.message += fmt::format(" [request id {}]", e.request_id);
    }
    return e;
}

/// Users see "could not reach endpoint E: connection failed"; the operator's log says why.
void log_transport_failure(const s3_error& e) {
    if (e.transport) {
        TV_LOG_WARN("could not reach endpoint {}: {}", e.endpoint, e.message);
    }
}

remote_error s3_error::to_remote_error() const {
    remote_errc c = remote_errc::io_error;
    if (transport) {
        remote_error e = make_remote_error(c, fmt::format("could not reach endpoint {}: connection failed", endpoint));
        e.retryable = retryable;
        e.attempts = attempts;
        e.unreachable_endpoint = endpoint;
        return e;
    }
    if (kind == s3_error_kind::credentials) {
        c = cause;
    } else if (http_status == 404 || code == "NoSuchKey" || code == "NoSuchBucket" || code == "NoSuchUpload") {
        c = remote_errc::not_found;
    } else if (http_status == 416 || code == "InvalidRange") {
        c = remote_errc::range_not_satisfiable;
    } else if (http_status == 403) {
        c = remote_errc::permission_denied;
    }
    remote_error e = make_remote_error(c, message);
    e.retryable = retryable;
    e.attempts = attempts;
    return e;
}

}  // namespace tv::remote
