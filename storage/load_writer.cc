// SPDX-License-Identifier: Apache-2.0
// load_writer: routing, per-tablet buffers, segment writes spread over the loops, publish.
#include "storage/load_writer.hh"

#include "io/log.hh"
#include "io/loop_group.hh"
#include "io/ops.hh"
#include "storage/load_segments.hh"
#include "storage/tablet_files.hh"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <tuple>

#include <fcntl.h>  // AT_FDCWD, AT_REMOVEDIR
#include <unistd.h>

namespace tv::storage {

struct load_writer::index_info {
    materialized_index meta;
    std::vector<column_desc> schema;
    std::vector<size_t> hash_columns;  // columns of `schema` the bucket hash reads
};

struct load_writer::tablet_slot {
    object_id tablet_id = 0;
    size_t index = 0;
    uint32_t partition = 0;
    column_batch buffer;
    uint64_t buffered = 0;  // buffer.block_bytes()
    uint64_t next_file = 0;
    bool due = false;
    bool sized = false;  // buffer has room reserved (or is a reused one)
};


storage_result<std::unique_ptr<load_writer>> load_writer::begin(catalog& c, const data_options& data, std::string db,
                                                                std::string table, load_options options,
                                                                index_deriver derive) {
    if (c.find_database(db) == nullptr) {
        return make_error(storage_errc::unknown_database, fmt::format("Unknown database '{}'", db));
    }
    const storage::table* t = c.find_table(db, table);
    const materialized_view* mv = t == nullptr ? c.find_materialized_view(db, table) : nullptr;
    if (t == nullptr && mv == nullptr) {
        return make_error(storage_errc::unknown_table, fmt::format("Unknown table '{}.{}'", db, table));
    }
    if (mv != nullptr && mv->columns.empty()) {
        return make_error(storage_errc::bad_definition,
                          fmt::format("Materialized view '{}' has no storage to load into", table));
    }
    if (!options.label.empty() && c.label_used(db, options.label)) {
        return make_error(storage_errc::bad_definition, fmt::format("Label [{}] has already been used.", options.label));
    }
    std::unique_ptr<load_writer> w(new load_writer());
    w->_catalog = &c;
    w->_data = data;
    w->_state = std::make_shared<segment_writes>();
    w->_state->data_dir = data.data_dir;
    const std::vector<column>& columns = t != nullptr ? t->columns : mv->columns;
    for (const auto& col : columns) {
        w->_schema.push_back(column_desc{col.name, col.type, col.nullable});
    }
    std::vector<const partition*> parts;
    if (t != nullptr) {
        for (const auto& p : t->partitioning.partitions) {
            parts.push_back(&p);
        }
    } else {
        parts.push_back(&mv->storage);
    }
    std::vector<bool> allowed(parts.size(), options.partitions.empty());
    for (const auto& name : options.partitions) {
        auto it = std::find_if(parts.begin(), parts.end(), [&](const partition* p) { return iequals(p->name, name); });
        if (it == parts.end()) {
            return make_error(storage_errc::unknown_partition,
                              fmt::format("Unknown partition '{}' in table '{}'", name, table));
        }
        allowed[static_cast<size_t>(it - parts.begin())] = true;
    }
    partition_kind kind = t != nullptr ? t->partitioning.kind : partition_kind::none;
    std::vector<size_t> pcols;
    std::vector<column_type> ptypes;
    auto column_index = [&](std::string_view name) -> std::optional<size_t> {
        for (size_t i = 0; i < columns.size(); ++i) {
            if (iequals(columns[i].name, name)) {
                return i;
            }
        }
        return std::nullopt;
    };
    auto damaged = [&](std::string what) {
        return make_error(storage_errc::corrupt_metadata, fmt::format("Table '{}': {}", table, what));
    };
    if (t != nullptr) {
        for (const auto& name : t->partitioning.columns) {
            auto i = column_index(name);
            if (!i) {
                return damaged(fmt::format("partition column '{}' does not exist", name));
            }
            pcols.push_back(*i);
            ptypes.push_back(columns[*i].type);
        }
    }
    auto router = partition_router::make(kind, pcols, ptypes, parts, allowed);
    if (!router) {
        return damaged(router.error().message);
    }
    w->_router.emplace(std::move(*router));
    const distribution& dist = t != nullptr ? t->dist : mv->dist;
    w->_random = dist.random || dist.columns.empty();
    for (const auto& name : dist.columns) {
        auto i = column_index(name);
        if (!i) {
            return damaged(fmt::format("distribution column '{}' does not exist", name));
        }
        w->_dist_columns.push_back(*i);
    }
    // The base index, then each synchronous materialized view.
    auto base = std::make_unique<index_info>();
    base->meta = t != nullptr ? t->indexes.at(0) : materialized_index{mv->id, mv->name, "", {}};
    base->schema = w->_schema;
    base->hash_columns = w->_dist_columns;
    w->_indexes.push_back(std::move(base));
    if (t != nullptr) {
        for (size_t k = 1; k < t->indexes.size(); ++k) {
            if (!options.backfill_index.empty() && !iequals(t->indexes[k].name, options.backfill_index)) {
                continue;  // a backfill fills one index; the others already hold these rows
            }
            auto info = std::make_unique<index_info>();
            info->meta = t->indexes[k];
            for (size_t i = 0; i < info->meta.columns.size(); ++i) {
                const column& col = info->meta.columns[i];
                info->schema.push_back(column_desc{col.name, col.type, col.nullable});
                if (std::any_of(dist.columns.begin(), dist.columns.end(),
                                [&](const std::string& d) { return iequals(d, col.name); })) {
                    info->hash_columns.push_back(i);
                }
            }
            if (info->hash_columns.empty() && !info->schema.empty()) {
                info->hash_columns.push_back(0);
            }
            w->_indexes.push_back(std::move(info));
        }
        if (!options.backfill_index.empty() && w->_indexes.size() != 2) {
            return make_error(storage_errc::bad_definition,
                              fmt::format("Table '{}' has no synchronous materialized view '{}' to fill", table,
                                          options.backfill_index));
        }
        w->_backfill = !options.backfill_index.empty();
        if (w->_indexes.size() > 1 && !derive) {
            return make_error(storage_errc::bad_definition,
                              fmt::format("Table '{}' has synchronous materialized views, whose rows a load must derive",
                                          table));
        }
    }
    // One slot per tablet: [partition][index] -> its first slot; buckets follow.
    for (uint32_t pi = 0; pi < parts.size(); ++pi) {
        const partition& p = *parts[pi];
        w->_partition_ids.push_back(p.id);
        std::vector<size_t> firsts;
        int buckets = -1;
        for (size_t k = 0; k < w->_indexes.size(); ++k) {
            auto it = std::find_if(p.tablets.begin(), p.tablets.end(),
                                   [&](const index_tablets& x) { return x.index_id == w->_indexes[k]->meta.id; });
            if (it == p.tablets.end() || it->tablet_ids.empty() ||
                (buckets >= 0 && it->tablet_ids.size() != static_cast<size_t>(buckets))) {
                return damaged(fmt::format("partition '{}' has no tablets for index '{}'", p.name,
                                           w->_indexes[k]->meta.name));
            }
            buckets = static_cast<int>(it->tablet_ids.size());
            firsts.push_back(w->_slots.size());
            for (object_id tablet : it->tablet_ids) {
                auto slot = std::make_unique<tablet_slot>();
                slot->tablet_id = tablet;
                slot->index = k;
                slot->partition = pi;
                slot->buffer = column_batch(w->_indexes[k]->schema);
                w->_slots.push_back(std::move(slot));
            }
        }
        w->_first_slot.push_back(std::move(firsts));
        w->_partition_buckets.push_back(buckets);
    }
    w->_round_robin.assign(parts.size(), 0);
    if (options.overwrite) {
        for (size_t i = 0; i < parts.size(); ++i) {
            if (allowed[i]) {
                w->_overwrite_ids.push_back(parts[i]->id);
            }
        }
    }
    if (auto root = make_tablets_root(data.data_dir); !root) {
        return root.error();
    }
    uint64_t overhead = 0;
    for (const auto& index : w->_indexes) {
        overhead = std::max(overhead, segment_overhead(index->schema));
    }
    w->_segment_budget = data.segment_max_bytes > overhead ? data.segment_max_bytes - overhead : 1;
    w->_flush_bytes = std::max<uint64_t>(1, std::min(data.write_buffer_bytes, w->_segment_budget));
    w->_memory_budget = std::max<uint64_t>(2 * data.write_buffer_bytes, uint64_t{256} << 20);
    w->_max_inflight = data.loops != nullptr ? std::max<size_t>(2, data.loops->size() * 2) : 2;
    w->_state->spare.resize(w->_indexes.size());
    w->_state->spare_limit = w->_max_inflight;
    w->_state->dir_made.assign(w->_slots.size(), 0);
    w->_db = std::move(db);
    w->_table = std::move(table);
    w->_table_id = t != nullptr ? t->id : mv->id;
    w->_options = std::move(options);
    w->_derive = std::move(derive);
    w->_rowset_id = c.allocate_id();
    w->_state->rowset_id = w->_rowset_id;
    return w;
}

load_writer::~load_writer() {
    if (_done || !_state) {
        return;
    }
    // Neither committed nor aborted: take the files back (writes still running delete theirs).
    _state->abandoned = true;
    for (const auto& f : _state->files) {
        std::string path = segment_path(_data.data_dir, f.tablet_id, f.file.name);
        (void)::unlink(path.c_str());
    }
    if (!_state->files.empty() || _state->inflight != 0) {
        TV_LOG_WARN("storage: load into {}.{} dropped without commit or abort; its files are removed", _db, _table);
    }
    _state->files.clear();
}

storage_result<void> load_writer::failed() const {
    if (_done) {
        return make_error(storage_errc::bad_definition, "The load has already finished");
    }
    if (_state->error) {
        return *_state->error;
    }
    return {};
}

void load_writer::distribute(size_t index, const column_batch& rows, const std::vector<uint32_t>& parts,
                             uint32_t part) {
    size_t n = rows.num_rows();
    if (n == 0) {
        return;
    }
    const index_info& info = *_indexes[index];
    std::vector<uint32_t> slot_of(n);
    auto partition_at = [&](size_t row) { return parts.empty() ? part : parts[row]; };
    if (index == 0 && _random) {
        for (size_t row = 0; row < n; ++row) {
            uint32_t p = partition_at(row);
            auto buckets = static_cast<uint64_t>(_partition_buckets[p]);
            slot_of[row] = static_cast<uint32_t>(_first_slot[p][index] + _round_robin[p]++ % buckets);
        }
    } else {
        std::vector<uint64_t> hashes(n, 0);
        for (size_t c : info.hash_columns) {
            hash_column(rows.column(c), hashes);
        }
        for (size_t row = 0; row < n; ++row) {
            uint32_t p = partition_at(row);
            auto buckets = static_cast<uint64_t>(_partition_buckets[p]);
            slot_of[row] = static_cast<uint32_t>(_first_slot[p][index] + hashes[row] % buckets);
        }
    }
    // A fresh buffer reserves what it will hold before its flush, so it never grows by
    // copying; untouched reserved pages cost nothing.
    uint64_t row_bytes = std::max<uint64_t>(1, rows.block_bytes() / n);
    size_t expected_rows = static_cast<size_t>(std::min<uint64_t>(_flush_bytes / row_bytes + 1, uint64_t{1} << 26));
    auto add = [&](size_t slot, auto&& append) {
        tablet_slot& s = *_slots[slot];
        if (!s.sized) {
            s.buffer.reserve_like(rows, expected_rows);
            s.sized = true;
        }
        uint64_t before = s.buffered;
        append(s.buffer);
        s.buffered = s.buffer.block_bytes();
        _buffered += s.buffered - before;
        if (s.buffered >= _flush_bytes && !s.due) {
            s.due = true;
            _due.push_back(slot);
        }
    };
    if (std::all_of(slot_of.begin(), slot_of.end(), [&](uint32_t s) { return s == slot_of[0]; })) {
        add(slot_of[0], [&](column_batch& b) { b.append_range(rows, 0, n); });
        return;
    }
    // Counting sort of the rows by slot, then one gather per slot and column.
    std::vector<uint32_t> counts(_slots.size() + 1, 0);
    for (uint32_t s : slot_of) {
        ++counts[s + 1];
    }
    std::partial_sum(counts.begin(), counts.end(), counts.begin());
    std::vector<uint32_t> order(n);
    std::vector<uint32_t> next(counts.begin(), counts.end() - 1);
    for (size_t row = 0; row < n; ++row) {
        order[next[slot_of[row]]++] = static_cast<uint32_t>(row);
    }
    for (size_t slot = 0; slot < _slots.size(); ++slot) {
        uint32_t begin = counts[slot];
        uint32_t end = counts[slot + 1];
        if (begin != end) {
            std::span<const uint32_t> picked(order.data() + begin, end - begin);
            add(slot, [&](column_batch& b) { b.append_from(rows, picked); });
        }
    }
}

io::task<storage_result<void>> load_writer::append(column_batch rows) {
    if (auto f = failed(); !f) {
        co_return f.error();
    }
    auto conformed = conform_to(_schema, std::move(rows), fmt::format("table '{}'", _table));
    if (!conformed) {
        co_return conformed.error();
    }
    const column_batch& batch = *conformed;
    auto parts = _router->route(batch);
    if (!parts) {
        co_return parts.error();
    }
    distribute(0, batch, *parts, 0);
    _rows += batch.num_rows();
    co_return co_await flush_due();
}

io::task<storage_result<void>> load_writer::flush_due() {
    while (true) {
        while (!_due.empty()) {
            size_t slot = _due.back();
            _due.pop_back();
            _slots[slot]->due = false;
            if (_slots[slot]->buffered >= _flush_bytes) {
                auto r = co_await flush(slot);
                if (!r) {
                    co_return r;
                }
            }
        }
        if (_buffered <= _memory_budget) {
            break;
        }
        // Over the load's budget: the largest buffer goes first.
        size_t largest = 0;
        for (size_t i = 1; i < _slots.size(); ++i) {
            if (_slots[i]->buffered > _slots[largest]->buffered) {
                largest = i;
            }
        }
        auto r = co_await flush(largest);
        if (!r) {
            co_return r;
        }
    }
    co_return failed();
}

io::task<storage_result<void>> load_writer::flush(size_t slot) {
    tablet_slot& s = *_slots[slot];
    if (s.buffer.num_rows() == 0) {
        co_return storage_result<void>{};
    }
    column_batch batch = std::move(s.buffer);
    auto& spare = _state->spare[s.index];
    if (!spare.empty()) {
        s.buffer = std::move(spare.back());
        spare.pop_back();
        s.sized = true;
    } else {
        s.buffer = column_batch(_indexes[s.index]->schema);
        s.sized = false;
    }
    _buffered -= s.buffered;
    s.buffered = 0;
    if (s.index == 0) {
        for (size_t k = 1; k < _indexes.size(); ++k) {
            auto derived = _derive(_indexes[k]->meta, batch);
            if (!derived) {
                co_return derived.error();
            }
            auto rows = conform_to(_indexes[k]->schema, std::move(*derived),
                                   fmt::format("materialized view '{}'", _indexes[k]->meta.name));
            if (!rows) {
                co_return rows.error();
            }
            distribute(k, *rows, {}, s.partition);
        }
        if (_backfill) {
            co_return storage_result<void>{};  // the base rows are already stored
        }
    }
    auto pieces = split_rows(batch, _segment_budget);
    if (!pieces) {
        co_return pieces.error();
    }
    if (pieces->size() == 1) {
        auto r = co_await start_write(slot, std::move(batch));
        co_return r;
    }
    for (const auto& [begin, end] : *pieces) {
        auto r = co_await start_write(slot, batch.slice(begin, end));
        if (!r) {
            co_return r;
        }
    }
    co_return storage_result<void>{};
}

io::task<storage_result<void>> load_writer::start_write(size_t slot, column_batch batch) {
    if (!_ids_durable) {
        // The file names carry the rowset id: it must never be handed out again.
        auto durable = co_await _catalog->ensure_ids_durable(_rowset_id);
        if (!durable) {
            co_return durable.error();
        }
        _ids_durable = true;
    }
    co_await _state->wait(_max_inflight - 1);
    if (_state->error) {
        co_return *_state->error;
    }
    tablet_slot& s = *_slots[slot];
    io::loop* target = pick_loop(_data.loops, _next_loop);
    segment_writes::start(_state, target, slot, s.index, s.tablet_id, s.next_file++, std::move(batch));
    co_return storage_result<void>{};
}

io::task<storage_result<load_summary>> load_writer::commit() {
    if (auto f = failed(); !f) {
        co_return f.error();
    }
    // Base buffers first: their flushes derive rows into the index buffers.
    std::optional<storage_error> problem;
    for (int pass = 0; pass < 2 && !problem; ++pass) {
        for (size_t slot = 0; slot < _slots.size() && !problem; ++slot) {
            if ((pass == 0) == (_slots[slot]->index == 0)) {
                auto r = co_await flush(slot);
                if (!r) {
                    problem = r.error();
                }
            }
        }
    }
    co_await _state->wait(0);
    if (!problem && _state->error) {
        problem = *_state->error;
    }
    if (problem) {
        co_await abort();
        co_return *problem;
    }
    load_publication pub;
    pub.db = _db;
    pub.table = _table;
    pub.table_id = _table_id;
    pub.label = _options.label;
    pub.expected_versions = _options.expected_versions;
    load_summary summary;
    summary.rows = _rows;
    auto files = _state->files;
    std::sort(files.begin(), files.end(),
              [](const segment_writes::written& a, const segment_writes::written& b) {
                  return std::tie(a.slot, a.n) < std::tie(b.slot, b.n);
              });
    for (size_t i = 0; i < files.size(); ++i) {
        if (i == 0 || files[i].slot != files[i - 1].slot) {
            pub.rowsets.emplace_back(files[i].tablet_id, rowset{_rowset_id, 0, {}});
        }
        pub.rowsets.back().second.files.push_back(files[i].file);
        summary.bytes += files[i].file.size;
        ++summary.files;
    }
    summary.tablets = static_cast<int64_t>(pub.rowsets.size());
    if (_options.overwrite) {
        pub.overwritten_partitions = _overwrite_ids;
    }
    _done = true;
    if (pub.rowsets.empty() && pub.overwritten_partitions.empty() && pub.label.empty()) {
        co_return summary;
    }
    bool failed_before = _catalog->journal_failed();
    auto published = co_await _catalog->publish_load(std::move(pub));
    if (!published && !failed_before && _catalog->journal_failed()) {
        // The record may reach the disk yet (a failed write or fdatasync), and a restart that
        // replays it needs these files: they stay. If it does not, the start-up sweep of
        // unreferenced files removes them.
        _state->files.clear();
        co_return make_error(storage_errc::outcome_unknown,
                             fmt::format("{}; whether the load was published is known after a restart",
                                         published.error().message));
    }
    if (!published) {
        _done = false;
        co_await abort();
        co_return published.error();
    }
    _state->files.clear();
    co_return summary;
}

io::task<void> load_writer::abort() {
    if (!_state) {
        co_return;
    }
    co_await _state->wait(0);
    std::vector<segment_writes::written> files = std::move(_state->files);
    _state->files.clear();
    std::vector<object_id> dirs;
    for (const auto& f : files) {
        auto removed = co_await io::unlinkat(AT_FDCWD, segment_path(_data.data_dir, f.tablet_id, f.file.name));
        (void)removed;
        dirs.push_back(f.tablet_id);
    }
    std::sort(dirs.begin(), dirs.end());
    dirs.erase(std::unique(dirs.begin(), dirs.end()), dirs.end());
    for (object_id tablet : dirs) {
        // Only when empty: an earlier load's files keep it.
        auto removed = co_await io::unlinkat(AT_FDCWD, tablet_dir(_data.data_dir, tablet), AT_REMOVEDIR);
        (void)removed;
    }
    for (auto& s : _slots) {
        s->buffer = column_batch(_indexes[s->index]->schema);
        s->buffered = 0;
    }
    _buffered = 0;
    _done = true;
}

namespace {

/// Halves [begin, end) until each part routes or is one row that does not: a batch with few bad
/// rows costs a few extra routing passes, one without any costs none.
void collect_routable(const partition_router& router, const column_batch& rows, size_t begin, size_t end,
                      std::vector<uint32_t>& keep, routable_rows& out) {
    auto routed = router.route(rows.slice(begin, end));
    if (routed) {
        for (size_t r = begin; r < end; ++r) {
            keep.push_back(static_cast<uint32_t>(r));
        }
        return;
    }
    if (end - begin == 1) {
        ++out.dropped;
        if (out.first_error.empty()) {
            out.first_error = std::move(routed.error().message);
        }
        return;
    }
    size_t middle = begin + (end - begin) / 2;
    collect_routable(router, rows, begin, middle, keep, out);
    collect_routable(router, rows, middle, end, keep, out);
}

}  // namespace

routable_rows load_writer::keep_routable(column_batch rows) const {
    routable_rows out;
    if (!_router || _router->route(rows)) {
        out.rows = std::move(rows);
        return out;
    }
    std::vector<uint32_t> keep;
    collect_routable(*_router, rows, 0, rows.num_rows(), keep, out);
    out.rows = rows.take(keep);
    return out;
}

}  // namespace tv::storage
