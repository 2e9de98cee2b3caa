// SPDX-License-Identifier: Apache-2.0
// ASCII case folding for identifiers and keywords (SQL keywords, type and privilege names,
// variable names) and blank trimming: byte-wise, locale-independent, UTF-8 bytes pass through.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tv {

inline std::string ascii_upper(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'a' && c <= 'z') {
            c = static_cast<char>(c - 'a' + 'A');
        }
    }
    return out;
}

inline std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return out;
}

/// `s` without leading and trailing spaces and tabs (CSV fields, header values).
inline std::string_view trim_blanks(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

}  // namespace tv
