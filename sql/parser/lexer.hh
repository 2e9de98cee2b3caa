// SPDX-License-Identifier: Apache-2.0
// SQL lexer: one COM_QUERY string into tokens with line/column positions, following the MySQL
// lexical rules as StarRocks applies them (both quote styles are strings, `--` needs no space).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tv::sql {

enum class token_kind : uint8_t {
    end,                ///< end of input; always the last token
    word,               ///< bare identifier or keyword: the lexer does not tell them apart
    quoted_identifier,  ///< `name`: value without the backquotes, doubled `` undone
    string,             ///< 'x' or "x": value decoded (backslash escapes, doubled quotes)
    integer,            ///< digits only; value as written, any length
    decimal,            ///< digits with a point: 1.5, .5, 1.
    floating,           ///< with an exponent: 1e3, 1.5E-3
    symbol,             ///< operator or punctuation; value is its text ("<=", "(", "@@", ...)
};

/// Where a token starts. Line and column are 1-based; a column counts characters (UTF-8 code
/// points, a tab is one), so it matches what an editor shows.
struct source_position {
    int line = 1;
    int column = 1;
    size_t offset = 0;  ///< byte offset into the input
};

struct token {
    token_kind kind = token_kind::end;
    std::string value;     ///< decoded text, see token_kind
    std::string_view raw;  ///< the exact source bytes, quotes included (a view of the input)
    source_position pos;

    size_t end_offset() const noexcept { return pos.offset + raw.size(); }
    /// A bare word equal to `upper` ignoring ASCII case. Quoted identifiers are never keywords,
    /// which is how users name a table `select`.
    bool is_keyword(std::string_view upper) const noexcept;
    bool is_symbol(std::string_view text) const noexcept {
        return kind == token_kind::symbol && value == text;
    }
};

struct lex_error {
    std::string detail;  ///< sentence for the user, e.g. "Unterminated string literal."
    source_position pos;
    std::string near;  ///< the source text where the problem starts
};

namespace detail {
class scanner;
}

/// The tokens of `sql`, one per call, as the parser asks for them: a statement refused after
/// its first thousand tokens costs only those, however long its text. Comments and whitespace
/// are dropped; `raw` views point into `sql`, which must outlive the stream and its tokens.
class token_stream {
public:
    explicit token_stream(std::string_view sql);
    ~token_stream();
    token_stream(token_stream&&) noexcept;
    token_stream& operator=(token_stream&&) noexcept;

    /// The next token, or the lexical error where it would start. After `end`, `end` again.
    std::variant<token, lex_error> next();

private:
    std::unique_ptr<detail::scanner> _scanner;
};

/// All tokens of `sql`, ending with one `end` token, or the first lexical error. Comments
/// (`-- x`, `# x`, `/* x */`) and whitespace are dropped. The tokens' `raw` views point into
/// `sql`, which must outlive them.
std::variant<std::vector<token>, lex_error> tokenize(std::string_view sql);

}  // namespace tv::sql
