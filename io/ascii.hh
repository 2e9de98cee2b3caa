// SPDX-License-Identifier: Apache-2.0
// ASCII case folding for identifiers and keywords (SQL keywords, type and privilege names,
// variable names), blank trimming, and short printable excerpts of untrusted text for error
// messages: byte-wise, locale-independent, UTF-8 bytes pass through.
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

/// What an error message may echo of a value the client sent: at most `max_bytes` of it (cut
/// before a UTF-8 sequence, never inside one), followed by "... (N bytes)" when cut, with
/// control bytes written as \xNN. A client's 64 MB field then costs a 300-byte answer, and a
/// CR, LF or escape sequence cannot forge lines in a log or a terminal.
inline std::string printable_excerpt(std::string_view s, size_t max_bytes = 256) {
    size_t keep = s.size();
    if (keep > max_bytes) {
        keep = max_bytes;
        // Back off over continuation bytes (10xxxxxx) so a multi-byte character is not split.
        while (keep > 0 && (static_cast<unsigned char>(s[keep]) & 0xc0) == 0x80) {
            --keep;
        }
    }
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(keep + 32);
    for (size_t i = 0; i < keep; ++i) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 || c == 0x7f) {
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 0xf];
        } else {
            out += static_cast<char>(c);
        }
    }
    if (keep < s.size()) {
        out += "... (";
        out += std::to_string(s.size());
        out += " bytes)";
    }
    return out;
}

}  // namespace tv
