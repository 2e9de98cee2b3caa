// SPDX-License-Identifier: Apache-2.0
// Reading untrusted JSON (repository objects): parsed with a nesting limit, fields typed,
// absent-or-wrong-type as nullopt, never an exception.
#pragma once

#include "jobs/job_error.hh"

#include <boost/json/object.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace tv::jobs {

/// A non-negative integer, or nullopt.
inline std::optional<uint64_t> unsigned_of(const boost::json::value* v) {
    if (v == nullptr) {
        return std::nullopt;
    }
    if (v->is_uint64()) {
        return v->get_uint64();
    }
    if (v->is_int64() && v->get_int64() >= 0) {
        return static_cast<uint64_t>(v->get_int64());
    }
    return std::nullopt;
}

/// A string, or nullopt.
inline std::optional<std::string> string_of(const boost::json::value* v) {
    if (v == nullptr || !v->is_string()) {
        return std::nullopt;
    }
    return std::string(v->get_string());
}

/// Parses `text` into a document held in large blocks of its own, all freed with it. For the
/// large documents jobs read (a manifest or a cut of 20,000 files is over 100,000 small values),
/// which the general heap would keep as resident memory after they are freed.
boost::json::value parse_document(std::string_view text, std::error_code& ec,
                                  const boost::json::parse_options& options = {});

/// Parses `text` as a JSON object nested at most `max_depth` deep. A failure is BAD_FILE:
/// "<what> is not valid: not JSON (...)" or "... not a JSON object".
job_result<boost::json::object> parse_untrusted_object(std::string_view text, size_t max_depth,
                                                       std::string_view what);

}  // namespace tv::jobs
