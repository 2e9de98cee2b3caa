// SPDX-License-Identifier: Apache-2.0
// Every scalar function, with NULL arguments, over constants and over columns of several rows
// (the vector paths): strings, numbers, dates, hashes and CAST.
#include "unit/sql/query/query_test_util.hh"

using namespace tv::sql;
using namespace tv::sql::qtest;

namespace {

using strings = std::vector<std::string>;

std::unique_ptr<tv::sql::batch_source> words() {
    return table({col("s", "VARCHAR(20)"), col("n", "INT"), col("d", "DATETIME")},
                 {{"hello", "2", "2024-02-29 13:45:07"},
                  {std::nullopt, "3", std::nullopt},
                  {"  pad  ", std::nullopt, "1999-12-31 23:59:59.5"},
                  {"héllo", "-1", "2024-01-31 00:00:00"}},
                 3);
}

}  // namespace

TEST(eval_functions, strings_on_constants) {
    EXPECT_EQ(value("concat('a', 'b', 'c')"), "abc");
    EXPECT_EQ(value("concat('a', NULL)"), "NULL");
    EXPECT_EQ(value("concat('n', x)"), "n1");
    EXPECT_EQ(value("concat_ws('-', 'a', NULL, 'b')"), "a-b");
    EXPECT_EQ(value("concat_ws(NULL, 'a')"), "NULL");
    EXPECT_EQ(value("length('héllo')"), "6");
    EXPECT_EQ(value("char_length('héllo')"), "5");
    EXPECT_EQ(type_of("length('a')"), "INT");
    EXPECT_EQ(value("upper('abc')"), "ABC");
    EXPECT_EQ(value("lower('ABC')"), "abc");
    EXPECT_EQ(value("substr('hello', 2)"), "ello");
    EXPECT_EQ(value("substr('hello', 2, 3)"), "ell");
    EXPECT_EQ(value("substring('hello', -3, 2)"), "ll");
    EXPECT_EQ(value("substr('hello', 0)"), "");
    EXPECT_EQ(value("substr('hello', 9)"), "");
    EXPECT_EQ(value("substr('héllo', 2, 2)"), "él");
    EXPECT_EQ(value("left('hello', 2)"), "he");
    EXPECT_EQ(value("right('hello', 2)"), "lo");
    EXPECT_EQ(value("right('hello', 9)"), "hello");
    EXPECT_EQ(value("lpad('7', 3, '0')"), "007");
    EXPECT_EQ(value("rpad('ab', 5, 'xy')"), "abxyx");
    EXPECT_EQ(value("lpad('hello', 2, '0')"), "he");
    EXPECT_EQ(value("lpad('a', -1, '0')"), "NULL");
    EXPECT_EQ(value("repeat('ab', 3)"), "ababab");
    EXPECT_EQ(value("repeat('ab', 0)"), "");
    EXPECT_EQ(value("trim('  a b  ')"), "a b");
    EXPECT_EQ(value("ltrim('  a ')"), "a ");
    EXPECT_EQ(value("rtrim('  a ')"), "  a");
    EXPECT_EQ(value("replace('a-b-c', '-', '+')"), "a+b+c");
    EXPECT_EQ(value("replace('abc', '', 'x')"), "abc");
    EXPECT_EQ(value("upper(NULL)"), "NULL");
    EXPECT_EQ(value_error("repeat('ab', 100000000)").number(), 1105);
}

TEST(eval_functions, strings_on_columns) {
    EXPECT_EQ(rows("SELECT upper(s), length(s), concat(s, '/', n), left(s, n), lpad(s, 7, '*') FROM t", words()),
              (strings{"HELLO|5|hello/2|he|**hello", "NULL|NULL|NULL|NULL|NULL", "  PAD  |7|NULL|NULL|  pad  ",
                       "HéLLO|6|héllo/-1||**héllo"}));  // case folding is ASCII
    EXPECT_EQ(rows("SELECT trim(s), substr(s, 2, 3), replace(s, 'l', 'L'), coalesce(s, 'none') FROM t", words()),
              (strings{"hello|ell|heLLo|hello", "NULL|NULL|NULL|none", "pad| pa|  pad  |  pad  ", "héllo|éll|héLLo|héllo"}));
}

TEST(eval_functions, math) {
    EXPECT_EQ(value("abs(-5)"), "5");
    EXPECT_EQ(value("abs(-1.25)"), "1.25");
    EXPECT_EQ(value("abs(-2.5e0)"), "2.5");
    EXPECT_EQ(value("abs(NULL)"), "NULL");
    EXPECT_EQ(value_error("abs(-9223372036854775807 - 1)").number(), 1690);
    EXPECT_EQ(value("ceil(1.2)"), "2");
    EXPECT_EQ(value("ceil(-1.2)"), "-1");
    EXPECT_EQ(value("floor(-1.2)"), "-2");
    EXPECT_EQ(value("floor(1.7e0)"), "1");
    EXPECT_EQ(type_of("ceil(1.5e0)"), "BIGINT");
    EXPECT_EQ(value("round(2.5)"), "3");
    EXPECT_EQ(value("round(-2.5)"), "-3");
    EXPECT_EQ(value("round(1.2345, 2)"), "1.23");
    EXPECT_EQ(type_of("round(1.2345, 2)"), "DECIMAL(38, 2)");
    EXPECT_EQ(value("round(1.235e0, 2)"), "1.24");
    EXPECT_EQ(value("round(1234, -2)"), "1200");
    EXPECT_EQ(value("round(1250, -2)"), "1300");
    EXPECT_EQ(value("mod(10, 4)"), "2");
    EXPECT_EQ(value("mod(10, 0)"), "NULL");
    EXPECT_EQ(rows("SELECT abs(n), n * n, n % 2, -n FROM t", words()),
              (strings{"2|4|0|-2", "3|9|1|-3", "NULL|NULL|NULL|NULL", "1|1|-1|1"}));
}

TEST(eval_functions, dates) {
    EXPECT_EQ(value("year('2024-02-29')"), "2024");
    EXPECT_EQ(value("month(CAST('2024-02-29' AS DATE))"), "2");
    EXPECT_EQ(value("day(CAST('2024-02-29' AS DATE))"), "29");
    EXPECT_EQ(value("hour('2024-02-29 13:45:07')"), "13");
    EXPECT_EQ(value("minute('2024-02-29 13:45:07')"), "45");
    EXPECT_EQ(value("second('2024-02-29 13:45:07')"), "7");
    EXPECT_EQ(value("year(NULL)"), "NULL");
    EXPECT_EQ(value("to_date('2024-02-29 13:45:07')"), "2024-02-29");
    EXPECT_EQ(value("date_add(CAST('2024-01-31' AS DATE), INTERVAL 1 MONTH)"), "2024-02-29");
    EXPECT_EQ(value("date_sub(CAST('2024-03-01' AS DATE), INTERVAL 1 DAY)"), "2024-02-29");
    EXPECT_EQ(value("date_add('2024-01-01 10:00:00', INTERVAL 90 MINUTE)"), "2024-01-01 11:30:00");
    EXPECT_EQ(value("CAST('2024-01-01' AS DATE) + INTERVAL 1 YEAR"), "2025-01-01");
    EXPECT_EQ(value("CAST('2024-01-01' AS DATE) - INTERVAL 1 WEEK"), "2023-12-25");
    EXPECT_EQ(value("CAST('2024-01-01' AS DATE) + INTERVAL 1 HOUR"), "2024-01-01 01:00:00");
    EXPECT_EQ(value("days_add(CAST('2024-12-31' AS DATE), 1)"), "2025-01-01");
    EXPECT_EQ(value("days_sub(CAST('2024-01-01' AS DATE), 1)"), "2023-12-31");
    EXPECT_EQ(value("date_add(CAST('2024-01-01' AS DATE), 10)"), "2024-01-11");
    EXPECT_EQ(value("date_add(CAST('9999-12-31' AS DATE), INTERVAL 1 DAY)"), "NULL");
    EXPECT_EQ(value("datediff('2024-03-01', '2024-02-01 23:00:00')"), "29");
    EXPECT_EQ(value("datediff(NULL, '2024-02-01')"), "NULL");
    EXPECT_EQ(rows("SELECT year(d), month(d), second(d), to_date(d), date_add(d, INTERVAL 1 SECOND) FROM t", words()),
              (strings{"2024|2|7|2024-02-29|2024-02-29 13:45:08", "NULL|NULL|NULL|NULL|NULL",
                       "1999|12|59|1999-12-31|2000-01-01 00:00:00.500000",
                       "2024|1|0|2024-01-31|2024-01-31 00:00:01"}));
}

TEST(eval_functions, hashes) {
    EXPECT_EQ(value("murmur_hash3_32('hello')"), "1321743225");
    EXPECT_EQ(value("murmur_hash3_32('hello', 'world')"), "984713481");
    EXPECT_EQ(value("murmur_hash3_32(NULL)"), "NULL");
    EXPECT_EQ(value("xx_hash3_64('hello')"), "-7685981735718036227");
    EXPECT_EQ(value("xx_hash3_64('hello', 'world')"), "7001965798170371843");
    EXPECT_EQ(value("xx_hash3_64('hello', NULL)"), "NULL");
    EXPECT_EQ(value("md5('abc')"), "900150983cd24fb0d6963f7d28e17f72");
    EXPECT_EQ(value("hex('abc')"), "616263");
    EXPECT_EQ(value("hex(255)"), "FF");
    EXPECT_EQ(value("hex(-1)"), "FFFFFFFFFFFFFFFF");
    EXPECT_EQ(value("md5(NULL)"), "NULL");
    EXPECT_EQ(rows("SELECT murmur_hash3_32(s) FROM t LIMIT 2", words()), (strings{"1321743225", "NULL"}));
}

TEST(eval_functions, cast) {
    EXPECT_EQ(value("CAST('12' AS INT) + 1"), "13");
    EXPECT_EQ(value("CAST('abc' AS INT)"), "NULL");
    EXPECT_EQ(value("CAST(300 AS TINYINT)"), "NULL");
    EXPECT_EQ(value("CAST(-1.9 AS BIGINT)"), "-1");
    EXPECT_EQ(value("CAST(1.999e0 AS INT)"), "1");
    EXPECT_EQ(value("CAST(x AS VARCHAR)"), "1");
    EXPECT_EQ(value("CAST(x AS CHAR)"), "1");
    EXPECT_EQ(value("CAST(1.5 AS DECIMAL(5, 2))"), "1.50");
    EXPECT_EQ(value("CAST(1.555 AS DECIMAL(5, 2))"), "1.56");
    EXPECT_EQ(value("CAST(12345.6 AS DECIMAL(5, 2))"), "NULL");
    EXPECT_EQ(value("CAST('2024-1-2' AS DATE)"), "2024-01-02");
    EXPECT_EQ(value("CAST('2024-01-02 03:04:05' AS DATE)"), "2024-01-02");
    EXPECT_EQ(value("CAST('2024-01-02' AS DATETIME)"), "2024-01-02 00:00:00");
    EXPECT_EQ(value("CAST('2024-01-02 03:04:05.120000' AS DATETIME)"), "2024-01-02 03:04:05.120000");
    EXPECT_EQ(value("CAST(20240102 AS DATE)"), "2024-01-02");
    EXPECT_EQ(value("CAST(CAST('2024-01-02' AS DATE) AS BIGINT)"), "20240102");
    EXPECT_EQ(value("CAST('2024-13-02' AS DATE)"), "NULL");
    EXPECT_EQ(value("CAST(x AS DOUBLE) / 4"), "0.25");
    EXPECT_EQ(value("CAST(x AS BOOLEAN)"), "1");
    EXPECT_EQ(value("CAST('true' AS BOOLEAN)"), "1");
    EXPECT_EQ(value("CAST(x AS SIGNED)"), "1");
    EXPECT_EQ(type_of("CAST(x AS SIGNED)"), "BIGINT");
    EXPECT_EQ(value("CAST(NULL AS INT)"), "NULL");
    EXPECT_EQ(value("CAST(0.1e0 AS VARCHAR)"), "0.1");
    EXPECT_EQ(value("CAST(1.50 AS VARCHAR)"), "1.50");
    EXPECT_EQ(value("CAST('170141183460469231731687303715884105727' AS LARGEINT)"),
              "170141183460469231731687303715884105727");
    EXPECT_EQ(rows("SELECT CAST(n AS VARCHAR), CAST(s AS INT), CAST(d AS DATE) FROM t", words()),
              (strings{"2|NULL|2024-02-29", "3|NULL|NULL", "NULL|NULL|1999-12-31", "-1|NULL|2024-01-31"}));
}

TEST(eval_functions, null_arguments_give_null) {
    for (const char* e : {"round(NULL)", "round(1.5, NULL)", "ceil(NULL)", "floor(NULL)", "mod(NULL, 2)",
                          "repeat(NULL, 2)", "repeat('a', NULL)", "rtrim(NULL)", "ltrim(NULL)", "trim(NULL)",
                          "right(NULL, 1)", "left('a', NULL)", "char_length(NULL)", "length(NULL)", "lower(NULL)",
                          "substr(NULL, 1)", "substr('a', NULL)", "lpad(NULL, 2, 'x')", "rpad('a', 2, NULL)",
                          "replace(NULL, 'a', 'b')", "replace('a', NULL, 'b')", "hex(NULL)", "to_date(NULL)",
                          "date_add(NULL, INTERVAL 1 DAY)", "days_add(NULL, 1)", "month(NULL)", "hour(NULL)",
                          "datediff('2024-01-01', NULL)", "nullif(NULL, 1)", "xx_hash3_64(NULL)",
                          "CAST(NULL AS DATE)", "concat_ws('-', NULL)"}) {
        std::string want = std::string_view(e) == "concat_ws('-', NULL)" ? "" : "NULL";
        EXPECT_EQ(value(e), want) << e;
    }
}
