// SPDX-License-Identifier: Apache-2.0
// Results as clients get them: each type's text (DATE, DATETIME with microseconds, DECIMAL at
// its scale, shortest DOUBLE, booleans as 1/0) and the column kinds that pick MySQL field types.
#include "unit/sql/query/query_test_util.hh"

using namespace tv::sql;
using namespace tv::sql::qtest;

namespace {

using strings = std::vector<std::string>;

std::unique_ptr<tv::sql::batch_source> typed() {
    return table({col("b", "BOOLEAN"), col("ti", "TINYINT"), col("si", "SMALLINT"), col("i", "INT"),
                  col("bi", "BIGINT"), col("li", "LARGEINT"), col("f", "FLOAT"), col("db", "DOUBLE"),
                  col("dc", "DECIMAL(12, 3)"), col("d", "DATE"), col("dt", "DATETIME"), col("c", "CHAR(4)"),
                  col("v", "VARCHAR(10)"), col("s", "STRING")},
                 {{"true", "-128", "32767", "-2147483648", "9223372036854775807",
                   "-170141183460469231731687303715884105728", "0.1", "1e20", "-0.5", "1970-01-01",
                   "2024-02-29 23:59:59.000001", "ab", "x", "long text"},
                  {"false", "0", "0", "0", "0", "0", "3", "0.1", "12345.678", "0001-01-01", "1969-12-31 23:59:59", "", "",
                   ""},
                  {std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt,
                   std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt}});
}

}  // namespace

TEST(query_format, text_of_every_type) {
    EXPECT_EQ(rows("SELECT * FROM t", typed()),
              (strings{"1|-128|32767|-2147483648|9223372036854775807|-170141183460469231731687303715884105728|0.1|1e+20|"
                       "-0.500|1970-01-01|2024-02-29 23:59:59.000001|ab|x|long text",
                       "0|0|0|0|0|0|3|0.1|12345.678|0001-01-01|1969-12-31 23:59:59|||",
                       "NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL"}));
}

TEST(query_format, column_kinds_for_the_client) {
    auto plain = query("SELECT *, b AND TRUE, 1.5, 2e0, 'x', CAST(d AS DATETIME) FROM t", typed());
    ASSERT_TRUE(plain.has_value());
    std::vector<column_kind> kinds;
    for (const auto& c : plain->columns) {
        kinds.push_back(c.kind);
    }
    EXPECT_EQ(kinds, (std::vector<column_kind>{
                         column_kind::tinyint, column_kind::tinyint, column_kind::smallint, column_kind::int_,
                         column_kind::bigint, column_kind::largeint, column_kind::float_, column_kind::double_,
                         column_kind::decimal, column_kind::date, column_kind::datetime, column_kind::varchar,
                         column_kind::varchar, column_kind::varchar, column_kind::tinyint, column_kind::decimal,
                         column_kind::double_, column_kind::varchar, column_kind::datetime}));
    const auto& columns = plain->columns;
    EXPECT_EQ(columns[8].decimals, 3);
    EXPECT_EQ(columns[8].length, 14u);
    EXPECT_EQ(columns[15].decimals, 1);
    EXPECT_TRUE(columns[0].nullable);
}

TEST(query_format, not_null_columns_say_so) {
    auto r = query("SELECT generate_series, generate_series + 1, COUNT(*) FROM t GROUP BY generate_series LIMIT 1",
                   make_generate_series(1, 3, 1));
    ASSERT_TRUE(r.has_value());
    const auto& columns = r->columns;
    EXPECT_FALSE(columns[0].nullable);
    EXPECT_FALSE(columns[1].nullable);
    EXPECT_FALSE(columns[2].nullable);
}
