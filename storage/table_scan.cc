// SPDX-License-Identifier: Apache-2.0
// table_scan: tablet reads spread over the loops with a prefetch window, and the key-model merge.
#include "storage/table_scan.hh"

#include "io/loop_group.hh"
#include "storage/load_segments.hh"
#include "storage/segment_reader.hh"
#include "storage/tablet_files.hh"

#include <fmt/format.h>

#include <algorithm>
#include <coroutine>
#include <numeric>
#include <stdexcept>

namespace tv::storage {

struct table_scan::unit_slot {
    bool done = false;
    std::coroutine_handle<> waiter;
    std::optional<storage_result<std::optional<column_batch>>> result;
};

namespace {

using unit_result = storage_result<std::optional<column_batch>>;

struct detached {
    struct promise_type {
        detached get_return_object() const noexcept { return {}; }
        std::suspend_never initial_suspend() const noexcept { return {}; }
        std::suspend_never final_suspend() const noexcept { return {}; }
        void return_void() const noexcept {}
        void unhandled_exception() const noexcept { std::terminate(); }
    };
};

/// Reads the files of one unit (a tablet, or one segment for DUPLICATE) and merges them.
io::task<unit_result> read_unit(std::vector<std::string> paths, std::vector<column_desc> schema, merge_spec spec) {
    column_batch all(schema);
    for (const auto& path : paths) {
        auto read = co_await read_segment(path);
        if (!read) {
            co_return read.error();
        }
        // A file written for another schema (or damaged past its checksums) does not fit.
        auto batch = column_batch::adopt(schema, read->release_columns());
        if (!batch) {
            co_return storage_error{storage_errc::corrupt_data,
                                    fmt::format("segment {} does not match the table's schema: {}", path,
                                                batch.error().message)};
        }
        if (paths.size() == 1 && spec.model == key_model::duplicate) {
            co_return std::optional<column_batch>(std::move(*batch));
        }
        all.append_range(*batch, 0, batch->num_rows());
    }
    if (spec.model == key_model::duplicate) {
        co_return std::optional<column_batch>(std::move(all));
    }
    co_return std::optional<column_batch>(merge_rows(spec, all));
}

detached run_unit(std::shared_ptr<table_scan::unit_slot> slot, io::loop* target, std::vector<std::string> paths,
                  std::vector<column_desc> schema, merge_spec spec) {
    try {
        if (target != nullptr) {
            auto job = read_unit(std::move(paths), std::move(schema), std::move(spec));
            auto r = co_await io::submit_to(*target, std::move(job));
            slot->result.emplace(std::move(r));
        } else {
            auto r = co_await read_unit(std::move(paths), std::move(schema), std::move(spec));
            slot->result.emplace(std::move(r));
        }
    } catch (const std::exception& e) {
        slot->result.emplace(storage_error{storage_errc::io_error, fmt::format("tablet read failed: {}", e.what())});
    }
    slot->done = true;
    if (slot->waiter) {
        io::loop::current().post(std::exchange(slot->waiter, {}));
    }
}

struct unit_waiter {
    table_scan::unit_slot* slot;
    bool await_ready() const noexcept { return slot->done; }
    void await_suspend(std::coroutine_handle<> h) noexcept { slot->waiter = h; }
    void await_resume() const noexcept {}
};

// ---- merge_rows ---------------------------------------------------------------------------

template <class F>
decltype(auto) with_type(physical_type p, F&& f) {
    switch (p) {
    case physical_type::boolean: return f(uint8_t{});
    case physical_type::int8: return f(int8_t{});
    case physical_type::int16: return f(int16_t{});
    case physical_type::int32: return f(int32_t{});
    case physical_type::int64: return f(int64_t{});
    case physical_type::int128: return f(int128{});
    case physical_type::float32: return f(float{});
    case physical_type::float64: return f(double{});
    case physical_type::bytes: return f(std::string_view{});
    }
    throw std::invalid_argument("unknown physical type");  // unreachable: the switch covers every type
}

template <class T>
int order(const T& a, const T& b) {
    return a < b ? -1 : b < a ? 1 : 0;
}

/// Compares two rows of one column: NULL first, then by value (strings bytewise).
struct column_order {
    const column_vector* col;

    int operator()(uint32_t a, uint32_t b) const {
        bool na = col->is_null(a);
        bool nb = col->is_null(b);
        if (na || nb) {
            return order(nb, na);  // NULL (true) sorts first
        }
        return with_type(col->type(), [&](auto zero) -> int {
            using T = decltype(zero);
            if constexpr (std::is_same_v<T, std::string_view>) {
                return order(col->string_at(a), col->string_at(b));
            } else {
                auto v = col->values<T>();
                return order(v[a], v[b]);
            }
        });
    }
};

template <class T>
T wrapping_add(T a, T b) {
    if constexpr (std::is_same_v<T, int128>) {
        return static_cast<int128>(static_cast<unsigned __int128>(a) + static_cast<unsigned __int128>(b));
    } else if constexpr (std::is_integral_v<T>) {
        using U = std::make_unsigned_t<T>;
        return static_cast<T>(static_cast<U>(a) + static_cast<U>(b));
    } else {
        return a + b;
    }
}

/// One value column folded per group (`bounds[g]`..`bounds[g + 1]` in `order`).
column_vector fold_column(const column_vector& col, aggregation agg, const std::vector<uint32_t>& order_,
                          const std::vector<uint32_t>& bounds) {
    size_t groups = bounds.size() - 1;
    bool nullable = col.nullable();
    // Every aggregation but SUM yields one of the group's values (or NULL): pick its row.
    auto pick = [&](size_t g) -> int64_t {
        uint32_t begin = bounds[g];
        uint32_t end = bounds[g + 1];
        switch (agg) {
        case aggregation::min:
        case aggregation::max: {
            int64_t best = -1;
            column_order cmp{&col};
            for (uint32_t i = begin; i < end; ++i) {
                uint32_t row = order_[i];
                if (col.is_null(row)) {
                    continue;
                }
                if (best < 0) {
                    best = row;
                    continue;
                }
                int c = cmp(row, static_cast<uint32_t>(best));
                if ((agg == aggregation::min && c < 0) || (agg == aggregation::max && c > 0)) {
                    best = row;
                }
            }
            return best;
        }
        case aggregation::replace_if_not_null:
            for (uint32_t i = end; i-- > begin;) {
                if (!col.is_null(order_[i])) {
                    return order_[i];
                }
            }
            return -1;
        default: {  // REPLACE, and the types we store but do not fold
            uint32_t row = order_[end - 1];
            return col.is_null(row) ? int64_t{-1} : int64_t{row};
        }
        }
    };
    return with_type(col.type(), [&](auto zero) -> column_vector {
        using T = decltype(zero);
        std::vector<uint8_t> nulls;
        if (nullable) {
            nulls.assign(groups, 0);
        }
        if constexpr (std::is_same_v<T, std::string_view>) {
            std::vector<uint64_t> offsets{0};
            std::string bytes;
            for (size_t g = 0; g < groups; ++g) {
                int64_t row = pick(g);
                if (row < 0) {
                    nulls[g] = 1;
                } else {
                    bytes += col.string_at(static_cast<size_t>(row));
                }
                offsets.push_back(bytes.size());
            }
            return column_vector::from_strings(nullable, std::move(offsets), std::move(bytes), std::move(nulls));
        } else {
            auto src = col.values<T>();
            std::vector<T> values(groups, T{});
            for (size_t g = 0; g < groups; ++g) {
                if (agg == aggregation::sum && !std::is_same_v<T, uint8_t>) {
                    bool any = false;
                    T total{};
                    for (uint32_t i = bounds[g]; i < bounds[g + 1]; ++i) {
                        uint32_t row = order_[i];
                        if (!col.is_null(row)) {
                            total = wrapping_add(total, src[row]);
                            any = true;
                        }
                    }
                    if (any) {
                        values[g] = total;
                    } else {
                        nulls[g] = 1;
                    }
                    continue;
                }
                int64_t row = pick(g);
                if (row < 0) {
                    nulls[g] = 1;
                } else {
                    values[g] = src[static_cast<size_t>(row)];
                }
            }
            return column_vector::from_values<T>(nullable, std::move(values), std::move(nulls));
        }
    });
}

}  // namespace

column_batch merge_rows(const merge_spec& spec, const column_batch& rows) {
    size_t n = rows.num_rows();
    if (spec.model == key_model::duplicate || n == 0) {
        return rows.slice(0, n);
    }
    std::vector<column_order> keys;
    for (size_t c : spec.key_columns) {
        keys.push_back(column_order{&rows.column(c)});
    }
    auto compare = [&](uint32_t a, uint32_t b) {
        for (const auto& k : keys) {
            if (int c = k(a, b); c != 0) {
                return c;
            }
        }
        return 0;
    };
    std::vector<uint32_t> order_(n);
    std::iota(order_.begin(), order_.end(), 0u);
    // Stable: within a key, rows keep their load order, so "latest" is the last one.
    std::stable_sort(order_.begin(), order_.end(), [&](uint32_t a, uint32_t b) { return compare(a, b) < 0; });
    std::vector<uint32_t> bounds{0};
    for (uint32_t i = 1; i < n; ++i) {
        if (compare(order_[i - 1], order_[i]) != 0) {
            bounds.push_back(i);
        }
    }
    bounds.push_back(static_cast<uint32_t>(n));
    size_t groups = bounds.size() - 1;
    if (spec.model != key_model::aggregate) {
        std::vector<uint32_t> latest(groups);
        for (size_t g = 0; g < groups; ++g) {
            latest[g] = order_[bounds[g + 1] - 1];
        }
        return rows.take(latest);
    }
    std::vector<uint32_t> firsts(groups);
    for (size_t g = 0; g < groups; ++g) {
        firsts[g] = order_[bounds[g]];
    }
    std::vector<column_vector> columns;
    for (size_t c = 0; c < rows.num_columns(); ++c) {
        aggregation agg = c < spec.aggs.size() ? spec.aggs[c] : aggregation::none;
        bool is_key = std::find(spec.key_columns.begin(), spec.key_columns.end(), c) != spec.key_columns.end();
        if (is_key || agg == aggregation::none) {
            column_vector out(rows.column(c).type(), rows.column(c).nullable());
            out.append_from(rows.column(c), firsts);
            columns.push_back(std::move(out));
        } else {
            columns.push_back(fold_column(rows.column(c), agg, order_, bounds));
        }
    }
    return column_batch(rows.schema(), std::move(columns));
}

storage_result<std::unique_ptr<table_scan>> table_scan::open(const catalog& c, const data_options& data,
                                                             scan_request req) {
    const database* d = c.find_database(req.db);
    if (d == nullptr) {
        return make_error(storage_errc::unknown_database, fmt::format("Unknown database '{}'", req.db));
    }
    std::unique_ptr<table_scan> scan(new table_scan());
    scan->_data = data;
    std::vector<const partition*> parts;
    object_id index_id = 0;
    auto add_columns = [&](const std::vector<column>& columns) {
        for (size_t i = 0; i < columns.size(); ++i) {
            scan->_schema.push_back(column_desc{columns[i].name, columns[i].type, columns[i].nullable});
            scan->_merge.aggs.push_back(columns[i].agg);
        }
    };
    if (const table* t = c.find_table(req.db, req.table)) {
        add_columns(t->columns);
        index_id = t->indexes.at(0).id;
        scan->_merge.model = t->keys;
        for (const auto& key : t->key_columns) {
            for (size_t i = 0; i < t->columns.size(); ++i) {
                if (iequals(t->columns[i].name, key)) {
                    scan->_merge.key_columns.push_back(i);
                }
            }
        }
        for (const auto& p : t->partitioning.partitions) {
            parts.push_back(&p);
        }
    } else if (const materialized_view* mv = c.find_materialized_view(req.db, req.table)) {
        add_columns(mv->columns);
        index_id = mv->id;
        if (!mv->columns.empty()) {
            parts.push_back(&mv->storage);
        }
    } else {
        // A synchronous materialized view: an index of one of the database's tables.
        const table* base = nullptr;
        const materialized_index* index = nullptr;
        for (const auto& [_, t] : d->tables) {
            const materialized_index* i = t.find_index(req.table);
            if (i != nullptr && i != &t.indexes.front()) {
                base = &t;
                index = i;
                break;
            }
        }
        if (index == nullptr) {
            return make_error(storage_errc::unknown_table, fmt::format("Unknown table '{}.{}'", req.db, req.table));
        }
        add_columns(index->columns);
        index_id = index->id;
        // Its rows were derived a load at a time, so an aggregating view merges like AGGREGATE KEY.
        bool aggregating = std::any_of(index->columns.begin(), index->columns.end(),
                                       [](const column& col) { return col.agg != aggregation::none; });
        if (aggregating) {
            scan->_merge.model = key_model::aggregate;
            for (size_t i = 0; i < index->columns.size(); ++i) {
                if (index->columns[i].agg == aggregation::none) {
                    scan->_merge.key_columns.push_back(i);
                }
            }
        }
        for (const auto& p : base->partitioning.partitions) {
            parts.push_back(&p);
        }
    }
    for (const partition* p : parts) {
        if (!req.partitions.empty() &&
            std::find(req.partitions.begin(), req.partitions.end(), p->id) == req.partitions.end()) {
            continue;
        }
        for (const auto& it : p->tablets) {
            if (it.index_id != index_id) {
                continue;
            }
            for (object_id tablet : it.tablet_ids) {
                tablet_files files{tablet, {}};
                for (const auto& rs : c.tablet_rowsets(tablet)) {
                    for (const auto& f : rs.files) {
                        files.paths.push_back(segment_path(data.data_dir, tablet, f.name));
                    }
                }
                if (!files.paths.empty()) {
                    scan->_tablets.push_back(std::move(files));
                }
            }
        }
    }
    scan->_window = data.loops != nullptr ? std::max<size_t>(2, data.loops->size() * 2) : 2;
    scan->_pin = c.pin_files();
    return scan;
}

table_scan::~table_scan() = default;

size_t table_scan::file_count() const {
    size_t n = 0;
    for (const auto& t : _tablets) {
        n += t.paths.size();
    }
    return n;
}

void table_scan::launch() {
    while (_pending.size() < _window && _next_tablet < _tablets.size()) {
        const tablet_files& t = _tablets[_next_tablet];
        std::vector<std::string> paths;
        if (_merge.model == key_model::duplicate) {
            paths.push_back(t.paths[_next_file++]);
            if (_next_file == t.paths.size()) {
                _next_file = 0;
                ++_next_tablet;
            }
        } else {
            paths = t.paths;
            ++_next_tablet;
        }
        io::loop* target = pick_loop(_data.loops, _next_loop);
        auto slot = std::make_shared<unit_slot>();
        _pending.push_back(slot);
        run_unit(std::move(slot), target, std::move(paths), _schema, _merge);
    }
}

io::task<storage_result<std::optional<column_batch>>> table_scan::next() {
    if (_failed) {
        co_return std::optional<column_batch>{};
    }
    launch();
    while (!_pending.empty()) {
        std::shared_ptr<unit_slot> slot = _pending.front();
        unit_waiter w{slot.get()};  // named: no braced temporaries in co_await expressions (GCC 12)
        co_await w;
        _pending.pop_front();
        unit_result r = std::move(*slot->result);
        if (!r) {
            _failed = true;
            co_return r.error();
        }
        launch();
        if (r->has_value() && (*r)->num_rows() != 0) {
            co_return std::move(*r);
        }
    }
    co_return std::optional<column_batch>{};
}

tablet_stats stats_of(const catalog& c, object_id tablet) {
    tablet_stats s;
    s.tablet_id = tablet;
    auto visit = [&](const partition& p) {
        for (const auto& index : p.tablets) {
            if (std::find(index.tablet_ids.begin(), index.tablet_ids.end(), tablet) != index.tablet_ids.end()) {
                s.version = p.visible_version;
                return true;
            }
        }
        return false;
    };
    bool found = false;
    for (const auto& [_, d] : c.databases()) {
        for (const auto& [_, t] : d.tables) {
            for (const auto& p : t.partitioning.partitions) {
                found = found || visit(p);
            }
        }
        for (const auto& [_, mv] : d.mvs) {
            found = found || visit(mv.storage);
        }
    }
    for (const auto& rs : c.tablet_rowsets(tablet)) {
        s.data_version = std::max(s.data_version, rs.version);
        s.rows += rs.rows();
        s.data_size += rs.data_size();
        s.files += rs.files.size();
        ++s.rowsets;
    }
    return s;
}

partition_stats stats_of_partition(const catalog& c, const partition& p, object_id index_id) {
    partition_stats s;
    for (const auto& index : p.tablets) {
        if (index.index_id != index_id) {
            continue;
        }
        for (object_id tablet : index.tablet_ids) {
            for (const auto& rs : c.tablet_rowsets(tablet)) {
                s.rows += rs.rows();
                s.data_size += rs.data_size();
                s.files += rs.files.size();
            }
        }
    }
    return s;
}

}  // namespace tv::storage
