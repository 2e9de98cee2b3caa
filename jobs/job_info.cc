// SPDX-License-Identifier: Apache-2.0
// Job-info JSON: StarRocks' shape on the outside, our keys alongside, strict on the way in.
#include "jobs/job_info.hh"

#include "io/printable.hh"

#include "jobs/json_fields.hh"
#include "remote/object_store.hh"
#include "remote/snapshot_layout.hh"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <charconv>
#include <limits>
#include <optional>

namespace tv::jobs {

namespace json = boost::json;

namespace {

constexpr size_t max_json_depth = 16;

constexpr size_t max_name_bytes = 1024;

job_error bad(std::string_view key, std::string_view what) {
    return make_job_error(status_code::bad_file, fmt::format("snapshot info {} is not valid: {}", key, what));
}

json::object objects_of(const job_info& info, bool with_ids) {
    json::object tables;
    for (const auto& t : info.tables) {
        json::object partitions;
        for (const auto& p : t.partitions) {
            json::object part;
            if (with_ids) {
                json::object indexes;
                for (const auto& i : p.indexes) {
                    json::object tablets;
                    json::array order;
                    for (int64_t tablet : i.tablets) {
                        tablets[std::to_string(tablet)] = json::array();  // files are in the manifest
                        order.push_back(json::value(std::to_string(tablet)));
                    }
                    indexes[i.name] = json::object{{"id", i.id},
                                                   {"schema_hash", i.schema_hash},
                                                   {"tablets", std::move(tablets)},
                                                   {"tablets_order", std::move(order)}};
                }
                part = json::object{{"id", p.id}, {"version", p.version}, {"version_hash", 0},
                                    {"indexes", std::move(indexes)}};
            }
            partitions[p.name] = std::move(part);
        }
        json::object table{{"partitions", std::move(partitions)}};
        if (with_ids) {
            table["id"] = t.id;
        }
        tables[t.name] = std::move(table);
    }
    return tables;
}

/// Gson's pretty form with an indent of one space: `{\n "k": v,\n ...\n}`; empty containers
/// print as {} and [].
void pretty(const json::value& v, std::string& out, int depth) {
    auto newline = [&](int d) {
        out += '\n';
        out.append(static_cast<size_t>(d), ' ');
    };
    if (const json::object* o = v.if_object()) {
        if (o->empty()) {
            out += "{}";
            return;
        }
        out += '{';
        bool first = true;
        for (const auto& [k, item] : *o) {
            if (!first) {
                out += ',';
            }
            first = false;
            newline(depth + 1);
            out += json::serialize(json::value(k));
            out += ": ";
            pretty(item, out, depth + 1);
        }
        newline(depth);
        out += '}';
    } else if (const json::array* a = v.if_array()) {
        if (a->empty()) {
            out += "[]";
            return;
        }
        out += '[';
        bool first = true;
        for (const auto& item : *a) {
            if (!first) {
                out += ',';
            }
            first = false;
            newline(depth + 1);
            pretty(item, out, depth + 1);
        }
        newline(depth);
        out += ']';
    } else {
        out += json::serialize(v);
    }
}

json::array strings(const std::vector<std::string>& items) {
    json::array out;
    for (const auto& s : items) {
        out.push_back(json::value(s));
    }
    return out;
}

}  // namespace

std::string encode_job_info(const job_info& info) {
    json::object root{
        {"name", info.name},
        {"database", info.database},
        {"id", info.db_id},
        {"backup_time", info.backup_time_ms},
        {"meta_version", 1},
        {"starrocks_meta_version", 1},
        {"backup_result", "succeed"},
        {"backup_objects", objects_of(info, true)},
        {"functions", strings(info.functions)},
        {"catalogs", strings(info.catalogs)},
        {"tabletvault_format_version", info.format_version},
        {"cluster_id", info.cluster_id},
        {"meta_key", info.meta_key},
        {"manifest_key", info.manifest_key},
    };
    if (info.expire_time_ms > 0) {
        root["expire_time"] = info.expire_time_ms;
    }
    return json::serialize(root);
}

std::string brief_job_info(const job_info& info) {
    json::object root{
        {"name", info.name},
        {"database", info.database},
        {"backup_time", info.backup_time_ms},
        {"backup_result", "succeed"},
        {"backup_objects", objects_of(info, false)},
    };
    if (!info.functions.empty()) {
        root["functions"] = strings(info.functions);
    }
    if (!info.catalogs.empty()) {
        root["catalogs"] = strings(info.catalogs);
    }
    std::string out;
    pretty(root, out, 0);
    return out;
}

job_result<job_info> decode_job_info(std::string_view text, std::string_view object_key) {
    auto parsed = parse_untrusted_object(text, max_json_depth, fmt::format("snapshot info {}", object_key));
    if (!parsed) {
        return parsed.error();
    }
    const json::object* root = &*parsed;
    auto str = [&](std::string_view name) { return string_of(root->if_contains(name)); };
    // Every number is kept as int64: a larger one (no id or time of ours is) is refused, not
    // wrapped negative into an info object that would not read back.
    std::optional<std::string> out_of_range;
    auto num = [&out_of_range](const json::value* v) -> std::optional<uint64_t> {
        auto n = unsigned_of(v);
        if (n && *n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
            out_of_range = fmt::format("the number {} is out of range", *n);
            return std::nullopt;
        }
        return n;
    };
    job_info info;
    auto version = num(root->if_contains("tabletvault_format_version"));
    if (!version) {
        return bad(object_key, "no tabletvault_format_version (not written by tabletvault)");
    }
    if (*version > static_cast<uint64_t>(remote::repository_format_version)) {
        return make_job_error(status_code::unsupported,
                              fmt::format("snapshot info {} has format version {}, newer than this server reads "
                                          "({}); upgrade tabletvault to restore it",
                                          object_key, *version, remote::repository_format_version));
    }
    info.format_version = static_cast<int64_t>(*version);
    auto name = str("name");
    auto database = str("database");
    auto cluster = str("cluster_id");
    auto meta_key = str("meta_key");
    auto manifest_key = str("manifest_key");
    auto db_id = num(root->if_contains("id"));
    auto time = num(root->if_contains("backup_time"));
    const json::value* objects = root->if_contains("backup_objects");
    if (out_of_range) {
        return bad(object_key, *out_of_range);
    }
    if (!name || !database || !cluster || !meta_key || !manifest_key || !db_id || !time || objects == nullptr ||
        !objects->is_object()) {
        return bad(object_key, "a required field is missing or of the wrong type");
    }
    // Names a server accepts are far shorter (labels 128 bytes, other names 1024): longer ones
    // are not a snapshot of ours, and would only travel on into job records and messages.
    for (const std::string* text : {&*name, &*database, &*cluster}) {
        if (text->size() > max_name_bytes) {
            return bad(object_key, fmt::format("a name of {} bytes ('{}')", text->size(), printable_value(*text, 64)));
        }
    }
    for (const std::string* key : {&*meta_key, &*manifest_key}) {
        // Empty in a job's own snapshot cut, before the meta is saved; never in a repository's.
        if (key->empty()) {
            continue;
        }
        if (auto why = remote::check_key(*key)) {
            return bad(object_key, *why);
        }
    }
    info.name = std::move(*name);
    info.database = std::move(*database);
    info.cluster_id = std::move(*cluster);
    info.meta_key = std::move(*meta_key);
    info.manifest_key = std::move(*manifest_key);
    info.db_id = static_cast<int64_t>(*db_id);
    info.backup_time_ms = static_cast<int64_t>(*time);
    if (const json::value* expire = root->if_contains("expire_time"); expire != nullptr) {
        // Up to the last millisecond of year 9999, which every date formatter can print.
        constexpr uint64_t latest_ms = 253402300799999;
        auto when = num(expire);
        if (!when || *when > latest_ms) {
            return bad(object_key, "expire_time is not a time in milliseconds");
        }
        info.expire_time_ms = static_cast<int64_t>(*when);
    }
    for (const auto& [table_name, table_value] : objects->get_object()) {
        const json::object* t = table_value.if_object();
        const json::value* parts = t != nullptr ? t->if_contains("partitions") : nullptr;
        if (parts == nullptr || !parts->is_object()) {
            return bad(object_key, fmt::format("table '{}' has no partitions object", std::string(table_name)));
        }
        info_table table;
        table.name = table_name;
        table.id = static_cast<int64_t>(num(t->if_contains("id")).value_or(0));
        for (const auto& [part_name, part_value] : parts->get_object()) {
            const json::object* p = part_value.if_object();
            const json::value* indexes = p != nullptr ? p->if_contains("indexes") : nullptr;
            if (indexes == nullptr || !indexes->is_object()) {
                return bad(object_key, fmt::format("partition '{}' of '{}' has no indexes object",
                                                   std::string(part_name), std::string(table_name)));
            }
            info_partition partition;
            partition.name = part_name;
            partition.id = static_cast<int64_t>(num(p->if_contains("id")).value_or(0));
            partition.version = static_cast<int64_t>(num(p->if_contains("version")).value_or(0));
            for (const auto& [index_name, index_value] : indexes->get_object()) {
                const json::object* i = index_value.if_object();
                const json::value* order = i != nullptr ? i->if_contains("tablets_order") : nullptr;
                if (order == nullptr || !order->is_array()) {
                    return bad(object_key, fmt::format("index '{}' has no tablets_order", std::string(index_name)));
                }
                info_index index;
                index.name = index_name;
                index.id = static_cast<int64_t>(num(i->if_contains("id")).value_or(0));
                index.schema_hash = static_cast<int64_t>(num(i->if_contains("schema_hash")).value_or(0));
                for (const auto& tablet : order->get_array()) {
                    int64_t id = 0;
                    const json::string* s = tablet.if_string();
                    bool valid = s != nullptr;
                    if (valid) {
                        auto [end, parse_ec] = std::from_chars(s->data(), s->data() + s->size(), id);
                        valid = parse_ec == std::errc{} && end == s->data() + s->size();
                    }
                    if (!valid) {
                        return bad(object_key, fmt::format("index '{}' lists a tablet that is not an id",
                                                           std::string(index_name)));
                    }
                    index.tablets.push_back(id);
                }
                partition.indexes.push_back(std::move(index));
            }
            table.partitions.push_back(std::move(partition));
        }
        info.tables.push_back(std::move(table));
    }
    for (auto [field, target] : {std::pair{"functions", &info.functions}, std::pair{"catalogs", &info.catalogs}}) {
        if (const json::value* list = root->if_contains(field); list != nullptr && list->is_array()) {
            for (const auto& item : list->get_array()) {
                if (item.is_string()) {
                    target->push_back(std::string(item.get_string()));
                }
            }
        }
    }
    if (out_of_range) {
        return bad(object_key, *out_of_range);  // an id of a table, partition, index or tablet
    }
    return info;
}

}  // namespace tv::jobs
