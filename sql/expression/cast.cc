// SPDX-License-Identifier: Apache-2.0
// Column conversions between fixed-width types (numbers, dates, booleans): one tight loop per
// source/target pair, values checked against the target's range and precision.
#include "sql/expression/cast.hh"

#include "sql/expression/cast_detail.hh"
#include "sql/expression/eval_vector.hh"
#include "storage/values.hh"

#include <cmath>
#include <limits>

namespace tv::sql {

namespace cast_detail {

int128 pow10(int n) {
    static const auto table = [] {
        std::array<int128, 39> t{};
        t[0] = 1;
        for (size_t i = 1; i < t.size(); ++i) {
            t[i] = t[i - 1] * 10;
        }
        return t;
    }();
    return table[static_cast<size_t>(std::clamp(n, 0, 38))];
}

int128 div_round(int128 v, int128 divisor) {
    int128 q = v / divisor;
    int128 r = v % divisor;
    if (r < 0 ? -r * 2 >= divisor : r * 2 >= divisor) {
        q += v < 0 ? -1 : 1;  // half away from zero, as the loaders round
    }
    return q;
}

bool rescale(int128 v, int from_scale, int to_scale, int128& out) {
    if (to_scale >= from_scale) {
        return !__builtin_mul_overflow(v, pow10(to_scale - from_scale), &out);
    }
    out = div_round(v, pow10(from_scale - to_scale));
    return true;
}

bool fits_precision(int128 v, int precision) {
    int128 limit = pow10(precision);
    return v < limit && v > -limit;
}

std::optional<int32_t> date_of_number(int128 v) {
    if (v < 101 || v > 99991231) {
        return std::nullopt;
    }
    auto y = static_cast<int>(v / 10000);
    auto m = static_cast<unsigned>(v / 100 % 100);
    auto d = static_cast<unsigned>(v % 100);
    static constexpr unsigned days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1 || d > days[m - 1]) {
        return std::nullopt;
    }
    if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) {
        return std::nullopt;
    }
    return storage::days_from_civil(y, m, d);
}

std::optional<int64_t> datetime_of_number(int128 v) {
    if (v <= 99991231) {
        auto d = date_of_number(v);
        return d ? std::optional<int64_t>(int64_t{*d} * storage::micros_per_day) : std::nullopt;
    }
    auto d = date_of_number(v / 1000000);
    int64_t hms = static_cast<int64_t>(v % 1000000);
    int64_t h = hms / 10000;
    int64_t mi = hms / 100 % 100;
    int64_t s = hms % 100;
    if (!d || h > 23 || mi > 59 || s > 59) {
        return std::nullopt;
    }
    return int64_t{*d} * storage::micros_per_day + ((h * 60 + mi) * 60 + s) * storage::micros_per_second;
}

int64_t number_of_date(int32_t days) {
    auto c = storage::civil_from_days(days);
    return int64_t{c.year} * 10000 + c.month * 100 + c.day;
}

int64_t number_of_datetime(int64_t micros) {
    int64_t days = micros / storage::micros_per_day;
    int64_t rest = micros % storage::micros_per_day;
    if (rest < 0) {
        rest += storage::micros_per_day;
        --days;
    }
    int64_t s = rest / storage::micros_per_second;
    return number_of_date(static_cast<int32_t>(days)) * 1000000 + s / 3600 * 10000 + s / 60 % 60 * 100 + s % 60;
}

int32_t date_of_datetime(int64_t micros) {
    int64_t days = micros / storage::micros_per_day;
    if (micros % storage::micros_per_day < 0) {
        --days;
    }
    return static_cast<int32_t>(days);
}

}  // namespace cast_detail

namespace {

using namespace cast_detail;
using storage::column_type;
using storage::column_vector;
using storage::type_kind;
using vec::fixed_builder;

struct int_range {
    int128 min;
    int128 max;
};

int_range range_of(type_kind k) {
    constexpr int128 max128 = static_cast<int128>((static_cast<unsigned __int128>(1) << 127) - 1);
    switch (k) {
    case type_kind::boolean: return {0, 1};
    case type_kind::tinyint: return {INT8_MIN, INT8_MAX};
    case type_kind::smallint: return {INT16_MIN, INT16_MAX};
    case type_kind::int_: return {INT32_MIN, INT32_MAX};
    case type_kind::bigint: return {INT64_MIN, INT64_MAX};
    default: return {-max128 - 1, max128};
    }
}

/// The source value of one row in the form a target family wants, or a failure.
enum class family : uint8_t { exact, floating, date, datetime, boolean };

/// Reads row `s` of a fixed-width source as an exact number (integers, LARGEINT, DECIMAL at
/// its own scale `scale`; dates as yyyymmdd numbers).
template <class S>
int128 exact_of(S v, const column_type& from) {
    if constexpr (std::is_floating_point_v<S>) {
        return 0;  // not used: floating sources have their own path
    } else if (from.kind == type_kind::date) {
        return number_of_date(static_cast<int32_t>(v));
    } else if (from.kind == type_kind::datetime) {
        return number_of_datetime(static_cast<int64_t>(v));
    } else {
        return static_cast<int128>(v);
    }
}

/// Runs `f(source value, failure&) -> D` over the rows, handling NULLs and failures.
template <class S, class D, class F>
column_vector loop(const column_vector& in, bool constant, size_t n, bool to_nullable,
                   std::vector<cast_failure>& failures, F&& f) {
    auto src = in.values<S>();
    auto nulls = in.nulls();
    bool check_nulls = in.nullable() && in.null_count() != 0;
    fixed_builder<D> out(n, to_nullable);
    auto fail = [&](size_t i, cast_failure why) {
        if (failures.empty()) {
            failures.assign(n, cast_failure::none);
        }
        failures[i] = why;
        if (to_nullable) {
            out.set_null(i);
        } else {
            out.values[i] = D{};
        }
    };
    for (size_t i = 0; i < n; ++i) {
        size_t s = constant ? 0 : i;
        if (check_nulls && nulls[s] != 0) {
            if (to_nullable) {
                out.set_null(i);
            } else {
                fail(i, cast_failure::null);
            }
            continue;
        }
        cast_failure why = cast_failure::none;
        D v = f(src[s], why);
        if (why != cast_failure::none) {
            fail(i, why);
        } else {
            out.values[i] = v;
        }
    }
    return out.finish();
}

/// Integer, LARGEINT and BOOLEAN targets.
template <class S, class D>
column_vector to_integer(const column_vector& in, bool constant, size_t n, const cast_request& r,
                         std::vector<cast_failure>& failures) {
    const int_range range = range_of(r.to.kind);
    const bool boolean = r.to.kind == type_kind::boolean;
    if constexpr (std::is_floating_point_v<S>) {
        return loop<S, D>(in, constant, n, r.to_nullable, failures, [&](S v, cast_failure& why) -> D {
            if (boolean) {
                return static_cast<D>(v != 0);
            }
            double t = std::trunc(static_cast<double>(v));
            if (!(t >= static_cast<double>(range.min) && t <= static_cast<double>(range.max)) ||
                t >= 1.7014118346046923e38 || t < -1.7014118346046923e38) {
                why = cast_failure::out_of_range;
                return D{};
            }
            return static_cast<D>(static_cast<int128>(t));
        });
    } else {
        const column_type from = r.from;
        auto check = [&](int128 v, cast_failure& why) -> D {
            if (boolean) {
                return static_cast<D>(v != 0);
            }
            if (v < range.min || v > range.max) {
                why = cast_failure::out_of_range;
                return D{};
            }
            return static_cast<D>(v);
        };
        // One loop per source kind, so the plain integer loop carries no division or date work.
        if (from.kind == type_kind::decimal) {
            const int128 divisor = pow10(from.scale);
            return loop<S, D>(in, constant, n, r.to_nullable, failures, [&](S raw, cast_failure& why) -> D {
                auto v = static_cast<int128>(raw);
                // DECIMAL to an integer truncates toward zero; to BOOLEAN any non-zero is true.
                return check(boolean ? v : v / divisor, why);
            });
        }
        if (from.kind == type_kind::date || from.kind == type_kind::datetime) {
            return loop<S, D>(in, constant, n, r.to_nullable, failures,
                              [&](S raw, cast_failure& why) -> D { return check(exact_of(raw, from), why); });
        }
        return loop<S, D>(in, constant, n, r.to_nullable, failures,
                          [&](S raw, cast_failure& why) -> D { return check(static_cast<int128>(raw), why); });
    }
}

template <class S, class D>
column_vector to_floating(const column_vector& in, bool constant, size_t n, const cast_request& r,
                          std::vector<cast_failure>& failures) {
    const column_type from = r.from;
    const double scale = from.kind == type_kind::decimal ? static_cast<double>(pow10(from.scale)) : 1.0;
    return loop<S, D>(in, constant, n, r.to_nullable, failures, [&](S raw, cast_failure& why) -> D {
        double v = 0;
        if constexpr (std::is_floating_point_v<S>) {
            v = static_cast<double>(raw);
        } else {
            v = static_cast<double>(exact_of(raw, from)) / scale;
        }
        if constexpr (std::is_same_v<D, float>) {
            if (std::isfinite(v) && std::fabs(v) > static_cast<double>(std::numeric_limits<float>::max())) {
                why = cast_failure::out_of_range;
                return 0;
            }
        }
        return static_cast<D>(v);
    });
}

template <class S>
column_vector to_decimal(const column_vector& in, bool constant, size_t n, const cast_request& r,
                         std::vector<cast_failure>& failures) {
    const column_type from = r.from;
    const column_type to = r.to;
    const int from_scale = from.kind == type_kind::decimal ? from.scale : 0;
    return loop<S, int128>(in, constant, n, r.to_nullable, failures, [&](S raw, cast_failure& why) -> int128 {
        int128 v = 0;
        if constexpr (std::is_floating_point_v<S>) {
            double d = std::round(static_cast<double>(raw) * static_cast<double>(pow10(to.scale)));
            if (!std::isfinite(d) || std::fabs(d) >= 1e38) {
                why = cast_failure::out_of_range;
                return 0;
            }
            v = static_cast<int128>(d);
        } else if (!rescale(exact_of(raw, from), from_scale, to.scale, v)) {
            why = cast_failure::out_of_range;
            return 0;
        }
        if (!fits_precision(v, to.precision)) {
            why = cast_failure::out_of_range;
            return 0;
        }
        return v;
    });
}

template <class S>
column_vector to_date(const column_vector& in, bool constant, size_t n, const cast_request& r,
                      std::vector<cast_failure>& failures) {
    const column_type from = r.from;
    return loop<S, int32_t>(in, constant, n, r.to_nullable, failures, [&](S raw, cast_failure& why) -> int32_t {
        if constexpr (!std::is_floating_point_v<S>) {
            if (from.kind == type_kind::date) {
                return static_cast<int32_t>(raw);
            }
            if (from.kind == type_kind::datetime) {
                return date_of_datetime(static_cast<int64_t>(raw));
            }
            if (from.kind != type_kind::decimal && from.kind != type_kind::boolean) {
                if (auto d = date_of_number(static_cast<int128>(raw))) {
                    return *d;
                }
            }
        }
        why = cast_failure::invalid;
        return 0;
    });
}

template <class S>
column_vector to_datetime(const column_vector& in, bool constant, size_t n, const cast_request& r,
                          std::vector<cast_failure>& failures) {
    const column_type from = r.from;
    return loop<S, int64_t>(in, constant, n, r.to_nullable, failures, [&](S raw, cast_failure& why) -> int64_t {
        if constexpr (!std::is_floating_point_v<S>) {
            if (from.kind == type_kind::date) {
                return int64_t{static_cast<int32_t>(raw)} * storage::micros_per_day;
            }
            if (from.kind == type_kind::datetime) {
                return static_cast<int64_t>(raw);
            }
            if (from.kind != type_kind::decimal && from.kind != type_kind::boolean) {
                if (auto d = datetime_of_number(static_cast<int128>(raw))) {
                    return *d;
                }
            }
        }
        why = cast_failure::invalid;
        return 0;
    });
}

template <class S>
column_vector fixed_to_fixed(const column_vector& in, bool constant, size_t n, const cast_request& r,
                             std::vector<cast_failure>& failures) {
    switch (r.to.kind) {
    case type_kind::boolean: return to_integer<S, uint8_t>(in, constant, n, r, failures);
    case type_kind::tinyint: return to_integer<S, int8_t>(in, constant, n, r, failures);
    case type_kind::smallint: return to_integer<S, int16_t>(in, constant, n, r, failures);
    case type_kind::int_: return to_integer<S, int32_t>(in, constant, n, r, failures);
    case type_kind::bigint: return to_integer<S, int64_t>(in, constant, n, r, failures);
    case type_kind::largeint: return to_integer<S, int128>(in, constant, n, r, failures);
    case type_kind::float_: return to_floating<S, float>(in, constant, n, r, failures);
    case type_kind::double_: return to_floating<S, double>(in, constant, n, r, failures);
    case type_kind::decimal: return to_decimal<S>(in, constant, n, r, failures);
    case type_kind::date: return to_date<S>(in, constant, n, r, failures);
    case type_kind::datetime: return to_datetime<S>(in, constant, n, r, failures);
    default: break;
    }
    throw std::logic_error("fixed_to_fixed with a string target");
}

bool same_type(const column_type& a, const column_type& b) {
    if (a.kind != b.kind) {
        return false;
    }
    if (a.kind == type_kind::decimal) {
        return a.scale == b.scale && a.precision <= b.precision;
    }
    return true;
}

}  // namespace

column_vector cast_column(const column_vector& in, bool constant, size_t n, const cast_request& req,
                          std::vector<cast_failure>& failures) {
    const bool to_string = storage::physical_of(req.to.kind) == storage::physical_type::bytes;
    const bool from_string = in.type() == storage::physical_type::bytes;
    if (from_string || to_string) {
        return cast_detail::cast_text(in, constant, n, req, failures);
    }
    if (same_type(req.from, req.to) && !constant && (req.to_nullable || in.null_count() == 0)) {
        return vec::with_nullability(value_vector::borrow(in).materialize(n), req.to_nullable);
    }
    return vec::dispatch(in.type(), [&](auto t) -> column_vector {
        using S = typename decltype(t)::type;
        if constexpr (vec::is_bytes<S>) {
            throw std::logic_error("unreachable");
        } else {
            return fixed_to_fixed<S>(in, constant, n, req, failures);
        }
    });
}

bool cast_can_fail(const column_type& from, const column_type& to, bool check_length) {
    // Integer digits a value of `t` can have (99: unbounded or not a number).
    auto digits = [](const column_type& t) -> int {
        switch (t.kind) {
        case type_kind::boolean: return 1;
        case type_kind::tinyint: return 3;
        case type_kind::smallint: return 5;
        case type_kind::int_: return 10;
        case type_kind::bigint: return 19;
        case type_kind::largeint: return 39;
        case type_kind::decimal: return t.precision - t.scale;
        case type_kind::date: return 8;
        case type_kind::datetime: return 14;
        default: return 99;
        }
    };
    // The longest text of a value of `t`.
    auto text_length = [&](const column_type& t) -> int {
        switch (t.kind) {
        case type_kind::char_:
        case type_kind::varchar: return t.length;
        case type_kind::string:
        case type_kind::json: return INT32_MAX;
        case type_kind::float_:
        case type_kind::double_: return 24;
        case type_kind::decimal: return t.precision + 2;
        case type_kind::date: return 10;
        case type_kind::datetime: return 26;
        default: return digits(t) + 1;
        }
    };
    const bool from_text = from.is_string() || from.kind == type_kind::json;
    if (to.is_string() || to.kind == type_kind::json) {
        return check_length && (to.kind == type_kind::char_ || to.kind == type_kind::varchar) &&
               text_length(from) > to.length;
    }
    if (from_text) {
        return true;
    }
    if (from.kind == to.kind && to.kind != type_kind::decimal) {
        return false;
    }
    switch (to.kind) {
    case type_kind::boolean:
    case type_kind::double_: return false;
    case type_kind::float_: return from.kind == type_kind::double_;
    case type_kind::tinyint:
    case type_kind::smallint:
    case type_kind::int_:
    case type_kind::bigint:
    case type_kind::largeint: return digits(from) >= digits(to);
    case type_kind::decimal:
        return from.is_floating() || digits(from) > to.precision - to.scale ||
               (from.kind == type_kind::decimal && from.scale > to.scale);
    case type_kind::date:
    case type_kind::datetime: return from.kind != type_kind::date && from.kind != type_kind::datetime;
    default: return true;
    }
}

}  // namespace tv::sql
