// SPDX-License-Identifier: Apache-2.0
// Catalog changes to databases, tables, partitions and synchronous materialized views.
#include "storage/catalog.hh"

#include <fmt/format.h>

#include <algorithm>

namespace tv::storage {

io::task<storage_result<object_id>> catalog::create_database(std::string name, properties props, bool if_not_exists) {
    auto hold = co_await _write_lock.lock();
    if (auto e = check_name(name_kind::database, name); !e) {
        co_return e.error();
    }
    if (find_database(name) != nullptr) {
        if (if_not_exists) {
            co_return object_id{0};
        }
        co_return make_error(storage_errc::database_exists,
                             fmt::format("Can't create database '{}'; database exists", name));
    }
    id_allocator ids(_state.next_id);
    database d;
    d.id = ids.take();
    d.name = std::move(name);
    d.props = std::move(props);
    object_id id = d.id;
    ops::create_database change{std::move(d)};
    auto done = co_await commit(ids.next(), std::move(change));
    if (!done) {
        co_return done.error();
    }
    co_return id;
}

io::task<storage_result<void>> catalog::drop_database(std::string name, bool if_exists) {
    auto hold = co_await _write_lock.lock();
    for (const auto& [key, label] : _restoring) {
        if (key.first == name) {
            co_return check_not_restoring(key.first, key.second).error();
        }
    }
    if (find_database(name) != nullptr) {
        if (auto busy = check_not_held(name, "", "DROP DATABASE"); !busy) {
            co_return busy.error();
        }
    }
    if (find_database(name) == nullptr) {
        if (if_exists) {
            co_return storage_result<void>{};
        }
        co_return make_error(storage_errc::unknown_database,
                             fmt::format("Can't drop database '{}'; database doesn't exist", name));
    }
    ops::drop_database change{std::move(name)};
    co_return co_await commit(_state.next_id, std::move(change));
}

io::task<storage_result<object_id>> catalog::create_table(std::string db, table_definition def, bool if_not_exists) {
    auto hold = co_await _write_lock.lock();
    auto d = need_database(db);
    if (!d) {
        co_return d.error();
    }
    if (name_taken(**d, def.name)) {
        if (if_not_exists) {
            co_return object_id{0};
        }
        co_return make_error(storage_errc::table_exists, fmt::format("Table '{}' already exists", def.name));
    }
    id_allocator ids(_state.next_id);
    auto t = build_table(def, ids);
    if (!t) {
        co_return t.error();
    }
    object_id id = t->id;
    ops::create_table change{std::move(db), std::move(*t)};
    auto done = co_await commit(ids.next(), std::move(change));
    if (!done) {
        co_return done.error();
    }
    co_return id;
}

io::task<storage_result<void>> catalog::drop_table(std::string db, std::string name, bool if_exists) {
    auto hold = co_await _write_lock.lock();
    if (auto busy = check_not_restoring(db, name); !busy) {
        co_return busy.error();
    }
    const database* d = find_database(db);
    if (d == nullptr || !d->tables.contains(name)) {
        if (d != nullptr && (d->views.contains(name) || d->mvs.contains(name))) {
            co_return make_error(storage_errc::wrong_object_type, fmt::format("'{}.{}' is not BASE TABLE", db, name));
        }
        if (if_exists) {
            co_return storage_result<void>{};
        }
        if (d == nullptr) {
            co_return make_error(storage_errc::unknown_database, fmt::format("Unknown database '{}'", db));
        }
        co_return make_error(storage_errc::unknown_table, fmt::format("Unknown table '{}.{}'", db, name));
    }
    if (auto busy = check_not_held(db, name, "DROP TABLE"); !busy) {
        co_return busy.error();
    }
    ops::drop_table change{std::move(db), std::move(name)};
    co_return co_await commit(_state.next_id, std::move(change));
}

io::task<storage_result<object_id>> catalog::add_partition(std::string db, std::string table, partition_desc desc,
                                                           bool if_not_exists) {
    auto hold = co_await _write_lock.lock();
    if (auto busy = check_not_restoring(db, table); !busy) {
        co_return busy.error();
    }
    auto t = need_table(db, table);
    if (!t) {
        co_return t.error();
    }
    if (if_not_exists && (*t)->find_partition(desc.name) != nullptr) {
        co_return object_id{0};
    }
    id_allocator ids(_state.next_id);
    auto p = build_partition(**t, desc, ids);
    if (!p) {
        co_return p.error();
    }
    object_id id = p->id;
    ops::add_partition change{std::move(db), std::move(table), std::move(*p)};
    auto done = co_await commit(ids.next(), std::move(change));
    if (!done) {
        co_return done.error();
    }
    co_return id;
}

io::task<storage_result<void>> catalog::drop_partition(std::string db, std::string table, std::string name,
                                                       bool if_exists) {
    auto hold = co_await _write_lock.lock();
    if (auto busy = check_not_restoring(db, table); !busy) {
        co_return busy.error();
    }
    auto t = need_table(db, table);
    if (!t) {
        co_return t.error();
    }
    if ((*t)->partitioning.kind == partition_kind::none) {
        co_return make_error(storage_errc::bad_definition,
                             fmt::format("Table '{}' is not partitioned: its one partition can not be dropped", table));
    }
    const partition* p = (*t)->find_partition(name);
    if (p == nullptr) {
        if (if_exists) {
            co_return storage_result<void>{};
        }
        co_return make_error(storage_errc::unknown_partition, fmt::format("Partition {} does not exist", name));
    }
    ops::drop_partition change{std::move(db), std::move(table), p->name};
    co_return co_await commit(_state.next_id, std::move(change));
}

io::task<storage_result<void>> catalog::truncate_table(std::string db, std::string table,
                                                       std::vector<std::string> partitions) {
    auto hold = co_await _write_lock.lock();
    if (auto busy = check_not_restoring(db, table); !busy) {
        co_return busy.error();
    }
    auto t = need_table(db, table);
    if (!t) {
        co_return t.error();
    }
    id_allocator ids(_state.next_id);
    std::vector<partition> fresh;
    if (partitions.empty()) {
        for (const auto& p : (*t)->partitioning.partitions) {
            fresh.push_back(renew_partition(p, ids));
        }
    }
    for (const auto& name : partitions) {
        const partition* p = (*t)->find_partition(name);
        if (p == nullptr) {
            co_return make_error(storage_errc::unknown_partition, fmt::format("Partition {} does not exist", name));
        }
        if (std::none_of(fresh.begin(), fresh.end(), [&](const partition& f) { return f.name == p->name; })) {
            fresh.push_back(renew_partition(*p, ids));
        }
    }
    ops::truncate_table change{std::move(db), std::move(table), std::move(fresh)};
    co_return co_await commit(ids.next(), std::move(change));
}

io::task<storage_result<object_id>> catalog::create_sync_materialized_view(std::string db, std::string table,
                                                                           std::string name, std::string query_text,
                                                                           std::vector<column> columns,
                                                                           bool if_not_exists) {
    auto hold = co_await _write_lock.lock();
    if (auto busy = check_not_restoring(db, table); !busy) {
        co_return busy.error();
    }
    auto t = need_table(db, table);
    if (!t) {
        co_return t.error();
    }
    if (auto e = check_name(name_kind::table, name); !e) {
        co_return e.error();
    }
    if (name_taken(*find_database(db), name)) {
        if (if_not_exists) {
            co_return object_id{0};
        }
        co_return make_error(storage_errc::table_exists, fmt::format("Materialized view '{}' already exists", name));
    }
    if (auto e = check_index_columns(**t, columns); !e) {
        co_return e.error();
    }
    id_allocator ids(_state.next_id);
    ops::create_index op{db, table, materialized_index{ids.take(), std::move(name), std::move(query_text),
                                                       std::move(columns)}, {}};
    for (const auto& p : (*t)->partitioning.partitions) {
        ops::partition_tablets tablets{p.id, {}};
        for (int i = 0; i < p.buckets; ++i) {
            tablets.tablet_ids.push_back(ids.take());
        }
        op.tablets.push_back(std::move(tablets));
    }
    object_id id = op.index.id;
    auto done = co_await commit(ids.next(), std::move(op));
    if (!done) {
        co_return done.error();
    }
    co_return id;
}

}  // namespace tv::storage
