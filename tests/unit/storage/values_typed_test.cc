// SPDX-License-Identifier: Apache-2.0
// parse_typed / format_typed: text as users write it to physical values and back, and civil dates.
#include "storage/values.hh"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace tv::storage {
namespace {

column_type type_of(std::string_view sql) {
    auto t = column_type::from_sql(sql);
    if (!t) {
        throw std::runtime_error(t.error().message);
    }
    return *t;
}

/// parse then format: the round trip users see, or "ERROR: message".
std::string shown(std::string_view type_sql, std::string_view text) {
    column_type t = type_of(type_sql);
    auto v = parse_typed(t, text);
    if (!v) {
        EXPECT_EQ(v.error().code, storage_errc::invalid_value) << type_sql << " " << text;
        return "ERROR: " + v.error().message;
    }
    EXPECT_EQ(v->index(), static_cast<size_t>(physical_of(t.kind)) + 1) << type_sql << " " << text;
    return format_typed(t, v->as_cell());
}

TEST(CivilDates, KnownDaysAndRoundTrip) {
    EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
    EXPECT_EQ(days_from_civil(2000, 3, 1), 11017);
    EXPECT_EQ(days_from_civil(1969, 12, 31), -1);
    EXPECT_EQ(days_from_civil(0, 1, 1), -719528);
    EXPECT_EQ(days_from_civil(9999, 12, 31), 2932896);
    for (int32_t d = -719528; d <= 2932896; d += 17) {
        civil_date c = civil_from_days(d);
        ASSERT_EQ(days_from_civil(c.year, c.month, c.day), d);
    }
    EXPECT_EQ(civil_from_days(19724), (civil_date{2024, 1, 2}));
}

TEST(ParseTyped, Integers) {
    EXPECT_EQ(shown("INT", " 007 "), "7");
    EXPECT_EQ(shown("INT", "-2147483648"), "-2147483648");
    EXPECT_EQ(shown("INT", "2147483648"), "ERROR: Invalid INT value: '2147483648'");
    EXPECT_EQ(shown("TINYINT", "-128"), "-128");
    EXPECT_EQ(shown("TINYINT", "128"), "ERROR: Invalid TINYINT value: '128'");
    EXPECT_EQ(shown("SMALLINT", "+12"), "12");
    EXPECT_EQ(shown("BIGINT", "-9223372036854775808"), "-9223372036854775808");
    EXPECT_EQ(shown("LARGEINT", "-170141183460469231731687303715884105728"),
              "-170141183460469231731687303715884105728");
    EXPECT_EQ(shown("LARGEINT", "170141183460469231731687303715884105727"),
              "170141183460469231731687303715884105727");
    EXPECT_EQ(shown("INT", "1.0"), "ERROR: Invalid INT value: '1.0'");
    EXPECT_EQ(shown("INT", ""), "ERROR: Invalid INT value: ''");
}

TEST(ParseTyped, Booleans) {
    EXPECT_EQ(shown("BOOLEAN", "true"), "1");
    EXPECT_EQ(shown("BOOLEAN", "FALSE"), "0");
    EXPECT_EQ(shown("BOOLEAN", "1"), "1");
    EXPECT_EQ(shown("BOOLEAN", "0"), "0");
    EXPECT_EQ(shown("BOOLEAN", "2"), "ERROR: Invalid BOOLEAN value: '2'");
}

TEST(ParseTyped, Decimals) {
    EXPECT_EQ(shown("DECIMAL(5, 2)", "1.50"), "1.50");
    EXPECT_EQ(shown("DECIMAL(5, 2)", "1.5"), "1.50");
    EXPECT_EQ(shown("DECIMAL(5, 2)", "-0.5"), "-0.50");
    EXPECT_EQ(shown("DECIMAL(5, 2)", "0"), "0.00");
    EXPECT_EQ(shown("DECIMAL(5, 2)", ".5"), "0.50");
    EXPECT_EQ(shown("DECIMAL(5, 2)", "7."), "7.00");
    EXPECT_EQ(shown("DECIMAL(5, 2)", "1.005"), "1.01");     // half away from zero
    EXPECT_EQ(shown("DECIMAL(5, 2)", "-1.005"), "-1.01");
    EXPECT_EQ(shown("DECIMAL(5, 2)", "1.00499"), "1.00");
    EXPECT_EQ(shown("DECIMAL(5, 2)", "0.001"), "0.00");
    EXPECT_EQ(shown("DECIMAL(5, 2)", "123.45"), "123.45");
    EXPECT_EQ(shown("DECIMAL(5, 2)", "1234.5"), "ERROR: Invalid DECIMAL(5, 2) value: '1234.5'");
    EXPECT_EQ(shown("DECIMAL(5, 2)", "999.995"), "ERROR: Invalid DECIMAL(5, 2) value: '999.995'");
    EXPECT_EQ(shown("DECIMAL(5, 2)", "999.994"), "999.99");
    EXPECT_EQ(shown("DECIMAL(5, 2)", "00012.3"), "12.30");
    EXPECT_EQ(shown("DECIMAL(5, 2)", "1.2e2"), "120.00");
    EXPECT_EQ(shown("DECIMAL(5, 2)", "12e-3"), "0.01");
    EXPECT_EQ(shown("DECIMAL(5, 2)", "1x"), "ERROR: Invalid DECIMAL(5, 2) value: '1x'");
    EXPECT_EQ(shown("DECIMAL(5, 2)", "."), "ERROR: Invalid DECIMAL(5, 2) value: '.'");
    EXPECT_EQ(shown("DECIMAL(10, 0)", "-12"), "-12");
    EXPECT_EQ(shown("DECIMAL(38, 38)", "0.12345678901234567890123456789012345678"),
              "0.12345678901234567890123456789012345678");
    EXPECT_EQ(shown("DECIMAL(38, 0)", "99999999999999999999999999999999999999"),
              "99999999999999999999999999999999999999");
    EXPECT_EQ(shown("DECIMAL(38, 0)", "100000000000000000000000000000000000000"),
              "ERROR: Invalid DECIMAL(38, 0) value: '100000000000000000000000000000000000000'");
    auto v = parse_typed(type_of("DECIMAL(5, 2)"), "-1.5");
    ASSERT_TRUE(v);
    EXPECT_TRUE(std::get<int128>(*v) == -150);
}

TEST(ParseTyped, DatesAndDatetimes) {
    auto d = parse_typed(type_of("DATE"), "2024-1-2");
    ASSERT_TRUE(d);
    EXPECT_EQ(std::get<int32_t>(*d), 19724);
    EXPECT_EQ(shown("DATE", "2024-1-2"), "2024-01-02");
    EXPECT_EQ(shown("DATE", "1969-12-31"), "1969-12-31");
    EXPECT_EQ(shown("DATE", "0000-01-01"), "0000-01-01");
    EXPECT_EQ(shown("DATE", "9999-12-31"), "9999-12-31");
    EXPECT_EQ(shown("DATE", "2024-02-30"), "ERROR: Invalid DATE value: '2024-02-30'");
    EXPECT_EQ(shown("DATE", "2024-01-02 00:00:00"), "ERROR: Invalid DATE value: '2024-01-02 00:00:00'");
    auto dt = parse_typed(type_of("DATETIME"), "1970-01-01 00:00:01.5");
    ASSERT_TRUE(dt);
    EXPECT_EQ(std::get<int64_t>(*dt), 1500000);
    EXPECT_EQ(shown("DATETIME", "2024-01-02"), "2024-01-02 00:00:00");
    EXPECT_EQ(shown("DATETIME", "2024-01-02 3:04:05"), "2024-01-02 03:04:05");
    EXPECT_EQ(shown("DATETIME", "2024-01-02T03:04:05.123"), "2024-01-02 03:04:05.123000");
    EXPECT_EQ(shown("DATETIME", "1969-12-31 23:59:59.999999"), "1969-12-31 23:59:59.999999");
    EXPECT_EQ(shown("DATETIME", "0000-01-01 00:00:00"), "0000-01-01 00:00:00");
    EXPECT_EQ(shown("DATETIME", "2024-01-02 24:00:00"), "ERROR: Invalid DATETIME value: '2024-01-02 24:00:00'");
}

TEST(ParseTyped, Floats) {
    EXPECT_EQ(shown("DOUBLE", "0.1"), "0.1");
    EXPECT_EQ(shown("DOUBLE", "1e20"), "1e+20");
    EXPECT_EQ(shown("DOUBLE", "-2.5"), "-2.5");
    EXPECT_EQ(shown("DOUBLE", "3"), "3");
    EXPECT_EQ(shown("DOUBLE", "inf"), "inf");
    EXPECT_EQ(shown("DOUBLE", "-Infinity"), "-inf");
    EXPECT_EQ(shown("DOUBLE", "nan"), "nan");
    EXPECT_EQ(shown("DOUBLE", "1e999"), "ERROR: Invalid DOUBLE value: '1e999'");
    EXPECT_EQ(shown("DOUBLE", "abc"), "ERROR: Invalid DOUBLE value: 'abc'");
    EXPECT_EQ(shown("FLOAT", "0.1"), "0.1");
    EXPECT_EQ(shown("FLOAT", "1e39"), "ERROR: Invalid FLOAT value: '1e39'");
    auto f = parse_typed(type_of("FLOAT"), "0.1");
    ASSERT_TRUE(f);
    EXPECT_EQ(std::get<float>(*f), 0.1f);
    EXPECT_EQ(format_typed(type_of("DOUBLE"), cell{std::numeric_limits<double>::quiet_NaN() * -1}), "nan");
}

TEST(ParseTyped, Strings) {
    EXPECT_EQ(shown("VARCHAR(3)", "abc"), "abc");
    EXPECT_EQ(shown("VARCHAR(3)", "abcd"), "ERROR: String 'abcd' is too long for VARCHAR(3)");
    EXPECT_EQ(shown("VARCHAR(3)", "é"), "é");                                     // 2 bytes
    EXPECT_EQ(shown("VARCHAR(3)", "éé"), "ERROR: String 'éé' is too long for VARCHAR(3)");  // 4 bytes
    EXPECT_EQ(shown("CHAR(3)", " ab"), " ab");
    EXPECT_EQ(shown("STRING", "  x  "), "  x  ");
    EXPECT_EQ(shown("JSON", "{\"a\": 1}"), "{\"a\": 1}");
}

TEST(ParseTyped, AgreesWithNormalizeValue) {
    const char* types[] = {"INT", "TINYINT", "LARGEINT", "DECIMAL(5, 2)", "DATE", "DATETIME", "BOOLEAN", "DOUBLE",
                           "FLOAT", "VARCHAR(3)"};
    const char* texts[] = {"7", " 007 ", "1.5", "999.995", "1e3", "2024-1-2", "2024-01-02 03:04:05.1", "true", "x",
                           "", "-0", "abcd", "128", "1e999", "nan", "."};
    for (const char* ts : types) {
        column_type t = type_of(ts);
        for (const char* text : texts) {
            auto typed = parse_typed(t, text);
            auto normalized = normalize_value(t, text);
            ASSERT_EQ(typed.has_value(), normalized.has_value()) << ts << " '" << text << "'";
            if (!typed) {
                EXPECT_EQ(typed.error().message, normalized.error().message) << ts << " '" << text << "'";
            }
            if (typed && normalized) {
                // The normalized text parses to the same value.
                auto again = parse_typed(t, *normalized);
                ASSERT_TRUE(again) << ts << " " << *normalized;
                EXPECT_EQ(format_typed(t, again->as_cell()), format_typed(t, typed->as_cell()));
            }
        }
    }
}

TEST(FormatTyped, NullIsEmpty) {
    EXPECT_EQ(format_typed(type_of("INT"), cell{}), "");
}

}  // namespace
}  // namespace tv::storage
