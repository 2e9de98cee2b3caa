// SPDX-License-Identifier: Apache-2.0
// CSV splitting for Stream Load: separators, pieces split anywhere, enclosures, escapes, headers.
#include "sql/load/csv_reader.hh"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tv::sql {
namespace {

using rows_t = std::vector<std::vector<std::string>>;

/// Feeds `text` in pieces of `piece` bytes and collects every row.
rows_t read_all(csv_format format, std::string_view text, size_t piece) {
    csv_reader reader(std::move(format));
    rows_t rows;
    std::vector<std::string_view> fields;
    auto take = [&] {
        while (reader.next_row(fields)) {
            rows.emplace_back(fields.begin(), fields.end());
        }
    };
    for (size_t i = 0; i < text.size(); i += piece) {
        reader.feed(text.substr(i, piece));
        take();
    }
    reader.finish();
    take();
    return rows;
}

csv_format comma() {
    csv_format f;
    f.column_separator = ",";
    return f;
}

TEST(CsvReader, SplitsRowsAndFieldsWhateverThePieceSize) {
    std::string text = "1,a,x\n2,bb,\n3,,zzz\n";
    rows_t want = {{"1", "a", "x"}, {"2", "bb", ""}, {"3", "", "zzz"}};
    for (size_t piece : {1, 2, 3, 7, 100}) {
        EXPECT_EQ(read_all(comma(), text, piece), want) << "piece " << piece;
    }
}

TEST(CsvReader, LastRowWithoutDelimiterCountsOnlyAtFinish) {
    csv_reader reader(comma());
    std::vector<std::string_view> fields;
    reader.feed("1,a\n2,b");
    ASSERT_TRUE(reader.next_row(fields));
    EXPECT_FALSE(reader.next_row(fields));
    reader.finish();
    ASSERT_TRUE(reader.next_row(fields));
    EXPECT_EQ(fields, (std::vector<std::string_view>{"2", "b"}));
    EXPECT_FALSE(reader.next_row(fields));
}

TEST(CsvReader, CrLfLinesLoseTheirCarriageReturn) {
    EXPECT_EQ(read_all(comma(), "1,a\r\n2,b\r\n", 4), (rows_t{{"1", "a"}, {"2", "b"}}));
}

TEST(CsvReader, MultiByteSeparatorsAndDelimiters) {
    csv_format f;
    f.column_separator = "||";
    f.row_delimiter = "##";
    EXPECT_EQ(read_all(f, "1||a##2||b|c##", 3), (rows_t{{"1", "a"}, {"2", "b|c"}}));
}

TEST(CsvReader, EnclosedFieldsHoldSeparatorsDelimitersAndEscapes) {
    csv_format f = comma();
    f.enclose = '"';
    f.escape = '\\';
    std::string text = "1,\"a,b\",\"line\nbreak\"\n2,\"say \"\"hi\"\"\",\"back\\\"slash\"\n";
    rows_t want = {{"1", "a,b", "line\nbreak"}, {"2", "say \"hi\"", "back\"slash"}};
    for (size_t piece : {1, 5, 1000}) {
        EXPECT_EQ(read_all(f, text, piece), want) << "piece " << piece;
    }
}

// The row search resumes where the previous piece stopped it: a piece may end inside a
// multi-byte delimiter or separator, on an escape, or between the two halves of a doubled
// enclosure, and the rows must come out as from one piece.
TEST(CsvReader, ResumedScansMatchOnePieceAtEveryCut) {
    csv_format f;
    f.column_separator = "|;";
    f.row_delimiter = "#\n";
    f.enclose = '\'';
    f.escape = '~';
    std::string text = "1|;'a|;b#\nc'|;x#\n'it''s'|;'~'q~~'#\n|;'#'|;z|#\n'ends'|;~";
    rows_t whole = read_all(f, text, text.size());
    rows_t want = {{"1", "a|;b#\nc", "x"}, {"it's", "'q~"}, {"", "#", "z|"}, {"ends", "~"}};
    EXPECT_EQ(whole, want);
    for (size_t piece = 1; piece < text.size(); ++piece) {
        EXPECT_EQ(read_all(f, text, piece), want) << "piece " << piece;
    }
    csv_format plain;
    plain.column_separator = "|;";
    plain.row_delimiter = "#\n";
    std::string flat = "1|;2#\n#3|;4#\n5";
    for (size_t piece = 1; piece <= flat.size(); ++piece) {
        EXPECT_EQ(read_all(plain, flat, piece), (rows_t{{"1", "2"}, {"#3", "4"}, {"5"}})) << "piece " << piece;
    }
}

// A field far larger than a piece (a client's 64 MB value) arrives in pieces and comes out whole
// once its row ends; the reader keeps only that row.
TEST(CsvReader, AFieldLargerThanManyPiecesComesOutWhole) {
    std::string big(4 << 20, 'x');
    std::string text = "1," + big + "\n2,y\n";
    rows_t rows = read_all(comma(), text, 64 << 10);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0][1].size(), big.size());
    EXPECT_EQ(rows[1], (std::vector<std::string>{"2", "y"}));
}

TEST(CsvReader, SkipHeaderAndTrimSpace) {
    csv_format f = comma();
    f.skip_header = 1;
    f.trim_space = true;
    EXPECT_EQ(read_all(f, "id,name\n 1 , a \n", 2), (rows_t{{"1", "a"}}));
}

TEST(CsvReader, EmptyLineIsOneEmptyField) {
    EXPECT_EQ(read_all(comma(), "1,a\n\n2,b\n", 100), (rows_t{{"1", "a"}, {""}, {"2", "b"}}));
}

TEST(CsvReader, SeparatorNotation) {
    EXPECT_EQ(std::get<0>(parse_separator("\\x01")), std::string(1, '\x01'));
    EXPECT_EQ(std::get<0>(parse_separator("\\t")), "\t");
    EXPECT_EQ(std::get<0>(parse_separator(",")), ",");
    EXPECT_EQ(std::get<0>(parse_separator("\\\\")), "\\");
    EXPECT_EQ(std::get<1>(parse_separator("")), "empty separator");
    EXPECT_NE(std::get<1>(parse_separator("\\xZ1")).find("bad hex escape"), std::string::npos);
}

TEST(CsvReader, CountsConsumedBytes) {
    csv_reader reader(comma());
    std::vector<std::string_view> fields;
    reader.feed("1,a\n22,b\n");
    while (reader.next_row(fields)) {
    }
    EXPECT_EQ(reader.bytes_consumed(), 9u);
}

}  // namespace
}  // namespace tv::sql
