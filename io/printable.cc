// SPDX-License-Identifier: Apache-2.0
// Escaping control bytes and invalid UTF-8 for logs and error messages.
#include "io/printable.hh"

#include <fmt/format.h>

#include <algorithm>

namespace tv {

namespace {

/// The length of the well-formed UTF-8 sequence at the start of `s`, or 0 when it is not one.
size_t utf8_sequence(std::string_view s) noexcept {
    auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
    unsigned char b0 = byte(0);
    if (b0 < 0x80) {
        return 1;
    }
    size_t n = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        n = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        n = 3;
        if (b0 == 0xE0) lo = 0xA0;       // overlong
        if (b0 == 0xED) hi = 0x9F;       // surrogates
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        n = 4;
        if (b0 == 0xF0) lo = 0x90;       // overlong
        if (b0 == 0xF4) hi = 0x8F;       // past U+10FFFF
    } else {
        return 0;
    }
    if (s.size() < n) {
        return 0;
    }
    if (byte(1) < lo || byte(1) > hi) {
        return 0;
    }
    for (size_t i = 2; i < n; ++i) {
        if (byte(i) < 0x80 || byte(i) > 0xBF) {
            return 0;
        }
    }
    return n;
}

void append_escaped(std::string& out, unsigned char c) {
    switch (c) {
    case '\n': out += "\\n"; break;
    case '\r': out += "\\r"; break;
    case '\t': out += "\\t"; break;
    default: out += fmt::format("\\x{:02X}", c); break;
    }
}

bool is_control(unsigned char c) noexcept {
    return c < 0x20 || c == 0x7F;
}

}  // namespace

bool valid_utf8(std::string_view s) noexcept {
    while (!s.empty()) {
        size_t n = utf8_sequence(s);
        if (n == 0) {
            return false;
        }
        s.remove_prefix(n);
    }
    return true;
}

std::string escape_control(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        if (is_control(c)) {
            append_escaped(out, c);
        } else {
            out += ch;
        }
    }
    return out;
}

std::string printable_excerpt(std::string_view s, size_t max_bytes) {
    std::string out;
    out.reserve(std::min(s.size(), max_bytes) + 3);
    size_t used = 0;
    while (used < s.size()) {
        size_t n = utf8_sequence(s.substr(used));
        size_t step = n == 0 ? 1 : n;
        if (used + step > max_bytes) {
            break;
        }
        auto c = static_cast<unsigned char>(s[used]);
        if (n == 0) {
            out += fmt::format("\\x{:02X}", c);
        } else if (n == 1 && is_control(c)) {
            append_escaped(out, c);
        } else {
            out.append(s.substr(used, n));
        }
        used += step;
    }
    if (used < s.size()) {
        out += "...";
    }
    return out;
}

std::string printable_value(std::string_view s, size_t max_bytes) {
    std::string out = printable_excerpt(s, max_bytes);
    if (s.size() > max_bytes) {
        out += fmt::format(" ({} bytes)", s.size());
    }
    return out;
}

}  // namespace tv
