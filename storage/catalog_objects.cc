// SPDX-License-Identifier: Apache-2.0
// Catalog changes to views, asynchronous materialized views, functions and external catalogs.
#include "storage/catalog.hh"

#include "io/printable.hh"

#include <fmt/format.h>

#include <algorithm>

namespace tv::storage {

namespace {

constexpr std::string_view default_catalog_name = "default_catalog";

storage_result<void> check_view(const view& v) {
    if (auto e = check_name(name_kind::view, v.name); !e) {
        return e;
    }
    if (v.query_text.empty()) {
        return make_error(storage_errc::bad_definition, fmt::format("View '{}' has no query", v.name));
    }
    for (size_t i = 0; i < v.columns.size(); ++i) {
        if (auto e = check_name(name_kind::column, v.columns[i].name); !e) {
            return e;
        }
        for (size_t j = 0; j < i; ++j) {
            if (iequals(v.columns[i].name, v.columns[j].name)) {
                return make_error(storage_errc::duplicate_column,
                                  fmt::format("Duplicate column name '{}'", v.columns[i].name));
            }
        }
    }
    return {};
}

}  // namespace

io::task<storage_result<object_id>> catalog::create_view(std::string db, view v, bool if_not_exists, bool or_replace) {
    auto hold = co_await _write_lock.lock();
    auto d = need_database(db);
    if (!d) {
        co_return d.error();
    }
    if (auto e = check_view(v); !e) {
        co_return e.error();
    }
    id_allocator ids(_state.next_id);
    if (name_taken(**d, v.name)) {
        auto existing = (*d)->views.find(v.name);
        if (or_replace && existing != (*d)->views.end()) {
            v.id = existing->second.id;  // a replaced view is the same object
        } else if (if_not_exists) {
            co_return object_id{0};
        } else {
            co_return make_error(storage_errc::table_exists, fmt::format("Table '{}' already exists", v.name));
        }
    } else {
        v.id = ids.take();
    }
    object_id id = v.id;
    ops::put_view change{std::move(db), std::move(v)};
    auto done = co_await commit(ids.next(), std::move(change));
    if (!done) {
        co_return done.error();
    }
    co_return id;
}

io::task<storage_result<void>> catalog::alter_view(std::string db, view v) {
    auto hold = co_await _write_lock.lock();
    auto d = need_database(db);
    if (!d) {
        co_return d.error();
    }
    auto existing = (*d)->views.find(v.name);
    if (existing == (*d)->views.end()) {
        if (name_taken(**d, v.name)) {
            co_return make_error(storage_errc::wrong_object_type, fmt::format("'{}.{}' is not VIEW", db, v.name));
        }
        co_return make_error(storage_errc::unknown_view, fmt::format("Unknown view '{}.{}'", db, v.name));
    }
    if (auto e = check_view(v); !e) {
        co_return e.error();
    }
    v.id = existing->second.id;
    ops::put_view change{std::move(db), std::move(v)};
    co_return co_await commit(_state.next_id, std::move(change));
}

io::task<storage_result<void>> catalog::drop_view(std::string db, std::string name, bool if_exists) {
    auto hold = co_await _write_lock.lock();
    const database* d = find_database(db);
    if (d == nullptr || !d->views.contains(name)) {
        if (d != nullptr && name_taken(*d, name)) {
            co_return make_error(storage_errc::wrong_object_type, fmt::format("'{}.{}' is not VIEW", db, name));
        }
        if (if_exists) {
            co_return storage_result<void>{};
        }
        if (d == nullptr) {
            co_return make_error(storage_errc::unknown_database, fmt::format("Unknown database '{}'", db));
        }
        co_return make_error(storage_errc::unknown_view, fmt::format("Unknown view '{}.{}'", db, name));
    }
    ops::drop_view change{std::move(db), std::move(name)};
    co_return co_await commit(_state.next_id, std::move(change));
}

io::task<storage_result<object_id>> catalog::create_materialized_view(std::string db, materialized_view mv,
                                                                      bool if_not_exists) {
    auto hold = co_await _write_lock.lock();
    auto d = need_database(db);
    if (!d) {
        co_return d.error();
    }
    if (auto e = check_name(name_kind::table, mv.name); !e) {
        co_return e.error();
    }
    if (name_taken(**d, mv.name)) {
        if (if_not_exists) {
            co_return object_id{0};
        }
        co_return make_error(storage_errc::table_exists, fmt::format("Table '{}' already exists", mv.name));
    }
    if (mv.query_text.empty()) {
        co_return make_error(storage_errc::bad_definition, fmt::format("Materialized view '{}' has no query", mv.name));
    }
    if (mv.dist.buckets == 0) {
        mv.dist.buckets = default_buckets;
    }
    if (mv.dist.buckets < 1 || mv.dist.buckets > max_buckets) {
        co_return make_error(storage_errc::bad_definition,
                             fmt::format("Number of buckets should be between 1 and {}, got {}", max_buckets,
                                         mv.dist.buckets));
    }
    for (size_t i = 0; i < mv.columns.size(); ++i) {
        if (auto e = check_name(name_kind::column, mv.columns[i].name); !e) {
            co_return e.error();
        }
        for (size_t j = 0; j < i; ++j) {
            if (iequals(mv.columns[i].name, mv.columns[j].name)) {
                co_return make_error(storage_errc::duplicate_column,
                                     fmt::format("Duplicate column name '{}'", mv.columns[i].name));
            }
        }
    }
    for (const auto& name : mv.dist.columns) {
        bool found = std::any_of(mv.columns.begin(), mv.columns.end(),
                                 [&](const column& c) { return iequals(c.name, name); });
        if (!mv.columns.empty() && !found) {
            co_return make_error(storage_errc::bad_definition,
                                 fmt::format("Distribution column '{}' is not a column of materialized view '{}'", name,
                                             mv.name));
        }
    }
    id_allocator ids(_state.next_id);
    mv.id = ids.take();
    mv.active = true;
    mv.inactive_reason.clear();
    mv.storage = partition{};
    if (!mv.columns.empty()) {
        // One partition named as the view, one index with the view's id.
        mv.storage.id = ids.take();
        mv.storage.name = mv.name;
        mv.storage.buckets = mv.dist.buckets;
        index_tablets tablets{mv.id, {}};
        for (int i = 0; i < mv.dist.buckets; ++i) {
            tablets.tablet_ids.push_back(ids.take());
        }
        mv.storage.tablets.push_back(std::move(tablets));
    }
    object_id id = mv.id;
    ops::create_mv change{std::move(db), std::move(mv)};
    auto done = co_await commit(ids.next(), std::move(change));
    if (!done) {
        co_return done.error();
    }
    co_return id;
}

io::task<storage_result<void>> catalog::drop_materialized_view(std::string db, std::string name, bool if_exists) {
    auto hold = co_await _write_lock.lock();
    const database* d = find_database(db);
    if (d == nullptr) {
        if (if_exists) {
            co_return storage_result<void>{};
        }
        co_return make_error(storage_errc::unknown_database, fmt::format("Unknown database '{}'", db));
    }
    if (d->mvs.contains(name)) {
        ops::drop_mv change{std::move(db), std::move(name)};
        co_return co_await commit(_state.next_id, std::move(change));
    }
    for (const auto& [table_name, t] : d->tables) {
        const materialized_index* index = t.find_index(name);
        if (index != nullptr && index != &t.indexes.front()) {
            if (auto busy = check_not_restoring(db, table_name); !busy) {
                co_return busy.error();  // the restore publishes tablets of every index of the table
            }
            ops::drop_index change{std::move(db), table_name, std::move(name)};
            co_return co_await commit(_state.next_id, std::move(change));
        }
    }
    if (name_taken(*d, name)) {
        co_return make_error(storage_errc::wrong_object_type, fmt::format("'{}.{}' is not MATERIALIZED VIEW", db, name));
    }
    if (if_exists) {
        co_return storage_result<void>{};
    }
    co_return make_error(storage_errc::unknown_materialized_view,
                         fmt::format("Unknown materialized view '{}.{}'", db, name));
}

io::task<storage_result<void>> catalog::set_materialized_view_active(std::string db, std::string name, bool active) {
    auto hold = co_await _write_lock.lock();
    const materialized_view* mv = find_materialized_view(db, name);
    if (mv == nullptr) {
        if (auto d = need_database(db); !d) {
            co_return d.error();
        }
        co_return make_error(storage_errc::unknown_materialized_view,
                             fmt::format("Unknown materialized view '{}.{}'", db, name));
    }
    if (mv->active == active) {
        co_return storage_result<void>{};
    }
    if (active) {
        for (const auto& base : mv->base_tables) {
            auto dot = base.find('.');
            const database* base_db = dot == std::string::npos ? nullptr : find_database(base.substr(0, dot));
            if (base_db == nullptr || !name_taken(*base_db, base.substr(dot + 1))) {
                co_return make_error(storage_errc::bad_definition,
                                     fmt::format("Can not activate materialized view '{}': base table '{}' does not "
                                                 "exist",
                                                 name, base));
            }
        }
    }
    std::string reason = active ? std::string() : "set inactive by ALTER MATERIALIZED VIEW";
    ops::set_mv_active change{std::move(db), std::move(name), active, reason};
    co_return co_await commit(_state.next_id, std::move(change));
}

io::task<storage_result<object_id>> catalog::create_function(std::string db, function fn, bool if_not_exists) {
    auto hold = co_await _write_lock.lock();
    if (!db.empty()) {
        if (auto d = need_database(db); !d) {
            co_return d.error();
        }
    }
    if (auto e = check_name(name_kind::function, fn.name); !e) {
        co_return e.error();
    }
    if (fn.return_type.empty()) {
        co_return make_error(storage_errc::bad_definition, fmt::format("Function {} has no return type", fn.signature()));
    }
    if (fn.kind == function_kind::aggregate && fn.intermediate_type.empty()) {
        fn.intermediate_type = fn.return_type;
    }
    if (find_function(db, fn.name, fn.arg_types, fn.variadic) != nullptr) {
        if (if_not_exists) {
            co_return object_id{0};
        }
        co_return make_error(storage_errc::function_exists, fmt::format("Function {} already exists", fn.signature()));
    }
    id_allocator ids(_state.next_id);
    fn.id = ids.take();
    fn.global = db.empty();
    object_id id = fn.id;
    ops::create_function change{std::move(db), std::move(fn)};
    auto done = co_await commit(ids.next(), std::move(change));
    if (!done) {
        co_return done.error();
    }
    co_return id;
}

io::task<storage_result<void>> catalog::drop_function(std::string db, std::string name,
                                                      std::vector<std::string> arg_types, bool variadic,
                                                      bool if_exists) {
    auto hold = co_await _write_lock.lock();
    if (!db.empty()) {
        if (auto d = need_database(db); !d) {
            co_return d.error();
        }
    }
    const function* fn = find_function(db, name, arg_types, variadic);
    if (fn == nullptr) {
        if (if_exists) {
            co_return storage_result<void>{};
        }
        function wanted{0, name, arg_types, variadic};
        co_return make_error(storage_errc::unknown_function, fmt::format("Unknown function '{}'", wanted.signature()));
    }
    ops::drop_function change{std::move(db), fn->id};
    co_return co_await commit(_state.next_id, std::move(change));
}

namespace {

/// Bounds on what one external catalog may hold: the properties live in every image and are
/// sent to every client that asks, so a 10 MB value is a mistake (or an attack), never a setting.
storage_result<void> check_catalog_properties(std::string_view catalog, const properties& props) {
    if (props.size() > k_max_catalog_properties) {
        return make_error(storage_errc::bad_definition,
                          fmt::format("External catalog '{}' has {} properties; at most {} are allowed", catalog,
                                      props.size(), k_max_catalog_properties));
    }
    for (const auto& [key, value] : props) {
        if (key.size() > k_max_catalog_property_name_bytes) {
            return make_error(storage_errc::bad_definition,
                              fmt::format("Property name '{}' of external catalog '{}' is {} bytes; at most {} "
                                          "are allowed",
                                          printable_excerpt(key, k_echoed_name_bytes), catalog, key.size(),
                                          k_max_catalog_property_name_bytes));
        }
        if (value.size() > k_max_catalog_property_value_bytes) {
            return make_error(storage_errc::bad_definition,
                              fmt::format("Property '{}' of external catalog '{}' is {} bytes; at most {} are "
                                          "allowed",
                                          printable_excerpt(key, k_echoed_name_bytes), catalog, value.size(),
                                          k_max_catalog_property_value_bytes));
        }
    }
    return {};
}

}  // namespace

io::task<storage_result<object_id>> catalog::create_external_catalog(std::string name, std::string comment,
                                                                     properties props, bool if_not_exists) {
    auto hold = co_await _write_lock.lock();
    if (auto e = check_name(name_kind::catalog, name); !e) {
        co_return e.error();
    }
    if (name == default_catalog_name || find_external_catalog(name) != nullptr) {
        if (if_not_exists) {
            co_return object_id{0};
        }
        co_return make_error(storage_errc::catalog_exists, fmt::format("Can't create catalog '{}'; catalog exists", name));
    }
    if (!find_property(props, "type")) {
        co_return make_error(storage_errc::bad_definition,
                             fmt::format("Missing property 'type' for external catalog '{}'", name));
    }
    if (auto e = check_catalog_properties(name, props); !e) {
        co_return e.error();
    }
    id_allocator ids(_state.next_id);
    external_catalog c{ids.take(), std::move(name), std::move(comment), std::move(props)};
    object_id id = c.id;
    ops::create_catalog change{std::move(c)};
    auto done = co_await commit(ids.next(), std::move(change));
    if (!done) {
        co_return done.error();
    }
    co_return id;
}

io::task<storage_result<void>> catalog::drop_external_catalog(std::string name, bool if_exists) {
    auto hold = co_await _write_lock.lock();
    if (name == default_catalog_name) {
        co_return make_error(storage_errc::not_allowed, "Can't drop the default catalog");
    }
    if (find_external_catalog(name) == nullptr) {
        if (if_exists) {
            co_return storage_result<void>{};
        }
        co_return make_error(storage_errc::unknown_catalog, fmt::format("Unknown catalog '{}'", name));
    }
    ops::drop_catalog change{std::move(name)};
    co_return co_await commit(_state.next_id, std::move(change));
}

}  // namespace tv::storage
