// SPDX-License-Identifier: Apache-2.0
// The parser's private part: the recursive-descent parser class shared by the parser*.cc files
// (one per area of the grammar). Nothing outside sql/parser/ includes it; call parse_sql().
#pragma once

#include "sql/parser/lexer.hh"
#include "sql/parser/parser.hh"

#include <deque>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace tv::sql {

namespace detail {

/// True for the words that cannot be bare identifiers (SELECT, FROM, TABLE, KEY, ...);
/// `upper` must be upper case. Backquote such names.
bool is_reserved_word(std::string_view upper) noexcept;

/// The recursive-descent parser behind parse_sql(), shared by the parser*.cc files (one per
/// area of the grammar). Not for use elsewhere: call parse_sql().
class parser {
public:
    explicit parser(std::string_view sql);

    /// Throws syntax_failure.
    std::vector<parsed_statement> parse_all();

    struct syntax_failure {
        parse_error error;
    };

private:
    /// An expression with the height of its tree.
    struct node {
        expr value;
        int height = 1;
    };

    std::string_view _sql;
    // Lexed as far as the parser has looked, and kept from the first token on (source_text()
    // reads old ones). A deque, so a reference to a token survives the lexing of more.
    mutable token_stream _stream;
    mutable std::deque<token> _tokens;
    mutable bool _lexed_to_end = false;
    size_t _pos = 0;
    // What the grammar would have accepted at token _expected_pos, for error messages (the
    // way ANTLR collects expected tokens). Only checks of the current token record here.
    // Candidates are views of string literals and static tables, so noting one costs nothing.
    size_t _expected_pos = 0;
    std::vector<std::string_view> _expected;
    int _depth = 0;

    // --- cursor and errors (parser.cc)
    // These lex on demand, so they throw syntax_failure for a lexical error.
    const token& peek(size_t ahead = 0) const;
    const token& advance();
    bool at_end() const { return peek().kind == token_kind::end; }
    bool is_keyword(std::string_view upper, size_t ahead = 0) const;
    bool is_symbol(std::string_view text, size_t ahead = 0) const;
    bool at_keyword(std::string_view upper);
    bool accept_keyword(std::string_view upper);
    void expect_keyword(std::string_view upper);
    bool at_symbol(std::string_view text);
    bool accept_symbol(std::string_view text);
    void expect_symbol(std::string_view text);
    /// Records one more thing the grammar accepts at the current token: a keyword ("TABLE"),
    /// a quoted symbol ("')'") or a class ("a legal identifier"). Must outlive the parser.
    void note(std::string_view candidate);
    [[noreturn]] void fail();
    [[noreturn]] void fail_at(const token& where, std::string detail);
    std::string source_text(size_t first_token, size_t last_token) const;

    statement parse_statement();
    statement parse_create();
    statement parse_drop();
    statement parse_alter();

    // --- shared pieces (parser_common.cc)
    bool is_identifier(size_t ahead = 0) const;
    std::string parse_identifier();
    /// Any word or quoted identifier, reserved or not: the part after a dot.
    std::string parse_name_part();
    std::string parse_identifier_or_string();
    qualified_name parse_qualified_name();
    std::vector<std::string> parse_identifier_list();
    std::vector<std::string> parse_partition_names();
    std::string parse_string();
    uint64_t parse_unsigned();
    int64_t parse_int64();
    property_list parse_property_body();
    property_list parse_optional_properties();
    user_identity parse_user_identity();
    bool parse_if_not_exists();
    bool parse_if_exists();
    show_filter parse_show_filter();
    show_predicate parse_show_predicate();
    std::vector<order_item> parse_order_by_items();
    limit_clause parse_limit_values();
    std::optional<std::string> parse_optional_comment();

    // --- expressions and types (parser_expr.cc)
    expr parse_expression();
    std::vector<expr> parse_expression_list();
    node parse_expr(int min_precedence);
    bool parse_predicate_tail(node& left);
    void parse_like_tail(node& left, bool negated);
    void parse_in_tail(node& left, bool negated);
    void parse_between_tail(node& left, bool negated);
    void parse_binary_tail(node& left, binary_operator op, int precedence);
    node parse_prefix();
    node parse_unary(unary_operator op, int precedence);
    node parse_primary();
    node parse_parenthesized();
    node parse_operand();
    bool function_call_ahead() const;
    node parse_leaf();
    node parse_column_ref();
    node parse_function_call();
    node parse_variable();
    node parse_case();
    node parse_cast();
    node parse_interval();
    node make_node(expr value, int child_height);
    data_type parse_data_type(bool for_cast);

    // --- queries and loads (parser_select.cc)
    select_stmt parse_select();
    select_item parse_select_item();
    from_clause parse_from();
    insert_stmt parse_insert();
    update_stmt parse_update();
    delete_stmt parse_delete();

    // --- session, SHOW, utility (parser_session.cc, parser_show.cc)
    statement parse_use();
    statement parse_set();
    set_stmt parse_set_variables();
    statement parse_set_password();
    statement parse_transaction();
    statement parse_show();
    statement parse_show_create();
    statement parse_show_functions(bool full);
    statement parse_describe();
    statement parse_admin();
    statement parse_checksum();
    statement parse_kill();

    // --- databases and tables (parser_table.cc, parser_partition.cc)
    statement parse_create_database();
    statement parse_drop_database();
    statement parse_create_table(bool external);
    column_def parse_column_def();
    column_default parse_column_default();
    index_def parse_index_def();
    statement parse_drop_table();
    statement parse_alter_table();
    statement parse_alter_database();
    statement parse_truncate();
    partition_desc parse_partition_desc();
    std::vector<expr> parse_partition_exprs(std::string& text);
    partition_def parse_partition_def(std::optional<partition_kind> kind);
    partition_batch parse_partition_batch();
    partition_tuple parse_partition_tuple();
    partition_value parse_partition_value();
    distribution_desc parse_distribution();
    std::vector<std::string> parse_order_by_columns();

    // --- views, materialized views, functions, catalogs (parser_view.cc)
    statement parse_create_view(bool or_replace);
    std::vector<view_column> parse_view_columns();
    statement parse_alter_view();
    statement parse_drop_view();
    statement parse_create_materialized_view();
    refresh_scheme parse_refresh_scheme();
    statement parse_drop_materialized_view();
    statement parse_alter_materialized_view();
    statement parse_refresh_materialized_view();
    statement parse_create_function(bool global, function_kind kind);
    void parse_function_signature(std::vector<data_type>& types, bool& variadic);
    statement parse_drop_function(bool global);
    statement parse_create_catalog();
    statement parse_drop_catalog();

    // --- users, roles, privileges (parser_user.cc)
    statement parse_create_user();
    statement parse_alter_user();
    statement parse_drop_user();
    std::optional<auth_option> parse_auth_option();
    std::vector<std::string> parse_default_roles();
    statement parse_create_role();
    statement parse_drop_role();
    statement parse_grant_or_revoke(bool revoke);
    privilege_object parse_privilege_object();
    grantee parse_grantee();

    // --- repositories, backup, restore (parser_backup.cc)
    statement parse_create_repository(bool read_only);
    statement parse_alter_repository();
    statement parse_drop_repository();
    statement parse_backup();
    statement parse_restore();
    void parse_catalog_clause(catalog_scope& scope, std::vector<catalog_ref>& catalogs);
    void parse_object_filter(object_filter& filter, std::vector<backup_object>& objects);
    backup_object parse_backup_object();
    statement parse_show_backup();
    statement parse_show_restore(bool brief);
    statement parse_show_snapshot();
    statement parse_cancel();
    statement parse_drop_snapshot();

    friend class depth_guard;
};

}  // namespace detail
}  // namespace tv::sql
