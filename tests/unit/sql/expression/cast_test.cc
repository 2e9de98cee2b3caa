// SPDX-License-Identifier: Apache-2.0
// cast_batch: a batch converted to a table's column types; strict mode names the first bad
// value (with MySQL's error numbers), lenient mode drops and counts bad rows.
#include "unit/sql/query/query_test_util.hh"

using namespace tv::sql;
using namespace tv::sql::qtest;

namespace {

using strings = std::vector<std::string>;

std::vector<std::string> text_rows(const tv::storage::column_batch& b) {
    std::vector<std::string> out;
    for (size_t r = 0; r < b.num_rows(); ++r) {
        std::string line;
        for (size_t c = 0; c < b.num_columns(); ++c) {
            auto cell = b.get(r, c);
            line += (c == 0 ? "" : "|") +
                    (tv::storage::is_null(cell) ? std::string("NULL") : tv::storage::format_typed(b.schema()[c].type, cell));
        }
        out.push_back(line);
    }
    return out;
}

}  // namespace

TEST(cast_batch, converts_every_column) {
    auto in = batch_of({col("a", "BIGINT"), col("b", "VARCHAR(10)"), col("c", "VARCHAR(30)"), col("d", "DOUBLE")},
                       {{"1", "2024-01-02", "12.345", "1.5"}, {"-7", std::nullopt, "0", "2"}});
    std::vector<column_desc> target = {col("i", "INT"), col("day", "DATE"), col("amount", "DECIMAL(6, 2)"),
                                       col("s", "VARCHAR(8)")};
    auto r = cast_batch(in, target, true);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    const auto& out = *r;
    EXPECT_EQ(out.rows.schema(), target);
    EXPECT_EQ(text_rows(out.rows), (strings{"1|2024-01-02|12.35|1.5", "-7|NULL|0.00|2"}));
    EXPECT_EQ(out.filtered, 0u);
}

TEST(cast_batch, strict_errors_name_column_row_and_value) {
    auto in = batch_of({col("a", "VARCHAR(20)")}, {{"5"}, {"abc"}});
    auto r = cast_batch(in, {col("n", "INT")}, true);
    ASSERT_TRUE(r.has_error());
    EXPECT_EQ(r.error().number(), 1366);
    EXPECT_EQ(r.error().message, "Incorrect INT value: 'abc' for column 'n' at row 2");

    auto big = batch_of({col("a", "BIGINT")}, {{"300"}});
    auto o = cast_batch(big, {col("t", "TINYINT")}, true).error();
    EXPECT_EQ(o.number(), 1264);
    EXPECT_EQ(o.message, "Out of range value '300' for column 't' (TINYINT) at row 1");

    auto longer = batch_of({col("a", "VARCHAR(40)")}, {{"too long for eight"}});
    auto l = cast_batch(longer, {col("note", "VARCHAR(8)")}, true, 10).error();
    EXPECT_EQ(l.number(), 1406);
    EXPECT_EQ(l.message, "Data too long for column 'note' (VARCHAR(8)) at row 11: 'too long for eight'");

    auto nulls = batch_of({col("a", "INT")}, {{"1"}, {std::nullopt}});
    auto n = cast_batch(nulls, {col("id", "INT", false)}, true).error();
    EXPECT_EQ(n.number(), 1048);
    EXPECT_EQ(n.message, "Column 'id' cannot be null");

    auto dec = batch_of({col("a", "DOUBLE")}, {{"123456.7"}});
    EXPECT_EQ(cast_batch(dec, {col("m", "DECIMAL(5, 2)")}, true).error().number(), 1264);

    auto day = batch_of({col("a", "VARCHAR(20)")}, {{"2024-02-30"}});
    EXPECT_EQ(cast_batch(day, {col("d", "DATE")}, true).error().message,
              "Incorrect DATE value: '2024-02-30' for column 'd' at row 1");
}

TEST(cast_batch, first_bad_row_across_columns) {
    auto in = batch_of({col("a", "VARCHAR(20)"), col("b", "VARCHAR(20)")}, {{"1", "1"}, {"2", "x"}, {"y", "3"}});
    auto e = cast_batch(in, {col("a", "INT"), col("b", "INT")}, true).error();
    EXPECT_EQ(e.message, "Incorrect INT value: 'x' for column 'b' at row 2");
}

TEST(cast_batch, lenient_drops_and_counts) {
    auto in = batch_of({col("a", "VARCHAR(20)"), col("b", "VARCHAR(20)")},
                       {{"1", "ok"}, {"x", "ok"}, {"3", "much too long"}, {"4", std::nullopt}, {"5", "fine"}});
    auto r = cast_batch(in, {col("a", "INT"), col("b", "VARCHAR(5)", false)}, false);
    ASSERT_TRUE(r.has_value());
    const auto& out = *r;
    EXPECT_EQ(out.filtered, 3u);
    EXPECT_EQ(out.first_error, "Incorrect INT value: 'x' for column 'a' at row 2");
    EXPECT_EQ(text_rows(out.rows), (strings{"1|ok", "5|fine"}));
}

TEST(cast_batch, column_count_must_match) {
    auto in = batch_of({col("a", "INT")}, {{"1"}});
    EXPECT_TRUE(cast_batch(in, {col("a", "INT"), col("b", "INT")}, true).has_error());
}

TEST(cast_batch, every_storage_type_from_text_and_back) {
    const char* types[] = {"BOOLEAN", "TINYINT",       "SMALLINT", "INT",      "BIGINT",     "LARGEINT", "FLOAT",
                           "DOUBLE",  "DECIMAL(9, 3)", "DATE",     "DATETIME", "CHAR(10)",   "VARCHAR(10)", "STRING"};
    const char* values[] = {"1",   "-5",      "300",        "70000",      "-9000000000", "12345678901234567890123",
                            "1.5", "0.125",   "123456.789", "2024-06-30", "2024-06-30 12:00:01.000250",
                            "c",   "v",       "s"};
    std::vector<column_desc> text_schema;
    std::vector<column_desc> typed;
    text_row row;
    for (size_t i = 0; i < std::size(types); ++i) {
        text_schema.push_back(col("c" + std::to_string(i), "VARCHAR(64)"));
        typed.push_back(col("c" + std::to_string(i), types[i]));
        row.push_back(values[i]);
    }
    auto r = cast_batch(batch_of(text_schema, {row}), typed, true);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    auto back = cast_batch(r->rows, text_schema, true);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(text_rows(back->rows),
              (strings{"1|-5|300|70000|-9000000000|12345678901234567890123|1.5|0.125|123456.789|2024-06-30|"
                       "2024-06-30 12:00:01.000250|c|v|s"}));
}

TEST(cast_batch, numbers_between_types) {
    auto in = batch_of({col("a", "BIGINT"), col("b", "DECIMAL(10, 4)"), col("c", "DOUBLE"), col("d", "DATETIME")},
                       {{"42", "-3.5555", "2.5", "2024-01-02 03:04:05"}});
    auto r = cast_batch(in, {col("a", "DECIMAL(4, 1)"), col("b", "INT"), col("c", "DECIMAL(5, 0)"), col("d", "DATE")},
                        true);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(text_rows(r->rows), (strings{"42.0|-3|3|2024-01-02"}));
}

TEST(cast_batch, taking_the_batch_moves_what_needs_no_conversion) {
    auto in = batch_of({col("a", "BIGINT", false), col("b", "VARCHAR(65533)", false), col("c", "BIGINT", false)},
                       {{"1", "short", "7"}, {"2", "text", "8"}});
    const int64_t* before = in.column(0).values<int64_t>().data();
    std::vector<column_desc> target = {col("a", "BIGINT", false), col("b", "VARCHAR(8)", false), col("c", "INT", false)};
    auto r = cast_batch(std::move(in), target, true);
    ASSERT_TRUE(r.has_value());
    const auto& out = r->rows;
    EXPECT_EQ(out.column(0).values<int64_t>().data(), before);  // moved, not copied
    EXPECT_EQ(text_rows(out), (strings{"1|short|7", "2|text|8"}));

    auto longer = batch_of({col("b", "VARCHAR(65533)")}, {{"ok"}, {"far too long"}});
    auto e = cast_batch(std::move(longer), {col("b", "VARCHAR(8)")}, true);
    ASSERT_TRUE(e.has_error());
    EXPECT_EQ(e.error().message, "Data too long for column 'b' (VARCHAR(8)) at row 2: 'far too long'");
}
