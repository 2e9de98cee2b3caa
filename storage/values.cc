// SPDX-License-Identifier: Apache-2.0
// Typed literal values: normalization, ordering and StarRocks-style key text.
#include "storage/values.hh"

#include <fmt/format.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>

namespace tv::storage {

namespace {

using int128 = __int128;

// Parses an optionally signed decimal integer into 128 bits; false on junk or overflow.
bool parse_int128(std::string_view s, int128& out) {
    bool negative = false;
    if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
        negative = s.front() == '-';
        s.remove_prefix(1);
    }
    if (s.empty()) {
        return false;
    }
    // Accumulate negatively so that the minimum of the type fits.
    constexpr int128 min128 = static_cast<int128>(static_cast<unsigned __int128>(1) << 127);
    int128 value = 0;
    for (char c : s) {
        if (c < '0' || c > '9') {
            return false;
        }
        int digit = c - '0';
        if (value < (min128 + digit) / 10) {
            return false;
        }
        value = value * 10 - digit;
    }
    if (!negative) {
        if (value == min128) {
            return false;
        }
        value = -value;
    }
    out = value;
    return true;
}

std::string int128_text(int128 v) {
    if (v == 0) {
        return "0";
    }
    bool negative = v < 0;
    std::string digits;
    while (v != 0) {
        int d = static_cast<int>(v % 10);
        digits.push_back(static_cast<char>('0' + (d < 0 ? -d : d)));
        v /= 10;
    }
    if (negative) {
        digits.push_back('-');
    }
    return {digits.rbegin(), digits.rend()};
}

struct int_range {
    int128 min;
    int128 max;
};

int_range range_of(type_kind k) {
    constexpr int128 max128 = static_cast<int128>((static_cast<unsigned __int128>(1) << 127) - 1);
    switch (k) {
    case type_kind::tinyint: return {-128, 127};
    case type_kind::smallint: return {-32768, 32767};
    case type_kind::int_: return {-2147483648LL, 2147483647LL};
    case type_kind::bigint: return {INT64_MIN, INT64_MAX};
    default: return {-max128 - 1, max128};
    }
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) {
        s.remove_prefix(1);
    }
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) {
        s.remove_suffix(1);
    }
    return s;
}

// Reads 1..max_digits digits; false when there are none.
bool read_number(std::string_view& s, int max_digits, int& out) {
    int n = 0;
    int value = 0;
    while (n < max_digits && !s.empty() && std::isdigit(static_cast<unsigned char>(s.front()))) {
        value = value * 10 + (s.front() - '0');
        s.remove_prefix(1);
        ++n;
    }
    out = value;
    return n > 0;
}

bool leap(int y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

bool valid_date(int y, int m, int d) {
    static constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 0 || y > 9999 || m < 1 || m > 12 || d < 1) {
        return false;
    }
    return d <= days[m - 1] + (m == 2 && leap(y) ? 1 : 0);
}

// "YYYY-MM-DD" (single-digit month and day allowed) into "YYYY-MM-DD"; the rest stays in `s`.
std::optional<std::string> parse_date_part(std::string_view& s) {
    int y = 0;
    int m = 0;
    int d = 0;
    if (!read_number(s, 4, y) || s.empty() || s.front() != '-') {
        return std::nullopt;
    }
    s.remove_prefix(1);
    if (!read_number(s, 2, m) || s.empty() || s.front() != '-') {
        return std::nullopt;
    }
    s.remove_prefix(1);
    if (!read_number(s, 2, d) || !valid_date(y, m, d)) {
        return std::nullopt;
    }
    return fmt::format("{:04}-{:02}-{:02}", y, m, d);
}

std::optional<std::string> normalize_datetime(std::string_view s) {
    auto date = parse_date_part(s);
    if (!date) {
        return std::nullopt;
    }
    if (s.empty()) {
        return *date + " 00:00:00";
    }
    if (s.front() != ' ' && s.front() != 'T') {
        return std::nullopt;
    }
    s.remove_prefix(1);
    int h = 0;
    int mi = 0;
    int se = 0;
    if (!read_number(s, 2, h) || s.empty() || s.front() != ':') {
        return std::nullopt;
    }
    s.remove_prefix(1);
    if (!read_number(s, 2, mi) || s.empty() || s.front() != ':') {
        return std::nullopt;
    }
    s.remove_prefix(1);
    if (!read_number(s, 2, se) || h > 23 || mi > 59 || se > 59) {
        return std::nullopt;
    }
    std::string out = fmt::format("{} {:02}:{:02}:{:02}", *date, h, mi, se);
    if (!s.empty()) {
        // Microseconds, as written (up to 6 digits); lexical order stays time order.
        if (s.front() != '.' || s.size() < 2 || s.size() > 7) {
            return std::nullopt;
        }
        for (char c : s.substr(1)) {
            if (!std::isdigit(static_cast<unsigned char>(c))) {
                return std::nullopt;
            }
        }
        out += s;
    }
    return out;
}

bool parse_double(std::string_view s, double& out) {
    std::string copy(s);
    char* end = nullptr;
    errno = 0;
    out = std::strtod(copy.c_str(), &end);
    return !copy.empty() && end == copy.c_str() + copy.size() && errno == 0;
}

bool valid_decimal(std::string_view s, const column_type& t) {
    if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
        s.remove_prefix(1);
    }
    auto dot = s.find('.');
    std::string_view whole = s.substr(0, dot);
    std::string_view fraction = dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
    if (whole.empty() && fraction.empty()) {
        return false;
    }
    for (std::string_view part : {whole, fraction}) {
        for (char c : part) {
            if (c < '0' || c > '9') {
                return false;
            }
        }
    }
    while (whole.size() > 1 && whole.front() == '0') {
        whole.remove_prefix(1);
    }
    size_t whole_digits = whole == "0" ? 0 : whole.size();
    return whole_digits <= static_cast<size_t>(t.precision - t.scale);
}

std::string min_text(const column_type& t) {
    if (t.is_integer()) {
        return int128_text(range_of(t.kind).min);
    }
    if (t.kind == type_kind::date) {
        return "0000-01-01";
    }
    if (t.kind == type_kind::datetime) {
        return "0000-01-01 00:00:00";
    }
    return std::string(min_value);
}

}  // namespace

std::optional<std::string> normalize_value(const column_type& t, std::string_view raw, std::string& error) {
    std::string_view text = t.is_string() || t.kind == type_kind::json ? raw : trim(raw);
    auto invalid = [&] {
        error = fmt::format("Invalid {} value: '{}'", t.to_sql(), raw);
        return std::nullopt;
    };
    switch (t.kind) {
    case type_kind::boolean: {
        if (iequals(text, "true") || text == "1") {
            return "true";
        }
        if (iequals(text, "false") || text == "0") {
            return "false";
        }
        return invalid();
    }
    case type_kind::tinyint:
    case type_kind::smallint:
    case type_kind::int_:
    case type_kind::bigint:
    case type_kind::largeint: {
        int128 v = 0;
        auto range = range_of(t.kind);
        if (!parse_int128(text, v) || v < range.min || v > range.max) {
            return invalid();
        }
        return int128_text(v);
    }
    case type_kind::float_:
    case type_kind::double_: {
        double v = 0;
        if (!parse_double(text, v)) {
            return invalid();
        }
        return std::string(text);
    }
    case type_kind::decimal:
        if (!valid_decimal(text, t)) {
            return invalid();
        }
        return std::string(text);
    case type_kind::date: {
        std::string_view rest = text;
        auto date = parse_date_part(rest);
        if (!date || !rest.empty()) {
            return invalid();
        }
        return date;
    }
    case type_kind::datetime: {
        auto v = normalize_datetime(text);
        if (!v) {
            return invalid();
        }
        return v;
    }
    case type_kind::char_:
    case type_kind::varchar:
        if (text.size() > static_cast<size_t>(t.length)) {
            error = fmt::format("String '{}' is too long for {}", raw, t.to_sql());
            return std::nullopt;
        }
        return std::string(text);
    case type_kind::string:
    case type_kind::json:
        return std::string(text);
    }
    return invalid();
}

int compare_values(const column_type& t, std::string_view a, std::string_view b) {
    auto rank = [](std::string_view v) { return v == min_value ? -1 : v == max_value ? 1 : 0; };
    int ra = rank(a);
    int rb = rank(b);
    if (ra != 0 || rb != 0) {
        return ra < rb ? -1 : ra > rb ? 1 : 0;
    }
    auto order = [](auto x, auto y) { return x < y ? -1 : x > y ? 1 : 0; };
    if (t.is_integer()) {
        int128 x = 0;
        int128 y = 0;
        parse_int128(a, x);
        parse_int128(b, y);
        return order(x, y);
    }
    if (t.is_floating() || t.kind == type_kind::decimal) {
        double x = 0;
        double y = 0;
        parse_double(a, x);
        parse_double(b, y);
        return order(x, y);
    }
    if (t.kind == type_kind::boolean) {
        return order(a == "true", b == "true");
    }
    // Dates and datetimes are zero-padded, so bytes order them as time; strings order by bytes.
    return order(a.compare(b), 0);
}

int compare_keys(std::span<const column_type> types, const std::vector<std::string>& a,
                 const std::vector<std::string>& b) {
    for (size_t i = 0; i < types.size() && i < a.size() && i < b.size(); ++i) {
        if (int c = compare_values(types[i], a[i], b[i]); c != 0) {
            return c;
        }
    }
    return 0;
}

std::string format_key(std::span<const column_type> types, const std::vector<std::string>& key) {
    std::string type_list;
    std::string key_list;
    for (size_t i = 0; i < types.size(); ++i) {
        type_list += (i == 0 ? "" : ", ") + types[i].to_sql();
        std::string v = i < key.size() ? key[i] : std::string(min_value);
        key_list += (i == 0 ? "" : ", ") + (v == min_value ? min_text(types[i]) : v);
    }
    return fmt::format("types: [{}]; keys: [{}]; ", type_list, key_list);
}

std::string format_range(std::span<const column_type> types, const std::vector<std::string>& lower,
                         const std::vector<std::string>& upper) {
    return fmt::format("[{}..{})", format_key(types, lower), format_key(types, upper));
}

std::string format_tuple(const std::vector<std::string>& values) {
    std::string out = "(";
    for (size_t i = 0; i < values.size(); ++i) {
        out += fmt::format("{}'{}'", i == 0 ? "" : ", ", values[i]);
    }
    return out + ")";
}

}  // namespace tv::storage
