// SPDX-License-Identifier: Apache-2.0
// Helpers for the storage tests: assertions on storage_result, and short ways to write columns,
// tables and partitions.
#pragma once

#include "storage/catalog.hh"
#include "support/co_test.hh"

#include <memory>
#include <string>
#include <vector>

/// Asserts a storage_result failed with `errc` and exactly `text` as its message.
#define CO_ASSERT_CAT_ERROR(r, errc, text)                                                                      \
    do {                                                                                                        \
        auto&& tv_result_ = (r);                                                                                \
        TV_CO_ASSERT(ASSERT_FALSE(tv_result_.has_value()) << #r << " succeeded");                               \
        TV_CO_ASSERT(ASSERT_EQ(static_cast<int>(tv_result_.error().code), static_cast<int>(errc))             \
                     << #r << ": " << tv_result_.error().message);                                             \
        TV_CO_ASSERT(ASSERT_EQ(tv_result_.error().message, std::string(text)));                                 \
    } while (0)

namespace tv::testing {

using namespace tv::storage;

// GCC 12 cannot keep a braced list's backing array alive across a co_await in the same
// statement ("array used as initializer"), so tests build lists inside co_await expressions
// with these variadic helpers instead of {...}.
template <class... T>
std::vector<std::string> strs(T&&... items) {
    std::vector<std::string> out;
    (out.emplace_back(std::forward<T>(items)), ...);
    return out;
}

template <class... T>
std::vector<std::vector<std::string>> tuples(T&&... items) {
    std::vector<std::vector<std::string>> out;
    (out.push_back(std::forward<T>(items)), ...);
    return out;
}

template <class... T>
std::vector<storage::partition_desc> parts(T&&... items) {
    std::vector<storage::partition_desc> out;
    (out.push_back(std::forward<T>(items)), ...);
    return out;
}

template <class... T>
std::vector<storage::column> cols(T&&... items) {
    std::vector<storage::column> out;
    (out.push_back(std::forward<T>(items)), ...);
    return out;
}

template <class... T>
std::vector<storage::privilege> privs(T... items) {
    std::vector<storage::privilege> out;
    (out.push_back(items), ...);
    return out;
}

/// props_of("k1", "v1", "k2", "v2"): PROPERTIES as pairs.
template <class... T>
storage::properties props_of(T&&... items) {
    std::vector<std::string> flat = strs(std::forward<T>(items)...);
    storage::properties out;
    for (size_t i = 0; i + 1 < flat.size(); i += 2) {
        out.emplace_back(flat[i], flat[i + 1]);
    }
    return out;
}

inline column col(std::string name, std::string type_sql, bool nullable = true,
                  aggregation agg = aggregation::none) {
    auto t = column_type::from_sql(type_sql);
    if (!t) {
        throw std::runtime_error(t.error().message);
    }
    column c;
    c.name = std::move(name);
    c.type = *t;
    c.nullable = nullable;
    c.agg = agg;
    return c;
}

/// DUPLICATE KEY(k) table (k INT, v VARCHAR(20)), HASH(k) BUCKETS `buckets`, no partitions.
inline table_definition simple_table(std::string name, int buckets = 3) {
    table_definition def;
    def.name = std::move(name);
    def.columns = {col("k", "INT", false), col("v", "VARCHAR(20)")};
    def.key_columns = {"k"};
    def.dist = distribution{{"k"}, buckets, false};
    def.props = {{"replication_num", "1"}};
    return def;
}

inline partition_desc less_than(std::string name, std::vector<std::string> upper) {
    partition_desc p;
    p.name = std::move(name);
    p.kind = partition_desc::form::less_than;
    p.upper = std::move(upper);
    return p;
}

inline partition_desc fixed_range(std::string name, std::vector<std::string> lower, std::vector<std::string> upper) {
    partition_desc p;
    p.name = std::move(name);
    p.kind = partition_desc::form::fixed_range;
    p.lower = std::move(lower);
    p.upper = std::move(upper);
    return p;
}

inline partition_desc in_list(std::string name, std::vector<std::vector<std::string>> values) {
    partition_desc p;
    p.name = std::move(name);
    p.kind = partition_desc::form::list;
    p.values = std::move(values);
    return p;
}

/// A table range-partitioned on column `pcol` of type `ptype`.
inline table_definition range_table(std::string name, std::string ptype, std::vector<partition_desc> parts) {
    table_definition def;
    def.name = std::move(name);
    def.columns = {col("d", ptype, false), col("v", "BIGINT")};
    def.key_columns = {"d"};
    def.partition_by = partition_kind::range;
    def.partition_columns = {"d"};
    def.partitions = std::move(parts);
    def.dist = distribution{{"d"}, 2, false};
    return def;
}

inline io::task<storage_result<std::unique_ptr<catalog>>> open_catalog(std::string dir,
                                                                      uint64_t checkpoint_every = 10000,
                                                                      std::string root_password = "") {
    catalog_options options;
    options.checkpoint_every = checkpoint_every;
    options.root_password = std::move(root_password);
    co_return co_await catalog::open(dir, options);
}

/// A catalog in `dir` with database d holding t (RANGE on column d: p1 < 10, p2 < 20; 2 buckets).
inline io::task<storage_result<std::unique_ptr<catalog>>> range_catalog(std::string dir) {
    auto cat = co_await open_catalog(dir);
    if (!cat) {
        co_return cat;
    }
    if (auto db = co_await (*cat)->create_database("d"); !db) {
        co_return db.error();
    }
    auto def = range_table("t", "INT", parts(less_than("p1", strs("10")), less_than("p2", strs("20"))));
    if (auto t = co_await (*cat)->create_table("d", std::move(def)); !t) {
        co_return t.error();
    }
    co_return std::move(*cat);
}

}  // namespace tv::testing
