// SPDX-License-Identifier: Apache-2.0
// Helpers for load and scan tests: batches from text rows, loading them, and reading a table
// back as sorted text rows.
#pragma once

#include "storage/load_writer.hh"
#include "storage/table_scan.hh"
#include "storage/values.hh"
#include "storage_test_util.hh"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace tv::testing {

using text_rows = std::vector<std::vector<std::string>>;

/// The table's (or MV's) columns as a load schema.
inline std::vector<column_desc> schema_of(const std::vector<column>& columns) {
    std::vector<column_desc> out;
    for (const auto& c : columns) {
        out.push_back(column_desc{c.name, c.type, c.nullable});
    }
    return out;
}

/// A batch from text values ("NULL" is NULL), parsed with parse_typed.
inline column_batch batch_of(const std::vector<column_desc>& schema, const text_rows& rows) {
    column_batch b(schema);
    for (const auto& row : rows) {
        std::vector<owned_value> owned;
        for (size_t i = 0; i < schema.size(); ++i) {
            if (row.at(i) == "NULL") {
                owned.emplace_back();
                continue;
            }
            auto v = parse_typed(schema[i].type, row[i]);
            if (!v) {
                throw std::runtime_error(v.error().message);
            }
            owned.push_back(std::move(*v));
        }
        std::vector<cell> cells;
        for (const auto& o : owned) {
            cells.push_back(o.as_cell());
        }
        b.append_row(cells);
    }
    return b;
}

inline text_rows text_of(const column_batch& b) {
    text_rows out;
    for (size_t r = 0; r < b.num_rows(); ++r) {
        std::vector<std::string> row;
        for (size_t c = 0; c < b.num_columns(); ++c) {
            cell v = b.get(r, c);
            row.push_back(is_null(v) ? "NULL" : format_typed(b.schema()[c].type, v));
        }
        out.push_back(std::move(row));
    }
    return out;
}

inline data_options data_in(const std::string& dir, uint64_t write_buffer = uint64_t{100} << 20,
                            uint64_t segment_max = uint64_t{1} << 30, io::loop_group* loops = nullptr) {
    data_options d;
    d.data_dir = dir;
    d.write_buffer_bytes = write_buffer;
    d.segment_max_bytes = segment_max;
    d.loops = loops;
    return d;
}

/// Loads `rows` into db.table in one load (one append per batch of `per_append` rows). No
/// default arguments: GCC 12 mishandles a braced default argument of a coroutine awaited in
/// the same expression, so the short forms below are plain functions.
inline io::task<storage_result<load_summary>> load_rows_with(catalog& c, data_options data, std::string db,
                                                             std::string table, text_rows rows, load_options options,
                                                             index_deriver derive, size_t per_append) {
    auto w = load_writer::begin(c, data, db, table, std::move(options), std::move(derive));
    if (!w) {
        co_return w.error();
    }
    for (size_t i = 0; i < rows.size(); i += per_append) {
        text_rows part(rows.begin() + static_cast<ptrdiff_t>(i),
                       rows.begin() + static_cast<ptrdiff_t>(std::min(rows.size(), i + per_append)));
        column_batch batch = batch_of((*w)->schema(), part);
        auto appended = co_await (*w)->append(std::move(batch));
        if (!appended) {
            co_await (*w)->abort();
            co_return appended.error();
        }
    }
    co_return co_await (*w)->commit();
}

inline io::task<storage_result<load_summary>> load_rows(catalog& c, data_options data, std::string db,
                                                        std::string table, text_rows rows) {
    return load_rows_with(c, std::move(data), std::move(db), std::move(table), std::move(rows), load_options(),
                          index_deriver(), 1000);
}

inline io::task<storage_result<load_summary>> load_rows(catalog& c, data_options data, std::string db,
                                                        std::string table, text_rows rows, load_options options) {
    return load_rows_with(c, std::move(data), std::move(db), std::move(table), std::move(rows), std::move(options),
                          index_deriver(), 1000);
}

inline io::task<storage_result<load_summary>> load_rows(catalog& c, data_options data, std::string db,
                                                        std::string table, text_rows rows, load_options options,
                                                        index_deriver derive) {
    return load_rows_with(c, std::move(data), std::move(db), std::move(table), std::move(rows), std::move(options),
                          std::move(derive), 1000);
}

struct scan_outcome {
    text_rows rows;
    std::vector<text_rows> batches;
    std::string error;
};

/// Every visible row of db.table as text, in scan order (and each batch separately).
inline io::task<scan_outcome> scan_all_of(const catalog& c, data_options data, std::string db, std::string table,
                                          std::vector<object_id> partitions) {
    scan_outcome out;
    scan_request req{db, table, std::move(partitions)};
    auto scan = table_scan::open(c, data, std::move(req));
    if (!scan) {
        out.error = scan.error().message;
        co_return out;
    }
    while (true) {
        auto b = co_await (*scan)->next();
        if (!b) {
            out.error = b.error().message;
            co_return out;
        }
        if (!b->has_value()) {
            break;
        }
        auto t = text_of(**b);
        out.batches.push_back(t);
        out.rows.insert(out.rows.end(), t.begin(), t.end());
    }
    co_return out;
}

inline io::task<scan_outcome> scan_all(const catalog& c, data_options data, std::string db, std::string table) {
    return scan_all_of(c, std::move(data), std::move(db), std::move(table), std::vector<object_id>());
}

inline io::task<scan_outcome> scan_all(const catalog& c, data_options data, std::string db, std::string table,
                                       std::vector<object_id> partitions) {
    return scan_all_of(c, std::move(data), std::move(db), std::move(table), std::move(partitions));
}

inline text_rows sorted(text_rows rows) {
    std::sort(rows.begin(), rows.end());
    return rows;
}

/// Every regular file under <dir>/storage/data, as "<tablet>/<name>", sorted.
inline std::vector<std::string> data_files(const std::string& dir) {
    std::vector<std::string> out;
    std::filesystem::path root = std::filesystem::path(dir) / "storage" / "data";
    std::error_code ec;
    if (!std::filesystem::exists(root, ec)) {
        return out;
    }
    for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
        if (e.is_regular_file()) {
            out.push_back(std::filesystem::relative(e.path(), root).string());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace tv::testing

namespace tv::testing {

inline std::string file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream out;
    out << in.rdbuf();
    return out.str();
}

inline void put_file(const std::string& path, const std::string& data) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << data;
}

/// The tablets of a table's partition for its base index (or index `k`).
inline std::vector<object_id> tablets_of(const table& t, std::string_view partition_name, size_t k = 0) {
    const partition* p = t.find_partition(partition_name);
    return p == nullptr ? std::vector<object_id>{} : p->tablets.at(k).tablet_ids;
}

}  // namespace tv::testing
