// SPDX-License-Identifier: Apache-2.0
// Formatting of io/ errors for logs and messages.
#include "io/error.hh"

#include <fmt/format.h>

namespace tv::io {

std::string describe(const std::error_code& ec, std::string_view what) {
    return fmt::format("{}: {}", what, ec.message());
}

}  // namespace tv::io
