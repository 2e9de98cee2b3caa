// SPDX-License-Identifier: Apache-2.0
// What the information_schema table builders share: column types, a typed row builder, and
// one builder function per table.
#pragma once

#include "sql/query/information_schema.hh"
#include "storage/catalog_types.hh"
#include "storage/column_batch.hh"

#include <deque>
#include <string>
#include <vector>

namespace tv::sql::infoschema {

storage::column_desc varchar_column(std::string name, int length = 2048);
storage::column_desc bigint_column(std::string name);
storage::column_desc int_column(std::string name);
storage::column_desc datetime_column(std::string name);
storage::column_desc boolean_column(std::string name);
storage::column_desc double_column(std::string name);

/// Appends rows cell by cell in schema order; text cells are kept until the row is appended.
class row_builder {
public:
    explicit row_builder(std::vector<storage::column_desc> schema) : _batch(std::move(schema)) {}
    row_builder& text(std::string value);
    row_builder& text_or_null(const std::string& value);  ///< NULL for ""
    row_builder& integer(int64_t value);
    row_builder& boolean(bool value);
    row_builder& real(double value);
    /// A DATETIME from Unix milliseconds; NULL for 0 (never happened).
    row_builder& datetime_ms(int64_t unix_ms);
    row_builder& null();
    /// Ends the row; it must have one cell per column.
    void end_row();
    storage::column_batch take() { return std::move(_batch); }

private:
    storage::column_batch _batch;
    std::vector<storage::cell> _cells;
    std::deque<std::string> _texts;
};

/// The one source an information_schema table is: its rows in one batch.
std::unique_ptr<batch_source> rows_source(row_builder&& rows);

/// "`a`, `b`": column lists as tables_config shows them.
std::string quoted_list(const std::vector<std::string>& names);
/// "a, b": column lists as partitions_meta shows them.
std::string plain_list(const std::vector<std::string>& names);
/// {"k":"v",...} as StarRocks prints PROPERTIES in tables_config.
std::string properties_json(const storage::properties& props);

std::vector<storage::column_desc> columns_schema();
std::vector<storage::column_desc> partitions_meta_schema();
std::vector<storage::column_desc> tables_config_schema();
std::vector<storage::column_desc> materialized_views_schema();

std::unique_ptr<batch_source> columns_rows(exec_context& ctx);
std::unique_ptr<batch_source> partitions_meta_rows(exec_context& ctx);
std::unique_ptr<batch_source> tables_config_rows(exec_context& ctx);
std::unique_ptr<batch_source> materialized_views_rows(exec_context& ctx);

}  // namespace tv::sql::infoschema
