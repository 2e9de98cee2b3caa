// SPDX-License-Identifier: Apache-2.0
// Renames: ALTER TABLE RENAME / SWAP WITH / RENAME PARTITION and ALTER DATABASE RENAME, their
// checks (StarRocks' messages) and their records' effect on the state.
//
// What follows a name and what does not, as in StarRocks (whose objects are known by id):
// grants follow the table or database; an unpartitioned table's one partition and its base
// index are named as the table and are renamed with it; asynchronous materialized views on a
// renamed or swapped table become inactive; views keep their text, so a view naming the old
// name fails when queried until a table of that name exists again.
#include "storage/catalog.hh"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace tv::storage {

namespace {

storage_error does_not_fit(std::string why) {
    return make_error(storage_errc::corrupt_metadata, std::move(why));
}

/// The table's own name inside it: the base index and an unpartitioned table's partition.
void set_table_name(table& t, const std::string& new_name) {
    if (t.partitioning.kind == partition_kind::none) {
        for (auto& p : t.partitioning.partitions) {
            if (p.name == t.name) {
                p.name = new_name;
            }
        }
    }
    if (!t.indexes.empty() && t.indexes[0].name == t.name) {
        t.indexes[0].name = new_name;
    }
    t.name = new_name;
}

/// Grants name their objects: rewrite each (db, table) through `map`.
template <class Map>
void rewrite_grants(catalog_state& state, Map map) {
    for (auto& [_, u] : state.users) {
        std::set<table_grant> grants;
        for (table_grant g : u.grants) {
            map(g);
            grants.insert(std::move(g));
        }
        u.grants = std::move(grants);
    }
}

/// Asynchronous materialized views reading `db.table` become inactive, as StarRocks does.
void deactivate_on(catalog_state& state, const std::string& qualified, std::string_view why) {
    for (auto& [_, d] : state.databases) {
        for (auto& [_, mv] : d.mvs) {
            bool hit = std::find(mv.base_tables.begin(), mv.base_tables.end(), qualified) != mv.base_tables.end();
            if (hit && mv.active) {
                mv.active = false;
                mv.inactive_reason = fmt::format("{}: {}", why, qualified);
            }
        }
    }
}

/// The base table `db.name`, or StarRocks' error: ALTER TABLE renames tables only.
storage_result<const table*> base_table(const catalog& c, const std::string& db, const std::string& name) {
    const database* d = c.find_database(db);
    if (d == nullptr) {
        return make_error(storage_errc::unknown_database, fmt::format("Unknown database '{}'", db));
    }
    if (const table* t = c.find_table(db, name)) {
        return t;
    }
    if (d->views.contains(name) || d->mvs.contains(name)) {
        return make_error(storage_errc::wrong_object_type, fmt::format("'{}.{}' is not BASE TABLE", db, name));
    }
    return make_error(storage_errc::unknown_table, fmt::format("Unknown table '{}.{}'", db, name));
}

bool name_in_use(const database& d, const std::string& name) {
    return d.tables.contains(name) || d.views.contains(name) || d.mvs.contains(name);
}

}  // namespace

storage_result<void> apply_rename(catalog_state& state, const ops::rename_table& op) {
    auto it = state.databases.find(op.db);
    if (it == state.databases.end() || !it->second.tables.contains(op.table)) {
        return does_not_fit(fmt::format("table '{}.{}' does not exist", op.db, op.table));
    }
    database& d = it->second;
    if (name_in_use(d, op.new_name)) {
        return does_not_fit(fmt::format("'{}.{}' exists", op.db, op.new_name));
    }
    auto node = d.tables.extract(op.table);
    set_table_name(node.mapped(), op.new_name);
    node.key() = op.new_name;
    d.tables.insert(std::move(node));
    rewrite_grants(state, [&](table_grant& g) {
        if (g.db == op.db && g.table == op.table) {
            g.table = op.new_name;
        }
    });
    deactivate_on(state, op.db + "." + op.table, "base-table renamed");
    return {};
}

storage_result<void> apply_rename(catalog_state& state, const ops::swap_tables& op) {
    auto it = state.databases.find(op.db);
    if (it == state.databases.end() || !it->second.tables.contains(op.table) || !it->second.tables.contains(op.other) ||
        op.table == op.other) {
        return does_not_fit(fmt::format("tables '{}.{}' and '{}.{}' can not be swapped", op.db, op.table, op.db,
                                        op.other));
    }
    database& d = it->second;
    auto a = d.tables.extract(op.table);
    auto b = d.tables.extract(op.other);
    set_table_name(a.mapped(), op.other);
    set_table_name(b.mapped(), op.table);
    a.key() = op.other;
    b.key() = op.table;
    d.tables.insert(std::move(a));
    d.tables.insert(std::move(b));
    rewrite_grants(state, [&](table_grant& g) {
        if (g.db == op.db && g.table == op.table) {
            g.table = op.other;
        } else if (g.db == op.db && g.table == op.other) {
            g.table = op.table;
        }
    });
    deactivate_on(state, op.db + "." + op.table, "base-table swapped");
    deactivate_on(state, op.db + "." + op.other, "base-table swapped");
    return {};
}

storage_result<void> apply_rename(catalog_state& state, const ops::rename_partition& op) {
    auto it = state.databases.find(op.db);
    auto t = it == state.databases.end() ? nullptr : &it->second.tables;
    if (t == nullptr || !t->contains(op.table)) {
        return does_not_fit(fmt::format("table '{}.{}' does not exist", op.db, op.table));
    }
    table& tbl = t->at(op.table);
    if (tbl.find_partition(op.new_name) != nullptr && !iequals(op.partition, op.new_name)) {
        return does_not_fit(fmt::format("partition '{}' of '{}.{}' exists", op.new_name, op.db, op.table));
    }
    for (auto& p : tbl.partitioning.partitions) {
        if (p.name == op.partition) {
            p.name = op.new_name;
            return {};
        }
    }
    return does_not_fit(fmt::format("partition '{}' of '{}.{}' does not exist", op.partition, op.db, op.table));
}

storage_result<void> apply_rename(catalog_state& state, const ops::rename_database& op) {
    if (!state.databases.contains(op.db) || state.databases.contains(op.new_name)) {
        return does_not_fit(fmt::format("database '{}' can not be renamed '{}'", op.db, op.new_name));
    }
    auto node = state.databases.extract(op.db);
    node.mapped().name = op.new_name;
    node.key() = op.new_name;
    state.databases.insert(std::move(node));
    rewrite_grants(state, [&](table_grant& g) {
        if (g.db == op.db) {
            g.db = op.new_name;
        }
    });
    // Materialized views name base tables "db.t". One in the renamed database whose query
    // names its tables relative to that database still reads them: it follows. Any other one
    // (in another database, or whose query spells the old database out) can no longer.
    std::string prefix = op.db + ".";
    for (auto& [db_name, d] : state.databases) {
        for (auto& [_, mv] : d.mvs) {
            bool follows = db_name == op.new_name && mv.query_text.find(prefix) == std::string::npos;
            for (auto& base : mv.base_tables) {
                if (!base.starts_with(prefix)) {
                    continue;
                }
                if (follows) {
                    base = op.new_name + "." + base.substr(prefix.size());
                } else if (mv.active) {
                    mv.active = false;
                    mv.inactive_reason = fmt::format("base-db renamed: {}", op.db);
                }
            }
        }
    }
    return {};
}

storage_result<void> catalog::check_not_held(std::string_view db, std::string_view object,
                                             std::string_view operation) const {
    if (!_hold_finder) {
        return {};
    }
    auto hold = _hold_finder(db, object);
    if (!hold) {
        return {};
    }
    return make_error(storage_errc::bad_definition,
                      fmt::format("{} [{}] is under {} job '{}': {} is refused until the job ends (SHOW {}, or CANCEL "
                                  "{} FROM {})",
                                  object.empty() ? "Database" : "Table", object.empty() ? db : object, hold->kind,
                                  hold->label, operation, hold->kind, hold->kind, db));
}

io::task<storage_result<void>> catalog::rename_table(std::string db, std::string name, std::string new_name) {
    auto hold = co_await _write_lock.lock();
    if (auto t = base_table(*this, db, name); !t) {
        co_return t.error();
    }
    if (auto e = check_name(name_kind::table, new_name); !e) {
        co_return e.error();
    }
    if (name == new_name) {
        co_return make_error(storage_errc::bad_definition, "Same table name");
    }
    if (name_taken(*find_database(db), new_name)) {
        co_return make_error(storage_errc::table_exists, fmt::format("Table name[{}] is already used", new_name));
    }
    if (auto busy = check_not_restoring(db, name); !busy) {
        co_return busy.error();
    }
    // The new name too: a RESTORE may be about to create a table of that name.
    for (const std::string* n : {&name, &new_name}) {
        if (auto busy = check_not_held(db, *n, "RENAME"); !busy) {
            co_return busy.error();
        }
    }
    ops::rename_table change{std::move(db), std::move(name), std::move(new_name)};
    co_return co_await commit(_state.next_id, std::move(change));
}

io::task<storage_result<void>> catalog::swap_tables(std::string db, std::string name, std::string other) {
    auto hold = co_await _write_lock.lock();
    for (const std::string* n : {&name, &other}) {
        if (auto t = base_table(*this, db, *n); !t) {
            co_return t.error();
        }
    }
    if (name == other) {
        co_return make_error(storage_errc::bad_definition, "Same table name");
    }
    for (const std::string* n : {&name, &other}) {
        if (auto busy = check_not_restoring(db, *n); !busy) {
            co_return busy.error();
        }
        if (auto busy = check_not_held(db, *n, "SWAP"); !busy) {
            co_return busy.error();
        }
    }
    ops::swap_tables change{std::move(db), std::move(name), std::move(other)};
    co_return co_await commit(_state.next_id, std::move(change));
}

io::task<storage_result<void>> catalog::rename_partition(std::string db, std::string table, std::string partition_name,
                                                         std::string new_name) {
    auto hold = co_await _write_lock.lock();
    auto t = need_table(db, table);
    if (!t) {
        co_return t.error();
    }
    if ((*t)->partitioning.kind == partition_kind::none) {
        co_return make_error(storage_errc::bad_definition,
                             fmt::format("Table[{}] is single partitioned. no need to rename partition name.", table));
    }
    const partition* p = (*t)->find_partition(partition_name);
    if (p == nullptr) {
        co_return make_error(storage_errc::unknown_partition,
                             fmt::format("Partition[{}] does not exist", partition_name));
    }
    if (auto e = check_name(name_kind::partition, new_name); !e) {
        co_return e.error();
    }
    if (iequals(p->name, new_name)) {
        co_return make_error(storage_errc::bad_definition, "Same partition name");
    }
    if ((*t)->find_partition(new_name) != nullptr) {
        co_return make_error(storage_errc::partition_exists,
                             fmt::format("Partition name[{}] is already used", new_name));
    }
    if (auto busy = check_not_restoring(db, table); !busy) {
        co_return busy.error();
    }
    if (auto busy = check_not_held(db, table, "RENAME PARTITION"); !busy) {
        co_return busy.error();
    }
    ops::rename_partition change{std::move(db), std::move(table), p->name, std::move(new_name)};
    co_return co_await commit(_state.next_id, std::move(change));
}

io::task<storage_result<void>> catalog::rename_database(std::string name, std::string new_name) {
    auto hold = co_await _write_lock.lock();
    if (auto d = need_database(name); !d) {
        co_return d.error();
    }
    if (auto e = check_name(name_kind::database, new_name); !e) {
        co_return e.error();
    }
    if (name == new_name) {
        co_return make_error(storage_errc::bad_definition, "Same database name");
    }
    if (find_database(new_name) != nullptr) {
        co_return make_error(storage_errc::database_exists,
                             fmt::format("Database name[{}] is already used", new_name));
    }
    for (const auto& [key, label] : _restoring) {
        if (key.first == name) {
            co_return check_not_restoring(key.first, key.second).error();
        }
    }
    if (auto busy = check_not_held(name, "", "RENAME"); !busy) {
        co_return busy.error();
    }
    ops::rename_database change{std::move(name), std::move(new_name)};
    co_return co_await commit(_state.next_id, std::move(change));
}

}  // namespace tv::storage
