// SPDX-License-Identifier: Apache-2.0
// Typed literal values: normalization, ordering and StarRocks-style key text.
#include "storage/values.hh"

#include <fmt/format.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace tv::storage {

namespace {

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

struct civil_fields {
    int y = 0;
    int m = 0;
    int d = 0;
    int h = 0;
    int mi = 0;
    int s = 0;
    std::string_view fraction;  // the digits after '.', as written (up to 6)
};

// "YYYY-MM-DD" (single-digit month and day allowed); the rest stays in `s`.
bool parse_date_part(std::string_view& s, civil_fields& out) {
    if (!read_number(s, 4, out.y) || s.empty() || s.front() != '-') {
        return false;
    }
    s.remove_prefix(1);
    if (!read_number(s, 2, out.m) || s.empty() || s.front() != '-') {
        return false;
    }
    s.remove_prefix(1);
    return read_number(s, 2, out.d) && valid_date(out.y, out.m, out.d);
}

// A DATE ("YYYY-MM-DD", nothing after it).
std::optional<civil_fields> parse_date_text(std::string_view s) {
    civil_fields f;
    if (!parse_date_part(s, f) || !s.empty()) {
        return std::nullopt;
    }
    return f;
}

// A DATETIME: a date, optionally ' ' or 'T' and H:MM:SS, optionally '.' and 1-6 digits.
std::optional<civil_fields> parse_datetime_text(std::string_view s) {
    civil_fields f;
    if (!parse_date_part(s, f)) {
        return std::nullopt;
    }
    if (s.empty()) {
        return f;
    }
    if (s.front() != ' ' && s.front() != 'T') {
        return std::nullopt;
    }
    s.remove_prefix(1);
    if (!read_number(s, 2, f.h) || s.empty() || s.front() != ':') {
        return std::nullopt;
    }
    s.remove_prefix(1);
    if (!read_number(s, 2, f.mi) || s.empty() || s.front() != ':') {
        return std::nullopt;
    }
    s.remove_prefix(1);
    if (!read_number(s, 2, f.s) || f.h > 23 || f.mi > 59 || f.s > 59) {
        return std::nullopt;
    }
    if (!s.empty()) {
        if (s.front() != '.' || s.size() < 2 || s.size() > 7) {
            return std::nullopt;
        }
        for (char c : s.substr(1)) {
            if (!std::isdigit(static_cast<unsigned char>(c))) {
                return std::nullopt;
            }
        }
        f.fraction = s.substr(1);
    }
    return f;
}

int64_t datetime_micros(const civil_fields& f) {
    int64_t micros = 0;
    for (size_t i = 0; i < 6; ++i) {
        micros = micros * 10 + (i < f.fraction.size() ? f.fraction[i] - '0' : 0);
    }
    int64_t days = days_from_civil(f.y, static_cast<unsigned>(f.m), static_cast<unsigned>(f.d));
    return days * micros_per_day + ((f.h * 60 + f.mi) * 60 + f.s) * micros_per_second + micros;
}

// strtod's grammar (inf and nan included); false on junk or overflow. Underflow to a tiny or
// zero value is accepted.
bool parse_double(std::string_view s, double& out) {
    std::string copy(s);
    char* end = nullptr;
    errno = 0;
    out = std::strtod(copy.c_str(), &end);
    if (copy.empty() || end != copy.c_str() + copy.size()) {
        return false;
    }
    return errno != ERANGE || std::abs(out) < 1.0;
}

// 10^n for n <= 38.
int128 pow10_128(int n) {
    int128 v = 1;
    for (int i = 0; i < n; ++i) {
        v *= 10;
    }
    return v;
}

// "[+-]digits[.digits][e[+-]digits]" as DECIMAL(p, s)'s unscaled value, rounded half away from
// zero to `s` fraction digits; nullopt on junk or when it needs more than p digits.
std::optional<int128> parse_decimal(std::string_view s, const column_type& t) {
    bool negative = false;
    if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
        negative = s.front() == '-';
        s.remove_prefix(1);
    }
    std::string digits;  // every mantissa digit, leading zeros dropped
    int exponent = 0;    // value = digits * 10^exponent
    bool any = false;
    bool in_fraction = false;
    while (!s.empty()) {
        char c = s.front();
        if (c >= '0' && c <= '9') {
            any = true;
            if (!(digits.empty() && c == '0')) {
                digits.push_back(c);
            }
            if (in_fraction) {
                --exponent;
            }
        } else if (c == '.' && !in_fraction) {
            in_fraction = true;
        } else {
            break;
        }
        s.remove_prefix(1);
    }
    if (!any) {
        return std::nullopt;
    }
    if (!s.empty()) {
        if (s.front() != 'e' && s.front() != 'E') {
            return std::nullopt;
        }
        s.remove_prefix(1);
        int e = 0;
        if (!s.empty() && s.front() == '+') {
            s.remove_prefix(1);
        }
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), e);
        if (ec != std::errc{} || end != s.data() + s.size() || e > 1000 || e < -1000) {
            return std::nullopt;
        }
        exponent += e;
    }
    // unscaled = digits * 10^shift
    int shift = exponent + t.scale;
    bool round_up = false;
    if (shift < 0) {
        size_t drop = static_cast<size_t>(-shift);
        if (drop > digits.size()) {
            digits.clear();
        } else {
            round_up = digits[digits.size() - drop] >= '5';
            digits.resize(digits.size() - drop);
        }
        shift = 0;
    }
    if (static_cast<int>(digits.size()) + shift > t.precision) {
        return std::nullopt;
    }
    int128 v = 0;
    for (char c : digits) {
        v = v * 10 + (c - '0');
    }
    v = v * pow10_128(shift) + (round_up ? 1 : 0);
    if (v >= pow10_128(t.precision)) {
        return std::nullopt;  // 9.995 as DECIMAL(3, 2) rounds to 10.00
    }
    return negative ? -v : v;
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

cell owned_value::as_cell() const {
    return std::visit(
        [](const auto& v) -> cell {
            if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::string>) {
                return std::string_view(v);
            } else {
                return v;
            }
        },
        static_cast<const variant&>(*this));
}

// Howard Hinnant's days_from_civil / civil_from_days (public domain algorithms).
int32_t days_from_civil(int y, unsigned m, unsigned d) noexcept {
    y -= m <= 2 ? 1 : 0;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int32_t>(doe) - 719468;
}

civil_date civil_from_days(int32_t z) noexcept {
    int64_t zz = static_cast<int64_t>(z) + 719468;
    const int64_t era = (zz >= 0 ? zz : zz - 146096) / 146097;
    const auto doe = static_cast<unsigned>(zz - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = static_cast<int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
    return civil_date{static_cast<int>(y), m, d};
}

storage_result<owned_value> parse_typed(const column_type& t, std::string_view raw) {
    std::string_view text = t.is_string() || t.kind == type_kind::json ? raw : trim(raw);
    auto invalid = [&]() {
        return make_error(storage_errc::invalid_value, fmt::format("Invalid {} value: '{}'", t.to_sql(), raw));
    };
    switch (t.kind) {
    case type_kind::boolean:
        if (iequals(text, "true") || text == "1") {
            return owned_value(true);
        }
        if (iequals(text, "false") || text == "0") {
            return owned_value(false);
        }
        return invalid();
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
        switch (t.kind) {
        case type_kind::tinyint: return owned_value(static_cast<int8_t>(v));
        case type_kind::smallint: return owned_value(static_cast<int16_t>(v));
        case type_kind::int_: return owned_value(static_cast<int32_t>(v));
        case type_kind::bigint: return owned_value(static_cast<int64_t>(v));
        default: return owned_value(v);
        }
    }
    case type_kind::float_:
    case type_kind::double_: {
        double v = 0;
        if (!parse_double(text, v)) {
            return invalid();
        }
        if (t.kind == type_kind::double_) {
            return owned_value(v);
        }
        if (std::isfinite(v) && std::abs(v) > static_cast<double>(std::numeric_limits<float>::max())) {
            return invalid();
        }
        return owned_value(static_cast<float>(v));
    }
    case type_kind::decimal: {
        auto v = parse_decimal(text, t);
        if (!v) {
            return invalid();
        }
        return owned_value(*v);
    }
    case type_kind::date: {
        auto f = parse_date_text(text);
        if (!f) {
            return invalid();
        }
        return owned_value(days_from_civil(f->y, static_cast<unsigned>(f->m), static_cast<unsigned>(f->d)));
    }
    case type_kind::datetime: {
        auto f = parse_datetime_text(text);
        if (!f) {
            return invalid();
        }
        return owned_value(datetime_micros(*f));
    }
    case type_kind::char_:
    case type_kind::varchar:
        if (text.size() > static_cast<size_t>(t.length)) {
            return make_error(storage_errc::invalid_value,
                              fmt::format("String '{}' is too long for {}", raw, t.to_sql()));
        }
        return owned_value(std::string(text));
    case type_kind::string:
    case type_kind::json:
        return owned_value(std::string(text));
    }
    return invalid();
}

namespace {

template <class T>
std::string float_text(T v) {
    if (std::isnan(v)) {
        return "nan";
    }
    if (std::isinf(v)) {
        return v < 0 ? "-inf" : "inf";
    }
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
    return std::string(buf, end);
}

std::string decimal_text(int128 v, int scale) {
    std::string digits = int128_to_string(v < 0 ? -v : v);  // -min never occurs: |v| < 10^38
    if (scale > 0) {
        if (digits.size() <= static_cast<size_t>(scale)) {
            digits.insert(0, static_cast<size_t>(scale) + 1 - digits.size(), '0');
        }
        digits.insert(digits.size() - static_cast<size_t>(scale), 1, '.');
    }
    return v < 0 ? "-" + digits : digits;
}

std::string date_text(int32_t days) {
    civil_date d = civil_from_days(days);
    return fmt::format("{:04}-{:02}-{:02}", d.year, d.month, d.day);
}

std::string datetime_text(int64_t micros) {
    int64_t days = micros / micros_per_day;
    int64_t rest = micros % micros_per_day;
    if (rest < 0) {
        rest += micros_per_day;
        --days;
    }
    int64_t seconds = rest / micros_per_second;
    int64_t fraction = rest % micros_per_second;
    std::string out = fmt::format("{} {:02}:{:02}:{:02}", date_text(static_cast<int32_t>(days)), seconds / 3600,
                                  seconds / 60 % 60, seconds % 60);
    if (fraction != 0) {
        out += fmt::format(".{:06}", fraction);
    }
    return out;
}

}  // namespace

std::string format_typed(const column_type& t, const cell& c) {
    if (storage::is_null(c) || c.index() != static_cast<size_t>(physical_of(t.kind)) + 1) {
        return {};
    }
    switch (t.kind) {
    case type_kind::boolean: return std::get<bool>(c) ? "1" : "0";
    case type_kind::tinyint: return fmt::format("{}", std::get<int8_t>(c));
    case type_kind::smallint: return fmt::format("{}", std::get<int16_t>(c));
    case type_kind::int_: return fmt::format("{}", std::get<int32_t>(c));
    case type_kind::bigint: return fmt::format("{}", std::get<int64_t>(c));
    case type_kind::largeint: return int128_to_string(std::get<int128>(c));
    case type_kind::float_: return float_text(std::get<float>(c));
    case type_kind::double_: return float_text(std::get<double>(c));
    case type_kind::decimal: return decimal_text(std::get<int128>(c), t.scale);
    case type_kind::date: return date_text(std::get<int32_t>(c));
    case type_kind::datetime: return datetime_text(std::get<int64_t>(c));
    case type_kind::char_:
    case type_kind::varchar:
    case type_kind::string:
    case type_kind::json: return std::string(std::get<std::string_view>(c));
    }
    return {};
}

storage_result<std::string> normalize_value(const column_type& t, std::string_view raw) {
    // parse_typed() decides what is valid, so both always agree; the text kept here is the
    // catalog's canonical form (bounds and defaults as SHOW CREATE TABLE prints them).
    auto v = parse_typed(t, raw);
    if (!v) {
        return v.error();
    }
    std::string_view text = t.is_string() || t.kind == type_kind::json ? raw : trim(raw);
    switch (t.kind) {
    case type_kind::boolean: return std::get<bool>(*v) ? "true" : "false";
    case type_kind::tinyint:
    case type_kind::smallint:
    case type_kind::int_:
    case type_kind::bigint:
    case type_kind::largeint: return format_typed(t, v->as_cell());
    case type_kind::date: return format_typed(t, v->as_cell());
    case type_kind::datetime: {
        // Microseconds as written: lexical order stays time order.
        auto f = parse_datetime_text(text);
        std::string out = fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", f->y, f->m, f->d, f->h, f->mi, f->s);
        if (!f->fraction.empty()) {
            out += fmt::format(".{}", f->fraction);
        }
        return out;
    }
    default: return std::string(text);
    }
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
        // Appended piece by piece: GCC 12's -Wrestrict misfires on `"literal" + string`.
        std::string_view sep = i == 0 ? "" : ", ";
        type_list.append(sep).append(types[i].to_sql());
        std::string v = i < key.size() ? key[i] : std::string(min_value);
        key_list.append(sep).append(v == min_value ? min_text(types[i]) : v);
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
