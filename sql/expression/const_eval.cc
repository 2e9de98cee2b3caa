// SPDX-License-Identifier: Apache-2.0
// Constant expressions on the vectorized evaluator: an empty scope to compile in, and a batch of
// one row to evaluate over.
#include "sql/expression/const_eval.hh"

#include "storage/values.hh"

namespace tv::sql {

namespace {

/// A scope with no columns: every name is unknown.
class no_columns_scope final : public compile_scope {
public:
    no_columns_scope(const session& s, std::string clause) : _session(s), _clause(std::move(clause)) {}
    const std::vector<storage::column_desc>& columns() const override { return _none; }
    const session& current_session() const override { return _session; }
    sql_result<size_t> resolve(const column_ref& c) override { return unknown_column(c, _clause); }

private:
    const std::vector<storage::column_desc> _none;
    const session& _session;
    std::string _clause;
};

/// One row for a constant to be evaluated over. The expression reads none of its columns, but a
/// batch's row count is the length of its columns, so it has one.
const storage::column_batch& one_row() {
    static const storage::column_batch batch = [] {
        storage::column_vector row_marker(storage::physical_type::boolean, false);
        row_marker.append(storage::cell{false});
        std::vector<storage::column_vector> columns;
        columns.push_back(std::move(row_marker));
        return storage::column_batch({{"", storage::column_type{storage::type_kind::boolean}, false}},
                                     std::move(columns));
    }();
    return batch;
}

}  // namespace

cell constant_value::text() const {
    if (is_null()) {
        return std::nullopt;
    }
    return storage::format_typed(type, column.get(0));
}

sql_result<expr_ptr> compile_constant(const expr& e, const session& s, std::string clause) {
    no_columns_scope scope(s, std::move(clause));
    return compile(e, scope);
}

sql_result<constant_value> evaluate_compiled(const expr_ptr& e) {
    auto v = e->eval(one_row());
    if (!v) {
        return v.error();
    }
    return constant_value{e->type(), e->nullable(), std::move(*v).materialize(1)};
}

sql_result<constant_value> evaluate_constant(const expr& e, const session& s, std::string clause) {
    auto compiled = compile_constant(e, s, std::move(clause));
    if (!compiled) {
        return compiled.error();
    }
    return evaluate_compiled(*compiled);
}

sql_result<bool> constant_condition(const expr& e, const session& s) {
    auto compiled = compile_constant(e, s, "where clause");
    if (!compiled) {
        return compiled.error();
    }
    auto condition = convert(std::move(*compiled), storage::column_type{storage::type_kind::boolean});
    if (!condition) {
        return condition.error();
    }
    auto v = evaluate_compiled(*condition);
    if (!v) {
        return v.error();
    }
    return !v->is_null() && v->column.values<uint8_t>()[0] != 0;
}

}  // namespace tv::sql
