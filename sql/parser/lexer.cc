// SPDX-License-Identifier: Apache-2.0
// SQL lexer: a single forward scan, no backtracking, no recursion, one token per call.
#include "sql/parser/lexer.hh"

#include <array>
#include <memory>
#include <optional>

namespace tv::sql {

bool token::is_keyword(std::string_view upper) const noexcept {
    if (kind != token_kind::word || value.size() != upper.size()) {
        return false;
    }
    for (size_t i = 0; i < upper.size(); ++i) {
        char c = value[i];
        if (c >= 'a' && c <= 'z') {
            c = static_cast<char>(c - 'a' + 'A');
        }
        if (c != upper[i]) {
            return false;
        }
    }
    return true;
}

namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// MySQL lets unquoted identifiers hold any non-ASCII character, so every byte >= 0x80 counts.
bool is_ident_start(char c) {
    auto u = static_cast<unsigned char>(c);
    return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u == '_' || u == '$' || u >= 0x80;
}

bool is_ident_char(char c) {
    return is_ident_start(c) || is_digit(c);
}

// Longest match first: "<=>" before "<=" before "<".
constexpr std::array<std::string_view, 3> three_char_symbols = {"<=>", "...", "->>"};
constexpr std::array<std::string_view, 12> two_char_symbols = {
    "<>", "!=", "<=", ">=", "@@", "&&", "||", "<<", ">>", "::", ":=", "->"};
constexpr std::string_view one_char_symbols = "(),;.*+-/%=<>@?[]{}!~^&|:";

}  // namespace

namespace detail {

class scanner {
public:
    explicit scanner(std::string_view in) : _in(in) {}

    /// The next token, or the lexical error where it would start. After `end`, `end` again.
    std::variant<token, lex_error> next() {
        if (auto error = skip_space_and_comments()) {
            return *error;
        }
        if (_i >= _in.size()) {
            return token{token_kind::end, {}, _in.substr(_i, 0), position()};
        }
        auto result = next_token();
        if (const auto* t = std::get_if<token>(&result)) {
            _previous = t->kind;
            _previous_end = t->end_offset();
        }
        return result;
    }

private:
    std::string_view _in;
    size_t _i = 0;
    int _line = 1;
    int _column = 1;
    token_kind _previous = token_kind::end;
    size_t _previous_end = 0;

    source_position position() const { return {_line, _column, _i}; }
    bool has(size_t ahead = 0) const { return _i + ahead < _in.size(); }
    char at(size_t ahead = 0) const { return has(ahead) ? _in[_i + ahead] : '\0'; }

    void bump() {
        char c = _in[_i++];
        if (c == '\n') {
            ++_line;
            _column = 1;
        } else if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
            ++_column;  // UTF-8 continuation bytes belong to the character already counted
        }
    }

    token make(token_kind kind, std::string value, source_position start) const {
        return token{kind, std::move(value), _in.substr(start.offset, _i - start.offset), start};
    }

    lex_error error_from(source_position start, std::string detail) const {
        size_t end = std::min(_in.size(), start.offset + 32);
        return lex_error{std::move(detail), start, std::string(_in.substr(start.offset, end - start.offset))};
    }

    std::optional<lex_error> skip_space_and_comments() {
        while (has()) {
            char c = at();
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
                bump();
            } else if (c == '#' || (c == '-' && at(1) == '-')) {
                // StarRocks takes `--` as a comment even without the space MySQL asks for.
                while (has() && at() != '\n') {
                    bump();
                }
            } else if (c == '/' && at(1) == '*') {
                source_position start = position();
                bump();
                bump();
                while (has() && !(at() == '*' && at(1) == '/')) {
                    bump();
                }
                if (!has()) {
                    return error_from(start, "Unterminated comment.");
                }
                bump();
                bump();
            } else {
                break;
            }
        }
        return std::nullopt;
    }

    std::variant<token, lex_error> next_token() {
        source_position start = position();
        char c = at();
        if (is_digit(c)) {
            return number(start);
        }
        // ".5" is a number, but in "t.5" (a name right before the point) the point qualifies.
        bool after_name = (_previous == token_kind::word || _previous == token_kind::quoted_identifier) &&
                          _previous_end == _i;
        if (c == '.' && is_digit(at(1)) && !after_name) {
            return number(start);
        }
        if (is_ident_start(c)) {
            while (has() && is_ident_char(at())) {
                bump();
            }
            return make(token_kind::word, std::string(_in.substr(start.offset, _i - start.offset)), start);
        }
        if (c == '`') {
            return quoted_identifier(start);
        }
        if (c == '\'' || c == '"') {
            return string_literal(start, c);
        }
        return symbol(start);
    }

    token number(source_position start) {
        token_kind kind = token_kind::integer;
        while (is_digit(at())) {
            bump();
        }
        if (at() == '.') {
            kind = token_kind::decimal;
            bump();
            while (is_digit(at())) {
                bump();
            }
        }
        if ((at() == 'e' || at() == 'E') &&
            (is_digit(at(1)) || ((at(1) == '+' || at(1) == '-') && is_digit(at(2))))) {
            kind = token_kind::floating;
            bump();
            if (at() == '+' || at() == '-') {
                bump();
            }
            while (is_digit(at())) {
                bump();
            }
        } else if (kind == token_kind::integer && has() && is_ident_start(at())) {
            // MySQL identifiers may start with digits: 2024_label, 1abc.
            kind = token_kind::word;
            while (has() && is_ident_char(at())) {
                bump();
            }
        }
        return make(kind, std::string(_in.substr(start.offset, _i - start.offset)), start);
    }

    std::variant<token, lex_error> quoted_identifier(source_position start) {
        std::string value;
        bump();
        while (true) {
            if (!has()) {
                return error_from(start, "Unterminated quoted identifier.");
            }
            char c = at();
            bump();
            if (c == '`') {
                if (at() != '`') {
                    break;
                }
                bump();
            }
            value.push_back(c);
        }
        return make(token_kind::quoted_identifier, std::move(value), start);
    }

    std::variant<token, lex_error> string_literal(source_position start, char quote) {
        std::string value;
        bump();
        while (true) {
            if (!has()) {
                return error_from(start, "Unterminated string literal.");
            }
            char c = at();
            bump();
            if (c == quote) {
                if (at() != quote) {
                    break;
                }
                bump();  // a doubled quote stands for itself
                value.push_back(c);
            } else if (c == '\\' && has()) {
                char e = at();
                bump();
                switch (e) {
                case '0': value.push_back('\0'); break;
                case 'b': value.push_back('\b'); break;
                case 'n': value.push_back('\n'); break;
                case 'r': value.push_back('\r'); break;
                case 't': value.push_back('\t'); break;
                case 'Z': value.push_back('\x1a'); break;
                // MySQL keeps these two escaped so LIKE patterns can match a literal % or _.
                case '%': value.append("\\%"); break;
                case '_': value.append("\\_"); break;
                default: value.push_back(e); break;
                }
            } else {
                value.push_back(c);
            }
        }
        return make(token_kind::string, std::move(value), start);
    }

    std::variant<token, lex_error> symbol(source_position start) {
        for (auto s : three_char_symbols) {
            if (_in.substr(_i, 3) == s) {
                return take_symbol(start, s);
            }
        }
        for (auto s : two_char_symbols) {
            if (_in.substr(_i, 2) == s) {
                return take_symbol(start, s);
            }
        }
        if (one_char_symbols.find(at()) != std::string_view::npos) {
            return take_symbol(start, _in.substr(_i, 1));
        }
        return lex_error{"Unexpected character.", start, std::string(_in.substr(_i, 1))};
    }

    token take_symbol(source_position start, std::string_view s) {
        for (size_t k = 0; k < s.size(); ++k) {
            bump();
        }
        return make(token_kind::symbol, std::string(s), start);
    }
};

}  // namespace detail

token_stream::token_stream(std::string_view sql) : _scanner(std::make_unique<detail::scanner>(sql)) {}
token_stream::~token_stream() = default;
token_stream::token_stream(token_stream&&) noexcept = default;
token_stream& token_stream::operator=(token_stream&&) noexcept = default;

std::variant<token, lex_error> token_stream::next() {
    return _scanner->next();
}

std::variant<std::vector<token>, lex_error> tokenize(std::string_view sql) {
    token_stream stream(sql);
    std::vector<token> tokens;
    while (true) {
        auto result = stream.next();
        if (auto* error = std::get_if<lex_error>(&result)) {
            return std::move(*error);
        }
        tokens.push_back(std::move(std::get<token>(result)));
        if (tokens.back().kind == token_kind::end) {
            return tokens;
        }
    }
}

}  // namespace tv::sql
