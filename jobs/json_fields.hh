// SPDX-License-Identifier: Apache-2.0
// Reading untrusted JSON (repository objects): parsed with a nesting limit, fields typed,
// absent-or-wrong-type as nullopt, never an exception.
#pragma once

#include "jobs/job_error.hh"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

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

/// Parses `text` as a JSON object nested at most `max_depth` deep. A failure is BAD_FILE:
/// "<what> is not valid: not JSON (...)" or "... not a JSON object".
job_result<boost::json::object> parse_untrusted_object(std::string_view text, size_t max_depth,
                                                       std::string_view what);

}  // namespace tv::jobs
