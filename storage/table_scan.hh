// SPDX-License-Identifier: Apache-2.0
// table_scan: the visible rows of a table, an asynchronous MV or a synchronous MV index, read
// tablet by tablet over the loops with the key model's merge; and per-tablet figures from the
// catalog alone for SHOW TABLET / SHOW PARTITIONS.
#pragma once

#include "io/task.hh"
#include "storage/catalog.hh"
#include "storage/column_batch.hh"
#include "storage/data_options.hh"
#include "storage/segment_format.hh"

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tv::storage {

struct scan_request {
    std::string db, table;              // table, or an async MV, or a sync MV (index) name: then it reads that index
    std::vector<object_id> partitions;  // empty: all
};

/// How rows of one tablet are merged: DUPLICATE keeps them; UNIQUE/PRIMARY keep the latest row
/// of each key; AGGREGATE folds the value columns per key.
struct merge_spec {
    key_model model = key_model::duplicate;
    std::vector<size_t> key_columns;  // indices into the schema, in key order
    std::vector<aggregation> aggs;    // per schema column (none for keys)
};

/// Merges rows that were loaded in the order given (earlier rows first: rowsets by version,
/// files by number, rows by position) into one row per key, sorted by key (NULL first).
/// AGGREGATE: SUM adds the non-NULL values (NULL when all are NULL; integers wrap as in
/// StarRocks), MIN/MAX ignore NULLs, REPLACE takes the latest value (NULL included),
/// REPLACE_IF_NOT_NULL the latest non-NULL one; HLL_UNION and BITMAP_UNION act as REPLACE.
/// UNIQUE/PRIMARY: the latest row. DUPLICATE: `rows` unchanged.
column_batch merge_rows(const merge_spec& spec, const column_batch& rows);

/// Reads the visible rows of a table: tablets read concurrently over data.loops, key models
/// merged, DUPLICATE rows as stored. The set of rowsets is fixed at open(), and their files are
/// pinned: a DROP/TRUNCATE/OVERWRITE meanwhile deletes them only after the scan is destroyed.
class table_scan {
public:
    /// Errors: "Unknown database 'd'", "Unknown table 'd.t'". Call on the catalog's loop.
    static storage_result<std::unique_ptr<table_scan>> open(const catalog& c, const data_options& data,
                                                            scan_request req);
    ~table_scan();
    table_scan(const table_scan&) = delete;
    table_scan& operator=(const table_scan&) = delete;

    const std::vector<column_desc>& schema() const { return _schema; }
    const merge_spec& merge() const { return _merge; }
    /// Tablets and files the scan reads (tests, EXPLAIN-like output).
    size_t tablet_count() const { return _tablets.size(); }
    size_t file_count() const;

    /// The next batch (one tablet's merged rows, or one segment for DUPLICATE), nullopt at the
    /// end. A corrupt file is an error naming the file; no rows from it are returned, and the
    /// scan ends there. Call from the loop that opened the scan.
    io::task<storage_result<std::optional<column_batch>>> next();

    struct unit_slot;

private:
    table_scan() = default;
    void launch();

    struct tablet_files {
        object_id tablet_id = 0;
        std::vector<std::string> paths;  // in load order
    };

    data_options _data;
    std::vector<column_desc> _schema;
    merge_spec _merge;
    std::vector<tablet_files> _tablets;
    size_t _next_tablet = 0;
    size_t _next_file = 0;
    size_t _window = 2;
    size_t _next_loop = 0;
    bool _failed = false;
    std::deque<std::shared_ptr<unit_slot>> _pending;
    file_reclaimer::pin _pin;
};

/// A tablet's figures from the catalog alone (no file reads).
struct tablet_stats {
    object_id tablet_id = 0;
    int64_t version = 0;       // visible version of its partition (0 when the tablet is unknown)
    int64_t data_version = 0;  // version of its latest rowset (0: none)
    uint64_t rows = 0;         // stored rows (before any key-model merge)
    uint64_t data_size = 0;    // bytes of its segment files
    uint64_t files = 0;
    uint64_t rowsets = 0;
};
tablet_stats stats_of(const catalog& c, object_id tablet);

/// Sum over the tablets of a partition's base index (SHOW PARTITIONS' DataSize and RowCount).
struct partition_stats {
    uint64_t rows = 0;
    uint64_t data_size = 0;
    uint64_t files = 0;
};
partition_stats stats_of_partition(const catalog& c, const partition& p, object_id index_id);

}  // namespace tv::storage
