// SPDX-License-Identifier: Apache-2.0
// The expression compiler: AST nodes to typed, compiled nodes. Literals get StarRocks' types,
// names resolve through the scope, operators and functions pick their conversions, and every
// node whose inputs are constant is folded on the spot.
#include "io/ascii.hh"
#include "sql/expression/eval_nodes.hh"
#include "storage/values.hh"

#include <charconv>
#include <cmath>

namespace tv::sql {

namespace {

using storage::column_type;
using storage::type_kind;

std::string parenthesized(const expr& e) {
    // Appended piece by piece: "(" + std::string&& trips GCC 12's -Wrestrict false positive.
    std::string out = "(";
    out += to_sql(e);
    out += ')';
    return out;
}

expr_ptr decimal_literal(std::string_view digits) {
    auto dot = digits.find('.');
    std::string_view whole = digits.substr(0, dot);
    std::string_view fraction = dot == std::string_view::npos ? std::string_view{} : digits.substr(dot + 1);
    while (!whole.empty() && whole.front() == '0') {
        whole.remove_prefix(1);
    }
    int scale = static_cast<int>(fraction.size());
    int precision = std::max(1, static_cast<int>(whole.size()) + scale);
    if (precision > 38) {
        double v = std::strtod(std::string(digits).c_str(), nullptr);
        return make_constant(simple_type(type_kind::double_), v);
    }
    column_type t = types::decimal(precision, scale);
    auto v = storage::parse_typed(t, digits);
    return make_constant(t, v ? v->as_cell() : storage::cell{});
}

sql_result<expr_ptr> literal_node(const literal& l) {
    switch (l.kind) {
    case literal_kind::null: return make_null_literal();
    case literal_kind::boolean: return make_constant(column_type{type_kind::boolean}, l.value == "TRUE");
    case literal_kind::integer: {
        int64_t v = 0;
        auto [end, ec] = std::from_chars(l.value.data(), l.value.data() + l.value.size(), v);
        if (ec == std::errc{} && end == l.value.data() + l.value.size()) {
            return make_constant(simple_type(type_kind::bigint), v);
        }
        column_type large{type_kind::largeint};
        if (auto big = storage::parse_typed(large, l.value)) {
            return make_constant(large, big->as_cell());
        }
        return decimal_literal(l.value);
    }
    case literal_kind::decimal: return decimal_literal(l.value);
    case literal_kind::floating: {
        double v = std::strtod(l.value.c_str(), nullptr);
        if (!std::isfinite(v)) {
            return make_error(errc::out_of_range, "DOUBLE value is out of range in '{}'", l.value);
        }
        return make_constant(simple_type(type_kind::double_), v);
    }
    case literal_kind::string: return make_constant(varchar_type(), std::string_view(l.value));
    }
    return make_null_literal();
}

class compiler {
public:
    explicit compiler(compile_scope& scope) : _scope(scope) {}

    sql_result<expr_ptr> run(const expr& e) {
        if (auto s = _scope.substitute(e)) {
            if (!*s) {
                return s->error();
            }
            size_t slot = **s;
            return make_column(slot, _scope.columns()[slot]);
        }
        return std::visit([&](const auto& n) { return node(n, e); }, e.node);
    }

private:
    sql_result<std::vector<expr_ptr>> all(const std::vector<expr>& list) {
        std::vector<expr_ptr> out;
        for (const auto& item : list) {
            auto c = run(item);
            if (!c) {
                return c.error();
            }
            out.push_back(std::move(*c));
        }
        return out;
    }

    sql_result<expr_ptr> node(const literal& l, const expr&) { return literal_node(l); }

    sql_result<expr_ptr> node(const column_ref& c, const expr&) {
        auto slot = _scope.resolve(c);
        if (!slot) {
            return slot.error();
        }
        size_t s = *slot;
        return make_column(s, _scope.columns()[s]);
    }

    sql_result<expr_ptr> node(const variable_ref& v, const expr&) {
        return make_variable(v, _scope.current_session());
    }

    sql_result<expr_ptr> node(const function_call& f, const expr& e) {
        const std::string name = ascii_lower(f.name);
        if (is_aggregate_function(name)) {
            return make_error(errc::invalid_group_func_use, "Invalid use of group function");
        }
        const std::string text = to_sql(e);
        bool date_arith = name == "date_add" || name == "date_sub" || name == "adddate" || name == "subdate";
        if (date_arith && f.args.size() == 2) {
            if (const auto* interval = f.args[1].as<interval_expr>()) {
                auto d = run(f.args[0]);
                if (!d) {
                    return d;
                }
                auto amount = run(*interval->value);
                if (!amount) {
                    return amount;
                }
                return make_date_add(*d, *amount, interval->unit,
                                     name == "date_sub" || name == "subdate", text);
            }
        }
        auto compiled = all(f.args);
        if (!compiled) {
            return compiled.error();
        }
        function_args args = std::move(*compiled);
        if (name == "coalesce" || name == "ifnull") {
            if (args.empty() || (name == "ifnull" && args.size() != 2)) {
                return wrong_arg_count(name);
            }
            return make_coalesce(std::move(args), text);
        }
        if (name == "if") {
            if (args.size() != 3) {
                return wrong_arg_count(name);
            }
            return make_case({args[0]}, {args[1]}, args[2], text);
        }
        if (name == "nullif") {
            if (args.size() != 2) {
                return wrong_arg_count(name);
            }
            auto same = make_comparison(binary_operator::eq, args[0], args[1], text);
            if (!same) {
                return same;
            }
            // NULLIF(a, b) has a's type: the NULL branch takes it.
            return make_case({*same}, {make_null_literal()}, args[0], text);
        }
        for (auto family : {make_string_function, make_math_function, make_date_function, make_hash_function}) {
            if (auto r = family(name, args, text)) {
                return std::move(*r);
            }
        }
        if (std::all_of(args.begin(), args.end(), [](const expr_ptr& a) { return a->constant(); })) {
            if (auto r = make_session_function(name, args, _scope.current_session())) {
                return std::move(*r);
            }
        }
        return no_matching_function(f.name, args);
    }

    sql_result<expr_ptr> node(const unary_op& u, const expr&) {
        auto x = run(*u.operand);
        if (!x) {
            return x;
        }
        expr_ptr operand = std::move(*x);
        switch (u.op) {
        case unary_operator::minus: {
            std::string text = "-";
            text += parenthesized(*u.operand);
            return make_negate(std::move(operand), std::move(text));
        }
        case unary_operator::plus: return operand;
        case unary_operator::logical_not: {
            std::string text = "NOT ";
            text += parenthesized(*u.operand);
            return make_not(std::move(operand), std::move(text));
        }
        }
        return operand;
    }

    sql_result<expr_ptr> node(const binary_op& b, const expr& e) {
        const std::string text = parenthesized(e);
        bool additive = b.op == binary_operator::add || b.op == binary_operator::subtract;
        const interval_expr* interval = b.right->as<interval_expr>();
        const expr* date = b.left.operator->();
        if (!interval && b.op == binary_operator::add) {
            interval = b.left->as<interval_expr>();
            date = b.right.operator->();
        }
        if (interval && additive) {
            auto d = run(*date);
            if (!d) {
                return d;
            }
            auto amount = run(*interval->value);
            if (!amount) {
                return amount;
            }
            return make_date_add(*d, *amount, interval->unit,
                                 b.op == binary_operator::subtract, text);
        }
        auto l = run(*b.left);
        if (!l) {
            return l;
        }
        auto r = run(*b.right);
        if (!r) {
            return r;
        }
        expr_ptr x = std::move(*l);
        expr_ptr y = std::move(*r);
        switch (b.op) {
        case binary_operator::add:
        case binary_operator::subtract:
        case binary_operator::multiply:
        case binary_operator::divide:
        case binary_operator::int_divide:
        case binary_operator::modulo: return make_arithmetic(b.op, std::move(x), std::move(y), text);
        case binary_operator::logical_and:
        case binary_operator::logical_or:
        case binary_operator::logical_xor: return make_logic(b.op, std::move(x), std::move(y), text);
        default: return make_comparison(b.op, std::move(x), std::move(y), text);
        }
    }

    sql_result<expr_ptr> node(const like_expr& l, const expr& e) {
        auto v = run(*l.value);
        if (!v) {
            return v;
        }
        auto p = run(*l.pattern);
        if (!p) {
            return p;
        }
        return make_like(*v, *p, l.negated, to_sql(e));
    }

    /// OR over equalities, as a balanced tree: three-valued logic gives IN's NULL rules exactly.
    sql_result<expr_ptr> any_equal(const expr_ptr& value, std::span<const expr_ptr> items, const std::string& text) {
        if (items.size() == 1) {
            return make_comparison(binary_operator::eq, value, items[0], text);
        }
        size_t half = items.size() / 2;
        auto l = any_equal(value, items.first(half), text);
        if (!l) {
            return l;
        }
        auto r = any_equal(value, items.subspan(half), text);
        if (!r) {
            return r;
        }
        return make_logic(binary_operator::logical_or, *l, *r, text);
    }

    sql_result<expr_ptr> node(const in_expr& in, const expr& e) {
        auto v = run(*in.value);
        if (!v) {
            return v;
        }
        auto items = all(in.list);
        if (!items) {
            return items.error();
        }
        const auto& list = *items;
        if (list.empty()) {
            return make_error(errc::parse, "IN list of {} is empty", to_sql(*in.value));
        }
        const std::string text = to_sql(e);
        if (std::all_of(list.begin(), list.end(), [](const expr_ptr& item) { return item->constant(); })) {
            return make_in(*v, list, in.negated, text);
        }
        auto any = any_equal(*v, list, text);
        if (!any || !in.negated) {
            return any;
        }
        return make_not(*any, text);
    }

    sql_result<expr_ptr> node(const between_expr& b, const expr& e) {
        auto v = run(*b.value);
        auto lo = run(*b.low);
        auto hi = run(*b.high);
        for (auto* r : {&v, &lo, &hi}) {
            if (!*r) {
                return *r;
            }
        }
        const std::string text = to_sql(e);
        auto ge = make_comparison(binary_operator::ge, *v, *lo, text);
        if (!ge) {
            return ge;
        }
        auto le = make_comparison(binary_operator::le, *v, *hi, text);
        if (!le) {
            return le;
        }
        auto both = make_logic(binary_operator::logical_and, *ge, *le, text);
        if (!both || !b.negated) {
            return both;
        }
        return make_not(*both, text);
    }

    sql_result<expr_ptr> node(const is_null_expr& n, const expr& e) {
        auto v = run(*n.value);
        if (!v) {
            return v;
        }
        return make_is_null(*v, n.negated, to_sql(e));
    }

    sql_result<expr_ptr> node(const cast_expr& c, const expr&) {
        auto v = run(*c.value);
        if (!v) {
            return v;
        }
        auto t = cast_target(c.type);
        if (!t) {
            return t.error();
        }
        return convert(*v, *t);
    }

    static sql_result<column_type> cast_target(const data_type& d) {
        const std::string& name = d.name;
        if (name == "SIGNED" || name == "SIGNED INTEGER" || name == "SIGNED INT") {
            return simple_type(type_kind::bigint);
        }
        if (name == "UNSIGNED" || name == "UNSIGNED INTEGER" || name == "UNSIGNED INT") {
            return simple_type(type_kind::largeint);
        }
        if ((name == "VARCHAR" || name == "CHAR") && d.params.empty()) {
            return varchar_type();  // CAST(x AS CHAR): text of any length, as MySQL
        }
        auto t = column_type::from_name(name, d.params);
        if (!t) {
            return make_error(errc::parse, "Invalid type in CAST: {}", t.error().message);
        }
        return *t;
    }

    sql_result<expr_ptr> node(const case_expr& c, const expr& e) {
        std::optional<expr_ptr> operand;
        if (c.operand) {
            auto v = run(**c.operand);
            if (!v) {
                return v;
            }
            operand = std::move(*v);
        }
        const std::string text = to_sql(e);
        std::vector<expr_ptr> conditions;
        std::vector<expr_ptr> results;
        for (const auto& w : c.whens) {
            auto cond = run(*w.condition);
            if (!cond) {
                return cond;
            }
            if (operand) {
                cond = make_comparison(binary_operator::eq, *operand, *cond, text);
                if (!cond) {
                    return cond;
                }
            }
            auto r = run(*w.result);
            if (!r) {
                return r;
            }
            conditions.push_back(std::move(*cond));
            results.push_back(std::move(*r));
        }
        expr_ptr otherwise;
        if (c.else_result) {
            auto r = run(**c.else_result);
            if (!r) {
                return r;
            }
            otherwise = std::move(*r);
        }
        return make_case(std::move(conditions), std::move(results), std::move(otherwise), text);
    }

    sql_result<expr_ptr> node(const interval_expr&, const expr&) {
        return make_error(errc::parse, "INTERVAL is only valid in date arithmetic and REFRESH clauses");
    }

    compile_scope& _scope;
};

}  // namespace

std::optional<sql_result<size_t>> compile_scope::substitute(const expr&) {
    return std::nullopt;
}

sql_error unknown_column(const column_ref& c, std::string_view clause) {
    std::string name = c.table.empty() ? c.column : c.table + "." + c.column;
    return make_error(errc::bad_field, "Unknown column '{}' in '{}'", name, clause);
}

sql_result<size_t> schema_scope::resolve(const column_ref& c) {
    if (!c.table.empty() && !storage::iequals(c.table, _source)) {
        return unknown_column(c, _clause);
    }
    for (size_t i = 0; i < _columns.size(); ++i) {
        if (storage::iequals(_columns[i].name, c.column)) {
            return i;
        }
    }
    return unknown_column(c, _clause);
}

sql_result<expr_ptr> compile(const expr& e, compile_scope& scope) {
    return compiler(scope).run(e);
}

bool is_aggregate_function(std::string_view name) {
    std::string n = ascii_lower(name);
    return n == "count" || n == "sum" || n == "min" || n == "max" || n == "avg";
}

bool contains_aggregate(const expr& e) {
    if (const auto* f = e.as<function_call>(); f && is_aggregate_function(f->name)) {
        return true;
    }
    bool found = false;
    visit_children(e, [&](const expr& child) { found = found || contains_aggregate(child); });
    return found;
}

void visit_children(const expr& e, const std::function<void(const expr&)>& f) {
    std::visit(
        [&](const auto& n) {
            using T = std::decay_t<decltype(n)>;
            if constexpr (std::is_same_v<T, function_call>) {
                for (const auto& a : n.args) f(a);
            } else if constexpr (std::is_same_v<T, unary_op>) {
                f(*n.operand);
            } else if constexpr (std::is_same_v<T, binary_op>) {
                f(*n.left);
                f(*n.right);
            } else if constexpr (std::is_same_v<T, like_expr>) {
                f(*n.value);
                f(*n.pattern);
            } else if constexpr (std::is_same_v<T, in_expr>) {
                f(*n.value);
                for (const auto& a : n.list) f(a);
            } else if constexpr (std::is_same_v<T, between_expr>) {
                f(*n.value);
                f(*n.low);
                f(*n.high);
            } else if constexpr (std::is_same_v<T, is_null_expr> || std::is_same_v<T, cast_expr> ||
                                 std::is_same_v<T, interval_expr>) {
                f(*n.value);
            } else if constexpr (std::is_same_v<T, case_expr>) {
                if (n.operand) f(**n.operand);
                for (const auto& w : n.whens) {
                    f(*w.condition);
                    f(*w.result);
                }
                if (n.else_result) f(**n.else_result);
            }
        },
        e.node);
}

}  // namespace tv::sql
