// SPDX-License-Identifier: Apache-2.0
// partition_router on its own: RANGE and LIST routing of integer keys (the fast path) against a
// plain reading of the bounds, gaps, NULL, partitions a load may not write, and damaged bounds.
#include "load_test_util.hh"
#include "storage/partition_router.hh"

namespace tv::testing {
namespace {

column_type int_type() {
    return *column_type::from_sql("BIGINT");
}

partition range_part(object_id id, std::string lower, std::string upper) {
    partition p;
    p.id = id;
    p.name = "p" + std::to_string(id);
    p.lower = {std::move(lower)};
    p.upper = {std::move(upper)};
    return p;
}

TEST(PartitionRouter, RangeOnAnIntegerColumn) {
    // Created out of order, with a gap at [20, 30).
    std::vector<partition> parts{range_part(1, "30", "40"), range_part(2, "MINVALUE", "10"), range_part(3, "10", "20"),
                                 range_part(4, "40", "MAXVALUE")};
    std::vector<const partition*> ptrs;
    for (const auto& p : parts) {
        ptrs.push_back(&p);
    }
    auto router = partition_router::make(partition_kind::range, {0}, {int_type()}, ptrs, std::vector<bool>(4, true));
    ASSERT_TRUE(router) << router.error().message;
    std::vector<column_desc> schema{{"k", int_type(), true}};
    text_rows rows;
    std::vector<uint32_t> want;
    for (int v = -100; v < 100; ++v) {
        if (v >= 20 && v < 30) {
            continue;
        }
        rows.push_back({std::to_string(v)});
        want.push_back(v < 10 ? 1 : v < 20 ? 2 : v < 40 ? 0 : 3);
    }
    rows.push_back({"NULL"});
    want.push_back(1);  // NULL goes where MINVALUE starts
    auto got = router->route(batch_of(schema, rows));
    ASSERT_TRUE(got) << got.error().message;
    EXPECT_EQ(*got, want);
    text_rows gap{{"1"}, {"25"}};
    auto e = router->route(batch_of(schema, gap));
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().code, storage_errc::bad_definition);
    EXPECT_EQ(e.error().message, "The row is out of partition ranges. Please add a new partition. Partition key: (25)");

    std::vector<bool> only_first(4, false);
    only_first[1] = true;
    auto limited = partition_router::make(partition_kind::range, {0}, {int_type()}, ptrs, only_first);
    ASSERT_TRUE(limited);
    text_rows two{{"5"}, {"35"}};
    e = limited->route(batch_of(schema, two));
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().message, "The row is out of partition ranges. Please add a new partition. Partition key: (35)");
}

TEST(PartitionRouter, ListOnAnIntegerColumn) {
    partition a;
    a.id = 1;
    a.values = {{"1"}, {"3"}};
    partition b;
    b.id = 2;
    b.values = {{"2"}};
    std::vector<const partition*> ptrs{&a, &b};
    auto router = partition_router::make(partition_kind::list, {0}, {int_type()}, ptrs, {true, true});
    ASSERT_TRUE(router) << router.error().message;
    std::vector<column_desc> schema{{"k", int_type(), true}};
    text_rows rows{{"3"}, {"2"}, {"1"}};
    auto got = router->route(batch_of(schema, rows));
    ASSERT_TRUE(got) << got.error().message;
    EXPECT_EQ(*got, (std::vector<uint32_t>{0, 1, 0}));
    text_rows bad{{"4"}};
    auto e = router->route(batch_of(schema, bad));
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().message, "The row is out of partition ranges. Please add a new partition. Partition key: (4)");
    text_rows null_row{{"NULL"}};
    e = router->route(batch_of(schema, null_row));
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().message, "The row is out of partition ranges. Please add a new partition. Partition key: (NULL)");
}

TEST(PartitionRouter, BoundThatDoesNotParseIsDamagedMetadata) {
    // The catalog only stores normalized bounds, so this is a damaged image or journal.
    std::vector<partition> parts{range_part(1, "MINVALUE", "ten")};
    std::vector<const partition*> ptrs{&parts[0]};
    auto router = partition_router::make(partition_kind::range, {0}, {int_type()}, ptrs, {true});
    ASSERT_FALSE(router);
    EXPECT_EQ(router.error().code, storage_errc::corrupt_metadata);
    EXPECT_EQ(router.error().message, "Invalid BIGINT value: 'ten'");
}

}  // namespace
}  // namespace tv::testing
