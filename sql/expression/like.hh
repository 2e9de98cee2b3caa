// SPDX-License-Identifier: Apache-2.0
// SQL LIKE matching: % matches any run, _ one character, backslash escapes the next one.
#pragma once

#include <string_view>

namespace tv::sql {

/// MySQL's LIKE over bytes; `ignore_case` folds ASCII letters (SHOW ... LIKE is case-insensitive).
bool like_match(std::string_view text, std::string_view pattern, bool ignore_case = false);

}  // namespace tv::sql
