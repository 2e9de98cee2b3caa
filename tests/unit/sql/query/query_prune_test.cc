// SPDX-License-Identifier: Apache-2.0
// Partition pruning for RANGE and LIST tables: every comparison form, AND / OR / NOT, and the
// cases it must leave alone (never dropping a partition that could hold a matching row).
#include "unit/sql/query/query_test_util.hh"

using namespace tv::sql;
using namespace tv::sql::qtest;

namespace {

using ids = std::vector<tv::storage::object_id>;

tv::storage::table range_table() {
    tv::storage::table t;
    t.name = "sales";
    t.columns = {{"d", type("DATE"), false}, {"id", type("BIGINT"), false}, {"note", type("VARCHAR(8)")}};
    t.partitioning.kind = tv::storage::partition_kind::range;
    t.partitioning.columns = {"d"};
    auto part = [](tv::storage::object_id id, std::string lo, std::string hi) {
        tv::storage::partition p;
        p.id = id;
        p.name = "p" + std::to_string(id);
        p.lower = {std::move(lo)};
        p.upper = {std::move(hi)};
        return p;
    };
    t.partitioning.partitions = {part(1, "MINVALUE", "2023-01-01"), part(2, "2023-01-01", "2024-01-01"),
                                 part(3, "2024-01-01", "2025-01-01"), part(4, "2025-01-01", "MAXVALUE")};
    return t;
}

tv::storage::table list_table() {
    tv::storage::table t;
    t.name = "cities";
    t.columns = {{"country", type("VARCHAR(10)")}, {"city", type("VARCHAR(20)")}, {"pop", type("INT")}};
    t.partitioning.kind = tv::storage::partition_kind::list;
    t.partitioning.columns = {"country"};
    auto part = [](tv::storage::object_id id, std::vector<std::string> values) {
        tv::storage::partition p;
        p.id = id;
        p.name = "p" + std::to_string(id);
        for (auto& v : values) {
            p.values.push_back({std::move(v)});
        }
        return p;
    };
    t.partitioning.partitions = {part(10, {"fr", "be"}), part(11, {"de"}), part(12, {"us", "ca"})};
    return t;
}

ids prune(const tv::storage::table& t, std::string_view where) {
    if (where.empty()) {
        return prune_partitions(t, std::nullopt);
    }
    auto s = parse_select("SELECT * FROM t WHERE " + std::string(where));
    return prune_partitions(t, s.where);
}

}  // namespace

TEST(query_prune, range_comparisons) {
    auto t = range_table();
    EXPECT_EQ(prune(t, ""), (ids{1, 2, 3, 4}));
    EXPECT_EQ(prune(t, "d = '2024-06-01'"), (ids{3}));
    EXPECT_EQ(prune(t, "d = '2024-01-01'"), (ids{3}));
    EXPECT_EQ(prune(t, "'2024-06-01' = d"), (ids{3}));
    EXPECT_EQ(prune(t, "d < '2024-01-01'"), (ids{1, 2}));
    EXPECT_EQ(prune(t, "d <= '2024-01-01'"), (ids{1, 2, 3}));
    EXPECT_EQ(prune(t, "d > '2024-12-31'"), (ids{4}));
    EXPECT_EQ(prune(t, "d >= '2024-12-31'"), (ids{3, 4}));
    EXPECT_EQ(prune(t, "'2023-06-01' > d"), (ids{1, 2}));
    EXPECT_EQ(prune(t, "d BETWEEN '2023-06-01' AND '2024-02-01'"), (ids{2, 3}));
    EXPECT_EQ(prune(t, "d IN ('2022-01-01', '2025-05-05')"), (ids{1, 4}));
    EXPECT_EQ(prune(t, "d <=> '2023-03-03'"), (ids{2}));
}

TEST(query_prune, range_logic) {
    auto t = range_table();
    EXPECT_EQ(prune(t, "d >= '2023-01-01' AND d < '2024-01-01'"), (ids{2}));
    EXPECT_EQ(prune(t, "d >= '2023-01-01' AND id = 5"), (ids{2, 3, 4}));
    EXPECT_EQ(prune(t, "d = '2022-02-02' OR d = '2025-02-02'"), (ids{1, 4}));
    EXPECT_EQ(prune(t, "d = '2022-02-02' OR id = 5"), (ids{1, 2, 3, 4}));
    EXPECT_EQ(prune(t, "NOT (d < '2024-01-01')"), (ids{3, 4}));
    EXPECT_EQ(prune(t, "NOT (d >= '2023-01-01' AND d < '2025-01-01')"), (ids{1, 4}));
    EXPECT_EQ(prune(t, "d NOT BETWEEN '2023-01-01' AND '2024-12-31'"), (ids{1, 4}));
    EXPECT_EQ(prune(t, "d = '2023-05-05' AND d = '2024-05-05'"), (ids{}));
    EXPECT_EQ(prune(t, "(d < '2023-01-01' OR d > '2025-01-01') AND note = 'x'"), (ids{1, 4}));
}

TEST(query_prune, range_leaves_alone_what_it_cannot_read) {
    auto t = range_table();
    const ids all{1, 2, 3, 4};
    EXPECT_EQ(prune(t, "d <> '2024-01-01'"), all);
    EXPECT_EQ(prune(t, "d NOT IN ('2024-01-01')"), all);
    EXPECT_EQ(prune(t, "d IS NULL"), all);
    EXPECT_EQ(prune(t, "year(d) = 2024"), all);
    EXPECT_EQ(prune(t, "d = 'not a date'"), all);
    EXPECT_EQ(prune(t, "d = '2024-01-01 10:00:00'"), all);
    EXPECT_EQ(prune(t, "d < id"), all);
    EXPECT_EQ(prune(t, "id = 3"), all);
    EXPECT_EQ(prune(t, "d = '2024-01-01' OR d LIKE '2%'"), all);
}

TEST(query_prune, range_on_integers_and_several_columns) {
    tv::storage::table t;
    t.columns = {{"k", type("INT")}, {"j", type("INT")}};
    t.partitioning.kind = tv::storage::partition_kind::range;
    t.partitioning.columns = {"k", "j"};
    tv::storage::partition a;
    a.id = 1;
    a.lower = {"MINVALUE", "MINVALUE"};
    a.upper = {"10", "5"};
    tv::storage::partition b;
    b.id = 2;
    b.lower = {"10", "5"};
    b.upper = {"20", "0"};
    t.partitioning.partitions = {a, b};
    // (10, 1) sorts before (10, 5) and lies in the first partition: k = 10 keeps both.
    EXPECT_EQ(prune(t, "k = 10"), (ids{1, 2}));
    EXPECT_EQ(prune(t, "k = 15"), (ids{2}));
    EXPECT_EQ(prune(t, "k < -3"), (ids{1}));
    EXPECT_EQ(prune(t, "k = -3"), (ids{1}));
    EXPECT_EQ(prune(t, "k = 1.5"), (ids{1, 2}));  // not an INT literal: nothing pruned
}

TEST(query_prune, list_partitions) {
    auto t = list_table();
    EXPECT_EQ(prune(t, ""), (ids{10, 11, 12}));
    EXPECT_EQ(prune(t, "country = 'de'"), (ids{11}));
    EXPECT_EQ(prune(t, "country IN ('fr', 'us')"), (ids{10, 12}));
    EXPECT_EQ(prune(t, "country = 'xx'"), (ids{}));
    EXPECT_EQ(prune(t, "country = 'de' OR country = 'ca'"), (ids{11, 12}));
    EXPECT_EQ(prune(t, "country > 'd' AND country < 'e'"), (ids{11}));
    EXPECT_EQ(prune(t, "NOT (country <> 'be')"), (ids{10}));
    EXPECT_EQ(prune(t, "country <> 'de'"), (ids{10, 11, 12}));
    EXPECT_EQ(prune(t, "pop > 5 AND country = 'fr'"), (ids{10}));
    EXPECT_EQ(prune(t, "lower(country) = 'de'"), (ids{10, 11, 12}));
}
