// SPDX-License-Identifier: Apache-2.0
// Lexer: token kinds and decoded values, quoting rules, numbers, comments, positions, errors.
#include "sql/parser/lexer.hh"

#include <gtest/gtest.h>

using namespace tv::sql;

namespace {

std::vector<token> lex(std::string_view sql) {
    auto result = tokenize(sql);
    if (auto* error = std::get_if<lex_error>(&result)) {
        ADD_FAILURE() << "lex error for [" << sql << "]: " << error->detail;
        return {};
    }
    return std::get<std::vector<token>>(std::move(result));
}

lex_error lex_fails(std::string_view sql) {
    auto result = tokenize(sql);
    if (auto* error = std::get_if<lex_error>(&result)) {
        return *error;
    }
    ADD_FAILURE() << "expected a lex error for [" << sql << "]";
    return {};
}

// "kind:value" per token, end token excluded, for compact expectations.
std::vector<std::string> shapes(std::string_view sql) {
    std::vector<std::string> out;
    for (const auto& t : lex(sql)) {
        if (t.kind == token_kind::end) {
            break;
        }
        const char* kind = "";
        switch (t.kind) {
        case token_kind::word: kind = "w"; break;
        case token_kind::quoted_identifier: kind = "q"; break;
        case token_kind::string: kind = "s"; break;
        case token_kind::integer: kind = "i"; break;
        case token_kind::decimal: kind = "d"; break;
        case token_kind::floating: kind = "f"; break;
        case token_kind::symbol: kind = "y"; break;
        case token_kind::end: break;
        }
        out.push_back(std::string(kind) + ":" + t.value);
    }
    return out;
}

using list = std::vector<std::string>;

}  // namespace

TEST(lexer, words_keep_their_case_and_match_keywords_ignoring_it) {
    auto tokens = lex("sElEcT Backup");
    ASSERT_EQ(tokens.size(), 3u);
    EXPECT_EQ(tokens[0].kind, token_kind::word);
    EXPECT_EQ(tokens[0].value, "sElEcT");
    EXPECT_TRUE(tokens[0].is_keyword("SELECT"));
    EXPECT_FALSE(tokens[0].is_keyword("SELEC"));
    EXPECT_TRUE(tokens[1].is_keyword("BACKUP"));
    EXPECT_EQ(tokens[2].kind, token_kind::end);
}

TEST(lexer, backquoted_identifiers_are_never_keywords) {
    auto tokens = lex("`select` `a``b` `with space` ``");
    ASSERT_EQ(tokens.size(), 5u);
    EXPECT_EQ(tokens[0].kind, token_kind::quoted_identifier);
    EXPECT_EQ(tokens[0].value, "select");
    EXPECT_FALSE(tokens[0].is_keyword("SELECT"));
    EXPECT_EQ(tokens[1].value, "a`b");
    EXPECT_EQ(tokens[1].raw, "`a``b`");
    EXPECT_EQ(tokens[2].value, "with space");
    EXPECT_EQ(tokens[3].value, "");
}

TEST(lexer, both_quote_styles_are_strings_with_escapes_and_doubled_quotes) {
    EXPECT_EQ(shapes(R"('it''s' "say ""hi""" 'a\'b' "a\"b")"),
              (list{"s:it's", "s:say \"hi\"", "s:a'b", "s:a\"b"}));
    auto tokens = lex(R"('\n\t\r\0\\\Z\b\q' '\%\_')");
    ASSERT_EQ(tokens.size(), 3u);
    EXPECT_EQ(tokens[0].value, std::string("\n\t\r\0\\\x1a\bq", 8));
    // MySQL keeps \% and \_ escaped so LIKE can still tell them from wildcards.
    EXPECT_EQ(tokens[1].value, "\\%\\_");
    EXPECT_EQ(shapes(R"("it's" 'say "hi"')"), (list{"s:it's", "s:say \"hi\""}));
}

TEST(lexer, numbers) {
    EXPECT_EQ(shapes("0 42 170141183460469231731687303715884105727 1.5 .5 3. 1e3 1.5E-3 2e+7"),
              (list{"i:0", "i:42", "i:170141183460469231731687303715884105727", "d:1.5", "d:.5", "d:3.",
                    "f:1e3", "f:1.5E-3", "f:2e+7"}));
}

TEST(lexer, identifiers_may_start_with_digits) {
    EXPECT_EQ(shapes("2024_label 1abc 1e"), (list{"w:2024_label", "w:1abc", "w:1e"}));
}

TEST(lexer, a_dot_after_a_name_qualifies_instead_of_starting_a_number) {
    EXPECT_EQ(shapes("t.5 db.t x .5"), (list{"w:t", "y:.", "i:5", "w:db", "y:.", "w:t", "w:x", "d:.5"}));
}

TEST(lexer, symbols_take_the_longest_match) {
    EXPECT_EQ(shapes("<=> <= < <> != >= > @@x @y || && ... :="),
              (list{"y:<=>", "y:<=", "y:<", "y:<>", "y:!=", "y:>=", "y:>", "y:@@", "w:x", "y:@", "w:y", "y:||",
                    "y:&&", "y:...", "y::="}));
    EXPECT_EQ(shapes("VALUES [(1), (2))"),
              (list{"w:VALUES", "y:[", "y:(", "i:1", "y:)", "y:,", "y:(", "i:2", "y:)", "y:)"}));
}

TEST(lexer, comments_of_all_three_kinds_are_skipped) {
    EXPECT_EQ(shapes("a -- one\nb # two\nc /* three\nlines */ d --no space needed\ne"),
              (list{"w:a", "w:b", "w:c", "w:d", "w:e"}));
    EXPECT_EQ(shapes("1--2"), (list{"i:1"}));  // StarRocks: `--` always starts a comment
    EXPECT_EQ(shapes("a/**/b"), (list{"w:a", "w:b"}));
    EXPECT_EQ(shapes("-- only a comment"), list{});
}

TEST(lexer, positions_are_one_based_lines_and_character_columns) {
    auto tokens = lex("SELECT a,\n  `b` -- c\n\t'é' x");
    ASSERT_EQ(tokens.size(), 7u);
    EXPECT_EQ(tokens[0].pos.line, 1);
    EXPECT_EQ(tokens[0].pos.column, 1);
    EXPECT_EQ(tokens[1].pos.column, 8);
    EXPECT_EQ(tokens[2].pos.column, 9);
    EXPECT_EQ(tokens[3].pos.line, 2);
    EXPECT_EQ(tokens[3].pos.column, 3);
    EXPECT_EQ(tokens[3].pos.offset, 12u);
    EXPECT_EQ(tokens[4].pos.line, 3);
    EXPECT_EQ(tokens[4].pos.column, 2);  // a tab is one column
    // 'é' is two bytes but one character, so x sits at column 2 + 3 + 1.
    EXPECT_EQ(tokens[5].value, "x");
    EXPECT_EQ(tokens[5].pos.column, 6);
    EXPECT_EQ(tokens[6].kind, token_kind::end);
    EXPECT_EQ(tokens[6].pos.column, 7);
}

TEST(lexer, raw_text_and_end_offset_cover_the_source) {
    std::string_view sql = "  'a''b'  ";
    auto tokens = lex(sql);
    ASSERT_EQ(tokens.size(), 2u);
    EXPECT_EQ(tokens[0].raw, "'a''b'");
    EXPECT_EQ(tokens[0].pos.offset, 2u);
    EXPECT_EQ(tokens[0].end_offset(), 8u);
}

TEST(lexer, non_ascii_words_are_identifiers) {
    EXPECT_EQ(shapes("表一 naïve"), (list{"w:表一", "w:naïve"}));
}

TEST(lexer, nul_bytes_inside_strings_are_data_outside_they_are_errors) {
    auto tokens = lex(std::string_view("'a\0b'", 5));
    ASSERT_EQ(tokens.size(), 2u);
    EXPECT_EQ(tokens[0].value, std::string("a\0b", 3));
    auto error = lex_fails(std::string_view("SELECT \0", 8));
    EXPECT_EQ(error.detail, "Unexpected character.");
    EXPECT_EQ(error.pos.column, 8);
    EXPECT_EQ(error.near, std::string(1, '\0'));
}

TEST(lexer, unterminated_things_are_errors_at_their_start) {
    auto s = lex_fails("SELECT 'abc");
    EXPECT_EQ(s.detail, "Unterminated string literal.");
    EXPECT_EQ(s.pos.line, 1);
    EXPECT_EQ(s.pos.column, 8);
    EXPECT_EQ(s.near, "'abc");
    EXPECT_EQ(lex_fails("a \"x\\\"").detail, "Unterminated string literal.");  // \" does not close
    auto q = lex_fails("SELECT\n `abc");
    EXPECT_EQ(q.detail, "Unterminated quoted identifier.");
    EXPECT_EQ(q.pos.line, 2);
    EXPECT_EQ(q.pos.column, 2);
    auto c = lex_fails("a /* never closed");
    EXPECT_EQ(c.detail, "Unterminated comment.");
    EXPECT_EQ(c.pos.column, 3);
}

TEST(lexer, unknown_characters_are_errors) {
    auto e = lex_fails("SELECT \\");
    EXPECT_EQ(e.detail, "Unexpected character.");
    EXPECT_EQ(e.near, "\\");
}

TEST(lexer, empty_and_whitespace_inputs_give_only_the_end_token) {
    for (std::string_view sql : {"", "   ", "\n\n", "/* x */"}) {
        auto tokens = lex(sql);
        ASSERT_EQ(tokens.size(), 1u) << sql;
        EXPECT_EQ(tokens[0].kind, token_kind::end);
    }
}

TEST(lexer, huge_identifier_is_one_token) {
    std::string name(1 << 20, 'x');
    auto tokens = lex(name);
    ASSERT_EQ(tokens.size(), 2u);
    EXPECT_EQ(tokens[0].value.size(), name.size());
}
