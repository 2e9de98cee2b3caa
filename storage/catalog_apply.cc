// SPDX-License-Identifier: Apache-2.0
// apply_entry: a journal record's effect on the catalog state, shared by live changes and replay.
#include "storage/catalog_ops.hh"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>

namespace tv::storage {

namespace {

using apply_result = storage_result<void>;

/// A record that does not fit the state: damaged metadata, or a bug that let a change through.
storage_error does_not_fit(std::string why) {
    return make_error(storage_errc::corrupt_metadata, std::move(why));
}

struct applier {
    catalog_state& state;
    removed_data* removed;

    // A tablet leaves the catalog: its rowsets go, and with them its files.
    void drop_tablet(object_id tablet) {
        auto it = state.tablet_rowsets.find(tablet);
        if (it == state.tablet_rowsets.end()) {
            return;
        }
        if (removed != nullptr) {
            for (const auto& rs : it->second) {
                for (const auto& f : rs.files) {
                    removed->files.push_back({tablet, f.name});
                }
            }
            removed->tablets.push_back(tablet);
        }
        state.tablet_rowsets.erase(it);
    }

    // A tablet stays but loses its rowsets (INSERT OVERWRITE).
    void clear_tablet(object_id tablet) {
        auto it = state.tablet_rowsets.find(tablet);
        if (it == state.tablet_rowsets.end()) {
            return;
        }
        if (removed != nullptr) {
            for (const auto& rs : it->second) {
                for (const auto& f : rs.files) {
                    removed->files.push_back({tablet, f.name});
                }
            }
        }
        state.tablet_rowsets.erase(it);
    }

    void drop_partition_tablets(const partition& p) {
        for (const auto& index : p.tablets) {
            for (object_id tablet : index.tablet_ids) {
                drop_tablet(tablet);
            }
        }
    }

    void drop_table_tablets(const table& t) {
        for (const auto& p : t.partitioning.partitions) {
            drop_partition_tablets(p);
        }
    }

    database* db(const std::string& name) {
        auto it = state.databases.find(name);
        return it == state.databases.end() ? nullptr : &it->second;
    }

    table* tbl(const std::string& db_name, const std::string& name) {
        database* d = db(db_name);
        if (d == nullptr) {
            return nullptr;
        }
        auto it = d->tables.find(name);
        return it == d->tables.end() ? nullptr : &it->second;
    }

    user* find_user(const std::string& name, const std::string& host) {
        auto it = state.users.find(user_key{name, host});
        return it == state.users.end() ? nullptr : &it->second;
    }

    static storage_error missing(std::string_view what, std::string_view name) {
        return does_not_fit(fmt::format("{} '{}' does not exist", what, name));
    }

    // StarRocks marks an asynchronous materialized view inactive when a base table goes away
    // (`table_name` null: the whole database went).
    void deactivate_views_on(const std::string& db_name, const std::string* table_name) {
        std::string prefix = db_name + ".";
        for (auto& [_, d] : state.databases) {
            for (auto& [_, mv] : d.mvs) {
                for (const auto& base : mv.base_tables) {
                    bool hit = table_name != nullptr ? base == prefix + *table_name : base.starts_with(prefix);
                    if (hit && mv.active) {
                        mv.active = false;
                        mv.inactive_reason = table_name != nullptr ? fmt::format("base-table dropped: {}", base)
                                                                   : fmt::format("base-db dropped: {}", db_name);
                    }
                }
            }
        }
    }

    apply_result operator()(const ops::create_database& op) {
        if (!state.databases.emplace(op.db.name, op.db).second) {
            return does_not_fit(fmt::format("database '{}' exists", op.db.name));
        }
        return {};
    }
    apply_result operator()(const ops::drop_database& op) {
        auto it = state.databases.find(op.db);
        if (it == state.databases.end()) {
            return missing("database", op.db);
        }
        for (const auto& [_, t] : it->second.tables) {
            drop_table_tablets(t);
        }
        for (const auto& [_, mv] : it->second.mvs) {
            drop_partition_tablets(mv.storage);
        }
        state.databases.erase(it);
        deactivate_views_on(op.db, nullptr);
        return {};
    }
    apply_result operator()(const ops::create_table& op) {
        database* d = db(op.db);
        if (d == nullptr) {
            return missing("database", op.db);
        }
        if (!d->tables.emplace(op.tbl.name, op.tbl).second) {
            return does_not_fit(fmt::format("table '{}.{}' exists", op.db, op.tbl.name));
        }
        return {};
    }
    apply_result operator()(const ops::drop_table& op) {
        database* d = db(op.db);
        auto it = d == nullptr ? decltype(d->tables)::iterator{} : d->tables.find(op.table);
        if (d == nullptr || it == d->tables.end()) {
            return missing("table", op.db + "." + op.table);
        }
        drop_table_tablets(it->second);
        d->tables.erase(it);
        deactivate_views_on(op.db, &op.table);
        return {};
    }
    apply_result operator()(const ops::add_partition& op) {
        table* t = tbl(op.db, op.table);
        if (t == nullptr) {
            return missing("table", op.db + "." + op.table);
        }
        t->partitioning.partitions.push_back(op.part);
        return {};
    }
    apply_result operator()(const ops::drop_partition& op) {
        table* t = tbl(op.db, op.table);
        if (t == nullptr) {
            return missing("table", op.db + "." + op.table);
        }
        auto& parts = t->partitioning.partitions;
        auto it = std::find_if(parts.begin(), parts.end(), [&](const partition& p) { return p.name == op.partition; });
        if (it == parts.end()) {
            return missing("partition", op.partition);
        }
        drop_partition_tablets(*it);
        parts.erase(it);
        return {};
    }
    apply_result operator()(const ops::truncate_table& op) {
        table* t = tbl(op.db, op.table);
        if (t == nullptr) {
            return missing("table", op.db + "." + op.table);
        }
        auto& parts = t->partitioning.partitions;
        for (const auto& fresh : op.partitions) {
            if (std::none_of(parts.begin(), parts.end(), [&](const partition& p) { return p.name == fresh.name; })) {
                return missing("partition", fresh.name);
            }
        }
        for (const auto& fresh : op.partitions) {
            auto it = std::find_if(parts.begin(), parts.end(), [&](const partition& p) { return p.name == fresh.name; });
            drop_partition_tablets(*it);
            *it = fresh;
        }
        return {};
    }
    apply_result operator()(const ops::create_index& op) {
        table* t = tbl(op.db, op.table);
        if (t == nullptr) {
            return missing("table", op.db + "." + op.table);
        }
        if (op.tablets.size() != t->partitioning.partitions.size()) {
            return does_not_fit(fmt::format("index '{}' has tablets for {} partitions, table has {}", op.index.name,
                                            op.tablets.size(), t->partitioning.partitions.size()));
        }
        for (size_t i = 0; i < op.tablets.size(); ++i) {
            partition& p = t->partitioning.partitions[i];
            if (p.id != op.tablets[i].partition_id) {
                return does_not_fit(fmt::format("index '{}': partition {} is not {}", op.index.name, p.id,
                                                op.tablets[i].partition_id));
            }
            p.tablets.push_back(index_tablets{op.index.id, op.tablets[i].tablet_ids});
        }
        t->indexes.push_back(op.index);
        return {};
    }
    apply_result operator()(const ops::drop_index& op) {
        table* t = tbl(op.db, op.table);
        if (t == nullptr) {
            return missing("table", op.db + "." + op.table);
        }
        if (t->indexes.size() < 2) {
            return missing("index", op.index);
        }
        // indexes[0] is the base index, which only goes with the table.
        auto it = std::find_if(t->indexes.begin() + 1, t->indexes.end(),
                               [&](const materialized_index& i) { return i.name == op.index; });
        if (it == t->indexes.end()) {
            return missing("index", op.index);
        }
        object_id id = it->id;
        t->indexes.erase(it);
        for (auto& p : t->partitioning.partitions) {
            for (const auto& x : p.tablets) {
                if (x.index_id == id) {
                    for (object_id tablet : x.tablet_ids) {
                        drop_tablet(tablet);
                    }
                }
            }
            std::erase_if(p.tablets, [&](const index_tablets& x) { return x.index_id == id; });
        }
        return {};
    }
    apply_result operator()(const ops::put_view& op) {
        database* d = db(op.db);
        if (d == nullptr) {
            return missing("database", op.db);
        }
        d->views[op.v.name] = op.v;
        return {};
    }
    apply_result operator()(const ops::drop_view& op) {
        database* d = db(op.db);
        if (d == nullptr || d->views.erase(op.view) == 0) {
            return missing("view", op.db + "." + op.view);
        }
        return {};
    }
    apply_result operator()(const ops::create_mv& op) {
        database* d = db(op.db);
        if (d == nullptr) {
            return missing("database", op.db);
        }
        if (!d->mvs.emplace(op.mv.name, op.mv).second) {
            return does_not_fit(fmt::format("materialized view '{}.{}' exists", op.db, op.mv.name));
        }
        return {};
    }
    apply_result operator()(const ops::drop_mv& op) {
        database* d = db(op.db);
        auto it = d == nullptr ? decltype(d->mvs)::iterator{} : d->mvs.find(op.mv);
        if (d == nullptr || it == d->mvs.end()) {
            return missing("materialized view", op.db + "." + op.mv);
        }
        drop_partition_tablets(it->second.storage);
        d->mvs.erase(it);
        return {};
    }
    apply_result operator()(const ops::publish_load& op) {
        database* d = db(op.db);
        if (d == nullptr) {
            return missing("database", op.db);
        }
        // The partitions of the target: a table's, or an asynchronous view's one storage partition.
        std::vector<partition*> parts;
        object_id id = 0;
        if (auto t = d->tables.find(op.table); t != d->tables.end()) {
            id = t->second.id;
            for (auto& p : t->second.partitioning.partitions) {
                parts.push_back(&p);
            }
        } else if (auto mv = d->mvs.find(op.table); mv != d->mvs.end()) {
            id = mv->second.id;
            if (!mv->second.columns.empty()) {
                parts.push_back(&mv->second.storage);
            }
        } else {
            return missing("table", op.db + "." + op.table);
        }
        if (id != op.table_id) {
            return does_not_fit(
                fmt::format("table '{}.{}' has id {}, the load was for {}", op.db, op.table, id, op.table_id));
        }
        std::map<object_id, partition*> by_tablet;
        std::map<object_id, partition*> by_id;
        for (partition* p : parts) {
            by_id[p->id] = p;
            for (const auto& index : p->tablets) {
                for (object_id tablet : index.tablet_ids) {
                    by_tablet[tablet] = p;
                }
            }
        }
        // Validate everything before changing anything.
        std::vector<partition*> touched;
        auto touch = [&](partition* p) {
            if (std::find(touched.begin(), touched.end(), p) == touched.end()) {
                touched.push_back(p);
            }
        };
        for (object_id pid : op.overwritten_partitions) {
            auto it = by_id.find(pid);
            if (it == by_id.end()) {
                return does_not_fit(fmt::format("partition {} of '{}.{}' does not exist", pid, op.db, op.table));
            }
            touch(it->second);
        }
        for (const auto& r : op.rowsets) {
            auto it = by_tablet.find(r.tablet_id);
            if (it == by_tablet.end()) {
                return does_not_fit(fmt::format("tablet {} of '{}.{}' does not exist", r.tablet_id, op.db, op.table));
            }
            touch(it->second);
        }
        for (partition* p : touched) {
            p->visible_version += 1;
            p->visible_version_time_ms = op.label_time_ms;
        }
        for (object_id pid : op.overwritten_partitions) {
            for (const auto& index : by_id[pid]->tablets) {
                for (object_id tablet : index.tablet_ids) {
                    clear_tablet(tablet);
                }
            }
        }
        for (const auto& r : op.rowsets) {
            rowset data = r.data;
            data.version = by_tablet[r.tablet_id]->visible_version;
            state.tablet_rowsets[r.tablet_id].push_back(std::move(data));
        }
        if (!op.label.empty()) {
            d->load_labels[op.label] = op.label_time_ms;
        }
        return {};
    }
    apply_result operator()(const ops::publish_restore& op) {
        // Validated whole first: the record applies whole or not at all.
        if (auto fits = check_restore(state, op); !fits) {
            return fits;
        }
        if (op.new_database) {
            state.databases.emplace(op.new_database->name, *op.new_database);
        }
        database* d = db(op.db);
        for (const auto& t : op.tables) {
            d->tables.emplace(t.name, t);
        }
        for (const auto& change : op.partitions) {
            auto& parts = d->tables.at(change.table).partitioning.partitions;
            for (const auto& fresh : change.replaced) {
                auto it = std::find_if(parts.begin(), parts.end(),
                                       [&](const partition& p) { return p.name == fresh.name; });
                drop_partition_tablets(*it);
                *it = fresh;
            }
            parts.insert(parts.end(), change.added.begin(), change.added.end());
        }
        for (const auto& v : op.views) {
            d->views[v.name] = v;
        }
        for (const auto& mv : op.mvs) {
            d->mvs.emplace(mv.name, mv);
        }
        for (const auto& fn : op.functions) {
            std::string signature = lowered(fn.signature());
            std::erase_if(d->functions, [&](const function& f) { return lowered(f.signature()) == signature; });
            d->functions.push_back(fn);
        }
        for (const auto& c : op.catalogs) {
            state.catalogs.emplace(c.name, c);
        }
        for (const auto& t : op.tablets) {
            state.tablet_rowsets[t.tablet_id] = t.rowsets;
        }
        return {};
    }
    static std::string lowered(std::string s) {
        std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        return s;
    }
    apply_result operator()(const ops::rename_table& op) { return apply_rename(state, op); }
    apply_result operator()(const ops::swap_tables& op) { return apply_rename(state, op); }
    apply_result operator()(const ops::rename_partition& op) { return apply_rename(state, op); }
    apply_result operator()(const ops::rename_database& op) { return apply_rename(state, op); }
    apply_result operator()(const ops::reserve_ids&) {
        return {};
    }
    apply_result operator()(const ops::set_mv_active& op) {
        database* d = db(op.db);
        auto it = d == nullptr ? decltype(d->mvs)::iterator{} : d->mvs.find(op.mv);
        if (d == nullptr || it == d->mvs.end()) {
            return missing("materialized view", op.db + "." + op.mv);
        }
        it->second.active = op.active;
        it->second.inactive_reason = op.active ? std::string() : op.reason;
        return {};
    }
    std::vector<function>* functions_of(const std::string& db_name) {
        if (db_name.empty()) {
            return &state.global_functions;
        }
        database* d = db(db_name);
        return d == nullptr ? nullptr : &d->functions;
    }
    apply_result operator()(const ops::create_function& op) {
        auto* fns = functions_of(op.db);
        if (fns == nullptr) {
            return missing("database", op.db);
        }
        fns->push_back(op.fn);
        return {};
    }
    apply_result operator()(const ops::drop_function& op) {
        auto* fns = functions_of(op.db);
        if (fns == nullptr || std::erase_if(*fns, [&](const function& f) { return f.id == op.id; }) == 0) {
            return does_not_fit(fmt::format("function {} does not exist in '{}'", op.id, op.db));
        }
        return {};
    }
    apply_result operator()(const ops::create_catalog& op) {
        if (!state.catalogs.emplace(op.cat.name, op.cat).second) {
            return does_not_fit(fmt::format("catalog '{}' exists", op.cat.name));
        }
        return {};
    }
    apply_result operator()(const ops::drop_catalog& op) {
        if (state.catalogs.erase(op.name) == 0) {
            return missing("catalog", op.name);
        }
        return {};
    }
    apply_result operator()(const ops::create_repository& op) {
        if (!state.repositories.emplace(op.repo.name, op.repo).second) {
            return does_not_fit(fmt::format("repository '{}' exists", op.repo.name));
        }
        return {};
    }
    apply_result operator()(const ops::drop_repository& op) {
        if (state.repositories.erase(op.name) == 0) {
            return missing("repository", op.name);
        }
        return {};
    }
    apply_result operator()(const ops::create_user& op) {
        if (!state.users.emplace(user_key{op.u.name, op.u.host}, op.u).second) {
            return does_not_fit(fmt::format("user {} exists", op.u.identity()));
        }
        return {};
    }
    apply_result operator()(const ops::drop_user& op) {
        if (state.users.erase(user_key{op.name, op.host}) == 0) {
            return missing("user", op.name + "@" + op.host);
        }
        return {};
    }
    apply_result operator()(const ops::set_password& op) {
        user* u = find_user(op.name, op.host);
        if (u == nullptr) {
            return missing("user", op.name + "@" + op.host);
        }
        u->password_hash = op.password_hash;
        return {};
    }
    apply_result operator()(const ops::change_roles& op) {
        user* u = find_user(op.name, op.host);
        if (u == nullptr) {
            return missing("user", op.name + "@" + op.host);
        }
        for (const auto& r : op.roles) {
            if (op.grant) {
                u->roles.insert(r);
            } else {
                u->roles.erase(r);
            }
        }
        return {};
    }
    apply_result operator()(const ops::change_grants& op) {
        user* u = find_user(op.name, op.host);
        if (u == nullptr) {
            return missing("user", op.name + "@" + op.host);
        }
        for (const auto& g : op.grants) {
            if (op.grant) {
                u->grants.insert(g);
            } else {
                u->grants.erase(g);
            }
        }
        return {};
    }
};

/// The database `name`, or null.
const database* find_db(const catalog_state& state, const std::string& name) {
    auto it = state.databases.find(name);
    return it == state.databases.end() ? nullptr : &it->second;
}

}  // namespace

storage_result<void> check_restore(const catalog_state& state, const ops::publish_restore& op) {
    if (op.new_database && state.databases.contains(op.new_database->name)) {
        return does_not_fit(fmt::format("database '{}' exists", op.new_database->name));
    }
    bool db_follows = op.new_database && op.new_database->name == op.db;
    const database* target = db_follows ? &*op.new_database : find_db(state, op.db);
    bool has_db_objects = !op.tables.empty() || !op.partitions.empty() || !op.views.empty() ||
                          !op.mvs.empty() || !op.functions.empty();
    if (has_db_objects && target == nullptr) {
        return applier::missing("database", op.db);
    }
    for (const auto& t : op.tables) {
        if (target->tables.contains(t.name)) {
            return does_not_fit(fmt::format("table '{}.{}' exists", op.db, t.name));
        }
    }
    for (const auto& change : op.partitions) {
        auto it = target->tables.find(change.table);
        if (it == target->tables.end() || it->second.id != change.table_id) {
            return applier::missing("table", op.db + "." + change.table);
        }
        for (const auto& p : change.replaced) {
            if (it->second.find_partition(p.name) == nullptr) {
                return applier::missing("partition", p.name);
            }
        }
        for (const auto& p : change.added) {
            if (it->second.find_partition(p.name) != nullptr) {
                return does_not_fit(fmt::format("partition '{}' of '{}.{}' exists", p.name, op.db, change.table));
            }
        }
    }
    for (const auto& mv : op.mvs) {
        if (target->mvs.contains(mv.name)) {
            return does_not_fit(fmt::format("materialized view '{}.{}' exists", op.db, mv.name));
        }
    }
    for (const auto& c : op.catalogs) {
        if (state.catalogs.contains(c.name)) {
            return does_not_fit(fmt::format("catalog '{}' exists", c.name));
        }
    }
    for (const auto& t : op.tablets) {
        if (state.tablet_rowsets.contains(t.tablet_id)) {
            return does_not_fit(fmt::format("tablet {} already has data", t.tablet_id));
        }
    }
    return {};
}

storage_result<void> apply_entry(catalog_state& state, const journal_entry& entry, removed_data* removed) {
    if (entry.next_id < state.next_id) {
        return does_not_fit(fmt::format("the id counter would go back from {} to {}", state.next_id, entry.next_id));
    }
    if (auto applied = std::visit(applier{state, removed}, entry.change); !applied) {
        return applied;
    }
    state.next_id = entry.next_id;
    return {};
}

}  // namespace tv::storage
