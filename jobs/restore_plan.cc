// SPDX-License-Identifier: Apache-2.0
// RESTORE's object selection (see restore_plan.hh).
#include "jobs/restore_plan.hh"

#include "storage/catalog_types.hh"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <set>

namespace tv::jobs {

namespace {

job_error refused(std::string message) {
    return make_job_error(status_code::common_error, std::move(message));
}

/// Adds `name` unless listed already: a name given twice is StarRocks' "Duplicated table".
job_result<void> add(std::vector<restored_object>& list, restored_object o, bool from_all) {
    auto same = std::find_if(list.begin(), list.end(), [&](const restored_object& r) { return r.name == o.name; });
    if (same != list.end()) {
        if (from_all) {
            return {};
        }
        return refused(fmt::format("Duplicated table: {}", o.name));
    }
    list.push_back(std::move(o));
    return {};
}

template <class Map>
std::vector<std::string> names_of(const Map& objects) {
    std::vector<std::string> names;
    for (const auto& [name, object] : objects) {
        names.push_back(name);
    }
    return names;
}

job_result<restore_selection> select_catalogs(const snapshot_contents& snapshot, const restore_request& request) {
    restore_selection out;
    const auto& catalogs = snapshot.meta.catalogs;
    if (catalogs.empty()) {
        return refused(fmt::format("This is not a snapshot for external catalog restore, snapshot: {}",
                                   request.label));
    }
    // ON (...) names database objects, which a catalog snapshot has none of: ignored, the user
    // would believe them restored.
    if (request.snapshot_db || !request.target_db.empty() || !request.objects.empty()) {
        return refused("Can not specify database for external catalog snapshot");
    }
    if (request.all_catalogs || request.catalogs.empty()) {
        for (const auto& c : catalogs) {
            out.catalogs.push_back(restored_object{c.name, c.name, {}});
        }
    } else {
        for (const auto& [name, alias] : request.catalogs) {
            // Clang 14 cannot capture a structured binding in a lambda (C++20 allows it since
            // clang 16), and the fuzz build is clang 14: the name goes in by a plain reference.
            const auto& wanted = name;
            bool held = std::any_of(catalogs.begin(), catalogs.end(), [&](const auto& c) { return c.name == wanted; });
            if (!held) {
                return refused(fmt::format("Can not find restore catalog: {}", name));
            }
            if (alias && storage::iequals(*alias, "default_catalog")) {
                return refused("Do not support set alias as default catalog for external catalog restore");
            }
            if (auto added = add(out.catalogs, restored_object{name, alias.value_or(name), {}}, false); !added) {
                return added.error();
            }
        }
    }
    std::vector<std::string> names;
    for (const auto& c : out.catalogs) {
        names.push_back(c.local_name == c.name ? c.name : fmt::format("{} AS {}", c.name, c.local_name));
    }
    out.objects_text = fmt::format("{}", fmt::join(names, ", "));
    return out;
}

job_result<void> select_one(const storage::database& objects, const restore_request& request,
                            const requested_object& o, restore_selection& out) {
    auto missing = [&] { return refused(fmt::format("Table {} does not exist in snapshot {}", o.name, request.label)); };
    if (!o.db.empty() && o.db != objects.name) {
        // The snapshot holds one database: a name qualified with another cannot be in it.
        return refused(fmt::format("Table {}.{} does not exist in snapshot {}: it holds database {} only", o.db,
                                   o.name, request.label, objects.name));
    }
    std::string local = o.alias.value_or(o.name);
    switch (o.kind) {
    case object_kind::table: {
        if (o.all) {
            for (const auto& name : names_of(objects.tables)) {
                if (auto added = add(out.tables, restored_object{name, name, {}}, true); !added) {
                    return added.error();
                }
            }
            return {};
        }
        auto table = objects.tables.find(o.name);
        if (table == objects.tables.end()) {
            // The old form names views and materialized views without a kind word too.
            if (o.bare && objects.views.contains(o.name) && o.partitions.empty()) {
                return add(out.views, restored_object{o.name, local, {}}, false);
            }
            if (o.bare && objects.mvs.contains(o.name) && o.partitions.empty()) {
                return add(out.materialized_views, restored_object{o.name, local, {}}, false);
            }
            return missing();
        }
        for (const auto& p : o.partitions) {
            if (table->second.find_partition(p) == nullptr) {
                return refused(fmt::format("Partition {} of table {} does not exist in snapshot {}", p, o.name,
                                           request.label));
            }
        }
        return add(out.tables, restored_object{o.name, local, o.partitions}, false);
    }
    case object_kind::materialized_view:
        if (o.all) {
            for (const auto& name : names_of(objects.mvs)) {
                if (auto added = add(out.materialized_views, restored_object{name, name, {}}, true); !added) {
                    return added.error();
                }
            }
            return {};
        }
        if (!objects.mvs.contains(o.name)) {
            return missing();
        }
        return add(out.materialized_views, restored_object{o.name, local, {}}, false);
    case object_kind::view:
        if (o.all) {
            for (const auto& name : names_of(objects.views)) {
                if (auto added = add(out.views, restored_object{name, name, {}}, true); !added) {
                    return added.error();
                }
            }
            return {};
        }
        if (!objects.views.contains(o.name)) {
            return missing();
        }
        return add(out.views, restored_object{o.name, local, {}}, false);
    case object_kind::function: {
        if (o.all) {
            for (const auto& f : objects.functions) {
                if (auto added = add(out.functions, restored_object{f.name, f.name, {}}, true); !added) {
                    return added.error();
                }
            }
            return {};
        }
        // Function names are case-insensitive, as in BACKUP; the snapshot's spelling is restored.
        auto held = std::find_if(objects.functions.begin(), objects.functions.end(),
                                 [&](const auto& f) { return storage::iequals(f.name, o.name); });
        if (held == objects.functions.end()) {
            return refused(fmt::format("Can not find restore function: {}", o.name));
        }
        return add(out.functions, restored_object{held->name, o.alias ? local : held->name, {}}, false);
    }
    }
    return {};
}

std::string describe(const restore_selection& s) {
    std::vector<std::string> items;
    for (const auto* list : {&s.tables, &s.materialized_views, &s.views, &s.functions}) {
        for (const auto& o : *list) {
            // StarRocks leaves out a partition named as its table (an unpartitioned table's).
            std::vector<std::string> shown;
            std::copy_if(o.partitions.begin(), o.partitions.end(), std::back_inserter(shown),
                         [&](const std::string& p) { return p != o.name; });
            std::string item = shown.empty() ? o.name
                                             : fmt::format("{} PARTITIONS [{}]", o.name, fmt::join(shown, ", "));
            items.push_back(o.local_name == o.name ? item : fmt::format("{} AS {}", item, o.local_name));
        }
    }
    return fmt::format("{}", fmt::join(items, ", "));
}

}  // namespace

job_result<restore_selection> select_restore(const snapshot_contents& snapshot, const restore_request& request) {
    const job_info& info = snapshot.info;
    // A snapshot of external catalogs only restores as one, with or without the catalog clause.
    if (request.catalog_job || (info.database.empty() && request.objects.empty())) {
        return select_catalogs(snapshot, request);
    }
    if (request.snapshot_db && *request.snapshot_db != info.database) {
        return refused(fmt::format("target database: {} is not existed in snapshot", *request.snapshot_db));
    }
    restore_selection out;
    out.target_db = request.target_db.empty() ? info.database : request.target_db;
    const storage::database& objects = snapshot.meta.objects;
    if (request.objects.empty()) {
        for (const auto& name : names_of(objects.tables)) {
            out.tables.push_back(restored_object{name, name, {}});
        }
        for (const auto& name : names_of(objects.mvs)) {
            out.materialized_views.push_back(restored_object{name, name, {}});
        }
        for (const auto& name : names_of(objects.views)) {
            out.views.push_back(restored_object{name, name, {}});
        }
        for (const auto& f : objects.functions) {
            if (auto added = add(out.functions, restored_object{f.name, f.name, {}}, true); !added) {
                return added.error();
            }
        }
    } else {
        // Named objects before ALL ...: whatever the order in ON (...), `ALL TABLES, TABLE t AS
        // t2` restores t as t2 (ALL skips what is named), and a name given twice is refused.
        for (bool all_pass : {false, true}) {
            for (const auto& o : request.objects) {
                if (o.all != all_pass) {
                    continue;
                }
                if (auto selected = select_one(objects, request, o, out); !selected) {
                    return selected.error();
                }
            }
        }
    }
    // Tables, views and materialized views share one namespace in a database; functions their own.
    std::set<std::string> local_names;
    for (const auto* list : {&out.tables, &out.materialized_views, &out.views}) {
        for (const auto& o : *list) {
            if (!local_names.insert(o.local_name).second) {
                return refused(fmt::format("Duplicated alias name: {}", o.local_name));
            }
        }
    }
    out.objects_text = describe(out);
    return out;
}

namespace {

namespace json = boost::json;

json::array objects_json(const std::vector<restored_object>& list) {
    json::array out;
    for (const auto& o : list) {
        json::array partitions(o.partitions.begin(), o.partitions.end());
        out.push_back(json::array{json::value(o.name), json::value(o.local_name), std::move(partitions)});
    }
    return out;
}

std::vector<restored_object> objects_of(const json::value& v) {
    std::vector<restored_object> out;
    for (const auto& item : v.as_array()) {
        const json::array& a = item.as_array();
        restored_object o{std::string(a.at(0).as_string()), std::string(a.at(1).as_string()), {}};
        for (const auto& p : a.at(2).as_array()) {
            o.partitions.emplace_back(p.as_string());
        }
        out.push_back(std::move(o));
    }
    return out;
}

}  // namespace

std::string encode_selection(const restore_selection& s) {
    json::object o{{"target_db", s.target_db},
                   {"tables", objects_json(s.tables)},
                   {"materialized_views", objects_json(s.materialized_views)},
                   {"views", objects_json(s.views)},
                   {"functions", objects_json(s.functions)},
                   {"catalogs", objects_json(s.catalogs)},
                   {"objects_text", s.objects_text}};
    return json::serialize(o);
}

job_result<restore_selection> decode_selection(std::string_view text) {
    try {
        json::value v = json::parse(text);
        const json::object& o = v.as_object();
        restore_selection s;
        s.target_db = std::string(o.at("target_db").as_string());
        s.tables = objects_of(o.at("tables"));
        s.materialized_views = objects_of(o.at("materialized_views"));
        s.views = objects_of(o.at("views"));
        s.functions = objects_of(o.at("functions"));
        s.catalogs = objects_of(o.at("catalogs"));
        s.objects_text = std::string(o.at("objects_text").as_string());
        return s;
    } catch (const std::exception& e) {
        return make_job_error(status_code::bad_file, fmt::format("the job's restore selection is damaged: {}", e.what()));
    }
}

}  // namespace tv::jobs
