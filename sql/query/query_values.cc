// SPDX-License-Identifier: Apache-2.0
// INSERT ... VALUES rows as a batch source: each value is a constant expression, converted to
// its target column as a strict load converts (too long, out of range, NULL into NOT NULL and
// text that does not parse are errors naming the row).
#include "sql/expression/cast.hh"
#include "sql/expression/eval_nodes.hh"
#include "sql/query/query_state.hh"
#include "storage/values.hh"

#include <ctime>

namespace tv::sql {

namespace {

/// The value DEFAULT stands for, as an expression: the column's literal, the current time, or NULL.
expr_ptr default_value(const std::optional<storage::column_default>& d) {
    if (!d || d->kind == storage::default_kind::null) {
        return make_null_literal();
    }
    if (d->kind == storage::default_kind::current_timestamp) {
        time_t now = ::time(nullptr);
        int64_t micros = static_cast<int64_t>(now) * storage::micros_per_second;
        return make_constant(storage::column_type{storage::type_kind::datetime}, micros);
    }
    return make_constant(varchar_type(), std::string_view(d->text));
}

class no_columns final : public compile_scope {
public:
    explicit no_columns(const session& s) : _session(s) {}
    const std::vector<storage::column_desc>& columns() const override { return _none; }
    const session& current_session() const override { return _session; }
    sql_result<size_t> resolve(const column_ref& c) override { return unknown_column(c, "field list"); }

private:
    std::vector<storage::column_desc> _none;
    const session& _session;
};

}  // namespace

sql_result<std::unique_ptr<batch_source>> make_values_source(
    const std::vector<std::vector<std::optional<expr>>>& rows, const std::vector<storage::column_desc>& target,
    const session& s, const std::vector<std::optional<storage::column_default>>& defaults) {
    no_columns scope(s);
    static const storage::column_batch empty;
    std::vector<std::vector<storage::column_vector>> pieces(target.size());
    for (size_t r = 0; r < rows.size(); ++r) {
        if (rows[r].size() != target.size()) {
            return make_error(errc::unknown, "Column count doesn't match value count at row {}", r + 1);
        }
        for (size_t c = 0; c < target.size(); ++c) {
            expr_ptr value;
            if (rows[r][c]) {
                auto compiled = compile(*rows[r][c], scope);
                if (!compiled) {
                    return compiled.error();
                }
                value = std::move(*compiled);
            } else {
                value = default_value(c < defaults.size() ? defaults[c] : std::nullopt);
            }
            auto v = value->eval(empty);
            if (!v) {
                return v.error();
            }
            const auto& one = *v;
            // A bare NULL has no type of its own: it is a NULL of the column's type.
            storage::column_type from = value->null_literal() ? target[c].type : value->type();
            storage::column_vector column = value->null_literal()
                                                 ? vec::null_column(storage::physical_of(from.kind), 1)
                                                 : one.column();
            cast_request req{from, target[c].type, target[c].nullable, true};
            std::vector<cast_failure> failures;
            auto converted = cast_column(column, true, 1, req, failures);
            if (!failures.empty()) {
                return cast_error(failures[0], from, column, 0, target[c], r + 1);
            }
            pieces[c].push_back(std::move(converted));
        }
    }
    std::vector<storage::column_vector> columns;
    for (size_t c = 0; c < target.size(); ++c) {
        std::vector<const storage::column_vector*> parts;
        for (const auto& p : pieces[c]) {
            parts.push_back(&p);
        }
        columns.push_back(vec::concat(parts, storage::physical_of(target[c].type.kind), target[c].nullable));
    }
    std::vector<storage::column_batch> batches;
    if (!rows.empty()) {
        batches.emplace_back(target, std::move(columns));
    }
    return make_memory_source(target, std::move(batches));
}

}  // namespace tv::sql
