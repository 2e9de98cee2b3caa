// SPDX-License-Identifier: Apache-2.0
// Date and time functions: year, month, day, hour, minute, second, to_date, date_add / date_sub
// (with INTERVAL), days_add and friends, datediff. DATE is days since the epoch, DATETIME
// microseconds; text arguments are read as DATETIME.
#include "io/ascii.hh"
#include "sql/expression/cast_detail.hh"
#include "sql/expression/eval_nodes.hh"
#include "storage/values.hh"

#include <map>

namespace tv::sql {

namespace {

using storage::column_type;
using storage::type_kind;

constexpr int64_t micros_per_day = storage::micros_per_day;

/// Brings a date-like argument to DATE or DATETIME (text and numbers become DATETIME).
sql_result<expr_ptr> temporal(expr_ptr e) {
    if (!e->null_literal() && types::is_temporal(e->type())) {
        return e;
    }
    return convert_if_needed(std::move(e), column_type{type_kind::datetime});
}

/// Microseconds of row i of a DATE or DATETIME argument.
int64_t micros_at(const value_vector& v, bool is_date, size_t i) {
    if (is_date) {
        return int64_t{v.column().values<int32_t>()[v.slot(i)]} * micros_per_day;
    }
    return v.column().values<int64_t>()[v.slot(i)];
}

template <class Out, class F>
sql_result<value_vector> rows_of(const kernel_args& k, F f) {
    std::vector<const value_vector*> ins;
    for (const auto& a : k.args) {
        ins.push_back(&a);
    }
    std::vector<uint8_t> nulls = vec::union_nulls(ins, k.n, k.self.nullable());
    std::vector<Out> out(k.n);
    for (size_t i = 0; i < k.n; ++i) {
        if (nulls.empty() || nulls[i] == 0) {
            std::optional<Out> v = f(i);
            if (v) {
                out[i] = *v;
            } else {
                nulls[i] = 1;  // only kernels whose result is nullable return nullopt
            }
        }
    }
    return result(storage::column_vector::from_values<Out>(k.self.nullable(), std::move(out), std::move(nulls)), k);
}

enum class part : uint8_t { year, month, day, hour, minute, second };

int64_t part_of(int64_t micros, part p) {
    int32_t days = cast_detail::date_of_datetime(micros);
    int64_t in_day = micros - int64_t{days} * micros_per_day;
    int64_t seconds = in_day / storage::micros_per_second;
    switch (p) {
    case part::year: return storage::civil_from_days(days).year;
    case part::month: return storage::civil_from_days(days).month;
    case part::day: return storage::civil_from_days(days).day;
    case part::hour: return seconds / 3600;
    case part::minute: return seconds / 60 % 60;
    case part::second: return seconds % 60;
    }
    return 0;
}

bool valid_year(int y) {
    return y >= 0 && y <= 9999;
}

/// micros plus `amount` months, the day clamped to the month's end (2024-01-31 + 1 month is
/// 2024-02-29); nullopt beyond year 9999.
std::optional<int64_t> add_months(int64_t micros, int64_t amount) {
    int32_t days = cast_detail::date_of_datetime(micros);
    int64_t time = micros - int64_t{days} * micros_per_day;
    auto c = storage::civil_from_days(days);
    if (amount > 120000 || amount < -120000) {
        return std::nullopt;
    }
    int64_t month_index = int64_t{c.year} * 12 + (c.month - 1) + amount;
    int year = static_cast<int>(month_index >= 0 ? month_index / 12 : (month_index - 11) / 12);
    auto month = static_cast<unsigned>(month_index - int64_t{year} * 12 + 1);
    if (!valid_year(year)) {
        return std::nullopt;
    }
    static constexpr unsigned month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned last = month_days[month - 1] + (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0));
    unsigned day = std::min(c.day, last);
    return int64_t{storage::days_from_civil(year, month, day)} * micros_per_day + time;
}

struct unit_info {
    int64_t micros = 0;  ///< fixed-length units
    int64_t months = 0;  ///< calendar units
    bool date_grain = false;
};

std::optional<unit_info> unit_of(std::string_view unit) {
    std::string u = ascii_upper(unit);
    if (u == "MICROSECOND") return unit_info{1, 0, false};
    if (u == "MILLISECOND") return unit_info{1000, 0, false};
    if (u == "SECOND") return unit_info{storage::micros_per_second, 0, false};
    if (u == "MINUTE") return unit_info{60 * storage::micros_per_second, 0, false};
    if (u == "HOUR") return unit_info{3600 * storage::micros_per_second, 0, false};
    if (u == "DAY") return unit_info{micros_per_day, 0, true};
    if (u == "WEEK") return unit_info{7 * micros_per_day, 0, true};
    if (u == "MONTH") return unit_info{0, 1, true};
    if (u == "QUARTER") return unit_info{0, 3, true};
    if (u == "YEAR") return unit_info{0, 12, true};
    return std::nullopt;
}

const int64_t min_micros = int64_t{storage::days_from_civil(0, 1, 1)} * micros_per_day;
const int64_t max_micros = int64_t{storage::days_from_civil(9999, 12, 31) + 1} * micros_per_day - 1;

}  // namespace

sql_result<expr_ptr> make_date_add(expr_ptr date, expr_ptr amount, std::string unit, bool subtract, std::string text) {
    auto u = unit_of(unit);
    if (!u) {
        return make_error(errc::parse, "Unsupported time unit {} in {}", unit, text);
    }
    auto d = temporal(std::move(date));
    if (!d) {
        return d;
    }
    auto a = convert_if_needed(std::move(amount), simple_type(type_kind::bigint));
    if (!a) {
        return a;
    }
    std::vector<expr_ptr> args{std::move(*d), std::move(*a)};
    const bool is_date = args[0]->type().kind == type_kind::date;
    const bool date_result = is_date && u->date_grain;
    const column_type out = date_result ? column_type{type_kind::date} : column_type{type_kind::datetime};
    const unit_info info = *u;
    auto step = [is_date, info, subtract](const kernel_args& k, size_t i) -> std::optional<int64_t> {
        int64_t base = micros_at(k.args[0], is_date, i);
        int64_t n = k.args[1].column().values<int64_t>()[k.args[1].slot(i)];
        if (subtract) {
            if (n == INT64_MIN) {
                return std::nullopt;
            }
            n = -n;
        }
        std::optional<int64_t> r;
        if (info.months != 0) {
            int64_t months = 0;
            if (__builtin_mul_overflow(n, info.months, &months)) {
                return std::nullopt;
            }
            r = add_months(base, months);
        } else {
            int64_t delta = 0;
            int64_t sum = 0;
            if (__builtin_mul_overflow(n, info.micros, &delta) || __builtin_add_overflow(base, delta, &sum)) {
                return std::nullopt;
            }
            r = sum;
        }
        if (!r || *r < min_micros || *r > max_micros) {
            return std::nullopt;  // outside 0000-01-01 .. 9999-12-31: NULL, as StarRocks
        }
        return r;
    };
    if (date_result) {
        return make_node(out, true, std::move(args), [step](const kernel_args& k) {
            return rows_of<int32_t>(k, [&](size_t i) -> std::optional<int32_t> {
                auto r = step(k, i);
                return r ? std::optional<int32_t>(cast_detail::date_of_datetime(*r)) : std::nullopt;
            });
        }, std::move(text));
    }
    return make_node(out, true, std::move(args), [step](const kernel_args& k) {
        return rows_of<int64_t>(k, [&](size_t i) { return step(k, i); });
    }, std::move(text));
}

std::optional<sql_result<expr_ptr>> make_date_function(std::string_view name, function_args& args,
                                                       const std::string& text) {
    static const std::map<std::string_view, part> parts = {
        {"year", part::year},     {"month", part::month},   {"day", part::day},       {"dayofmonth", part::day},
        {"hour", part::hour},     {"minute", part::minute}, {"second", part::second},
    };
    if (auto it = parts.find(name); it != parts.end()) {
        if (args.size() != 1) {
            return wrong_arg_count(name);
        }
        auto d = temporal(args[0]);
        if (!d) {
            return d;
        }
        std::vector<expr_ptr> in{std::move(*d)};
        const bool is_date = in[0]->type().kind == type_kind::date;
        const part p = it->second;
        bool nullable = in[0]->nullable();
        return make_node(column_type{type_kind::int_}, nullable, std::move(in), [is_date, p](const kernel_args& k) {
            return rows_of<int32_t>(k, [&](size_t i) -> std::optional<int32_t> {
                return static_cast<int32_t>(part_of(micros_at(k.args[0], is_date, i), p));
            });
        }, text);
    }
    if (name == "to_date" || name == "date") {
        if (args.size() != 1) {
            return wrong_arg_count(name);
        }
        return convert_if_needed(args[0], column_type{type_kind::date});
    }
    if (name == "datediff") {
        if (args.size() != 2) {
            return wrong_arg_count(name);
        }
        std::vector<expr_ptr> in;
        for (auto& a : args) {
            auto d = temporal(a);
            if (!d) {
                return d;
            }
            in.push_back(std::move(*d));
        }
        const bool a_date = in[0]->type().kind == type_kind::date;
        const bool b_date = in[1]->type().kind == type_kind::date;
        bool nullable = in[0]->nullable() || in[1]->nullable();
        return make_node(column_type{type_kind::int_}, nullable, std::move(in), [a_date, b_date](const kernel_args& k) {
            return rows_of<int32_t>(k, [&](size_t i) -> std::optional<int32_t> {
                return cast_detail::date_of_datetime(micros_at(k.args[0], a_date, i)) -
                       cast_detail::date_of_datetime(micros_at(k.args[1], b_date, i));
            });
        }, text);
    }
    // date_add(d, INTERVAL n unit) arrives from the compiler through make_date_add; the forms
    // with a plain number count days (or the unit the name says).
    static const std::map<std::string_view, std::pair<std::string_view, bool>> adders = {
        {"date_add", {"DAY", false}},     {"adddate", {"DAY", false}},      {"days_add", {"DAY", false}},
        {"date_sub", {"DAY", true}},      {"subdate", {"DAY", true}},       {"days_sub", {"DAY", true}},
        {"weeks_add", {"WEEK", false}},   {"weeks_sub", {"WEEK", true}},    {"months_add", {"MONTH", false}},
        {"months_sub", {"MONTH", true}},  {"years_add", {"YEAR", false}},   {"years_sub", {"YEAR", true}},
        {"hours_add", {"HOUR", false}},   {"hours_sub", {"HOUR", true}},    {"minutes_add", {"MINUTE", false}},
        {"minutes_sub", {"MINUTE", true}}, {"seconds_add", {"SECOND", false}}, {"seconds_sub", {"SECOND", true}},
    };
    if (auto it = adders.find(name); it != adders.end()) {
        if (args.size() != 2) {
            return wrong_arg_count(name);
        }
        return make_date_add(args[0], args[1], std::string(it->second.first), it->second.second, text);
    }
    return std::nullopt;
}

}  // namespace tv::sql
