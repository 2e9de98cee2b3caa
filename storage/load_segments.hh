// SPDX-License-Identifier: Apache-2.0
// The pieces of a load below routing: rows checked against a schema, batches cut to segment
// size, and segment writes running in the background on the loops with their outcomes
// collected on the load's loop.
#pragma once

#include "io/loop.hh"
#include "io/task.hh"
#include "storage/catalog_types.hh"
#include "storage/column_batch.hh"
#include "storage/error.hh"

#include <coroutine>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tv::io {
class loop_group;
}

namespace tv::storage {

/// `rows` under `schema`'s names and nullability, after checking the column count and types
/// (DECIMAL scales must match; string lengths are the caller's business). NULL in a NOT NULL
/// column: "Column 'k' cannot be null". `what` names the target in other messages.
storage_result<column_batch> conform_to(const std::vector<column_desc>& schema, column_batch rows,
                                        std::string_view what);

/// Bytes a segment of `schema` needs beyond its blocks, at most: header, trailer, and a footer
/// whose min/max entries are as long as they can be.
uint64_t segment_overhead(const std::vector<column_desc>& schema);

/// Row ranges of `b` whose blocks take at most `budget` bytes each; bad_definition when one
/// row alone is larger.
storage_result<std::vector<std::pair<size_t, size_t>>> split_rows(const column_batch& b, uint64_t budget);

/// The loop for the next background job (segment write, tablet read): round robin over
/// `loops`, skipping the calling loop when there are others, since that one produces or consumes
/// the rows (SQL evaluation, routing). Null when `loops` is null: the calling loop does it all.
io::loop* pick_loop(io::loop_group* loops, size_t& cursor);

/// Creates <data_dir>/storage/data, fsyncing the parents of what it created; io_error when it
/// cannot.
storage_result<void> make_tablets_root(const std::string& data_dir);

/// The segment writes of one load. Shared with the detached writes, so a write that finishes
/// after the load is gone still has somewhere to report (it then deletes its file). Touched
/// only on the load's loop: writes run elsewhere but report back there.
struct segment_writes {
    struct written {
        size_t slot = 0;  // the load's tablet slot
        object_id tablet_id = 0;
        uint64_t n = 0;   // the file's number within the rowset
        segment_file file;
    };

    std::string data_dir;
    object_id rowset_id = 0;
    size_t inflight = 0;
    std::coroutine_handle<> waiter;  // the load, waiting for inflight to drop
    std::optional<storage_error> error;
    std::vector<written> files;
    bool abandoned = false;
    /// Written batches kept for reuse as buffers, per index (their memory is already touched).
    std::vector<std::vector<column_batch>> spare;
    size_t spare_limit = 0;
    /// Per slot: a write into its tablet directory succeeded, so the directory exists. Until
    /// then every write creates it (writes to one tablet may run at once on several loops).
    std::vector<uint8_t> dir_made;

    /// Starts writing `batch` as file `n` of tablet `tablet` (slot `slot`, index `index`) on
    /// `target` (null: the current loop), counted in `inflight` until it reports.
    static void start(std::shared_ptr<segment_writes> self, io::loop* target, size_t slot, size_t index,
                      object_id tablet, uint64_t n, column_batch batch);

    /// Suspends until `inflight` is at most `at_most`.
    io::task<void> wait(size_t at_most);
};

}  // namespace tv::storage
