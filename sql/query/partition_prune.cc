// SPDX-License-Identifier: Apache-2.0
// Partition pruning: the WHERE clause is read as a set of intervals per partition column
// (comparisons with literals, IN, BETWEEN, combined by AND / OR / NOT), and a partition is
// skipped only when its range (RANGE) or every value it lists (LIST) lies outside them.
// Anything not understood constrains nothing, so pruning never drops a partition that could
// hold a matching row.
#include "io/ascii.hh"
#include "sql/query/query.hh"
#include "storage/values.hh"

#include <map>

namespace tv::sql {

namespace {

using storage::column_type;

struct bound {
    std::string value;  ///< normalized for the column's type
    bool inclusive = true;
};

/// One interval; an absent bound is open-ended.
struct interval {
    std::optional<bound> lo;
    std::optional<bound> hi;
};

using domain = std::vector<interval>;  ///< a union; empty matches nothing
using constraints = std::map<std::string, domain>;  ///< per lower-case column: all must hold

struct context {
    std::map<std::string, column_type> columns;  ///< partition columns by lower-case name

    const column_type* type_of(const expr& e) const {
        const auto* c = e.as<column_ref>();
        if (c == nullptr) {
            return nullptr;
        }
        auto it = columns.find(ascii_lower(c->column));
        return it == columns.end() ? nullptr : &it->second;
    }
};

/// The literal's text normalized for `t`, if `e` is a literal that fits the type.
std::optional<std::string> literal_value(const expr& e, const column_type& t) {
    std::string text;
    if (const auto* l = e.as<literal>()) {
        if (l->kind == literal_kind::null || l->kind == literal_kind::boolean) {
            return std::nullopt;
        }
        text = l->value;
    } else if (const auto* u = e.as<unary_op>(); u && u->op == unary_operator::minus) {
        const auto* l = u->operand->as<literal>();
        if (l == nullptr || l->kind == literal_kind::string || l->kind == literal_kind::null ||
            l->kind == literal_kind::boolean) {
            return std::nullopt;
        }
        text = "-" + l->value;
    } else {
        return std::nullopt;
    }
    auto normalized = storage::normalize_value(t, text);
    if (!normalized) {
        return std::nullopt;
    }
    return std::move(*normalized);
}

int compare(const column_type& t, const std::string& a, const std::string& b) {
    return storage::compare_values(t, a, b);
}

/// The larger lower bound (absent is -infinity).
std::optional<bound> max_lo(const column_type& t, const std::optional<bound>& a, const std::optional<bound>& b) {
    if (!a) return b;
    if (!b) return a;
    int c = compare(t, a->value, b->value);
    if (c != 0) return c > 0 ? a : b;
    return bound{a->value, a->inclusive && b->inclusive};
}

std::optional<bound> min_hi(const column_type& t, const std::optional<bound>& a, const std::optional<bound>& b) {
    if (!a) return b;
    if (!b) return a;
    int c = compare(t, a->value, b->value);
    if (c != 0) return c < 0 ? a : b;
    return bound{a->value, a->inclusive && b->inclusive};
}

/// The value next to `v` (delta +1 or -1) of a type whose values are discrete (integers,
/// dates): (x > 5) is (x >= 6), so (5, 6) holds no INT. nullopt for other types.
std::optional<std::string> neighbour(const column_type& t, const std::string& v, int delta) {
    if (v == storage::min_value || v == storage::max_value) {
        return std::nullopt;
    }
    if (t.is_integer()) {
        auto x = storage::parse_typed(column_type{storage::type_kind::largeint}, v);
        if (!x) {
            return std::nullopt;
        }
        storage::int128 n = std::get<storage::int128>(*x);
        return storage::int128_to_string(n + delta);
    }
    if (t.kind == storage::type_kind::date) {
        auto x = storage::parse_typed(t, v);
        if (!x) {
            return std::nullopt;
        }
        return storage::format_typed(t, std::get<int32_t>(*x) + delta);
    }
    return std::nullopt;
}

bool non_empty(const column_type& t, const interval& i) {
    if (!i.lo || !i.hi) {
        return true;
    }
    std::string lo = i.lo->value;
    std::string hi = i.hi->value;
    bool lo_in = i.lo->inclusive;
    bool hi_in = i.hi->inclusive;
    if (!lo_in) {
        if (auto n = neighbour(t, lo, 1)) {
            lo = *n;
            lo_in = true;
        }
    }
    if (!hi_in) {
        if (auto n = neighbour(t, hi, -1)) {
            hi = *n;
            hi_in = true;
        }
    }
    int c = compare(t, lo, hi);
    return c < 0 || (c == 0 && lo_in && hi_in);
}

domain intersect(const column_type& t, const domain& a, const domain& b) {
    domain out;
    for (const auto& x : a) {
        for (const auto& y : b) {
            interval i{max_lo(t, x.lo, y.lo), min_hi(t, x.hi, y.hi)};
            if (non_empty(t, i)) {
                out.push_back(std::move(i));
            }
        }
    }
    return out;
}

binary_operator mirror(binary_operator op) {
    switch (op) {
    case binary_operator::lt: return binary_operator::gt;
    case binary_operator::le: return binary_operator::ge;
    case binary_operator::gt: return binary_operator::lt;
    case binary_operator::ge: return binary_operator::le;
    default: return op;
    }
}

binary_operator negate(binary_operator op) {
    switch (op) {
    case binary_operator::lt: return binary_operator::ge;
    case binary_operator::le: return binary_operator::gt;
    case binary_operator::gt: return binary_operator::le;
    case binary_operator::ge: return binary_operator::lt;
    case binary_operator::eq: return binary_operator::ne;
    case binary_operator::ne: return binary_operator::eq;
    default: return binary_operator::null_safe_eq;  // stands for "no constraint" below
    }
}

std::optional<domain> comparison_domain(binary_operator op, std::string v) {
    switch (op) {
    case binary_operator::eq: return domain{{bound{v, true}, bound{v, true}}};
    case binary_operator::lt: return domain{{std::nullopt, bound{v, false}}};
    case binary_operator::le: return domain{{std::nullopt, bound{v, true}}};
    case binary_operator::gt: return domain{{bound{v, false}, std::nullopt}};
    case binary_operator::ge: return domain{{bound{v, true}, std::nullopt}};
    default: return std::nullopt;
    }
}

/// What `e` (negated when `negated`) requires of the partition columns; nullopt: nothing known.
std::optional<constraints> analyze(const context& ctx, const expr& e, bool negated);

std::optional<constraints> conjunction(const context& ctx, std::optional<constraints> a, std::optional<constraints> b) {
    if (!a) return b;
    if (!b) return a;
    for (auto& [column, d] : *b) {
        auto it = a->find(column);
        if (it == a->end()) {
            a->emplace(column, std::move(d));
        } else {
            it->second = intersect(ctx.columns.at(column), it->second, d);
        }
    }
    return a;
}

std::optional<constraints> disjunction(std::optional<constraints> a, std::optional<constraints> b) {
    if (!a || !b) {
        return std::nullopt;
    }
    constraints out;
    for (auto& [column, d] : *a) {
        auto it = b->find(column);
        if (it != b->end()) {
            domain both = d;
            both.insert(both.end(), it->second.begin(), it->second.end());
            out.emplace(column, std::move(both));
        }
    }
    if (out.empty()) {
        return std::nullopt;
    }
    return out;
}

std::optional<constraints> single(const std::string& column, std::optional<domain> d) {
    if (!d) {
        return std::nullopt;
    }
    return constraints{{column, std::move(*d)}};
}

std::optional<constraints> analyze(const context& ctx, const expr& e, bool negated) {
    if (const auto* u = e.as<unary_op>(); u && u->op == unary_operator::logical_not) {
        return analyze(ctx, *u->operand, !negated);
    }
    if (const auto* b = e.as<binary_op>()) {
        bool is_and = b->op == binary_operator::logical_and;
        bool is_or = b->op == binary_operator::logical_or;
        if (is_and || is_or) {
            auto l = analyze(ctx, *b->left, negated);
            auto r = analyze(ctx, *b->right, negated);
            // NOT (a AND b) is NOT a OR NOT b, and the other way round.
            return is_and != negated ? conjunction(ctx, std::move(l), std::move(r))
                                     : disjunction(std::move(l), std::move(r));
        }
        const expr* column = b->left.operator->();
        const expr* value = b->right.operator->();
        binary_operator op = b->op;
        if (ctx.type_of(*column) == nullptr) {
            std::swap(column, value);
            op = mirror(op);
        }
        const column_type* t = ctx.type_of(*column);
        if (t == nullptr) {
            return std::nullopt;
        }
        auto v = literal_value(*value, *t);
        if (!v) {
            return std::nullopt;
        }
        if (op == binary_operator::null_safe_eq) {
            op = binary_operator::eq;
        }
        if (negated) {
            op = negate(op);
        }
        return single(ascii_lower(column->as<column_ref>()->column), comparison_domain(op, *v));
    }
    if (const auto* in = e.as<in_expr>()) {
        const column_type* t = ctx.type_of(*in->value);
        if (t == nullptr || in->negated != negated) {
            return std::nullopt;  // NOT IN excludes points: too little to prune on
        }
        domain d;
        for (const auto& item : in->list) {
            auto v = literal_value(item, *t);
            if (!v) {
                return std::nullopt;
            }
            d.push_back({bound{*v, true}, bound{*v, true}});
        }
        return single(ascii_lower(in->value->as<column_ref>()->column), std::move(d));
    }
    if (const auto* between = e.as<between_expr>()) {
        const column_type* t = ctx.type_of(*between->value);
        if (t == nullptr) {
            return std::nullopt;
        }
        auto lo = literal_value(*between->low, *t);
        auto hi = literal_value(*between->high, *t);
        if (!lo || !hi) {
            return std::nullopt;
        }
        domain d;
        if (between->negated == negated) {
            d.push_back({bound{*lo, true}, bound{*hi, true}});
        } else {
            d.push_back({std::nullopt, bound{*lo, false}});
            d.push_back({bound{*hi, false}, std::nullopt});
        }
        return single(ascii_lower(between->value->as<column_ref>()->column), std::move(d));
    }
    return std::nullopt;
}

bool contains(const column_type& t, const domain& d, const std::string& value) {
    for (const auto& i : d) {
        interval point{bound{value, true}, bound{value, true}};
        if (non_empty(t, interval{max_lo(t, i.lo, point.lo), min_hi(t, i.hi, point.hi)})) {
            return true;
        }
    }
    return false;
}

bool range_may_match(const context& ctx, const storage::table& t, const storage::partition& p,
                     const constraints& c) {
    const std::string first = ascii_lower(t.partitioning.columns[0]);
    auto it = c.find(first);
    if (it == c.end()) {
        return true;
    }
    const column_type& type = ctx.columns.at(first);
    // With several partition columns the first one's range includes its upper value.
    bool single_column = t.partitioning.columns.size() == 1;
    interval range;
    if (!p.lower.empty() && p.lower[0] != storage::min_value) {
        range.lo = bound{p.lower[0], true};
    }
    if (!p.upper.empty() && p.upper[0] != storage::max_value) {
        range.hi = bound{p.upper[0], !single_column};
    }
    return !intersect(type, it->second, domain{range}).empty();
}

bool list_may_match(const context& ctx, const storage::table& t, const storage::partition& p, const constraints& c) {
    for (const auto& tuple : p.values) {
        bool all = true;
        for (size_t i = 0; i < t.partitioning.columns.size() && i < tuple.size() && all; ++i) {
            const std::string name = ascii_lower(t.partitioning.columns[i]);
            auto it = c.find(name);
            all = it == c.end() || contains(ctx.columns.at(name), it->second, tuple[i]);
        }
        if (all) {
            return true;
        }
    }
    return p.values.empty();
}

}  // namespace

std::vector<storage::object_id> prune_partitions(const storage::table& t, const std::optional<expr>& where) {
    std::vector<storage::object_id> all;
    for (const auto& p : t.partitioning.partitions) {
        all.push_back(p.id);
    }
    const auto kind = t.partitioning.kind;
    if (!where || kind == storage::partition_kind::none || t.partitioning.columns.empty()) {
        return all;
    }
    context ctx;
    for (const auto& name : t.partitioning.columns) {
        const storage::column* c = t.find_column(name);
        if (c == nullptr) {
            return all;
        }
        ctx.columns.emplace(ascii_lower(name), c->type);
    }
    auto c = analyze(ctx, *where, false);
    if (!c) {
        return all;
    }
    std::vector<storage::object_id> out;
    for (const auto& p : t.partitioning.partitions) {
        bool keep = kind == storage::partition_kind::range ? range_may_match(ctx, t, p, *c) : list_may_match(ctx, t, p, *c);
        if (keep) {
            out.push_back(p.id);
        }
    }
    return out;
}

}  // namespace tv::sql
