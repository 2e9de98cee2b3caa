// SPDX-License-Identifier: Apache-2.0
// Parser entry point, token cursor, StarRocks-style error messages, statement dispatch.
#include "sql/parser/parser_detail.hh"

#include <algorithm>
#include <array>
#include <tuple>

namespace tv::sql {

namespace detail {

namespace {

// Kept sorted for binary search. Words that would make the grammar ambiguous as bare names
// (mostly MySQL's reserved words that StarRocks reserves too). Type names and the backup
// vocabulary (SNAPSHOT, REPOSITORY, LABEL, TIMESTAMP, ...) stay usable as names.
constexpr std::array<std::string_view, 83> reserved_words = {
    "ADD",       "ALL",          "ALTER",        "AND",
    "AS",        "ASC",          "BETWEEN",      "BY",
    "CASE",      "CAST",         "COLLATE",      "CREATE",
    "CROSS",     "CURRENT_DATE", "CURRENT_TIME", "CURRENT_TIMESTAMP",
    "CURRENT_USER", "DATABASE",  "DATABASES",    "DEFAULT",
    "DELETE",    "DESC",         "DESCRIBE",     "DISTINCT",
    "DISTRIBUTED", "DIV",        "DROP",         "ELSE",
    "EXCEPT",    "EXISTS",       "EXPLAIN",      "FALSE",
    "FOR",       "FROM",         "FULL",         "GRANT",
    "GROUP",     "HAVING",       "IF",           "IN",
    "INNER",     "INSERT",       "INTERSECT",    "INTERVAL",
    "INTO",      "IS",           "JOIN",         "KEY",
    "KILL",      "LEFT",         "LIKE",         "LIMIT",
    "MAXVALUE",  "MOD",          "NOT",          "NULL",
    "ON",        "OR",           "ORDER",        "OUTER",
    "PARTITION", "PRIMARY",      "REGEXP",       "REVOKE",
    "RIGHT",     "RLIKE",        "SELECT",       "SET",
    "SHOW",      "TABLE",        "THEN",         "TO",
    "TRUE",      "UNION",        "UNIQUE",       "UPDATE",
    "USE",       "USING",        "VALUES",       "WHEN",
    "WHERE",     "WITH",         "XOR",
};

static_assert(std::is_sorted(reserved_words.begin(), reserved_words.end()), "keep reserved_words sorted");
static_assert(!reserved_words.front().empty(), "reserved_words has unfilled slots");

// How many candidates an error message lists before "...".
constexpr size_t shown_candidates = 3;
constexpr size_t max_near_bytes = 64;

// "')'" for ")": candidates are views, so the quoted spellings live here for good.
std::string_view quoted_symbol(std::string_view symbol) {
    static constexpr std::string_view quoted[] = {"'('", "')'", "','", "';'", "'.'", "'='", "':='", "'@'",
                                                  "'['", "'*'", "'...'"};
    for (auto q : quoted) {
        if (q.substr(1, q.size() - 2) == symbol) {
            return q;
        }
    }
    return "a symbol";
}

std::string upper_ascii(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'a' && c <= 'z') {
            c = static_cast<char>(c - 'a' + 'A');
        }
    }
    return out;
}

// Optimal string alignment distance: a transposition (TABEL -> TABLE) costs one edit.
size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
    for (size_t i = 0; i <= a.size(); ++i) {
        d[i][0] = i;
    }
    for (size_t j = 0; j <= b.size(); ++j) {
        d[0][j] = j;
    }
    for (size_t i = 1; i <= a.size(); ++i) {
        for (size_t j = 1; j <= b.size(); ++j) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
            }
        }
    }
    return d[a.size()][b.size()];
}

bool is_keyword_candidate(std::string_view c) {
    return !c.empty() && c.front() >= 'A' && c.front() <= 'Z';
}

bool is_symbol_candidate(std::string_view c) {
    return !c.empty() && c.front() == '\'';
}

// The token as the user wrote it, safe to embed in a message: cut at a character boundary and
// with control bytes (NUL included) spelled as \xNN.
std::string printable_near(std::string_view raw) {
    bool cut = false;
    if (raw.size() > max_near_bytes) {
        size_t end = max_near_bytes;
        while (end > 0 && (static_cast<unsigned char>(raw[end]) & 0xC0) == 0x80) {
            --end;
        }
        raw = raw.substr(0, end);
        cut = true;
    }
    std::string out;
    for (char c : raw) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) {
            constexpr std::string_view hex = "0123456789abcdef";
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 0xf];
        } else {
            out += c;
        }
    }
    if (cut) {
        out += "...";
    }
    return out;
}

std::string join_candidates(const std::vector<std::string_view>& list) {
    std::string out;
    for (size_t i = 0; i < list.size() && i < shown_candidates; ++i) {
        if (i > 0) {
            out += ", ";
        }
        out += list[i];
    }
    if (list.size() > shown_candidates) {
        out += ", ...";
    }
    return out;
}

parse_error make_error(const source_position& pos, const std::string& detail, std::string near) {
    std::string message = "Getting syntax error at line " + std::to_string(pos.line) + ", column " +
                          std::to_string(pos.column) + ". Detail message: " + detail;
    return parse_error{std::move(message), pos.line, pos.column, std::move(near)};
}

}  // namespace

bool is_reserved_word(std::string_view upper) noexcept {
    return std::binary_search(reserved_words.begin(), reserved_words.end(), upper);
}

parser::parser(std::string_view sql) : _sql(sql), _stream(sql) {}

const token& parser::peek(size_t ahead) const {
    const size_t wanted = _pos + ahead;
    while (_tokens.size() <= wanted && !_lexed_to_end) {
        auto lexed = _stream.next();
        if (auto* error = std::get_if<lex_error>(&lexed)) {
            std::string near = printable_near(error->near);
            throw syntax_failure{make_error(error->pos, error->detail, std::move(near))};
        }
        _tokens.push_back(std::move(std::get<token>(lexed)));
        _lexed_to_end = _tokens.back().kind == token_kind::end;
    }
    return _tokens[std::min(wanted, _tokens.size() - 1)];  // the end token repeats forever
}

const token& parser::advance() {
    const token& t = peek();
    if (t.kind != token_kind::end) {
        ++_pos;
    }
    return t;
}

bool parser::is_keyword(std::string_view upper, size_t ahead) const {
    return peek(ahead).is_keyword(upper);
}

bool parser::is_symbol(std::string_view text, size_t ahead) const {
    return peek(ahead).is_symbol(text);
}

void parser::note(std::string_view candidate) {
    if (_expected_pos != _pos) {
        _expected.clear();
        _expected_pos = _pos;
    }
    if (std::find(_expected.begin(), _expected.end(), candidate) == _expected.end()) {
        _expected.push_back(candidate);
    }
}

bool parser::at_keyword(std::string_view upper) {
    note(upper);
    return is_keyword(upper);
}

bool parser::accept_keyword(std::string_view upper) {
    if (at_keyword(upper)) {
        advance();
        return true;
    }
    return false;
}

void parser::expect_keyword(std::string_view upper) {
    if (!accept_keyword(upper)) {
        fail();
    }
}

bool parser::at_symbol(std::string_view text) {
    note(quoted_symbol(text));
    return is_symbol(text);
}

bool parser::accept_symbol(std::string_view text) {
    if (at_symbol(text)) {
        advance();
        return true;
    }
    return false;
}

void parser::expect_symbol(std::string_view text) {
    if (!accept_symbol(text)) {
        fail();
    }
}

void parser::fail() {
    const token& t = peek();
    std::vector<std::string_view> candidates;
    if (_expected_pos == _pos) {
        candidates = _expected;
    }
    std::string detail;
    if (t.kind == token_kind::end) {
        // Nothing to compare with: punctuation first (a missing ')' is the usual story), then
        // the grammar's own order.
        std::stable_partition(candidates.begin(), candidates.end(), is_symbol_candidate);
        detail = "Unexpected end of input";
        if (candidates.size() == 1) {
            detail += ", expected " + std::string(candidates.front());
        } else if (!candidates.empty()) {
            detail += ", expected one of {" + join_candidates(candidates) + "}";
        }
        detail += ".";
        throw syntax_failure{make_error(t.pos, detail, "")};
    }
    std::string near = printable_near(t.raw);
    std::string typed = upper_ascii(t.raw);
    // A keyword the user did type is no suggestion (it was only acceptable with other words
    // after it). Order: keywords close to what was typed, punctuation, other keywords (by
    // similarity when a word was typed), then classes like "a legal identifier".
    // Past 64 bytes a word is no typo of a keyword, and the distance would cost time and memory.
    bool typed_word = t.kind == token_kind::word && typed.size() <= 64;
    size_t close_enough = std::max<size_t>(1, typed.size() / 3);
    struct ranked_candidate {
        int group;
        size_t distance;
        size_t index;
        std::string_view text;
    };
    std::vector<ranked_candidate> ranked;
    for (size_t i = 0; i < candidates.size(); ++i) {
        std::string_view c = candidates[i];
        if (c == typed) {
            continue;
        }
        if (is_symbol_candidate(c)) {
            ranked.push_back({1, 0, i, c});
        } else if (is_keyword_candidate(c)) {
            size_t d = typed_word ? edit_distance(typed, c) : 0;
            ranked.push_back({d <= close_enough && typed_word ? 0 : 2, d, i, c});
        } else {
            ranked.push_back({3, 0, i, c});
        }
    }
    std::sort(ranked.begin(), ranked.end(), [](const ranked_candidate& a, const ranked_candidate& b) {
        return std::tie(a.group, a.distance, a.index) < std::tie(b.group, b.distance, b.index);
    });
    candidates.clear();
    for (const auto& r : ranked) {
        candidates.push_back(r.text);
    }
    detail = "Unexpected input '" + near + "'";
    if (!candidates.empty()) {
        detail += ", the most similar input is {" + join_candidates(candidates) + "}";
    }
    detail += ".";
    throw syntax_failure{make_error(t.pos, detail, near)};
}

void parser::fail_at(const token& where, std::string detail) {
    std::string near = where.kind == token_kind::end ? std::string() : printable_near(where.raw);
    throw syntax_failure{make_error(where.pos, detail, std::move(near))};
}

std::string parser::source_text(size_t first_token, size_t last_token) const {
    const token& first = _tokens[first_token];
    const token& last = _tokens[last_token];
    return std::string(_sql.substr(first.pos.offset, last.end_offset() - first.pos.offset));
}

std::vector<parsed_statement> parser::parse_all() {
    std::vector<parsed_statement> statements;
    while (true) {
        while (is_symbol(";")) {  // not noted: a statement keyword is what belongs here
            advance();
        }
        if (at_end()) {
            return statements;
        }
        size_t first = _pos;
        statement stmt = parse_statement();
        size_t last = _pos - 1;
        if (!at_end() && !at_symbol(";")) {
            fail();
        }
        statements.push_back(parsed_statement{std::move(stmt), source_text(first, last)});
    }
}

statement parser::parse_statement() {
    if (at_keyword("SELECT")) {
        return parse_select();
    }
    if (at_keyword("INSERT")) {
        return parse_insert();
    }
    if (at_keyword("UPDATE")) {
        return parse_update();
    }
    if (at_keyword("DELETE")) {
        return parse_delete();
    }
    if (at_keyword("USE")) {
        return parse_use();
    }
    if (at_keyword("SET")) {
        return parse_set();
    }
    if (at_keyword("SHOW")) {
        return parse_show();
    }
    if (at_keyword("DESC") || at_keyword("DESCRIBE")) {
        return parse_describe();
    }
    if (at_keyword("CREATE")) {
        return parse_create();
    }
    if (at_keyword("DROP")) {
        return parse_drop();
    }
    if (at_keyword("ALTER")) {
        return parse_alter();
    }
    if (at_keyword("TRUNCATE")) {
        return parse_truncate();
    }
    if (at_keyword("BACKUP")) {
        return parse_backup();
    }
    if (at_keyword("RESTORE")) {
        return parse_restore();
    }
    if (at_keyword("CANCEL")) {
        return parse_cancel();
    }
    if (at_keyword("REFRESH")) {
        return parse_refresh_materialized_view();
    }
    if (at_keyword("GRANT")) {
        return parse_grant_or_revoke(false);
    }
    if (at_keyword("REVOKE")) {
        return parse_grant_or_revoke(true);
    }
    if (at_keyword("ADMIN")) {
        return parse_admin();
    }
    if (at_keyword("CHECKSUM")) {
        return parse_checksum();
    }
    if (at_keyword("KILL")) {
        return parse_kill();
    }
    if (at_keyword("BEGIN") || at_keyword("START") || at_keyword("COMMIT") || at_keyword("ROLLBACK")) {
        return parse_transaction();
    }
    fail();
}

statement parser::parse_create() {
    expect_keyword("CREATE");
    if (accept_keyword("OR")) {
        expect_keyword("REPLACE");
        expect_keyword("VIEW");
        return parse_create_view(true);
    }
    if (accept_keyword("DATABASE") || accept_keyword("SCHEMA")) {
        return parse_create_database();
    }
    if (at_keyword("TABLE") && is_keyword("FUNCTION", 1)) {
        advance();
        advance();
        return parse_create_function(false, function_kind::table);
    }
    if (accept_keyword("TABLE")) {
        return parse_create_table(false);
    }
    if (accept_keyword("EXTERNAL")) {
        if (accept_keyword("CATALOG")) {
            return parse_create_catalog();
        }
        expect_keyword("TABLE");
        return parse_create_table(true);
    }
    if (accept_keyword("VIEW")) {
        return parse_create_view(false);
    }
    if (accept_keyword("MATERIALIZED")) {
        expect_keyword("VIEW");
        return parse_create_materialized_view();
    }
    bool global = accept_keyword("GLOBAL");
    if (accept_keyword("AGGREGATE")) {
        expect_keyword("FUNCTION");
        return parse_create_function(global, function_kind::aggregate);
    }
    if (accept_keyword("TABLE")) {
        expect_keyword("FUNCTION");
        return parse_create_function(global, function_kind::table);
    }
    if (accept_keyword("FUNCTION")) {
        return parse_create_function(global, function_kind::scalar);
    }
    if (global) {
        fail();
    }
    if (accept_keyword("USER")) {
        return parse_create_user();
    }
    if (accept_keyword("ROLE")) {
        return parse_create_role();
    }
    if (accept_keyword("READ")) {
        expect_keyword("ONLY");
        expect_keyword("REPOSITORY");
        return parse_create_repository(true);
    }
    if (accept_keyword("REPOSITORY")) {
        return parse_create_repository(false);
    }
    fail();
}

statement parser::parse_drop() {
    expect_keyword("DROP");
    if (accept_keyword("DATABASE") || accept_keyword("SCHEMA")) {
        return parse_drop_database();
    }
    if (accept_keyword("TABLE")) {
        return parse_drop_table();
    }
    if (accept_keyword("VIEW")) {
        return parse_drop_view();
    }
    if (accept_keyword("MATERIALIZED")) {
        expect_keyword("VIEW");
        return parse_drop_materialized_view();
    }
    if (accept_keyword("GLOBAL")) {
        expect_keyword("FUNCTION");
        return parse_drop_function(true);
    }
    if (accept_keyword("FUNCTION")) {
        return parse_drop_function(false);
    }
    if (accept_keyword("CATALOG")) {
        return parse_drop_catalog();
    }
    if (accept_keyword("USER")) {
        return parse_drop_user();
    }
    if (accept_keyword("ROLE")) {
        return parse_drop_role();
    }
    if (accept_keyword("REPOSITORY")) {
        return parse_drop_repository();
    }
    if (accept_keyword("SNAPSHOT")) {
        return parse_drop_snapshot();
    }
    fail();
}

statement parser::parse_alter() {
    expect_keyword("ALTER");
    if (accept_keyword("TABLE")) {
        return parse_alter_table();
    }
    if (accept_keyword("DATABASE")) {
        return parse_alter_database();
    }
    if (accept_keyword("VIEW")) {
        return parse_alter_view();
    }
    if (accept_keyword("MATERIALIZED")) {
        expect_keyword("VIEW");
        return parse_alter_materialized_view();
    }
    if (accept_keyword("USER")) {
        return parse_alter_user();
    }
    if (accept_keyword("REPOSITORY")) {
        return parse_alter_repository();
    }
    fail();
}

}  // namespace detail

std::variant<std::vector<parsed_statement>, parse_error> parse_sql(std::string_view sql) {
    detail::parser p(sql);
    try {
        return p.parse_all();
    } catch (detail::parser::syntax_failure& failure) {
        return std::move(failure.error);
    }
}

}  // namespace tv::sql
