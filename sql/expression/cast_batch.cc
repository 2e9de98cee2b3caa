// SPDX-License-Identifier: Apache-2.0
// cast_batch: a batch brought to a table's schema, column by column, with MySQL's error numbers
// and messages that name the column, the row and the value that did not fit.
#include "sql/expression/cast.hh"

#include "io/ascii.hh"
#include "io/printable.hh"
#include "sql/expression/eval_vector.hh"
#include "storage/values.hh"

namespace tv::sql {

sql_error cast_error(cast_failure why, const storage::column_type& from, const storage::column_vector& values,
                     size_t row, const storage::column_desc& target, uint64_t row_number) {
    // The value is the client's (a Stream Load field may be 64 MB): quote an excerpt, and do
    // not copy a long string whole just to cut it.
    storage::cell c = values.get(row);
    const auto* text = std::get_if<std::string_view>(&c);
    std::string value = printable_value(text != nullptr ? *text : storage::format_typed(from, c));
    const std::string type = target.type.to_sql();
    switch (why) {
    case cast_failure::out_of_range:
        return make_error(errc::data_out_of_range, "Out of range value '{}' for column '{}' ({}) at row {}", value,
                          target.name, type, row_number);
    case cast_failure::too_long:
        return make_error(errc::data_too_long, "Data too long for column '{}' ({}) at row {}: '{}'", target.name, type,
                          row_number, value);
    case cast_failure::null: return make_error(errc::bad_null, "Column '{}' cannot be null", target.name);
    default: break;
    }
    return make_error(errc::truncated_wrong_value, "Incorrect {} value: '{}' for column '{}' at row {}", type, value,
                      target.name, row_number);
}

namespace {

/// Whether column `c` already is what the target wants, so that it can move over unchanged:
/// same type (a DECIMAL no wider, text within the length), same nullability.
bool unchanged(const storage::column_vector& c, const storage::column_type& from, const storage::column_desc& to) {
    if (c.nullable() != to.nullable) {
        return false;
    }
    const storage::column_type& t = to.type;
    if (from.is_string() && t.is_string()) {
        if (t.kind == storage::type_kind::string) {
            return true;
        }
        auto offsets = c.offsets();
        for (size_t i = 0; i + 1 < offsets.size(); ++i) {
            if (offsets[i + 1] - offsets[i] > static_cast<uint64_t>(t.length)) {
                return false;
            }
        }
        return true;
    }
    if (from.kind != t.kind) {
        return false;
    }
    return t.kind != storage::type_kind::decimal || (from.scale == t.scale && from.precision <= t.precision);
}

/// The conversion of columns `inputs` (of `schema`); `owned`, when given, holds the same
/// columns and lets the unchanged ones move instead of being copied.
sql_result<cast_outcome> convert(const std::vector<storage::column_desc>& schema,
                                 const std::vector<const storage::column_vector*>& inputs,
                                 std::vector<storage::column_vector>* owned,
                                 const std::vector<storage::column_desc>& target, bool strict,
                                 uint64_t first_row) {
    if (inputs.size() != target.size()) {
        return make_error(errc::unknown, "Column count doesn't match value count: {} values for {} columns",
                          inputs.size(), target.size());
    }
    const size_t n = inputs.empty() ? 0 : inputs[0]->size();
    std::vector<storage::column_vector> columns;
    columns.reserve(target.size());
    std::vector<uint8_t> bad;  // lenient: rows to drop
    size_t first_bad = SIZE_MAX;
    sql_result<void> first_failure;  // the error of the first row that fails, if one does
    for (size_t c = 0; c < target.size(); ++c) {
        if (owned != nullptr && unchanged(*inputs[c], schema[c].type, target[c])) {
            columns.push_back(std::move((*owned)[c]));
            continue;
        }
        cast_request req{schema[c].type, target[c].type, target[c].nullable, true};
        std::vector<cast_failure> failures;
        columns.push_back(cast_column(*inputs[c], false, n, req, failures));
        if (failures.empty()) {
            continue;
        }
        if (bad.empty()) {
            bad.assign(n, 0);
        }
        for (size_t row = 0; row < n; ++row) {
            if (failures[row] == cast_failure::none) {
                continue;
            }
            bad[row] = 1;
            if (row < first_bad) {
                first_bad = row;
                first_failure =
                    cast_error(failures[row], schema[c].type, *inputs[c], row, target[c], first_row + row + 1);
            }
            if (strict) {
                break;  // later rows of this column cannot come first
            }
        }
    }
    if (!first_failure && strict) {
        return first_failure.error();
    }
    cast_outcome out;
    if (first_failure) {
        out.rows = storage::column_batch(target, std::move(columns));
        return out;
    }
    std::vector<uint32_t> keep;
    keep.reserve(n);
    for (size_t row = 0; row < n; ++row) {
        if (bad[row] == 0) {
            keep.push_back(static_cast<uint32_t>(row));
        }
    }
    for (auto& column : columns) {
        column = vec::gather(column, keep);
    }
    out.rows = storage::column_batch(target, std::move(columns));
    out.filtered = n - keep.size();
    out.first_error = first_failure.error().message;
    return out;
}

}  // namespace

sql_result<cast_outcome> cast_batch(const storage::column_batch& in,
                                    const std::vector<storage::column_desc>& target, bool strict,
                                    uint64_t first_row) {
    std::vector<const storage::column_vector*> inputs;
    for (size_t c = 0; c < in.num_columns(); ++c) {
        inputs.push_back(&in.column(c));
    }
    return convert(in.schema(), inputs, nullptr, target, strict, first_row);
}

sql_result<cast_outcome> cast_batch(storage::column_batch&& in,
                                    const std::vector<storage::column_desc>& target, bool strict,
                                    uint64_t first_row) {
    std::vector<storage::column_desc> schema = in.schema();
    std::vector<storage::column_vector> owned = in.release_columns();
    std::vector<const storage::column_vector*> inputs;
    for (const auto& c : owned) {
        inputs.push_back(&c);
    }
    return convert(schema, inputs, &owned, target, strict, first_row);
}

}  // namespace tv::sql
