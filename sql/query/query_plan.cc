// SPDX-License-Identifier: Apache-2.0
// The SELECT planner: expands `*`, resolves GROUP BY / ORDER BY ordinals and aliases, puts
// GROUP BY keys and aggregate results in place of the sub-expressions they stand for, and
// compiles every stage against the rows it will see.
#include "io/ascii.hh"
#include "sql/expression/eval_nodes.hh"
#include "sql/query/query_state.hh"

#include <charconv>

namespace tv::sql {

namespace {

using storage::column_desc;
using storage::column_type;
using storage::type_kind;

/// A select item after `*` expansion.
struct item {
    expr value;
    std::string name;
};

/// The expression with names folded to lower case and qualifiers dropped: equal shapes compare
/// equal however they were written (GROUP BY t.A matches SELECT a).
expr normalize(const expr& e) {
    expr out = e;
    std::function<void(expr&)> fold = [&](expr& x) {
        if (auto* c = x.as<column_ref>()) {
            c->db.clear();
            c->table.clear();
            c->column = ascii_lower(c->column);
        } else if (auto* f = x.as<function_call>()) {
            f->name = ascii_lower(f->name);
        }
        // visit_children gives const access; the tree is ours, so walk it mutably by node type.
        std::visit(
            [&](auto& n) {
                using T = std::decay_t<decltype(n)>;
                if constexpr (std::is_same_v<T, function_call>) {
                    for (auto& a : n.args) fold(a);
                } else if constexpr (std::is_same_v<T, unary_op>) {
                    fold(*n.operand);
                } else if constexpr (std::is_same_v<T, binary_op>) {
                    fold(*n.left);
                    fold(*n.right);
                } else if constexpr (std::is_same_v<T, like_expr>) {
                    fold(*n.value);
                    fold(*n.pattern);
                } else if constexpr (std::is_same_v<T, in_expr>) {
                    fold(*n.value);
                    for (auto& a : n.list) fold(a);
                } else if constexpr (std::is_same_v<T, between_expr>) {
                    fold(*n.value);
                    fold(*n.low);
                    fold(*n.high);
                } else if constexpr (std::is_same_v<T, is_null_expr> || std::is_same_v<T, cast_expr> ||
                                     std::is_same_v<T, interval_expr>) {
                    fold(*n.value);
                } else if constexpr (std::is_same_v<T, case_expr>) {
                    if (n.operand) fold(**n.operand);
                    for (auto& w : n.whens) {
                        fold(*w.condition);
                        fold(*w.result);
                    }
                    if (n.else_result) fold(**n.else_result);
                }
            },
            x.node);
    };
    fold(out);
    return out;
}

bool is_source_column(const std::vector<column_desc>& source, const column_ref& c) {
    return std::any_of(source.begin(), source.end(), [&](const column_desc& d) { return storage::iequals(d.name, c.column); });
}

/// Bare names that are select aliases replaced by the aliased expression. A name that is also
/// a source column stays the column unless `prefer_alias` (ORDER BY prefers aliases, GROUP BY
/// and HAVING prefer columns, as MySQL resolves them).
expr with_aliases(const expr& e, const std::vector<item>& items, const std::vector<column_desc>& source,
                  const std::vector<bool>& aliased, bool prefer_alias) {
    if (const auto* c = e.as<column_ref>(); c && c->table.empty()) {
        if (prefer_alias || !is_source_column(source, *c)) {
            for (size_t i = 0; i < items.size(); ++i) {
                if (aliased[i] && storage::iequals(items[i].name, c->column)) {
                    return items[i].value;
                }
            }
        }
        return e;
    }
    expr out = e;
    std::visit(
        [&](auto& n) {
            using T = std::decay_t<decltype(n)>;
            auto sub = [&](expr& x) { x = with_aliases(x, items, source, aliased, prefer_alias); };
            if constexpr (std::is_same_v<T, function_call>) {
                for (auto& a : n.args) sub(a);
            } else if constexpr (std::is_same_v<T, unary_op>) {
                sub(*n.operand);
            } else if constexpr (std::is_same_v<T, binary_op>) {
                sub(*n.left);
                sub(*n.right);
            } else if constexpr (std::is_same_v<T, like_expr>) {
                sub(*n.value);
                sub(*n.pattern);
            } else if constexpr (std::is_same_v<T, in_expr>) {
                sub(*n.value);
                for (auto& a : n.list) sub(a);
            } else if constexpr (std::is_same_v<T, between_expr>) {
                sub(*n.value);
                sub(*n.low);
                sub(*n.high);
            } else if constexpr (std::is_same_v<T, is_null_expr> || std::is_same_v<T, cast_expr>) {
                sub(*n.value);
            } else if constexpr (std::is_same_v<T, case_expr>) {
                if (n.operand) sub(**n.operand);
                for (auto& w : n.whens) {
                    sub(*w.condition);
                    sub(*w.result);
                }
                if (n.else_result) sub(**n.else_result);
            }
        },
        out.node);
    return out;
}

/// A positional reference (GROUP BY 2, ORDER BY 1): the 1-based number, if `e` is one.
std::optional<uint64_t> ordinal(const expr& e) {
    const auto* l = e.as<literal>();
    if (l == nullptr || l->kind != literal_kind::integer) {
        return std::nullopt;
    }
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(l->value.data(), l->value.data() + l->value.size(), n);
    if (ec != std::errc{} || end != l->value.data() + l->value.size()) {
        return UINT64_MAX;
    }
    return n;
}

/// WHERE and HAVING keep rows where the condition is TRUE: a condition of another type (WHERE 1)
/// is read as BOOLEAN first, as CAST reads it.
sql_result<expr_ptr> compile_condition(const expr& e, compile_scope& scope) {
    auto c = compile(e, scope);
    if (!c) {
        return c;
    }
    return convert(std::move(*c), storage::column_type{storage::type_kind::boolean});
}

sql_result<aggregate_spec> make_aggregate(const function_call& f, const expr& e, compile_scope& source) {
    const std::string name = ascii_lower(f.name);
    aggregate_spec spec;
    spec.distinct = f.distinct;
    spec.text = to_sql(e);
    if (name == "count") {
        if (f.star) {
            spec.kind = aggregate_kind::count_star;
        } else if (f.args.empty() || (f.args.size() > 1 && !f.distinct)) {
            return wrong_arg_count(name);
        } else {
            spec.kind = aggregate_kind::count;
        }
    } else {
        if (f.args.size() != 1 || f.star) {
            return wrong_arg_count(name);
        }
        spec.kind = name == "sum"   ? aggregate_kind::sum
                    : name == "min" ? aggregate_kind::min
                    : name == "max" ? aggregate_kind::max
                                    : aggregate_kind::avg;
    }
    for (const auto& a : f.args) {
        auto c = compile(a, source);
        if (!c) {
            return c.error();
        }
        spec.args.push_back(std::move(*c));
    }
    if (spec.kind == aggregate_kind::count_star || spec.kind == aggregate_kind::count) {
        spec.type = simple_type(type_kind::bigint);
        spec.nullable = false;
        return spec;
    }
    const expr_ptr& arg = spec.args[0];
    const column_type t = arg->null_literal() ? simple_type(type_kind::bigint) : arg->type();
    column_type operand = t;
    switch (spec.kind) {
    case aggregate_kind::min:
    case aggregate_kind::max: spec.type = t; break;
    case aggregate_kind::sum:
        if (t.kind == type_kind::decimal) {
            spec.type = types::decimal(38, t.scale);
        } else if (t.kind == type_kind::largeint) {
            spec.type = t;
        } else if (t.is_floating() || types::is_string(t)) {
            operand = spec.type = simple_type(type_kind::double_);
        } else {
            operand = spec.type = simple_type(type_kind::bigint);
        }
        break;
    default:  // avg
        if (t.kind == type_kind::decimal) {
            int rs = t.scale <= 6 ? t.scale + 6 : t.scale <= 12 ? 12 : t.scale;
            spec.type = types::decimal(38, rs);
        } else if (t.kind == type_kind::largeint) {
            spec.type = simple_type(type_kind::double_);
        } else if (t.is_floating() || types::is_string(t)) {
            operand = spec.type = simple_type(type_kind::double_);
        } else {
            operand = simple_type(type_kind::bigint);
            spec.type = simple_type(type_kind::double_);
        }
        break;
    }
    auto converted = convert_if_needed(arg, operand);
    if (!converted) {
        return converted.error();
    }
    spec.args[0] = std::move(*converted);
    return spec;
}

/// Names after grouping: GROUP BY keys and aggregates stand for their expressions; any other
/// column is an error, as neither grouped nor aggregated.
class grouped_scope final : public compile_scope {
public:
    grouped_scope(plan_state& plan, std::vector<expr> keys, schema_scope& source)
        : _plan(plan), _keys(std::move(keys)), _source(source) {}

    const std::vector<column_desc>& columns() const override { return _plan.grouped_schema; }
    const session& current_session() const override { return _source.current_session(); }
    void set_clause(std::string clause) { _clause = std::move(clause); }

    std::optional<sql_result<size_t>> substitute(const expr& e) override {
        expr n = normalize(e);
        for (size_t k = 0; k < _keys.size(); ++k) {
            if (_keys[k] == n) {
                return sql_result<size_t>(k);
            }
        }
        const auto* f = e.as<function_call>();
        if (f == nullptr || !is_aggregate_function(f->name)) {
            return std::nullopt;
        }
        for (size_t j = 0; j < _aggregates.size(); ++j) {
            if (_aggregates[j] == n) {
                return sql_result<size_t>(_keys.size() + j);
            }
        }
        _source.set_clause(_clause);
        auto spec = make_aggregate(*f, e, _source);
        if (!spec) {
            return sql_result<size_t>(spec.error());
        }
        auto& s = *spec;
        _plan.grouped_schema.push_back({s.text, s.type, s.nullable});
        _plan.aggregates.push_back(std::move(s));
        _aggregates.push_back(std::move(n));
        return sql_result<size_t>(_plan.grouped_schema.size() - 1);
    }

    sql_result<size_t> resolve(const column_ref& c) override {
        _source.set_clause(_clause);
        auto slot = _source.resolve(c);
        if (!slot) {
            return slot;
        }
        for (size_t k = 0; k < _keys.size(); ++k) {
            const auto* key = _keys[k].as<column_ref>();
            if (key == nullptr) {
                continue;
            }
            auto key_slot = _source.resolve(*key);
            if (key_slot && *key_slot == *slot) {
                return k;
            }
        }
        std::string name = c.table.empty() ? c.column : c.table + "." + c.column;
        return make_error(errc::wrong_field_with_group, "'{}' must be an aggregate expression or appear in GROUP BY clause",
                          name);
    }

private:
    plan_state& _plan;
    std::vector<expr> _keys;        ///< normalized
    std::vector<expr> _aggregates;  ///< normalized, in slot order after the keys
    schema_scope& _source;
    std::string _clause = "field list";
};

}  // namespace

const std::vector<storage::column_desc>& query_plan::output_schema() const {
    return _state->output_schema;
}

const std::optional<expr>& query_plan::where() const {
    return _state->where_ast;
}

cursor query_plan::open(std::unique_ptr<batch_source> source, query_guard* guard) const {
    return open_cursor(_state, std::move(source), guard);
}

sql_result<std::unique_ptr<query_plan>> plan_select(const select_stmt& stmt,
                                                    const std::vector<storage::column_desc>& source_schema,
                                                    std::string source_name, const session& s) {
    auto state = std::make_shared<plan_state>();
    plan_state& p = *state;
    p.source_schema = source_schema;
    p.where_ast = stmt.where;
    p.distinct = stmt.distinct;
    p.limit = stmt.limit;
    schema_scope source(p.source_schema, source_name, "field list", s);

    // `*` and `t.*` expand to the source's columns.
    std::vector<item> items;
    std::vector<bool> aliased;
    for (const auto& it : stmt.items) {
        if (it.star) {
            if (!it.star_table.name.empty() && !storage::iequals(it.star_table.name, source_name)) {
                return make_error(errc::bad_table, "Unknown table '{}'", it.star_table.name);
            }
            for (const auto& c : p.source_schema) {
                items.push_back({expr{column_ref{"", "", c.name}}, c.name});
                aliased.push_back(false);
            }
            continue;
        }
        // MySQL names a column by its alias, a bare or qualified column reference by the
        // column's own name (`SELECT t.id` shows `id`), anything else by the text written.
        const auto* ref = it.value->as<column_ref>();
        std::string name = it.alias          ? *it.alias
                           : ref != nullptr  ? ref->column
                           : !it.text.empty() ? it.text
                                              : to_sql(*it.value);
        items.push_back({*it.value, std::move(name)});
        aliased.push_back(it.alias.has_value());
    }

    bool aggregate = !stmt.group_by.empty() || (stmt.having && contains_aggregate(*stmt.having));
    for (const auto& i : items) {
        aggregate = aggregate || contains_aggregate(i.value);
    }
    for (const auto& o : stmt.order_by) {
        aggregate = aggregate || contains_aggregate(o.value);
    }
    p.aggregate = aggregate;

    if (stmt.where) {
        source.set_clause("where clause");
        auto w = compile_condition(*stmt.where, source);
        if (!w) {
            return w.error();
        }
        p.where = std::move(*w);
    }

    std::vector<expr> keys;
    for (const auto& g : stmt.group_by) {
        expr key = g;
        if (auto n = ordinal(g)) {
            if (*n == 0 || *n > items.size()) {
                return make_error(errc::bad_field, "Unknown column '{}' in 'group statement'", to_sql(g));
            }
            key = items[*n - 1].value;
        } else {
            key = with_aliases(g, items, p.source_schema, aliased, false);
        }
        source.set_clause("group statement");
        auto c = compile(key, source);
        if (!c) {
            return c.error();
        }
        const expr_ptr& k = *c;
        p.grouped_schema.push_back({to_sql(key), k->type(), k->nullable()});
        p.group_keys.push_back(k);
        keys.push_back(normalize(key));
    }

    grouped_scope grouped(p, keys, source);
    compile_scope& rows = aggregate ? static_cast<compile_scope&>(grouped) : source;
    auto set_clause = [&](const char* clause) {
        source.set_clause(clause);
        grouped.set_clause(clause);
    };

    if (stmt.having) {
        set_clause("having clause");
        expr h = with_aliases(*stmt.having, items, p.source_schema, aliased, false);
        auto c = compile_condition(h, rows);
        if (!c) {
            return c.error();
        }
        (aggregate ? p.having : p.filter) = std::move(*c);
    }

    set_clause("field list");
    for (const auto& i : items) {
        auto c = compile(i.value, rows);
        if (!c) {
            return c.error();
        }
        const expr_ptr& e = *c;
        p.projected_schema.push_back({i.name, e->type(), e->nullable()});
        p.projections.push_back(e);
    }
    p.visible = items.size();

    set_clause("order clause");
    for (const auto& o : stmt.order_by) {
        std::optional<size_t> column;
        if (auto n = ordinal(o.value)) {
            if (*n == 0 || *n > items.size()) {
                return make_error(errc::bad_field, "Unknown column '{}' in 'order clause'", to_sql(o.value));
            }
            column = *n - 1;
        } else if (const auto* c = o.value.as<column_ref>(); c && c->table.empty()) {
            for (size_t i = 0; i < items.size() && !column; ++i) {
                if (aliased[i] && storage::iequals(items[i].name, c->column)) {
                    column = i;
                }
            }
        }
        expr n = normalize(o.value);
        for (size_t i = 0; i < items.size() && !column; ++i) {
            if (normalize(items[i].value) == n) {
                column = i;
            }
        }
        if (!column) {
            if (p.distinct) {
                return make_error(errc::unknown,
                                  "ORDER BY expression '{}' is not in the SELECT list, which SELECT DISTINCT requires",
                                  to_sql(o.value));
            }
            auto c = compile(with_aliases(o.value, items, p.source_schema, aliased, true), rows);
            if (!c) {
                return c.error();
            }
            const expr_ptr& e = *c;
            p.projected_schema.push_back({to_sql(o.value), e->type(), e->nullable()});
            p.projections.push_back(e);
            column = p.projections.size() - 1;
        }
        p.order.push_back({*column, o.descending});
    }

    p.output_schema.assign(p.projected_schema.begin(), p.projected_schema.begin() + static_cast<ptrdiff_t>(p.visible));
    return std::make_unique<query_plan>(std::move(state));
}

}  // namespace tv::sql
