// SPDX-License-Identifier: Apache-2.0
// Column types by name and back, and typed literal values: validation, normalization, order.
#include "storage/catalog_types.hh"
#include "storage/values.hh"

#include <gtest/gtest.h>

#include <vector>

namespace tv::storage {
namespace {

storage_result<column_type> type(std::string_view name, std::vector<int> params) {
    return column_type::from_name(name, params);
}

/// The message of a type that does not resolve, or "resolved" when it does.
std::string refusal(std::string_view name, std::vector<int> params) {
    auto t = type(name, std::move(params));
    if (t) {
        return "resolved";
    }
    EXPECT_EQ(t.error().code, storage_errc::bad_definition) << name;
    return t.error().message;
}

TEST(ColumnType, NamesAndSqlText) {
    EXPECT_EQ(type("int", {})->to_sql(), "INT");
    EXPECT_EQ(type("INTEGER", {})->to_sql(), "INT");
    EXPECT_EQ(type("int", {11})->to_sql(), "INT");  // MySQL display width, ignored
    EXPECT_EQ(type("bool", {})->to_sql(), "BOOLEAN");
    EXPECT_EQ(type("TinyInt", {})->to_sql(), "TINYINT");
    EXPECT_EQ(type("LARGEINT", {})->to_sql(), "LARGEINT");
    EXPECT_EQ(type("double", {})->to_sql(), "DOUBLE");
    EXPECT_EQ(type("DECIMAL", {10, 2})->to_sql(), "DECIMAL(10, 2)");
    EXPECT_EQ(type("decimalv3", {38, 38})->to_sql(), "DECIMAL(38, 38)");
    EXPECT_EQ(type("DECIMAL64", {18, 4})->to_sql(), "DECIMAL(18, 4)");
    EXPECT_EQ(type("DECIMAL", {7})->to_sql(), "DECIMAL(7, 0)");
    EXPECT_EQ(type("DECIMAL", {})->to_sql(), "DECIMAL(10, 0)");
    EXPECT_EQ(type("varchar", {20})->to_sql(), "VARCHAR(20)");
    EXPECT_EQ(type("VARCHAR", {1048576})->to_sql(), "VARCHAR(1048576)");
    EXPECT_EQ(type("char", {})->to_sql(), "CHAR(1)");
    EXPECT_EQ(type("STRING", {})->to_sql(), "STRING");
    EXPECT_EQ(type("datetime", {})->to_sql(), "DATETIME");
    EXPECT_EQ(type("DATEV2", {})->to_sql(), "DATE");
    EXPECT_EQ(type("json", {})->to_sql(), "JSON");
}

TEST(ColumnType, RangesAreChecked) {
    EXPECT_EQ(refusal("DECIMAL", {0, 0}), "DECIMAL's precision should range from 1 to 38, got 0");
    EXPECT_EQ(refusal("DECIMAL", {39, 2}), "DECIMAL's precision should range from 1 to 38, got 39");
    EXPECT_EQ(refusal("DECIMAL", {5, 6}), "DECIMAL's scale should range from 0 to precision 5, got 6");
    EXPECT_EQ(refusal("DECIMAL32", {10, 2}), "DECIMAL's precision should range from 1 to 9, got 10");
    EXPECT_EQ(refusal("CHAR", {256}), "CHAR length should range from 1 to 255, got 256");
    EXPECT_EQ(refusal("VARCHAR", {0}), "VARCHAR length should range from 1 to 1048576, got 0");
    EXPECT_EQ(refusal("VARCHAR", {1048577}), "VARCHAR length should range from 1 to 1048576, got 1048577");
    EXPECT_EQ(refusal("DATE", {3}), "Type DATE takes no parameters");
    EXPECT_EQ(refusal("BLOB", {}), "Unknown data type 'BLOB'");
}

TEST(ColumnType, SqlTextRoundTrips) {
    for (std::string_view text : {"INT", "DECIMAL(27, 9)", "VARCHAR(65533)", "CHAR(8)", "DATETIME", "LARGEINT"}) {
        auto t = column_type::from_sql(text);
        ASSERT_TRUE(t) << text << ": " << t.error().message;
        EXPECT_EQ(t->to_sql(), text);
    }
}

std::string norm(std::string_view type_sql, std::string_view value) {
    auto t = column_type::from_sql(type_sql);
    auto v = normalize_value(*t, value);
    return v ? *v : "ERROR: " + v.error().message;
}

TEST(Values, Normalization) {
    EXPECT_EQ(norm("INT", " 007 "), "7");
    EXPECT_EQ(norm("INT", "-2147483648"), "-2147483648");
    EXPECT_EQ(norm("INT", "2147483648"), "ERROR: Invalid INT value: '2147483648'");
    EXPECT_EQ(norm("TINYINT", "128"), "ERROR: Invalid TINYINT value: '128'");
    EXPECT_EQ(norm("LARGEINT", "-170141183460469231731687303715884105728"),
              "-170141183460469231731687303715884105728");
    EXPECT_EQ(norm("LARGEINT", "170141183460469231731687303715884105728"),
              "ERROR: Invalid LARGEINT value: '170141183460469231731687303715884105728'");
    EXPECT_EQ(norm("INT", "1x"), "ERROR: Invalid INT value: '1x'");
    EXPECT_EQ(norm("DATE", "2024-1-2"), "2024-01-02");
    EXPECT_EQ(norm("DATE", "2024-02-30"), "ERROR: Invalid DATE value: '2024-02-30'");
    EXPECT_EQ(norm("DATE", "2024-02-29"), "2024-02-29");
    EXPECT_EQ(norm("DATE", "2023-02-29"), "ERROR: Invalid DATE value: '2023-02-29'");
    EXPECT_EQ(norm("DATETIME", "2024-01-02"), "2024-01-02 00:00:00");
    EXPECT_EQ(norm("DATETIME", "2024-01-02 3:04:05"), "2024-01-02 03:04:05");
    EXPECT_EQ(norm("DATETIME", "2024-01-02 03:04:05.123"), "2024-01-02 03:04:05.123");
    EXPECT_EQ(norm("DATETIME", "2024-01-02 24:00:00"), "ERROR: Invalid DATETIME value: '2024-01-02 24:00:00'");
    EXPECT_EQ(norm("BOOLEAN", "TRUE"), "true");
    EXPECT_EQ(norm("BOOLEAN", "0"), "false");
    EXPECT_EQ(norm("DECIMAL(5, 2)", "123.45"), "123.45");
    EXPECT_EQ(norm("DECIMAL(5, 2)", "1234.5"), "ERROR: Invalid DECIMAL(5, 2) value: '1234.5'");
    EXPECT_EQ(norm("VARCHAR(3)", "abcd"), "ERROR: String 'abcd' is too long for VARCHAR(3)");
    EXPECT_EQ(norm("CHAR(3)", " ab"), " ab");
    EXPECT_EQ(norm("DOUBLE", "1e10"), "1e10");
}

TEST(Values, OrderFollowsTheType) {
    auto i = *column_type::from_sql("INT");
    auto d = *column_type::from_sql("DATE");
    auto s = *column_type::from_sql("VARCHAR(10)");
    EXPECT_LT(compare_values(i, "9", "10"), 0);      // numerically, not "9" > "10"
    EXPECT_LT(compare_values(i, "-10", "-9"), 0);
    EXPECT_GT(compare_values(s, "9", "10"), 0);      // strings bytewise
    EXPECT_LT(compare_values(d, "2023-12-31", "2024-01-01"), 0);
    EXPECT_LT(compare_values(i, "MINVALUE", "-2147483648"), 0);
    EXPECT_GT(compare_values(i, "MAXVALUE", "2147483647"), 0);
    EXPECT_EQ(compare_values(i, "MAXVALUE", "MAXVALUE"), 0);
}

TEST(Values, StarRocksKeyText) {
    std::vector<column_type> types{*column_type::from_sql("TINYINT"), *column_type::from_sql("DATE")};
    EXPECT_EQ(format_key(types, {"5", "MINVALUE"}), "types: [TINYINT, DATE]; keys: [5, 0000-01-01]; ");
    EXPECT_EQ(format_range(types, {"MINVALUE", "MINVALUE"}, {"MAXVALUE", "MAXVALUE"}),
              "[types: [TINYINT, DATE]; keys: [-128, 0000-01-01]; ..types: [TINYINT, DATE]; keys: [MAXVALUE, "
              "MAXVALUE]; )");
}

}  // namespace
}  // namespace tv::storage
