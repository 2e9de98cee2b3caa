// SPDX-License-Identifier: Apache-2.0
// Numeric functions: abs, ceil / ceiling, floor, round, mod.
#include "sql/expression/cast_detail.hh"
#include "sql/expression/eval_nodes.hh"

#include <cmath>

namespace tv::sql {

namespace {

using storage::column_type;
using storage::type_kind;
using vec::int128;

sql_error overflow(std::string_view type, const std::string& text) {
    return make_error(errc::out_of_range, "{} value is out of range in '{}'", type, text);
}

/// out[i] = f(in[i]) over a fixed-width column with NULLs kept (and zero in their slots);
/// an error from f fails the statement.
template <class In, class Out, class F>
sql_result<value_vector> map_rows(const kernel_args& k, F f) {
    const value_vector& v = k.args[0];
    auto in = v.column().values<In>();
    std::vector<uint8_t> nulls(v.column().nulls().begin(), v.column().nulls().end());
    if (!k.self.nullable()) {
        nulls.clear();
    }
    std::vector<Out> out(k.n);
    for (size_t i = 0; i < k.n; ++i) {
        if (v.column().is_null(i)) {
            continue;
        }
        sql_result<void> mapped = f(in[i], out[i]);
        if (!mapped) {
            return mapped.error();
        }
    }
    return result(storage::column_vector::from_values<Out>(k.self.nullable(), std::move(out), std::move(nulls)), k);
}

/// The numeric type a math function works in: BIGINT for the small integers, DOUBLE for text.
column_type working_type(const column_type& t) {
    if (types::is_integral(t) || types::is_temporal(t)) {
        return simple_type(type_kind::bigint);
    }
    if (t.kind == type_kind::largeint || t.kind == type_kind::decimal || t.kind == type_kind::double_) {
        return t;
    }
    return simple_type(type_kind::double_);
}

double pow10d(int64_t n) {
    return std::pow(10.0, static_cast<double>(n));
}

double round_double(double x, int64_t d) {
    if (d == 0) {
        return std::round(x);
    }
    double f = pow10d(d);
    double r = std::round(x * f) / f;
    return std::isfinite(r) ? r : x;
}

int128 round_exact(int128 v, int64_t digits) {
    if (digits <= 0 || digits > 38) {
        return digits > 38 ? 0 : v;
    }
    int128 p = cast_detail::pow10(static_cast<int>(digits));
    return cast_detail::div_round(v, p) * p;
}

sql_result<expr_ptr> unary_numeric(std::string_view name, function_args& args, const std::string& text) {
    auto c = convert_if_needed(args[0], working_type(args[0]->null_literal() ? column_type{type_kind::bigint}
                                                                              : args[0]->type()));
    if (!c) {
        return c;
    }
    expr_ptr x = std::move(*c);
    const column_type t = x->type();
    const bool nullable = x->nullable();
    std::vector<expr_ptr> in{x};
    if (name == "abs") {
        return make_node(t, nullable, std::move(in), [t](const kernel_args& k) -> sql_result<value_vector> {
            switch (t.kind) {
            case type_kind::bigint:
                return map_rows<int64_t, int64_t>(k, [&](int64_t v, int64_t& out) -> sql_result<void> {
                    if (v == INT64_MIN) {
                        return overflow("BIGINT", k.text);
                    }
                    out = v < 0 ? -v : v;
                    return {};
                });
            case type_kind::double_:
                return map_rows<double, double>(k, [](double v, double& out) -> sql_result<void> {
                    out = std::fabs(v);
                    return {};
                });
            default:  // LARGEINT, DECIMAL
                return map_rows<int128, int128>(k, [](int128 v, int128& out) -> sql_result<void> {
                    out = v < 0 ? -v : v;
                    return {};
                });
            }
        }, text);
    }
    // ceil / floor: BIGINT results, as StarRocks.
    const bool up = name != "floor";
    const int scale = t.kind == type_kind::decimal ? t.scale : 0;
    return make_node(simple_type(type_kind::bigint), nullable, std::move(in),
                     [t, up, scale](const kernel_args& k) -> sql_result<value_vector> {
        switch (t.kind) {
        case type_kind::bigint:
            return map_rows<int64_t, int64_t>(k, [](int64_t v, int64_t& out) -> sql_result<void> {
                out = v;
                return {};
            });
        case type_kind::double_:
            return map_rows<double, int64_t>(k, [&](double v, int64_t& out) -> sql_result<void> {
                double r = up ? std::ceil(v) : std::floor(v);
                if (!(r >= -9223372036854775808.0 && r < 9223372036854775808.0)) {
                    return overflow("BIGINT", k.text);
                }
                out = static_cast<int64_t>(r);
                return {};
            });
        default:
            return map_rows<int128, int64_t>(k, [&](int128 v, int64_t& out) -> sql_result<void> {
                int128 p = cast_detail::pow10(scale);
                int128 q = v / p;
                if (v % p != 0 && (v > 0) == up) {
                    q += up ? 1 : -1;
                }
                if (q < INT64_MIN || q > INT64_MAX) {
                    return overflow("BIGINT", k.text);
                }
                out = static_cast<int64_t>(q);
                return {};
            });
        }
    }, text);
}

sql_result<expr_ptr> round_function(function_args& args, const std::string& text) {
    auto c = convert_if_needed(args[0], working_type(args[0]->null_literal() ? column_type{type_kind::double_}
                                                                              : args[0]->type()));
    if (!c) {
        return c;
    }
    expr_ptr x = std::move(*c);
    expr_ptr digits = make_constant(simple_type(type_kind::bigint), int64_t{0});
    if (args.size() == 2) {
        auto d = convert_if_needed(args[1], simple_type(type_kind::bigint));
        if (!d) {
            return d;
        }
        digits = std::move(*d);
    }
    column_type t = x->type();
    column_type out_type = t;
    if (t.kind == type_kind::decimal) {
        // StarRocks: DECIMAL(38, d) for a literal d, the argument's scale otherwise.
        int scale = t.scale;
        if (digits->constant()) {
            static const storage::column_batch empty;
            auto v = digits->eval(empty);
            if (!v) {
                return v.error();
            }
            const auto& dv = *v;
            scale = dv.is_null(0) ? t.scale : static_cast<int>(std::clamp<int64_t>(dv.column().values<int64_t>()[0], 0, 38));
        }
        out_type = types::decimal(38, scale);
    }
    bool nullable = x->nullable() || digits->nullable();
    std::vector<expr_ptr> in{x, digits};
    return make_node(out_type, nullable, std::move(in), [t, out_type](const kernel_args& k) -> sql_result<value_vector> {
        const value_vector& v = k.args[0];
        const value_vector& d = k.args[1];
        const value_vector* ins[] = {&v, &d};
        std::vector<uint8_t> nulls = vec::union_nulls(ins, k.n, k.self.nullable());
        auto digits_at = [&](size_t i) { return d.column().values<int64_t>()[d.slot(i)]; };
        auto is_null = [&](size_t i) { return !nulls.empty() && nulls[i] != 0; };
        return vec::dispatch(vec::physical(t), [&](auto tag) -> sql_result<value_vector> {
            using T = typename decltype(tag)::type;
            if constexpr (std::is_same_v<T, double>) {
                auto in = v.column().values<double>();
                std::vector<double> out(k.n);
                for (size_t i = 0; i < k.n; ++i) {
                    out[i] = is_null(i) ? 0 : round_double(in[v.slot(i)], digits_at(i));
                }
                return result(storage::column_vector::from_values<double>(k.self.nullable(), std::move(out),
                                                                          std::move(nulls)), k);
            } else if constexpr (std::is_same_v<T, int64_t> || std::is_same_v<T, int128>) {
                auto in = v.column().values<T>();
                std::vector<T> out(k.n);
                for (size_t i = 0; i < k.n; ++i) {
                    if (is_null(i)) {
                        continue;
                    }
                    int128 x = in[v.slot(i)];
                    int64_t want = digits_at(i);
                    if (t.kind == type_kind::decimal) {
                        // Round to `want` fraction digits, then express at the result's scale.
                        int128 r = round_exact(x, t.scale - want);
                        int128 scaled = 0;
                        cast_detail::rescale(r, t.scale, out_type.scale, scaled);
                        out[i] = static_cast<T>(scaled);
                    } else {
                        out[i] = static_cast<T>(round_exact(x, -want));
                    }
                }
                return result(storage::column_vector::from_values<T>(k.self.nullable(), std::move(out),
                                                                     std::move(nulls)), k);
            } else {
                throw std::logic_error("round: unexpected type");
            }
        });
    }, text);
}

}  // namespace

std::optional<sql_result<expr_ptr>> make_math_function(std::string_view name, function_args& args,
                                                       const std::string& text) {
    if (name == "abs" || name == "ceil" || name == "ceiling" || name == "floor") {
        if (args.size() != 1) {
            return wrong_arg_count(name);
        }
        return unary_numeric(name, args, text);
    }
    if (name == "round") {
        if (args.empty() || args.size() > 2) {
            return wrong_arg_count(name);
        }
        return round_function(args, text);
    }
    if (name == "mod") {
        if (args.size() != 2) {
            return wrong_arg_count(name);
        }
        return make_arithmetic(binary_operator::modulo, args[0], args[1], text);
    }
    return std::nullopt;
}

}  // namespace tv::sql
