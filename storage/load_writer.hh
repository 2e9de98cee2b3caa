// SPDX-License-Identifier: Apache-2.0
// load_writer: one load (INSERT, Stream Load, an MV refresh) into a table or an asynchronous
// materialized view. Rows are routed to partitions and buckets a column at a time, buffered per
// tablet, written as segment files spread over the loops, and made visible by one publish.
#pragma once

#include "io/task.hh"
#include "storage/catalog.hh"
#include "storage/column_batch.hh"
#include "storage/data_options.hh"
#include "storage/partition_router.hh"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tv::storage {

struct segment_writes;

/// Rows of a synchronous MV index derived from some rows of its base table (all from one
/// partition). Supplied by the SQL layer (evaluates the MV's query); an error fails the load
/// and is what the load answers.
using index_deriver =
    std::function<storage_result<column_batch>(const materialized_index& index, const column_batch& base_rows)>;

struct load_options {
    std::string label;                    // checked at begin() and again at publish
    bool overwrite = false;               // INSERT OVERWRITE: partitions below (all when empty) are replaced
    std::vector<std::string> partitions;  // INSERT ... PARTITION (p, ...): rows must fall in these
    /// Backfill of a new synchronous MV: the rows appended are the table's existing rows; only
    /// this index (by name) gets the rows derived from them, the base tablets get nothing.
    std::string backfill_index;
    /// Partition id -> visible_version the publish requires (see load_publication).
    std::vector<std::pair<object_id, int64_t>> expected_versions;
};

/// What keep_routable() kept, and how many rows it dropped for having no partition.
struct routable_rows {
    column_batch rows;
    uint64_t dropped = 0;
    std::string first_error;  // why the first dropped row has no partition; empty when none was
};

struct load_summary {
    uint64_t rows = 0;    // base rows loaded
    uint64_t bytes = 0;   // bytes of segment files written (sync MV indexes included)
    uint64_t files = 0;
    int64_t tablets = 0;  // tablets that got a rowset
};

class load_writer {
public:
    /// Resolves db.table (or an asynchronous MV with storage), checks the label and the
    /// partitions. Errors as storage_error in StarRocks' words: "Unknown database 'd'",
    /// "Unknown table 'd.t'", "Unknown partition 'p' in table 't'", "Label [l] has already been
    /// used.". The catalog must outlive the writer; it is only touched on the calling loop.
    static storage_result<std::unique_ptr<load_writer>> begin(catalog& c, const data_options& data, std::string db,
                                                              std::string table, load_options options,
                                                              index_deriver derive);
    ~load_writer();
    load_writer(const load_writer&) = delete;
    load_writer& operator=(const load_writer&) = delete;

    /// The base schema rows must have: the table's columns, in order (types as declared; a
    /// nullable column where the table says NOT NULL is accepted if it holds no NULL).
    const std::vector<column_desc>& schema() const { return _schema; }

    /// Routes each row to its partition and to a tablet by the bucket hash (partition_router.hh),
    /// buffers per tablet, and writes a tablet's buffer as segment files once it passes
    /// write_buffer_bytes (or the load's buffers together pass their budget). Sync MV indexes
    /// get derive(index, rows) for each flushed base buffer. Fails the load: a row in no
    /// (allowed) partition, NULL in a NOT NULL column ("Column 'k' cannot be null"), a failed
    /// write or derive. Call from the catalog's loop; rows are consumed.
    io::task<storage_result<void>> append(column_batch rows);

    /// The rows of `rows` that have a partition this load may write to; the others are counted
    /// as dropped, with the first one's reason (Stream Load filters such rows under
    /// max_filter_ratio instead of failing). `rows` must have schema().
    routable_rows keep_routable(column_batch rows) const;
    /// Flushes everything, then publishes one rowset per touched tablet in one journal record.
    /// After this returns ok the rows are visible and durable; on error nothing is visible and
    /// the written files are removed.
    io::task<storage_result<load_summary>> commit();

    /// Removes every file written so far; the writer is unusable afterwards. Called when
    /// append/commit fail or the client goes away. Idempotent.
    io::task<void> abort();

    /// Rows appended so far (progress for Stream Load and logs).
    uint64_t rows_appended() const noexcept { return _rows; }

    struct tablet_slot;
    struct index_info;

private:
    load_writer() = default;

    storage_result<column_batch> conform(column_batch rows) const;
    /// Adds rows of one index (0: base) to its tablets' buffers; `part` is the partition of
    /// every row when `parts` is empty.
    void distribute(size_t index, const column_batch& rows, const std::vector<uint32_t>& parts, uint32_t part);
    io::task<storage_result<void>> flush_due();
    io::task<storage_result<void>> flush(size_t slot);
    io::task<storage_result<void>> start_write(size_t slot, column_batch batch);
    storage_result<void> failed() const;

    catalog* _catalog = nullptr;
    bool _backfill = false;  // see load_options::backfill_index
    data_options _data;
    std::string _db;
    std::string _table;
    object_id _table_id = 0;
    load_options _options;
    index_deriver _derive;
    std::vector<column_desc> _schema;
    std::vector<std::unique_ptr<index_info>> _indexes;  // [0] the base index
    std::vector<object_id> _partition_ids;
    std::vector<object_id> _overwrite_ids;              // INSERT OVERWRITE: the partitions replaced
    std::vector<int> _partition_buckets;
    std::vector<std::vector<size_t>> _first_slot;       // [partition][index] -> first tablet slot
    std::vector<std::unique_ptr<tablet_slot>> _slots;
    std::optional<partition_router> _router;
    std::vector<size_t> _dist_columns;                  // base schema indices hashed for buckets
    bool _random = false;
    std::vector<uint64_t> _round_robin;                 // per partition, RANDOM distribution
    object_id _rowset_id = 0;
    bool _ids_durable = false;
    uint64_t _flush_bytes = 0;                          // a tablet buffer is written past this
    uint64_t _memory_budget = 0;                        // all buffers together
    uint64_t _segment_budget = 0;                       // block bytes of one segment at most
    uint64_t _buffered = 0;
    uint64_t _rows = 0;
    size_t _next_loop = 0;
    size_t _max_inflight = 2;
    bool _done = false;
    std::shared_ptr<segment_writes> _state;             // the background writes
    std::vector<size_t> _due;                           // slots past _flush_bytes
};

}  // namespace tv::storage
