// SPDX-License-Identifier: Apache-2.0
// BACKUP's submission checks (StarRocks' wording, spec §7) and the snapshot cut.
#include "jobs/backup_plan.hh"

#include "io/ascii.hh"
#include "jobs/job_properties.hh"
#include "jobs/json_fields.hh"
#include "remote/snapshot_layout.hh"
#include "storage/catalog.hh"
#include "storage/catalog_ops.hh"
#include "storage/tablet_files.hh"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <set>

namespace tv::jobs {

namespace json = boost::json;

namespace {

job_error refused(std::string message) {
    return make_job_error(status_code::common_error, std::move(message));
}

template <class T>
void add_unique(std::vector<T>& list, const T& item) {
    if (std::find(list.begin(), list.end(), item) == list.end()) {
        list.push_back(item);
    }
}

/// Adds a table (all partitions when `partitions` is empty), merging with an earlier entry.
void add_table(backup_selection& s, const std::string& name, const std::vector<std::string>& partitions) {
    for (auto& t : s.tables) {
        if (t.name == name) {
            if (t.partitions.empty() || partitions.empty()) {
                t.partitions.clear();
            } else {
                for (const auto& p : partitions) {
                    add_unique(t.partitions, p);
                }
            }
            return;
        }
    }
    s.tables.push_back({name, partitions});
}

std::string describe_objects(const std::string& db, const backup_selection& s) {
    std::vector<std::string> items;
    for (const auto& t : s.tables) {
        items.push_back(t.partitions.empty()
                            ? fmt::format("[{}.{}]", db, t.name)
                            : fmt::format("[{}.{} PARTITION ({})]", db, t.name, fmt::join(t.partitions, ", ")));
    }
    for (const auto* names : {&s.materialized_views, &s.views, &s.functions}) {
        for (const auto& n : *names) {
            items.push_back(fmt::format("[{}.{}]", db, n));
        }
    }
    for (const auto& c : s.catalogs) {
        items.push_back(fmt::format("[{}]", c));
    }
    return fmt::format("{}", fmt::join(items, ", "));
}

job_result<void> check_mv_bases(const storage::database& d, const storage::materialized_view& mv) {
    for (const auto& base : mv.base_tables) {
        size_t dot = base.find('.');
        std::string base_db = dot == std::string::npos ? d.name : base.substr(0, dot);
        std::string base_table = dot == std::string::npos ? base : base.substr(dot + 1);
        if (base_db == d.name && !d.tables.contains(base_table) && !d.views.contains(base_table) &&
            !d.mvs.contains(base_table)) {
            return refused(fmt::format("Base table {} doest not existed in materialized view {} when backup/restore",
                                       base_table, mv.name));
        }
    }
    return {};
}

/// Everything a whole-database backup takes.
backup_selection whole_database(const storage::database& d) {
    backup_selection s;
    for (const auto& [name, t] : d.tables) {
        s.tables.push_back({name, {}});
    }
    for (const auto& [name, mv] : d.mvs) {
        s.materialized_views.push_back(name);
    }
    for (const auto& [name, v] : d.views) {
        s.views.push_back(name);
    }
    for (const auto& f : d.functions) {
        add_unique(s.functions, f.name);
    }
    return s;
}

job_result<void> add_object(const storage::database& d, const requested_object& o, backup_selection& s) {
    switch (o.kind) {
    case object_kind::table: {
        if (o.all) {
            for (const auto& [name, t] : d.tables) {
                add_table(s, name, {});
            }
            return {};
        }
        if (const storage::table* t = d.tables.contains(o.name) ? &d.tables.at(o.name) : nullptr) {
            for (const auto& p : o.partitions) {
                if (t->find_partition(p) == nullptr) {
                    return refused(fmt::format("Unknown partition {} in table{}", p, o.name));
                }
            }
            add_table(s, o.name, o.partitions);
            return {};
        }
        // The old bare form names views and materialized views too.
        if (o.bare && o.partitions.empty() && d.views.contains(o.name)) {
            add_unique(s.views, o.name);
            return {};
        }
        if (o.bare && o.partitions.empty() && d.mvs.contains(o.name)) {
            add_unique(s.materialized_views, o.name);
            return {};
        }
        return refused(fmt::format("Unknown table '{}'", o.name));
    }
    case object_kind::materialized_view: {
        if (o.all) {
            for (const auto& [name, mv] : d.mvs) {
                add_unique(s.materialized_views, name);
            }
            return {};
        }
        if (!d.mvs.contains(o.name)) {
            return refused(fmt::format("Unknown materialized view '{}'", o.name));
        }
        add_unique(s.materialized_views, o.name);
        return {};
    }
    case object_kind::view: {
        if (o.all) {
            for (const auto& [name, v] : d.views) {
                add_unique(s.views, name);
            }
            return {};
        }
        if (!d.views.contains(o.name)) {
            return refused(fmt::format("Unknown view '{}'", o.name));
        }
        add_unique(s.views, o.name);
        return {};
    }
    case object_kind::function: {
        if (o.all) {
            for (const auto& f : d.functions) {
                add_unique(s.functions, f.name);
            }
            return {};
        }
        bool found = std::any_of(d.functions.begin(), d.functions.end(),
                                 [&](const storage::function& f) { return storage::iequals(f.name, o.name); });
        if (!found) {
            return refused(fmt::format("Invalid backup function(s), function name: {}", o.name));
        }
        for (const auto& f : d.functions) {
            if (storage::iequals(f.name, o.name)) {
                add_unique(s.functions, f.name);
            }
        }
        return {};
    }
    }
    return {};
}

void exclude_object(const requested_object& o, backup_selection& s) {
    auto drop = [&](std::vector<std::string>& names) {
        if (o.all) {
            names.clear();
        } else {
            std::erase(names, o.name);
        }
    };
    switch (o.kind) {
    case object_kind::table:
        if (o.all) {
            s.tables.clear();
        } else {
            std::erase_if(s.tables, [&](const chosen_table& t) { return t.name == o.name; });
            if (o.bare) {
                std::erase(s.views, o.name);
                std::erase(s.materialized_views, o.name);
            }
        }
        break;
    case object_kind::materialized_view: drop(s.materialized_views); break;
    case object_kind::view: drop(s.views); break;
    case object_kind::function: drop(s.functions); break;
    }
}

}  // namespace

job_result<backup_properties> parse_backup_properties(const std::vector<std::pair<std::string, std::string>>& props,
                                                      int64_t default_timeout_s) {
    backup_properties out;
    out.timeout_s = default_timeout_s;
    std::vector<std::string> unknown;
    for (const auto& [key, value] : props) {
        std::string k = ascii_lower(key);
        if (k == "type") {
            if (storage::iequals(value, "incremental")) {
                out.incremental = true;
            } else if (!storage::iequals(value, "full")) {
                return refused(fmt::format("Invalid backup job type: {}", value));
            }
        } else if (k == "timeout") {
            auto seconds = parse_timeout(value);
            if (!seconds) {
                return seconds.error();
            }
            out.timeout_s = *seconds;
        } else if (k == "ttl") {
            auto ttl = parse_ttl(value);
            if (!ttl) {
                return ttl.error();
            }
            out.ttl_s = *ttl;
        } else if (k == "max_upload_speed_kbps") {
            auto kbps = parse_speed_kbps(k, value);
            if (!kbps) {
                return kbps.error();
            }
            out.max_upload_speed_kbps = *kbps;
        } else {
            unknown.push_back(key);
        }
    }
    if (!unknown.empty()) {
        return refused(fmt::format("Unknown backup job properties: [{}]", fmt::join(unknown, ", ")));
    }
    return out;
}

job_result<resolved_backup> resolve_backup(const storage::catalog& catalog, const backup_request& request) {
    resolved_backup out;
    for (const auto& o : request.objects) {
        if (o.alias) {
            return refused(fmt::format("Can not set alias for table in Backup Stmt: {}", o.name));
        }
        if (!o.db.empty() && o.db != request.db) {
            return refused(fmt::format("Can not back up {}.{} in a backup of database {}: one database per backup",
                                       o.db, o.name, request.db));
        }
    }
    if (request.catalog_job) {
        // A catalog backup holds catalog definitions only: a DATABASE, `db.` label or ON (...)
        // beside it would be ignored, and the user would believe those objects backed up.
        if (!request.db.empty() || !request.objects.empty()) {
            return refused("Can not specify database for external catalog snapshot");
        }
        if (request.all_catalogs) {
            for (const auto& [name, c] : catalog.external_catalogs()) {
                out.selection.catalogs.push_back(name);
            }
        }
        for (const auto& name : request.catalogs) {
            if (catalog.find_external_catalog(name) == nullptr) {
                return refused(fmt::format("external catalog {} does not existed.", name));
            }
            add_unique(out.selection.catalogs, name);
        }
        if (out.selection.catalogs.empty()) {
            return refused("No external catalog can be backed up");
        }
        out.objects_text = describe_objects("", out.selection);
        return out;
    }
    const storage::database* d = catalog.find_database(request.db);
    if (d == nullptr) {
        return refused(fmt::format("Unknown database '{}'", request.db));
    }
    if (request.objects.empty() || request.exclude) {
        out.selection = whole_database(*d);
    }
    if (request.exclude) {
        for (const auto& o : request.objects) {
            if (!o.partitions.empty()) {
                return refused("Do not support exclude partitions in backup");
            }
            exclude_object(o, out.selection);
        }
    } else {
        for (const auto& o : request.objects) {
            if (auto added = add_object(*d, o, out.selection); !added) {
                return added.error();
            }
        }
    }
    // Every chosen MV's bases, once, whichever way it was chosen.
    for (const auto& name : out.selection.materialized_views) {
        if (auto checked = check_mv_bases(*d, d->mvs.at(name)); !checked) {
            return checked.error();
        }
    }
    out.objects_text = describe_objects(request.db, out.selection);
    return out;
}

namespace {

/// The files of one partition's tablets, and its entry of the job info.
info_partition cut_partition(const storage::catalog& catalog, const std::string& db, const std::string& owner,
                             const storage::partition& p, const std::vector<storage::materialized_index>& indexes,
                             std::vector<cut_file>& files) {
    info_partition out{p.name, p.id, p.visible_version, {}};
    for (const auto& it : p.tablets) {
        std::string index_name = owner;
        for (const auto& index : indexes) {
            if (index.id == it.index_id) {
                index_name = index.name;
            }
        }
        info_index index{index_name, it.index_id, 0, {}};
        for (auto tablet : it.tablet_ids) {
            index.tablets.push_back(tablet);
            for (const auto& rowset : catalog.tablet_rowsets(tablet)) {
                for (const auto& f : rowset.files) {
                    files.push_back(cut_file{db, owner, p.name, index_name, static_cast<uint64_t>(tablet), f.name,
                                             f.size, f.rows,
                                             f.checksum,
                                             storage::segment_path(catalog.data_dir(), tablet, f.name),
                                             rowset.version});
                }
            }
        }
        out.indexes.push_back(std::move(index));
    }
    return out;
}

}  // namespace

job_result<snapshot_cut> capture_snapshot(const storage::catalog& catalog, const job_record& job) {
    snapshot_cut cut;
    cut.info.name = job.label;
    cut.info.database = job.db;
    cut.info.db_id = job.db_id;
    cut.info.backup_time_ms = job.create_time_ms;
    cut.info.format_version = remote::repository_format_version;
    std::vector<storage::external_catalog> catalogs;
    for (const auto& name : job.selection.catalogs) {
        const storage::external_catalog* c = catalog.find_external_catalog(name);
        if (c == nullptr) {
            return make_job_error(status_code::not_found, fmt::format("external catalog {} has been dropped", name));
        }
        catalogs.push_back(*c);
        cut.info.catalogs.push_back(name);
    }
    storage::database objects;
    if (!job.db.empty()) {
        const storage::database* d = catalog.find_database(job.db);
        if (d == nullptr) {
            return make_job_error(status_code::not_found, fmt::format("database {} has been dropped", job.db));
        }
        objects.id = d->id;
        objects.name = d->name;
        objects.props = d->props;
        for (const auto& chosen : job.selection.tables) {
            auto it = d->tables.find(chosen.name);
            if (it == d->tables.end()) {
                return make_job_error(status_code::not_found, fmt::format("table {} has been dropped", chosen.name));
            }
            storage::table t = it->second;
            info_table info{t.name, t.id, {}};
            std::vector<storage::partition> kept;
            for (const auto& p : t.partitioning.partitions) {
                bool wanted = chosen.partitions.empty() ||
                              std::find(chosen.partitions.begin(), chosen.partitions.end(), p.name) !=
                                  chosen.partitions.end();
                if (wanted) {
                    info.partitions.push_back(cut_partition(catalog, job.db, t.name, p, t.indexes, cut.files));
                    kept.push_back(p);
                }
            }
            for (const auto& p : chosen.partitions) {
                if (t.find_partition(p) == nullptr) {
                    return make_job_error(status_code::not_found,
                                          fmt::format("partition {} of table {} has been dropped", p, t.name));
                }
            }
            t.partitioning.partitions = std::move(kept);
            cut.info.tables.push_back(std::move(info));
            objects.tables.emplace(t.name, std::move(t));
        }
        for (const auto& name : job.selection.materialized_views) {
            auto it = d->mvs.find(name);
            if (it == d->mvs.end()) {
                return make_job_error(status_code::not_found,
                                      fmt::format("materialized view {} has been dropped", name));
            }
            info_table info{name, it->second.id, {}};
            if (!it->second.columns.empty()) {
                info.partitions.push_back(cut_partition(catalog, job.db, name, it->second.storage, {}, cut.files));
            }
            cut.info.tables.push_back(std::move(info));
            objects.mvs.emplace(name, it->second);
        }
        for (const auto& name : job.selection.views) {
            auto it = d->views.find(name);
            if (it == d->views.end()) {
                return make_job_error(status_code::not_found, fmt::format("view {} has been dropped", name));
            }
            cut.info.tables.push_back(info_table{name, it->second.id, {}});
            objects.views.emplace(name, it->second);
        }
        for (const auto& f : d->functions) {
            if (std::find(job.selection.functions.begin(), job.selection.functions.end(), f.name) !=
                job.selection.functions.end()) {
                objects.functions.push_back(f);
                add_unique(cut.info.functions, f.signature());
            }
        }
    }
    cut.meta = storage::encode_backup_meta(objects, catalogs);
    return cut;
}

// Written one file at a time, as manifests are (serialize_with_list): no document of every file.
std::string encode_cut(const snapshot_cut& cut) {
    json::object head{{"info", json::parse(encode_job_info(cut.info))}, {"meta", cut.meta}};
    return serialize_with_list(head, "files", cut.files.size(), [&](size_t i) {
        const cut_file& f = cut.files[i];
        return json::array{f.db,   f.table, f.partition,        f.index,         f.tablet_id, f.name,
                           f.size, f.rows,  f.segment_checksum, f.source_path, f.version};
    });
}

job_result<snapshot_cut> decode_cut(std::string_view text) {
    auto bad = [](std::string_view why) {
        return make_job_error(status_code::bad_file, fmt::format("the job's snapshot record is damaged: {}", why));
    };
    std::error_code ec;
    json::value doc = parse_document(text, ec);
    const json::object* root = ec ? nullptr : doc.if_object();
    if (root == nullptr || !root->contains("files") || !root->contains("info") || !root->contains("meta")) {
        return bad("not the expected JSON");
    }
    snapshot_cut cut;
    try {
        const json::array& files = root->at("files").as_array();
        cut.files.reserve(files.size());
        for (const auto& f : files) {
            const json::array& a = f.as_array();
            cut.files.push_back(cut_file{std::string(a.at(0).as_string()), std::string(a.at(1).as_string()),
                                         std::string(a.at(2).as_string()), std::string(a.at(3).as_string()),
                                         a.at(4).to_number<uint64_t>(), std::string(a.at(5).as_string()),
                                         a.at(6).to_number<uint64_t>(), a.at(7).to_number<uint64_t>(),
                                         a.at(8).to_number<uint64_t>(), std::string(a.at(9).as_string()),
                                         // absent in records of jobs begun before versions were kept
                                         a.size() > 10 ? a.at(10).to_number<int64_t>() : 0});
        }
        cut.meta = std::string(root->at("meta").as_string());
    } catch (const std::exception& e) {
        return bad(e.what());
    }
    auto info = decode_job_info(json::serialize(root->at("info")), "the job's snapshot record");
    if (!info) {
        return info.error();
    }
    cut.info = std::move(*info);
    return cut;
}

}  // namespace tv::jobs
