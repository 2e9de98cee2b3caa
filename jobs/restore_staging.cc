// SPDX-License-Identifier: Apache-2.0
// RESTORE's plan (see restore_staging.hh): table checks, new ids, rowsets and downloads.
#include "jobs/restore_staging.hh"

#include "jobs/json_fields.hh"
#include "jobs/local_snapshot.hh"
#include "storage/catalog.hh"
#include "storage/tablet_files.hh"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <set>

namespace tv::jobs {

namespace {

using storage::object_id;

job_error refused(std::string message) {
    return make_job_error(status_code::common_error, std::move(message));
}

/// Hands out the job's new ids and remembers which source tablet became which new one.
struct id_mapper {
    storage::catalog& catalog;
    std::map<object_id, object_id> tablets;  ///< source tablet -> new tablet

    object_id take() { return catalog.allocate_id(); }

    /// A copy of `p` with new ids; its tablets follow `index_ids` (source index id -> new id).
    storage::partition renew(const storage::partition& p, const std::map<object_id, object_id>& index_ids) {
        storage::partition out = p;
        out.id = take();
        out.tablets.clear();
        for (const auto& index : p.tablets) {
            auto it = index_ids.find(index.index_id);
            if (it == index_ids.end()) {
                continue;  // an index the target does not have (checked by the caller)
            }
            storage::index_tablets fresh{it->second, {}};
            for (object_id tablet : index.tablet_ids) {
                object_id id = take();
                tablets[tablet] = id;
                fresh.tablet_ids.push_back(id);
            }
            out.tablets.push_back(std::move(fresh));
        }
        return out;
    }
};

bool same_column(const storage::column& a, const storage::column& b) {
    return storage::iequals(a.name, b.name) && a.type == b.type && a.nullable == b.nullable && a.agg == b.agg &&
           a.is_key == b.is_key;
}

std::string column_text(const storage::column& c) {
    return fmt::format("{} {}{}", c.name, c.type.to_sql(), c.nullable ? "" : " NOT NULL");
}

/// The range [lower, upper) of `a` overlaps that of `b`. Bounds are normalized values of the
/// partition columns (storage compares them the same way when it routes rows).
bool ranges_overlap(const storage::partition& a, const storage::partition& b) {
    auto below = [](const std::vector<std::string>& x, const std::vector<std::string>& y) {
        // x < y, with MINVALUE / MAXVALUE as the open ends; values compare as numbers when both
        // parse as integers (dates and datetimes are kept in sortable text).
        for (size_t i = 0; i < std::min(x.size(), y.size()); ++i) {
            if (x[i] == y[i]) {
                continue;
            }
            if (x[i] == storage::min_value || y[i] == storage::max_value) {
                return true;
            }
            if (x[i] == storage::max_value || y[i] == storage::min_value) {
                return false;
            }
            int64_t xi = 0;
            int64_t yi = 0;
            auto [xe, xc] = std::from_chars(x[i].data(), x[i].data() + x[i].size(), xi);
            auto [ye, yc] = std::from_chars(y[i].data(), y[i].data() + y[i].size(), yi);
            if (xc == std::errc{} && yc == std::errc{} && xe == x[i].data() + x[i].size() &&
                ye == y[i].data() + y[i].size()) {
                return xi < yi;
            }
            return x[i] < y[i];
        }
        return false;
    };
    return below(a.lower, b.upper) && below(b.lower, a.upper);
}

bool values_overlap(const storage::partition& a, const storage::partition& b) {
    return std::any_of(a.values.begin(), a.values.end(), [&](const auto& v) {
        return std::find(b.values.begin(), b.values.end(), v) != b.values.end();
    });
}

/// An existing table the snapshot's table may go into: same key type, key columns and base
/// columns, partitioning, distribution, and the same materialized indexes (by name, each with the
/// same columns): the restored segment files are read under the existing table's definition.
job_result<std::map<object_id, object_id>> check_existing(const storage::table& local, const storage::table& remote,
                                                          const std::string& name) {
    auto same_names = [](const std::vector<std::string>& a, const std::vector<std::string>& b) {
        return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                          [](const std::string& x, const std::string& y) { return storage::iequals(x, y); });
    };
    if (local.keys != remote.keys) {
        return refused(fmt::format("Table {} already exist but with different key type", name));
    }
    if (!same_names(local.key_columns, remote.key_columns)) {
        return refused(fmt::format("Table {} already exist but with different schema, errMsg: its key columns are "
                                   "({}), the snapshot's table's ({})",
                                   name, fmt::join(local.key_columns, ", "), fmt::join(remote.key_columns, ", ")));
    }
    if (local.columns.size() != remote.columns.size()) {
        return refused(fmt::format("Table {} already exist but with different schema, errMsg: the snapshot's "
                                   "table has {} columns, the existing table {}",
                                   name, remote.columns.size(), local.columns.size()));
    }
    for (size_t i = 0; i < local.columns.size(); ++i) {
        if (!same_column(local.columns[i], remote.columns[i])) {
            return refused(fmt::format("Table {} already exist but column: {} in existed table is different from "
                                       "the column in backup snapshot, column: {}",
                                       name, column_text(local.columns[i]), column_text(remote.columns[i])));
        }
    }
    if (local.partitioning.kind != remote.partitioning.kind ||
        !same_names(local.partitioning.columns, remote.partitioning.columns)) {
        return refused(fmt::format("Table {} already exist but with different schema, errMsg: different "
                                   "partitioning",
                                   name));
    }
    // Rows of one key must stay in one tablet: restored partitions are bucketed as the snapshot's
    // table was, later loads as this one is.
    if (local.dist.random != remote.dist.random || !same_names(local.dist.columns, remote.dist.columns)) {
        auto text = [](const storage::distribution& d) {
            return d.random || d.columns.empty() ? std::string("RANDOM")
                                                 : fmt::format("HASH({})", fmt::join(d.columns, ", "));
        };
        return refused(fmt::format("Table {} already exist but with different schema, errMsg: it is distributed "
                                   "by {}, the snapshot's table by {}",
                                   name, text(local.dist), text(remote.dist)));
    }
    std::map<object_id, object_id> index_ids;
    for (size_t i = 0; i < remote.indexes.size(); ++i) {
        // The base index is named as its table, which a rename changes.
        const storage::materialized_index* mine = i == 0 ? &local.indexes.at(0) : local.find_index(remote.indexes[i].name);
        if (mine == nullptr) {
            return refused(fmt::format("Table {} already exist but with different schema, errMsg: it has no "
                                       "materialized index {}",
                                       name, remote.indexes[i].name));
        }
        const auto& theirs = remote.indexes[i];
        if (i != 0 && !std::equal(mine->columns.begin(), mine->columns.end(), theirs.columns.begin(),
                                  theirs.columns.end(), same_column)) {
            return refused(fmt::format("Table {} already exist but with different schema, errMsg: its materialized "
                                       "index {} has other columns than the snapshot's",
                                       name, theirs.name));
        }
        index_ids[theirs.id] = mine->id;
    }
    if (local.indexes.size() != remote.indexes.size()) {
        return refused(fmt::format("Table {} already exist but with different schema, errMsg: it has {} "
                                   "materialized indexes, the snapshot's table {}",
                                   name, local.indexes.size(), remote.indexes.size()));
    }
    return index_ids;
}

/// `name` is a synchronous materialized view (an index) of a table of `d`, or of a table the
/// restore creates: such names are unique in a database, as table, view and MV names are.
bool index_named(const storage::database* d, const restore_staging& out, const std::string& name) {
    auto has = [&](const storage::table& t) { return t.find_index(name) != nullptr; };
    bool local = d != nullptr &&
                 std::any_of(d->tables.begin(), d->tables.end(), [&](const auto& e) { return has(e.second); });
    return local || std::any_of(out.commit.tables.begin(), out.commit.tables.end(), has);
}

job_result<void> stage_table(id_mapper& ids, const storage::catalog& catalog, const storage::table& remote,
                             const restored_object& o, const std::string& db, restore_staging& out) {
    std::vector<const storage::partition*> chosen;
    for (const auto& p : remote.partitioning.partitions) {
        if (o.partitions.empty() ||
            std::find(o.partitions.begin(), o.partitions.end(), p.name) != o.partitions.end()) {
            chosen.push_back(&p);
        }
    }
    const storage::database* d = catalog.find_database(db);
    const storage::table* local = d == nullptr ? nullptr : catalog.find_table(db, o.local_name);
    if (local == nullptr) {
        if ((d != nullptr && (d->views.contains(o.local_name) || d->mvs.contains(o.local_name))) ||
            index_named(d, out, o.local_name)) {
            return refused(fmt::format("Table {} already exist but it is a view or a materialized view",
                                       o.local_name));
        }
        for (size_t i = 1; i < remote.indexes.size(); ++i) {
            const std::string& mv = remote.indexes[i].name;
            if ((d != nullptr && (d->tables.contains(mv) || d->views.contains(mv) || d->mvs.contains(mv))) ||
                index_named(d, out, mv)) {
                return refused(fmt::format("Table {} can not be restored: its materialized view {} has the name of "
                                           "an existing table, view or materialized view",
                                           o.local_name, mv));
            }
        }
        storage::table fresh = remote;
        fresh.id = ids.take();
        fresh.name = o.local_name;
        std::map<object_id, object_id> index_ids;
        for (size_t i = 0; i < fresh.indexes.size(); ++i) {
            object_id id = ids.take();
            index_ids[fresh.indexes[i].id] = id;
            fresh.indexes[i].id = id;
        }
        fresh.indexes.at(0).name = o.local_name;
        fresh.partitioning.partitions.clear();
        for (const auto* p : chosen) {
            fresh.partitioning.partitions.push_back(ids.renew(*p, index_ids));
            if (fresh.partitioning.kind == storage::partition_kind::none) {
                fresh.partitioning.partitions.back().name = o.local_name;  // named as its table, as always
            }
        }
        out.commit.tables.push_back(std::move(fresh));
        return {};
    }
    auto index_ids = check_existing(*local, remote, o.local_name);
    if (!index_ids) {
        return index_ids.error();
    }
    storage::ops::restored_partitions change{local->name, local->id, {}, {}};
    bool single = local->partitioning.kind == storage::partition_kind::none;
    for (const auto* p : chosen) {
        // An unpartitioned table's one partition is named as its table, which AS may change.
        const storage::partition* mine = single && !local->partitioning.partitions.empty()
                                             ? &local->partitioning.partitions.front()
                                             : local->find_partition(p->name);
        if (mine != nullptr) {
            if (mine->lower != p->lower || mine->upper != p->upper || mine->values != p->values) {
                return refused(fmt::format("Partition {} in table {} has different range with partition in "
                                           "repository",
                                           p->name, o.local_name));
            }
            storage::partition fresh = ids.renew(*p, *index_ids);
            fresh.name = mine->name;
            change.replaced.push_back(std::move(fresh));
            continue;
        }
        if (local->partitioning.kind == storage::partition_kind::none) {
            return refused(fmt::format("No partition exist in single partitioned table {}", o.local_name));
        }
        for (const auto& other : local->partitioning.partitions) {
            bool conflict = local->partitioning.kind == storage::partition_kind::range ? ranges_overlap(*p, other)
                                                                                        : values_overlap(*p, other);
            if (conflict) {
                return refused(fmt::format("Partition {} in table {} has conflict range with existing ranges",
                                           p->name, o.local_name));
            }
        }
        change.added.push_back(ids.renew(*p, *index_ids));
    }
    out.locked_tables.push_back(local->name);
    out.commit.partitions.push_back(std::move(change));
    return {};
}

/// "db.t" of a base table, after the restore's renames of the tables it restores.
std::string renamed_base(const std::string& base, const std::string& snapshot_db, const restore_selection& s) {
    std::string prefix = snapshot_db + ".";
    if (!base.starts_with(prefix)) {
        return base;
    }
    std::string table = base.substr(prefix.size());
    for (const auto& t : s.tables) {
        if (t.name == table) {
            return s.target_db + "." + t.local_name;
        }
    }
    return base;
}

/// The segment files of each new tablet as rowsets: a source rowset ("<rowset>_<n>.dat") gets
/// one new id across every tablet, and the version it was published at. A manifest without
/// versions (written before they were kept) gets versions that end at the partition's visible
/// version in the order of the rowsets' ids, which is their publishing order unless loads ran
/// concurrently.
job_result<void> stage_files(id_mapper& ids, const snapshot_contents& snapshot, restore_staging& out) {
    std::map<object_id, const storage::partition*> partition_of;  // new tablet -> new partition
    auto note = [&](const storage::partition& p) {
        for (const auto& index : p.tablets) {
            for (object_id t : index.tablet_ids) {
                partition_of[t] = &p;
            }
        }
    };
    for (const auto& t : out.commit.tables) {
        std::for_each(t.partitioning.partitions.begin(), t.partitioning.partitions.end(), note);
    }
    for (const auto& c : out.commit.partitions) {
        std::for_each(c.replaced.begin(), c.replaced.end(), note);
        std::for_each(c.added.begin(), c.added.end(), note);
    }
    for (const auto& mv : out.commit.mvs) {
        note(mv.storage);
    }
    // Source rowset id of a file name; a name not of our form (the id's digits as we write
    // them: "05_0.dat" is not rowset 5) is a rowset of its own.
    auto rowset_of = [](const std::string& name, uint64_t fallback) -> std::pair<uint64_t, std::string> {
        auto underscore = name.find('_');
        uint64_t id = 0;
        if (underscore != std::string::npos) {
            auto [end, ec] = std::from_chars(name.data(), name.data() + underscore, id);
            if (ec == std::errc{} && end == name.data() + underscore &&
                std::to_string(id) == std::string_view(name).substr(0, underscore)) {
                return {id, name.substr(underscore)};
            }
        }
        return {fallback, "_0.dat"};
    };
    // Two entries staged under one name would write one file, each checked on its own bytes.
    std::set<std::pair<object_id, std::string>> staged_names;
    std::map<object_id, std::map<uint64_t, std::vector<storage::segment_file>>> tablet_files;
    std::map<std::pair<object_id, uint64_t>, int64_t> published;  // (new tablet, source rowset) -> version
    std::map<const storage::partition*, std::set<uint64_t>> partition_rowsets;
    std::map<uint64_t, object_id> new_rowset;
    uint64_t foreign = 0;
    for (const auto& f : snapshot.manifest.files) {
        auto mapped = ids.tablets.find(static_cast<object_id>(f.tablet_id));
        if (mapped == ids.tablets.end()) {
            continue;  // a tablet of something this restore does not take
        }
        auto [source_rowset, suffix] = rowset_of(f.name, (uint64_t{1} << 63) + foreign++);
        auto [it, fresh] = new_rowset.try_emplace(source_rowset, 0);
        if (fresh) {
            it->second = ids.take();
        }
        std::string name = fmt::format("{}{}", it->second, suffix);
        if (!staged_names.emplace(mapped->second, name).second) {
            return refused(fmt::format("The snapshot's manifest lists file {} of tablet {} twice", f.name,
                                       f.tablet_id));
        }
        tablet_files[mapped->second][source_rowset].push_back(storage::segment_file{name, f.size, f.rows,
                                                                                    f.segment_checksum});
        partition_rowsets[partition_of.at(mapped->second)].insert(source_rowset);
        if (f.version > 0) {
            published[{mapped->second, source_rowset}] = f.version;
        }
        out.files.push_back(restore_download{f.key, f.packed, f.offset, f.size, f.hash, f.segment_checksum,
                                             mapped->second, std::move(name)});
    }
    for (auto& [tablet, by_rowset] : tablet_files) {
        const storage::partition* p = partition_of.at(tablet);
        const auto& ranked = partition_rowsets.at(p);
        storage::ops::restored_tablet restored{tablet, {}};
        for (auto& [source, files] : by_rowset) {
            auto rank = static_cast<int64_t>(std::distance(ranked.begin(), ranked.find(source)));
            auto recorded = published.find({tablet, source});
            int64_t version = recorded != published.end()
                                  ? recorded->second
                                  : std::max<int64_t>(2, p->visible_version -
                                                             (static_cast<int64_t>(ranked.size()) - 1 - rank));
            restored.rowsets.push_back(storage::rowset{new_rowset.at(source), version, std::move(files)});
        }
        // A tablet lists its rowsets in publishing order, as loads append them: reads merge in
        // that order (the last version of a key wins).
        std::stable_sort(restored.rowsets.begin(), restored.rowsets.end(),
                         [](const storage::rowset& a, const storage::rowset& b) { return a.version < b.version; });
        out.commit.tablets.push_back(std::move(restored));
    }
    return {};
}

}  // namespace

job_result<restore_staging> stage_restore(storage::catalog& catalog, const snapshot_contents& snapshot,
                                          const restore_selection& selection) {
    restore_staging out;
    id_mapper ids{catalog, {}};
    const storage::database& objects = snapshot.meta.objects;
    for (const auto& o : selection.catalogs) {
        if (storage::iequals(o.local_name, "default_catalog")) {
            return refused("Do not support set alias as default catalog for external catalog restore");
        }
        if (catalog.find_external_catalog(o.local_name) != nullptr) {
            return refused(fmt::format("Failed to restore external catalog, errmsg: Catalog '{}' already exists",
                                       o.local_name));
        }
        auto it = std::find_if(snapshot.meta.catalogs.begin(), snapshot.meta.catalogs.end(),
                               [&](const auto& c) { return c.name == o.name; });
        if (it == snapshot.meta.catalogs.end()) {
            return refused(fmt::format("Can not find restore catalog: {}", o.name));
        }
        storage::external_catalog c = *it;
        c.id = ids.take();
        c.name = o.local_name;
        out.commit.catalogs.push_back(std::move(c));
    }
    if (selection.target_db.empty()) {
        return out;
    }
    const std::string& db = selection.target_db;
    out.commit.db = db;
    const storage::database* local_db = catalog.find_database(db);
    if (local_db == nullptr) {
        storage::database fresh;
        fresh.id = ids.take();
        fresh.name = db;
        fresh.props = objects.props;
        out.commit.new_database = std::move(fresh);
    }
    for (const auto& o : selection.tables) {
        auto it = objects.tables.find(o.name);
        if (it == objects.tables.end()) {
            return refused(fmt::format("Table {} does not exist in snapshot {}", o.name, snapshot.info.name));
        }
        if (auto staged = stage_table(ids, catalog, it->second, o, db, out); !staged) {
            return staged.error();
        }
    }
    for (const auto& o : selection.views) {
        auto it = objects.views.find(o.name);
        if (it == objects.views.end()) {
            return refused(fmt::format("Table {} does not exist in snapshot {}", o.name, snapshot.info.name));
        }
        if ((local_db != nullptr && (local_db->tables.contains(o.local_name) || local_db->mvs.contains(o.local_name))) ||
            index_named(local_db, out, o.local_name)) {
            return refused(fmt::format("Table: {} has existed and it is not a View", o.local_name));
        }
        storage::view v = it->second;
        v.id = ids.take();
        v.name = o.local_name;
        out.commit.views.push_back(std::move(v));
    }
    std::set<std::string> restored_tables;
    for (const auto& t : out.commit.tables) {
        restored_tables.insert(db + "." + t.name);
    }
    for (const auto& o : selection.materialized_views) {
        auto it = objects.mvs.find(o.name);
        if (it == objects.mvs.end()) {
            return refused(fmt::format("Table {} does not exist in snapshot {}", o.name, snapshot.info.name));
        }
        if (local_db != nullptr && local_db->mvs.contains(o.local_name)) {
            continue;  // StarRocks keeps a local materialized view of that name as it is
        }
        if ((local_db != nullptr && (local_db->tables.contains(o.local_name) || local_db->views.contains(o.local_name))) ||
            index_named(local_db, out, o.local_name)) {
            return refused(fmt::format("Table: {} has existed and it is not a materialized view", o.local_name));
        }
        storage::materialized_view mv = it->second;
        mv.id = ids.take();
        mv.name = o.local_name;
        std::map<object_id, object_id> index_ids{{it->second.id, mv.id}};
        if (!mv.columns.empty()) {
            mv.storage = ids.renew(it->second.storage, index_ids);
            mv.storage.name = mv.name;
        }
        std::string reason;
        for (auto& base : mv.base_tables) {
            std::string original = base;
            base = renamed_base(base, snapshot.info.database, selection);
            auto dot = base.find('.');
            bool present = restored_tables.contains(base) ||
                           (dot != std::string::npos &&
                            catalog.find_table(base.substr(0, dot), base.substr(dot + 1)) != nullptr);
            if (!present && reason.empty()) {
                reason = fmt::format("base-table missing: {}", base);
            }
            // Its query still names the table as it was: a refresh would read the original.
            if (base != original && mv.query_text.find(original) != std::string::npos && reason.empty()) {
                reason = fmt::format("base-table {} was restored as {}, and the view's query names {}", original,
                                     base, original);
            }
        }
        // Inactive until every base table is here under the names its query uses; ALTER
        // MATERIALIZED VIEW ... ACTIVE then.
        mv.active = reason.empty();
        mv.inactive_reason = reason;
        out.commit.mvs.push_back(std::move(mv));
    }
    for (const auto& o : selection.functions) {
        bool found = false;
        for (const auto& f : objects.functions) {
            if (f.name != o.name) {
                continue;
            }
            found = true;
            storage::function fn = f;
            fn.id = ids.take();
            fn.name = o.local_name;
            fn.global = false;
            out.commit.functions.push_back(std::move(fn));
        }
        if (!found) {
            return refused(fmt::format("Can not find restore function: {}", o.name));
        }
    }
    if (auto staged = stage_files(ids, snapshot, out); !staged) {
        return staged.error();
    }
    return out;
}

namespace json = boost::json;

// Written a piece at a time: the commit record as the storage layer writes it, then one file at a
// time (append_json_list), with no document of them all.
std::string encode_staging(const restore_staging& staging) {
    std::string out = R"({"commit":)";
    out += storage::encode_entry(storage::journal_entry{0, staging.commit});
    out += R"(,"locked_tables":)";
    out += json::serialize(json::array(staging.locked_tables.begin(), staging.locked_tables.end()));
    out += ',';
    append_json_list(out, "files", staging.files.size(), [&](size_t i) {
        const restore_download& f = staging.files[i];
        return json::array{json::value(f.key),  json::value(f.packed),           json::value(f.offset),
                           json::value(f.size), json::value(f.hash.hex()),       json::value(f.segment_checksum),
                           json::value(f.tablet_id), json::value(f.name)};
    });
    out += '}';
    return out;
}

job_result<restore_staging> decode_staging(std::string_view text) {
    auto bad = [](std::string_view why) {
        return make_job_error(status_code::bad_file, fmt::format("the job's restore plan is damaged: {}", why));
    };
    restore_staging out;
    try {
        std::error_code ec;
        json::value doc = parse_document(text, ec);
        if (ec) {
            return bad(ec.message());
        }
        const json::object& root = doc.as_object();
        auto entry = storage::decode_entry(json::serialize(root.at("commit")));
        if (!entry) {
            return bad(entry.error().message);
        }
        const auto* commit = std::get_if<storage::ops::publish_restore>(&entry->change);
        if (commit == nullptr) {
            return bad("not a restore record");
        }
        out.commit = *commit;
        const json::array& files = root.at("files").as_array();
        out.files.reserve(files.size());
        for (const auto& f : files) {
            const json::array& a = f.as_array();
            auto hash = parse_hash128(a.at(4).as_string());
            if (!hash) {
                return bad("a file's hash is not 32 hex digits");
            }
            out.files.push_back(restore_download{std::string(a.at(0).as_string()), a.at(1).as_bool(),
                                                 a.at(2).to_number<uint64_t>(), a.at(3).to_number<uint64_t>(), *hash,
                                                 a.at(5).to_number<uint64_t>(), a.at(6).to_number<int64_t>(),
                                                 std::string(a.at(7).as_string())});
        }
        for (const auto& t : root.at("locked_tables").as_array()) {
            out.locked_tables.emplace_back(t.as_string());
        }
    } catch (const std::exception& e) {
        return bad(e.what());
    }
    return out;
}

std::string staging_dir(const std::string& data_dir, uint64_t job_id) {
    return job_snapshot_dir(data_dir, job_id) + "/staging";
}

std::string staging_tablet_dir(const std::string& data_dir, uint64_t job_id, int64_t tablet_id) {
    return fmt::format("{}/{}", staging_dir(data_dir, job_id), tablet_id);
}

}  // namespace tv::jobs
