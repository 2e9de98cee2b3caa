// SPDX-License-Identifier: Apache-2.0
// Renders catalog objects back into the SQL that creates them (SHOW CREATE TABLE / VIEW /
// MATERIALIZED VIEW / CATALOG) and into DESC rows. The CREATE TABLE text round-trips: executing
// it recreates the same table, which is also how a restore recreates a table's definition.
#pragma once

#include "sql/result.hh"
#include "storage/catalog_types.hh"

#include <string>

namespace tv::sql {

std::string show_create_table(const storage::table& t);
std::string show_create_database(const storage::database& d);
std::string show_create_view(const storage::view& v);
std::string show_create_materialized_view(const storage::materialized_view& mv);
/// Credentials in the properties (secret keys, passwords, tokens, access keys) show as ******.
std::string show_create_catalog(const storage::external_catalog& c);

/// What a secret property's value shows as, in every SHOW.
inline constexpr std::string_view k_masked_value = "******";

/// Whether a property's value is secret: its name contains secret, key, password, pwd, token
/// or credential (any case), or it is a repository setting kept secret (aws.s3.external_id).
bool is_secret_property(std::string_view key);

/// DESC t: Field, Type, Null, Key, Default, Extra.
result_set describe_table(const storage::table& t);

/// The type as DESC shows it: lower case without spaces ("decimal(12,2)", "varchar(20)").
std::string desc_type(const storage::column_type& type);

/// Quotes an identifier with backquotes, doubling any backquote inside.
std::string quote_identifier(std::string_view name);
/// Quotes a string literal with double quotes, escaping backslash and double quote.
std::string quote_string(std::string_view text);

}  // namespace tv::sql
