// SPDX-License-Identifier: Apache-2.0
// RANGE and LIST partitions with StarRocks' semantics: LESS THAN chaining, [a, b), overlap
// errors and their text, MAXVALUE, typed comparison of bounds, LIST value uniqueness.
#include "storage_test_util.hh"

namespace tv::testing {
namespace {

using strings = std::vector<std::string>;

/// A catalog with database "d" for one test.
struct fixture {
    temp_dir dir;
    std::unique_ptr<catalog> cat;
};

io::task<bool> open_fixture(fixture& f) {
    auto c = co_await open_catalog(f.dir.path());
    if (!c) {
        ADD_FAILURE() << c.error().message;
        co_return false;
    }
    f.cat = std::move(*c);
    co_return (co_await f.cat->create_database("d")).has_value();
}

const partition& part(const catalog& c, std::string_view table, std::string_view name) {
    const partition* p = c.find_table("d", table)->find_partition(name);
    if (p == nullptr) {
        throw std::runtime_error("no partition " + std::string(name));
    }
    return *p;
}

CO_TEST(RangePartition, LessThanChainsLowerBounds) {
    fixture f;
    CO_ASSERT_TRUE(co_await open_fixture(f));
    catalog& c = *f.cat;
    CO_ASSERT_OK(co_await c.create_table(
        "d", range_table("t", "INT", parts(less_than("p1", strs("10")), less_than("p2", strs("20")), less_than("p3", strs("MAXVALUE"))))));
    EXPECT_EQ(part(c, "t", "p1").lower, strings{"MINVALUE"});
    EXPECT_EQ(part(c, "t", "p1").upper, strings{"10"});
    EXPECT_EQ(part(c, "t", "p2").lower, strings{"10"});
    EXPECT_EQ(part(c, "t", "p2").upper, strings{"20"});
    EXPECT_EQ(part(c, "t", "p3").lower, strings{"20"});
    EXPECT_EQ(part(c, "t", "p3").upper, strings{"MAXVALUE"});
    EXPECT_EQ(part(c, "t", "p1").buckets, 2);
    CO_ASSERT_CAT_ERROR(co_await c.add_partition("d", "t", less_than("p4", strs("30"))), storage_errc::bad_definition,
                        "Range [types: [INT]; keys: [20]; ..types: [INT]; keys: [30]; ) is intersected with range: "
                        "[types: [INT]; keys: [20]; ..types: [INT]; keys: [MAXVALUE]; )");
    CO_ASSERT_OK(co_await c.close());
}

CO_TEST(RangePartition, OutOfOrderLessThanOverlaps) {
    fixture f;
    CO_ASSERT_TRUE(co_await open_fixture(f));
    // As in StarRocks: p2 takes [MIN, 20) first, so p1 < 10 would be [MIN, 10) inside it.
    CO_ASSERT_CAT_ERROR(
        co_await f.cat->create_table("d", range_table("t", "INT", parts(less_than("p2", strs("20")), less_than("p1", strs("10"))))),
        storage_errc::bad_definition,
        "Range [types: [INT]; keys: [-2147483648]; ..types: [INT]; keys: [10]; ) is intersected with range: "
        "[types: [INT]; keys: [-2147483648]; ..types: [INT]; keys: [20]; )");
    EXPECT_EQ(f.cat->find_table("d", "t"), nullptr);
    CO_ASSERT_OK(co_await f.cat->close());
}

CO_TEST(RangePartition, AddAndDropFollowTheGaps) {
    fixture f;
    CO_ASSERT_TRUE(co_await open_fixture(f));
    catalog& c = *f.cat;
    CO_ASSERT_OK(co_await c.create_table("d", range_table("t", "BIGINT", parts(less_than("p1", strs("10")),
                                                                               less_than("p2", strs("20"))))));
    auto p3 = co_await c.add_partition("d", "t", less_than("p3", strs("30")));
    CO_ASSERT_OK(p3);
    EXPECT_EQ(part(c, "t", "p3").id, *p3);
    EXPECT_EQ(part(c, "t", "p3").lower, strings{"20"});
    // Below everything: [MIN, 5) overlaps p1's [MIN, 10).
    CO_ASSERT_CAT_ERROR(co_await c.add_partition("d", "t", less_than("p0", strs("5"))), storage_errc::bad_definition,
                        "Range [types: [BIGINT]; keys: [-9223372036854775808]; ..types: [BIGINT]; keys: [5]; ) is "
                        "intersected with range: [types: [BIGINT]; keys: [-9223372036854775808]; ..types: [BIGINT]; "
                        "keys: [10]; )");
    // The same upper bound as an existing partition.
    auto same = co_await c.add_partition("d", "t", less_than("px", strs("20")));
    CO_ASSERT_FALSE(same.has_value());
    EXPECT_TRUE(same.error().message.starts_with("Range [types: [BIGINT]; keys: [10]; ..types: [BIGINT]; keys: [20]; )"))
        << same.error().message;
    CO_ASSERT_CAT_ERROR(co_await c.add_partition("d", "t", less_than("P1", strs("99"))), storage_errc::partition_exists,
                        "Duplicate partition name P1");
    auto skipped = co_await c.add_partition("d", "t", less_than("P1", strs("99")), true);
    CO_ASSERT_OK(skipped);
    EXPECT_EQ(*skipped, 0);
    // Dropping p1 frees [MIN, 10); a new partition below p2 takes exactly that.
    CO_ASSERT_OK(co_await c.drop_partition("d", "t", "p1"));
    CO_ASSERT_OK(co_await c.add_partition("d", "t", less_than("p1b", strs("10"))));
    EXPECT_EQ(part(c, "t", "p1b").lower, strings{"MINVALUE"});
    CO_ASSERT_CAT_ERROR(co_await c.drop_partition("d", "t", "p9"), storage_errc::unknown_partition,
                        "Partition p9 does not exist");
    CO_ASSERT_OK(co_await c.drop_partition("d", "t", "p9", true));
    // A partition with more buckets than the table's default.
    auto wide = less_than("p4", {"40"});
    wide.buckets = 5;
    CO_ASSERT_OK(co_await c.add_partition("d", "t", wide));
    EXPECT_EQ(part(c, "t", "p4").tablets[0].tablet_ids.size(), 5u);
    CO_ASSERT_OK(co_await c.close());
}

CO_TEST(RangePartition, FixedRangesOnDates) {
    fixture f;
    CO_ASSERT_TRUE(co_await open_fixture(f));
    catalog& c = *f.cat;
    CO_ASSERT_OK(co_await c.create_table(
        "d", range_table("t", "DATE", parts(fixed_range("jan", strs("2024-01-01"), strs("2024-02-01")),
                                       fixed_range("feb", strs("2024-2-1"), strs("2024-03-01"))))));
    EXPECT_EQ(part(c, "t", "feb").lower, strings{"2024-02-01"});  // normalized
    CO_ASSERT_CAT_ERROR(
        co_await c.add_partition("d", "t", fixed_range("mid", strs("2024-01-15"), strs("2024-02-15"))),
        storage_errc::bad_definition,
        "Range [types: [DATE]; keys: [2024-01-15]; ..types: [DATE]; keys: [2024-02-15]; ) is intersected with range: "
        "[types: [DATE]; keys: [2024-01-01]; ..types: [DATE]; keys: [2024-02-01]; )");
    CO_ASSERT_CAT_ERROR(co_await c.add_partition("d", "t", fixed_range("bad", strs("2024-05-01"), strs("2024-04-01"))),
                        storage_errc::bad_definition, "The lower values must smaller than upper values");
    CO_ASSERT_CAT_ERROR(co_await c.add_partition("d", "t", fixed_range("bad", strs("2024-13-01"), strs("2025-01-01"))),
                        storage_errc::bad_definition,
                        "Invalid range value in partition bad: Invalid DATE value: '2024-13-01'");
    // Dates compare as dates: 2023-12-31 is below 2024-01-01 (and "9" would not be below "10").
    CO_ASSERT_OK(co_await c.add_partition("d", "t", fixed_range("old", strs("2023-01-01"), strs("2024-01-01"))));
    // LESS THAN after fixed ranges starts where the highest one ends.
    CO_ASSERT_OK(co_await c.add_partition("d", "t", less_than("mar", strs("2024-04-01"))));
    EXPECT_EQ(part(c, "t", "mar").lower, strings{"2024-03-01"});
    CO_ASSERT_CAT_ERROR(co_await c.add_partition("d", "t", less_than("p", {})), storage_errc::bad_definition,
                        "Partition's upper value should not be MIN VALUE: partition p");
    CO_ASSERT_OK(co_await c.close());
}

CO_TEST(RangePartition, IntegersCompareNumerically) {
    fixture f;
    CO_ASSERT_TRUE(co_await open_fixture(f));
    catalog& c = *f.cat;
    CO_ASSERT_OK(co_await c.create_table("d", range_table("t", "INT", parts(fixed_range("a", strs("9"), strs("10")),
                                                                            fixed_range("b", strs("-5"), strs("9")),
                                                                            fixed_range("c", strs("100"), strs("1000"))))));
    CO_ASSERT_OK(co_await c.add_partition("d", "t", fixed_range("e", strs("10"), strs("100"))));
    auto overlap = co_await c.add_partition("d", "t", fixed_range("x", strs("099"), strs("101")));
    CO_ASSERT_FALSE(overlap.has_value());
    CO_ASSERT_CAT_ERROR(co_await c.add_partition("d", "t", fixed_range("y", strs("1"), strs("2147483648"))),
                        storage_errc::bad_definition,
                        "Invalid range value in partition y: Invalid INT value: '2147483648'");
    CO_ASSERT_OK(co_await c.close());
}

CO_TEST(RangePartition, DatetimeAndMultiColumn) {
    fixture f;
    CO_ASSERT_TRUE(co_await open_fixture(f));
    catalog& c = *f.cat;
    CO_ASSERT_OK(co_await c.create_table("d", range_table("dt", "DATETIME", parts(less_than("p", strs("2024-01-01"))))));
    EXPECT_EQ(part(c, "dt", "p").upper, strings{"2024-01-01 00:00:00"});

    table_definition two;
    two.name = "two";
    two.columns = {col("a", "TINYINT", false), col("b", "SMALLINT", false), col("v", "INT")};
    two.key_columns = {"a", "b"};
    two.partition_by = partition_kind::range;
    two.partition_columns = {"a", "b"};
    two.partitions = {less_than("p1", {"5", "100"}), less_than("p2", {"5", "10"})};
    CO_ASSERT_CAT_ERROR(co_await c.create_table("d", two), storage_errc::bad_definition,
                        "Range [types: [TINYINT, SMALLINT]; keys: [-128, -32768]; ..types: [TINYINT, SMALLINT]; "
                        "keys: [5, 10]; ) is intersected with range: [types: [TINYINT, SMALLINT]; keys: [-128, "
                        "-32768]; ..types: [TINYINT, SMALLINT]; keys: [5, 100]; )");
    two.partitions = {less_than("p1", {"5"}), less_than("p2", {"5", "10"}), less_than("p3", {"MAXVALUE"})};
    CO_ASSERT_OK(co_await c.create_table("d", two));
    EXPECT_EQ(part(c, "two", "p1").upper, (strings{"5", "MINVALUE"}));  // a short key is filled with minimums
    EXPECT_EQ(part(c, "two", "p2").lower, (strings{"5", "MINVALUE"}));
    EXPECT_EQ(part(c, "two", "p3").upper, (strings{"MAXVALUE", "MAXVALUE"}));
    two.name = "three";
    two.partitions = {less_than("p1", {"1", "2", "3"})};
    CO_ASSERT_CAT_ERROR(co_await c.create_table("d", two), storage_errc::bad_definition,
                        "Partition values number is more than partition column number in partition p1");
    CO_ASSERT_OK(co_await c.close());
}

CO_TEST(RangePartition, ColumnRules) {
    fixture f;
    CO_ASSERT_TRUE(co_await open_fixture(f));
    catalog& c = *f.cat;
    auto on_text = simple_table("t");
    on_text.partition_by = partition_kind::range;
    on_text.partition_columns = {"v"};
    CO_ASSERT_CAT_ERROR(co_await c.create_table("d", on_text), storage_errc::bad_definition,
                        "Range partition column 'v' can not be VARCHAR(20)");
    auto on_value = range_table("t", "INT", {});
    on_value.keys = key_model::unique;
    on_value.partition_columns = {"v"};
    CO_ASSERT_CAT_ERROR(co_await c.create_table("d", on_value), storage_errc::bad_definition,
                        "Partition column 'v' must be a key column of a UNIQUE KEY table");
    auto missing = range_table("t", "INT", {});
    missing.partition_columns = {"zz"};
    CO_ASSERT_CAT_ERROR(co_await c.create_table("d", missing), storage_errc::bad_definition,
                        "Partition column 'zz' does not exist in table 't'");
    auto list_form = range_table("t", "INT", {in_list("p", {{"1"}})});
    CO_ASSERT_CAT_ERROR(co_await c.create_table("d", list_form), storage_errc::bad_definition,
                        "Partition p uses VALUES IN, but table 't' is partitioned by RANGE");
    CO_ASSERT_OK(co_await c.create_table("d", simple_table("plain")));
    CO_ASSERT_CAT_ERROR(co_await c.add_partition("d", "plain", less_than("p", strs("1"))), storage_errc::bad_definition,
                        "Table 'plain' is not partitioned: partitions can only be added to RANGE or LIST partitioned "
                        "tables");
    CO_ASSERT_CAT_ERROR(co_await c.drop_partition("d", "plain", "plain"), storage_errc::bad_definition,
                        "Table 'plain' is not partitioned: its one partition can not be dropped");
    // An empty partition list is allowed; partitions come with ADD PARTITION.
    CO_ASSERT_OK(co_await c.create_table("d", range_table("empty", "DATE", {})));
    EXPECT_TRUE(c.find_table("d", "empty")->partitioning.partitions.empty());
    CO_ASSERT_OK(co_await c.close());
}

table_definition list_table(std::string name, std::vector<partition_desc> parts) {
    table_definition def;
    def.name = std::move(name);
    def.columns = {col("city", "VARCHAR(20)", false), col("n", "INT", false), col("v", "INT")};
    def.key_columns = {"city", "n"};
    def.partition_by = partition_kind::list;
    def.partition_columns = {"city"};
    def.partitions = std::move(parts);
    return def;
}

CO_TEST(ListPartition, ValuesBelongToOnePartition) {
    fixture f;
    CO_ASSERT_TRUE(co_await open_fixture(f));
    catalog& c = *f.cat;
    CO_ASSERT_OK(co_await c.create_table(
        "d", list_table("t", parts(in_list("p1", tuples(strs("Beijing"), strs("Shanghai"))), in_list("p2", tuples(strs("Paris")))))));
    EXPECT_EQ(part(c, "t", "p1").values, (std::vector<strings>{{"Beijing"}, {"Shanghai"}}));
    CO_ASSERT_CAT_ERROR(co_await c.add_partition("d", "t", in_list("p3", tuples(strs("Rome"), strs("Paris")))),
                        storage_errc::bad_definition, "Duplicate values ('Paris') in partition p3: already in partition p2");
    CO_ASSERT_CAT_ERROR(co_await c.add_partition("d", "t", in_list("p3", tuples(strs("Rome"), strs("Rome")))),
                        storage_errc::bad_definition, "Duplicate values ('Rome') in partition p3");
    CO_ASSERT_CAT_ERROR(co_await c.add_partition("d", "t", in_list("p3", tuples())), storage_errc::bad_definition,
                        "List partition p3 has no values");
    CO_ASSERT_CAT_ERROR(co_await c.add_partition("d", "t", less_than("p3", strs("x"))), storage_errc::bad_definition,
                        "Partition p3 uses a range, but table 't' is partitioned by LIST");
    CO_ASSERT_OK(co_await c.add_partition("d", "t", in_list("p3", tuples(strs("Rome"), strs("paris")))));  // bytes differ
    CO_ASSERT_OK(co_await c.drop_partition("d", "t", "p2"));
    CO_ASSERT_OK(co_await c.add_partition("d", "t", in_list("p2b", tuples(strs("Paris")))));  // free again

    // Two columns, integers normalized: ('x', 01) is ('x', 1).
    auto two = list_table("t2", parts(in_list("a", tuples(strs("x", "1"), strs("y", "2")))));
    two.partition_columns = {"city", "n"};
    CO_ASSERT_OK(co_await c.create_table("d", two));
    CO_ASSERT_CAT_ERROR(co_await c.add_partition("d", "t2", in_list("b", tuples(strs("x", "01")))), storage_errc::bad_definition,
                        "Duplicate values ('x', '1') in partition b: already in partition a");
    CO_ASSERT_CAT_ERROR(co_await c.add_partition("d", "t2", in_list("b", tuples(strs("x")))), storage_errc::bad_definition,
                        "Partition b has a value with 1 item(s) for 2 partition column(s)");
    CO_ASSERT_OK(co_await c.close());
}

}  // namespace
}  // namespace tv::testing
