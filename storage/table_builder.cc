// SPDX-License-Identifier: Apache-2.0
// CREATE TABLE and ADD PARTITION validation with StarRocks' rules and wording.
#include "storage/table_builder.hh"

#include "io/printable.hh"
#include "storage/values.hh"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace tv::storage {

namespace {

storage_error bad(std::string message) {
    return make_error(storage_errc::bad_definition, std::move(message));
}

bool can_be_key(const column_type& t) {
    return !t.is_floating() && t.kind != type_kind::json;
}

storage_result<void> check_key_type(const column& c) {
    if (c.type.is_floating()) {
        return bad("Float or double can not used as a key, use decimal instead.");
    }
    if (c.type.kind == type_kind::json) {
        return bad(fmt::format("JSON column '{}' can not be used as a key", c.name));
    }
    return {};
}

std::vector<std::string> default_key_columns(const table_definition& def) {
    std::vector<std::string> keys;
    for (const auto& c : def.columns) {
        bool wanted = def.keys == key_model::aggregate ? c.agg == aggregation::none
                                                       : keys.size() < 3 && can_be_key(c.type);
        if (!wanted) {
            break;
        }
        keys.push_back(c.name);
    }
    return keys;
}

storage_result<void> check_keys(const table_definition& def, std::vector<column>& columns,
                                std::vector<std::string>& keys) {
    if (keys.empty()) {
        if (def.keys == key_model::unique || def.keys == key_model::primary) {
            return bad(fmt::format("Key columns must be specified for {} tables", key_model_name(def.keys)));
        }
        keys = default_key_columns(def);
        if (keys.empty()) {
            return bad(fmt::format("Cannot choose key columns for table '{}': its first column cannot be a key; "
                                   "name them with {}(...)",
                                   def.name, key_model_name(def.keys)));
        }
    }
    if (keys.size() > columns.size()) {
        return bad("Key columns should be a ordered prefix of the schema.");
    }
    for (size_t i = 0; i < keys.size(); ++i) {
        auto found = std::find_if(columns.begin(), columns.end(), [&](const column& c) { return iequals(c.name, keys[i]); });
        if (found == columns.end()) {
            return bad(fmt::format("Key column '{}' does not exist in table '{}'", keys[i], def.name));
        }
        if (!iequals(columns[i].name, keys[i])) {
            return bad("Key columns should be a ordered prefix of the schema.");
        }
        column& c = columns[i];
        keys[i] = c.name;  // the schema's spelling
        if (auto e = check_key_type(c); !e) {
            return e;
        }
        if (c.agg != aggregation::none) {
            return bad(fmt::format("Key column '{}' can not have an aggregation ({})", c.name, aggregation_name(c.agg)));
        }
        if (def.keys == key_model::primary && c.nullable) {
            return bad(fmt::format("Primary key column '{}' can not be nullable", c.name));
        }
        c.is_key = true;
    }
    return {};
}

storage_result<void> check_aggregation(const table_definition& def, const column& c) {
    if (c.is_key) {
        return {};
    }
    if (def.keys != key_model::aggregate) {
        if (c.agg != aggregation::none) {
            return bad(fmt::format("Aggregation {} of column '{}' is only allowed in AGGREGATE KEY tables",
                                   aggregation_name(c.agg), c.name));
        }
        return {};
    }
    switch (c.agg) {
    case aggregation::none:
        return bad(fmt::format("Value column '{}' of an AGGREGATE KEY table needs an aggregation "
                               "(SUM, MIN, MAX, REPLACE, REPLACE_IF_NOT_NULL)",
                               c.name));
    case aggregation::sum:
        if (!c.type.is_integer() && !c.type.is_floating() && c.type.kind != type_kind::decimal) {
            return bad(fmt::format("SUM can not be used on {} column '{}'", c.type.to_sql(), c.name));
        }
        return {};
    case aggregation::hll_union:
    case aggregation::bitmap_union:
        return bad(fmt::format("{} needs an HLL or BITMAP column; '{}' is {}", aggregation_name(c.agg), c.name,
                               c.type.to_sql()));
    default:
        return {};
    }
}

storage_result<void> check_default(const column& c) {
    if (!c.default_value) {
        return {};
    }
    const column_default& d = *c.default_value;
    switch (d.kind) {
    case default_kind::null:
        if (!c.nullable) {
            return bad(fmt::format("Invalid default value for '{}': the column is NOT NULL", c.name));
        }
        return {};
    case default_kind::current_timestamp:
        if (c.type.kind != type_kind::datetime) {
            return bad(fmt::format("Invalid default value for '{}': CURRENT_TIMESTAMP needs a DATETIME column",
                                   c.name));
        }
        return {};
    case default_kind::literal: {
        if (auto v = normalize_value(c.type, d.text); !v) {
            return bad(fmt::format("Invalid default value for '{}': {}", c.name, v.error().message));
        }
        return {};
    }
    }
    return {};
}

bool range_partition_type(const column_type& t) {
    return t.is_integer() || t.kind == type_kind::date || t.kind == type_kind::datetime;
}

bool list_partition_type(const column_type& t) {
    return t.is_integer() || t.is_string() || t.kind == type_kind::boolean || t.kind == type_kind::date ||
           t.kind == type_kind::datetime;
}

storage_result<void> check_partitioning(const table_definition& def, table& t) {
    partition_info& info = t.partitioning;
    info.kind = def.partition_by;
    if (def.partition_by == partition_kind::none) {
        return {};
    }
    const char* what = def.partition_by == partition_kind::range ? "Range" : "List";
    if (def.partition_columns.empty()) {
        return bad(fmt::format("{} partitioning needs at least one column", what));
    }
    for (const auto& name : def.partition_columns) {
        const column* c = t.find_column(name);
        if (c == nullptr) {
            return bad(fmt::format("Partition column '{}' does not exist in table '{}'", name, t.name));
        }
        if (std::count_if(info.columns.begin(), info.columns.end(), [&](const auto& n) { return iequals(n, name); })) {
            return bad(fmt::format("Duplicate partition column '{}'", name));
        }
        bool allowed = def.partition_by == partition_kind::range ? range_partition_type(c->type)
                                                                 : list_partition_type(c->type);
        if (!allowed) {
            return bad(fmt::format("{} partition column '{}' can not be {}", what, c->name, c->type.to_sql()));
        }
        if (t.keys != key_model::duplicate && !c->is_key) {
            return bad(fmt::format("Partition column '{}' must be a key column of a {} table", c->name,
                                   key_model_name(t.keys)));
        }
        info.columns.push_back(c->name);
    }
    return {};
}

storage_result<void> check_buckets(int buckets) {
    if (buckets < 1 || buckets > max_buckets) {
        return bad(fmt::format("Number of buckets should be between 1 and {}, got {}", max_buckets, buckets));
    }
    return {};
}

storage_result<void> check_distribution(const table_definition& def, table& t) {
    if (!def.dist) {
        t.dist.random = t.keys == key_model::duplicate;
        if (!t.dist.random) {
            t.dist.columns = t.key_columns;
        }
        t.dist.buckets = default_buckets;
        return {};
    }
    const distribution& d = *def.dist;
    t.dist.random = d.random;
    t.dist.buckets = d.buckets == 0 ? default_buckets : d.buckets;
    if (auto e = check_buckets(t.dist.buckets); !e) {
        return e;
    }
    if (d.random) {
        if (t.keys != key_model::duplicate) {
            return bad(fmt::format("Random distribution is only supported for DUPLICATE KEY tables, not {}",
                                   key_model_name(t.keys)));
        }
        return {};
    }
    if (d.columns.empty()) {
        return bad("Hash distribution needs at least one column");
    }
    for (const auto& name : d.columns) {
        const column* c = t.find_column(name);
        if (c == nullptr) {
            return bad(fmt::format("Distribution column '{}' does not exist in table '{}'", name, t.name));
        }
        if (std::count_if(t.dist.columns.begin(), t.dist.columns.end(), [&](const auto& n) { return iequals(n, name); })) {
            return bad(fmt::format("Duplicate distribution column '{}'", name));
        }
        if (!can_be_key(c->type)) {
            return bad(fmt::format("Distribution column '{}' can not be {}", c->name, c->type.to_sql()));
        }
        if (t.keys != key_model::duplicate && !c->is_key) {
            return bad(fmt::format("Distribution column '{}' must be a key column of a {} table", c->name,
                                   key_model_name(t.keys)));
        }
        t.dist.columns.push_back(c->name);
    }
    return {};
}

storage_result<void> check_properties(const properties& props) {
    if (auto v = find_property(props, "replication_num")) {
        int n = 0;
        auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
        if (ec != std::errc{} || end != v->data() + v->size() || n < 1 || n > 32767) {
            return bad(fmt::format("Invalid replication_num: '{}'", *v));
        }
    }
    return {};
}

std::vector<column_type> partition_types(const table& t) {
    std::vector<column_type> types;
    for (const auto& name : t.partitioning.columns) {
        types.push_back(t.find_column(name)->type);
    }
    return types;
}

// One bound of a range as written: normalized values, MAXVALUE kept, missing trailing values
// MINVALUE (StarRocks fills a short key with the types' minimum).
storage_result<std::vector<std::string>> resolve_bound(const std::vector<column_type>& types,
                                                       const std::vector<std::string>& written,
                                                       const partition_desc& desc) {
    if (written.size() > types.size()) {
        return bad(fmt::format("Partition values number is more than partition column number in partition {}",
                               desc.name));
    }
    if (written.size() == 1 && written[0] == max_value) {
        return std::vector<std::string>(types.size(), std::string(max_value));  // LESS THAN MAXVALUE
    }
    std::vector<std::string> key;
    for (size_t i = 0; i < types.size(); ++i) {
        if (i >= written.size()) {
            key.emplace_back(min_value);
        } else if (written[i] == max_value) {
            key.emplace_back(max_value);
        } else {
            auto v = normalize_value(types[i], written[i]);
            if (!v) {
                return bad(fmt::format("Invalid range value in partition {}: {}", desc.name, v.error().message));
            }
            key.push_back(std::move(*v));
        }
    }
    return key;
}

bool all_min(const std::vector<std::string>& key) {
    return std::all_of(key.begin(), key.end(), [](const auto& v) { return v == min_value; });
}

storage_result<void> resolve_range(const table& t, const partition_desc& desc, partition& out) {
    if (desc.kind == partition_desc::form::list) {
        return bad(fmt::format("Partition {} uses VALUES IN, but table '{}' is partitioned by RANGE", desc.name,
                               t.name));
    }
    auto types = partition_types(t);
    auto upper = resolve_bound(types, desc.upper, desc);
    if (!upper) {
        return upper.error();
    }
    if (all_min(*upper)) {
        return bad(fmt::format("Partition's upper value should not be MIN VALUE: partition {}", desc.name));
    }
    std::vector<const partition*> sorted;
    for (const auto& p : t.partitioning.partitions) {
        sorted.push_back(&p);
    }
    std::sort(sorted.begin(), sorted.end(),
              [&](const partition* a, const partition* b) { return compare_keys(types, a->lower, b->lower) < 0; });
    auto intersected = [&](const std::vector<std::string>& lower, const partition* other) -> storage_result<void> {
        if (compare_keys(types, lower, other->upper) < 0 && compare_keys(types, other->lower, *upper) < 0) {
            return bad(fmt::format("Range {} is intersected with range: {}", format_range(types, lower, *upper),
                                   format_range(types, other->lower, other->upper)));
        }
        return {};
    };
    std::vector<std::string> lower;
    if (desc.kind == partition_desc::form::fixed_range) {
        if (desc.lower.size() == 1 && desc.lower[0] == max_value) {
            return bad(fmt::format("Partition's lower value should not be MAXVALUE: partition {}", desc.name));
        }
        auto resolved = resolve_bound(types, desc.lower, desc);
        if (!resolved) {
            return resolved.error();
        }
        lower = std::move(*resolved);
        if (compare_keys(types, lower, *upper) >= 0) {
            return bad("The lower values must smaller than upper values");
        }
        for (const partition* p : sorted) {
            if (auto e = intersected(lower, p); !e) {
                return e;
            }
        }
    } else {
        // StarRocks: the lower bound is the upper bound of the range just below the new upper
        // bound; the range just above must not overlap the result.
        const partition* below = nullptr;
        const partition* above = nullptr;
        for (const partition* p : sorted) {
            if (compare_keys(types, p->upper, *upper) >= 0) {
                above = p;
                break;
            }
            below = p;
        }
        lower = below != nullptr ? below->upper : std::vector<std::string>(types.size(), std::string(min_value));
        if (compare_keys(types, lower, *upper) >= 0) {
            return bad("The lower values must smaller than upper values");
        }
        if (above != nullptr) {
            if (auto e = intersected(lower, above); !e) {
                return e;
            }
        }
    }
    out.lower = std::move(lower);
    out.upper = std::move(*upper);
    return {};
}

storage_result<void> resolve_list(const table& t, const partition_desc& desc, partition& out) {
    if (desc.kind != partition_desc::form::list) {
        return bad(fmt::format("Partition {} uses a range, but table '{}' is partitioned by LIST", desc.name, t.name));
    }
    if (desc.values.empty()) {
        return bad(fmt::format("List partition {} has no values", desc.name));
    }
    auto types = partition_types(t);
    for (const auto& tuple : desc.values) {
        if (tuple.size() != types.size()) {
            return bad(fmt::format("Partition {} has a value with {} item(s) for {} partition column(s)", desc.name,
                                   tuple.size(), types.size()));
        }
        std::vector<std::string> normalized;
        for (size_t i = 0; i < tuple.size(); ++i) {
            auto v = normalize_value(types[i], tuple[i]);
            if (!v) {
                return bad(fmt::format("Invalid list value in partition {}: {}", desc.name, v.error().message));
            }
            normalized.push_back(std::move(*v));
        }
        auto same = [&](const std::vector<std::string>& other) { return compare_keys(types, other, normalized) == 0; };
        if (std::any_of(out.values.begin(), out.values.end(), same)) {
            return bad(fmt::format("Duplicate values {} in partition {}", format_tuple(normalized), desc.name));
        }
        for (const auto& p : t.partitioning.partitions) {
            if (std::any_of(p.values.begin(), p.values.end(), same)) {
                return bad(fmt::format("Duplicate values {} in partition {}: already in partition {}",
                                       format_tuple(normalized), desc.name, p.name));
            }
        }
        out.values.push_back(std::move(normalized));
    }
    return {};
}

void allocate_tablets(const table& t, partition& p, id_allocator& ids) {
    p.tablets.clear();
    for (const auto& index : t.indexes) {
        index_tablets tablets{index.id, {}};
        for (int i = 0; i < p.buckets; ++i) {
            tablets.tablet_ids.push_back(ids.take());
        }
        p.tablets.push_back(std::move(tablets));
    }
}

}  // namespace

storage_result<void> check_name(name_kind kind, std::string_view name) {
    static constexpr const char* words[] = {"database", "table", "column", "partition",
                                            "view", "function", "catalog", "user", "repository"};
    // The name is echoed capped and escaped: a 10 MB name or one holding escapes stays a
    // one-line message.
    auto refuse = [&](std::string_view why) {
        return make_error(storage_errc::bad_name,
                          fmt::format("Incorrect {} name '{}'{}", words[static_cast<int>(kind)],
                                      printable_excerpt(name, k_echoed_name_bytes), why));
    };
    size_t limit = kind == name_kind::database || kind == name_kind::user ? 256 : 1024;
    bool bad_char = std::any_of(name.begin(), name.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
    // Repository, database, table and partition names are path components of a repository's
    // objects and manifests (a restore refuses a manifest whose components could climb), and
    // StarRocks refuses '/' in them too. Column and user names are never paths.
    bool path_component = kind != name_kind::column && kind != name_kind::user;
    if (path_component && name.find('/') != name.npos) {
        return refuse(": '/' is not allowed");
    }
    bool bad_path = path_component && (name == "." || name == "..");
    if (name.empty() || bad_char || bad_path || (kind != name_kind::user && name.find('`') != name.npos)) {
        return refuse("");
    }
    if (name.size() > limit) {
        return refuse(fmt::format(": longer than {} bytes", limit));
    }
    // Names are shown, journaled and sent to clients as UTF-8 text.
    if (!valid_utf8(name)) {
        return refuse(": not valid UTF-8");
    }
    // MySQL refuses a database, table or column name that ends with a space; here every name,
    // so that 'root ' cannot pass for root and a name of spaces alone is refused.
    if (name.back() == ' ') {
        return refuse(name.find_first_not_of(' ') == name.npos ? ": a name cannot be only spaces"
                                                               : ": a name cannot end with a space");
    }
    return {};
}

storage_result<table> build_table(const table_definition& def, id_allocator& ids) {
    if (auto e = check_name(name_kind::table, def.name); !e) {
        return e.error();
    }
    if (def.columns.empty()) {
        return bad(fmt::format("Table '{}' must have at least one column", def.name));
    }
    table t;
    t.name = def.name;
    t.keys = def.keys;
    t.props = def.props;
    t.comment = def.comment;
    t.columns = def.columns;
    for (size_t i = 0; i < t.columns.size(); ++i) {
        column& c = t.columns[i];
        if (auto e = check_name(name_kind::column, c.name); !e) {
            return e.error();
        }
        for (size_t j = 0; j < i; ++j) {
            if (iequals(t.columns[j].name, c.name)) {
                return make_error(storage_errc::duplicate_column, fmt::format("Duplicate column name '{}'", c.name));
            }
        }
        c.is_key = false;
    }
    t.key_columns = def.key_columns;
    if (auto e = check_keys(def, t.columns, t.key_columns); !e) {
        return e.error();
    }
    for (const auto& c : t.columns) {
        if (auto e = check_aggregation(def, c); !e) {
            return e.error();
        }
        if (auto e = check_default(c); !e) {
            return e.error();
        }
    }
    if (auto e = check_partitioning(def, t); !e) {
        return e.error();
    }
    if (def.partition_by == partition_kind::none && !def.partitions.empty()) {
        return bad("Partitions are listed but there is no PARTITION BY");
    }
    if (auto e = check_distribution(def, t); !e) {
        return e.error();
    }
    if (auto e = check_properties(def.props); !e) {
        return e.error();
    }
    t.id = ids.take();
    t.indexes.push_back(materialized_index{ids.take(), t.name, {}, {}});
    if (def.partition_by == partition_kind::none) {
        partition p;
        p.id = ids.take();
        p.name = t.name;
        p.buckets = t.dist.buckets;
        allocate_tablets(t, p, ids);
        t.partitioning.partitions.push_back(std::move(p));
        return t;
    }
    for (const auto& desc : def.partitions) {
        auto p = build_partition(t, desc, ids);
        if (!p) {
            return p.error();
        }
        t.partitioning.partitions.push_back(std::move(*p));
    }
    return t;
}

storage_result<partition> build_partition(const table& t, const partition_desc& desc, id_allocator& ids) {
    if (auto e = check_name(name_kind::partition, desc.name); !e) {
        return e.error();
    }
    if (t.partitioning.kind == partition_kind::none) {
        return bad(fmt::format("Table '{}' is not partitioned: partitions can only be added to RANGE or LIST "
                               "partitioned tables",
                               t.name));
    }
    if (t.find_partition(desc.name) != nullptr) {
        return make_error(storage_errc::partition_exists, fmt::format("Duplicate partition name {}", desc.name));
    }
    partition p;
    p.name = desc.name;
    p.buckets = desc.buckets == 0 ? t.dist.buckets : desc.buckets;
    if (auto e = check_buckets(p.buckets); !e) {
        return e.error();
    }
    auto e = t.partitioning.kind == partition_kind::range ? resolve_range(t, desc, p) : resolve_list(t, desc, p);
    if (!e) {
        return e.error();
    }
    p.id = ids.take();
    allocate_tablets(t, p, ids);
    return p;
}

partition renew_partition(const partition& p, id_allocator& ids) {
    partition fresh = p;
    fresh.id = ids.take();
    fresh.visible_version = 1;
    fresh.visible_version_time_ms = 0;  // a new, empty partition: no load has made a version visible
    for (auto& index : fresh.tablets) {
        for (auto& tablet : index.tablet_ids) {
            tablet = ids.take();
        }
    }
    return fresh;
}

storage_result<void> check_index_columns(const table& t, const std::vector<column>& columns) {
    if (columns.empty()) {
        return bad(fmt::format("A materialized view on table '{}' needs at least one column", t.name));
    }
    for (size_t i = 0; i < columns.size(); ++i) {
        if (auto e = check_name(name_kind::column, columns[i].name); !e) {
            return e;
        }
        for (size_t j = 0; j < i; ++j) {
            if (iequals(columns[j].name, columns[i].name)) {
                return make_error(storage_errc::duplicate_column,
                                  fmt::format("Duplicate column name '{}'", columns[i].name));
            }
        }
    }
    return {};
}

}  // namespace tv::storage
