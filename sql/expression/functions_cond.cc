// SPDX-License-Identifier: Apache-2.0
// Conditional expressions: CASE (and IF, NULLIF built on it) evaluates each result only on the
// rows that take it, so a branch that would fail on other rows does not; COALESCE / IFNULL.
#include "sql/expression/eval_nodes.hh"

namespace tv::sql {

namespace {

using storage::column_type;

/// The per-row pick of one of several evaluated branches, assembled into one column.
struct branch_value {
    std::optional<value_vector> values;  ///< empty: no row takes this branch
    bool full = false;                   ///< evaluated over every row (slot = row)
};

storage::column_vector assemble(const column_type& type, bool nullable, size_t n, const std::vector<int32_t>& choice,
                                const std::vector<uint32_t>& position, const std::vector<branch_value>& branches) {
    auto slot_of = [&](size_t i, const value_vector& v, const branch_value& b) -> size_t {
        return v.constant() ? 0 : b.full ? i : position[i];
    };
    return vec::dispatch(vec::physical(type), [&](auto tag) -> storage::column_vector {
        using T = typename decltype(tag)::type;
        if constexpr (vec::is_bytes<T>) {
            vec::string_builder out(n, nullable);
            for (size_t i = 0; i < n; ++i) {
                const branch_value& b = branches[static_cast<size_t>(choice[i])];
                const auto& c = b.values->column();
                size_t s = slot_of(i, *b.values, b);
                if (c.is_null(s)) {
                    out.append_null();
                } else {
                    out.append(c.string_at(s));
                }
            }
            return out.finish();
        } else {
            vec::fixed_builder<T> out(n, nullable);
            for (size_t i = 0; i < n; ++i) {
                const branch_value& b = branches[static_cast<size_t>(choice[i])];
                const auto& c = b.values->column();
                size_t s = slot_of(i, *b.values, b);
                if (c.is_null(s)) {
                    out.set_null(i);
                } else {
                    out.values[i] = c.values<T>()[s];
                }
            }
            return out.finish();
        }
    });
}

class case_node final : public compiled_expr {
public:
    case_node(column_type type, bool nullable, std::vector<expr_ptr> conditions, std::vector<expr_ptr> results)
        : compiled_expr(type, nullable), _conditions(std::move(conditions)), _results(std::move(results)) {
        _constant = std::all_of(_conditions.begin(), _conditions.end(), [](auto& e) { return e->constant(); }) &&
                    std::all_of(_results.begin(), _results.end(), [](auto& e) { return e->constant(); });
    }
    bool constant() const override { return _constant; }

protected:
    sql_result<value_vector> run(const storage::column_batch& in) const override {
        const size_t n = _constant ? 1 : in.num_rows();
        const auto otherwise = static_cast<int32_t>(_conditions.size());  // the ELSE result's index
        std::vector<int32_t> choice(n, -1);
        size_t undecided = n;
        for (size_t j = 0; j < _conditions.size() && undecided > 0; ++j) {
            auto c = _conditions[j]->eval(in);
            if (!c) {
                return c.error();
            }
            const auto& v = *c;
            auto values = v.column().values<uint8_t>();
            for (size_t i = 0; i < n; ++i) {
                if (choice[i] < 0 && values[v.slot(i)] != 0 && !v.is_null(i)) {
                    choice[i] = static_cast<int32_t>(j);
                    --undecided;
                }
            }
        }
        for (auto& c : choice) {
            if (c < 0) {
                c = otherwise;
            }
        }
        std::vector<std::vector<uint32_t>> rows(_results.size());
        std::vector<uint32_t> position(n);
        for (size_t i = 0; i < n; ++i) {
            auto& r = rows[static_cast<size_t>(choice[i])];
            position[i] = static_cast<uint32_t>(r.size());
            r.push_back(static_cast<uint32_t>(i));
        }
        std::vector<branch_value> branches(_results.size());
        for (size_t j = 0; j < _results.size(); ++j) {
            if (rows[j].empty()) {
                continue;
            }
            const bool full = _results[j]->constant() || rows[j].size() == n;
            branches[j].full = full;
            if (full) {
                auto v = _results[j]->eval(in);
                if (!v) {
                    return v.error();
                }
                branches[j].values.emplace(std::move(*v));
                continue;
            }
            storage::column_batch taken = vec::gather_batch(in, rows[j]);
            auto v = _results[j]->eval(taken);
            if (!v) {
                return v.error();
            }
            // `taken` dies here: the branch's values move into a column of their own.
            branches[j].values.emplace(
                value_vector::own((std::move(*v)).materialize(rows[j].size())));
        }
        return value_vector::own(assemble(type(), nullable(), n, choice, position, branches), _constant);
    }

private:
    std::vector<expr_ptr> _conditions;
    std::vector<expr_ptr> _results;  ///< one per condition, then the ELSE result
    bool _constant = false;
};

/// The type several values are brought to; nullopt when they do not mix.
sql_result<column_type> common_of(const std::vector<expr_ptr>& values, const std::string& text) {
    std::optional<column_type> t;
    for (const auto& v : values) {
        if (v->null_literal()) {
            continue;
        }
        if (!t) {
            t = v->type();
            continue;
        }
        auto c = types::common(*t, v->type());
        if (!c) {
            return make_error(errc::unknown, "Failed to get the common type of {} and {} in {}", t->to_sql(),
                              v->type().to_sql(), text);
        }
        t = *c;
    }
    return t.value_or(column_type{storage::type_kind::boolean});
}

sql_result<std::vector<expr_ptr>> convert_all(std::vector<expr_ptr> values, const column_type& t) {
    for (auto& v : values) {
        auto c = convert_if_needed(v, t);
        if (!c) {
            return c.error();
        }
        v = std::move(*c);
    }
    return values;
}

}  // namespace

sql_result<expr_ptr> make_case(std::vector<expr_ptr> conditions, std::vector<expr_ptr> results, expr_ptr otherwise,
                               std::string text) {
    results.push_back(otherwise ? std::move(otherwise) : make_null_literal());
    auto t = common_of(results, text);
    if (!t) {
        return t.error();
    }
    const column_type type = *t;
    auto converted = convert_all(std::move(results), type);
    if (!converted) {
        return converted.error();
    }
    results = std::move(*converted);
    for (auto& c : conditions) {
        auto b = convert_if_needed(c, column_type{storage::type_kind::boolean});
        if (!b) {
            return b;
        }
        c = std::move(*b);
    }
    bool nullable = std::any_of(results.begin(), results.end(), [](const expr_ptr& r) { return r->nullable(); });
    auto node = std::make_shared<case_node>(type, nullable, std::move(conditions), std::move(results));
    if (!node->constant()) {
        return expr_ptr(node);
    }
    static const storage::column_batch empty;
    auto v = node->eval(empty);
    if (!v) {
        return v.error();
    }
    return make_constant_column(type, (std::move(*v)).materialize(1));
}

sql_result<expr_ptr> make_coalesce(std::vector<expr_ptr> args, std::string text) {
    auto t = common_of(args, text);
    if (!t) {
        return t.error();
    }
    const column_type type = *t;
    auto converted = convert_all(std::move(args), type);
    if (!converted) {
        return converted.error();
    }
    args = std::move(*converted);
    bool nullable = std::all_of(args.begin(), args.end(), [](const expr_ptr& a) { return a->nullable(); });
    return make_node(type, nullable, std::move(args), [type](const kernel_args& k) -> sql_result<value_vector> {
        std::vector<int32_t> choice(k.n, static_cast<int32_t>(k.args.size() - 1));
        for (size_t i = 0; i < k.n; ++i) {
            for (size_t j = 0; j < k.args.size(); ++j) {
                if (!k.args[j].is_null(i)) {
                    choice[i] = static_cast<int32_t>(j);
                    break;
                }
            }
        }
        std::vector<branch_value> branches(k.args.size());
        for (size_t j = 0; j < k.args.size(); ++j) {
            branches[j].values.emplace(value_vector::borrow(k.args[j].column(), k.args[j].constant()));
            branches[j].full = true;
        }
        return result(assemble(type, k.self.nullable(), k.n, choice, {}, branches), k);
    }, std::move(text));
}

}  // namespace tv::sql
