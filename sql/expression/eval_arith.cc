// SPDX-License-Identifier: Apache-2.0
// Arithmetic: + - * / DIV % and unary minus over BIGINT, LARGEINT, DECIMAL and DOUBLE, with
// StarRocks' result types, overflow as error 1690 and division by zero as NULL.
#include "sql/expression/cast_detail.hh"
#include "sql/expression/eval_nodes.hh"

#include <cmath>

namespace tv::sql {

namespace {

using storage::column_type;
using storage::type_kind;
using vec::int128;

/// out[i] = op(a[i], b[i]) with either side possibly one constant value.
template <class R, class A, class B, class Op>
void apply(std::span<const A> a, bool ac, std::span<const B> b, bool bc, size_t n, R* out, Op op) {
    if (ac && bc) {
        out[0] = op(a[0], b[0]);
    } else if (ac) {
        const A x = a[0];
        for (size_t i = 0; i < n; ++i) {
            out[i] = op(x, b[i]);
        }
    } else if (bc) {
        const B y = b[0];
        for (size_t i = 0; i < n; ++i) {
            out[i] = op(a[i], y);
        }
    } else {
        for (size_t i = 0; i < n; ++i) {
            out[i] = op(a[i], b[i]);
        }
    }
}

/// Marks NULL the rows whose divisor is zero (b holds values of type B).
template <class B>
void null_on_zero(const value_vector& b, size_t n, std::vector<uint8_t>& nulls) {
    auto v = b.column().values<B>();
    for (size_t i = 0; i < n; ++i) {
        if (v[b.slot(i)] == B{}) {
            nulls[i] = 1;
        }
    }
}

template <class R>
void zero_nulls(std::vector<R>& values, const std::vector<uint8_t>& nulls) {
    for (size_t i = 0; i < nulls.size(); ++i) {
        if (nulls[i] != 0) {
            values[i] = R{};
        }
    }
}

sql_error overflow(std::string_view type, const std::string& text) {
    return make_error(errc::out_of_range, "{} value is out of range in '{}'", type, text);
}

/// Whether any row that is not NULL overflows, rechecked row by row (a NULL's zero slot can
/// overflow against an extreme value without meaning anything).
template <class A, class B, class Check>
bool real_overflow(const value_vector& a, const value_vector& b, size_t n, const std::vector<uint8_t>& nulls,
                   Check check) {
    auto x = a.column().values<A>();
    auto y = b.column().values<B>();
    for (size_t i = 0; i < n; ++i) {
        if ((nulls.empty() || nulls[i] == 0) && check(x[a.slot(i)], y[b.slot(i)])) {
            return true;
        }
    }
    return false;
}

/// + - * (and DIV, %) over one exact physical type T (int64 or int128).
template <class T>
sql_result<value_vector> exact_kernel(binary_operator op, const kernel_args& k, std::string_view type_name) {
    const value_vector& a = k.args[0];
    const value_vector& b = k.args[1];
    const size_t n = k.n;
    const value_vector* ins[] = {&a, &b};
    std::vector<uint8_t> nulls = vec::union_nulls(ins, n, k.self.nullable());
    std::vector<T> out(n);
    auto x = a.column().values<T>();
    auto y = b.column().values<T>();
    bool ovf = false;
    auto check_overflow = [&](auto check) -> sql_result<void> {
        if (ovf && real_overflow<T, T>(a, b, n, nulls, check)) {
            return overflow(type_name, k.text);
        }
        return {};
    };
    sql_result<void> checked;
    switch (op) {
    case binary_operator::add:
        apply(x, a.constant(), y, b.constant(), n, out.data(), [&ovf](T p, T q) {
            T r;
            ovf |= __builtin_add_overflow(p, q, &r);
            return r;
        });
        checked = check_overflow([](T p, T q) { T r; return __builtin_add_overflow(p, q, &r); });
        break;
    case binary_operator::subtract:
        apply(x, a.constant(), y, b.constant(), n, out.data(), [&ovf](T p, T q) {
            T r;
            ovf |= __builtin_sub_overflow(p, q, &r);
            return r;
        });
        checked = check_overflow([](T p, T q) { T r; return __builtin_sub_overflow(p, q, &r); });
        break;
    case binary_operator::multiply:
        apply(x, a.constant(), y, b.constant(), n, out.data(), [&ovf](T p, T q) {
            T r;
            ovf |= __builtin_mul_overflow(p, q, &r);
            return r;
        });
        checked = check_overflow([](T p, T q) { T r; return __builtin_mul_overflow(p, q, &r); });
        break;
    case binary_operator::int_divide:
    case binary_operator::modulo: {
        null_on_zero<T>(b, n, nulls);
        const bool divide = op == binary_operator::int_divide;
        constexpr T min = std::numeric_limits<T>::min();
        if constexpr (std::is_same_v<T, int64_t>) {
            if (b.constant() && !a.constant() && y[0] > 0 && y[0] <= UINT32_MAX) {
                // x % 100 and x DIV 7 by a positive constant: small non-negative x take the
                // much cheaper 32-bit unsigned division.
                const int64_t q = y[0];
                const auto q32 = static_cast<uint32_t>(q);
                for (size_t i = 0; i < n; ++i) {
                    const int64_t p = x[i];
                    if (static_cast<uint64_t>(p) <= UINT32_MAX) {
                        const auto p32 = static_cast<uint32_t>(p);
                        out[i] = divide ? p32 / q32 : p32 % q32;
                    } else {
                        out[i] = divide ? p / q : p % q;
                    }
                }
                break;
            }
        }
        apply(x, a.constant(), y, b.constant(), n, out.data(), [&ovf, divide](T p, T q) -> T {
            if (q == 0) {
                return 0;
            }
            if (q == -1) {  // min / -1 traps; min % -1 is 0
                ovf |= divide && p == min;
                return divide ? (p == min ? 0 : -p) : 0;
            }
            return divide ? p / q : p % q;
        });
        checked = check_overflow([](T p, T q) { return q == -1 && p == min; });
        break;
    }
    default: break;
    }
    if (!checked) {
        return checked.error();
    }
    zero_nulls(out, nulls);
    return value_vector::own(storage::column_vector::from_values<T>(k.self.nullable(), std::move(out), std::move(nulls)),
                             k.constant);
}

sql_result<value_vector> double_kernel(binary_operator op, const kernel_args& k) {
    const value_vector& a = k.args[0];
    const value_vector& b = k.args[1];
    const size_t n = k.n;
    const value_vector* ins[] = {&a, &b};
    std::vector<uint8_t> nulls = vec::union_nulls(ins, n, k.self.nullable());
    auto x = a.column().values<double>();
    auto y = b.column().values<double>();
    if (op == binary_operator::int_divide) {
        null_on_zero<double>(b, n, nulls);
        std::vector<int64_t> out(n);
        for (size_t i = 0; i < n; ++i) {
            if (!nulls.empty() && nulls[i] != 0) {
                continue;
            }
            double q = std::trunc(x[a.slot(i)] / y[b.slot(i)]);
            if (!(q >= -9223372036854775808.0 && q < 9223372036854775808.0)) {
                return overflow("BIGINT", k.text);
            }
            out[i] = static_cast<int64_t>(q);
        }
        return result(storage::column_vector::from_values<int64_t>(k.self.nullable(), std::move(out), std::move(nulls)),
                      k);
    }
    std::vector<double> out(n);
    switch (op) {
    case binary_operator::add: apply(x, a.constant(), y, b.constant(), n, out.data(), std::plus<>{}); break;
    case binary_operator::subtract: apply(x, a.constant(), y, b.constant(), n, out.data(), std::minus<>{}); break;
    case binary_operator::multiply: apply(x, a.constant(), y, b.constant(), n, out.data(), std::multiplies<>{}); break;
    case binary_operator::divide:
        null_on_zero<double>(b, n, nulls);
        apply(x, a.constant(), y, b.constant(), n, out.data(), [](double p, double q) { return q == 0 ? 0 : p / q; });
        break;
    case binary_operator::modulo:
        null_on_zero<double>(b, n, nulls);
        apply(x, a.constant(), y, b.constant(), n, out.data(),
              [](double p, double q) { return q == 0 ? 0 : std::fmod(p, q); });
        break;
    default: break;
    }
    zero_nulls(out, nulls);
    return result(storage::column_vector::from_values<double>(k.self.nullable(), std::move(out), std::move(nulls)), k);
}

/// DECIMAL division: a (scale sa) / b (scale sb) at result scale rs, rounded half away from zero.
sql_result<value_vector> decimal_divide(const kernel_args& k, int sa, int sb, int rs) {
    const value_vector& a = k.args[0];
    const value_vector& b = k.args[1];
    const size_t n = k.n;
    const value_vector* ins[] = {&a, &b};
    std::vector<uint8_t> nulls = vec::union_nulls(ins, n, true);
    null_on_zero<int128>(b, n, nulls);
    const int128 factor = cast_detail::pow10(rs - sa + sb);
    auto x = a.column().values<int128>();
    auto y = b.column().values<int128>();
    std::vector<int128> out(n);
    for (size_t i = 0; i < n; ++i) {
        if (nulls[i] != 0) {
            continue;
        }
        int128 num = 0;
        int128 q = y[b.slot(i)];
        if (__builtin_mul_overflow(x[a.slot(i)], factor, &num)) {
            return overflow("DECIMAL", k.text);
        }
        int128 r = cast_detail::div_round(q < 0 ? -num : num, q < 0 ? -q : q);
        if (!cast_detail::fits_precision(r, 38)) {
            return overflow("DECIMAL", k.text);
        }
        out[i] = r;
    }
    return result(storage::column_vector::from_values<int128>(true, std::move(out), std::move(nulls)), k);
}

/// DECIMAL DIV: both at one scale, truncated quotient as BIGINT.
sql_result<value_vector> decimal_int_divide(const kernel_args& k) {
    const value_vector& a = k.args[0];
    const value_vector& b = k.args[1];
    const size_t n = k.n;
    const value_vector* ins[] = {&a, &b};
    std::vector<uint8_t> nulls = vec::union_nulls(ins, n, true);
    null_on_zero<int128>(b, n, nulls);
    auto x = a.column().values<int128>();
    auto y = b.column().values<int128>();
    std::vector<int64_t> out(n);
    for (size_t i = 0; i < n; ++i) {
        if (nulls[i] != 0) {
            continue;
        }
        int128 q = x[a.slot(i)] / y[b.slot(i)];
        if (q < INT64_MIN || q > INT64_MAX) {
            return overflow("BIGINT", k.text);
        }
        out[i] = static_cast<int64_t>(q);
    }
    return result(storage::column_vector::from_values<int64_t>(true, std::move(out), std::move(nulls)), k);
}

/// Checks that DECIMAL results keep within 38 digits.
sql_result<value_vector> decimal_checked(sql_result<value_vector> r, const std::string& text) {
    if (r) {
        for (int128 x : r->column().values<int128>()) {
            if (!cast_detail::fits_precision(x, 38)) {
                return overflow("DECIMAL", text);
            }
        }
    }
    return r;
}

bool produces_null(binary_operator op) {
    return op == binary_operator::divide || op == binary_operator::int_divide || op == binary_operator::modulo;
}

column_type numeric_operand(const column_type& t) {
    if (types::is_string(t) || t.is_floating()) {
        return simple_type(type_kind::double_);
    }
    if (types::is_temporal(t)) {
        return simple_type(type_kind::bigint);  // 2024-01-02 takes part as 20240102, as in MySQL
    }
    return t;
}

}  // namespace

sql_result<expr_ptr> make_arithmetic(binary_operator op, expr_ptr l, expr_ptr r, std::string text) {
    column_type lt = l->null_literal() ? simple_type(type_kind::bigint) : numeric_operand(l->type());
    column_type rt = r->null_literal() ? simple_type(type_kind::bigint) : numeric_operand(r->type());
    bool nullable = l->nullable() || r->nullable() || produces_null(op);
    auto both = [&](const column_type& a, const column_type& b) -> sql_result<std::vector<expr_ptr>> {
        auto x = convert_if_needed(l, a);
        if (!x) {
            return x.error();
        }
        auto y = convert_if_needed(r, b);
        if (!y) {
            return y.error();
        }
        return std::vector<expr_ptr>{*x, *y};
    };
    auto build = [&](const column_type& operand_a, const column_type& operand_b, const column_type& result_type,
                     kernel k) -> sql_result<expr_ptr> {
        auto args = both(operand_a, operand_b);
        if (!args) {
            return args.error();
        }
        return make_node(result_type, nullable, std::move(*args), std::move(k),
                         std::move(text));
    };
    const column_type dbl = simple_type(type_kind::double_);
    const column_type big = simple_type(type_kind::bigint);
    if (lt.kind == type_kind::double_ || rt.kind == type_kind::double_ ||
        (op == binary_operator::divide && lt.kind != type_kind::decimal && rt.kind != type_kind::decimal)) {
        column_type out = op == binary_operator::int_divide ? big : dbl;
        return build(dbl, dbl, out, [op](const kernel_args& k) { return double_kernel(op, k); });
    }
    if (lt.kind == type_kind::decimal || rt.kind == type_kind::decimal) {
        column_type a = types::as_decimal(lt);
        column_type b = types::as_decimal(rt);
        int whole = std::max(a.precision - a.scale, b.precision - b.scale);
        int scale = std::max(a.scale, b.scale);
        switch (op) {
        case binary_operator::add:
        case binary_operator::subtract:
        case binary_operator::modulo: {
            column_type at = types::decimal(38, scale);
            column_type out = types::decimal(whole + scale + (op == binary_operator::modulo ? 0 : 1), scale);
            return build(at, at, out, [op, text](const kernel_args& k) {
                return decimal_checked(exact_kernel<int128>(op, k, "DECIMAL"), text);
            });
        }
        case binary_operator::multiply: {
            if (a.scale + b.scale > 38) {
                return make_error(errc::unknown,
                                  "Return scale({}) exceeds maximum value(38), please cast decimal type to "
                                  "low-precision one",
                                  a.scale + b.scale);
            }
            column_type out = types::decimal(a.precision + b.precision, a.scale + b.scale);
            column_type at = types::decimal(38, a.scale);
            column_type bt = types::decimal(38, b.scale);
            return build(at, bt, out, [text](const kernel_args& k) {
                return decimal_checked(exact_kernel<int128>(binary_operator::multiply, k, "DECIMAL"), text);
            });
        }
        case binary_operator::divide: {
            int rs = a.scale <= 6 ? a.scale + 6 : a.scale <= 12 ? 12 : a.scale;
            if (rs + b.scale > 38) {
                return make_error(errc::unknown, "Dividend fails to adjust scale to {} that exceeds maximum value(38)",
                                  rs + b.scale);
            }
            column_type at = types::decimal(38, a.scale);
            column_type bt = types::decimal(38, b.scale);
            int sa = a.scale;
            int sb = b.scale;
            return build(at, bt, types::decimal(38, rs),
                         [sa, sb, rs](const kernel_args& k) { return decimal_divide(k, sa, sb, rs); });
        }
        case binary_operator::int_divide: {
            column_type at = types::decimal(38, scale);
            return build(at, at, big, [](const kernel_args& k) { return decimal_int_divide(k); });
        }
        default: break;
        }
    }
    if (lt.kind == type_kind::largeint || rt.kind == type_kind::largeint) {
        column_type large = simple_type(type_kind::largeint);
        return build(large, large, op == binary_operator::int_divide ? large : large,
                     [op](const kernel_args& k) { return exact_kernel<int128>(op, k, "LARGEINT"); });
    }
    if (types::is_integral(lt) && types::is_integral(rt)) {
        return build(big, big, big, [op](const kernel_args& k) { return exact_kernel<int64_t>(op, k, "BIGINT"); });
    }
    return make_error(errc::unknown, "Arithmetic {} is not supported between {} and {}", operator_text(op),
                      l->type().to_sql(), r->type().to_sql());
}

sql_result<expr_ptr> make_negate(expr_ptr e, std::string text) {
    column_type t = e->null_literal() ? simple_type(type_kind::bigint) : numeric_operand(e->type());
    if (types::is_integral(t)) {
        t = simple_type(type_kind::bigint);
    }
    auto x = convert_if_needed(std::move(e), t);
    if (!x) {
        return x;
    }
    expr_ptr operand = std::move(*x);
    bool nullable = operand->nullable();
    std::vector<expr_ptr> args{std::move(operand)};
    return make_node(t, nullable, std::move(args), [t](const kernel_args& k) -> sql_result<value_vector> {
        const auto& in = k.args[0].column();
        return vec::dispatch(in.type(), [&](auto tag) -> sql_result<value_vector> {
            using T = typename decltype(tag)::type;
            if constexpr (std::is_same_v<T, int64_t> || std::is_same_v<T, int128> || std::is_same_v<T, double>) {
                auto v = in.values<T>();
                std::vector<T> out(k.n);
                for (size_t i = 0; i < k.n; ++i) {
                    if constexpr (!std::is_floating_point_v<T>) {
                        if (v[i] == std::numeric_limits<T>::min()) {
                            return overflow(t.kind == type_kind::bigint ? "BIGINT" : "LARGEINT", k.text);
                        }
                    }
                    out[i] = -v[i];
                }
                std::vector<uint8_t> nulls(in.nulls().begin(), in.nulls().end());
                return result(storage::column_vector::from_values<T>(k.self.nullable(), std::move(out), std::move(nulls)),
                              k);
            } else {
                throw std::logic_error("negate: unexpected physical type");
            }
        });
    }, std::move(text));
}

}  // namespace tv::sql
