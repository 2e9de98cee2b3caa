// SPDX-License-Identifier: Apache-2.0
// io/ error model: every operation yields result<T> carrying a std::error_code; raw negative
// errno values from completions never leave this folder.
#pragma once

#include <boost/system/result.hpp>

#include <cerrno>
#include <string>
#include <system_error>

namespace tv::io {

template <class T>
using result = boost::system::result<T, std::error_code>;

inline std::error_code errno_error(int err) noexcept {
    return {err, std::system_category()};
}

/// Turns a completion's `res` (negative errno on failure) into an error code.
inline std::error_code completion_error(int res) noexcept {
    return errno_error(-res);
}

inline bool is_cancelled(const std::error_code& ec) noexcept {
    return ec == std::errc::operation_canceled;
}

/// "what: message (errno name)" for logs and user-facing messages.
std::string describe(const std::error_code& ec, std::string_view what);

}  // namespace tv::io
