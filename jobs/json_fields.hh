// SPDX-License-Identifier: Apache-2.0
// Reading fields of untrusted JSON (repository objects): typed, absent-or-wrong-type as nullopt,
// never an exception.
#pragma once

#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>

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

}  // namespace tv::jobs
