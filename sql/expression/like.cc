// SPDX-License-Identifier: Apache-2.0
// LIKE by iterative backtracking over the last '%': linear in practice, no recursion.
#include "sql/expression/like.hh"

namespace tv::sql {

namespace {

char fold(char c, bool ignore_case) {
    return (ignore_case && c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

bool like_match(std::string_view text, std::string_view pattern, bool ignore_case) {
    size_t t = 0;
    size_t p = 0;
    size_t star_p = std::string_view::npos;  // position after the last '%'
    size_t star_t = 0;
    while (t < text.size()) {
        if (p < pattern.size() && pattern[p] == '%') {
            star_p = ++p;
            star_t = t;
            continue;
        }
        if (p < pattern.size()) {
            char want = pattern[p];
            size_t width = 1;
            if (want == '\\' && p + 1 < pattern.size()) {
                want = pattern[p + 1];
                width = 2;
            } else if (want == '_') {
                ++t;
                p += 1;
                continue;
            }
            if (fold(want, ignore_case) == fold(text[t], ignore_case)) {
                ++t;
                p += width;
                continue;
            }
        }
        if (star_p == std::string_view::npos) {
            return false;
        }
        p = star_p;
        t = ++star_t;
    }
    while (p < pattern.size() && pattern[p] == '%') {
        ++p;
    }
    return p == pattern.size();
}

}  // namespace tv::sql
