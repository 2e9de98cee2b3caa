// SPDX-License-Identifier: Apache-2.0
// Predicates: comparisons (both sides brought to one type first), AND / OR / XOR / NOT with SQL's
// three-valued logic, IS [NOT] NULL and LIKE.
#include "sql/expression/eval_nodes.hh"
#include "sql/expression/like.hh"

#include <unordered_set>

namespace tv::sql {

namespace {

using storage::column_type;
using storage::type_kind;

const column_type boolean_type{type_kind::boolean};

template <class T, class Cmp>
void compare_loop(std::span<const T> a, bool ac, std::span<const T> b, bool bc, size_t n, uint8_t* out, Cmp cmp) {
    if (ac && bc) {
        out[0] = cmp(a[0], b[0]);
    } else if (ac) {
        const T x = a[0];
        for (size_t i = 0; i < n; ++i) {
            out[i] = cmp(x, b[i]);
        }
    } else if (bc) {
        const T y = b[0];
        for (size_t i = 0; i < n; ++i) {
            out[i] = cmp(a[i], y);
        }
    } else {
        for (size_t i = 0; i < n; ++i) {
            out[i] = cmp(a[i], b[i]);
        }
    }
}

/// -1/0/1 ordering turned into the operator's truth.
template <class Three>
uint8_t holds(binary_operator op, Three c) {
    switch (op) {
    case binary_operator::eq:
    case binary_operator::null_safe_eq: return c == 0;
    case binary_operator::ne: return c != 0;
    case binary_operator::lt: return c < 0;
    case binary_operator::le: return c <= 0;
    case binary_operator::gt: return c > 0;
    case binary_operator::ge: return c >= 0;
    default: return 0;
    }
}

template <class T>
void compare_values(binary_operator op, const value_vector& a, const value_vector& b, size_t n, uint8_t* out) {
    auto x = a.column().values<T>();
    auto y = b.column().values<T>();
    bool ac = a.constant();
    bool bc = b.constant();
    switch (op) {
    case binary_operator::eq:
    case binary_operator::null_safe_eq: compare_loop<T>(x, ac, y, bc, n, out, [](T p, T q) { return p == q; }); break;
    case binary_operator::ne: compare_loop<T>(x, ac, y, bc, n, out, [](T p, T q) { return p != q; }); break;
    case binary_operator::lt: compare_loop<T>(x, ac, y, bc, n, out, [](T p, T q) { return p < q; }); break;
    case binary_operator::le: compare_loop<T>(x, ac, y, bc, n, out, [](T p, T q) { return p <= q; }); break;
    case binary_operator::gt: compare_loop<T>(x, ac, y, bc, n, out, [](T p, T q) { return p > q; }); break;
    case binary_operator::ge: compare_loop<T>(x, ac, y, bc, n, out, [](T p, T q) { return p >= q; }); break;
    default: break;
    }
}

void compare_strings(binary_operator op, const value_vector& a, const value_vector& b, size_t n, uint8_t* out) {
    for (size_t i = 0; i < n; ++i) {
        std::string_view x = vec::string_at(a, i);
        std::string_view y = vec::string_at(b, i);
        if (op == binary_operator::eq || op == binary_operator::null_safe_eq) {
            out[i] = x == y;
        } else if (op == binary_operator::ne) {
            out[i] = x != y;
        } else {
            out[i] = holds(op, x.compare(y));
        }
    }
}

sql_result<value_vector> comparison_kernel(binary_operator op, const kernel_args& k) {
    const value_vector& a = k.args[0];
    const value_vector& b = k.args[1];
    const size_t n = k.n;
    std::vector<uint8_t> out(n);
    vec::dispatch(a.column().type(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        if constexpr (vec::is_bytes<T>) {
            compare_strings(op, a, b, n, out.data());
        } else {
            compare_values<T>(op, a, b, n, out.data());
        }
    });
    std::vector<uint8_t> nulls;
    if (op == binary_operator::null_safe_eq) {
        // NULL <=> NULL is true, NULL <=> x false; never NULL.
        for (size_t i = 0; i < n; ++i) {
            bool an = a.is_null(i);
            bool bn = b.is_null(i);
            if (an || bn) {
                out[i] = an && bn;
            }
        }
    } else {
        const value_vector* ins[] = {&a, &b};
        nulls = vec::union_nulls(ins, n, k.self.nullable());
        for (size_t i = 0; i < nulls.size(); ++i) {
            out[i] &= static_cast<uint8_t>(nulls[i] ^ 1);
        }
    }
    return result(storage::column_vector::from_values<uint8_t>(k.self.nullable(), std::move(out), std::move(nulls)), k);
}

sql_result<expr_ptr> to_boolean(expr_ptr e) {
    return convert_if_needed(std::move(e), boolean_type);
}

/// Values and NULL flags of a BOOLEAN argument at row i.
struct truth_reader {
    std::span<const uint8_t> values;
    const value_vector& v;
    explicit truth_reader(const value_vector& x) : values(x.column().values<uint8_t>()), v(x) {}
    bool null(size_t i) const { return v.is_null(i); }
    bool value(size_t i) const { return values[v.slot(i)] != 0; }
};

sql_result<value_vector> logic_kernel(binary_operator op, const kernel_args& k) {
    truth_reader a(k.args[0]);
    truth_reader b(k.args[1]);
    const size_t n = k.n;
    std::vector<uint8_t> out(n);
    std::vector<uint8_t> nulls(k.self.nullable() ? n : 0);
    for (size_t i = 0; i < n; ++i) {
        bool an = a.null(i);
        bool bn = b.null(i);
        bool av = !an && a.value(i);
        bool bv = !bn && b.value(i);
        bool is_null = false;
        bool v = false;
        switch (op) {
        case binary_operator::logical_and:
            // FALSE wins over NULL; TRUE needs both known.
            if ((!an && !av) || (!bn && !bv)) {
                v = false;
            } else if (an || bn) {
                is_null = true;
            } else {
                v = true;
            }
            break;
        case binary_operator::logical_or:
            if (av || bv) {
                v = true;
            } else if (an || bn) {
                is_null = true;
            }
            break;
        default:  // XOR
            is_null = an || bn;
            v = !is_null && av != bv;
            break;
        }
        if (is_null) {
            nulls[i] = 1;
        } else {
            out[i] = v;
        }
    }
    return result(storage::column_vector::from_values<uint8_t>(k.self.nullable(), std::move(out), std::move(nulls)), k);
}

/// A LIKE pattern without '_' or escapes, reduced to a test that needs no general matcher.
struct simple_pattern {
    enum class kind : uint8_t { exact, prefix, suffix, contains, any } how;
    std::string needle;
};

std::optional<simple_pattern> simplify(std::string_view p) {
    if (p.find_first_of("_\\") != std::string_view::npos) {
        return std::nullopt;
    }
    size_t percents = std::count(p.begin(), p.end(), '%');
    if (percents == 0) {
        return simple_pattern{simple_pattern::kind::exact, std::string(p)};
    }
    if (p.find_first_not_of('%') == std::string_view::npos) {
        return simple_pattern{simple_pattern::kind::any, {}};
    }
    if (percents == 1 && p.back() == '%') {
        return simple_pattern{simple_pattern::kind::prefix, std::string(p.substr(0, p.size() - 1))};
    }
    if (percents == 1 && p.front() == '%') {
        return simple_pattern{simple_pattern::kind::suffix, std::string(p.substr(1))};
    }
    if (percents == 2 && p.front() == '%' && p.back() == '%' && p.size() > 2) {
        return simple_pattern{simple_pattern::kind::contains, std::string(p.substr(1, p.size() - 2))};
    }
    return std::nullopt;
}

bool simple_match(const simple_pattern& p, std::string_view s) {
    switch (p.how) {
    case simple_pattern::kind::exact: return s == p.needle;
    case simple_pattern::kind::prefix: return s.starts_with(p.needle);
    case simple_pattern::kind::suffix: return s.ends_with(p.needle);
    case simple_pattern::kind::contains: return s.find(p.needle) != std::string_view::npos;
    case simple_pattern::kind::any: return true;
    }
    return false;
}

}  // namespace

sql_result<expr_ptr> make_in(expr_ptr value, std::vector<expr_ptr> items, bool negated, std::string text) {
    column_type t = value->null_literal() ? boolean_type : value->type();
    bool first = value->null_literal();
    for (const auto& item : items) {
        if (item->null_literal()) {
            continue;
        }
        t = first ? item->type() : types::comparison(t, item->type(), true);
        first = false;
    }
    auto v = convert_if_needed(std::move(value), t);
    if (!v) {
        return v;
    }
    // The list's values, encoded as GROUP BY keys are: equal values encode alike.
    static const storage::column_batch empty;
    std::unordered_set<std::string> keys;
    bool any_null = false;
    for (auto& item : items) {
        auto c = convert_if_needed(item, t);
        if (!c) {
            return c;
        }
        auto e = (*c)->eval(empty);
        if (!e) {
            return e.error();
        }
        const auto& x = *e;
        if (x.is_null(0)) {
            any_null = true;
            continue;
        }
        std::string key;
        vec::append_key(x.column(), 0, key);
        keys.insert(std::move(key));
    }
    std::vector<expr_ptr> args{std::move(*v)};
    bool nullable = args[0]->nullable() || any_null;
    return make_node(boolean_type, nullable, std::move(args),
                     [keys = std::move(keys), any_null, negated](const kernel_args& k) -> sql_result<value_vector> {
        const value_vector& x = k.args[0];
        std::vector<uint8_t> out(k.n);
        std::vector<uint8_t> nulls(k.self.nullable() ? k.n : 0);
        std::string key;
        for (size_t i = 0; i < k.n; ++i) {
            if (x.is_null(i)) {
                nulls[i] = 1;
                continue;
            }
            key.clear();
            vec::append_key(x.column(), x.slot(i), key);
            if (keys.count(key) != 0) {
                out[i] = !negated;
            } else if (any_null) {
                nulls[i] = 1;  // x IN (1, NULL) is NULL when x is not 1
            } else {
                out[i] = negated;
            }
        }
        return result(storage::column_vector::from_values<uint8_t>(k.self.nullable(), std::move(out), std::move(nulls)),
                      k);
    }, std::move(text));
}

sql_result<expr_ptr> make_comparison(binary_operator op, expr_ptr l, expr_ptr r, std::string text) {
    bool equality = op == binary_operator::eq || op == binary_operator::ne || op == binary_operator::null_safe_eq;
    column_type t;
    if (l->null_literal() && r->null_literal()) {
        t = boolean_type;
    } else if (l->null_literal()) {
        t = r->type();
    } else if (r->null_literal()) {
        t = l->type();
    } else {
        t = types::comparison(l->type(), r->type(), equality);
    }
    auto x = convert_if_needed(std::move(l), t);
    if (!x) {
        return x;
    }
    auto y = convert_if_needed(std::move(r), t);
    if (!y) {
        return y;
    }
    std::vector<expr_ptr> args{std::move(*x), std::move(*y)};
    bool nullable = op != binary_operator::null_safe_eq && (args[0]->nullable() || args[1]->nullable());
    return make_node(boolean_type, nullable, std::move(args),
                     [op](const kernel_args& k) { return comparison_kernel(op, k); }, std::move(text));
}

sql_result<expr_ptr> make_logic(binary_operator op, expr_ptr l, expr_ptr r, std::string text) {
    auto x = to_boolean(std::move(l));
    if (!x) {
        return x;
    }
    auto y = to_boolean(std::move(r));
    if (!y) {
        return y;
    }
    std::vector<expr_ptr> args{std::move(*x), std::move(*y)};
    bool nullable = args[0]->nullable() || args[1]->nullable();
    return make_node(boolean_type, nullable, std::move(args),
                     [op](const kernel_args& k) { return logic_kernel(op, k); }, std::move(text));
}

sql_result<expr_ptr> make_not(expr_ptr e, std::string text) {
    auto x = to_boolean(std::move(e));
    if (!x) {
        return x;
    }
    std::vector<expr_ptr> args{std::move(*x)};
    bool nullable = args[0]->nullable();
    return make_node(boolean_type, nullable, std::move(args), [](const kernel_args& k) -> sql_result<value_vector> {
        const auto& in = k.args[0].column();
        auto v = in.values<uint8_t>();
        std::vector<uint8_t> out(k.n);
        std::vector<uint8_t> nulls(in.nulls().begin(), in.nulls().end());
        for (size_t i = 0; i < k.n; ++i) {
            out[i] = (nulls.empty() || nulls[i] == 0) ? v[i] ^ 1 : 0;
        }
        return result(storage::column_vector::from_values<uint8_t>(k.self.nullable(), std::move(out), std::move(nulls)),
                      k);
    }, std::move(text));
}

sql_result<expr_ptr> make_is_null(expr_ptr e, bool negated, std::string text) {
    std::vector<expr_ptr> args{std::move(e)};
    return make_node(boolean_type, false, std::move(args), [negated](const kernel_args& k) -> sql_result<value_vector> {
        const value_vector& v = k.args[0];
        std::vector<uint8_t> out(k.n);
        for (size_t i = 0; i < k.n; ++i) {
            out[i] = v.is_null(i) != negated;
        }
        return result(storage::column_vector::from_values<uint8_t>(false, std::move(out), {}), k);
    }, std::move(text));
}

sql_result<expr_ptr> make_like(expr_ptr value, expr_ptr pattern, bool negated, std::string text) {
    auto x = convert_if_needed(std::move(value), varchar_type());
    if (!x) {
        return x;
    }
    auto y = convert_if_needed(std::move(pattern), varchar_type());
    if (!y) {
        return y;
    }
    std::vector<expr_ptr> args{std::move(*x), std::move(*y)};
    bool nullable = args[0]->nullable() || args[1]->nullable();
    return make_node(boolean_type, nullable, std::move(args), [negated](const kernel_args& k) -> sql_result<value_vector> {
        const value_vector& v = k.args[0];
        const value_vector& p = k.args[1];
        const value_vector* ins[] = {&v, &p};
        std::vector<uint8_t> nulls = vec::union_nulls(ins, k.n, k.self.nullable());
        std::vector<uint8_t> out(k.n);
        std::optional<simple_pattern> simple;
        if (p.constant()) {
            simple = simplify(vec::string_at(p, 0));
        }
        for (size_t i = 0; i < k.n; ++i) {
            if (!nulls.empty() && nulls[i] != 0) {
                continue;
            }
            std::string_view s = vec::string_at(v, i);
            bool m = simple ? simple_match(*simple, s) : like_match(s, vec::string_at(p, i));
            out[i] = m != negated;
        }
        return result(storage::column_vector::from_values<uint8_t>(k.self.nullable(), std::move(out), std::move(nulls)),
                      k);
    }, std::move(text));
}

}  // namespace tv::sql
