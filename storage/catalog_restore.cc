// SPDX-License-Identifier: Apache-2.0
// RESTORE's side of the catalog: its one commit record, the test for a commit already applied,
// and the tables a running restore keeps loads and DDL away from.
#include "storage/catalog.hh"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace tv::storage {

namespace {

/// Every id the record creates (new database, tables, partitions, views, MVs, functions,
/// catalogs, tablets).
std::set<object_id> created_ids(const ops::publish_restore& change) {
    std::set<object_id> ids;
    auto add_partition = [&](const partition& p) {
        ids.insert(p.id);
        for (const auto& index : p.tablets) {
            ids.insert(index.tablet_ids.begin(), index.tablet_ids.end());
        }
    };
    if (change.new_database) {
        ids.insert(change.new_database->id);
    }
    for (const auto& t : change.tables) {
        ids.insert(t.id);
        for (const auto& p : t.partitioning.partitions) {
            add_partition(p);
        }
    }
    for (const auto& c : change.partitions) {
        std::for_each(c.replaced.begin(), c.replaced.end(), add_partition);
        std::for_each(c.added.begin(), c.added.end(), add_partition);
    }
    for (const auto& v : change.views) {
        ids.insert(v.id);
    }
    for (const auto& mv : change.mvs) {
        ids.insert(mv.id);
        add_partition(mv.storage);
    }
    for (const auto& f : change.functions) {
        ids.insert(f.id);
    }
    for (const auto& c : change.catalogs) {
        ids.insert(c.id);
    }
    ids.erase(0);
    return ids;
}

bool holds_any(const catalog_state& state, const std::set<object_id>& ids) {
    auto hit = [&](object_id id) { return ids.contains(id); };
    auto partition_hit = [&](const partition& p) {
        return hit(p.id) || std::any_of(p.tablets.begin(), p.tablets.end(), [&](const index_tablets& x) {
                   return std::any_of(x.tablet_ids.begin(), x.tablet_ids.end(), hit);
               });
    };
    for (const auto& [_, d] : state.databases) {
        if (hit(d.id)) {
            return true;
        }
        for (const auto& [_, t] : d.tables) {
            if (hit(t.id) || std::any_of(t.partitioning.partitions.begin(), t.partitioning.partitions.end(),
                                         partition_hit)) {
                return true;
            }
        }
        for (const auto& [_, v] : d.views) {
            if (hit(v.id)) {
                return true;
            }
        }
        for (const auto& [_, mv] : d.mvs) {
            if (hit(mv.id) || partition_hit(mv.storage)) {
                return true;
            }
        }
        if (std::any_of(d.functions.begin(), d.functions.end(), [&](const function& f) { return hit(f.id); })) {
            return true;
        }
    }
    return std::any_of(state.catalogs.begin(), state.catalogs.end(),
                       [&](const auto& entry) { return hit(entry.second.id); });
}

}  // namespace

io::task<storage_result<void>> catalog::publish_restore(ops::publish_restore change) {
    auto hold = co_await _write_lock.lock();
    auto taken = [&](std::string_view kind, const std::string& name) {
        return make_error(storage_errc::table_exists,
                          fmt::format("{} '{}' was created while the restore ran; nothing was restored", kind, name));
    };
    if (change.new_database && _state.databases.contains(change.new_database->name)) {
        co_return taken("Database", change.new_database->name);
    }
    if (const database* d = find_database(change.db)) {
        for (const auto& t : change.tables) {
            if (name_taken(*d, t.name)) {
                co_return taken("Table", t.name);
            }
            for (size_t i = 1; i < t.indexes.size(); ++i) {  // its synchronous materialized views
                if (name_taken(*d, t.indexes[i].name)) {
                    co_return taken("Table", t.indexes[i].name);
                }
            }
        }
        for (const auto& mv : change.mvs) {
            if (name_taken(*d, mv.name)) {
                co_return taken("Materialized view", mv.name);
            }
        }
        for (const auto& v : change.views) {
            if (d->tables.contains(v.name) || d->mvs.contains(v.name) ||
                std::any_of(d->tables.begin(), d->tables.end(),
                            [&](const auto& e) { return e.second.find_index(v.name) != nullptr; })) {
                co_return taken("Table", v.name);
            }
        }
        for (const auto& c : change.partitions) {
            const table* t = find_table(change.db, c.table);
            if (t == nullptr || t->id != c.table_id) {
                co_return make_error(storage_errc::unknown_table,
                                     fmt::format("Table '{}' was dropped or recreated while the restore ran; "
                                                 "nothing was restored",
                                                 c.table));
            }
        }
    }
    for (const auto& c : change.catalogs) {
        if (_state.catalogs.contains(c.name)) {
            co_return taken("External catalog", c.name);
        }
    }
    if (auto fits = check_restore(_state, change); !fits) {
        co_return make_error(storage_errc::bad_definition,
                             fmt::format("the restore no longer fits the catalog: {}", fits.error().message));
    }
    co_return co_await commit(_state.next_id, std::move(change));
}

bool catalog::restore_published(const ops::publish_restore& change) const {
    for (const auto& t : change.tablets) {
        if (_state.tablet_rowsets.contains(t.tablet_id)) {
            return true;
        }
    }
    return holds_any(_state, created_ids(change));
}

void catalog::mark_restoring(const std::string& db, const std::string& table, const std::string& label) {
    _restoring[{db, table}] = label;
}

void catalog::unmark_restoring(const std::string& db, const std::string& table) {
    _restoring.erase({db, table});
}

storage_result<void> catalog::check_not_restoring(std::string_view db, std::string_view table) const {
    auto it = _restoring.find({std::string(db), std::string(table)});
    if (it == _restoring.end()) {
        return {};
    }
    return make_error(storage_errc::bad_definition,
                      fmt::format("Table '{}' is being restored by RESTORE job '{}'; loads and DDL on it are "
                                  "refused until the job ends (SHOW RESTORE)",
                                  table, it->second));
}

}  // namespace tv::storage
